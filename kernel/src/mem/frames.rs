//! The global physical frame allocator over the loader's `Usable` memory.

use boot_info::{BootInfo, MemoryKind};
use frame_alloc::{FRAME_SIZE, FrameAllocator, words_for};

use crate::sync::{IrqGuard, IrqMutex};

static FRAMES: IrqMutex<Option<FrameAllocator<'static>>> = IrqMutex::new(None);

/// Builds the allocator: its bitmap is carved from the first usable region
/// large enough, and every other usable byte becomes free.
pub fn init(bi: &BootInfo) -> Result<(), &'static str> {
    let usable = || {
        bi.memory_regions()
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable && r.len > 0)
    };
    let lo = usable().map(|r| r.start).min().ok_or("no usable memory")? & !(FRAME_SIZE - 1);
    let hi = usable().map(|r| r.end()).max().ok_or("no usable memory")?;
    let frames = (hi - lo) / FRAME_SIZE;
    let bitmap_bytes = (words_for(frames) as u64 * 8).next_multiple_of(FRAME_SIZE);
    let region = usable()
        .find(|r| r.end() - r.start.next_multiple_of(FRAME_SIZE) >= bitmap_bytes)
        .ok_or("no usable region fits the frame bitmap")?;
    let bitmap = region.start.next_multiple_of(FRAME_SIZE);
    // SAFETY: `bitmap..+bitmap_bytes` is usable RAM that nothing else owns
    // (it is excluded from the free memory below), mapped at phys_offset.
    let storage = unsafe {
        core::slice::from_raw_parts_mut(
            super::phys_to_virt(bitmap) as *mut u64,
            (bitmap_bytes / 8) as usize,
        )
    };
    let mut alloc =
        FrameAllocator::new(lo, frames, storage).map_err(|_| "frame allocator setup failed")?;
    let bitmap_end = bitmap + bitmap_bytes;
    for r in usable() {
        // Everything usable except the bitmap itself.
        alloc.add_free(r.start, r.end().min(bitmap).max(r.start));
        alloc.add_free(r.start.max(bitmap_end), r.end());
    }
    *FRAMES.lock() = Some(alloc);
    Ok(())
}

/// Runs `f` with the allocator locked.
pub fn with<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> Option<R> {
    let mut g: IrqGuard<'_, _> = FRAMES.lock();
    g.as_mut().map(f)
}

/// One zeroed frame.
pub fn alloc_zeroed() -> Option<u64> {
    let f = with(|a| a.alloc())??;
    zero(f, 1);
    Some(f)
}

/// `count` contiguous zeroed frames aligned to `align` bytes.
pub fn alloc_contiguous_zeroed(count: u64, align: u64) -> Option<u64> {
    let f = with(|a| a.alloc_contiguous(count, align).ok().flatten())??;
    zero(f, count);
    Some(f)
}

pub fn free(addr: u64, count: u64) -> Result<(), frame_alloc::Error> {
    with(|a| a.free(addr, count)).unwrap_or(Ok(()))
}

fn zero(phys: u64, count: u64) {
    // SAFETY: freshly allocated frames, owned by the caller, mapped at phys_offset.
    unsafe { zero_pages(super::phys_to_virt(phys), count * FRAME_SIZE) };
}

/// Zeroes `bytes` (whole pages) at virtual address `virt` as fast as the
/// CPU allows (see `arch::paging::zero_pages`).
///
/// # Safety
/// `virt..virt + bytes` must be mapped writable and not aliased by references.
pub unsafe fn zero_pages(virt: u64, bytes: u64) {
    // SAFETY: forwarded from the caller.
    unsafe { crate::arch::paging::zero_pages(virt as *mut u8, bytes as usize) };
}

/// Runs of frames waiting to be freed (after a TLB shootdown), linked
/// through their own first two words via the phys map, so that any number
/// of them can be collected without allocating.
pub struct RunList {
    head: Option<u64>,
}

impl RunList {
    pub const fn new() -> Self {
        Self { head: None }
    }

    /// Adds `count` frames at `phys`.
    ///
    /// # Safety
    /// The frames belong to the caller, are allocated, and nothing else
    /// reads or writes them until [`RunList::free_all`].
    pub unsafe fn push(&mut self, phys: u64, count: u64) {
        let p = super::phys_to_virt(phys) as *mut u64;
        // SAFETY: the frame is ours (the caller's contract) and mapped at phys_offset.
        unsafe {
            p.write(count);
            p.add(1).write(self.head.unwrap_or(u64::MAX));
        }
        self.head = Some(phys);
    }

    /// Frees every run.
    ///
    /// # Safety
    /// As for [`RunList::push`]: no stale translation may still reach them.
    pub unsafe fn free_all(self) {
        let Some(mut cur) = self.head else {
            return;
        };
        with(|a| {
            loop {
                let p = super::phys_to_virt(cur) as *const u64;
                // SAFETY: written by `push`, untouched since (the contract).
                let (count, next) = unsafe { (p.read(), p.add(1).read()) };
                let _ = a.free(cur, count);
                if next == u64::MAX {
                    break;
                }
                cur = next;
            }
        });
    }
}

/// (free, used, managed) frame counts.
pub fn stats() -> (u64, u64, u64) {
    with(|a| (a.free_frames(), a.used_frames(), a.managed_frames())).unwrap_or((0, 0, 0))
}

/// Hands reclaimable memory (e.g. the loader's image) to the allocator.
pub fn add_free(start: u64, end: u64) -> u64 {
    with(|a| a.add_free(start, end)).unwrap_or(0)
}

/// Adapts the global allocator for the page-table mapper (caller holds the lock).
pub struct PtFrames<'a>(pub &'a mut FrameAllocator<'static>);

impl page_table::FrameAllocator for PtFrames<'_> {
    fn allocate_frame(&mut self) -> Option<u64> {
        self.0.alloc()
    }
}
