//! What the device tree says about the machine: console UART, PLIC, the
//! QEMU test (exit) device, the boot arguments.

use core::sync::atomic::{AtomicUsize, Ordering};

use fdt::Fdt;
use spin::Once;

use crate::arch::plic::Plic;

/// Where the banner says the hart count comes from.
pub const CPU_SOURCE: &str = "FDT";

#[derive(Debug, Clone, Copy)]
pub struct UartInfo {
    pub phys: u64,
    pub reg_shift: u32,
    pub irq: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct Platform {
    pub model: &'static str,
    pub uart: Option<UartInfo>,
    /// PLIC physical base and this boot hart's S-mode context.
    pub plic: Option<(u64, usize)>,
    /// `sifive,test0` finisher (QEMU exit device).
    pub test_device: Option<u64>,
    /// `google,goldfish-rtc`: the real-time clock.
    pub rtc: Option<u64>,
    /// `virtio,mmio` slots.
    pub virtio_mmio: [Option<crate::drivers::virtio::mmio::Slot>; MAX_VIRTIO_SLOTS],
    pub cpus: usize,
    pub timebase_hz: u64,
}

/// The `virtio,mmio` nodes kept (QEMU `virt` has 8).
pub const MAX_VIRTIO_SLOTS: usize = 16;

static PLATFORM: Once<Platform> = Once::new();
static PLIC: Once<Plic> = Once::new();
static UART_IRQ: AtomicUsize = AtomicUsize::new(0);

/// The device tree blob (through the phys map).
pub fn fdt() -> Option<Fdt<'static>> {
    let bi = crate::boot_info_opt()?;
    if bi.fdt.is_empty() {
        return None;
    }
    // SAFETY: the loader keeps the FDT in `Fdt` memory, which the frame
    // allocator never gets, and all RAM is mapped at phys_offset.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            (bi.phys_offset + bi.fdt.start) as *const u8,
            bi.fdt.len as usize,
        )
    };
    Fdt::new(bytes).ok()
}

fn first_reg(node: fdt::node::FdtNode<'_, '_>) -> Option<u64> {
    Some(node.reg()?.next()?.starting_address as u64)
}

/// Parses the device tree. `boot_hart` picks the PLIC context.
pub fn discover(boot_hart: usize) -> Platform {
    let Some(fdt) = fdt() else {
        return Platform {
            model: "unknown (no FDT)",
            uart: None,
            plic: None,
            test_device: None,
            rtc: None,
            virtio_mmio: [None; MAX_VIRTIO_SLOTS],
            cpus: 0,
            timebase_hz: 0,
        };
    };
    let uart_node = fdt
        .chosen()
        .stdout()
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s.starts_with("ns16550")))
        })
        .or_else(|| fdt.find_compatible(&["ns16550a", "ns16550"]));
    let uart = uart_node.and_then(|n| {
        Some(UartInfo {
            phys: first_reg(n)?,
            reg_shift: n
                .property("reg-shift")
                .and_then(|p| p.as_usize())
                .unwrap_or(0) as u32,
            irq: n.interrupts().and_then(|mut i| i.next()).map(|i| i as u32),
        })
    });
    let plic = fdt
        .find_compatible(&["riscv,plic0", "sifive,plic-1.0.0"])
        .and_then(|n| Some((first_reg(n)?, plic_context(&fdt, n, boot_hart)?)));
    let test_device = fdt
        .find_compatible(&["sifive,test0", "sifive,test1"])
        .and_then(first_reg);
    let rtc = fdt
        .find_compatible(&["google,goldfish-rtc"])
        .and_then(first_reg);
    let mut virtio_mmio = [None; MAX_VIRTIO_SLOTS];
    let slots = fdt.all_nodes().filter(|n| {
        n.compatible()
            .is_some_and(|c| c.all().any(|s| s == "virtio,mmio"))
    });
    for (slot, node) in virtio_mmio.iter_mut().zip(slots) {
        let Some(reg) = node.reg().and_then(|mut r| r.next()) else {
            continue;
        };
        *slot = Some(crate::drivers::virtio::mmio::Slot {
            phys: reg.starting_address as u64,
            size: reg.size.unwrap_or(0x200) as u64,
            irq: node
                .interrupts()
                .and_then(|mut i| i.next())
                .map(|i| i as u32),
        });
    }
    let cpus = fdt.cpus().count();
    let timebase_hz = fdt
        .cpus()
        .next()
        .map(|c| c.timebase_frequency() as u64)
        .unwrap_or(0);
    Platform {
        model: fdt.root().model(),
        uart,
        plic,
        test_device,
        rtc,
        virtio_mmio,
        cpus,
        timebase_hz,
    }
}

/// The index of `hart`'s supervisor external interrupt (cause 9) in the
/// PLIC's `interrupts-extended`: its PLIC context.
fn plic_context(fdt: &Fdt<'_>, plic: fdt::node::FdtNode<'_, '_>, hart: usize) -> Option<usize> {
    let ext = plic.property("interrupts-extended")?.value;
    let cells: &[u8] = ext;
    let intc_phandle = fdt.cpus().find(|c| c.ids().first() == hart).and_then(|_| {
        fdt.all_nodes()
            .filter(|n| n.name.starts_with("cpu@"))
            .find(|n| n.property("reg").and_then(|p| p.as_usize()) == Some(hart))?
            .children()
            .find(|c| c.name.starts_with("interrupt-controller"))?
            .property("phandle")?
            .as_usize()
    })?;
    cells.chunks_exact(8).position(|pair| {
        let ph = u32::from_be_bytes([pair[0], pair[1], pair[2], pair[3]]) as usize;
        let irq = u32::from_be_bytes([pair[4], pair[5], pair[6], pair[7]]);
        ph == intc_phandle && irq == 9
    })
}

pub fn init(boot_hart: usize) -> &'static Platform {
    PLATFORM.call_once(|| discover(boot_hart))
}

pub fn get() -> Option<&'static Platform> {
    PLATFORM.get()
}

/// Routes the console UART's interrupt to this hart through the PLIC.
pub fn init_interrupts(phys_offset: u64) -> Result<(), &'static str> {
    let p = get().ok_or("platform not discovered")?;
    let (base, context) = p
        .plic
        .ok_or("no PLIC (or no S-mode context for this hart) in the FDT")?;
    // SAFETY: the PLIC is MMIO mapped through the phys map; `context` is ours.
    let plic = PLIC.call_once(|| unsafe { Plic::new((phys_offset + base) as usize, context) });
    crate::arch::enable_external_interrupts();
    let irq = p
        .uart
        .and_then(|u| u.irq)
        .ok_or("the console UART has no interrupt")?;
    UART_IRQ.store(irq as usize, Ordering::Relaxed);
    plic.enable(irq);
    crate::console::enable_rx_interrupt();
    Ok(())
}

/// Handles pending PLIC interrupts on this hart.
pub fn on_external_interrupt(_frame: &crate::arch::trap::TrapFrame) {
    let Some(plic) = PLIC.get() else { return };
    while let Some(irq) = plic.claim() {
        if irq as usize == UART_IRQ.load(Ordering::Relaxed) {
            crate::console::on_uart_interrupt();
        } else if !crate::drivers::irq::dispatch(irq) {
            crate::debug!("spurious PLIC interrupt {irq}");
        }
        plic.complete(irq);
    }
}

/// The wall-clock time now, from the goldfish RTC if the device tree has one.
pub fn wall_clock_ns() -> Option<u64> {
    let phys = get()?.rtc?;
    // SAFETY: the device tree names this MMIO block as the RTC; it is mapped through the
    // phys map and only read.
    Some(unsafe { crate::drivers::rtc::goldfish_ns(crate::mem::phys_to_virt(phys) as usize) })
}

/// Unmasks a device's PLIC source for this hart's context (the boot hart takes them all).
pub fn enable_irq(line: crate::drivers::irq::Line) -> Result<(), &'static str> {
    let plic = PLIC.get().ok_or("no PLIC")?;
    plic.enable(line.number);
    Ok(())
}

/// The virtio-mmio transports of the device tree's slots.
pub fn virtio_transports() -> alloc::vec::Vec<(
    virtio_drivers::transport::SomeTransport<'static>,
    Option<crate::drivers::irq::Line>,
)> {
    let slots: alloc::vec::Vec<_> = get()
        .map(|p| p.virtio_mmio.iter().flatten().copied().collect())
        .unwrap_or_default();
    crate::drivers::virtio::mmio::transports(&slots)
}
