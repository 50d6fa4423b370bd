mod common;

use common::*;
use wasm_engine::{Error, Func, FuncType, Module, Store, TrapCode, Val, ValType};

#[test]
fn add_and_trap() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
            (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
            (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
            (func (export "unreachable") unreachable))"#,
    );
    let add = inst
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
    let div = inst
        .get_typed_func::<(i32, i32), i32>(&store, "div")
        .unwrap();
    assert_eq!(div.call(&mut store, (-7, 2)).unwrap(), -3);
    assert_trap(
        div.call(&mut store, (1, 0)),
        TrapCode::IntegerDivisionByZero,
    );
    assert_trap(
        div.call(&mut store, (i32::MIN, -1)),
        TrapCode::IntegerOverflow,
    );
    let u = inst
        .get_typed_func::<(), ()>(&store, "unreachable")
        .unwrap();
    assert_trap(u.call(&mut store, ()), TrapCode::Unreachable);
    // Still usable after traps.
    assert_eq!(add.call(&mut store, (1, 1)).unwrap(), 2);
}

#[test]
fn untyped_call_checks_types() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (func (export "f") (param i64 f64) (result f64 i64)
            local.get 1 local.get 0))"#,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let mut out = [Val::I32(0), Val::I32(0)];
    f.call(&mut store, &[Val::I64(7), Val::from(1.5f64)], &mut out)
        .unwrap();
    assert_eq!(out[0].f64(), Some(1.5));
    assert_eq!(out[1].i64(), Some(7));
    assert!(matches!(
        f.call(&mut store, &[Val::I32(7), Val::from(1.5f64)], &mut out),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        f.call(&mut store, &[Val::I64(7)], &mut out),
        Err(Error::Usage(_))
    ));
}

#[test]
fn control_flow() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func $fac (export "fac") (param i64) (result i64)
            local.get 0 i64.eqz
            if (result i64) i64.const 1
            else local.get 0 local.get 0 i64.const 1 i64.sub call $fac i64.mul end)
          (func (export "loop") (param i32) (result i32) (local i32)
            block loop
              local.get 0 i32.eqz br_if 1
              local.get 1 local.get 0 i32.add local.set 1
              local.get 0 i32.const 1 i32.sub local.set 0
              br 0
            end end
            local.get 1)
          (func (export "table") (param i32) (result i32)
            block block block
              local.get 0 br_table 0 1 2
            end i32.const 10 return
            end i32.const 20 return
            end i32.const 30)
          (func (export "multi") (param i32 i32) (result i32 i32)
            local.get 0 local.get 1
            block (param i32 i32) (result i32 i32)
              i32.add i32.const 5
            end)
          (func (export "swap") (param i32 i32) (result i32 i32) local.get 1 local.get 0)
          (func (export "select") (param i32) (result i32)
            i32.const 1 i32.const 2 local.get 0 select))"#,
    );
    let fac = inst.get_typed_func::<i64, i64>(&store, "fac").unwrap();
    assert_eq!(fac.call(&mut store, 20).unwrap(), 2432902008176640000);
    let lp = inst.get_typed_func::<i32, i32>(&store, "loop").unwrap();
    assert_eq!(lp.call(&mut store, 100).unwrap(), 5050);
    let t = inst.get_typed_func::<i32, i32>(&store, "table").unwrap();
    assert_eq!(t.call(&mut store, 0).unwrap(), 10);
    assert_eq!(t.call(&mut store, 1).unwrap(), 20);
    assert_eq!(t.call(&mut store, 2).unwrap(), 30);
    assert_eq!(t.call(&mut store, 99).unwrap(), 30);
    let m = inst
        .get_typed_func::<(i32, i32), (i32, i32)>(&store, "multi")
        .unwrap();
    assert_eq!(m.call(&mut store, (3, 4)).unwrap(), (7, 5));
    let s = inst
        .get_typed_func::<(i32, i32), (i32, i32)>(&store, "swap")
        .unwrap();
    assert_eq!(s.call(&mut store, (3, 4)).unwrap(), (4, 3));
    let sel = inst.get_typed_func::<i32, i32>(&store, "select").unwrap();
    assert_eq!(sel.call(&mut store, 1).unwrap(), 1);
    assert_eq!(sel.call(&mut store, 0).unwrap(), 2);
}

#[test]
fn floats_and_conversions() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func (export "min") (param f32 f32) (result f32) local.get 0 local.get 1 f32.min)
          (func (export "nearest") (param f64) (result f64) local.get 0 f64.nearest)
          (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
          (func (export "trunc_u") (param f32) (result i32) local.get 0 i32.trunc_f32_u)
          (func (export "sat") (param f64) (result i32) local.get 0 i32.trunc_sat_f64_s)
          (func (export "ext") (param i32) (result i64) local.get 0 i32.extend8_s i64.extend_i32_s))"#,
    );
    let min = inst
        .get_typed_func::<(f32, f32), f32>(&store, "min")
        .unwrap();
    assert_eq!(min.call(&mut store, (1.0, -0.5)).unwrap(), -0.5);
    assert!(min.call(&mut store, (f32::NAN, 1.0)).unwrap().is_nan());
    assert_eq!(
        min.call(&mut store, (0.0, -0.0)).unwrap().to_bits(),
        (-0.0f32).to_bits()
    );
    let n = inst.get_typed_func::<f64, f64>(&store, "nearest").unwrap();
    assert_eq!(n.call(&mut store, 2.5).unwrap(), 2.0);
    assert_eq!(n.call(&mut store, 3.5).unwrap(), 4.0);
    let t = inst.get_typed_func::<f64, i32>(&store, "trunc").unwrap();
    assert_eq!(t.call(&mut store, -3.9).unwrap(), -3);
    assert_trap(
        t.call(&mut store, f64::NAN),
        TrapCode::BadConversionToInteger,
    );
    assert_trap(t.call(&mut store, 3e9), TrapCode::IntegerOverflow);
    let tu = inst.get_typed_func::<f32, i32>(&store, "trunc_u").unwrap();
    assert_trap(tu.call(&mut store, -1.0), TrapCode::IntegerOverflow);
    let sat = inst.get_typed_func::<f64, i32>(&store, "sat").unwrap();
    assert_eq!(sat.call(&mut store, 3e9).unwrap(), i32::MAX);
    assert_eq!(sat.call(&mut store, f64::NAN).unwrap(), 0);
    let ext = inst.get_typed_func::<i32, i64>(&store, "ext").unwrap();
    assert_eq!(ext.call(&mut store, 0x80).unwrap(), -128);
}

#[test]
fn globals_shared_between_instances() {
    let e = engine();
    let bytes = wat::parse_str(
        r#"(module (global (export "g") (mut i32) (i32.const 5))
             (func (export "inc") global.get 0 i32.const 1 i32.add global.set 0))"#,
    )
    .unwrap();
    let m1 = Module::new(&e, &bytes).unwrap();
    let mut store = Store::new(&e, ());
    let i1 = wasm_engine::Instance::new(&mut store, &m1, &[]).unwrap();
    let g = i1.get_global(&store, "g").unwrap();
    let bytes2 = wat::parse_str(
        r#"(module (import "a" "g" (global (mut i32)))
             (func (export "get") (result i32) global.get 0))"#,
    )
    .unwrap();
    let m2 = Module::new(&e, &bytes2).unwrap();
    let i2 = wasm_engine::Instance::new(&mut store, &m2, &[g.into()]).unwrap();
    let inc = i1.get_typed_func::<(), ()>(&store, "inc").unwrap();
    let get = i2.get_typed_func::<(), i32>(&store, "get").unwrap();
    inc.call(&mut store, ()).unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), 6);
    g.set(&mut store, Val::I32(100)).unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), 100);
    assert_eq!(g.get(&store).i32(), Some(100));
    // Type mismatch on import.
    let imm = wasm_engine::Global::new(
        &mut store,
        wasm_engine::GlobalType::new(ValType::I32, false),
        Val::I32(1),
    )
    .unwrap();
    assert!(matches!(
        wasm_engine::Instance::new(&mut store, &m2, &[imm.into()]),
        Err(Error::Unlinkable { .. })
    ));
}

#[test]
fn invalid_modules_are_errors() {
    let e = engine();
    assert!(matches!(
        Module::new(&e, b"\0asm\x01\0\0\0\x01"),
        Err(Error::Compile { .. })
    ));
    assert!(matches!(
        Module::new(&e, b"not wasm"),
        Err(Error::Compile { .. })
    ));
    let bad = wat::parse_str(r#"(module (func (result i32) i64.const 0))"#).unwrap();
    match Module::new(&e, &bad) {
        Err(Error::Compile {
            offset: Some(_), ..
        }) => {}
        other => panic!("{:?}", other.err()),
    }
    // Features the engine does not implement are rejected cleanly: threads at
    // validation, garbage collection's types (whose type system validates) at compile.
    for (wat, says) in [
        (r#"(module (memory 1 1 shared))"#, "threads"),
        (
            r#"(module (type (struct (field i32))))"#,
            "garbage collection",
        ),
        (
            r#"(module (global anyref (ref.null any)))"#,
            "garbage collection",
        ),
    ] {
        match Module::new(&e, &wat::parse_str(wat).unwrap()) {
            Err(Error::Compile {
                offset: Some(_),
                message,
            }) => assert!(message.contains(says), "{wat}: {message}"),
            other => panic!("{wat}: {:?}", other.err()),
        }
    }
}

#[test]
fn dynamic_host_func() {
    let e = engine();
    let mut store = Store::new(&e, 0u32);
    let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32]);
    let f = Func::new(&mut store, ty, |mut caller, params, results| {
        *caller.data_mut() += 1;
        results[0] = Val::I32(params[0].i32().unwrap() * params[1].i32().unwrap());
        Ok(())
    });
    let bytes = wat::parse_str(
        r#"(module (import "env" "mul" (func $mul (param i32 i32) (result i32)))
            (func (export "sq") (param i32) (result i32) local.get 0 local.get 0 call $mul))"#,
    )
    .unwrap();
    let m = Module::new(&e, &bytes).unwrap();
    let i = wasm_engine::Instance::new(&mut store, &m, &[f.into()]).unwrap();
    let sq = i.get_typed_func::<i32, i32>(&store, "sq").unwrap();
    assert_eq!(sq.call(&mut store, 12).unwrap(), 144);
    assert_eq!(*store.data(), 1);
    // Calling the host function from the host directly.
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(3), Val::I32(5)], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(15));
}

#[test]
fn big_module_compiles_in_parallel_jobs() {
    // 100 functions: enough to be split into several compile jobs.
    let mut src = String::from("(module (func $f0 (export \"f0\") (result i32) i32.const 0)");
    for i in 1..100 {
        src.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (result i32) i32.const {i} call $f{} i32.add)",
            i - 1
        ));
    }
    src.push(')');
    let e = engine();
    let (mut store, inst) = common::instantiate(&e, &src);
    let f = inst.get_typed_func::<(), i32>(&store, "f99").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), (0..100).sum::<i32>());
    let f = inst.get_typed_func::<(), i32>(&store, "f40").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), (0..41).sum::<i32>());
}
