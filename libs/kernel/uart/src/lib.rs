//! UART drivers for atoll's console, the way Tock's HIL splits them: a small
//! [`Uart`] trait the console uses, drivers that know a device's registers
//! ([`ns16550::Ns16550`] for the 16550 family, DesignWare APB included, and
//! [`sifive::SifiveUart`]), and a [`Bus`] through which a driver reaches its
//! registers. The kernel supplies MMIO and I/O-port buses; host tests supply
//! a recording fake, so every register layout is checked without hardware.
//!
//! [`probe`] finds the console UART in a device tree (`/chosen/stdout-path`).
#![cfg_attr(not(test), no_std)]

pub mod ns16550;
#[cfg(feature = "fdt")]
pub mod probe;
pub mod sifive;
#[cfg(test)]
mod testbus;

pub use ns16550::Ns16550;
pub use sifive::SifiveUart;

/// Which driver a UART needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 16550 (`ns16550a` and kin).
    Ns16550,
    /// Synopsys DesignWare APB (`snps,dw-apb-uart`), a 16550 with busy detect.
    DesignWare,
    /// SiFive's UART (`sifive,uart0`).
    Sifive,
}

/// `compatible` strings and their drivers, most specific first: a
/// DesignWare node also lists its SoC's name, never `ns16550a`.
pub const COMPATIBLE: [(&str, Kind); 8] = [
    ("sifive,uart0", Kind::Sifive),
    ("snps,dw-apb-uart", Kind::DesignWare),
    ("ns16550a", Kind::Ns16550),
    ("ns16550", Kind::Ns16550),
    ("ns16750", Kind::Ns16550),
    ("ns16850", Kind::Ns16550),
    ("ns16450", Kind::Ns16550),
    ("ns8250", Kind::Ns16550),
];

/// The driver for a node with these `compatible` strings, if any.
pub fn kind_of<'a>(mut compatible: impl Iterator<Item = &'a str>) -> Option<Kind> {
    let strings: [Option<&str>; 8] = core::array::from_fn(|_| compatible.next());
    COMPATIBLE
        .iter()
        .find(|(c, _)| strings.iter().flatten().any(|s| s == c))
        .map(|&(_, kind)| kind)
}

/// How a driver reaches its device's registers. `offset` is in bytes from
/// the device's base; the bus decides the access width (`reg-io-width`).
pub trait Bus {
    fn read(&self, offset: usize) -> u32;
    fn write(&self, offset: usize, value: u32);
}

/// What the console needs from a UART. The firmware has set the line up
/// (baud rate, clocks, pins); drivers keep its baud rate.
pub trait Uart {
    /// Makes the device usable for the console: 8 data bits, no parity, one
    /// stop bit, FIFOs on, transmitter and receiver on, interrupts off.
    fn init(&self);
    /// Queues `byte` for sending if the transmitter has room.
    fn try_write(&self, byte: u8) -> bool;
    /// The next received byte, if one is waiting.
    fn read(&self) -> Option<u8>;
    /// Turns the receive interrupt (data waiting) on or off.
    fn set_rx_interrupt(&self, on: bool);
    /// Clears whatever else the device may signal on its interrupt line
    /// (DesignWare's busy detect); the handler calls it before draining `read`.
    fn acknowledge(&self) {}

    /// Sends `byte`, waiting while the transmitter is full.
    fn write_blocking(&self, byte: u8) {
        while !self.try_write(byte) {
            core::hint::spin_loop();
        }
    }
}
