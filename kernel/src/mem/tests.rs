//! Kernel tests of memory: frames, the heap, mappings and guard pages, and
//! protection changes seen by every hart.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ktest::ktest;

use crate::arch::trap::{LOAD_PAGE_FAULT, STORE_PAGE_FAULT};
use crate::mem::vm::{self, Flags};
use crate::mem::{PAGE_SIZE, frames, heap};
use crate::recover::{self};
use crate::sched::smp;
use crate::testing::fault::{expect_fault, read, write};

ktest! {
    fn frame_allocator_hands_out_distinct_usable_frames() {
        let (free0, _, managed) = frames::stats();
        assert!(managed > 0 && free0 > 0);
        let bi = crate::boot_info();
        let mut got = Vec::new();
        for _ in 0..64 {
            let f = frames::alloc_zeroed().expect("out of frames");
            assert_eq!(f % PAGE_SIZE, 0);
            assert!(
                bi.memory_regions()
                    .iter()
                    .any(|r| r.kind == boot_info::MemoryKind::Usable && r.start <= f && f + PAGE_SIZE <= r.end()),
                "{f:#x} is not in usable memory"
            );
            assert!(!got.contains(&f), "{f:#x} handed out twice");
            got.push(f);
        }
        assert_eq!(frames::stats().0, free0 - 64);
        let run = frames::alloc_contiguous_zeroed(16, 64 * 1024).expect("no contiguous run");
        assert_eq!(run % (64 * 1024), 0);
        frames::free(run, 16).unwrap();
        for f in got {
            frames::free(f, 1).unwrap();
        }
        assert_eq!(frames::stats().0, free0);
        // Freeing twice is refused.
        let f = frames::alloc_zeroed().unwrap();
        frames::free(f, 1).unwrap();
        assert!(frames::free(f, 1).is_err());
    }
}

ktest! {
    fn heap_allocates_and_grows_on_demand() {
        let before = heap::stats().mapped;
        // Larger than all the heap has free: forces growth (earlier tests may have grown
        // the heap a lot, so not more than that).
        let n = ((before - heap::stats().allocated) as usize + (4 << 20)) / 8;
        let mut v: Vec<u64> = Vec::with_capacity(n);
        for i in 0..n {
            v.push(i as u64 ^ 0x5a5a);
        }
        assert!(heap::stats().mapped > before, "heap did not grow");
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 ^ 0x5a5a));
        let small: Vec<alloc::boxed::Box<u32>> = (0..1000).map(alloc::boxed::Box::new).collect();
        assert_eq!(small.iter().map(|b| **b as u64).sum::<u64>(), 999 * 1000 / 2);
        assert!(heap::stats().allocated >= (n * 8) as u64);
    }
}

ktest! {
    fn map_unmap_and_guard_pages_fault() {
        let len = 2 * PAGE_SIZE;
        let va = vm::alloc_vrange(len).unwrap();
        vm::map_fresh(va, len, Flags::RW).unwrap();
        write(va, 1);
        write(va + len - 8, 2);
        assert_eq!(read(va) + read(va + len - 8), 3);
        // The page after every range is a guard page.
        expect_fault(LOAD_PAGE_FAULT, va + len, || {
            read(va + len);
        });
        assert!(vm::is_guard_page(va + len) || !vm::is_mapped(va + len));
        let (free_before, _, _) = frames::stats();
        vm::unmap(va, len, true).unwrap();
        assert_eq!(frames::stats().0, free_before + 2, "unmap did not free the frames");
        expect_fault(STORE_PAGE_FAULT, va, || write(va, 3));
        // Stacks: usable to the bottom, guard page below.
        let stack = vm::alloc_stack(16 * 1024).unwrap();
        write(stack.bottom, 7);
        write(stack.top - 8, 8);
        assert!(vm::is_guard_page(stack.guard_page()));
        expect_fault(STORE_PAGE_FAULT, stack.bottom - 8, || write(stack.bottom - 8, 9));
        vm::free_stack(stack).unwrap();
    }
}

static SHARED_PAGE: AtomicU64 = AtomicU64::new(0);
static WRITE_FAULTS: AtomicUsize = AtomicUsize::new(0);
static READS_OK: AtomicUsize = AtomicUsize::new(0);

fn read_shared() {
    let _ = read(SHARED_PAGE.load(Ordering::Relaxed));
    READS_OK.fetch_add(1, Ordering::Relaxed);
}

fn try_write_shared() {
    let va = SHARED_PAGE.load(Ordering::Relaxed);
    if let Err(f) = recover::catch(|| write(va, 0xbad))
        && f.page_fault_addr() == Some(va as usize)
    {
        WRITE_FAULTS.fetch_add(1, Ordering::Relaxed);
    }
}

ktest! {
    fn protection_change_reaches_every_hart() {
        let va = vm::alloc_vrange(PAGE_SIZE).unwrap();
        vm::map_fresh(va, PAGE_SIZE, Flags::RW).unwrap();
        write(va, 42);
        SHARED_PAGE.store(va, Ordering::Relaxed);
        // Every hart caches the writable translation...
        READS_OK.store(0, Ordering::Relaxed);
        let harts = smp::run_on_all(read_shared).unwrap();
        assert_eq!(READS_OK.load(Ordering::Relaxed), harts);
        // ...then the page becomes read-only: writes fault on every hart.
        vm::protect(va, PAGE_SIZE, Flags::READ).unwrap();
        expect_fault(STORE_PAGE_FAULT, va, || write(va, 1));
        assert_eq!(read(va), 42);
        WRITE_FAULTS.store(0, Ordering::Relaxed);
        smp::run_on_all(try_write_shared).unwrap();
        assert_eq!(WRITE_FAULTS.load(Ordering::Relaxed), harts, "a hart kept a stale writable TLB entry");
        vm::protect(va, PAGE_SIZE, Flags::RW).unwrap();
        write(va, 43);
        assert_eq!(read(va), 43);
        vm::unmap(va, PAGE_SIZE, true).unwrap();
    }
}

/// Recurses until the stack overflows (the condition only hides that from the lint).
#[inline(never)]
fn recurse_deep(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    if depth == u64::MAX {
        return 0;
    }
    recurse_deep(depth + 1) + frame[3]
}

ktest! {
    fn stack_overflow_into_a_guard_page_is_caught() {
        let stack = vm::alloc_stack(16 * 1024).unwrap();
        // Twice: the trap path must survive the first overflow intact.
        for _ in 0..2 {
            let r = recover::catch(|| {
                // SAFETY: `stack` is a fresh mapped stack that only this call uses.
                unsafe { crate::arch::run_on_stack(stack.top as usize, || recurse_deep(0)) };
            });
            let addr = match r {
                Err(f) => f.page_fault_addr().unwrap_or_else(|| panic!("expected a page fault, got: {f}")) as u64,
                Ok(()) => panic!("the recursion returned"),
            };
            assert!(
                (stack.guard_page()..stack.bottom).contains(&addr),
                "fault at {addr:#x}, guard page at {:#x}",
                stack.guard_page()
            );
            assert!(vm::is_guard_page(addr));
        }
        vm::free_stack(stack).unwrap();
    }
}
