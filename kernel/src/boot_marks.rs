//! Boot milestones for `cargo xtask bench`. With `bench.boot` on the
//! command line the kernel prints, once per milestone,
//!
//! ```text
//! BENCH boot.<milestone> atoll <count> <unit>     the measurement counter
//! BENCH boot.<milestone>.time atoll <ns> ns       the time counter, since reset
//! BENCH boot.<milestone>.hart atoll <id> hart     where both were read
//! ```
//!
//! for these milestones:
//!
//! - `kernel`: the kernel's first console line (`atoll kernel ...`);
//! - `user`: the first userspace instruction, read just before the kernel
//!   calls pid 1's (init's) `_start`;
//! - `prompt`: the first time a process reads console stdin with no input
//!   pending, so that the read blocks: at boot that is the shell, after it
//!   printed its prompt.
//!
//! The counter is [`crate::counter`]'s, read on the hart that reaches the
//! milestone. On riscv64 it is `instret`, which counts from reset: it
//! includes the instructions OpenSBI and the loader ran. On hardware it is
//! that hart's own count; under QEMU with `-icount` (how `just bench` boots)
//! it is QEMU's instruction count, shared by all harts, so instructions that
//! other harts run meanwhile (spinning, say) count too: with 4 harts, the
//! secondaries spinning until the kernel let them in cost 8M of the boot
//! count, and one SBI `set_timer` call seemed to cost 5.8M (QEMU ran the other
//! harts then). The time counter (riscv64: the `time` CSR, x86_64: the TSC)
//! is global; under `-icount shift=0` it advances one nanosecond per
//! instruction of any hart (plus idle time).
//!
//! Without the switch nothing is printed and each hook is one atomic load.

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use spin::Once;

use crate::println;

/// The boot-argument switch.
const SWITCH: &str = "bench.boot";

static ENABLED: AtomicBool = AtomicBool::new(false);
/// A counter: its read function and its unit.
type Counter = (fn() -> u64, &'static str);
/// The counter (probed once, when the switch is seen).
static COUNTER: Once<Counter> = Once::new();
/// One bit per [`Milestone`] already reached.
static REACHED: AtomicU8 = AtomicU8::new(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// The `user` and `prompt` hooks are in `proc`, which needs `wasm`.
pub enum Milestone {
    Kernel = 0,
    User = 1,
    Prompt = 2,
}

impl Milestone {
    fn name(self) -> &'static str {
        match self {
            Milestone::Kernel => "kernel",
            Milestone::User => "user",
            Milestone::Prompt => "prompt",
        }
    }
}

/// Turns the milestones on if the command line has [`SWITCH`].
pub fn configure(cmdline: &str) {
    if cmdline.split_whitespace().any(|w| w == SWITCH) {
        COUNTER.call_once(crate::arch::counter::probe);
        ENABLED.store(true, Ordering::Release);
    }
}

/// Whether `m` is still to be reached (so a hook may skip its own checks).
pub fn armed(m: Milestone) -> bool {
    ENABLED.load(Ordering::Acquire) && REACHED.load(Ordering::Acquire) & (1 << m as u8) == 0
}

/// The counters at a milestone, read but not printed yet.
pub struct Mark {
    milestone: Milestone,
    count: u64,
    unit: &'static str,
    time: u64,
    hart: usize,
}

/// Reads the counters if `m` is armed and not reached yet (only the first
/// caller gets the mark).
pub fn take(m: Milestone) -> Option<Mark> {
    if !ENABLED.load(Ordering::Acquire) {
        return None;
    }
    let bit = 1 << m as u8;
    if REACHED.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
        return None;
    }
    let &(read, unit) = COUNTER.get()?;
    let count = read();
    let time = crate::arch::read_time();
    Some(Mark {
        milestone: m,
        count,
        unit,
        time,
        hart: crate::sched::percpu::current().id(),
    })
}

impl Mark {
    /// Prints the mark's lines (on a line of their own: the console may be
    /// after a prompt).
    pub fn print(self) {
        let name = self.milestone.name();
        let ns = crate::sched::timer::ticks_to_ns(self.time);
        let lead = if self.milestone == Milestone::Prompt {
            "\n"
        } else {
            ""
        };
        println!(
            "{lead}BENCH boot.{name} atoll {} {}\nBENCH boot.{name}.time atoll {ns} ns\n\
             BENCH boot.{name}.hart atoll {} hart",
            self.count, self.unit, self.hart
        );
    }
}

/// Reads and prints `m`'s counters, the first time it is reached.
pub fn reach(m: Milestone) {
    if let Some(mark) = take(m) {
        mark.print();
    }
}
