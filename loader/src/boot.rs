//! The arch-neutral half of booting: load the kernel, build its page tables
//! and fill the [`BootInfo`]. The arch code gathers the [`BootInput`] and
//! performs the returned [`Handoff`].

use crate::LoaderError;
use crate::frames::{Frames, TableFrames};
use crate::memory_map::MemoryMap;
use crate::platform::{Platform, Range};
use crate::rng::Mixer;
use boot_info::layout::{
    KERNEL_ALIGN, KERNEL_WINDOW_BASE, KERNEL_WINDOW_SIZE, PAGE_SIZE, PHYS_MAP_BASE, PHYS_MAP_SIZE,
    STACKS_BASE,
};
use boot_info::{BootInfo, MAX_HARTS, MemoryKind, PagingMode, PhysRange};
use kernel_elf::{ContiguousImage, KernelElf, Machine};
use page_table::{Flags, Identity, PageSize, PageTable, PteFormat, Sv39, Sv48, X86Level4};

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
    // All physical memory, MMIO included, readable and writable, never executable.
    pt.map(
        PHYS_MAP_BASE,
        0,
        l.phys_end,
        Flags::RW | global,
        PageSize::Size1G,
        &mut alloc,
    )?;
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
    if !elf.entry().is_multiple_of(4) {
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
    if ram_end > PHYS_MAP_SIZE {
        return Err(LoaderError::RamTooLarge(ram_end));
    }
    let layout = Layout {
        elf: &elf,
        kernel_phys,
        lo,
        slide,
        phys_end: ram_end,
        stacks: &stacks,
        harts: input.harts,
        loader_image: input.loader_image,
    };
    let root = match input.paging {
        PagingMode::Sv39 => build_tables::<Sv39>(&mut frames, &layout)?,
        PagingMode::Sv48 => build_tables::<Sv48>(&mut frames, &layout)?,
        PagingMode::X86Level4 => build_tables::<X86Level4>(&mut frames, &layout)?,
        PagingMode::Sv57 => return Err(LoaderError::Unsupported("Sv57 paging")),
    };

    bi.phys_offset = PHYS_MAP_BASE;
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
    let elf_range = Range::new(elf_start, elf_start + input.kernel_elf.len() as u64).pages_around();
    map.add(elf_range, MemoryKind::KernelElf)?;
    if let Some(r) = p.initrd {
        map.add(r.pages_around(), MemoryKind::Initrd)?;
    }
    for a in frames.allocations() {
        map.add(a.range, a.kind)?;
    }
    map.write_to(bi)?;

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
    })
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
}
