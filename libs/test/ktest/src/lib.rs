//! In-kernel tests: registration in a linker section and the output protocol.
//!
//! A test is a plain `fn()` that fails by panicking (`assert!` and friends),
//! like a host `#[test]`. [`ktest!`] defines it and places a [`Test`]
//! descriptor in the `.ktest` section; the kernel's linker script collects the
//! section between `__ktest_start` and `__ktest_end`, and the kernel's runner
//! catches panics and faults per test (that part is kernel-specific).
//!
//! The protocol the host reads (see [`Report`]):
//! ```text
//! test <name> ... ok
//! test <name> ... FAILED: <reason>
//! N passed, N failed
//! ```
//! The summary line is exact and always last; QEMU then exits 0 only when
//! every test passed.
#![cfg_attr(not(test), no_std)]

use core::fmt::{self, Write};

/// One registered test.
#[repr(C)]
pub struct Test {
    pub name: &'static str,
    pub func: fn(),
}

/// Defines a kernel test and registers it in the `.ktest` section.
///
/// ```ignore
/// ktest::ktest! {
///     fn heap_grows() {
///         assert!(...);
///     }
/// }
/// ```
#[macro_export]
macro_rules! ktest {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        fn $name() $body

        const _: () = {
            #[used]
            #[unsafe(link_section = ".ktest")]
            static TEST: $crate::Test = $crate::Test {
                name: $crate::__strip_crate(concat!(module_path!(), "::", stringify!($name))),
                func: $name,
            };
        };
    };
}

/// Drops the leading crate name from a test path (`kernel::mem::tests::x` → `mem::tests::x`).
#[doc(hidden)]
pub const fn __strip_crate(path: &'static str) -> &'static str {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b':' && bytes[i + 1] == b':' {
            let (_, rest) = path.split_at(i + 2);
            return rest;
        }
        i += 1;
    }
    path
}

/// Every test between two linker symbols.
///
/// # Safety
/// `start..end` must delimit an array of [`Test`]s, as the linker script does
/// for the `.ktest` section (which holds nothing else).
pub unsafe fn tests_between(start: *const Test, end: *const Test) -> &'static [Test] {
    let bytes = (end as usize).saturating_sub(start as usize);
    let n = bytes / core::mem::size_of::<Test>();
    // SAFETY: the caller guarantees `n` initialized, immutable tests at `start`.
    unsafe { core::slice::from_raw_parts(start, n) }
}

/// The outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    Ok,
    Failed(&'a str),
}

/// Writes the protocol lines and counts results.
#[derive(Debug, Default)]
pub struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    pub const fn new() -> Self {
        Self {
            passed: 0,
            failed: 0,
        }
    }

    /// Writes `test <name> ... ` before the test runs, so a hang shows which test.
    pub fn start(&self, out: &mut impl Write, name: &str) -> fmt::Result {
        write!(out, "test {name} ... ")
    }

    /// Completes the line begun by [`Report::start`].
    pub fn finish(&mut self, out: &mut impl Write, outcome: Outcome<'_>) -> fmt::Result {
        match outcome {
            Outcome::Ok => {
                self.passed += 1;
                writeln!(out, "ok")
            }
            Outcome::Failed(reason) => {
                self.failed += 1;
                // One line per test: fold newlines in the reason.
                out.write_str("FAILED: ")?;
                for (i, line) in reason.lines().enumerate() {
                    if i > 0 {
                        out.write_str(" | ")?;
                    }
                    out.write_str(line)?;
                }
                writeln!(out)
            }
        }
    }

    /// The exact closing line: `N passed, N failed`.
    pub fn summary(&self, out: &mut impl Write) -> fmt::Result {
        writeln!(out, "{} passed, {} failed", self.passed, self.failed)
    }

    pub fn passed(&self) -> usize {
        self.passed
    }

    pub fn failed(&self) -> usize {
        self.failed
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }
}

/// Parses a summary line (for host tools reading the serial log).
pub fn parse_summary(line: &str) -> Option<(usize, usize)> {
    let (passed, failed) = line.trim().split_once(", ")?;
    let passed = passed.strip_suffix(" passed")?.parse().ok()?;
    let failed = failed.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_crate_name() {
        assert_eq!(__strip_crate("kernel::mem::tests::x"), "mem::tests::x");
        assert_eq!(__strip_crate("plain"), "plain");
    }

    #[test]
    fn report_lines_and_summary() {
        let mut out = String::new();
        let mut r = Report::new();
        r.start(&mut out, "a").unwrap();
        r.finish(&mut out, Outcome::Ok).unwrap();
        r.start(&mut out, "b").unwrap();
        r.finish(&mut out, Outcome::Failed("boom\nat x")).unwrap();
        r.summary(&mut out).unwrap();
        assert_eq!(
            out,
            "test a ... ok\ntest b ... FAILED: boom | at x\n1 passed, 1 failed\n"
        );
        assert!(!r.all_passed());
        assert_eq!(parse_summary(out.lines().last().unwrap()), Some((1, 1)));
    }

    #[test]
    fn parse_summary_rejects_other_lines() {
        assert_eq!(parse_summary("test a ... ok"), None);
        assert_eq!(parse_summary("x passed, 1 failed"), None);
        assert_eq!(parse_summary("3 passed, 0 failed"), Some((3, 0)));
    }

    fn sample() {}

    #[test]
    fn tests_between_counts_entries() {
        let arr = [
            Test {
                name: "x",
                func: sample,
            },
            Test {
                name: "y",
                func: sample,
            },
        ];
        let range = arr.as_ptr_range();
        // SAFETY: `range` delimits `arr`.
        let tests = unsafe { tests_between(range.start, range.end) };
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[1].name, "y");
    }
}
