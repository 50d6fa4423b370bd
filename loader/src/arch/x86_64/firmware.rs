//! Turning what UEFI reports into the loader's terms: memory types into
//! [`MemoryKind`]s, the memory map into a [`MemoryMap`], load options into a
//! command line. Pure functions, so the host tests cover them.

use crate::LoaderError;
use crate::memory_map::MemoryMap;
use crate::platform::Range;
use boot_info::MemoryKind;
use boot_info::layout::{PAGE_SIZE, PHYS_MAP_SIZE};

/// OS-loader memory types (UEFI reserves 0x8000_0000.. for OS loaders) that
/// tag what the loader allocated, so the final memory map names it.
/// Frames for the kernel image, page tables, stacks and the BootInfo; what
/// the loader did not hand out of it is free.
pub const ATOLL_FRAMES: u32 = 0x8000_a700;
pub const ATOLL_KERNEL_ELF: u32 = 0x8000_a701;
pub const ATOLL_INITRD: u32 = 0x8000_a702;

// UEFI memory types (UEFI spec, EFI_MEMORY_TYPE).
const LOADER_CODE: u32 = 1;
const LOADER_DATA: u32 = 2;
const BOOT_SERVICES_CODE: u32 = 3;
const BOOT_SERVICES_DATA: u32 = 4;
const CONVENTIONAL: u32 = 7;
const ACPI_RECLAIM: u32 = 9;
const MMIO: u32 = 11;
const MMIO_PORT_SPACE: u32 = 12;

/// Who owns memory of UEFI type `ty` once boot services are gone.
pub fn kind_of(ty: u32) -> MemoryKind {
    match ty {
        CONVENTIONAL | BOOT_SERVICES_CODE | BOOT_SERVICES_DATA | ATOLL_FRAMES => MemoryKind::Usable,
        // The loader image, its stack and pool data: free once every CPU is in the kernel.
        LOADER_CODE | LOADER_DATA => MemoryKind::Loader,
        ACPI_RECLAIM => MemoryKind::AcpiReclaimable,
        ATOLL_KERNEL_ELF => MemoryKind::KernelElf,
        ATOLL_INITRD => MemoryKind::Initrd,
        // Runtime services, ACPI NVS, MMIO, unusable, persistent and
        // unaccepted memory, other OS types: never touch.
        _ => MemoryKind::Reserved,
    }
}

/// One UEFI memory descriptor: type, physical start, number of 4 KiB pages.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    pub ty: u32,
    pub start: u64,
    pub pages: u64,
}

impl Descriptor {
    fn range(&self) -> Range {
        let len = self.pages.saturating_mul(PAGE_SIZE);
        Range::new(self.start, self.start.saturating_add(len))
    }
}

/// The firmware's memory map as [`MemoryMap`] input: every described range
/// appears (as `Usable` plus its owner), undescribed holes do not. Runs of
/// adjacent descriptors are merged first, so a long UEFI map fits.
/// `descs` must be sorted by address.
pub fn firmware_map(descs: impl Iterator<Item = Descriptor>) -> Result<MemoryMap, LoaderError> {
    let mut map = MemoryMap::new();
    // The current run of one kind, and the current span of contiguous descriptors.
    let mut run: Option<(Range, MemoryKind)> = None;
    let mut span: Option<Range> = None;
    for d in descs {
        let r = d.range();
        if r.is_empty() {
            continue;
        }
        let kind = kind_of(d.ty);
        match &mut run {
            Some((cur, k)) if *k == kind && cur.end == r.start => cur.end = r.end,
            _ => {
                if let Some((cur, k)) = run.replace((r, kind))
                    && k != MemoryKind::Usable
                {
                    map.add(cur, k)?;
                }
            }
        }
        match &mut span {
            Some(cur) if cur.end == r.start => cur.end = r.end,
            _ => {
                if let Some(cur) = span.replace(r) {
                    map.add(cur, MemoryKind::Usable)?;
                }
            }
        }
    }
    if let Some((cur, k)) = run
        && k != MemoryKind::Usable
    {
        map.add(cur, k)?;
    }
    if let Some(cur) = span {
        map.add(cur, MemoryKind::Usable)?;
    }
    Ok(map)
}

/// How far the phys map must reach: every described range (MMIO beyond the
/// phys map's reach excepted: the kernel maps that itself), and at least
/// 4 GiB, where the local APIC, I/O APIC and HPET live.
pub fn phys_map_end(descs: impl Iterator<Item = Descriptor>) -> u64 {
    descs
        .map(|d| (d.ty, d.range().end))
        .filter(|&(ty, end)| !(matches!(ty, MMIO | MMIO_PORT_SPACE) && end > PHYS_MAP_SIZE))
        .map(|(_, end)| end)
        .fold(4 << 30, u64::max)
}

/// Decodes UEFI load options (UCS-2) into `out`: the command line. `None`
/// unless they are printable ASCII, because boot managers also pass binary
/// data (EDK2 a GUID) that would otherwise decode to plausible characters.
/// A leading `*.efi` image path, as shells pass it, is dropped.
pub fn load_options_cmdline<'a>(options: &[u8], out: &'a mut [u8]) -> Option<&'a str> {
    if !options.len().is_multiple_of(2) {
        return None;
    }
    let units = options
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0);
    let mut len = 0;
    for u in units {
        let b = u8::try_from(u).ok().filter(|b| (0x20..0x7f).contains(b))?;
        *out.get_mut(len)? = b;
        len += 1;
    }
    let text = core::str::from_utf8(&out[..len]).ok()?.trim();
    let text = match text.split_once(' ') {
        Some((first, rest)) if is_efi_path(first) => rest.trim(),
        None if is_efi_path(text) => "",
        _ => text,
    };
    (!text.is_empty()).then_some(text)
}

fn is_efi_path(word: &str) -> bool {
    let w = word.as_bytes();
    w.len() > 4 && w[w.len() - 4..].eq_ignore_ascii_case(b".efi")
}

#[cfg(test)]
mod tests {
    use super::*;
    use boot_info::BootInfo;

    fn d(ty: u32, start: u64, pages: u64) -> Descriptor {
        Descriptor { ty, start, pages }
    }

    #[test]
    fn uefi_map_becomes_owned_regions_without_holes() {
        let descs = [
            d(BOOT_SERVICES_CODE, 0, 1),
            d(CONVENTIONAL, 0x1000, 0x9e),
            // hole 0x9f000..0x100000
            d(CONVENTIONAL, 0x10_0000, 0x100),
            d(BOOT_SERVICES_DATA, 0x20_0000, 0x10),
            d(LOADER_CODE, 0x21_0000, 0x20),
            d(LOADER_DATA, 0x23_0000, 0x10),
            d(ATOLL_FRAMES, 0x24_0000, 0x100),
            d(ATOLL_KERNEL_ELF, 0x34_0000, 0x40),
            d(ACPI_RECLAIM, 0x38_0000, 0x10),
            d(10, 0x39_0000, 0x10), // ACPI NVS
            d(6, 0x3a_0000, 0x10),  // runtime data
            d(CONVENTIONAL, 0x3b_0000, 0x50),
            d(MMIO, 0xffc0_0000, 0x400),
        ];
        let map = firmware_map(descs.into_iter()).unwrap();
        let mut bi = BootInfo::new();
        map.write_to(&mut bi).unwrap();
        let got: Vec<_> = bi
            .memory_regions()
            .iter()
            .map(|r| (r.start, r.end(), r.kind))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0x9f000, MemoryKind::Usable),
                (0x10_0000, 0x21_0000, MemoryKind::Usable),
                (0x21_0000, 0x24_0000, MemoryKind::Loader),
                (0x24_0000, 0x34_0000, MemoryKind::Usable),
                (0x34_0000, 0x38_0000, MemoryKind::KernelElf),
                (0x38_0000, 0x39_0000, MemoryKind::AcpiReclaimable),
                (0x39_0000, 0x3b_0000, MemoryKind::Reserved),
                (0x3b_0000, 0x400_000, MemoryKind::Usable),
                (0xffc0_0000, 0x1_0000_0000, MemoryKind::Reserved),
            ]
        );
    }

    #[test]
    fn phys_map_reaches_4g_and_all_ram_but_not_far_mmio() {
        assert_eq!(
            phys_map_end([d(CONVENTIONAL, 0, 0x100)].into_iter()),
            4 << 30
        );
        let descs = [
            d(CONVENTIONAL, 0, 0x100),
            d(CONVENTIONAL, 0x1_0000_0000, 0x8_0000),
            d(MMIO, 0x80_0000_0000, 0x10),
        ];
        assert_eq!(phys_map_end(descs.into_iter()), 0x1_8000_0000);
    }

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_le_bytes())
            .collect()
    }

    #[test]
    fn load_options_are_text_or_nothing() {
        let mut buf = [0u8; 64];
        assert_eq!(
            load_options_cmdline(&ucs2("nokaslr log=debug"), &mut buf),
            Some("nokaslr log=debug")
        );
        assert_eq!(
            load_options_cmdline(&ucs2("\\EFI\\BOOT\\BOOTX64.EFI  nokaslr "), &mut buf),
            Some("nokaslr")
        );
        assert_eq!(load_options_cmdline(&ucs2("bootx64.efi"), &mut buf), None);
        assert_eq!(load_options_cmdline(&ucs2("  "), &mut buf), None);
        // Binary optional data, as boot managers pass it (a GUID).
        let guid = [
            0x4e, 0x0a, 0xc4, 0x6e, 0x01, 0x02, 0x8d, 0x11, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(load_options_cmdline(&guid, &mut buf), None);
        assert_eq!(load_options_cmdline(&[0x41], &mut buf), None);
        assert_eq!(load_options_cmdline(&ucs2("é nokaslr"), &mut buf), None);
        assert_eq!(load_options_cmdline(&ucs2("a\tb"), &mut buf), None);
        assert_eq!(
            load_options_cmdline(&ucs2(&"x".repeat(65)), &mut buf),
            None,
            "too long"
        );
        assert_eq!(
            load_options_cmdline(&ucs2(&"x".repeat(64)), &mut buf).map(str::len),
            Some(64)
        );
    }
}
