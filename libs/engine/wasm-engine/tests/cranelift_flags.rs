//! `Config::cranelift_flag_enable`: the settings a kernel passes for the CPU features it
//! detected reach Cranelift (for both backends), and unknown names fail engine creation.
mod common;

use std::sync::Arc;

use common::*;
use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config, Engine, Module};

/// Bit counting, the operations BMI/LZCNT (x86_64) and Zbb (riscv64) change.
const BITS: &str = r#"(module
  (func (export "bits") (param i32 i64) (result i32)
    local.get 0 i32.popcnt
    local.get 0 i32.clz i32.add
    local.get 1 i64.ctz i32.wrap_i64 i32.add
    local.get 0 i32.const 3 i32.shl local.get 0 i32.add i32.add))"#;

#[test]
fn isa_flags_compile_for_both_targets() {
    let wasm = wat::parse_str(BITS).expect("wat");
    for (target, flags) in [
        (
            "riscv64gc-unknown-none-elf",
            &["has_zba", "has_zbb", "has_zbs", "has_zicond", "has_zfa"][..],
        ),
        (
            "x86_64-unknown-none",
            &[
                "has_lzcnt",
                "has_bmi1",
                "has_bmi2",
                "has_avx",
                "has_avx2",
                "has_fma",
            ][..],
        ),
    ] {
        let e = engine_with(|c| {
            c.target(target);
            for f in flags {
                // SAFETY: the code is compiled for another target and never run.
                unsafe { c.cranelift_flag_enable(f) };
            }
        });
        Module::new(&e, &wasm).unwrap_or_else(|err| panic!("{target} {flags:?}: {err}"));
    }
}

#[test]
fn shared_flags_apply_and_the_code_runs() {
    let e = engine_with(|c| {
        // SAFETY: not an ISA feature.
        unsafe { c.cranelift_flag_enable("enable_nan_canonicalization") };
    });
    let (mut store, instance) = instantiate(&e, BITS);
    let f = instance
        .get_typed_func::<(i32, i64), i32>(&store, "bits")
        .expect("export");
    // popcnt 1 + clz 31 + ctz 3 + (1 << 3) + 1.
    assert_eq!(f.call(&mut store, (1, 8)).expect("call"), 1 + 31 + 3 + 9);
}

#[test]
fn unknown_flags_are_refused_by_name() {
    let mut config = Config::new();
    // SAFETY: the engine refuses the name before compiling anything.
    unsafe { config.cranelift_flag_enable("has_warp_drive") };
    let err = Engine::new(&config, Arc::new(LinuxPlatform::new()))
        .err()
        .expect("an unknown setting was accepted");
    assert!(format!("{err}").contains("has_warp_drive"), "{err}");
}
