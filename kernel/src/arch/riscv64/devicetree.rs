//! What the device tree says about the machine: the console UART (from
//! `/chosen/stdout-path`), the PLIC and this hart's context on it, the QEMU
//! test (exit) device, the goldfish RTC, virtio-mmio slots, and which cpu
//! nodes are the harts the kernel runs on.

use core::sync::atomic::{AtomicUsize, Ordering};

use fdt::Fdt;
use fdt::node::FdtNode;
use spin::Once;
use uart::probe::{ConsoleUart, ProbeError};

use crate::arch::plic::Plic;

/// Where the banner says the hart count comes from.
pub const CPU_SOURCE: &str = "FDT";

/// A PLIC and this boot hart's supervisor context on it (see the `plic` crate).
pub type PlicInfo = plic::Found;

#[derive(Debug, Clone, Copy)]
pub struct Machine {
    pub model: &'static str,
    /// The console UART, or why there is none.
    pub uart: Result<ConsoleUart, ProbeError>,
    /// The PLIC and the boot hart's S-mode context.
    pub plic: Option<PlicInfo>,
    /// `sifive,test0` finisher (QEMU exit device).
    pub test_device: Option<u64>,
    /// `google,goldfish-rtc`: the real-time clock.
    pub rtc: Option<u64>,
    /// `virtio,mmio` slots.
    pub virtio_mmio: [Option<crate::drivers::virtio::mmio::Slot>; MAX_VIRTIO_SLOTS],
    /// cpu nodes in the FDT (monitor cores included).
    pub cpus: usize,
    /// The FDT's timebase; the kernel tests check it against the loader's `timer_hz`.
    #[cfg_attr(not(feature = "ktest"), allow(dead_code))]
    pub timebase_hz: u64,
}

/// The `virtio,mmio` nodes kept (QEMU `virt` has 8).
pub const MAX_VIRTIO_SLOTS: usize = 16;

static MACHINE: Once<Machine> = Once::new();
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

fn first_reg(node: FdtNode<'_, '_>) -> Option<u64> {
    Some(node.reg()?.next()?.starting_address as u64)
}

/// The cpu nodes of `/cpus`, with their hart ids.
fn cpu_nodes<'b, 'a>(fdt: &'b Fdt<'a>) -> impl Iterator<Item = (usize, FdtNode<'b, 'a>)> + 'b {
    fdt.find_node("/cpus")
        .into_iter()
        .flat_map(|cpus| cpus.children())
        .filter(|n| n.property("device_type").and_then(|p| p.as_str()) == Some("cpu"))
        .filter_map(|n| Some((n.property("reg")?.as_usize()?, n)))
}

/// Whether `cpu` lists the multi-letter ISA extension `name` (lower case) in
/// `riscv,isa-extensions`, or else in its `riscv,isa` string.
pub fn cpu_has_extension(cpu: &FdtNode<'_, '_>, name: &str) -> bool {
    if let Some(list) = cpu.property("riscv,isa-extensions") {
        list.value.split(|&b| b == 0).any(|n| n == name.as_bytes())
    } else {
        cpu.property("riscv,isa")
            .and_then(|p| p.as_str())
            .is_some_and(|isa| isa.split('_').any(|n| n == name))
    }
}

/// Whether every hart the kernel runs on has the multi-letter ISA extension
/// `name` (false without a device tree).
pub fn every_cpu_has(name: &str) -> bool {
    fdt().is_some_and(|fdt| running_cpus(&fdt).all(|cpu| cpu_has_extension(&cpu, name)))
}

/// The cpu nodes of the harts the kernel runs on (the loader's `hart_mask`:
/// monitor cores and disabled harts are not among them). ISA extensions
/// count only on these.
pub fn running_cpus<'b, 'a>(fdt: &'b Fdt<'a>) -> impl Iterator<Item = FdtNode<'b, 'a>> + 'b {
    let mask = crate::boot_info_opt().map_or(0, |bi| bi.hart_mask);
    cpu_nodes(fdt)
        .filter(move |&(id, _)| id < 64 && mask & (1 << id) != 0)
        .map(|(_, n)| n)
}

/// Parses the device tree. `boot_hart` picks the PLIC context.
pub fn discover(boot_hart: usize) -> Machine {
    let Some(fdt) = fdt() else {
        return Machine {
            model: "unknown (no FDT)",
            uart: Err(ProbeError::NotFound),
            plic: None,
            test_device: None,
            rtc: None,
            virtio_mmio: [None; MAX_VIRTIO_SLOTS],
            cpus: 0,
            timebase_hz: 0,
        };
    };
    let uart = uart::probe::console(&fdt);
    let plic = plic::find(&fdt, boot_hart);
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
    let cpus = cpu_nodes(&fdt).count();
    let timebase_hz = fdt
        .find_node("/cpus")
        .and_then(|c| c.property("timebase-frequency"))
        .or_else(|| cpu_nodes(&fdt).find_map(|(_, c)| c.property("timebase-frequency")))
        .and_then(|p| p.as_usize())
        .unwrap_or(0) as u64;
    let model = fdt
        .root()
        .property("model")
        .and_then(|p| p.as_str())
        .unwrap_or("unnamed machine");
    Machine {
        model,
        uart,
        plic,
        test_device,
        rtc,
        virtio_mmio,
        cpus,
        timebase_hz,
    }
}

pub fn init(boot_hart: usize) -> &'static Machine {
    MACHINE.call_once(|| discover(boot_hart))
}

pub fn get() -> Option<&'static Machine> {
    MACHINE.get()
}

/// The console UART with its driver, its registers mapped; `None` without
/// one, or while it sits above the phys map and the address space is not up.
pub fn console_uart() -> Option<crate::drivers::uart::Device> {
    let u = get()?.uart.ok()?;
    let base = crate::mem::vm::map_device(u.phys, u.size.max(0x100)).ok()?;
    // SAFETY: `base` maps the UART's registers as device memory for good;
    // only the console drives it.
    Some(unsafe {
        crate::drivers::uart::Device::mmio(u.kind, base as usize, u.reg_shift, u.io_width)
    })
}

/// Routes the console UART's interrupt to this hart through the PLIC.
pub fn init_interrupts(_phys_offset: u64) -> Result<(), &'static str> {
    let p = get().ok_or("machine not discovered")?;
    let info = p
        .plic
        .ok_or("no PLIC (or no S-mode context for this hart) in the FDT")?;
    let base =
        crate::mem::vm::map_device(info.phys, (plic::span(info.context) as u64).min(info.size))
            .map_err(|_| "cannot map the PLIC")?;
    // SAFETY: `base` maps the PLIC as device memory; `context` is ours.
    let plic = PLIC.call_once(|| unsafe { Plic::new(base as usize, info.context) });
    crate::arch::enable_external_interrupts();
    let uart = p.uart.map_err(|_| "no console UART")?;
    if crate::console::uart_name().is_none() {
        return Err("the console UART is not in use");
    }
    let irq = uart.irq.ok_or("the console UART has no interrupt")?;
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
