//! Host fuzzing for atoll on the stable toolchain (no libFuzzer): each target turns a seed
//! into an input with [`rng::Rng`] and runs it in process; [`runner`] supervises a worker
//! process so that a panic, an abort or a hang is caught and its input saved, and
//! `tests/regressions.rs` replays every input checked in under `regressions/<target>/`.
//!
//! Targets:
//! - `diff`: `wasm-smith` modules (Wasm 2.0, SIMD included, NaNs canonicalized) run in atoll's
//!   engine with guard-page and with explicit bounds checks and in `wasmi`, comparing every
//!   exported function's results and traps and the final memories, globals and tables.
//! - `malformed`: valid modules mutated byte-wise and structurally; the engine must answer
//!   with an `Error` or a working module.
//! - `wasi`: random `wasi_snapshot_preview1` calls with hostile arguments over the in-memory
//!   file system, checking invariants after each.
//! - `ipc`: random operations on the kernel's handle tables and channels against a model.

pub mod diff;
pub mod ipc;
pub mod malformed;
pub mod mutate;
pub mod rng;
pub mod runner;
pub mod stats;
pub mod wasi;

use rng::Rng;
use stats::Stats;

/// A fuzz target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Diff,
    Malformed,
    Wasi,
    Ipc,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Diff, Target::Malformed, Target::Wasi, Target::Ipc];

    pub fn name(self) -> &'static str {
        match self {
            Target::Diff => "diff",
            Target::Malformed => "malformed",
            Target::Wasi => "wasi",
            Target::Ipc => "ipc",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// File extension of a saved input.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Diff | Target::Malformed => "wasm",
            Target::Wasi | Target::Ipc => "bin",
        }
    }
}

/// What a target keeps between cases (engines, configurations).
pub struct Harness {
    diff: Option<diff::Diff>,
    malformed: Option<malformed::Malformed>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            diff: None,
            malformed: None,
        }
    }

    /// The input of case `seed` of `target`.
    pub fn generate(&mut self, target: Target, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        match target {
            Target::Diff => diff::generate(&mut rng),
            Target::Malformed => malformed::generate(&mut rng),
            Target::Wasi | Target::Ipc => {
                let len = 64 + rng.below(4096) as usize;
                rng.bytes(len)
            }
        }
    }

    /// Runs one input. `Err` is a finding (a divergence or a broken invariant); a panic or a
    /// crash is one too, caught by the [`runner`].
    pub fn run(&mut self, target: Target, input: &[u8], stats: &mut Stats) -> Result<(), String> {
        match target {
            Target::Diff => self
                .diff
                .get_or_insert_with(diff::Diff::new)
                .run(input, stats),
            Target::Malformed => self
                .malformed
                .get_or_insert_with(malformed::Malformed::new)
                .run(input, stats),
            Target::Wasi => wasi::run(input, stats),
            Target::Ipc => ipc::run(input, stats),
        }
    }
}
