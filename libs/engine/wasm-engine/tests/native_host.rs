//! Host functions called through the native trampoline (`Func::wrap` closures): every
//! value type in and out, arguments past the argument registers, narrow integers with
//! arbitrary upper bits, errors, and the array fallback for the types it cannot carry.

mod common;

use common::*;
use wasm_engine::{Caller, Error, ExternRef, Func, Linker, Module, Store, Val, ValType};

const GUEST: &str = r#"(module
  (import "h" "i32" (func $i32 (param i32 i32) (result i32)))
  (import "h" "i64" (func $i64 (param i64 i64) (result i64)))
  (import "h" "f32" (func $f32 (param f32 f32) (result f32)))
  (import "h" "f64" (func $f64 (param f64 i32 f64) (result f64)))
  (import "h" "many" (func $many (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (import "h" "mixed" (func $mixed (param f64 i32 f32 i64 f64 i32 f32 i64) (result i64)))
  (import "h" "ext" (func $ext (param externref) (result externref)))
  (import "h" "fail" (func $fail (param i32) (result i32)))
  (import "h" "two" (func $two (param i32) (result i32 i64)))
  (import "h" "v128" (func $v128 (param v128) (result v128)))
  (func (export "i32") (param i32 i32) (result i32)
    ;; High bits of the 64-bit registers are whatever the arithmetic left there.
    local.get 0 i32.const 0x7fffffff i32.add i32.const 0x7fffffff i32.sub
    local.get 1 call $i32)
  (func (export "i64") (param i64 i64) (result i64) local.get 0 local.get 1 call $i64)
  (func (export "f32") (param f32 f32) (result f32) local.get 0 local.get 1 call $f32)
  (func (export "f64") (param f64 i32 f64) (result f64)
    local.get 0 local.get 1 local.get 2 call $f64)
  (func (export "many") (result i64)
    i64.const 1 i64.const 2 i64.const 3 i64.const 4
    i64.const 5 i64.const 6 i64.const 7 i64.const 8 call $many)
  (func (export "mixed") (result i64)
    f64.const 1.5 i32.const -2 f32.const 3.25 i64.const -4
    f64.const 5.5 i32.const 6 f32.const -7.75 i64.const 8 call $mixed)
  (func (export "ext") (param externref) (result externref) local.get 0 call $ext)
  (func (export "fail") (param i32) (result i32) local.get 0 call $fail i32.const 1 i32.add)
  (func (export "two") (param i32) (result i32 i64) local.get 0 call $two)
  (func (export "v128") (result i64)
    v128.const i64x2 5 6 call $v128 i64x2.extract_lane 1))"#;

fn linker(e: &wasm_engine::Engine) -> Linker<u32> {
    let mut l = Linker::<u32>::new(e);
    l.func_wrap("h", "i32", |a: i32, b: u32| a.wrapping_mul(3) ^ b as i32)
        .unwrap();
    l.func_wrap("h", "i64", |a: i64, b: u64| a.wrapping_sub(b as i64))
        .unwrap();
    // Bit patterns, so NaN payloads must survive the trip.
    l.func_wrap("h", "f32", |a: f32, b: f32| {
        f32::from_bits(a.to_bits() ^ b.to_bits())
    })
    .unwrap();
    l.func_wrap("h", "f64", |a: f64, n: i32, b: f64| a * f64::from(n) + b)
        .unwrap();
    l.func_wrap(
        "h",
        "many",
        |a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: i64| {
            [a, b, c, d, e, f, g, h]
                .iter()
                .enumerate()
                .map(|(i, v)| v << (4 * i))
                .sum::<i64>()
        },
    )
    .unwrap();
    l.func_wrap(
        "h",
        "mixed",
        |a: f64, b: i32, c: f32, d: i64, e: f64, f: i32, g: f32, h: i64| {
            (a * 2.0) as i64 * 10_000_000
                + i64::from(b) * 1_000_000
                + (c * 4.0) as i64 * 100_000
                + d * 10_000
                + (e * 2.0) as i64 * 1000
                + i64::from(f) * 100
                + (g * 4.0) as i64 * 10
                + h
        },
    )
    .unwrap();
    l.func_wrap("h", "ext", |r: Option<ExternRef>| {
        r.map(|r| ExternRef::new(r.value() + 1))
    })
    .unwrap();
    l.func_wrap(
        "h",
        "fail",
        |mut caller: Caller<'_, u32>, x: i32| -> Result<i32, Error> {
            *caller.data_mut() += 1;
            if x < 0 {
                Err(Error::Host(format!("refused {x}")))
            } else {
                Ok(x * 10)
            }
        },
    )
    .unwrap();
    l.func_wrap("h", "two", |x: i32| (x, i64::from(x) << 33))
        .unwrap();
    l.func_wrap("h", "v128", |v: u128| v.rotate_left(64))
        .unwrap();
    l
}

#[test]
fn every_type_crosses_the_native_trampoline() {
    let e = engine();
    let module = Module::new(&e, &wat::parse_str(GUEST).unwrap()).unwrap();
    let mut store = Store::new(&e, 0u32);
    let inst = linker(&e).instantiate(&mut store, &module).unwrap();

    let i32f = inst
        .get_typed_func::<(i32, i32), i32>(&store, "i32")
        .unwrap();
    for (a, b) in [(1, 2), (-1, 7), (i32::MIN, -1), (0x4000_0000, i32::MAX)] {
        let want = a.wrapping_mul(3) ^ b;
        assert_eq!(
            i32f.call(&mut store, (a, b)).unwrap(),
            want,
            "i32({a}, {b})"
        );
    }
    let i64f = inst
        .get_typed_func::<(i64, i64), i64>(&store, "i64")
        .unwrap();
    assert_eq!(i64f.call(&mut store, (i64::MIN, 1)).unwrap(), i64::MAX);
    assert_eq!(
        i64f.call(&mut store, (5, -(1 << 40))).unwrap(),
        5 + (1 << 40)
    );

    let f32f = inst
        .get_typed_func::<(f32, f32), f32>(&store, "f32")
        .unwrap();
    let nan = f32::from_bits(0x7fa0_0001);
    let r = f32f
        .call(&mut store, (nan, f32::from_bits(0x0000_0100)))
        .unwrap();
    assert_eq!(r.to_bits(), 0x7fa0_0101);
    let f64f = inst
        .get_typed_func::<(f64, i32, f64), f64>(&store, "f64")
        .unwrap();
    assert_eq!(f64f.call(&mut store, (1.5, -4, 0.25)).unwrap(), -5.75);

    let many = inst.get_typed_func::<(), i64>(&store, "many").unwrap();
    assert_eq!(many.call(&mut store, ()).unwrap(), 0x8765_4321);
    let mixed = inst.get_typed_func::<(), i64>(&store, "mixed").unwrap();
    assert_eq!(
        mixed.call(&mut store, ()).unwrap(),
        30_000_000 - 2_000_000 + 1_300_000 - 40_000 + 11_000 + 600 - 310 + 8
    );

    let ext = inst.get_func(&mut store, "ext").unwrap();
    let mut out = [Val::ExternRef(None)];
    ext.call(
        &mut store,
        &[Val::ExternRef(Some(ExternRef::new(41)))],
        &mut out,
    )
    .unwrap();
    assert!(matches!(out[0], Val::ExternRef(Some(r)) if r.value() == 42));
    ext.call(&mut store, &[Val::ExternRef(None)], &mut out)
        .unwrap();
    assert!(matches!(out[0], Val::ExternRef(None)));
}

#[test]
fn native_host_errors_trap_the_caller_and_leave_the_store_usable() {
    let e = engine();
    let module = Module::new(&e, &wat::parse_str(GUEST).unwrap()).unwrap();
    let mut store = Store::new(&e, 0u32);
    let inst = linker(&e).instantiate(&mut store, &module).unwrap();
    let fail = inst.get_typed_func::<i32, i32>(&store, "fail").unwrap();
    for round in 0..100 {
        assert_eq!(fail.call(&mut store, round).unwrap(), round * 10 + 1);
        match fail.call(&mut store, -round - 1) {
            Err(Error::Host(m)) => assert_eq!(m, format!("refused {}", -round - 1)),
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert_eq!(
        *store.data(),
        200,
        "the closure saw its store data every time"
    );
}

#[test]
fn types_without_a_native_form_use_the_array_path() {
    let e = engine();
    let module = Module::new(&e, &wat::parse_str(GUEST).unwrap()).unwrap();
    let mut store = Store::new(&e, 0u32);
    let l = linker(&e);
    for (name, native) in [
        ("i32", true),
        ("mixed", true),
        ("ext", true),
        ("fail", true),
        ("two", false),
        ("v128", false),
    ] {
        let f = l.get(&mut store, "h", name).unwrap().into_func().unwrap();
        assert_eq!(f.is_native_host_fn(&store), native, "{name}");
    }
    let inst = l.instantiate(&mut store, &module).unwrap();
    let two = inst
        .get_typed_func::<i32, (i32, i64)>(&store, "two")
        .unwrap();
    assert_eq!(two.call(&mut store, 3).unwrap(), (3, 3 << 33));
    let v128 = inst.get_typed_func::<(), i64>(&store, "v128").unwrap();
    assert_eq!(v128.call(&mut store, ()).unwrap(), 5);

    // `Func::new` closures always take the array path.
    let dynamic = Func::new(
        &mut store,
        wasm_engine::FuncType::new([ValType::I32], [ValType::I32]),
        |_, p, r| {
            r[0] = p[0];
            Ok(())
        },
    );
    assert!(!dynamic.is_native_host_fn(&store));
}
