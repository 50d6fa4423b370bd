//! Precompiled modules: they run like the JIT's, and a corrupt or mismatched artifact
//! is refused with its reason.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

use super::codec::{Reader, Writer};
use super::header::Header;
use super::{CHECKSUM_LEN, MAGIC, body, checksum};
use crate::linux::LinuxPlatform;
use crate::{Config, Engine, Error, ExternType, FuncType, Instance, Module, Store, Val, ValType};

/// Every kind of relocation and runtime call: direct and indirect calls, memory and
/// table instructions that call the runtime, traps, data and element segments.
const WAT: &str = r#"(module
  (type $un (func (param i32) (result i32)))
  (memory 1 4)
  (table 4 funcref)
  (data (i32.const 16) "\2a\00\00\00")
  (elem (i32.const 0) $double $inc)
  (func $double (type $un) local.get 0 i32.const 2 i32.mul)
  (func $inc (type $un) local.get 0 i32.const 1 i32.add)
  (func (export "direct") (param i32) (result i32) local.get 0 call $double call $inc)
  (func (export "indirect") (param i32 i32) (result i32)
    local.get 0 local.get 1 call_indirect (type $un))
  (func (export "bad_sig") (result i32) i32.const 5 i32.const 0 call_indirect (param i32) (result i64) i32.wrap_i64)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "fill") (param i32) (result i32)
    i32.const 0 local.get 0 i32.const 8 memory.fill i32.const 4 i32.load)
  (func (export "table_size") (param i32) (result i32)
    ref.null func local.get 0 table.grow drop table.size)
  (func (export "div") (param i32) (result i32) i32.const 100 local.get 0 i32.div_s))"#;

fn engine_with(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config, Arc::new(LinuxPlatform::new())).expect("engine")
}

fn wasm() -> Vec<u8> {
    wat::parse_str(WAT).expect("wat")
}

/// Calls every export on a fresh instance with `arg`, in order: results or errors.
fn run(engine: &Engine, module: &Module, arg: i32) -> Vec<String> {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[]).expect("instantiate");
    let names: Vec<String> = module.exports().map(|e| String::from(e.name())).collect();
    let mut out = Vec::new();
    for name in names {
        let f = instance.get_func(&mut store, &name).expect("export");
        let ty = f.ty(&store);
        let params: Vec<Val> = ty.params().iter().map(|_| Val::I32(arg)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|_| Val::I32(0)).collect();
        let r = f.call(&mut store, &params, &mut results);
        out.push(alloc::format!("{name}: {r:?} {results:?}"));
    }
    out
}

fn refused<T>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Artifact(why)) => why,
        Err(e) => panic!("expected a refused artifact, got {e}"),
        Ok(_) => panic!("a bad artifact was accepted"),
    }
}

/// `artifact` with its header changed by `f`, and a valid checksum again.
fn with_header(artifact: &[u8], f: impl FnOnce(&mut Header)) -> Vec<u8> {
    let mut r = Reader::new(body(artifact).expect("valid"));
    let mut header = Header::read(&mut r).expect("header");
    let rest = r
        .raw(artifact.len() - CHECKSUM_LEN - MAGIC.len() - r.pos())
        .expect("rest");
    f(&mut header);
    let mut w = Writer::default();
    w.raw(MAGIC);
    header.write(&mut w);
    w.raw(rest);
    let sum = checksum(&w.bytes);
    w.raw(&sum);
    w.bytes
}

#[test]
fn a_precompiled_module_runs_like_the_jit_in_another_engine() {
    let wasm = wasm();
    let jit_engine = engine_with(|_| {});
    let jit = Module::new(&jit_engine, &wasm).expect("compile");
    let artifact = jit_engine.precompile(&wasm).expect("precompile");
    // Another engine, whose signature ids differ (it interned other types first).
    let other = engine_with(|_| {});
    let _ = Module::new(
        &other,
        &wat::parse_str("(module (func (param f64 f32)))").unwrap(),
    );
    let loaded = Module::deserialize(&other, &artifact, Some(&Sha256::digest(&wasm).into()))
        .expect("deserialize");
    for arg in [0, 1, 2, 3, 7, -1] {
        assert_eq!(
            run(&jit_engine, &jit, arg),
            run(&other, &loaded, arg),
            "arg {arg}"
        );
    }
    assert!(
        run(&other, &loaded, 1)
            .iter()
            .any(|r| r.contains("BadSignature"))
    );
    let types: Vec<FuncType> = loaded
        .exports()
        .filter_map(|e| match e.ty() {
            ExternType::Func(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(types[0], FuncType::new([ValType::I32], [ValType::I32]));
}

#[test]
fn a_flipped_byte_in_an_artifact_is_rejected_with_the_reason() {
    let engine = engine_with(|_| {});
    let artifact = engine.precompile(&wasm()).expect("precompile");
    for at in [MAGIC.len() + 3, artifact.len() / 2, artifact.len() - 1] {
        let mut bad = artifact.clone();
        bad[at] ^= 0x10;
        assert!(
            refused(Module::deserialize(&engine, &bad, None)).contains("checksum"),
            "byte {at}"
        );
    }
    let mut bad = artifact.clone();
    bad[0] ^= 1;
    assert!(refused(Module::deserialize(&engine, &bad, None)).contains("bad magic"));
}

#[test]
fn every_truncation_of_an_artifact_is_an_error_not_a_panic() {
    let engine = engine_with(|_| {});
    let artifact = engine.precompile(&wasm()).expect("precompile");
    for len in (0..artifact.len()).step_by(7) {
        refused(Module::deserialize(&engine, &artifact[..len], None));
    }
}

#[test]
fn an_artifact_of_another_engine_version_is_rejected_with_the_reason() {
    let engine = engine_with(|_| {});
    let artifact = engine.precompile(&wasm()).expect("precompile");
    let old = with_header(&artifact, |h| {
        h.engine_version = String::from("atoll-wasm-engine 0.0.1 format 0")
    });
    let why = refused(Module::deserialize(&engine, &old, None));
    assert!(
        why.contains("engine version atoll-wasm-engine 0.0.1"),
        "{why}"
    );
    let moved = with_header(&artifact, |h| {
        h.triple = String::from("riscv64gc-unknown-none-elf")
    });
    assert!(refused(Module::deserialize(&engine, &moved, None)).contains("target riscv64gc"));
}

#[test]
fn an_artifact_for_other_isa_flags_is_rejected_with_the_reason() {
    let target = "x86_64-unknown-linux-gnu";
    let plain = engine_with(|c| {
        c.target(target);
    });
    let avx2 = engine_with(|c| {
        c.target(target);
        // SAFETY: the code compiled with it is never run.
        unsafe { c.cranelift_flag_enable("has_avx2") };
    });
    let wasm = wasm();
    let why = refused(Module::deserialize(
        &plain,
        &avx2.precompile(&wasm).unwrap(),
        None,
    ));
    assert!(
        why.contains("CPU feature has_avx2, which this machine lacks"),
        "{why}"
    );
    // Code for fewer CPU features runs where there are more.
    Module::deserialize(&avx2, &plain.precompile(&wasm).unwrap(), None).expect("subset");
    let flags = with_header(&plain.precompile(&wasm).unwrap(), |h| {
        for (k, v) in &mut h.shared_flags {
            if k == "opt_level" {
                *v = String::from("none");
            }
        }
    });
    let why = refused(Module::deserialize(&plain, &flags, None));
    assert!(
        why.contains("opt_level=none, this engine has speed"),
        "{why}"
    );
}

#[test]
fn an_artifact_with_other_code_options_is_rejected_with_the_reason() {
    let wasm = wasm();
    let artifact = engine_with(|_| {}).precompile(&wasm).unwrap();
    let fuel = engine_with(|c| {
        c.consume_fuel(true);
    });
    assert!(refused(Module::deserialize(&fuel, &artifact, None)).contains("fuel"));
    let guard = engine_with(|c| {
        c.guard_size(1 << 20);
    });
    assert!(refused(Module::deserialize(&guard, &artifact, None)).contains("guard size"));
}

#[test]
fn an_artifact_of_another_wasm_module_is_rejected_with_the_reason() {
    let engine = engine_with(|_| {});
    let artifact = engine.precompile(&wasm()).unwrap();
    let other = wat::parse_str("(module)").unwrap();
    let why = refused(Module::deserialize(
        &engine,
        &artifact,
        Some(&Sha256::digest(&other).into()),
    ));
    assert!(why.contains("another Wasm module"), "{why}");
    let source = Module::precompiled_source_sha256(&artifact).unwrap();
    assert_eq!(source, <[u8; 32]>::from(Sha256::digest(wasm())));
}

#[test]
fn the_bytes_beside_an_artifact_are_checked_to_be_its_source() {
    let engine = engine_with(|_| {});
    let artifact = engine.precompile(&wasm()).unwrap();
    let sha = Module::precompiled_source_of(&artifact, &wasm()).expect("its own source");
    assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(wasm())));
    let mut changed = wasm();
    *changed.last_mut().unwrap() ^= 1;
    let why = refused(Module::precompiled_source_of(&artifact, &changed));
    assert!(why.contains("another Wasm module"), "{why}");
    let why = refused(Module::precompiled_source_of(&artifact, &wasm()[1..]));
    assert!(why.contains("another Wasm module"), "{why}");
}

#[test]
fn a_precompiled_module_brings_the_trampolines_its_instances_need() {
    let wasm = wat::parse_str(
        r#"(module
          (import "host" "f" (func $f (param i32) (result i32)))
          (import "host" "v" (func $v (param v128)))
          (func (export "run") (param i32) (result i32) local.get 0 call $f))"#,
    )
    .expect("wat");
    let artifact = Engine::default().precompile(&wasm).expect("precompile");
    let engine = Engine::default();
    let module =
        Module::deserialize(&engine, &artifact, Some(&Sha256::digest(&wasm).into())).expect("load");
    use crate::runtime::engine::TrampolineKind::{Entry, HostArray, HostNative};
    let sig = |params: Vec<ValType>, results: Vec<ValType>| {
        engine.intern(&FuncType::new(params, results))
    };
    let (run_sig, v_sig) = (
        sig(alloc::vec![ValType::I32], alloc::vec![ValType::I32]),
        sig(alloc::vec![ValType::V128], alloc::vec![]),
    );
    for (kind, sig, want) in [
        (Entry, run_sig, true),
        (HostArray, run_sig, true),
        (HostNative, run_sig, true),
        (HostArray, v_sig, true),
        // A v128 parameter never takes the native path.
        (HostNative, v_sig, false),
    ] {
        assert_eq!(engine.has_trampoline(kind, sig), want, "{kind:?} {sig}");
    }
    // And they work: the typed host function runs through the adopted trampolines.
    let mut store = Store::new(&engine, ());
    let mut linker = crate::Linker::new(&engine);
    linker
        .func_wrap("host", "f", |x: i32| x * 3)
        .expect("define");
    linker.func_wrap("host", "v", |_: u128| {}).expect("define");
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .expect("run");
    assert_eq!(run.call(&mut store, 14).expect("call"), 42);
}

/// The `has_*` settings a header turns on.
fn features_on(h: &Header) -> Vec<&str> {
    let mut on: Vec<&str> = h
        .isa_flags
        .iter()
        .filter(|(k, v)| k.starts_with("has_") && v == "true")
        .map(|(k, _)| k.as_str())
        .collect();
    on.sort_unstable();
    on
}

#[test]
fn an_engine_without_the_compiler_expects_what_cranelift_would_compile_with() {
    let source = super::header::Source::of(&wasm());
    let cases: [(&str, bool, &[&str]); 4] = [
        ("riscv64gc-unknown-none-elf", false, &[]),
        ("riscv64gc-unknown-none-elf", true, &["has_zba", "has_zbb"]),
        ("x86_64-unknown-none", true, &[]),
        (
            "x86_64-unknown-none",
            true,
            &["has_avx", "has_avx2", "has_bmi2"],
        ),
    ];
    for (target, simd, flags) in cases {
        let engine = engine_with(|c| {
            c.target(target).epoch_interruption(true).simd(simd);
            for f in flags {
                // SAFETY: nothing compiled here runs.
                unsafe { c.cranelift_flag_enable(f) };
            }
        });
        let compiled = Header::of(&engine, source);
        let expected = Header::without_compiler(&engine, source);
        let what = alloc::format!("{target} simd={simd} {flags:?}");
        assert_eq!(expected.shared_flags, compiled.shared_flags, "{what}");
        assert_eq!(features_on(&expected), features_on(&compiled), "{what}");
        let rest = |h: &Header| {
            (
                h.engine_version.clone(),
                h.triple.clone(),
                h.fuel,
                h.epoch,
                h.explicit_bounds,
                h.guard_size,
            )
        };
        assert_eq!(rest(&expected), rest(&compiled), "{what}");
    }
}
