mod common;

use common::*;
use wasm_engine::{Error, Store, TrapCode};

#[test]
fn every_trap_code() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (type $v (func))
          (table 2 funcref)
          (table $e 1 externref)
          (elem (i32.const 0) func $f)
          (memory 1)
          (func $f (param i32))
          (func (export "unreachable") unreachable)
          (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_u)
          (func (export "rem0") (result i64) i64.const 1 i64.const 0 i64.rem_s)
          (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
          (func (export "conv") (result i32) f32.const nan i32.trunc_f32_s)
          (func (export "conv_ovf") (result i64) f64.const 1e30 i64.trunc_f64_u)
          (func (export "mem") (result i32) i32.const 70000 i32.load)
          (func (export "table") (result externref) i32.const 5 table.get $e)
          (func (export "null") i32.const 1 call_indirect (type $v))
          (func (export "sig") i32.const 0 call_indirect (type $v))
          (func (export "undef") i32.const 2 call_indirect (type $v))
          (func $rec (export "recurse") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $rec))"#,
    );
    let cases: &[(&str, TrapCode)] = &[
        ("unreachable", TrapCode::Unreachable),
        ("div0", TrapCode::IntegerDivisionByZero),
        ("rem0", TrapCode::IntegerDivisionByZero),
        ("overflow", TrapCode::IntegerOverflow),
        ("conv", TrapCode::BadConversionToInteger),
        ("conv_ovf", TrapCode::IntegerOverflow),
        ("mem", TrapCode::MemoryOutOfBounds),
        ("table", TrapCode::TableOutOfBounds),
        ("null", TrapCode::IndirectCallToNull),
        ("sig", TrapCode::BadSignature),
        ("undef", TrapCode::UndefinedElement),
    ];
    for (name, code) in cases {
        let f = inst.get_func(&store, name).unwrap();
        let n = f.ty(&store).results().len();
        let mut out = vec![wasm_engine::Val::I32(0); n];
        let r = f.call(&mut store, &[], &mut out);
        assert_trap(r, *code);
        let msg = format!("{}", f.call(&mut store, &[], &mut out).unwrap_err());
        assert!(msg.contains(code.message()), "{msg}");
    }
    let rec = inst.get_typed_func::<i32, i32>(&store, "recurse").unwrap();
    assert_trap(rec.call(&mut store, 0), TrapCode::StackOverflow);
    assert!(format!("{}", rec.call(&mut store, 0).unwrap_err()).contains("call stack exhausted"));
}

#[test]
fn backtrace_names_functions() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func $inner (param i32) (result i32) local.get 0 i32.const 0 i32.div_s)
          (func $middle (param i32) (result i32) local.get 0 call $inner i32.const 1 i32.add)
          (func (export "outer") (param i32) (result i32) local.get 0 call $middle i32.const 2 i32.add))"#,
    );
    let f = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    match f.call(&mut store, 1) {
        Err(Error::Trap(t)) => {
            assert_eq!(t.code, TrapCode::IntegerDivisionByZero);
            let names: Vec<_> = t.backtrace.iter().map(|f| f.func_name.clone()).collect();
            assert_eq!(
                names,
                vec![Some("inner".to_string()), Some("middle".to_string()), None]
            );
            assert_eq!(
                t.backtrace.iter().map(|f| f.func_index).collect::<Vec<_>>(),
                vec![0, 1, 2]
            );
            assert!(t.backtrace[0].module_offset.is_some());
        }
        other => panic!("{other:?}"),
    }
}

/// `unreachable` is raised by a call rather than a fault (see `arch`); the trap and its
/// backtrace must look exactly like a fault's, also after a Wasm -> host -> Wasm nest.
#[test]
fn raised_unreachable_has_the_fault_backtrace() {
    let e = engine();
    let wat = r#"(module
          (func $inner (param i32) (result i32) local.get 0 if unreachable end i32.const 7)
          (func $middle (param i32) (result i32) local.get 0 call $inner i32.const 1 i32.add)
          (func (export "outer") (param i32) (result i32) local.get 0 call $middle i32.const 2 i32.add))"#;
    let unreachable_at = wasmparser::Parser::new(0)
        .parse_all(&wat::parse_str(wat).unwrap())
        .find_map(|p| match p.unwrap() {
            wasmparser::Payload::CodeSectionEntry(body) => body
                .get_operators_reader()
                .unwrap()
                .into_iter_with_offsets()
                .map(Result::unwrap)
                .find(|(op, _)| matches!(op, wasmparser::Operator::Unreachable))
                .map(|(_, offset)| offset as usize),
            _ => None,
        })
        .unwrap();
    let (mut store, inst) = instantiate(&e, wat);
    let f = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    for _ in 0..3 {
        assert_eq!(f.call(&mut store, 0).unwrap(), 10);
        match f.call(&mut store, 1) {
            Err(Error::Trap(t)) => {
                assert_eq!(t.code, TrapCode::Unreachable);
                let names: Vec<_> = t.backtrace.iter().map(|f| f.func_name.clone()).collect();
                assert_eq!(
                    names,
                    vec![Some("inner".to_string()), Some("middle".to_string()), None]
                );
                assert_eq!(t.backtrace[0].module_offset, Some(unreachable_at));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn thousand_traps_in_a_row() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (memory 1)
            (func (export "oob") (param i32) (result i32) local.get 0 i32.load)
            (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u))"#,
    );
    let oob = inst.get_typed_func::<i32, i32>(&store, "oob").unwrap();
    let div = inst.get_typed_func::<i32, i32>(&store, "div").unwrap();
    for i in 0..1000 {
        if i % 2 == 0 {
            assert_trap(oob.call(&mut store, 1 << 20), TrapCode::MemoryOutOfBounds);
        } else {
            assert_trap(div.call(&mut store, 0), TrapCode::IntegerDivisionByZero);
        }
    }
    assert_eq!(div.call(&mut store, 1).unwrap(), 1);
}

#[test]
fn stack_limit_is_configurable() {
    let src = r#"(module (func $rec (export "rec") (param i32) (result i32)
        local.get 0 i32.eqz if (result i32) i32.const 0
        else local.get 0 i32.const 1 i32.sub call $rec i32.const 1 i32.add end))"#;
    let e = engine();
    let (mut store, inst) = instantiate(&e, src);
    let rec = inst.get_typed_func::<i32, i32>(&store, "rec").unwrap();
    assert_eq!(rec.call(&mut store, 1000).unwrap(), 1000);
    let small = engine_with(|c| {
        c.max_wasm_stack(16 * 1024);
    });
    let (mut store2, inst2) = instantiate(&small, src);
    let rec2 = inst2.get_typed_func::<i32, i32>(&store2, "rec").unwrap();
    assert_trap(rec2.call(&mut store2, 100_000), TrapCode::StackOverflow);
    assert_eq!(rec2.call(&mut store2, 10).unwrap(), 10);
}

#[test]
fn many_instances() {
    let e = engine();
    let bytes = wat::parse_str(
        r#"(module (memory 1) (table 4 funcref) (global (mut i32) (i32.const 1))
            (func (export "f") (result i32) i32.const 4 i32.load))"#,
    )
    .unwrap();
    let module = wasm_engine::Module::new(&e, &bytes).unwrap();
    for _ in 0..50 {
        let mut store = Store::new(&e, ());
        for _ in 0..10 {
            let inst = wasm_engine::Instance::new(&mut store, &module, &[]).unwrap();
            let f = inst.get_typed_func::<(), i32>(&store, "f").unwrap();
            assert_eq!(f.call(&mut store, ()).unwrap(), 0);
        }
    }
    let mut store = Store::new(&e, ());
    store.limiter(wasm_engine::StoreLimitsBuilder::new().instances(3).build());
    for _ in 0..3 {
        wasm_engine::Instance::new(&mut store, &module, &[]).unwrap();
    }
    assert!(matches!(
        wasm_engine::Instance::new(&mut store, &module, &[]),
        Err(Error::ResourceLimit(_))
    ));
}
