//! PCI Express configuration space through ECAM (from ACPI's MCFG or the device tree), and
//! the virtio functions on it. Firmware has assigned the BARs (OVMF on x86_64); the kernel
//! enables memory decoding and bus mastering and hands each virtio function to
//! `drivers::virtio` with its interrupt line, which the platform routes (INTx).

use alloc::vec::Vec;

use virtio_drivers::transport::SomeTransport;
use virtio_drivers::transport::pci::bus::{
    Cam, Command, ConfigurationAccess, DeviceFunction, MmioCam, PciRoot,
};
use virtio_drivers::transport::pci::{PciTransport, virtio_device_type};

use super::irq::Line;
use super::virtio::hal::KernelHal;

/// An ECAM window: configuration space of buses `buses` at `phys` (the address of bus 0).
#[derive(Clone, Copy, Debug)]
pub struct Ecam {
    pub phys: u64,
    pub first_bus: u8,
    pub last_bus: u8,
}

/// Offset of the interrupt line/pin register.
const INTERRUPT_REG: u8 = 0x3c;
/// Capability ids of MSI and MSI-X, and their enable bits in the message control word
/// (the upper half of the capability's first dword).
const CAP_MSI: u8 = 0x05;
const CAP_MSIX: u8 = 0x11;
const MSI_ENABLE: u32 = 1 << 16;
const MSIX_ENABLE: u32 = 1 << 31;

/// Every virtio function in `ecam`, with the line its INTx pin is routed to (`route`
/// maps a function and its pin, 1 = INTA, to the platform's line).
pub fn virtio_functions(
    ecam: Ecam,
    route: fn(DeviceFunction, u8) -> Option<Line>,
) -> Vec<(SomeTransport<'static>, Option<Line>)> {
    let base = crate::mem::phys_to_virt(ecam.phys) as *mut u8;
    // SAFETY: the platform reports the ECAM window from firmware tables; it lies inside the
    // phys map (below 4 GiB on q35), and only this module touches configuration space.
    let mut root = PciRoot::new(unsafe { MmioCam::new(base, Cam::Ecam) });
    // SAFETY: `reader` reads registers and `cam` writes the MSI enable bits, which
    // `PciRoot` (the only other user) does not touch.
    let reader = unsafe { MmioCam::new(base, Cam::Ecam) };
    // SAFETY: as above.
    let mut cam = unsafe { MmioCam::new(base, Cam::Ecam) };
    let mut found = Vec::new();
    for bus in ecam.first_bus..=ecam.last_bus {
        let functions: Vec<_> = root.enumerate_bus(bus).collect();
        for (df, info) in functions {
            let Some(kind) = virtio_device_type(&info) else {
                continue;
            };
            let (_, cmd) = root.get_status_command(df);
            // Decode its BARs, let it DMA, and let its INTx pin through (firmware may have
            // masked it).
            root.set_command(
                df,
                (cmd | Command::MEMORY_SPACE | Command::BUS_MASTER | Command::IO_SPACE)
                    - Command::INTERRUPT_DISABLE,
            );
            // A device with MSI or MSI-X on (firmware may leave it so) never raises INTx.
            let caps: Vec<_> = root.capabilities(df).map(|c| (c.id, c.offset)).collect();
            for (id, offset) in caps {
                let enable = match id {
                    CAP_MSI => MSI_ENABLE,
                    CAP_MSIX => MSIX_ENABLE,
                    _ => continue,
                };
                let word = reader.read_word(df, offset);
                if word & enable != 0 {
                    cam.write_word(df, offset, word & !enable);
                }
            }
            let pin = (reader.read_word(df, INTERRUPT_REG) >> 8) as u8;
            match PciTransport::new::<KernelHal, _>(&mut root, df) {
                Ok(t) => {
                    let line = if pin == 0 { None } else { route(df, pin) };
                    found.push((SomeTransport::from(t), line));
                }
                Err(e) => crate::warn!("pci {df}: virtio {kind:?} unusable: {e}"),
            }
        }
    }
    found
}
