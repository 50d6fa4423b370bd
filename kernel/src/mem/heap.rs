//! The kernel heap: talc over `layout::HEAP_BASE`, grown on demand. When talc
//! runs out, [`HeapSource::acquire`] maps more frames at the end of the heap
//! and extends it; nothing is mapped before the first allocation. A large
//! request never takes the last [`reserve_frames`]: those are the kernel's.
//! Small requests go through free lists of their size class first
//! ([`small`]).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use boot_info::layout::{HEAP_BASE, HEAP_SIZE};
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

use super::PAGE_SIZE;
use super::small;
use super::vm::{self, Flags};

/// Grow by at least this much at a time.
const GROW_STEP: u64 = 256 * 1024;
/// A request of at least this many bytes is large: most likely made on behalf of a process
/// (a table's elements, a module's code), which gets an error when it cannot be had.
const LARGE: usize = 1 << 20;
/// The kernel's reserve, at most: 16 MiB.
const RESERVE_MAX: u64 = 16 << 20;

/// Frames a large request must leave free: the kernel's reserve for the small allocations
/// it cannot do without (thread records, page tables, messages), so that a process that
/// exhausts memory gets its error and the kernel still runs. It is a sixteenth of the
/// memory the kernel manages, up to 16 MiB, so that a board with 64 MiB still runs programs.
pub fn reserve_frames() -> u64 {
    let managed = super::frames::stats().2;
    (managed / 16).min(RESERVE_MAX / PAGE_SIZE)
}

static MAPPED: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
pub struct HeapSource {
    /// End of the claimed heap, once there is one (as an address: Send).
    end: usize,
}

// SAFETY: `acquire` only maps memory and calls `claim`/`extend` on the
// `Talc` it is given; it never allocates (the vm and frame code do not).
unsafe impl Source for HeapSource {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let mapped = MAPPED.load(Ordering::Relaxed);
        // Room for the request, its alignment and talc's metadata.
        let want = (layout.size() as u64 + layout.align() as u64 + 4096).max(GROW_STEP);
        let grow = want.next_multiple_of(PAGE_SIZE);
        if mapped + grow > HEAP_SIZE {
            return Err(());
        }
        if layout.size() >= LARGE && super::frames::stats().0 < grow / PAGE_SIZE + reserve_frames()
        {
            return Err(());
        }
        vm::map_fresh(HEAP_BASE + mapped, grow, Flags::RW).map_err(|_| ())?;
        let new_end = (HEAP_BASE + mapped + grow) as *mut u8;
        if talc.source.end == 0 {
            // SAFETY: the range was just mapped for the heap alone.
            let end = unsafe { talc.claim(HEAP_BASE as *mut u8, grow as usize) }.ok_or(())?;
            talc.source.end = end.as_ptr() as usize;
        } else {
            let old_end = NonNull::new(talc.source.end as *mut u8).ok_or(())?;
            // SAFETY: the heap ends at `old_end` and the pages up to
            // `new_end` were just mapped for it.
            let end = unsafe { talc.extend(old_end, new_end) };
            talc.source.end = end.as_ptr() as usize;
        }
        MAPPED.store(mapped + grow, Ordering::Relaxed);
        Ok(())
    }
}

static TALC: talc::TalcLock<spin::Mutex<()>, HeapSource> =
    talc::TalcLock::new(HeapSource { end: 0 });

/// Freed small blocks, kept for the next request of their size (see [`small`]).
static SMALL: spin::Mutex<small::Lists> = spin::Mutex::new(small::Lists::new());

/// The kernel heap: small requests through [`small`]'s lists, the rest to talc.
struct Heap;

#[global_allocator]
static ALLOCATOR: Heap = Heap;

fn small_blocks() -> small::Small<'static, talc::TalcLock<spin::Mutex<()>, HeapSource>> {
    small::Small {
        backing: &TALC,
        lists: &SMALL,
    }
}

// SAFETY: every request goes to talc, directly or through the small lists,
// which hand out whole blocks of at least the size and alignment asked for;
// a block is freed the way it was allocated (same layout, same class).
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        unsafe {
            match small::class(layout) {
                Some(c) => small_blocks().alloc(c),
                None => TALC.alloc(layout),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller; `class` maps a layout the same
        // way as when the block was allocated.
        unsafe {
            match small::class(layout) {
                Some(c) => small_blocks().dealloc(ptr, c),
                None => TALC.dealloc(ptr, layout),
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let small_new = new_size <= small::MAX && layout.align() <= small::ALIGN;
        // SAFETY: forwarded from the caller.
        unsafe {
            if small::class(layout).is_none() && !small_new {
                TALC.realloc(ptr, layout, new_size)
            } else {
                small_blocks().realloc(ptr, layout, new_size)
            }
        }
    }
}

/// Heap statistics.
#[derive(Debug, Clone, Copy)]
pub struct HeapStats {
    /// Bytes of virtual memory backed by frames.
    pub mapped: u64,
    /// Bytes in live allocations.
    pub allocated: u64,
    pub allocations: u64,
}

/// Small blocks count at their class's size; listed (free) ones do not count.
pub fn stats() -> HeapStats {
    // The lists' lock first, as nowhere else is talc's taken inside it.
    let lists = SMALL.lock();
    let (blocks, bytes) = lists.cached();
    let talc = TALC.lock();
    let c = talc.counters();
    HeapStats {
        mapped: MAPPED.load(Ordering::Relaxed),
        allocated: c.allocated_bytes as u64 - bytes,
        allocations: c.allocation_count as u64 - blocks,
    }
}
