//! The kernel address space: mapping, unmapping and re-protecting kernel
//! virtual memory (with TLB shootdown to every online hart), virtual ranges
//! in the vmap region and kernel stacks with guard pages.
//!
//! Virtual ranges are handed out by bumping a cursor and are not reused
//! (the regions are 16-32 GiB; the kernel maps little). Every range is
//! followed by an unmapped guard page, and every stack sits above one.

use core::sync::atomic::{AtomicU64, Ordering};

use boot_info::BootInfo;
use boot_info::layout::{STACKS_BASE, STACKS_SIZE, VMAP_BASE, VMAP_SIZE};
pub use page_table::Flags;
use page_table::{MapError, PageSize};

use super::PAGE_SIZE;
use super::frames::{self, PtFrames};
use crate::arch::table::KernelTable;
use crate::sched::percpu;
use crate::sync::IrqMutex;
use page_table::Marked;
use spin::Once;

static KERNEL_PT: IrqMutex<Option<KernelTable>> = IrqMutex::new(None);
/// The same table, for [`fix_up_store`] alone: trap handlers must not take
/// [`KERNEL_PT`]'s lock (the trapping code may hold it), and marking a page
/// written is one atomic update of its entry.
static STORE_FIXUP: Once<KernelTable> = Once::new();
/// Stores [`fix_up_store`] let retry.
static STORE_FIXUPS: AtomicU64 = AtomicU64::new(0);
static VMAP_NEXT: AtomicU64 = AtomicU64::new(VMAP_BASE);
static STACKS_NEXT: AtomicU64 = AtomicU64::new(STACKS_BASE);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmError {
    Map(MapError),
    OutOfMemory,
    OutOfVirtualSpace,
    NotInitialized,
}

impl From<MapError> for VmError {
    fn from(e: MapError) -> Self {
        Self::Map(e)
    }
}

impl core::fmt::Display for VmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Map(e) => write!(f, "{e}"),
            Self::OutOfMemory => write!(f, "out of physical memory"),
            Self::OutOfVirtualSpace => write!(f, "out of kernel virtual space"),
            Self::NotInitialized => write!(f, "address space not initialized"),
        }
    }
}

/// Takes over the loader's page table.
pub fn init(bi: &BootInfo) -> Result<(), &'static str> {
    // SAFETY: the loader hands over its live root with all RAM at phys_offset;
    // from here on only this module touches the tables, under the lock.
    let pt = unsafe { KernelTable::from_boot(bi.paging, bi.page_table_root, bi.phys_offset) }
        .ok_or("unsupported paging mode")?;
    *KERNEL_PT.lock() = Some(pt);
    // SAFETY: the same live root; this copy only ever marks leaves written
    // (`KernelTable::mark_written`, atomic), which may race with the locked
    // copy's users as it may with the MMU.
    let alias = unsafe { KernelTable::from_boot(bi.paging, bi.page_table_root, bi.phys_offset) };
    if let Some(alias) = alias {
        STORE_FIXUP.call_once(|| alias);
    }
    // New stacks go above the loader's boot stacks, after a guard page.
    let boot_top = bi
        .harts()
        .map(|h| bi.hart_stack_top[h as usize])
        .max()
        .unwrap_or(STACKS_BASE);
    let start = boot_top.max(STACKS_BASE).next_multiple_of(PAGE_SIZE) + PAGE_SIZE;
    STACKS_NEXT.store(start, Ordering::Relaxed);
    Ok(())
}

/// Beyond this many bytes a flush drops whole TLBs instead of going page by page.
const FLUSH_ALL_ABOVE: u64 = 64 * PAGE_SIZE;

/// Invalidates `virt..virt + len` on every online hart (and this one).
fn shootdown(virt: u64, len: u64) {
    let (virt, len) = if len > FLUSH_ALL_ABOVE {
        crate::arch::flush_tlb_all_local();
        (0, u64::MAX)
    } else {
        crate::arch::flush_tlb_local(virt, len);
        (virt, len)
    };
    let others = percpu::online_mask() & !(1 << percpu::current().id());
    if others != 0 {
        crate::arch::flush_tlb_harts(others, virt, len);
    }
}

/// A huge (2 MiB) page.
pub const HUGE_PAGE_SIZE: u64 = PageSize::Size2M.bytes();

/// Maps fresh zeroed frames at `virt..virt + len`. On failure nothing stays mapped.
pub fn map_fresh(virt: u64, len: u64, flags: Flags) -> Result<(), VmError> {
    map_zeroed(virt, len, flags, false)
}

/// Like [`map_fresh`]; with `huge`, every 2 MiB-aligned 2 MiB of the range
/// is one huge page when contiguous frames are free (fewer frames to zero
/// one by one, tables to fill and TLB entries). Such pages lie wholly
/// inside the range: unmapping must never split one.
pub fn map_zeroed(virt: u64, len: u64, flags: Flags, huge: bool) -> Result<(), VmError> {
    let mut off = 0;
    while off < len {
        let v = virt + off;
        // Frames are allocated and zeroed outside the page-table lock.
        let big = huge && v.is_multiple_of(HUGE_PAGE_SIZE) && len - off >= HUGE_PAGE_SIZE;
        let frame = if big {
            frames::alloc_contiguous_zeroed(HUGE_PAGE_SIZE / PAGE_SIZE, HUGE_PAGE_SIZE)
                .map(|f| (f, PageSize::Size2M))
        } else {
            None
        };
        let r = match frame.or_else(|| frames::alloc_zeroed().map(|f| (f, PageSize::Size4K))) {
            None => Err(VmError::OutOfMemory),
            Some((f, size)) => {
                let mut pt = KERNEL_PT.lock();
                match pt.as_mut() {
                    None => Err(VmError::NotInitialized),
                    Some(pt) => {
                        frames::with(|a| pt.map(v, f, size.bytes(), flags, size, &mut PtFrames(a)))
                            .unwrap_or(Err(MapError::OutOfMemory))
                            .map_err(VmError::from)
                    }
                }
                .map(|()| size.bytes())
                .inspect_err(|_| {
                    let _ = frames::free(f, size.bytes() / PAGE_SIZE);
                })
            }
        };
        match r {
            Ok(n) => off += n,
            Err(e) => {
                if off > 0 {
                    let mut pt = KERNEL_PT.lock();
                    if let Some(pt) = pt.as_mut() {
                        unmap_locked(pt, virt, off, true);
                    }
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Maps `phys..phys + len` at `virt` (e.g. contiguous frames or MMIO).
pub fn map_phys(virt: u64, phys: u64, len: u64, flags: Flags) -> Result<(), VmError> {
    let mut pt = KERNEL_PT.lock();
    let pt = pt.as_mut().ok_or(VmError::NotInitialized)?;
    frames::with(|a| pt.map(virt, phys, len, flags, PageSize::Size4K, &mut PtFrames(a)))
        .ok_or(VmError::NotInitialized)?
        .map_err(VmError::from)
}

/// A kernel virtual address for the device registers at `phys..phys + len`:
/// their place in the phys map where it covers them (device memory there
/// already), else a fresh vmap mapping with device attributes (T-Head's
/// TH1520 puts its UARTs and PLIC near 1 TiB, beyond an Sv39 phys map).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))] // x86_64's MMIO is all in the phys map.
pub fn map_device(phys: u64, len: u64) -> Result<u64, VmError> {
    if super::in_phys_map(phys, len) {
        return Ok(super::phys_to_virt(phys));
    }
    map_device_in_vmap(phys, len)
}

/// [`map_device`]'s mapping for devices beyond the phys map (public so the
/// kernel tests can take this path on machines whose devices are all in it).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub fn map_device_in_vmap(phys: u64, len: u64) -> Result<u64, VmError> {
    if KERNEL_PT.lock().is_none() {
        return Err(VmError::NotInitialized);
    }
    let start = phys / PAGE_SIZE * PAGE_SIZE;
    let end = phys
        .checked_add(len)
        .ok_or(VmError::Map(MapError::BadRange { virt: phys, len }))?
        .next_multiple_of(PAGE_SIZE);
    let virt = alloc_vrange(end - start)?;
    map_phys(virt, start, end - start, Flags::RW | Flags::DEVICE)?;
    Ok(virt + (phys - start))
}

/// Unmaps `virt..virt + len` (holes are skipped); frees the frames if `free_frames`.
pub fn unmap(virt: u64, len: u64, free_frames: bool) -> Result<(), VmError> {
    let mut pt = KERNEL_PT.lock();
    let pt = pt.as_mut().ok_or(VmError::NotInitialized)?;
    unmap_locked(pt, virt, len, free_frames);
    Ok(())
}

fn unmap_locked(pt: &mut KernelTable, virt: u64, len: u64, free_frames: bool) {
    // Frames go back only after every hart has dropped the old translation:
    // unmap everything, shoot down once, then free. Until then the frames
    // are still ours, so they carry the list of themselves: each unmapped
    // run's first word links to the previous run (through the phys map).
    let mut list = frames::RunList::new();
    let _ = pt.unmap_range(virt, len, |m| {
        if free_frames {
            // SAFETY: the frames were just unmapped and are not freed yet:
            // nothing else owns them.
            unsafe { list.push(m.phys, m.size.bytes() / PAGE_SIZE) };
        }
    });
    shootdown(virt, len);
    // SAFETY: every hart has dropped the translations; the runs are ours.
    unsafe { list.free_all() };
}

/// Changes the protection of every page in `virt..virt + len` (all must be mapped).
pub fn protect(virt: u64, len: u64, flags: Flags) -> Result<(), VmError> {
    let mut pt = KERNEL_PT.lock();
    let pt = pt.as_mut().ok_or(VmError::NotInitialized)?;
    pt.protect(virt, len, flags)?;
    shootdown(virt, len);
    Ok(())
}

/// Calls `f(virt, len)` for each page in `virt..virt + len` written since it
/// was mapped with [`Flags::TRACK_WRITES`] (pages mapped without it count as
/// written), in address order.
pub fn for_each_written(virt: u64, len: u64, mut f: impl FnMut(u64, u64)) {
    let pt = KERNEL_PT.lock();
    if let Some(pt) = pt.as_ref() {
        pt.for_each_written(virt, len, |page, size| f(page, size.bytes()));
    }
}

/// Marks every page in `virt..virt + len` written, e.g. before a device
/// writes to it by DMA, which no MMU sees.
pub fn mark_written(virt: u64, len: u64) {
    let Some(pt) = STORE_FIXUP.get() else {
        return;
    };
    let mut page = virt & !(PAGE_SIZE - 1);
    while page < virt.saturating_add(len) {
        pt.mark_written(page);
        page += PAGE_SIZE;
    }
}

/// The fix-up for a store page fault at `addr`: `true` if the page is
/// mapped writable, so the store only faulted for want of the dirty bit (a
/// hart that does not set it itself, RISC-V without Svadu, on a page mapped
/// with [`Flags::TRACK_WRITES`]; or a TLB entry from before another hart set
/// it). The bit is set, this hart's entry flushed, and the store may be
/// retried. Called from the trap handler: takes no lock.
pub fn fix_up_store(addr: u64) -> bool {
    let Some(pt) = STORE_FIXUP.get() else {
        return false;
    };
    let retry = match pt.mark_written(addr) {
        Marked::Now => true,
        // Where the MMU sets dirty bits, a stale entry never faults: the
        // fault is real (and retrying would repeat it forever).
        Marked::Already => !crate::arch::MMU_SETS_DIRTY_BITS,
        Marked::No => false,
    };
    if retry {
        crate::arch::flush_tlb_local(addr & !(PAGE_SIZE - 1), PAGE_SIZE);
        STORE_FIXUPS.fetch_add(1, Ordering::Relaxed);
    }
    retry
}

/// How many stores [`fix_up_store`] let retry since boot.
#[cfg(feature = "ktest")]
pub fn store_fixups() -> u64 {
    STORE_FIXUPS.load(Ordering::Relaxed)
}

/// The mapping at `virt`, if any. Gives up (None) if the table is locked, so
/// the fault reporter cannot deadlock on it.
pub fn translate(virt: u64) -> Option<page_table::Mapping> {
    let pt = KERNEL_PT.try_lock()?;
    pt.as_ref()?.translate(virt)
}

pub fn is_mapped(virt: u64) -> bool {
    translate(virt).is_some()
}

/// Reserves `len` bytes of kernel virtual space in the vmap region, followed
/// by an unmapped guard page.
pub fn alloc_vrange(len: u64) -> Result<u64, VmError> {
    bump(
        &VMAP_NEXT,
        len.next_multiple_of(PAGE_SIZE) + PAGE_SIZE,
        VMAP_BASE + VMAP_SIZE,
    )
}

fn bump(cursor: &AtomicU64, len: u64, limit: u64) -> Result<u64, VmError> {
    cursor
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
            c.checked_add(len).filter(|&e| e <= limit)
        })
        .map_err(|_| VmError::OutOfVirtualSpace)
}

/// A kernel stack: `top` is the initial stack pointer; the page below
/// `bottom` is an unmapped guard page.
#[derive(Debug, Clone, Copy)]
pub struct KernelStack {
    pub bottom: u64,
    pub top: u64,
}

impl KernelStack {
    #[cfg(feature = "ktest")]
    pub fn guard_page(&self) -> u64 {
        self.bottom - PAGE_SIZE
    }
}

/// Allocates a stack of `size` bytes (physically contiguous) in the stacks region.
pub fn alloc_stack(size: u64) -> Result<KernelStack, VmError> {
    let size = size.next_multiple_of(PAGE_SIZE);
    let base = bump(&STACKS_NEXT, size + PAGE_SIZE, STACKS_BASE + STACKS_SIZE)?;
    let bottom = base + PAGE_SIZE;
    let phys =
        frames::alloc_contiguous_zeroed(size / PAGE_SIZE, PAGE_SIZE).ok_or(VmError::OutOfMemory)?;
    if let Err(e) = map_phys(bottom, phys, size, Flags::RW) {
        let _ = frames::free(phys, size / PAGE_SIZE);
        return Err(e);
    }
    Ok(KernelStack {
        bottom,
        top: bottom + size,
    })
}

/// Unmaps a stack and frees its frames.
pub fn free_stack(stack: KernelStack) -> Result<(), VmError> {
    unmap(stack.bottom, stack.top - stack.bottom, true)
}

pub fn is_stack_addr(addr: u64) -> bool {
    (STACKS_BASE..STACKS_BASE + STACKS_SIZE).contains(&addr)
}

/// Whether a faulting address is an unmapped page in a region where the
/// kernel keeps guard pages (stacks and vmap ranges).
pub fn is_guard_page(addr: u64) -> bool {
    let guarded = is_stack_addr(addr) || (VMAP_BASE..VMAP_BASE + VMAP_SIZE).contains(&addr);
    guarded && !is_mapped(addr) && is_mapped(addr + PAGE_SIZE)
}

/// Removes the loader's lower-half (identity) mappings once every hart runs
/// in the kernel half. The lower-half tables themselves belong to the
/// loader's `PageTables` memory and are left alone.
pub fn drop_lower_half() -> Result<(), VmError> {
    let pt = KERNEL_PT.lock();
    let pt = pt.as_ref().ok_or(VmError::NotInitialized)?;
    let root = super::phys_to_virt(pt.root()) as *mut u64;
    for i in 0..KernelTable::LOWER_HALF_ENTRIES {
        // SAFETY: the root table is mapped through the phys map and we hold
        // the page-table lock; lower-half entries are unused by the kernel.
        unsafe { root.add(i).write_volatile(0) };
    }
    crate::arch::flush_tlb_all_local();
    let others = percpu::online_mask() & !(1 << percpu::current().id());
    if others != 0 {
        crate::arch::flush_tlb_harts(others, 0, u64::MAX);
    }
    Ok(())
}
