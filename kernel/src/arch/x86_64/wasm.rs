//! x86_64 side of running Wasm: the CPU features JIT code may use (as
//! Cranelift settings) and making published code visible to every CPU.

use alloc::format;
use alloc::vec::Vec;

use wasm_engine::{Config, Error};

use super::features::{self, Features};

/// What the engine's x86_64 backend always assumes (x86-64-v2 minus
/// CMPXCHG16B), so Wasm runs only where every CPU has it.
const BASELINE: [(Features, &str); 5] = [
    (Features::SSE3, "SSE3"),
    (Features::SSSE3, "SSSE3"),
    (Features::SSE41, "SSE4.1"),
    (Features::SSE42, "SSE4.2"),
    (Features::POPCNT, "POPCNT"),
];

/// Features beyond the baseline and the Cranelift settings that use them.
const OPTIONAL: [(Features, &str); 7] = [
    (Features::CMPXCHG16B, "has_cmpxchg16b"),
    (Features::LZCNT, "has_lzcnt"),
    (Features::BMI1, "has_bmi1"),
    (Features::BMI2, "has_bmi2"),
    (Features::AVX, "has_avx"),
    (Features::AVX2, "has_avx2"),
    (Features::FMA, "has_fma"),
];

/// The baseline features `have` lacks, by name.
fn missing(have: Features) -> Vec<&'static str> {
    BASELINE
        .iter()
        .filter(|(f, _)| !have.contains(*f))
        .map(|&(_, name)| name)
        .collect()
}

/// The Cranelift settings for the optional features in `have`.
pub fn cranelift_flags(have: Features) -> impl Iterator<Item = &'static str> {
    OPTIONAL
        .into_iter()
        .filter(move |(f, _)| have.contains(*f))
        .map(|(_, flag)| flag)
}

/// Makes `config` compile for what every CPU has; fails (with the missing
/// features named) on CPUs below the engine's baseline.
pub fn configure(config: &mut Config) -> Result<(), Error> {
    let have = features::every_cpu();
    let missing = missing(have);
    if !missing.is_empty() {
        return Err(Error::Platform(format!(
            "Wasm needs SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT on every CPU; missing: {}",
            missing.join(", ")
        )));
    }
    for flag in cranelift_flags(have) {
        // SAFETY: every CPU reported the feature, with its OS state enabled.
        unsafe { config.cranelift_flag_enable(flag) };
    }
    // SSE4.1 is the x86_64 engine's SIMD baseline.
    config.simd(true);
    Ok(())
}

/// A CPU feature Cranelift knows that this kernel never enables (AVX-512),
/// so no engine here has it (tests of artifacts).
#[cfg(feature = "ktest")]
pub const FEATURE_NEVER_USED: &str = "has_avx512f";

/// Why Wasm SIMD cannot run here, for the error a SIMD module gets.
pub const SIMD_MISSING: &str = "the CPU lacks the engine's SSE4.1 baseline";

/// Whether Wasm SIMD compiles and runs here (the baseline is present).
pub fn simd_supported() -> bool {
    missing(features::every_cpu()).is_empty()
}

/// Makes freshly published code safe to execute on every CPU. Nothing to
/// do on x86_64: instruction fetch is coherent with data stores (caches
/// and prefetch are snooped by physical address), and the remaining
/// requirement for cross-modifying code, a serializing instruction on
/// each executing CPU after the store (Intel SDM vol. 3, 9.1.3), is met by
/// the W^X remap that publishing does first: the local `invlpg` (or CR4
/// write) serializes this CPU, and every other online CPU serializes in
/// the TLB shootdown (its `invlpg` and the `iretq` ending the IPI) before
/// the publisher continues. CPUs started later serialize while starting
/// (`lgdt`, `lidt`, CR writes).
pub fn sync_icache_all_harts() {}

/// Nothing to do on x86_64 (see [`sync_icache_all_harts`]).
pub fn sync_icache_this_hart() {}

#[cfg(feature = "ktest")]
mod tests {
    use ktest::ktest;

    use super::*;

    ktest! {
        fn x86_isa_features_become_cranelift_settings() {
            let every = features::every_cpu();
            // The intersection never claims more than this CPU has.
            let here = features::detect();
            assert!(here.contains(every), "every CPU {every:?} vs this one {here:?}");
            // The test machines (configs/qemu-x86_64*.toml) meet the baseline
            // and have AVX with XSAVE enabled.
            assert!(simd_supported(), "baseline missing: {:?}", missing(every));
            assert_eq!(every.contains(Features::AVX), crate::arch::has_vector());
            let flags: Vec<_> = cranelift_flags(every).collect();
            assert_eq!(flags.contains(&"has_avx"), every.contains(Features::AVX));
            assert_eq!(flags.contains(&"has_avx2"), every.contains(Features::AVX2));
            // Without the baseline, engines are refused with a clear reason.
            assert_eq!(missing(Features::empty()).len(), BASELINE.len());
            let mut config = Config::new();
            configure(&mut config).unwrap();
            let e = wasm_engine::Engine::new(&config, alloc::sync::Arc::new(
                crate::wasm::engine::KernelPlatform::default(),
            ));
            assert!(e.is_ok(), "Cranelift rejected the detected settings");
        }
    }
}
