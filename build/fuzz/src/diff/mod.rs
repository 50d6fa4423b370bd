//! The `diff` target: a `wasm-smith` module (Wasm 2.0 with SIMD, NaNs canonicalized, every
//! loop and function entry metered by an injected fuel global so that it terminates) is run
//! in three configurations: atoll's engine with guard-page bounds checks, atoll's engine with
//! explicit bounds checks, and the `wasmi` interpreter as the reference. Each instantiates the
//! module, calls every exported function with the same arguments, and ends with a snapshot of
//! the exported memories, globals and tables; results, trap kinds and snapshots must agree.
//!
//! A stack overflow makes the rest of a run inconclusive (each engine has its own depth
//! limit, so the state at the overflow differs legitimately): the comparison stops there.

mod atoll;
mod reference;
mod value;

use arbitrary::Unstructured;

use crate::rng::Rng;
use crate::stats::Stats;
pub use value::{Call, Outcome, Run, Snapshot, Value};

/// Memory limit per linear memory in every engine (so that `memory.grow` fails alike).
pub const MEMORY_LIMIT_PAGES: u64 = 256;
/// Table limit per table in every engine.
pub const TABLE_LIMIT: u64 = 10_000;
/// Calls made per exported function.
pub const CALLS_PER_EXPORT: usize = 4;
/// The fuel `ensure_termination` gives each module: loop iterations and calls in all.
pub const MODULE_FUEL: u32 = 20_000;

/// The `wasm-smith` configuration: the Wasm 2.0 feature set and nothing beyond it.
pub fn smith_config(rng: &mut Rng) -> wasm_smith::Config {
    wasm_smith::Config {
        // Wasm 2.0: multi-value, reference types, bulk memory, SIMD, sign extension,
        // non-trapping float-to-int, mutable globals.
        multi_value_enabled: true,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        simd_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        // Beyond Wasm 2.0: off.
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        max_memories: 1,
        max_tables: 1 + rng.below(3) as usize,
        // A module stands alone: no imports to satisfy alike in both engines.
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        max_memory32_bytes: MEMORY_LIMIT_PAGES * 65536,
        max_table_elements: 1000,
        max_funcs: 1 + rng.below(20) as usize,
        max_instructions: 50 + rng.below(500) as usize,
        max_data_segments: 8,
        max_element_segments: 8,
        max_elements: 64,
        min_funcs: 1,
        min_exports: 1,
        ..wasm_smith::Config::default()
    }
}

/// A module for the `diff` target: the bytes `wasm-smith` makes from random bytes.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let config = smith_config(rng);
    let len = 256 + rng.below(16 << 10) as usize;
    let bytes = rng.bytes(len);
    let mut u = Unstructured::new(&bytes);
    match wasm_smith::Module::new(config, &mut u) {
        Ok(mut m) => {
            // Modules whose bodies are not wasm-smith's own cannot be metered; they are
            // never made with `allow_invalid_funcs` off.
            if m.ensure_termination(MODULE_FUEL).is_err() {
                return Vec::new();
            }
            m.to_bytes()
        }
        // Not enough bytes for a module: an empty input, skipped.
        Err(_) => Vec::new(),
    }
}

/// The three configurations and their engines.
pub struct Diff {
    guard: atoll::Atoll,
    explicit: atoll::Atoll,
    reference: reference::Reference,
}

impl Default for Diff {
    fn default() -> Self {
        Self::new()
    }
}

impl Diff {
    pub fn new() -> Diff {
        Diff {
            guard: atoll::Atoll::new(wasm_engine::BoundsChecks::Guard),
            explicit: atoll::Atoll::new(wasm_engine::BoundsChecks::Explicit),
            reference: reference::Reference::new(),
        }
    }

    /// Runs `wasm` in all three configurations and compares.
    pub fn run(&mut self, wasm: &[u8], stats: &mut Stats) -> Result<(), String> {
        stats.cases += 1;
        if wasm.is_empty() {
            stats.event("no module generated");
            return Ok(());
        }
        let plan = value::Plan::for_module(wasm)?;
        let wasmi = self.reference.run(wasm, &plan);
        let guard = self.guard.run(wasm, &plan);
        let explicit = self.explicit.run(wasm, &plan);
        stats.execs += compared(&[&wasmi, &guard, &explicit]);
        record(stats, &wasmi);
        value::compare("atoll (guard pages)", &guard, "wasmi", &wasmi)?;
        value::compare(
            "atoll (explicit checks)",
            &explicit,
            "atoll (guard pages)",
            &guard,
        )?;
        Ok(())
    }
}

/// Calls that ran to an answer in every configuration, up to the first stack exhaustion
/// (after which nothing is compared): the executions a module counts for.
fn compared(runs: &[&Run]) -> u64 {
    let n = runs.iter().map(|r| r.calls.len()).min().unwrap_or(0);
    (0..n)
        .take_while(|&i| {
            runs.iter()
                .all(|r| !matches!(r.calls[i].outcome, Outcome::Exhausted))
        })
        .count() as u64
}

fn record(stats: &mut Stats, run: &Run) {
    match &run.instantiate {
        Outcome::Values(_) => stats.event("instantiated"),
        other => stats.event(format!("instantiation: {}", other.kind())),
    }
    for call in &run.calls {
        match &call.outcome {
            Outcome::Values(_) => stats.event("call returned"),
            other => stats.event(format!("call: {}", other.kind())),
        }
    }
}
