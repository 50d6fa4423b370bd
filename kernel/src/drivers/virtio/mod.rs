//! virtio devices through the `virtio-drivers` crate's transports and queues: the console
//! (atoll's host link to `just exec`) and 9P shares (host directories). Requests complete by
//! interrupt; DMA buffers come from the frame allocator (`hal`, `dma`).
//!
//! Transports come from the platform: virtio-mmio slots from the device tree (riscv64 `virt`)
//! and PCI functions through ECAM (x86_64 q35).

pub mod console;
pub mod dma;
pub mod hal;
// The device tree's virtio-mmio slots (riscv64); q35 (x86_64) has PCI only.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub mod mmio;
pub mod p9;
mod requests;
mod serial_ctl;

use alloc::vec::Vec;

use spin::Once;
use virtio_drivers::transport::{DeviceType, SomeTransport, Transport};

use super::irq::{self, Line};
use console::ConsoleDevice;
use p9::P9Device;

static CONSOLE: Once<ConsoleDevice> = Once::new();
static SHARES: Once<Vec<P9Device>> = Once::new();

/// The virtio console (the host link), if the machine has one.
pub fn console() -> Option<&'static ConsoleDevice> {
    CONSOLE.get()
}

/// The 9P devices, in discovery order.
pub fn shares() -> &'static [P9Device] {
    SHARES.get().map_or(&[], Vec::as_slice)
}

/// Sets up every virtio device the platform describes that atoll drives.
pub fn probe() {
    let mut found = Vec::new();
    let mut share_lines = Vec::new();
    let mut console_line = None;
    for (transport, line) in crate::arch::machine::virtio_transports() {
        let kind = transport.device_type();
        // Requests complete by interrupt: a device without one is not driven.
        let Some(line) = line else {
            crate::warn!("virtio: {kind:?} device has no interrupt line; not used");
            continue;
        };
        match kind {
            DeviceType::Console if CONSOLE.get().is_none() => match ConsoleDevice::new(transport) {
                Ok(dev) => {
                    CONSOLE.call_once(|| dev);
                    console_line = Some(line);
                    crate::info!("virtio: console (host link)");
                }
                Err(e) => crate::warn!("virtio: console unusable: {e}"),
            },
            DeviceType::_9P => match P9Device::new(transport) {
                Ok(dev) => {
                    crate::info!("virtio: 9P share `{}`", dev.tag());
                    found.push(dev);
                    share_lines.push(line);
                }
                Err(e) => crate::warn!("virtio: 9P device unusable: {e}"),
            },
            other => {
                crate::debug!("virtio: {other:?} device not used");
                drop::<SomeTransport<'static>>(transport);
            }
        }
    }
    SHARES.call_once(|| found);
    if let Some(line) = console_line {
        listen(line, on_console_interrupt, 0);
    }
    for (i, line) in share_lines.into_iter().enumerate() {
        listen(line, on_share_interrupt, i);
    }
    // A level-triggered line (PCI INTx) the device raised before it was unmasked may never
    // be seen as an edge (QEMU's I/O APIC only samples changes): acknowledge once now, so
    // the next completion raises it afresh.
    on_console_interrupt(0);
    for i in 0..shares().len() {
        on_share_interrupt(i);
    }
}

fn on_console_interrupt(_: usize) {
    if let Some(c) = CONSOLE.get() {
        c.on_interrupt();
    }
}

fn on_share_interrupt(i: usize) {
    if let Some(s) = shares().get(i) {
        s.on_interrupt();
    }
}

fn listen(line: Line, handler: fn(usize), arg: usize) {
    if let Err(e) = irq::register(line, handler, arg) {
        crate::warn!("virtio: interrupt line {}: {e}", line.number);
    }
}
