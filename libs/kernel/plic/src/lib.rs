//! The RISC-V platform-level interrupt controller: its register layout
//! (the same on SiFive's, QEMU's and T-Head's C9xx PLIC), which
//! `compatible` strings name one, and, from a device tree, which context
//! is a hart's supervisor mode. Contexts are numbered as the PLIC's
//! `interrupts-extended` lists them, M-mode ones included: on SiFive SoCs
//! hart 0 (a monitor core) has only an M-mode context, so hart 1's S-mode
//! context is 2, while on QEMU `virt` hart 0's is 1. Never assume.
#![cfg_attr(not(test), no_std)]

/// PLICs the kernel drives: SiFive's and its clones, and T-Head's C9xx
/// PLIC (TH1520, SG2000), whose registers are the same. T-Head's one
/// difference for S-mode, the access bit in its control register at
/// 0x1f_fffc, is M-mode's to set (OpenSBI does). Its edge-triggered
/// sources must be completed as they are claimed; the kernel's sources
/// (UARTs, virtio) are level-triggered.
pub const COMPATIBLE: [&str; 3] = ["sifive,plic-1.0.0", "riscv,plic0", "thead,c900-plic"];

/// Byte offset of source `irq`'s priority register.
pub const fn priority(irq: u32) -> usize {
    4 * irq as usize
}

/// Byte offset of the enable word holding source `irq` for `context`.
pub const fn enable_word(context: usize, irq: u32) -> usize {
    0x2000 + 0x80 * context + 4 * (irq as usize / 32)
}

/// Byte offset of `context`'s priority threshold.
pub const fn threshold(context: usize) -> usize {
    0x20_0000 + 0x1000 * context
}

/// Byte offset of `context`'s claim/complete register.
pub const fn claim(context: usize) -> usize {
    threshold(context) + 4
}

/// Bytes of register space a driver for `context` touches (from 0).
pub const fn span(context: usize) -> usize {
    claim(context) + 4
}

/// Supervisor external interrupt, the cause a hart's S-mode context raises.
pub const SUPERVISOR_EXTERNAL: u32 = 9;

#[cfg(feature = "fdt")]
pub use devicetree::{Found, find};

#[cfg(feature = "fdt")]
mod devicetree {
    use super::{COMPATIBLE, SUPERVISOR_EXTERNAL};
    use fdt::Fdt;
    use fdt::node::FdtNode;

    /// A PLIC in the device tree and one hart's S-mode context on it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Found {
        pub phys: u64,
        pub size: u64,
        pub context: usize,
    }

    /// The first PLIC in `fdt` and `hart`'s S-mode context on it: the index of
    /// the (cpu-intc phandle, 9) pair of `hart` in its `interrupts-extended`.
    pub fn find(fdt: &Fdt<'_>, hart: usize) -> Option<Found> {
        let plic = fdt.find_compatible(&COMPATIBLE)?;
        let reg = plic.reg()?.next()?;
        Some(Found {
            phys: reg.starting_address as u64,
            size: reg.size.unwrap_or(0x400_0000) as u64,
            context: context(fdt, &plic, hart)?,
        })
    }

    fn context(fdt: &Fdt<'_>, plic: &FdtNode<'_, '_>, hart: usize) -> Option<usize> {
        let cells = plic.property("interrupts-extended")?.value;
        let cpu = fdt
            .find_node("/cpus")?
            .children()
            .filter(|n| n.property("device_type").and_then(|p| p.as_str()) == Some("cpu"))
            .find(|n| n.property("reg").and_then(|p| p.as_usize()) == Some(hart))?;
        let intc = cpu.children().find(|c| {
            c.compatible()
                .is_some_and(|c| c.all().any(|s| s == "riscv,cpu-intc"))
                || c.name.starts_with("interrupt-controller")
        })?;
        let phandle = intc
            .property("phandle")
            .or_else(|| intc.property("linux,phandle"))?
            .as_usize()?;
        // cpu-intc nodes have #interrupt-cells = 1: (phandle, cause) pairs.
        cells.chunks_exact(8).position(|pair| {
            let ph = u32::from_be_bytes([pair[0], pair[1], pair[2], pair[3]]) as usize;
            let cause = u32::from_be_bytes([pair[4], pair[5], pair[6], pair[7]]);
            ph == phandle && cause == SUPERVISOR_EXTERNAL
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn contexts(name: &str, harts: &[usize]) -> Vec<Option<usize>> {
            let path = format!(
                "{}/../../../configs/boards/devicetrees/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let fdt = Fdt::new(&blob).unwrap();
            harts
                .iter()
                .map(|&h| find(&fdt, h).map(|f| f.context))
                .collect()
        }

        #[test]
        fn qemu_virt_gives_each_hart_m_then_s() {
            assert_eq!(
                contexts("qemu-virt-smp4.dtb", &[0, 1, 3]),
                [Some(1), Some(3), Some(7)]
            );
        }

        #[test]
        fn sifive_monitor_harts_have_no_s_mode_context_and_shift_the_rest() {
            // FU540 (QEMU sifive_u) and FU740: hart 0 has an M-mode context only.
            assert_eq!(
                contexts("qemu-sifive-u-smp3.dtb", &[0, 1, 2]),
                [None, Some(2), Some(4)]
            );
            // Mainline lists M-mode contexts as -1.
            assert_eq!(
                contexts("hifive-unmatched.dtb", &[0, 1, 4]),
                [None, Some(2), Some(8)]
            );
            assert_eq!(contexts("visionfive2.dtb", &[1, 2]), [Some(2), Some(4)]);
        }

        #[test]
        fn t_head_c900_plic_is_found_near_1_tib() {
            let path = format!(
                "{}/../../../configs/boards/devicetrees/lichee-pi-4a.dtb",
                env!("CARGO_MANIFEST_DIR")
            );
            let blob = std::fs::read(path).unwrap();
            let fdt = Fdt::new(&blob).unwrap();
            assert_eq!(
                find(&fdt, 3),
                Some(Found {
                    phys: 0xff_d800_0000,
                    size: 0x100_0000,
                    context: 7
                })
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_offsets_are_the_plic_specifications() {
        assert_eq!(priority(10), 0x28);
        assert_eq!(enable_word(1, 10), 0x2080);
        assert_eq!(enable_word(2, 33), 0x2104);
        assert_eq!(threshold(1), 0x20_1000);
        assert_eq!(claim(1), 0x20_1004);
        assert_eq!(span(7), 0x20_7008);
    }
}
