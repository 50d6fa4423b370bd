//! Engine configuration.

use alloc::string::String;
use alloc::vec::Vec;

use wasmparser::WasmFeatures;

/// How linear-memory accesses are kept in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsChecks {
    /// Reserve 4 GiB + guard per memory; i32 accesses need no checks, the guard faults.
    Guard,
    /// Compare every access against the current length (no big reservation needed).
    Explicit,
}

/// Engine configuration, builder style.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) max_wasm_stack: usize,
    pub(crate) fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) bounds_checks: BoundsChecks,
    pub(crate) guard_size: u64,
    pub(crate) simd: bool,
    pub(crate) max_memory_pages: u64,
    pub(crate) target: Option<String>,
    pub(crate) cranelift_flags: Vec<String>,
    pub(crate) features: WasmFeatures,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// Defaults: 512 KiB Wasm stack, no fuel, no epochs, guard-page bounds checks with a
    /// 2 GiB guard, at most 4096 pages (256 MiB) per memory.
    pub fn new() -> Config {
        Config {
            max_wasm_stack: 512 * 1024,
            fuel: false,
            epoch_interruption: false,
            bounds_checks: if cfg!(target_pointer_width = "64") {
                BoundsChecks::Guard
            } else {
                BoundsChecks::Explicit
            },
            guard_size: 2 << 30,
            simd: false,
            max_memory_pages: 4096,
            target: None,
            cranelift_flags: Vec::new(),
            features: crate::validate::features(),
        }
    }
    /// The Wasm features modules may use (validation refuses the others). Defaults to
    /// every feature the engine implements, [`crate::validate::features`]; features
    /// outside that set are never accepted, whatever this says. The spec tests of a
    /// proposal run with Wasm 2.0 plus that proposal, as they were written.
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Self {
        self.features = features & crate::validate::features();
        self
    }
    /// Enables fuel metering (see `translate` for the cost model).
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.fuel = enable;
        self
    }
    /// Enables epoch checks at function entries and loop headers.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }
    /// Maximum stack Wasm may use below the point where the host entered it.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }
    pub fn bounds_checks(&mut self, mode: BoundsChecks) -> &mut Self {
        self.bounds_checks = mode;
        self
    }
    /// Size of the inaccessible region after the 4 GiB reservation (guard mode).
    pub fn guard_size(&mut self, bytes: u64) -> &mut Self {
        self.guard_size = bytes;
        self
    }
    /// The target has vector hardware for SIMD: on riscv64 this enables the V extension
    /// (VLEN >= 128) and without it SIMD modules fail to compile. x86_64 always has SIMD
    /// (SSE4.1 is the baseline), whatever this says.
    pub fn simd(&mut self, enable: bool) -> &mut Self {
        self.simd = enable;
        self
    }
    /// Default per-memory page limit of new stores.
    pub fn max_memory_pages(&mut self, pages: u64) -> &mut Self {
        self.max_memory_pages = pages;
        self
    }
    /// Target triple to compile for (default: the host).
    pub fn target(&mut self, triple: &str) -> &mut Self {
        self.target = Some(String::from(triple));
        self
    }
    /// Enables a boolean Cranelift setting by name: one of the target ISA (`has_avx2`,
    /// `has_zbb`: a kernel passes the CPU features it detected) or a shared one. As
    /// wasmtime's `cranelift_flag_enable`; an unknown name makes [`crate::Engine::new`]
    /// fail.
    ///
    /// # Safety
    /// An ISA feature must be present on every CPU that will run the compiled code,
    /// or JIT code executes instructions the CPU does not have.
    pub unsafe fn cranelift_flag_enable(&mut self, flag: &str) -> &mut Self {
        self.cranelift_flags.push(String::from(flag));
        self
    }
}
