//! Device drivers, each behind a small interface of its own (as Tock's HIL): interrupt lines
//! (`irq`), PCI configuration space (`pci`), the console UART (`uart`), virtio transports and
//! devices (`virtio`).
//! The platform description (the FDT on riscv64, ACPI on x86_64) says where devices are;
//! the drivers here do not care which.

pub mod irq;
// PCI through ECAM is how x86_64 finds virtio devices; riscv64 `virt` uses virtio-mmio
// (its PCIe bridge has no firmware to assign BARs).
#[cfg_attr(target_arch = "riscv64", allow(dead_code))]
pub mod pci;
pub mod rtc;
pub mod uart;
pub mod virtio;

/// Finds and starts the devices the platform describes (after interrupts are set up).
pub fn init() {
    match crate::arch::machine::wall_clock_ns() {
        Some(ns) => crate::sched::timer::set_realtime(ns),
        None => crate::info!("no real-time clock: the realtime clock counts from boot"),
    }
    virtio::probe();
}
