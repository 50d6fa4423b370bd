//! virtio-mmio transports at the addresses the device tree gives (`compatible = "virtio,mmio"`;
//! QEMU `virt` has eight slots, most of them empty).

use alloc::vec::Vec;
use core::ptr::NonNull;

use virtio_drivers::transport::DeviceTypeError;
use virtio_drivers::transport::SomeTransport;
use virtio_drivers::transport::mmio::{MmioError, MmioTransport, VirtIOHeader};

use crate::drivers::irq::Line;

/// A `virtio,mmio` node: registers and interrupt.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub phys: u64,
    pub size: u64,
    pub irq: Option<u32>,
}

/// The transports of the slots that hold a device.
pub fn transports(slots: &[Slot]) -> Vec<(SomeTransport<'static>, Option<Line>)> {
    let mut found = Vec::new();
    for s in slots {
        let virt = crate::mem::phys_to_virt(s.phys) as *mut VirtIOHeader;
        let Some(header) = NonNull::new(virt) else {
            continue;
        };
        // SAFETY: the device tree names this MMIO region as a virtio-mmio slot; it is mapped
        // through the phys map for the kernel's life, and only this transport uses it.
        match unsafe { MmioTransport::new(header, s.size as usize) } {
            Ok(t) => {
                let line = s.irq.map(|number| Line {
                    number,
                    level: true,
                    active_low: false,
                });
                found.push((SomeTransport::from(t), line));
            }
            // An empty slot.
            Err(MmioError::InvalidDeviceID(DeviceTypeError::InvalidDeviceType(0))) => {}
            Err(e) => crate::warn!("virtio-mmio at {:#x}: {e}", s.phys),
        }
    }
    found
}
