//! Kernel tests of recovery: kernel faults and panics caught and reported,
//! runaway code timed out.

use ktest::ktest;

use crate::arch::trap::LOAD_PAGE_FAULT;
use crate::mem::PAGE_SIZE;
use crate::mem::vm::{self};
use crate::recover::{self, Fault};
use crate::sched::timer;
use crate::testing::fault::{read, write};

ktest! {
    fn kernel_page_fault_is_caught_and_reported() {
        let va = vm::alloc_vrange(PAGE_SIZE).unwrap();
        let r = recover::catch(|| read(va + 0x18));
        match r {
            Err(Fault::Trap { cause, stval, pc }) => {
                assert_eq!(cause, LOAD_PAGE_FAULT);
                assert_eq!(stval as u64, va + 0x18);
                assert!(crate::backtrace::symbolize(pc).is_some(), "faulting pc {pc:#x} has no symbol");
            }
            other => panic!("expected a load page fault, got {other:?}"),
        }
        // Recovery nests and leaves no context behind.
        let before = recover::nesting();
        let inner = recover::catch(|| recover::catch(|| write(va, 1)).is_err());
        assert_eq!(inner, Ok(true));
        assert_eq!(recover::nesting(), before);
    }
}

ktest! {
    fn panics_are_caught_with_their_message() {
        let before = recover::nesting();
        let r: Result<(), Fault> = recover::catch(|| panic!("deliberate {}", 42));
        assert_eq!(r, Err(Fault::Panic));
        assert!(recover::last_panic_message().starts_with("deliberate 42"));
        assert_eq!(recover::nesting(), before);
    }
}

ktest! {
    fn runaway_code_times_out() {
        let before = recover::nesting();
        let t0 = timer::now_ns();
        let r: Result<(), Fault> = recover::catch_with_timeout(30_000_000, || {
            loop {
                core::hint::spin_loop();
            }
        });
        assert_eq!(r, Err(Fault::Timeout));
        assert!(timer::now_ns() - t0 >= 30_000_000, "aborted before the deadline");
        assert_eq!(recover::nesting(), before);
        // Code that finishes in time is unaffected.
        assert_eq!(recover::catch_with_timeout(1_000_000_000, || 7), Ok(7));
    }
}
