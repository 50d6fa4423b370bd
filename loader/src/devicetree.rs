//! Reads the machine description from a flattened device tree.

use crate::LoaderError;
use crate::platform::{Platform, Range};
use boot_info::MAX_HARTS;

/// Size of the blob at `ptr` from its header, if it carries the FDT magic.
///
/// # Safety
/// `ptr` must be readable for 8 bytes.
pub unsafe fn blob_size(ptr: *const u8) -> Option<usize> {
    // SAFETY: the caller guarantees 8 readable bytes.
    let header = unsafe { core::ptr::read_unaligned(ptr.cast::<[u8; 8]>()) };
    let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    (magic == 0xd00d_feed && size >= 40).then_some(size as usize)
}

fn reg_ranges(
    node: fdt::node::FdtNode<'_, '_>,
    mut f: impl FnMut(Range) -> Result<(), LoaderError>,
) -> Result<(), LoaderError> {
    if let Some(regs) = node.reg() {
        for r in regs {
            let start = r.starting_address as u64;
            let size = r.size.unwrap_or(0) as u64;
            f(Range::new(start, start.saturating_add(size)))?;
        }
    }
    Ok(())
}

/// Whether a cpu node is a hart atoll can run on: enabled (`status` absent,
/// `okay` or `ok`) with an MMU (`mmu-type` other than `riscv,none`). Monitor
/// cores such as the E51/S7 hart 0 of SiFive's FU540/FU740 and StarFive's
/// JH7110 have neither S-mode nor an MMU: their nodes lack `mmu-type` or are
/// disabled, and they are never started.
fn hart_runs_an_os(cpu: fdt::node::FdtNode<'_, '_>) -> bool {
    let okay = cpu
        .property("status")
        .and_then(|p| p.as_str())
        .is_none_or(|s| s == "okay" || s == "ok");
    let mmu = cpu
        .property("mmu-type")
        .and_then(|p| p.as_str())
        .is_some_and(|m| m != "riscv,none");
    okay && mmu
}

/// Parses `/memory`, `/reserved-memory`, memreserve entries, `/cpus` and `/chosen`.
pub fn parse(blob: &[u8]) -> Result<Platform<'_>, LoaderError> {
    let tree = fdt::Fdt::new(blob).map_err(|_| LoaderError::Fdt("bad header"))?;
    let mut p = Platform {
        fdt: Some(blob),
        ..Platform::default()
    };

    for node in tree.all_nodes() {
        let is_memory = node.name == "memory" || node.name.starts_with("memory@");
        let device_type = node.property("device_type").and_then(|p| p.as_str());
        if is_memory && device_type.is_none_or(|t| t == "memory") {
            reg_ranges(node, |r| p.ram.push(r))?;
        }
    }
    if p.ram.as_slice().is_empty() {
        return Err(LoaderError::Fdt("no /memory node"));
    }
    p.ram.sort();

    for r in tree.memory_reservations() {
        let start = r.address() as u64;
        p.reserved
            .push(Range::new(start, start.saturating_add(r.size() as u64)))?;
    }
    if let Some(resv) = tree.find_node("/reserved-memory") {
        for child in resv.children() {
            reg_ranges(child, |r| p.reserved.push(r))?;
        }
    }
    p.reserved.sort();

    if let Some(cpus) = tree.find_node("/cpus") {
        let hz = cpus
            .property("timebase-frequency")
            .and_then(|p| p.as_usize());
        p.timer_hz = hz.unwrap_or(0) as u64;
        for cpu in cpus.children() {
            let is_cpu = cpu.property("device_type").and_then(|p| p.as_str()) == Some("cpu");
            let Some(id) = cpu.property("reg").and_then(|p| p.as_usize()) else {
                continue;
            };
            if !is_cpu {
                continue;
            }
            if !hart_runs_an_os(cpu) {
                if id < MAX_HARTS {
                    p.skipped_harts |= 1 << id;
                }
                continue;
            }
            if id < MAX_HARTS {
                p.harts |= 1 << id;
            }
            if p.timer_hz == 0 {
                let hz = cpu
                    .property("timebase-frequency")
                    .and_then(|p| p.as_usize());
                p.timer_hz = hz.unwrap_or(0) as u64;
            }
        }
    }

    if let Some(chosen) = tree.find_node("/chosen") {
        p.cmdline = chosen
            .property("bootargs")
            .and_then(|p| p.as_str())
            .unwrap_or("");
        p.rng_seed = chosen
            .property("rng-seed")
            .map(|p| p.value)
            .filter(|v| !v.is_empty());
        let start = chosen
            .property("linux,initrd-start")
            .and_then(|p| p.as_usize());
        let end = chosen
            .property("linux,initrd-end")
            .and_then(|p| p.as_usize());
        if let (Some(start), Some(end)) = (start, end) {
            let r = Range::new(start as u64, end as u64);
            if r.is_empty() {
                return Err(LoaderError::Fdt("initrd end is before its start"));
            }
            p.initrd = Some(r);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dumped by `qemu-system-riscv64 -machine virt,dumpdtb=... -smp 4 -m 512M
    /// -append "log=debug nokaslr" -initrd <5000 bytes>`.
    static QEMU_VIRT: &[u8] = include_bytes!("../../configs/boards/devicetrees/qemu-virt-smp4.dtb");
    /// QEMU's FU540 model: hart 0 is an E51 without MMU.
    static SIFIVE_U: &[u8] =
        include_bytes!("../../configs/boards/devicetrees/qemu-sifive-u-smp3.dtb");
    static VISIONFIVE2: &[u8] = include_bytes!("../../configs/boards/devicetrees/visionfive2.dtb");
    static HIFIVE_UNMATCHED: &[u8] =
        include_bytes!("../../configs/boards/devicetrees/hifive-unmatched.dtb");
    static LICHEE_PI_4A: &[u8] =
        include_bytes!("../../configs/boards/devicetrees/lichee-pi-4a.dtb");

    #[test]
    fn reads_qemu_virt() {
        // SAFETY: the blob is longer than 8 bytes.
        let size = unsafe { blob_size(QEMU_VIRT.as_ptr()) };
        assert_eq!(size, Some(QEMU_VIRT.len()));
        let p = parse(QEMU_VIRT).unwrap();
        assert_eq!(p.ram.as_slice(), [Range::new(0x8000_0000, 0xa000_0000)]);
        assert_eq!(p.harts, 0b1111);
        assert_eq!(p.timer_hz, 10_000_000);
        assert_eq!(p.cmdline, "log=debug nokaslr");
        let initrd = p.initrd.unwrap();
        assert_eq!(initrd.len(), 5000);
        assert!(initrd.start >= 0x8000_0000 && initrd.end <= 0xa000_0000);
        assert!(p.rng_seed.is_some_and(|s| s.len() >= 32));
        assert_eq!(p.fdt.map(|b| b.len()), Some(QEMU_VIRT.len()));
    }

    #[test]
    fn monitor_harts_without_an_mmu_are_never_started() {
        // QEMU sifive_u: cpu@0 (E51) is "okay" but has no mmu-type.
        let p = parse(SIFIVE_U).unwrap();
        assert_eq!((p.harts, p.skipped_harts), (0b110, 0b001));
        assert_eq!(p.timer_hz, 1_000_000);
        // FU740 and JH7110: the S7 monitor core is disabled and has no MMU.
        for blob in [VISIONFIVE2, HIFIVE_UNMATCHED] {
            let p = parse(blob).unwrap();
            assert_eq!((p.harts, p.skipped_harts), (0b11110, 0b00001));
        }
        let p = parse(LICHEE_PI_4A).unwrap();
        assert_eq!((p.harts, p.skipped_harts), (0b1111, 0));
    }

    #[test]
    fn ram_at_other_bases_and_initrd_from_u_boot() {
        let p = parse(VISIONFIVE2).unwrap();
        assert_eq!(p.ram.as_slice(), [Range::new(0x4000_0000, 0x1_4000_0000)]);
        assert_eq!(
            p.reserved.as_slice(),
            [Range::new(0x4000_0000, 0x4008_0000)]
        );
        assert_eq!(p.initrd, Some(Range::new(0x4610_0000, 0x4620_0000)));
        assert_eq!((p.cmdline, p.timer_hz), ("log=info", 4_000_000));
        let p = parse(LICHEE_PI_4A).unwrap();
        assert_eq!(p.ram.as_slice(), [Range::new(0, 0x2_0000_0000)]);
    }

    #[test]
    fn rejects_garbage() {
        let junk = [0u8; 64];
        // SAFETY: 64 readable bytes.
        assert_eq!(unsafe { blob_size(junk.as_ptr()) }, None);
        assert!(parse(&junk).is_err());
        assert!(parse(&QEMU_VIRT[..40]).is_err());
    }
}
