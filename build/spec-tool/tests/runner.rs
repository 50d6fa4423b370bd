//! spec-runner semantics on handwritten scripts, through the real converter,
//! the bundle encoding and the engine's Linux backend.

use spec_bundle::Bundle;
use spec_runner::{FileReport, Quiet, run_file};
use spec_tool::convert_wast;

fn run(text: &str) -> FileReport {
    let converted = convert_wast("test.wast", text).expect("script parses");
    assert_eq!(converted.errors, vec![], "conversion errors");
    // Go through the wire format, as the kernel will.
    let bundle = Bundle {
        files: vec![converted.file],
    };
    let decoded = Bundle::decode(&bundle.encode()).expect("bundle decodes");
    let platform = std::sync::Arc::new(wasm_engine::linux::LinuxPlatform::new());
    let engine = wasm_engine::Engine::new(&wasm_engine::Config::new(), platform).unwrap();
    run_file(&engine, &decoded.files[0], &mut Quiet)
}

const MODULE: &str = r#"
(module $M
  (import "spectest" "global_i32" (global $g666 i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (memory (export "mem") 1)
  (global $g (export "g") (mut i32) (i32.const 7))
  (func (export "add") (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.add))
  (func (export "div") (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.div_s))
  (func (export "g666") (result i32) (call $print (global.get $g666)) (global.get $g666))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "fnan") (result f64) (f64.const nan:0x8000000000001))
  (func (export "ext") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func $f (export "func") (result funcref) (ref.func $f))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $rec (export "rec") (call $rec))
  (func (export "two") (result i32 i64) (i32.const 1) (i64.const -1))
)
(register "M" $M)
"#;

#[test]
fn passing_assertions_pass() {
    let script = format!(
        "{MODULE}{}",
        r#"
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke $M "add" (i32.const -1) (i32.const 0)) (i32.const -1))
(assert_return (get "g") (i32.const 7))
(assert_return (invoke "g666") (i32.const 666))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "nan") (f32.const nan:arithmetic))
(assert_return (invoke "fnan") (f64.const nan:arithmetic))
(assert_return (invoke "ext" (ref.extern 5)) (ref.extern 5))
(assert_return (invoke "ext" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_return (invoke "func") (ref.func))
(assert_return (invoke "two") (i32.const 1) (i64.const -1))
(invoke "add" (i32.const 0) (i32.const 0))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
(assert_trap (invoke "load" (i32.const 65534)) "out of bounds memory access")
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_unlinkable (module (import "M" "nope" (func))) "unknown import")
(assert_unlinkable (module (import "M" "add" (func (param i64)))) "incompatible import type")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(module $N (import "M" "add" (func $add (param i32 i32) (result i32)))
  (func (export "inc") (param i32) (result i32) (call $add (local.get 0) (i32.const 1))))
(assert_return (invoke "inc" (i32.const 41)) (i32.const 42))
(assert_return (invoke $M "add" (i32.const 2) (i32.const 2)) (i32.const 4))
"#
    );
    let report = run(&script);
    assert_eq!(report.failures, vec![]);
    assert_eq!(report.passed, 24);
    assert_eq!(report.host_checked, 1);
    assert_eq!(report.failed, 0);
}

#[test]
fn wrong_expectations_fail() {
    let script = format!(
        "{MODULE}{}",
        r#"
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_return (get "g") (i64.const 7))
(assert_return (invoke "nan") (f32.const 0))
(assert_return (invoke "fnan") (f64.const nan:canonical))
(assert_return (invoke "ext" (ref.extern 5)) (ref.extern 6))
(assert_return (invoke "null") (ref.func))
(assert_return (invoke "two") (i32.const 1))
(assert_return (invoke "missing"))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer overflow")
(assert_trap (invoke "add" (i32.const 1) (i32.const 0)) "unreachable")
(assert_exhaustion (invoke "add" (i32.const 1) (i32.const 0)) "call stack exhausted")
(assert_malformed (module) "should have failed")
(assert_invalid (module (func)) "should have failed")
(assert_unlinkable (module (import "M" "add" (func (param i32 i32) (result i32)))) "links fine")
(assert_trap (module (func $s) (start $s)) "unreachable")
(invoke "div" (i32.const 1) (i32.const 0))
"#
    );
    let report = run(&script);
    assert_eq!(report.passed, 0, "{:#?}", report.failures);
    // 15 failed assertions plus the trapping bare `invoke`.
    assert_eq!(report.failed, 16, "{:#?}", report.failures);
    assert!(report.failures.last().is_some_and(|f| !f.assertion));
}

#[test]
fn failed_module_leaves_no_current_module() {
    let report = run(r#"
(module (func (export "f") (result i32) (i32.const 1)))
(module (func (export "f") (result i32) (i64.const 1)))
(assert_return (invoke "f") (i32.const 1))
"#);
    // The invalid module and the assertion against it both fail: the
    // assertion must not silently run against the first module.
    assert_eq!(report.passed, 0);
    assert_eq!(report.failed, 2);
}

#[test]
fn module_definitions_and_instances() {
    let report = run(r#"
(module definition $D (global (export "g") (mut i32) (i32.const 3))
  (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))
(module instance $I1 $D)
(module instance $I2 $D)
(invoke $I1 "bump")
(assert_return (get $I1 "g") (i32.const 4))
(assert_return (get $I2 "g") (i32.const 3))
"#);
    assert_eq!(report.failures, vec![]);
    assert_eq!(report.passed, 2);
}

#[test]
fn v128_lane_patterns() {
    let report = run(r#"
(module
  (func (export "lanes") (result v128) (v128.const f32x4 nan 1 -0 2))
  (func (export "id") (param v128) (result v128) (local.get 0)))
(assert_return (invoke "lanes") (v128.const f32x4 nan:canonical 1 -0 2))
(assert_return (invoke "lanes") (v128.const f32x4 nan:arithmetic 1 -0 2))
(assert_return (invoke "lanes") (v128.const f32x4 nan:canonical 1 0 2))
(assert_return (invoke "id" (v128.const i16x8 -1 0 0 0 0 0 0 1)) (v128.const i16x8 -1 0 0 0 0 0 0 1))
(assert_return (invoke "id" (v128.const i16x8 -1 0 0 0 0 0 0 1)) (v128.const i16x8 -1 0 0 0 0 0 0 2))
"#);
    assert_eq!(report.passed, 3, "{:#?}", report.failures);
    assert_eq!(
        report.failures.iter().map(|f| f.line).collect::<Vec<_>>(),
        [7, 9]
    );
}

/// The real `i32.wast` passes as converted, and fails exactly where its
/// expectations are corrupted: the runner is not vacuously passing.
#[test]
fn corrupted_real_script_fails_where_corrupted() {
    use spec_bundle::{CommandKind, Expected};

    let file = spec_tool::suite::wasm2()
        .into_iter()
        .find(|f| f.name == "wasm-v2/i32.wast")
        .unwrap();
    let mut converted = convert_wast(file.name, file.text).unwrap().file;
    let platform = std::sync::Arc::new(wasm_engine::linux::LinuxPlatform::new());
    let engine = wasm_engine::Engine::new(&wasm_engine::Config::new(), platform).unwrap();
    let clean = run_file(&engine, &converted, &mut Quiet);
    assert_eq!(clean.failures, vec![]);
    assert_eq!(clean.passed as usize, converted.assertion_count());

    let mut corrupted = 0;
    for command in &mut converted.commands {
        match &mut command.kind {
            CommandKind::AssertReturn { expected, .. } => {
                if let [Expected::I32(v)] = expected.as_mut_slice() {
                    *v ^= 1;
                    corrupted += 1;
                }
            }
            CommandKind::AssertTrap { message, .. } => {
                *message = if message.starts_with("integer divide") {
                    "integer overflow".into()
                } else {
                    "integer divide by zero".into()
                };
                corrupted += 1;
            }
            _ => {}
        }
    }
    let report = run_file(&engine, &converted, &mut Quiet);
    assert!(corrupted > 300, "only {corrupted} corrupted");
    assert_eq!(report.failed, corrupted);
    assert_eq!(
        report.passed as usize,
        converted.assertion_count() - corrupted as usize
    );
}
