//! The 16550 family: National's 16550 and its clones (QEMU's `ns16550a`,
//! PC COM ports) and Synopsys' DesignWare APB UART (`snps,dw-apb-uart`: the
//! JH7110 of the VisionFive 2 and Milk-V Mars, T-Head's TH1520 and SG2000).
//!
//! Registers are `1 << reg-shift` bytes apart (0 on a PC, 2 on the SoCs,
//! whose registers are 32 bits wide); the [`Bus`] does the access width.
//!
//! The DesignWare variant ignores a write to LCR while it is busy sending or
//! receiving and raises a "busy detect" interrupt (IIR = 7) instead, which
//! stays pending until the UART Status Register is read. The driver writes
//! LCR only when it must, rewrites it until it sticks, and reads USR when
//! its interrupt says busy detect, so the line cannot hang asserted.

use crate::{Bus, Uart};

/// Register indices, before `reg-shift`.
pub mod reg {
    /// Receive buffer (read) and transmit holding (write).
    pub const RBR_THR: usize = 0;
    /// Interrupt enable.
    pub const IER: usize = 1;
    /// Interrupt identification (read) and FIFO control (write).
    pub const IIR_FCR: usize = 2;
    /// Line control.
    pub const LCR: usize = 3;
    /// Modem control.
    pub const MCR: usize = 4;
    /// Line status.
    pub const LSR: usize = 5;
    /// DesignWare's UART Status Register (byte offset 0x7c with reg-shift 2).
    pub const DW_USR: usize = 0x1f;
}

/// IER: received data available.
pub const IER_RX_DATA: u32 = 1 << 0;
/// IIR: the interrupt identification field.
pub const IIR_ID_MASK: u32 = 0x0f;
/// IIR: no interrupt pending.
pub const IIR_NONE: u32 = 0x01;
/// IIR: DesignWare busy detect.
pub const IIR_BUSY_DETECT: u32 = 0x07;
/// LCR: 8 data bits, no parity, 1 stop bit, divisor latch closed.
pub const LCR_8N1: u32 = 0x03;
/// FCR: FIFOs on, both cleared.
pub const FCR_ENABLE_AND_CLEAR: u32 = 0x07;
/// MCR: DTR, RTS and OUT2 (the interrupt gate of PC UARTs).
pub const MCR_DTR_RTS_OUT2: u32 = 0x0b;
/// LSR: a received byte is waiting.
pub const LSR_DATA_READY: u32 = 1 << 0;
/// LSR: the transmit holding register (or FIFO) has room.
pub const LSR_THR_EMPTY: u32 = 1 << 5;
/// LSR: the transmitter is idle (nothing queued, nothing shifting out).
pub const LSR_TX_IDLE: u32 = 1 << 6;
/// USR: busy sending or receiving.
pub const USR_BUSY: u32 = 1 << 0;

/// How many times an LCR write is retried on a busy DesignWare UART (Linux
/// tries 1000 times too); each try drains the FIFOs, so the line goes idle.
const LCR_RETRIES: usize = 1000;
/// Polls of LSR while waiting for the firmware's last bytes to leave.
const DRAIN_POLLS: usize = 100_000;

/// Which member of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// A plain 16550A.
    Standard,
    /// Synopsys DesignWare APB (busy detect, USR).
    DesignWare,
}

/// A 16550-family UART on bus `B`.
#[derive(Debug)]
pub struct Ns16550<B> {
    bus: B,
    shift: u32,
    variant: Variant,
}

impl<B: Bus> Ns16550<B> {
    /// A UART whose registers sit `1 << reg_shift` bytes apart on `bus`.
    pub const fn new(bus: B, reg_shift: u32, variant: Variant) -> Self {
        Self {
            bus,
            shift: reg_shift,
            variant,
        }
    }

    /// The byte offset of register `index`.
    pub const fn offset(&self, index: usize) -> usize {
        index << self.shift
    }

    pub const fn variant(&self) -> Variant {
        self.variant
    }

    pub fn bus(&self) -> &B {
        &self.bus
    }

    fn get(&self, index: usize) -> u32 {
        self.bus.read(self.offset(index)) & 0xff
    }

    fn set(&self, index: usize, value: u32) {
        self.bus.write(self.offset(index), value);
    }

    /// Writes LCR and checks that it took. A busy DesignWare UART drops the
    /// write: its FIFOs are cleared, the receive buffer and USR read (which
    /// ends the busy-detect interrupt) and the write repeated.
    fn write_lcr(&self, value: u32) -> bool {
        for _ in 0..LCR_RETRIES {
            self.set(reg::LCR, value);
            if self.get(reg::LCR) == value {
                return true;
            }
            if self.variant != Variant::DesignWare {
                return false;
            }
            self.set(reg::IIR_FCR, FCR_ENABLE_AND_CLEAR);
            let _ = self.get(reg::RBR_THR);
            let _ = self.get(reg::DW_USR);
        }
        false
    }
}

impl<B: Bus> Uart for Ns16550<B> {
    fn init(&self) {
        self.set(reg::IER, 0);
        // Let what the firmware queued go out before the FIFOs are cleared.
        for _ in 0..DRAIN_POLLS {
            if self.get(reg::LSR) & LSR_TX_IDLE != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // The firmware set the baud rate and, almost always, 8N1: touching
        // LCR only when it differs keeps DesignWare's busy detect out of the way.
        if self.get(reg::LCR) != LCR_8N1 {
            let _ = self.write_lcr(LCR_8N1);
        }
        self.set(reg::IIR_FCR, FCR_ENABLE_AND_CLEAR);
        self.set(reg::MCR, MCR_DTR_RTS_OUT2);
        self.acknowledge();
    }

    fn try_write(&self, byte: u8) -> bool {
        if self.get(reg::LSR) & LSR_THR_EMPTY == 0 {
            return false;
        }
        self.set(reg::RBR_THR, u32::from(byte));
        true
    }

    fn read(&self) -> Option<u8> {
        (self.get(reg::LSR) & LSR_DATA_READY != 0).then(|| self.get(reg::RBR_THR) as u8)
    }

    fn set_rx_interrupt(&self, on: bool) {
        self.set(reg::IER, if on { IER_RX_DATA } else { 0 });
    }

    fn acknowledge(&self) {
        if self.variant == Variant::DesignWare
            && self.get(reg::IIR_FCR) & IIR_ID_MASK == IIR_BUSY_DETECT
        {
            let _ = self.get(reg::DW_USR);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testbus::{Access, FakeBus};

    #[test]
    fn register_offsets_follow_reg_shift() {
        let pc = Ns16550::new(FakeBus::new(), 0, Variant::Standard);
        assert_eq!(
            [reg::RBR_THR, reg::IER, reg::IIR_FCR, reg::LCR, reg::LSR].map(|r| pc.offset(r)),
            [0, 1, 2, 3, 5]
        );
        // JH7110, TH1520, SG2000: reg-shift = 2, registers 4 bytes apart.
        let dw = Ns16550::new(FakeBus::new(), 2, Variant::DesignWare);
        assert_eq!(
            [
                reg::RBR_THR,
                reg::IER,
                reg::IIR_FCR,
                reg::LCR,
                reg::MCR,
                reg::LSR,
                reg::DW_USR
            ]
            .map(|r| dw.offset(r)),
            [0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x7c]
        );
    }

    #[test]
    fn init_keeps_the_firmware_line_settings_and_turns_interrupts_off() {
        let bus = FakeBus::new();
        bus.preset(0x0c, LCR_8N1);
        bus.preset(0x14, LSR_TX_IDLE | LSR_THR_EMPTY);
        let uart = Ns16550::new(bus, 2, Variant::Standard);
        uart.init();
        let writes = uart.bus().writes();
        assert_eq!(
            writes,
            [
                (0x04, 0),
                (0x08, FCR_ENABLE_AND_CLEAR),
                (0x10, MCR_DTR_RTS_OUT2)
            ],
            "IER off, FIFOs, MCR; LCR (already 8N1) and the divisor untouched"
        );
    }

    #[test]
    fn init_fixes_lcr_when_the_divisor_latch_is_open() {
        let bus = FakeBus::new();
        bus.preset(0x3, 0x83);
        bus.preset(0x5, LSR_TX_IDLE);
        let uart = Ns16550::new(bus, 0, Variant::Standard);
        uart.init();
        assert!(uart.bus().writes().contains(&(0x3, LCR_8N1)));
        assert_eq!(uart.bus().value(0x3), LCR_8N1);
    }

    #[test]
    fn designware_lcr_writes_are_retried_while_busy_and_usr_is_read() {
        let bus = FakeBus::new();
        bus.preset(0x0c, 0x1b);
        bus.preset(0x14, LSR_TX_IDLE);
        // The first two LCR writes are dropped (the UART is busy).
        bus.drop_writes(0x0c, 2);
        let uart = Ns16550::new(bus, 2, Variant::DesignWare);
        uart.init();
        let log = uart.bus().log();
        let lcr_writes = log
            .iter()
            .filter(|a| matches!(a, Access::Write(0x0c, LCR_8N1)))
            .count();
        assert_eq!(lcr_writes, 3, "{log:?}");
        let usr_reads = log.iter().filter(|a| **a == Access::Read(0x7c)).count();
        assert!(usr_reads >= 2, "USR read after each dropped write: {log:?}");
        assert_eq!(uart.bus().value(0x0c), LCR_8N1);
    }

    #[test]
    fn a_plain_16550_does_not_loop_on_a_stuck_lcr() {
        let bus = FakeBus::new();
        bus.preset(0x3, 0x1b);
        bus.preset(0x5, LSR_TX_IDLE);
        bus.drop_writes(0x3, usize::MAX);
        let uart = Ns16550::new(bus, 0, Variant::Standard);
        uart.init();
        let writes = uart
            .bus()
            .log()
            .iter()
            .filter(|a| matches!(a, Access::Write(0x3, _)))
            .count();
        assert_eq!(writes, 1);
    }

    #[test]
    fn busy_detect_interrupts_are_cleared_by_reading_usr() {
        let bus = FakeBus::new();
        bus.preset(0x08, 0xc0 | IIR_BUSY_DETECT);
        let uart = Ns16550::new(bus, 2, Variant::DesignWare);
        uart.acknowledge();
        assert_eq!(uart.bus().log(), [Access::Read(0x08), Access::Read(0x7c)]);

        let bus = FakeBus::new();
        bus.preset(0x08, 0xc0 | 0x04); // received data, not busy detect
        let uart = Ns16550::new(bus, 2, Variant::DesignWare);
        uart.acknowledge();
        assert_eq!(uart.bus().log(), [Access::Read(0x08)]);

        let uart = Ns16550::new(FakeBus::new(), 0, Variant::Standard);
        uart.acknowledge();
        assert!(uart.bus().log().is_empty(), "no USR on a plain 16550");
    }

    #[test]
    fn bytes_go_out_only_when_the_holding_register_has_room() {
        let bus = FakeBus::new();
        let uart = Ns16550::new(bus, 2, Variant::DesignWare);
        assert!(!uart.try_write(b'x'));
        uart.bus().preset(0x14, LSR_THR_EMPTY);
        assert!(uart.try_write(b'x'));
        assert_eq!(uart.bus().writes(), [(0x00, u32::from(b'x'))]);
    }

    #[test]
    fn bytes_come_in_only_when_data_is_ready() {
        let bus = FakeBus::new();
        bus.preset(0x00, 0x41);
        let uart = Ns16550::new(bus, 0, Variant::Standard);
        assert_eq!(uart.read(), None);
        uart.bus().preset(0x05, LSR_DATA_READY);
        assert_eq!(uart.read(), Some(b'A'));
        uart.set_rx_interrupt(true);
        assert_eq!(uart.bus().value(0x1), IER_RX_DATA);
        uart.set_rx_interrupt(false);
        assert_eq!(uart.bus().value(0x1), 0);
    }
}
