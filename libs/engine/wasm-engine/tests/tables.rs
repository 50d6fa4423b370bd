mod common;

use common::*;
use wasm_engine::{ExternRef, Func, Module, Store, Table, TableType, TrapCode, Val, ValType};

const TABLES: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table $t (export "t") 4 10 funcref)
  (table $e (export "e") 2 externref)
  (elem (table $t) (i32.const 0) func $double $triple)
  (elem $passive func $double $triple)
  (elem declare func $noop)
  (func $double (type $ii) local.get 0 i32.const 2 i32.mul)
  (func $triple (type $ii) local.get 0 i32.const 3 i32.mul)
  (func $noop (type $v))
  (func (export "call") (param i32 i32) (result i32)
    local.get 1 local.get 0 call_indirect (type $ii))
  (func (export "call_v") (param i32) local.get 0 call_indirect (type $v))
  (func (export "size") (result i32) table.size $t)
  (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
  (func (export "set_noop") (param i32) local.get 0 ref.func $noop table.set $t)
  (func (export "is_null") (param i32) (result i32) local.get 0 table.get $t ref.is_null)
  (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.init $t $passive)
  (func (export "drop") elem.drop $passive)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy $t $t)
  (func (export "fill") (param i32 i32) local.get 0 ref.null func local.get 1 table.fill $t)
  (func (export "get_e") (param i32) (result externref) local.get 0 table.get $e)
  (func (export "set_e") (param i32 externref) local.get 0 local.get 1 table.set $e))"#;

#[test]
fn call_indirect_and_table_ops() {
    let e = engine();
    let (mut store, inst) = instantiate(&e, TABLES);
    let call = inst
        .get_typed_func::<(i32, i32), i32>(&store, "call")
        .unwrap();
    let call_v = inst.get_typed_func::<i32, ()>(&store, "call_v").unwrap();
    assert_eq!(call.call(&mut store, (0, 5)).unwrap(), 10);
    assert_eq!(call.call(&mut store, (1, 5)).unwrap(), 15);
    assert_trap(call.call(&mut store, (2, 5)), TrapCode::IndirectCallToNull);
    assert_trap(call.call(&mut store, (4, 5)), TrapCode::UndefinedElement);
    assert_trap(call_v.call(&mut store, 0), TrapCode::BadSignature);

    let size = inst.get_typed_func::<(), i32>(&store, "size").unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 4);
    assert_eq!(size.call(&mut store, ()).unwrap(), 6);
    assert_eq!(grow.call(&mut store, 5).unwrap(), -1);

    let set_noop = inst.get_typed_func::<i32, ()>(&store, "set_noop").unwrap();
    set_noop.call(&mut store, 5).unwrap();
    call_v.call(&mut store, 5).unwrap();
    assert_trap(set_noop.call(&mut store, 6), TrapCode::TableOutOfBounds);
    let is_null = inst.get_typed_func::<i32, i32>(&store, "is_null").unwrap();
    assert_eq!(is_null.call(&mut store, 5).unwrap(), 0);
    assert_eq!(is_null.call(&mut store, 3).unwrap(), 1);
    assert_trap(is_null.call(&mut store, 60), TrapCode::TableOutOfBounds);

    let init = inst
        .get_typed_func::<(i32, i32, i32), ()>(&store, "init")
        .unwrap();
    init.call(&mut store, (2, 0, 2)).unwrap();
    assert_eq!(call.call(&mut store, (3, 5)).unwrap(), 15);
    assert_trap(init.call(&mut store, (5, 0, 2)), TrapCode::TableOutOfBounds);
    inst.get_typed_func::<(), ()>(&store, "drop")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_trap(init.call(&mut store, (0, 0, 1)), TrapCode::TableOutOfBounds);
    init.call(&mut store, (0, 0, 0)).unwrap();

    let copy = inst
        .get_typed_func::<(i32, i32, i32), ()>(&store, "copy")
        .unwrap();
    copy.call(&mut store, (4, 0, 2)).unwrap();
    assert_eq!(call.call(&mut store, (5, 5)).unwrap(), 15);
    assert_trap(copy.call(&mut store, (5, 0, 2)), TrapCode::TableOutOfBounds);
    let fill = inst
        .get_typed_func::<(i32, i32), ()>(&store, "fill")
        .unwrap();
    fill.call(&mut store, (0, 6)).unwrap();
    assert_trap(call.call(&mut store, (0, 5)), TrapCode::IndirectCallToNull);

    // externref round trip.
    let set_e = inst
        .get_typed_func::<(i32, Option<ExternRef>), ()>(&store, "set_e")
        .unwrap();
    let get_e = inst
        .get_typed_func::<i32, Option<ExternRef>>(&store, "get_e")
        .unwrap();
    set_e
        .call(&mut store, (1, Some(ExternRef::new(77))))
        .unwrap();
    assert_eq!(get_e.call(&mut store, 1).unwrap(), Some(ExternRef::new(77)));
    assert_eq!(get_e.call(&mut store, 0).unwrap(), None);

    // Host side of the table.
    let t = inst.get_table(&store, "t").unwrap();
    assert_eq!(t.size(&store), 6);
    assert!(matches!(t.get(&store, 0), Some(Val::FuncRef(None))));
}

#[test]
fn host_table_and_cross_module_call_indirect() {
    let e = engine();
    let mut store = Store::new(&e, ());
    let table = Table::new(
        &mut store,
        TableType::new(ValType::FUNCREF, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let a = wat::parse_str(
        r#"(module (import "x" "t" (table 2 funcref))
            (func $f (result i32) i32.const 42)
            (elem (i32.const 1) func $f))"#,
    )
    .unwrap();
    let b = wat::parse_str(
        r#"(module (import "x" "t" (table 2 funcref))
            (func (export "call") (param i32) (result i32) local.get 0 call_indirect (result i32)))"#,
    )
    .unwrap();
    let ma = Module::new(&e, &a).unwrap();
    let mb = Module::new(&e, &b).unwrap();
    wasm_engine::Instance::new(&mut store, &ma, &[table.into()]).unwrap();
    let ib = wasm_engine::Instance::new(&mut store, &mb, &[table.into()]).unwrap();
    let call = ib.get_typed_func::<i32, i32>(&store, "call").unwrap();
    assert_eq!(call.call(&mut store, 1).unwrap(), 42);
    assert_trap(call.call(&mut store, 0), TrapCode::IndirectCallToNull);
    // A host function placed in the table is callable through call_indirect.
    let h = Func::wrap(&mut store, || 7i32);
    table.set(&mut store, 0, Val::FuncRef(Some(h))).unwrap();
    assert_eq!(call.call(&mut store, 0).unwrap(), 7);
    let wrong = Func::wrap(&mut store, |x: i32| x);
    table.set(&mut store, 0, Val::FuncRef(Some(wrong))).unwrap();
    assert_trap(call.call(&mut store, 0), TrapCode::BadSignature);
}
