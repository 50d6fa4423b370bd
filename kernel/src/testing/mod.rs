//! The kernel test harness (`--features ktest`): runs every registered
//! kernel test (see the `ktest` crate; the tests sit next to the code they
//! test, in `tests` modules) and exits QEMU with the result. Also the Wasm
//! spec suite run inside the kernel ([`spec_suite`]) and the helpers of tests
//! that fault on purpose ([`fault`]).

pub mod fault;
pub mod spec_suite;

use core::fmt::Write;

use ktest::{Outcome, Report, Test};

use crate::console;
use crate::recover;

// Linker-script symbols: only their addresses matter.
unsafe extern "C" {
    static __ktest_start: u8;
    static __ktest_end: u8;
}

/// A test still running after this long fails as timed out.
const TEST_TIMEOUT_NS: u64 = 20_000_000_000;

pub fn run_all() -> ! {
    // SAFETY: the linker script delimits the `.ktest` section with these
    // symbols, and it holds only `Test`s placed by `ktest::ktest!`.
    let tests = unsafe {
        ktest::tests_between(
            (&raw const __ktest_start).cast::<Test>(),
            (&raw const __ktest_end).cast::<Test>(),
        )
    };
    crate::println!("running {} kernel tests", tests.len());
    let mut report = Report::new();
    for test in tests {
        // The line is written whole after the test, so log output from the
        // test cannot split it.
        let result = recover::catch_with_timeout(TEST_TIMEOUT_NS, test.func);
        let mut reason = alloc::string::String::new();
        let outcome = match result {
            Ok(()) => Outcome::Ok,
            Err(fault) => {
                let _ = write!(reason, "{fault}");
                Outcome::Failed(&reason)
            }
        };
        let mut out = console::lock();
        let _ = report.start(&mut out, test.name);
        let _ = report.finish(&mut out, outcome);
    }
    let _ = report.summary(&mut console::lock());
    crate::shutdown(report.all_passed());
}
