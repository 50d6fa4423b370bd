//! What ACPI says about the machine (through the `acpi` crate): the CPUs and
//! IOAPIC from the MADT, the console UART's interrupt routing, and the FADT
//! and DSDT bits needed to power off (S5). The console is COM1.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use spin::Once;

use super::trap::{IRQ_BASE, IRQ_COUNT};

/// Where the banner says the CPU count comes from.
pub const CPU_SOURCE: &str = "MADT";

/// The console UART: `phys` is its I/O port base (its IRQ is in `uart_route`).
#[derive(Debug, Clone, Copy)]
pub struct UartInfo {
    pub phys: u64,
    pub reg_shift: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct IoApicInfo {
    pub phys: u64,
    pub gsi_base: u32,
}

/// How an ISA IRQ reaches the IOAPIC (after MADT interrupt source overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaRoute {
    pub gsi: u32,
    pub level: bool,
    pub active_low: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Machine {
    pub model: &'static str,
    pub uart: Option<UartInfo>,
    /// Enabled local APICs in the MADT.
    pub cpus: usize,
    /// Their APIC ids (those below 64).
    pub apic_ids: u64,
    pub ioapic: Option<IoApicInfo>,
    pub uart_route: Option<IsaRoute>,
    /// The MADT's local APIC address.
    pub local_apic: u64,
    /// PM1a control port and the S5 sleep type, for ACPI power-off.
    pub s5: Option<(u16, u16)>,
    /// PCI Express configuration space (the MCFG's first segment-0 window).
    pub ecam: Option<crate::drivers::pci::Ecam>,
}

static MACHINE: Once<Machine> = Once::new();
static OEM_ID: Once<[u8; 6]> = Once::new();
static UART_VECTOR: AtomicU32 = AtomicU32::new(0);
static UART_PIN: AtomicU32 = AtomicU32::new(u32::MAX);
static IOAPIC_BASE: AtomicUsize = AtomicUsize::new(0);
/// The CPU that takes device interrupts.
static BOOT_APIC_ID: AtomicU32 = AtomicU32::new(0);

const COM1: u64 = 0x3f8;
const COM1_IRQ: u32 = 4;

/// ACPI tables are read through the phys map: mapping is free.
#[derive(Debug, Clone, Copy)]
pub struct PhysMap;

impl AcpiHandler for PhysMap {
    unsafe fn map_physical_region<T>(&self, phys: usize, size: usize) -> PhysicalMapping<Self, T> {
        let virt = crate::mem::phys_to_virt(phys as u64) as *mut T;
        // SAFETY: all physical memory (ACPI tables included) is mapped at the
        // phys offset for the kernel's whole life; unmapping is a no-op.
        unsafe {
            PhysicalMapping::new(
                phys,
                NonNull::new(virt).unwrap_or(NonNull::dangling()),
                size,
                size,
                *self,
            )
        }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// The ACPI tables from the loader's RSDP.
pub fn tables() -> Result<AcpiTables<PhysMap>, &'static str> {
    let bi = crate::boot_info_opt().ok_or("no boot info")?;
    if bi.acpi_rsdp == 0 {
        return Err("the loader found no ACPI RSDP");
    }
    // SAFETY: the loader passes the firmware's RSDP; the tables stay in
    // ACPI or reserved memory the frame allocator never gets.
    unsafe { AcpiTables::from_rsdp(PhysMap, bi.acpi_rsdp as usize) }
        .map_err(|_| "invalid ACPI RSDP or RSDT/XSDT")
}

/// Parses the MADT: CPUs, the first IOAPIC, and the route of `isa_irq`.
pub fn parse_madt(
    tables: &AcpiTables<PhysMap>,
    isa_irq: u32,
) -> Result<(Machine, [u8; 6]), &'static str> {
    let madt = tables.find_table::<Madt>().map_err(|_| "no MADT")?;
    let oem = madt.get().header.oem_id;
    let mut p = Machine {
        model: "",
        uart: None,
        cpus: 0,
        apic_ids: 0,
        ioapic: None,
        uart_route: None,
        local_apic: u64::from(madt.get().local_apic_address),
        s5: None,
        ecam: None,
    };
    // ISA IRQs are identity-mapped, edge-triggered, active high unless overridden.
    let mut route = IsaRoute {
        gsi: isa_irq,
        level: false,
        active_low: false,
    };
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::LocalApic(l) if { l.flags } & 1 != 0 => {
                p.cpus += 1;
                if l.apic_id < 64 {
                    p.apic_ids |= 1 << l.apic_id;
                }
            }
            MadtEntry::LocalX2Apic(l) if { l.flags } & 1 != 0 => {
                p.cpus += 1;
                let id = { l.x2apic_id };
                if id < 64 {
                    p.apic_ids |= 1 << id;
                }
            }
            MadtEntry::IoApic(io) if p.ioapic.is_none() => {
                p.ioapic = Some(IoApicInfo {
                    phys: u64::from(io.io_apic_address),
                    gsi_base: { io.global_system_interrupt_base },
                });
            }
            MadtEntry::InterruptSourceOverride(o) if o.bus == 0 && u32::from(o.irq) == isa_irq => {
                let flags = { o.flags };
                route = IsaRoute {
                    gsi: { o.global_system_interrupt },
                    active_low: flags & 0b11 == 0b11,
                    level: (flags >> 2) & 0b11 == 0b11,
                };
            }
            MadtEntry::LocalApicAddressOverride(o) => p.local_apic = o.local_apic_address,
            _ => {}
        }
    }
    p.uart_route = Some(route);
    Ok((p, oem))
}

/// PM1a control port and SLP_TYPa for S5, from the FADT and the DSDT's `\_S5_`.
fn find_s5(tables: &AcpiTables<PhysMap>) -> Option<(u16, u16)> {
    let fadt = tables.find_table::<acpi::fadt::Fadt>().ok()?;
    let pm1a = fadt.pm1a_control_block().ok()?;
    if pm1a.address_space != acpi::address::AddressSpace::SystemIo || pm1a.address > 0xffff {
        return None;
    }
    let dsdt = tables.dsdt().ok()?;
    // SAFETY: the DSDT's AML lies in ACPI memory, mapped through the phys map.
    let aml = unsafe {
        core::slice::from_raw_parts(
            crate::mem::phys_to_virt(dsdt.address as u64) as *const u8,
            dsdt.length as usize,
        )
    };
    Some((pm1a.address as u16, s5_sleep_type(aml)?))
}

/// The ECAM window of PCI segment 0, from the MCFG.
fn find_ecam(tables: &AcpiTables<PhysMap>) -> Option<crate::drivers::pci::Ecam> {
    let mcfg = tables.find_table::<acpi::mcfg::Mcfg>().ok()?;
    let e = mcfg
        .get()
        .entries()
        .iter()
        .find(|e| e.pci_segment_group == 0)
        .copied()?;
    Some(crate::drivers::pci::Ecam {
        phys: e.base_address,
        first_bus: e.bus_number_start,
        last_bus: e.bus_number_end,
    })
}

/// SLP_TYPa of a `Name(\_S5_, Package() { a, b, ... })` in AML, as firmware
/// writes it (a byte constant or Zero/One).
pub fn s5_sleep_type(aml: &[u8]) -> Option<u16> {
    let pos = aml.windows(4).position(|w| w == b"_S5_")?;
    let named = (pos >= 1 && aml[pos - 1] == 0x08)
        || (pos >= 2 && aml[pos - 2] == 0x08 && aml[pos - 1] == b'\\');
    if !named || *aml.get(pos + 4)? != 0x12 {
        return None;
    }
    // PackageOp, PkgLength (1-4 bytes), NumElements, first element.
    let len_bytes = usize::from(aml.get(pos + 5)? >> 6) + 1;
    let first = pos + 5 + len_bytes + 1;
    match *aml.get(first)? {
        0x0a => aml.get(first + 1).map(|&v| u16::from(v)),
        v @ (0x00 | 0x01) => Some(u16::from(v)),
        _ => None,
    }
}

fn discover() -> Machine {
    let fallback = Machine {
        model: "x86_64 PC (no ACPI)",
        uart: Some(UartInfo {
            phys: COM1,
            reg_shift: 0,
        }),
        cpus: 0,
        apic_ids: 0,
        ioapic: None,
        uart_route: None,
        local_apic: 0,
        s5: None,
        ecam: None,
    };
    let tables = match tables() {
        Ok(t) => t,
        Err(_) => return fallback,
    };
    match parse_madt(&tables, COM1_IRQ) {
        Ok((mut p, oem)) => {
            let oem = OEM_ID.call_once(|| oem);
            p.model = core::str::from_utf8(oem).map_or("x86_64 PC", str::trim_end);
            p.uart = fallback.uart;
            p.s5 = find_s5(&tables);
            p.ecam = find_ecam(&tables);
            p
        }
        Err(_) => fallback,
    }
}

pub fn init(_boot_hart: usize) -> &'static Machine {
    MACHINE.call_once(discover)
}

pub fn get() -> Option<&'static Machine> {
    MACHINE.get()
}

fn ioapic_write(reg: u32, value: u32) {
    let base = IOAPIC_BASE.load(Ordering::Relaxed);
    // SAFETY: IOREGSEL and IOWIN of the IOAPIC, mapped through the phys map;
    // only this module programs it, with the console's interrupt not yet on.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::write_volatile((base + 0x10) as *mut u32, value);
    }
}

#[cfg(feature = "ktest")]
fn ioapic_read(reg: u32) -> u32 {
    let base = IOAPIC_BASE.load(Ordering::Relaxed);
    // SAFETY: IOREGSEL and IOWIN of the IOAPIC, mapped through the phys map.
    // Selecting and reading a register races only with another selection,
    // and only `init_interrupts` (earlier, once) and the tests select.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::read_volatile((base + 0x10) as *const u32)
    }
}

#[cfg(feature = "ktest")]
/// The console UART's interrupt as programmed: (vector, its IOAPIC
/// redirection entry), once `init_interrupts` has run.
pub fn uart_interrupt() -> Option<(u32, u64)> {
    let pin = UART_PIN.load(Ordering::Relaxed);
    if pin == u32::MAX {
        return None;
    }
    let low = ioapic_read(0x10 + 2 * pin);
    let high = ioapic_read(0x10 + 2 * pin + 1);
    Some((
        UART_VECTOR.load(Ordering::Relaxed),
        u64::from(high) << 32 | u64::from(low),
    ))
}

/// The console UART (COM1) with its driver.
pub fn console_uart() -> Option<crate::drivers::uart::Device> {
    let u = get()?.uart?;
    let port = u16::try_from(u.phys).ok()?;
    // SAFETY: COM1's ports belong to the console alone.
    Some(unsafe { crate::drivers::uart::Device::ports(port, u.reg_shift) })
}

/// Routes the console UART's IRQ through the IOAPIC to this CPU.
pub fn init_interrupts(_phys_offset: u64) -> Result<(), &'static str> {
    let p = get().ok_or("machine not discovered")?;
    // The legacy 8259 PICs stay masked: every interrupt comes through the APICs.
    // SAFETY: writing the PICs' interrupt masks only masks their inputs.
    unsafe {
        super::outb(0x21, 0xff);
        super::outb(0xa1, 0xff);
    }
    let io = p.ioapic.ok_or("no IOAPIC in the MADT")?;
    IOAPIC_BASE.store(
        crate::mem::phys_to_virt(io.phys) as usize,
        Ordering::Relaxed,
    );
    let apic_id = crate::sched::percpu::current().id() as u32;
    BOOT_APIC_ID.store(apic_id, Ordering::Relaxed);
    let route = p.uart_route.ok_or("no route for the UART's IRQ")?;
    let pin = route
        .gsi
        .checked_sub(io.gsi_base)
        .filter(|&pin| pin < u32::from(IRQ_COUNT))
        .ok_or("the UART's GSI is not on the first IOAPIC")?;
    let vector = u32::from(IRQ_BASE) + route.gsi;
    if vector >= u32::from(IRQ_BASE + IRQ_COUNT) {
        return Err("the UART's GSI has no vector");
    }
    UART_VECTOR.store(vector, Ordering::Relaxed);
    let low = vector | u32::from(route.active_low) << 13 | u32::from(route.level) << 15;
    ioapic_write(0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * pin, low);
    UART_PIN.store(pin, Ordering::Relaxed);
    crate::console::enable_rx_interrupt();
    Ok(())
}

/// Handles an IOAPIC interrupt: the console UART's, or a device's (`drivers::irq`).
pub fn on_external_interrupt(frame: &super::trap::TrapFrame) {
    let gsi = (frame.vector as u32).wrapping_sub(u32::from(IRQ_BASE));
    let uart = UART_VECTOR.load(Ordering::Relaxed);
    if frame.vector as u32 == uart {
        crate::console::on_uart_interrupt();
    } else if !crate::drivers::irq::dispatch(gsi) {
        crate::debug!("spurious interrupt on GSI {gsi}");
    }
}

/// Routes a device's global system interrupt through the IOAPIC to the boot CPU.
pub fn enable_irq(line: crate::drivers::irq::Line) -> Result<(), &'static str> {
    let p = get().ok_or("machine not discovered")?;
    let io = p.ioapic.ok_or("no IOAPIC in the MADT")?;
    if IOAPIC_BASE.load(Ordering::Relaxed) == 0 {
        return Err("the IOAPIC is not set up");
    }
    let pin = line
        .number
        .checked_sub(io.gsi_base)
        .filter(|&pin| pin < u32::from(IRQ_COUNT))
        .ok_or("the GSI is not on the first IOAPIC")?;
    let vector = u32::from(IRQ_BASE) + line.number;
    let apic_id = BOOT_APIC_ID.load(Ordering::Relaxed);
    let low = vector | u32::from(line.active_low) << 13 | u32::from(line.level) << 15;
    ioapic_write(0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * pin, low);
    Ok(())
}

/// How q35 wires a PCI function's INTx pin (1 = INTA) to a GSI in APIC mode: the ICH9 LPC
/// maps slot `s`, pin `p` to PIRQ[(s + p - 1) % 4 + 4] (E-H) and PIRQ[n] to GSI 16 + n. This
/// is the table firmware's ACPI `_PRT` describes for devices on bus 0; atoll does not run an
/// AML interpreter to read it.
pub fn pci_intx_line(
    df: virtio_drivers::transport::pci::bus::DeviceFunction,
    pin: u8,
) -> Option<crate::drivers::irq::Line> {
    if df.bus != 0 || df.device >= 25 || !(1..=4).contains(&pin) {
        return None;
    }
    let pirq = (u32::from(df.device) + u32::from(pin) - 1) % 4 + 4;
    Some(crate::drivers::irq::Line {
        number: 16 + pirq,
        level: true,
        active_low: true,
    })
}

/// The virtio functions on the PCI bus.
pub fn virtio_transports() -> alloc::vec::Vec<(
    virtio_drivers::transport::SomeTransport<'static>,
    Option<crate::drivers::irq::Line>,
)> {
    match get().and_then(|p| p.ecam) {
        Some(ecam) => crate::drivers::pci::virtio_functions(ecam, pci_intx_line),
        None => alloc::vec::Vec::new(),
    }
}

/// The wall-clock time now, from the CMOS clock (whole seconds).
pub fn wall_clock_ns() -> Option<u64> {
    super::cmos::unix_seconds().map(|s| s * 1_000_000_000)
}

/// ACPI S5 through PM1a_CNT (SLP_TYP, SLP_EN). Returns if there is none.
pub fn acpi_power_off() {
    if let Some((port, typ)) = get().and_then(|p| p.s5) {
        // SAFETY: PM1a_CNT from the FADT; SLP_EN with the S5 type powers off.
        unsafe { super::outw(port, (typ << 10) | (1 << 13)) };
    }
}
