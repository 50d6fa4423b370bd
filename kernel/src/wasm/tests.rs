//! Kernel tests of the Wasm platform that need no engine: address space,
//! code publishing, the Wasm stack, activations and recovery. (ISA
//! detection is tested in `arch::wasm`.)

use core::sync::atomic::{AtomicUsize, Ordering};

use ktest::ktest;

use super::platform::{self, CODE_REGION_SIZE};
use super::{WASM_STACK_SIZE, on_wasm_stack};
use crate::arch::trap::{INSTRUCTION_PAGE_FAULT, LOAD_PAGE_FAULT, STORE_PAGE_FAULT};
use crate::mem::{PAGE_SIZE, frames, vm};
use crate::recover::{self, Fault};
use crate::sched::{percpu, smp};
use crate::testing::fault::{expect_fault, read, write};

/// A guard-mode linear memory reservation: 4 GiB + 2 GiB guard.
const MEMORY_RESERVATION: usize = 6 << 30;

ktest! {
    fn wasm_memory_reservations_commit_fault_and_are_reused() {
        let before = platform::stats();
        // Warm up: page-table frames for the range stay allocated (tables
        // are kept for reuse), so count frames from a second round on.
        let b = platform::reserve(MEMORY_RESERVATION).unwrap();
        platform::commit(b, 2 * 65536).unwrap();
        platform::release(b).unwrap();
        let (free0, _, _) = frames::stats();
        let base = platform::reserve(MEMORY_RESERVATION).unwrap();
        assert_eq!(base, b, "the released range was not reused");
        assert!(base >= boot_info::layout::LOWER_HALF_BASE + CODE_REGION_SIZE);
        assert!(platform::is_wasm_addr(base) && platform::is_wasm_addr(base + (6 << 30) - 1));
        // Nothing is mapped until committed: no demand paging anywhere.
        expect_fault(LOAD_PAGE_FAULT, base, || {
            read(base);
        });
        platform::commit(base, 65536).unwrap();
        assert_eq!(frames::stats().0, free0 - 16);
        assert_eq!(read(base), 0, "committed memory is not zeroed");
        write(base + 65536 - 8, 7);
        assert_eq!(read(base + 65536 - 8), 7);
        // The next page, the middle of the 4 GiB and the guard all fault.
        expect_fault(STORE_PAGE_FAULT, base + 65536, || write(base + 65536, 1));
        expect_fault(LOAD_PAGE_FAULT, base + (2 << 30), || {
            read(base + (2 << 30));
        });
        expect_fault(LOAD_PAGE_FAULT, base + (5 << 30), || {
            read(base + (5 << 30));
        });
        // Growing commits only the new pages; old contents stay.
        platform::commit(base, 2 * 65536).unwrap();
        assert_eq!(read(base + 65536 - 8), 7);
        assert_eq!(frames::stats().0, free0 - 32);
        assert!(platform::commit(base + (6 << 30) - 4096, 8192).is_err(), "commit past the reservation");
        assert_eq!(platform::stats().committed_bytes, before.committed_bytes + 2 * 65536);
        platform::release(base).unwrap();
        assert_eq!(frames::stats().0, free0, "release leaked frames");
        expect_fault(LOAD_PAGE_FAULT, base, || {
            read(base);
        });
        assert_eq!(platform::stats(), before);
        // 1000 memories of 6 GiB each are more than the lower half holds:
        // this passes only because released ranges are reused.
        for i in 0..1000u64 {
            let b = platform::reserve(MEMORY_RESERVATION).unwrap();
            platform::commit(b, 4096).unwrap();
            write(b, i);
            assert_eq!(read(b), i);
            platform::release(b).unwrap();
        }
        assert_eq!(platform::stats(), before, "virtual space leaked");
        assert_eq!(frames::stats().0, free0, "frames leaked");
    }
}

/// Machine code of `extern "C" fn() -> usize { 42 }` (and 7).
#[cfg(target_arch = "riscv64")]
mod code {
    /// `li a0, 42; ret` and `li a0, 7; ret`.
    pub const RET_42: [u8; 8] = [0x13, 0x05, 0xa0, 0x02, 0x67, 0x80, 0x00, 0x00];
    pub const RET_7: [u8; 8] = [0x13, 0x05, 0x70, 0x00, 0x67, 0x80, 0x00, 0x00];
}
#[cfg(target_arch = "x86_64")]
mod code {
    /// `mov eax, 42; ret` and `mov eax, 7; ret` (the upper half of rax is cleared).
    pub const RET_42: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3];
    pub const RET_7: [u8; 6] = [0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3];
}
use code::{RET_7, RET_42};

static CODE_ADDR: AtomicUsize = AtomicUsize::new(0);
static CODE_SUM: AtomicUsize = AtomicUsize::new(0);

fn call_code() -> usize {
    let addr = CODE_ADDR.load(Ordering::Acquire);
    // SAFETY: the test published a complete `extern "C" fn() -> usize` there.
    let f: extern "C" fn() -> usize = unsafe { core::mem::transmute(addr) };
    f()
}

fn call_code_and_add() {
    CODE_SUM.fetch_add(call_code(), Ordering::Relaxed);
}

fn publish(code: &[u8]) -> u64 {
    let at = platform::reserve(4096).unwrap();
    assert!(at < boot_info::layout::LOWER_HALF_BASE + CODE_REGION_SIZE);
    platform::commit(at, 4096).unwrap();
    for (i, b) in code.iter().enumerate() {
        // SAFETY: `at` is a fresh committed RW page.
        unsafe { core::ptr::write_volatile((at as *mut u8).add(i), *b) };
    }
    platform::publish_code(at, 4096).unwrap();
    at
}

ktest! {
    fn wasm_code_is_published_wx_on_every_hart() {
        let before = platform::stats();
        // Warm up the code region's page tables (kept once created).
        let w = platform::reserve(4096).unwrap();
        platform::commit(w, 4096).unwrap();
        platform::release(w).unwrap();
        let (free0, _, _) = frames::stats();
        // Uncommitted code cannot be published.
        let r = platform::reserve(4096).unwrap();
        assert!(platform::publish_code(r, 4096).is_err());
        // Unpublished (RW) pages do not execute.
        platform::commit(r, 4096).unwrap();
        CODE_ADDR.store(r as usize, Ordering::Release);
        expect_fault(INSTRUCTION_PAGE_FAULT, r, || {
            call_code();
        });
        platform::release(r).unwrap();

        let at = publish(&RET_42);
        // Published code is not writable.
        expect_fault(STORE_PAGE_FAULT, at, || write(at, 0));
        CODE_ADDR.store(at as usize, Ordering::Release);
        CODE_SUM.store(0, Ordering::Relaxed);
        let harts = smp::run_on_all(call_code_and_add).unwrap();
        assert_eq!(CODE_SUM.load(Ordering::Relaxed), 42 * harts);
        assert_eq!(platform::stats().code_bytes, before.code_bytes + 4096);
        platform::release(at).unwrap();
        // The range is reused for new code, which every hart then runs.
        let again = publish(&RET_7);
        assert_eq!(again, at, "code range not reused");
        CODE_SUM.store(0, Ordering::Relaxed);
        smp::run_on_all(call_code_and_add).unwrap();
        assert_eq!(CODE_SUM.load(Ordering::Relaxed), 7 * harts, "a hart ran stale code");
        // The guard page after a code reservation faults.
        expect_fault(LOAD_PAGE_FAULT, again + 4096, || {
            read(again + 4096);
        });
        platform::release(again).unwrap();
        assert_eq!(platform::stats(), before);
        assert_eq!(frames::stats().0, free0);
    }
}

#[inline(never)]
fn stack_depth_probe(depth: usize) -> usize {
    // About 1 KiB of stack per level.
    let buf = [depth as u8; 1000];
    let r = core::hint::black_box(&buf)[0] as usize;
    if depth == 0 {
        r
    } else {
        stack_depth_probe(depth - 1) + r
    }
}

ktest! {
    fn wasm_calls_run_on_a_big_stack() {
        let outside = crate::arch::stack_pointer() as u64;
        let (sp, sum) = on_wasm_stack(|| {
            // 1.2 MiB deep: more than any boot stack, less than the Wasm stack.
            (crate::arch::stack_pointer() as u64, stack_depth_probe(1200))
        })
        .unwrap();
        assert_ne!(sp / WASM_STACK_SIZE, outside / WASM_STACK_SIZE);
        assert_eq!(sum, (0..=1200usize).map(|d| d as u8 as usize).sum::<usize>());
        assert!(vm::is_stack_addr(sp));
        // Nested use stays on the same stack.
        let nested = on_wasm_stack(|| on_wasm_stack(crate::arch::stack_pointer).unwrap()).unwrap();
        assert!((nested as u64).abs_diff(sp) < 8192, "nested call left the Wasm stack");
        // A fault on the Wasm stack resumes the caller on its own stack, and
        // the Wasm stack is usable again afterwards.
        let bad = boot_info::layout::LOWER_HALF_BASE + CODE_REGION_SIZE - PAGE_SIZE;
        let r = recover::catch(|| on_wasm_stack(|| read(bad)).unwrap());
        assert!(matches!(r, Err(Fault::Trap { .. })), "{r:?}");
        assert_eq!(on_wasm_stack(|| 5).unwrap(), 5);
        assert_eq!(crate::arch::stack_pointer() as u64 / 4096, outside / 4096);
    }
}

ktest! {
    fn recovery_restores_the_wasm_activation() {
        let local = percpu::current();
        assert!(local.wasm_activation.get().is_null());
        let mut dummy = 0u8;
        let r = recover::catch(|| {
            // As if Wasm had been entered and then a host function faulted.
            local.wasm_activation.set(&mut dummy);
            read(8);
        });
        assert!(r.is_err());
        assert!(local.wasm_activation.get().is_null(), "activation left dangling");
    }
}
