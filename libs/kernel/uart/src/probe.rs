//! The console UART from a flattened device tree, the way Linux finds its
//! boot console: `/chosen/stdout-path` (a node path or an alias, with
//! optional `:115200n8`-style options), else the first enabled UART this
//! crate drives. The node's `compatible` picks the driver; `reg`,
//! `reg-offset`, `reg-shift`, `reg-io-width` and `interrupts` its layout.

use fdt::Fdt;
use fdt::node::FdtNode;

pub use crate::{COMPATIBLE, Kind, kind_of};

/// Everything a driver needs to reach the console UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleUart {
    pub kind: Kind,
    /// Physical address of the registers (`reg` plus `reg-offset`).
    pub phys: u64,
    /// Bytes of register space (`reg`'s size; at least a page's worth is mapped).
    pub size: u64,
    /// Registers are `1 << reg_shift` bytes apart (16550 family).
    pub reg_shift: u32,
    /// Bytes per register access: 1, 2 or 4.
    pub io_width: u8,
    /// Its line at the interrupt controller (first `interrupts` cell).
    pub irq: Option<u32>,
}

/// Why no console UART came out of the device tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeError {
    /// No stdout-path and no UART this crate drives.
    NotFound,
    /// stdout-path names a device this crate does not drive.
    Unsupported,
    /// A property has a value no UART can have.
    BadProperty(&'static str),
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotFound => write!(f, "no UART in the device tree"),
            Self::Unsupported => write!(
                f,
                "/chosen/stdout-path names no 16550, DesignWare or SiFive UART"
            ),
            Self::BadProperty(p) => write!(f, "the console UART's {p} is invalid"),
        }
    }
}

/// The node `/chosen/stdout-path` names, options (`:...`) stripped and
/// aliases resolved.
pub fn stdout_node<'b, 'a>(fdt: &'b Fdt<'a>) -> Option<FdtNode<'b, 'a>> {
    let chosen = fdt.find_node("/chosen")?;
    let value = chosen
        .property("stdout-path")
        .or_else(|| chosen.property("linux,stdout-path"))?
        .value;
    let text = value.split(|&b| b == 0).next()?;
    let text = core::str::from_utf8(text).ok()?;
    let path = text.split(':').next()?;
    if path.is_empty() {
        return None;
    }
    // `find_node` tries an alias when the path is not a node.
    fdt.find_node(path)
}

fn enabled(node: &FdtNode<'_, '_>) -> bool {
    node.property("status")
        .and_then(|p| p.as_str())
        .is_none_or(|s| s == "okay" || s == "ok")
}

fn u32_property(node: &FdtNode<'_, '_>, name: &str) -> Option<u32> {
    node.property(name)
        .and_then(|p| p.as_usize())
        .map(|v| v as u32)
}

/// Describes `node` if it is a UART this crate drives.
pub fn describe(node: &FdtNode<'_, '_>) -> Result<Option<ConsoleUart>, ProbeError> {
    let Some(kind) = node.compatible().and_then(|c| kind_of(c.all())) else {
        return Ok(None);
    };
    let reg = node
        .reg()
        .and_then(|mut r| r.next())
        .ok_or(ProbeError::BadProperty("reg"))?;
    let offset = u32_property(node, "reg-offset").unwrap_or(0);
    let (reg_shift, io_width) = match kind {
        // Seven 32-bit registers, 4 bytes apart.
        Kind::Sifive => (0, 4),
        _ => (
            u32_property(node, "reg-shift").unwrap_or(0),
            u32_property(node, "reg-io-width").unwrap_or(1),
        ),
    };
    if reg_shift > 4 {
        return Err(ProbeError::BadProperty("reg-shift"));
    }
    if !matches!(io_width, 1 | 2 | 4) {
        return Err(ProbeError::BadProperty("reg-io-width"));
    }
    let irq = node
        .property("interrupts")
        .and_then(|p| p.value.get(..4))
        .map(|cell| u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]));
    Ok(Some(ConsoleUart {
        kind,
        phys: reg.starting_address as u64 + u64::from(offset),
        size: reg.size.unwrap_or(0x100) as u64,
        reg_shift,
        io_width: io_width as u8,
        irq,
    }))
}

/// The console UART: the one `/chosen/stdout-path` names, else the first
/// enabled UART this crate drives.
pub fn console(fdt: &Fdt<'_>) -> Result<ConsoleUart, ProbeError> {
    if let Some(node) = stdout_node(fdt) {
        return describe(&node)?.ok_or(ProbeError::Unsupported);
    }
    for node in fdt.all_nodes().filter(enabled) {
        if let Some(uart) = describe(&node)? {
            return Ok(uart);
        }
    }
    Err(ProbeError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../../configs/boards/devicetrees/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn console_of(name: &str) -> Result<ConsoleUart, ProbeError> {
        let blob = load(name);
        let fdt = Fdt::new(&blob).unwrap();
        console(&fdt)
    }

    #[test]
    fn qemu_virt_has_a_byte_wide_16550() {
        assert_eq!(
            console_of("qemu-virt-smp4.dtb"),
            Ok(ConsoleUart {
                kind: Kind::Ns16550,
                phys: 0x1000_0000,
                size: 0x100,
                reg_shift: 0,
                io_width: 1,
                irq: Some(10),
            })
        );
    }

    #[test]
    fn qemu_sifive_u_has_a_sifive_uart() {
        let uart = console_of("qemu-sifive-u-smp3.dtb").unwrap();
        assert_eq!(
            (uart.kind, uart.phys, uart.io_width, uart.irq),
            (Kind::Sifive, 0x1001_0000, 4, Some(4))
        );
    }

    #[test]
    fn visionfive2_stdout_alias_with_options_is_the_designware_uart0() {
        assert_eq!(
            console_of("visionfive2.dtb"),
            Ok(ConsoleUart {
                kind: Kind::DesignWare,
                phys: 0x1000_0000,
                size: 0x10000,
                reg_shift: 2,
                io_width: 4,
                irq: Some(32),
            })
        );
    }

    #[test]
    fn hifive_unmatched_console_is_its_first_sifive_uart() {
        let uart = console_of("hifive-unmatched.dtb").unwrap();
        assert_eq!(
            (uart.kind, uart.phys, uart.irq),
            (Kind::Sifive, 0x1001_0000, Some(39))
        );
    }

    #[test]
    fn lichee_pi_4a_console_sits_above_4_gib_with_two_interrupt_cells() {
        let uart = console_of("lichee-pi-4a.dtb").unwrap();
        assert_eq!(
            (
                uart.kind,
                uart.phys,
                uart.reg_shift,
                uart.io_width,
                uart.irq
            ),
            (Kind::DesignWare, 0xff_e701_4000, 2, 4, Some(36))
        );
    }

    #[test]
    fn designware_wins_over_the_soc_specific_name() {
        assert_eq!(
            kind_of(["starfive,jh7110-uart", "snps,dw-apb-uart"].into_iter()),
            Some(Kind::DesignWare)
        );
        assert_eq!(
            kind_of(["sifive,fu740-c000-uart", "sifive,uart0"].into_iter()),
            Some(Kind::Sifive)
        );
        assert_eq!(kind_of(["arm,pl011"].into_iter()), None);
    }
}
