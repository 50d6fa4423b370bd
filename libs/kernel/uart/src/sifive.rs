//! SiFive's UART (`sifive,uart0`: FU540 on QEMU's `sifive_u` and the HiFive
//! Unleashed, FU740 on the HiFive Unmatched). Seven 32-bit registers, each
//! FIFO with a watermark interrupt; the firmware programs the divisor.

use crate::{Bus, Uart};

/// Register byte offsets.
pub mod reg {
    /// Transmit data; bit 31 reads 1 while the FIFO is full.
    pub const TXDATA: usize = 0x00;
    /// Receive data; bit 31 reads 1 while the FIFO is empty. A read pops a byte.
    pub const RXDATA: usize = 0x04;
    /// Transmit control: enable (bit 0), stop bits (bit 1), watermark (bits 16-18).
    pub const TXCTRL: usize = 0x08;
    /// Receive control: enable (bit 0), watermark (bits 16-18).
    pub const RXCTRL: usize = 0x0c;
    /// Interrupt enable: transmit watermark (bit 0), receive watermark (bit 1).
    pub const IE: usize = 0x10;
    /// Interrupt pending, same bits as IE.
    pub const IP: usize = 0x14;
    /// Baud-rate divisor.
    pub const DIV: usize = 0x18;
}

/// TXDATA: the transmit FIFO is full.
pub const TXDATA_FULL: u32 = 1 << 31;
/// RXDATA: the receive FIFO is empty.
pub const RXDATA_EMPTY: u32 = 1 << 31;
/// TXCTRL/RXCTRL: enable.
pub const CTRL_ENABLE: u32 = 1 << 0;
/// TXCTRL: two stop bits.
pub const TXCTRL_NSTOP: u32 = 1 << 1;
/// TXCTRL/RXCTRL: the watermark field.
pub const CTRL_CNT_MASK: u32 = 0x7 << 16;
/// IE/IP: receive watermark (more entries than RXCTRL's count).
pub const IE_RXWM: u32 = 1 << 1;

/// A SiFive UART on bus `B` (32-bit accesses).
#[derive(Debug)]
pub struct SifiveUart<B> {
    bus: B,
}

impl<B: Bus> SifiveUart<B> {
    pub const fn new(bus: B) -> Self {
        Self { bus }
    }

    pub fn bus(&self) -> &B {
        &self.bus
    }
}

impl<B: Bus> Uart for SifiveUart<B> {
    fn init(&self) {
        self.bus.write(reg::IE, 0);
        // One stop bit, transmitter on; receiver on with watermark 0, so its
        // interrupt is pending whenever a byte waits. DIV stays the firmware's.
        let tx = self.bus.read(reg::TXCTRL) & !(TXCTRL_NSTOP | CTRL_CNT_MASK);
        self.bus.write(reg::TXCTRL, tx | CTRL_ENABLE);
        let rx = self.bus.read(reg::RXCTRL) & !CTRL_CNT_MASK;
        self.bus.write(reg::RXCTRL, rx | CTRL_ENABLE);
    }

    fn try_write(&self, byte: u8) -> bool {
        if self.bus.read(reg::TXDATA) & TXDATA_FULL != 0 {
            return false;
        }
        self.bus.write(reg::TXDATA, u32::from(byte));
        true
    }

    fn read(&self) -> Option<u8> {
        let v = self.bus.read(reg::RXDATA);
        (v & RXDATA_EMPTY == 0).then_some(v as u8)
    }

    fn set_rx_interrupt(&self, on: bool) {
        self.bus.write(reg::IE, if on { IE_RXWM } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testbus::{Access, FakeBus};

    #[test]
    fn the_register_map_is_the_fu540_manuals() {
        assert_eq!(
            [
                reg::TXDATA,
                reg::RXDATA,
                reg::TXCTRL,
                reg::RXCTRL,
                reg::IE,
                reg::IP,
                reg::DIV
            ],
            [0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18]
        );
    }

    #[test]
    fn init_enables_both_directions_with_a_zero_receive_watermark_and_keeps_the_divisor() {
        let bus = FakeBus::new();
        bus.preset(reg::TXCTRL, 0x0001_0002); // firmware: 2 stop bits, txcnt 1
        bus.preset(reg::RXCTRL, 0x0003_0000);
        bus.preset(reg::DIV, 4340);
        let uart = SifiveUart::new(bus);
        uart.init();
        assert_eq!(uart.bus().value(reg::IE), 0);
        assert_eq!(uart.bus().value(reg::TXCTRL), CTRL_ENABLE);
        assert_eq!(uart.bus().value(reg::RXCTRL), CTRL_ENABLE);
        assert_eq!(uart.bus().value(reg::DIV), 4340);
        assert!(
            !uart
                .bus()
                .log()
                .iter()
                .any(|a| matches!(a, Access::Write(reg::DIV, _)))
        );
    }

    #[test]
    fn transmit_waits_for_room_in_the_fifo() {
        let bus = FakeBus::new();
        bus.preset(reg::TXDATA, TXDATA_FULL);
        let uart = SifiveUart::new(bus);
        assert!(!uart.try_write(b'a'));
        uart.bus().preset(reg::TXDATA, 0);
        assert!(uart.try_write(b'a'));
        assert_eq!(uart.bus().writes(), [(reg::TXDATA, u32::from(b'a'))]);
    }

    #[test]
    fn receive_pops_until_the_empty_bit() {
        let bus = FakeBus::new();
        bus.preset(reg::RXDATA, RXDATA_EMPTY | 0x41);
        let uart = SifiveUart::new(bus);
        assert_eq!(uart.read(), None);
        uart.bus().preset(reg::RXDATA, 0x0d);
        assert_eq!(uart.read(), Some(b'\r'));
        uart.set_rx_interrupt(true);
        assert_eq!(uart.bus().value(reg::IE), IE_RXWM);
    }
}
