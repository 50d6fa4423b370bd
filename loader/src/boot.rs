//! The arch-neutral half of booting: load the kernel, build its page tables
//! and fill the [`BootInfo`]. The arch code gathers the [`BootInput`] and
//! performs the returned [`Handoff`].

use crate::LoaderError;
use crate::frames::{Allocation, Frames, MAX_ALLOCATIONS, TableFrames};
use crate::memory_map::MemoryMap;
use crate::platform::{Platform, Range, RangeList};
use crate::rng::Mixer;
use boot_info::layout::{
    KERNEL_ALIGN, KERNEL_WINDOW_BASE, KERNEL_WINDOW_SIZE, PAGE_SIZE, PHYS_MAP_BASE, PHYS_MAP_SIZE,
    STACKS_BASE,
};
use boot_info::{BootInfo, MAX_HARTS, MemoryKind, PagingMode, PhysRange};
use kernel_elf::{ContiguousImage, KernelElf, Machine};
use page_table::{
    Flags, Identity, PageSize, PageTable, PteFormat, Sv39, Sv39XTheadMae, Sv48, X86Level4,
};

/// Each boot hart stack; an unmapped guard page sits below it.
pub const STACK_SIZE: u64 = 1 << 20;
/// Distance between consecutive harts' stacks in [`STACKS_BASE`].
pub const STACK_STRIDE: u64 = STACK_SIZE + PAGE_SIZE;

/// Everything the arch code found out before loading.
pub struct BootInput<'a> {
    pub platform: Platform<'a>,
    pub boot_hart: u32,
    /// Harts that will enter the kernel, the boot hart included.
    pub harts: u64,
    pub boot_ticks: u64,
    /// Arch-gathered entropy (timer jitter, ...); the FDT seed is added here.
    pub entropy: Mixer,
    /// The loader's own image (identity-mapped until the kernel drops it).
    pub loader_image: Range,
    /// The embedded kernel ELF (page-aligned, inside the loader image).
    pub kernel_elf: &'a [u8],
    pub machine: Machine,
    pub paging: PagingMode,
}

/// What the arch code needs to enter the kernel.
#[derive(Debug)]
pub struct Handoff {
    pub page_table_root: u64,
    pub paging: PagingMode,
    /// Kernel entry, virtual.
    pub entry: u64,
    pub slide: u64,
    pub virt_base: u64,
    /// Physical address of the filled BootInfo (for the loader's own use).
    pub boot_info_phys: u64,
    /// Its address in the phys map: what the kernel gets.
    pub boot_info_virt: u64,
    pub hart_mask: u64,
    pub stack_top: [u64; MAX_HARTS],
    // Only loaders whose firmware map changes after `prepare` (UEFI) read these.
    #[cfg_attr(not(any(test, target_os = "uefi")), allow(dead_code))]
    allocations: [Allocation; MAX_ALLOCATIONS],
    #[cfg_attr(not(any(test, target_os = "uefi")), allow(dead_code))]
    allocation_count: usize,
}

impl Handoff {
    /// What the loader allocated for the kernel (page tables, stacks, ...).
    #[cfg_attr(not(any(test, target_os = "uefi")), allow(dead_code))]
    pub fn allocations(&self) -> &[Allocation] {
        &self.allocations[..self.allocation_count]
    }
}

fn stack_bottom(hart: usize) -> u64 {
    STACKS_BASE + hart as u64 * STACK_STRIDE + PAGE_SIZE
}

/// A slide that puts the image inside the kernel window, a multiple of
/// [`KERNEL_ALIGN`]; the lowest one with `nokaslr`.
pub fn choose_slide(rng: &mut Mixer, lo: u64, hi: u64, nokaslr: bool) -> Result<u64, LoaderError> {
    let lo_aligned = lo / KERNEL_ALIGN * KERNEL_ALIGN;
    let span = (hi - lo_aligned).next_multiple_of(KERNEL_ALIGN);
    if span > KERNEL_WINDOW_SIZE {
        return Err(LoaderError::KernelTooLarge(hi - lo));
    }
    let slots = (KERNEL_WINDOW_SIZE - span) / KERNEL_ALIGN + 1;
    let k = if nokaslr { 0 } else { rng.squeeze() % slots };
    Ok((KERNEL_WINDOW_BASE + k * KERNEL_ALIGN).wrapping_sub(lo_aligned))
}

struct Layout<'e> {
    elf: &'e KernelElf<'e>,
    /// RAM, sorted: normal memory in the phys map (the rest is device memory).
    ram: &'e RangeList,
    kernel_phys: u64,
    lo: u64,
    slide: u64,
    phys_end: u64,
    stacks: &'e [u64; MAX_HARTS],
    harts: u64,
    loader_image: Range,
}

fn build_tables<F: PteFormat>(frames: &mut Frames, l: &Layout) -> Result<u64, LoaderError> {
    let mut alloc = TableFrames(frames);
    let mut pt = PageTable::<F, Identity>::new(Identity, &mut alloc)?;
    let global = Flags::GLOBAL;
    // All physical memory, MMIO included, readable and writable, never
    // executable. Where entries carry memory types, RAM is normal memory and
    // everything between and around it device memory.
    let phys_map = Flags::RW | global;
    if F::MEMORY_TYPES {
        let mut at = 0;
        for r in l.ram.iter().map(|r| r.pages_around()) {
            let start = r.start.max(at).min(l.phys_end);
            let end = r.end.min(l.phys_end);
            if start > at {
                let device = phys_map | Flags::DEVICE;
                pt.map(
                    PHYS_MAP_BASE + at,
                    at,
                    start - at,
                    device,
                    PageSize::Size1G,
                    &mut alloc,
                )?;
            }
            if end > start {
                pt.map(
                    PHYS_MAP_BASE + start,
                    start,
                    end - start,
                    phys_map,
                    PageSize::Size1G,
                    &mut alloc,
                )?;
            }
            at = at.max(end);
        }
        if at < l.phys_end {
            let device = phys_map | Flags::DEVICE;
            pt.map(
                PHYS_MAP_BASE + at,
                at,
                l.phys_end - at,
                device,
                PageSize::Size1G,
                &mut alloc,
            )?;
        }
    } else {
        pt.map(
            PHYS_MAP_BASE,
            0,
            l.phys_end,
            phys_map,
            PageSize::Size1G,
            &mut alloc,
        )?;
    }
    for seg in l.elf.segments() {
        let flags = match (seg.flags.write, seg.flags.exec) {
            (true, true) => return Err(LoaderError::WritableExec(seg.vaddr)),
            (true, false) => Flags::RW,
            (false, true) => Flags::RX,
            (false, false) => Flags::READ,
        };
        let (start, end) = (seg.page_start(), seg.page_end());
        let phys = l.kernel_phys + (start - l.lo);
        pt.map(
            start.wrapping_add(l.slide),
            phys,
            end - start,
            flags | global,
            PageSize::Size2M,
            &mut alloc,
        )?;
    }
    for hart in (0..MAX_HARTS).filter(|h| l.harts & (1 << h) != 0) {
        pt.map(
            stack_bottom(hart),
            l.stacks[hart],
            STACK_SIZE,
            Flags::RW | global,
            PageSize::Size2M,
            &mut alloc,
        )?;
    }
    // Keeps the loader running once paging is on; the kernel unmaps the lower half.
    let img = l.loader_image;
    pt.map(
        img.start,
        img.start,
        img.len(),
        Flags::RW | Flags::EXEC,
        PageSize::Size2M,
        &mut alloc,
    )?;
    Ok(pt.root())
}

/// Turns `phys` into a mutable byte slice.
///
/// # Safety
/// `phys..phys + len` must be identity-accessible RAM that nothing else uses.
unsafe fn phys_bytes<'a>(phys: u64, len: u64) -> &'a mut [u8] {
    // SAFETY: the caller guarantees the range is ours and accessible.
    unsafe { core::slice::from_raw_parts_mut(phys as *mut u8, len as usize) }
}

/// Loads the kernel, builds its address space and fills the BootInfo.
pub fn prepare(input: BootInput<'_>) -> Result<Handoff, LoaderError> {
    let p = &input.platform;
    let nokaslr = p
        .cmdline
        .split_ascii_whitespace()
        .any(|arg| arg == "nokaslr");

    let mut avoid = p.reserved;
    avoid.push(input.loader_image)?;
    if let Some(blob) = p.fdt {
        let start = blob.as_ptr() as u64;
        avoid.push(Range::new(start, start + blob.len() as u64).pages_around())?;
    }
    if let Some(initrd) = p.initrd {
        avoid.push(initrd.pages_around())?;
    }
    let mut frames = Frames::new(&p.ram, &avoid);

    let mut rng = input.entropy.clone();
    if let Some(seed) = p.rng_seed {
        rng.absorb_bytes(seed);
    }
    let mut kaslr_rng = rng.clone();
    kaslr_rng.absorb(u64::from_le_bytes(*b"kaslr\0\0\0"));
    let mut seed_rng = rng;
    seed_rng.absorb(u64::from_le_bytes(*b"seed\0\0\0\0"));

    // The kernel image, relocated for its slide.
    let elf = KernelElf::parse(input.kernel_elf, input.machine)?;
    if input.machine == Machine::Riscv64 && !elf.entry().is_multiple_of(4) {
        return Err(LoaderError::Unsupported(
            "kernel entry is not 4-byte aligned",
        ));
    }
    let (lo, hi) = elf.image_bounds();
    let kernel_phys = frames.alloc(hi - lo, PAGE_SIZE, MemoryKind::Kernel)?;
    let slide = choose_slide(&mut kaslr_rng, lo, hi, nokaslr)?;
    // SAFETY: freshly allocated RAM, identity-accessible while the loader runs.
    let memory = unsafe { phys_bytes(kernel_phys, hi - lo) };
    elf.load(slide, &mut ContiguousImage { base: lo, memory })?;

    // The device tree, copied out of memory the kernel may reuse.
    let mut fdt = PhysRange::EMPTY;
    if let Some(blob) = p.fdt {
        let len = blob.len() as u64;
        let at = frames.alloc(len, PAGE_SIZE, MemoryKind::Fdt)?;
        // SAFETY: freshly allocated, disjoint from the original (which is avoided).
        let copy = unsafe { phys_bytes(at, len) };
        copy.copy_from_slice(blob);
        // The seed now lives in BootInfo.rng_seed only: don't leave a second copy around.
        if let Some(seed) = p.rng_seed {
            let off = seed.as_ptr() as usize - blob.as_ptr() as usize;
            copy[off..off + seed.len()].fill(0);
        }
        fdt = PhysRange { start: at, len };
    }

    let mut stacks = [0u64; MAX_HARTS];
    for hart in (0..MAX_HARTS).filter(|h| input.harts & (1 << h) != 0) {
        stacks[hart] = frames.alloc(STACK_SIZE, PAGE_SIZE, MemoryKind::Stacks)?;
    }

    let bi_phys = frames.alloc(
        size_of::<BootInfo>() as u64,
        PAGE_SIZE,
        MemoryKind::BootInfo,
    )?;
    let bi_ptr = bi_phys as *mut BootInfo;
    // SAFETY: freshly allocated, page-aligned RAM big enough for a BootInfo.
    let bi = unsafe {
        bi_ptr.write(BootInfo::new());
        &mut *bi_ptr
    };

    let ram_end = p
        .ram
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(0)
        .next_multiple_of(PAGE_SIZE);
    let phys_end = ram_end.max(p.phys_map_end.next_multiple_of(PAGE_SIZE));
    if phys_end > PHYS_MAP_SIZE {
        return Err(LoaderError::RamTooLarge(phys_end));
    }
    let layout = Layout {
        elf: &elf,
        ram: &p.ram,
        kernel_phys,
        lo,
        slide,
        phys_end,
        stacks: &stacks,
        harts: input.harts,
        loader_image: input.loader_image,
    };
    let root = match input.paging {
        PagingMode::Sv39 => build_tables::<Sv39>(&mut frames, &layout)?,
        PagingMode::Sv48 => build_tables::<Sv48>(&mut frames, &layout)?,
        PagingMode::Sv39XTheadMae => build_tables::<Sv39XTheadMae>(&mut frames, &layout)?,
        PagingMode::X86Level4 => build_tables::<X86Level4>(&mut frames, &layout)?,
        PagingMode::Sv57 => return Err(LoaderError::Unsupported("Sv57 paging")),
    };

    bi.phys_offset = PHYS_MAP_BASE;
    bi.phys_map_size = phys_end;
    bi.page_table_root = root;
    bi.paging = input.paging;
    bi.boot_hart = input.boot_hart;
    bi.hart_mask = input.harts;
    let mut stack_top = [0u64; MAX_HARTS];
    for hart in (0..MAX_HARTS).filter(|h| input.harts & (1 << h) != 0) {
        stack_top[hart] = stack_bottom(hart) + STACK_SIZE;
    }
    bi.hart_stack_top = stack_top;
    bi.hart_stack_size = STACK_SIZE;
    let elf_start = input.kernel_elf.as_ptr() as u64;
    bi.kernel = boot_info::KernelImage {
        elf: PhysRange {
            start: elf_start,
            len: input.kernel_elf.len() as u64,
        },
        phys_base: kernel_phys,
        virt_base: lo.wrapping_add(slide),
        size: hi - lo,
        slide,
    };
    bi.fdt = fdt;
    if let Some(r) = p.initrd {
        bi.initrd = PhysRange {
            start: r.start,
            len: r.len(),
        };
    }
    bi.boot_ticks = input.boot_ticks;
    bi.timer_hz = p.timer_hz;
    seed_rng.fill(&mut bi.rng_seed);
    bi.set_cmdline(p.cmdline);

    // The memory map goes last: nothing is allocated after it.
    let mut map = MemoryMap::new();
    for r in p.ram.iter() {
        map.add(r.pages_inside(), MemoryKind::Usable)?;
    }
    for r in p.reserved.iter() {
        map.add(r.pages_around(), MemoryKind::Reserved)?;
    }
    map.add(input.loader_image, MemoryKind::Loader)?;
    add_handovers(&mut map, bi, frames.allocations())?;
    map.write_to(bi)?;

    let mut allocations = [Allocation {
        range: Range::new(0, 0),
        kind: MemoryKind::Reserved,
    }; MAX_ALLOCATIONS];
    let allocation_count = frames.allocations().len();
    allocations[..allocation_count].copy_from_slice(frames.allocations());

    Ok(Handoff {
        page_table_root: root,
        paging: input.paging,
        entry: elf.entry().wrapping_add(slide),
        slide,
        virt_base: lo.wrapping_add(slide),
        boot_info_phys: bi_phys,
        boot_info_virt: PHYS_MAP_BASE + bi_phys,
        hart_mask: input.harts,
        stack_top,
        allocations,
        allocation_count,
    })
}

/// Adds what the loader hands over to the kernel (the kernel ELF, the
/// initrd, every allocation) to `map`.
fn add_handovers(
    map: &mut MemoryMap,
    bi: &BootInfo,
    allocations: &[Allocation],
) -> Result<(), LoaderError> {
    let elf = bi.kernel.elf;
    map.add(
        Range::new(elf.start, elf.end()).pages_around(),
        MemoryKind::KernelElf,
    )?;
    if !bi.initrd.is_empty() {
        let r = bi.initrd;
        map.add(
            Range::new(r.start, r.end()).pages_around(),
            MemoryKind::Initrd,
        )?;
    }
    for a in allocations {
        map.add(a.range, a.kind)?;
    }
    Ok(())
}

/// Replaces the BootInfo memory map of `h` with `firmware` (the machine's
/// memory as the firmware finally described it, e.g. after UEFI's
/// ExitBootServices) plus the loader's hand-overs.
#[cfg_attr(not(any(test, target_os = "uefi")), allow(dead_code))]
pub fn rewrite_memory_map(h: &Handoff, mut firmware: MemoryMap) -> Result<(), LoaderError> {
    let bi_ptr = h.boot_info_phys as *mut BootInfo;
    // SAFETY: `prepare` wrote a BootInfo there, in loader-owned identity-mapped
    // memory, and nothing else references it until the kernel runs.
    let bi = unsafe { &mut *bi_ptr };
    add_handovers(&mut firmware, bi, h.allocations())?;
    firmware.write_to(bi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slides_stay_in_the_window_and_nokaslr_is_the_base() {
        let mut rng = Mixer::new(7);
        assert_eq!(
            choose_slide(&mut rng, 0, 0x30_0000, true).unwrap(),
            KERNEL_WINDOW_BASE
        );
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..200 {
            rng.absorb(i);
            let s = choose_slide(&mut rng, 0, 0x30_0000, false).unwrap();
            assert_eq!(s % KERNEL_ALIGN, 0);
            assert!(
                s >= KERNEL_WINDOW_BASE && s + 0x40_0000 <= KERNEL_WINDOW_BASE + KERNEL_WINDOW_SIZE
            );
            seen.insert(s);
        }
        assert!(seen.len() > 150, "slides repeat too often: {}", seen.len());
        assert!(choose_slide(&mut rng, 0, KERNEL_WINDOW_SIZE + 1, false).is_err());
    }

    use boot_info::MemoryRegion;

    /// Fake RAM at a fixed low address, so "physical" addresses are real pointers.
    const RAM: u64 = 0x2000_0000;
    const RAM_SIZE: u64 = 48 << 20;

    fn fake_ram() -> &'static mut [u8] {
        // SAFETY: a fresh private mapping at an address nothing else uses in
        // this test process (MAP_FIXED_NOREPLACE fails rather than clobber).
        unsafe {
            let p = libc::mmap(
                RAM as *mut _,
                RAM_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            );
            assert_eq!(p as u64, RAM, "could not map the fake RAM");
            core::slice::from_raw_parts_mut(p.cast(), RAM_SIZE as usize)
        }
    }

    /// A minimal PIE for `machine`: one RX segment of 0x1800 bytes at 0, entry 0x40.
    fn tiny_kernel(machine: Machine) -> Vec<u8> {
        let mut f = vec![0u8; 0x1000 + 0x1800];
        f[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        f[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        let em: u16 = match machine {
            Machine::Riscv64 => 243,
            Machine::X86_64 => 62,
        };
        f[18..20].copy_from_slice(&em.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&0x40u64.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
        f[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes()); // R+X
        f[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
        f[ph + 32..ph + 40].copy_from_slice(&0x1800u64.to_le_bytes());
        f[ph + 40..ph + 48].copy_from_slice(&0x1800u64.to_le_bytes());
        for (i, b) in f[0x1000..].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        f
    }

    fn check_prepare(ram: &mut [u8], paging: PagingMode) -> Handoff {
        ram.fill(0x5a);
        let machine = match paging {
            PagingMode::X86Level4 => Machine::X86_64,
            _ => Machine::Riscv64,
        };
        let kernel = tiny_kernel(machine);
        // Loader image at RAM+1 MiB, the kernel ELF page-aligned inside it.
        let loader = Range::new(RAM + (1 << 20), RAM + (1 << 20) + 0x10_000);
        let elf_at = (loader.start + 0x4000 - RAM) as usize;
        ram[elf_at..elf_at + kernel.len()].copy_from_slice(&kernel);
        let fdt_at = (2 << 20) as usize;
        for (i, b) in ram[fdt_at..fdt_at + 0x1800].iter_mut().enumerate() {
            *b = (i % 7 + 1) as u8;
        }
        // SAFETY: all inside the fake RAM mapping, which lives for the test.
        let (kernel_elf, fdt) = unsafe {
            (
                core::slice::from_raw_parts((RAM as usize + elf_at) as *const u8, kernel.len()),
                core::slice::from_raw_parts((RAM as usize + fdt_at) as *const u8, 0x1800),
            )
        };
        let mut platform = Platform::default();
        platform.ram.push(Range::new(RAM, RAM + RAM_SIZE)).unwrap();
        platform
            .reserved
            .push(Range::new(RAM, RAM + 0x6_0000))
            .unwrap();
        platform.harts = 0b1011;
        platform.timer_hz = 10_000_000;
        platform.cmdline = "log=debug nokaslr";
        platform.rng_seed = Some(&fdt[0x100..0x120]);
        platform.initrd = Some(Range::new(RAM + (3 << 20) + 0x10, RAM + (3 << 20) + 5000));
        platform.fdt = Some(fdt);
        let h = prepare(BootInput {
            platform,
            boot_hart: 1,
            harts: 0b1011,
            boot_ticks: 1234,
            entropy: Mixer::new(3),
            loader_image: loader,
            kernel_elf,
            machine,
            paging,
        })
        .unwrap();

        // SAFETY: `prepare` wrote a BootInfo there, inside the fake RAM.
        let bi = unsafe { &*(h.boot_info_phys as *const BootInfo) };
        bi.validate().unwrap();
        assert_eq!(h.boot_info_virt, PHYS_MAP_BASE + h.boot_info_phys);
        assert_eq!(
            bi.phys_map_size,
            RAM + RAM_SIZE,
            "the phys map ends with RAM"
        );
        assert_eq!(
            (bi.kernel.slide, h.slide),
            (KERNEL_WINDOW_BASE, KERNEL_WINDOW_BASE),
            "nokaslr"
        );
        assert_eq!(h.entry, KERNEL_WINDOW_BASE + 0x40);
        assert_eq!((bi.boot_hart, bi.hart_mask, bi.paging), (1, 0b1011, paging));
        assert_eq!(
            (bi.boot_ticks, bi.timer_hz, bi.cmdline()),
            (1234, 10_000_000, "log=debug nokaslr")
        );
        assert_eq!(
            bi.kernel.elf,
            PhysRange {
                start: RAM + elf_at as u64,
                len: kernel.len() as u64
            }
        );
        assert_eq!(
            (bi.kernel.virt_base, bi.kernel.size),
            (KERNEL_WINDOW_BASE, 0x2000)
        );
        assert_eq!(
            bi.initrd,
            PhysRange {
                start: RAM + (3 << 20) + 0x10,
                len: 5000 - 0x10
            }
        );
        assert_ne!(bi.rng_seed, [0; 32]);

        // The kernel image and the FDT copy (minus the seed) are in place.
        let kphys = (bi.kernel.phys_base - RAM) as usize;
        assert_eq!(&ram[kphys..kphys + 0x1800], &kernel[0x1000..]);
        assert!(ram[kphys + 0x1800..kphys + 0x2000].iter().all(|&b| b == 0));
        let fcopy = (bi.fdt.start - RAM) as usize;
        assert_eq!(bi.fdt.len, 0x1800);
        assert!(
            ram[fcopy + 0x100..fcopy + 0x120].iter().all(|&b| b == 0),
            "seed scrubbed"
        );
        assert_eq!(&ram[fcopy..fcopy + 0x100], &ram[fdt_at..fdt_at + 0x100]);

        // The memory map: sorted, disjoint, exactly the RAM, every owner named.
        let regions = bi.memory_regions();
        assert_eq!(regions.first().unwrap().start, RAM);
        assert_eq!(regions.last().unwrap().end(), RAM + RAM_SIZE);
        for w in regions.windows(2) {
            assert_eq!(w[0].end(), w[1].start, "{w:x?}");
            assert_ne!(w[0].kind, w[1].kind, "unmerged neighbours {w:x?}");
        }
        let kind_at = |addr: u64| {
            regions
                .iter()
                .find(|r: &&MemoryRegion| r.start <= addr && addr < r.end())
                .map(|r| r.kind)
        };
        assert_eq!(kind_at(RAM), Some(MemoryKind::Reserved));
        assert_eq!(kind_at(loader.start), Some(MemoryKind::Loader));
        assert_eq!(kind_at(RAM + elf_at as u64), Some(MemoryKind::KernelElf));
        assert_eq!(kind_at(bi.kernel.phys_base), Some(MemoryKind::Kernel));
        assert_eq!(kind_at(bi.fdt.start), Some(MemoryKind::Fdt));
        assert_eq!(kind_at(h.boot_info_phys), Some(MemoryKind::BootInfo));
        assert_eq!(kind_at(bi.page_table_root), Some(MemoryKind::PageTables));
        assert_eq!(kind_at(bi.initrd.start), Some(MemoryKind::Initrd));
        assert_eq!(
            kind_at(RAM + fdt_at as u64),
            Some(MemoryKind::Usable),
            "the original FDT was copied"
        );
        let stacks: u64 = regions
            .iter()
            .filter(|r| r.kind == MemoryKind::Stacks)
            .map(|r| r.len)
            .sum();
        assert_eq!(stacks, 3 * STACK_SIZE);

        // The address space.
        let check = |pt: &dyn Fn(u64) -> Option<(u64, Flags)>| {
            let (p, f) = pt(PHYS_MAP_BASE + RAM + 0x1234).unwrap();
            assert_eq!(p, RAM + 0x1234);
            assert!(f.contains(Flags::RW | Flags::GLOBAL) && !f.contains(Flags::EXEC));
            assert_eq!(
                pt(PHYS_MAP_BASE + 0x1000_0000).unwrap().0,
                0x1000_0000,
                "MMIO below RAM is mapped"
            );
            assert!(pt(PHYS_MAP_BASE + RAM + RAM_SIZE).is_none());
            let (p, f) = pt(h.entry).unwrap();
            assert_eq!(p, bi.kernel.phys_base + 0x40);
            assert!(f.contains(Flags::RX) && !f.contains(Flags::WRITE));
            assert!(pt(h.virt_base + 0x2000).is_none());
            for hart in [0, 1, 3] {
                let top = bi.hart_stack_top[hart];
                assert!(pt(top - 8).unwrap().1.contains(Flags::RW));
                assert!(pt(top - STACK_SIZE).is_some());
                assert!(
                    pt(top - STACK_SIZE - 8).is_none(),
                    "guard page below hart {hart}'s stack"
                );
                assert!(pt(top).is_none() || hart == 0, "next hart's guard");
            }
            assert_eq!(bi.hart_stack_top[2], 0);
            assert_eq!(bi.hart_stack_size, STACK_SIZE);
            assert_eq!(
                pt(loader.start + 0x10).unwrap().0,
                loader.start + 0x10,
                "loader identity-mapped"
            );
        };
        let root = bi.page_table_root;
        match paging {
            PagingMode::Sv39 => check(&|v| {
                // SAFETY: the tables `prepare` built, in the fake RAM.
                let pt = unsafe { PageTable::<Sv39, Identity>::from_root(root, Identity) };
                pt.translate(v).map(|m| (m.phys + (v - m.virt), m.flags))
            }),
            PagingMode::Sv39XTheadMae => {
                // SAFETY: the tables `prepare` built, in the fake RAM.
                let pt = unsafe { PageTable::<Sv39XTheadMae, Identity>::from_root(root, Identity) };
                let tr = |v: u64| pt.translate(v).map(|m| (m.phys + (v - m.virt), m.flags));
                check(&tr);
                // RAM is normal memory, everything else in the phys map device memory.
                assert!(!tr(PHYS_MAP_BASE + RAM).unwrap().1.contains(Flags::DEVICE));
                assert!(
                    !tr(PHYS_MAP_BASE + RAM + RAM_SIZE - 1)
                        .unwrap()
                        .1
                        .contains(Flags::DEVICE)
                );
                assert!(
                    tr(PHYS_MAP_BASE + 0x1000_0000)
                        .unwrap()
                        .1
                        .contains(Flags::DEVICE)
                );
                assert!(
                    tr(PHYS_MAP_BASE + RAM - 1)
                        .unwrap()
                        .1
                        .contains(Flags::DEVICE)
                );
                assert!(
                    !tr(h.entry).unwrap().1.contains(Flags::DEVICE),
                    "kernel code"
                );
                assert!(
                    !tr(loader.start).unwrap().1.contains(Flags::DEVICE),
                    "loader"
                );
            }
            PagingMode::X86Level4 => check(&|v| {
                // SAFETY: the tables `prepare` built, in the fake RAM.
                let pt = unsafe { PageTable::<X86Level4, Identity>::from_root(root, Identity) };
                pt.translate(v).map(|m| (m.phys + (v - m.virt), m.flags))
            }),
            _ => check(&|v| {
                // SAFETY: the tables `prepare` built, in the fake RAM.
                let pt = unsafe { PageTable::<Sv48, Identity>::from_root(root, Identity) };
                pt.translate(v).map(|m| (m.phys + (v - m.virt), m.flags))
            }),
        }
        h
    }

    #[test]
    fn prepare_loads_maps_and_describes_everything() {
        let ram = fake_ram();
        check_prepare(ram, PagingMode::Sv39);
        check_prepare(ram, PagingMode::Sv48);
        check_prepare(ram, PagingMode::Sv39XTheadMae);
        let h = check_prepare(ram, PagingMode::X86Level4);

        // A firmware map that changed after `prepare` (UEFI's final map):
        // the loader's hand-overs stay named on top of it.
        let mut firmware = MemoryMap::new();
        firmware
            .add(Range::new(RAM, RAM + RAM_SIZE), MemoryKind::Usable)
            .unwrap();
        firmware
            .add(Range::new(RAM, RAM + 0x1000), MemoryKind::AcpiReclaimable)
            .unwrap();
        firmware
            .add(
                Range::new(RAM + RAM_SIZE - 0x2000, RAM + RAM_SIZE),
                MemoryKind::Reserved,
            )
            .unwrap();
        rewrite_memory_map(&h, firmware).unwrap();
        // SAFETY: `prepare` wrote a BootInfo there, inside the fake RAM.
        let bi = unsafe { &*(h.boot_info_phys as *const BootInfo) };
        let kind_at = |addr: u64| {
            bi.memory_regions()
                .iter()
                .find(|r| r.start <= addr && addr < r.end())
                .map(|r| r.kind)
        };
        assert_eq!(kind_at(RAM), Some(MemoryKind::AcpiReclaimable));
        assert_eq!(
            kind_at(RAM + 0x1000),
            Some(MemoryKind::Usable),
            "the old reservation is gone"
        );
        assert_eq!(kind_at(RAM + RAM_SIZE - 1), Some(MemoryKind::Reserved));
        assert_eq!(kind_at(bi.kernel.phys_base), Some(MemoryKind::Kernel));
        assert_eq!(kind_at(bi.kernel.elf.start), Some(MemoryKind::KernelElf));
        assert_eq!(kind_at(bi.initrd.start), Some(MemoryKind::Initrd));
        assert_eq!(kind_at(bi.page_table_root), Some(MemoryKind::PageTables));
        assert_eq!(kind_at(h.boot_info_phys), Some(MemoryKind::BootInfo));
        assert_eq!(kind_at(bi.fdt.start), Some(MemoryKind::Fdt));
        let allocated: u64 = h.allocations().iter().map(|a| a.range.len()).sum();
        let typed: u64 = bi
            .memory_regions()
            .iter()
            .filter(|r| {
                matches!(
                    r.kind,
                    MemoryKind::Kernel
                        | MemoryKind::PageTables
                        | MemoryKind::Stacks
                        | MemoryKind::BootInfo
                        | MemoryKind::Fdt
                )
            })
            .map(|r| r.len)
            .sum();
        assert_eq!(allocated, typed);
    }
}
