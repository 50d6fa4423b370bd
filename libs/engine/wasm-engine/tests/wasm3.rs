//! Wasm 3.0 behaviour the spec suite does not pin down: tail calls in constant
//! stack, exceptions crossing host functions, and memory64 beyond 4 GiB.

mod common;

use common::*;
use wasm_engine::{Caller, Error, Exception, Linker, Module, Store, Val};

#[test]
fn a_tail_call_loop_runs_in_constant_stack() {
    // 64 KiB of stack, ten million calls: only tail calls fit.
    let e = engine_with(|c| {
        c.max_wasm_stack(64 << 10);
    });
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func $count (export "count") (param i64 i64) (result i64)
            (if (result i64) (i64.eqz (local.get 0))
              (then (local.get 1))
              (else (return_call $count
                (i64.sub (local.get 0) (i64.const 1))
                (i64.add (local.get 1) (i64.const 2)))))))"#,
    );
    let count = inst
        .get_typed_func::<(i64, i64), i64>(&store, "count")
        .unwrap();
    assert_eq!(count.call(&mut store, (10_000_000, 0)).unwrap(), 20_000_000);
}

const THROWER: &str = r#"(module
  (import "host" "call_inner" (func $call_inner))
  (tag $e (export "e") (param i32))
  (func (export "inner") (throw $e (i32.const 7)))
  (func (export "outer") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $call_inner))
      (i32.const -1))))"#;

/// The thrower module, with `call_inner` as its import.
fn thrower(
    f: impl Fn(Caller<'_, Vec<i32>>) -> Result<(), Error> + Send + Sync + 'static,
) -> (Store<Vec<i32>>, wasm_engine::Instance) {
    let e = engine();
    let module = Module::new(&e, &wat::parse_str(THROWER).unwrap()).unwrap();
    let mut linker = Linker::new(&e);
    linker.func_wrap("host", "call_inner", f).unwrap();
    let mut store = Store::new(&e, Vec::new());
    let inst = linker.instantiate(&mut store, &module).unwrap();
    (store, inst)
}

#[test]
fn an_exception_thrown_through_a_host_function_is_caught_by_the_wasm_that_called_it() {
    let (mut store, inst) = thrower(|mut caller| {
        let inner = caller.get_export("inner").unwrap().into_func().unwrap();
        let r = inner.call(&mut caller, &[], &mut []);
        let Err(Error::Exception(x)) = r else {
            panic!("expected the exception, got {r:?}");
        };
        let payload: Vec<i32> = x.payload(&caller).iter().filter_map(Val::i32).collect();
        caller.data_mut().extend(payload);
        // Returned, it goes on into the Wasm that called us.
        Err(Error::Exception(x))
    });
    let outer = inst.get_typed_func::<(), i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, ()).unwrap(), 7);
    assert_eq!(store.data(), &[7], "the host saw the payload on its way");
}

#[test]
fn a_host_function_can_throw_an_exception_that_wasm_catches() {
    let (mut store, inst) = thrower(|mut caller| {
        let tag = caller.get_export("e").unwrap().into_tag().unwrap();
        let x = Exception::new(&mut caller, tag, &[Val::I32(99)])?;
        Err(Error::Exception(x))
    });
    let outer = inst.get_typed_func::<(), i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, ()).unwrap(), 99);
}

#[test]
fn an_uncaught_exception_reaches_the_host_as_a_typed_error_with_its_tag_and_payload() {
    let (mut store, inst) = thrower(|_| Ok(()));
    let inner = inst.get_func(&store, "inner").unwrap();
    let Err(Error::Exception(x)) = inner.call(&mut store, &[], &mut []) else {
        panic!("expected an exception");
    };
    let tag = inst.get_export(&store, "e").unwrap().into_tag().unwrap();
    assert_eq!(x.tag(&store), tag);
    assert!(matches!(x.payload(&store)[..], [Val::I32(7)]));
    assert_eq!(Error::Exception(x).to_string(), "thrown Wasm exception");
    // A host function that does not throw: the try_table falls through.
    let outer = inst.get_typed_func::<(), i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, ()).unwrap(), -1);
}

#[test]
fn an_exception_does_not_match_another_tag_and_goes_on_out() {
    let (mut store, inst) = instantiate(
        &engine(),
        r#"(module
          (tag $a) (tag $b)
          (func $throw_b (throw $b))
          (func (export "f") (result i32)
            (block $h
              (try_table (catch $a $h) (call $throw_b))
              (return (i32.const 1)))
            (i32.const 2)))"#,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let mut out = [Val::I32(0)];
    assert!(matches!(
        f.call(&mut store, &[], &mut out),
        Err(Error::Exception(_))
    ));
}

#[test]
fn a_memory64_memory_can_be_larger_than_4_gib() {
    // 8 GiB allowed; the memory starts just past 4 GiB (reserved, not touched).
    let e = engine_with(|c| {
        c.max_memory_pages(1 << 17);
    });
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (memory i64 65537)
          (func (export "poke") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
          (func (export "peek") (param i64) (result i64) (i64.load (local.get 0)))
          (func (export "pages") (result i64) (memory.size)))"#,
    );
    let poke = inst
        .get_typed_func::<(i64, i64), ()>(&store, "poke")
        .unwrap();
    let peek = inst.get_typed_func::<i64, i64>(&store, "peek").unwrap();
    let pages = inst.get_typed_func::<(), i64>(&store, "pages").unwrap();
    let past_4g = (4i64 << 30) + 8;
    poke.call(&mut store, (past_4g, 0x5eed)).unwrap();
    assert_eq!(peek.call(&mut store, past_4g).unwrap(), 0x5eed);
    assert_eq!(peek.call(&mut store, 8).unwrap(), 0);
    assert_eq!(pages.call(&mut store, ()).unwrap(), 65537);
    let end = 65537i64 << 16;
    assert_trap(
        peek.call(&mut store, end - 4),
        wasm_engine::TrapCode::MemoryOutOfBounds,
    );
}

#[test]
fn a_memory64_memory_over_the_store_limit_is_a_resource_limit_not_a_crash() {
    let e = engine();
    let bytes = wat::parse_str("(module (memory i64 70000))").unwrap();
    let module = Module::new(&e, &bytes).unwrap();
    let mut store = Store::new(&e, ());
    let r = wasm_engine::Instance::new(&mut store, &module, &[]);
    assert!(matches!(r, Err(Error::ResourceLimit(_))), "{:?}", r.err());
}
