//! The `malformed` target: a valid module (`wasm-smith`, the Wasm 2.0 set or every feature
//! it knows) given one to four mutations ([`crate::mutate`]), then handed to atoll's engine.
//! It must answer with an `Error`, or with a module that instantiates and runs (fuel-bounded)
//! without crashing; it must accept exactly what wasmparser's validator accepts with the
//! engine's features, except that a valid module may be refused with an `unsupported:`
//! compile error naming a feature that validates but is not implemented (GC's types,
//! `table64`); and
//! the process must not grow without bound (address-space mappings and resident memory are
//! checked every [`LEAK_CHECK_EVERY`] cases).

use std::sync::Arc;

use arbitrary::Unstructured;
use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config, Engine, Error, Instance, Module, Store, StoreLimitsBuilder, Val};

use crate::rng::Rng;
use crate::stats::Stats;

/// Cases between two leak checks.
pub const LEAK_CHECK_EVERY: u64 = 2000;
/// Fuel for running an accepted module's exports.
const FUEL: u64 = 200_000;

/// A mutated module.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let config = if rng.one_in(3) {
        // Every feature wasm-smith has: the engine must refuse what is beyond Wasm 2.0.
        wasm_smith::Config {
            max_imports: rng.below(3) as usize,
            ..wasm_smith::Config::default()
        }
    } else {
        crate::diff::smith_config(rng)
    };
    let len = 64 + rng.below(8 << 10) as usize;
    let bytes = rng.bytes(len);
    let mut wasm = match wasm_smith::Module::new(config, &mut Unstructured::new(&bytes)) {
        Ok(m) => m.to_bytes(),
        Err(_) => b"\0asm\x01\0\0\0".to_vec(),
    };
    for _ in 0..1 + rng.below(4) {
        crate::mutate::mutate(rng, &mut wasm);
    }
    wasm
}

pub struct Malformed {
    engine: Engine,
    validator_features: wasmparser::WasmFeatures,
    cases: u64,
    baseline: Option<(usize, usize)>,
}

impl Default for Malformed {
    fn default() -> Self {
        Self::new()
    }
}

impl Malformed {
    pub fn new() -> Malformed {
        let mut config = Config::new();
        config.consume_fuel(true).simd(true);
        Malformed {
            engine: Engine::new(&config, Arc::new(LinuxPlatform::new()))
                .expect("atoll's engine supports the host"),
            validator_features: wasm_engine::validate::features(),
            cases: 0,
            baseline: None,
        }
    }

    pub fn run(&mut self, wasm: &[u8], stats: &mut Stats) -> Result<(), String> {
        stats.cases += 1;
        stats.execs += 1;
        let valid = wasmparser::Validator::new_with_features(self.validator_features)
            .validate_all(wasm)
            .is_ok();
        match (Module::new(&self.engine, wasm), valid) {
            (Err(_), false) => stats.event("rejected (invalid)"),
            (Ok(_), false) => return Err("atoll accepted a module wasmparser rejects".into()),
            (Err(Error::Compile { message, .. }), true) if message.starts_with("unsupported:") => {
                stats.event("refused (unsupported feature)")
            }
            (Err(e), true) => {
                return Err(format!("atoll rejected a valid module: {e}"));
            }
            (Ok(module), true) => {
                stats.event("accepted (valid)");
                self.exercise(&module, stats);
            }
        }
        self.cases += 1;
        self.check_growth()
    }

    /// Instantiates an accepted module without imports and calls each export once.
    fn exercise(&self, module: &Module, stats: &mut Stats) {
        if module.imports().next().is_some() {
            stats.event("has imports: not run");
            return;
        }
        let mut store = Store::new(&self.engine, ());
        store.limiter(
            StoreLimitsBuilder::new()
                .memory_size(16 << 20)
                .table_elements(100_000)
                .build(),
        );
        if store.set_fuel(FUEL).is_err() {
            return;
        }
        let instance = match Instance::new(&mut store, module, &[]) {
            Ok(i) => i,
            Err(_) => {
                stats.event("instantiation failed");
                return;
            }
        };
        let funcs: Vec<_> = instance
            .exports(&store)
            .filter_map(|(_, e)| e.into_func())
            .collect();
        for f in funcs {
            let ty = f.ty(&store);
            let params: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
            let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
            let _ = store.set_fuel(FUEL);
            match f.call(&mut store, &params, &mut results) {
                Ok(()) => stats.event("export returned"),
                Err(e) => stats.event(format!("export failed: {}", kind(&e))),
            }
        }
    }

    /// Every [`LEAK_CHECK_EVERY`] cases: mappings and resident memory must not keep growing.
    fn check_growth(&mut self) -> Result<(), String> {
        if !self.cases.is_multiple_of(LEAK_CHECK_EVERY) {
            return Ok(());
        }
        let now = (mappings(), resident_bytes());
        let Some(base) = self.baseline else {
            self.baseline = Some(now);
            return Ok(());
        };
        if now.0 > base.0 + 512 {
            return Err(format!(
                "address-space mappings grew from {} to {} over {} cases",
                base.0, now.0, self.cases
            ));
        }
        if now.1 > base.1 + (1 << 30) {
            return Err(format!(
                "resident memory grew from {} MiB to {} MiB over {} cases",
                base.1 >> 20,
                now.1 >> 20,
                self.cases
            ));
        }
        Ok(())
    }
}

fn kind(e: &wasm_engine::Error) -> String {
    match e {
        wasm_engine::Error::Trap(t) => format!("trap {:?}", t.code),
        wasm_engine::Error::OutOfFuel => "out of fuel".into(),
        other => {
            let s = other.to_string();
            s.split(':').next().unwrap_or("error").to_string()
        }
    }
}

/// Lines of `/proc/self/maps`: the process's mappings.
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |s| s.lines().count())
}

/// Resident set size, from `/proc/self/statm`.
pub fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
