mod common;

use common::*;
use wasm_engine::{Caller, Error, Extern, Linker, Module, Store, TrapCode};

const GUEST: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "fail" (func $fail (param i32) (result i32)))
  (import "env" "add" (func $add (param i64 i64) (result i64)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hi there")
  (func (export "say") i32.const 8 i32.const 8 call $log)
  (func (export "try") (param i32) (result i32) local.get 0 call $fail i32.const 1 i32.add)
  (func (export "add") (param i64 i64) (result i64) local.get 0 local.get 1 call $add)
  (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func (export "outer") (param i32) (result i32) local.get 0 call $reenter)
  (func (export "boom") (param i32) (result i32) unreachable))"#;

fn linker(e: &wasm_engine::Engine) -> Linker<Vec<String>> {
    let mut linker = Linker::<Vec<String>>::new(e);
    linker
        .func_wrap(
            "env",
            "log",
            |mut caller: Caller<'_, Vec<String>>, ptr: i32, len: i32| {
                let mem = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .unwrap();
                let mut buf = vec![0u8; len as usize];
                mem.read(&caller, ptr as usize, &mut buf).unwrap();
                caller.data_mut().push(String::from_utf8(buf).unwrap());
            },
        )
        .unwrap();
    linker
        .func_wrap("env", "fail", |x: i32| -> Result<i32, Error> {
            if x < 0 {
                Err(Error::Host(format!("negative: {x}")))
            } else {
                Ok(x * 10)
            }
        })
        .unwrap();
    linker
        .func_wrap("env", "add", |a: i64, b: i64| a.wrapping_add(b))
        .unwrap();
    linker
        .func_wrap(
            "env",
            "reenter",
            |mut caller: Caller<'_, Vec<String>>, x: i32| -> Result<i32, Error> {
                let f = if x >= 0 { "double" } else { "boom" };
                let f = caller.get_export(f).and_then(Extern::into_func).unwrap();
                let f = f.typed::<i32, i32>(&caller)?;
                let r = f.call(&mut caller, x);
                if x == -2 {
                    // Swallow the nested trap and keep going.
                    return Ok(r.map_or(-100, |v| v));
                }
                r
            },
        )
        .unwrap();
    linker
}

#[test]
fn host_functions() {
    let e = engine();
    let linker = linker(&e);
    let module = Module::new(&e, &wat::parse_str(GUEST).unwrap()).unwrap();
    let mut store = Store::new(&e, Vec::new());
    let inst = linker.instantiate(&mut store, &module).unwrap();

    inst.get_typed_func::<(), ()>(&store, "say")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_eq!(store.data(), &vec!["hi there".to_string()]);

    let try_ = inst.get_typed_func::<i32, i32>(&store, "try").unwrap();
    assert_eq!(try_.call(&mut store, 4).unwrap(), 41);
    match try_.call(&mut store, -3) {
        Err(Error::Host(m)) => assert_eq!(m, "negative: -3"),
        other => panic!("{other:?}"),
    }
    assert_eq!(try_.call(&mut store, 5).unwrap(), 51);

    let add = inst
        .get_typed_func::<(i64, i64), i64>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (1 << 40, 5)).unwrap(), (1 << 40) + 5);

    // Wasm -> host -> Wasm, and a trap in the inner Wasm resumes at the inner entry.
    let outer = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, 21).unwrap(), 42);
    assert_trap(outer.call(&mut store, -1), TrapCode::Unreachable);
    assert_eq!(outer.call(&mut store, -2).unwrap(), -100);
    assert_eq!(outer.call(&mut store, 1).unwrap(), 2);
}

#[test]
fn unknown_import_is_unlinkable() {
    let e = engine();
    let linker = Linker::<Vec<String>>::new(&e);
    let module = Module::new(&e, &wat::parse_str(GUEST).unwrap()).unwrap();
    let mut store = Store::new(&e, Vec::new());
    match linker.instantiate(&mut store, &module) {
        Err(Error::Unlinkable { module, name, .. }) => {
            assert_eq!((module.as_str(), name.as_str()), ("env", "log"))
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn linker_instance_and_start() {
    let e = engine();
    let mut linker = Linker::<()>::new(&e);
    let mut store = Store::new(&e, ());
    let a = Module::new(
        &e,
        &wat::parse_str(
            r#"(module (global (export "g") (mut i32) (i32.const 0))
            (func (export "bump") global.get 0 i32.const 1 i32.add global.set 0))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let ia = linker.instantiate(&mut store, &a).unwrap();
    linker.instance(&mut store, "a", ia).unwrap();
    let b = Module::new(
        &e,
        &wat::parse_str(r#"(module (import "a" "bump" (func $bump)) (start $bump))"#).unwrap(),
    )
    .unwrap();
    linker.instantiate(&mut store, &b).unwrap();
    linker.instantiate(&mut store, &b).unwrap();
    assert_eq!(
        ia.get_global(&store, "g").unwrap().get(&store).i32(),
        Some(2)
    );
}
