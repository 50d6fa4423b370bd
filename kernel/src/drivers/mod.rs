//! Device drivers, each behind a small interface of its own (as Tock's HIL): interrupt lines
//! (`irq`), PCI configuration space (`pci`), virtio transports and devices (`virtio`).
//! The platform description (the FDT on riscv64, ACPI on x86_64) says where devices are;
//! the drivers here do not care which.

pub mod irq;
pub mod pci;
pub mod virtio;

/// Finds and starts the devices the platform describes (after interrupts are set up).
pub fn init() {
    virtio::probe();
}
