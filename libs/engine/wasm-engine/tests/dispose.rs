//! `Instance::dispose`: freeing an instance before its store drops, refused while
//! anything still refers to its functions, and its handles dead afterwards.
mod common;

use common::*;
use wasm_engine::{Error, Instance, Module, Store, Val};

const PROVIDER: &str = r#"(module (func (export "seven") (result i32) i32.const 7))"#;
const USER: &str = r#"(module (import "p" "seven" (func (result i32)))
  (table (export "t") 1 funcref)
  (func (export "call0") (result i32) (call_indirect (result i32) (i32.const 0))))"#;

fn compile(engine: &wasm_engine::Engine, wat: &str) -> Module {
    Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap()
}

#[test]
fn a_disposed_instance_s_functions_are_errors_to_call() {
    let (mut store, provider) = instantiate(&engine(), PROVIDER);
    let seven = provider.get_typed_func::<(), i32>(&store, "seven").unwrap();
    let untyped = provider.get_func(&store, "seven").unwrap();
    assert_eq!(seven.call(&mut store, ()).unwrap(), 7);
    provider.dispose(&mut store).unwrap();
    assert!(matches!(seven.call(&mut store, ()), Err(Error::Usage(_))));
    let mut out = [Val::I32(0)];
    assert!(matches!(
        untyped.call(&mut store, &[], &mut out),
        Err(Error::Usage(_))
    ));
    assert!(matches!(provider.dispose(&mut store), Err(Error::Usage(_))));
}

#[test]
fn an_instance_is_not_disposed_while_a_table_or_an_importer_refers_to_it() {
    let e = engine();
    let (mut store, provider) = instantiate(&e, PROVIDER);
    let seven = provider.get_func(&store, "seven").unwrap();
    let user = Instance::new(&mut store, &compile(&e, USER), &[seven.into()]).unwrap();
    let err = provider.dispose(&mut store).unwrap_err();
    assert!(err.to_string().contains("import"), "{err}");
    user.dispose(&mut store).unwrap();
    // The user's table stays in the store; a funcref in it holds the provider.
    let table = wasm_engine::Table::new(
        &mut store,
        wasm_engine::TableType::new(wasm_engine::ValType::FUNCREF, 1, None),
        Val::FuncRef(None),
    )
    .unwrap();
    table.set(&mut store, 0, Val::FuncRef(Some(seven))).unwrap();
    let err = provider.dispose(&mut store).unwrap_err();
    assert!(err.to_string().contains("table"), "{err}");
    table.set(&mut store, 0, Val::FuncRef(None)).unwrap();
    provider.dispose(&mut store).unwrap();
    // A stale handle cannot be put back into a table or imported.
    assert!(table.set(&mut store, 0, Val::FuncRef(Some(seven))).is_err());
    let relink = Instance::new(&mut store, &compile(&e, USER), &[seven.into()]);
    assert!(
        matches!(relink, Err(Error::Unlinkable { .. })),
        "{relink:?}"
    );
}

#[test]
fn slots_are_reused_and_old_handles_do_not_reach_the_new_instance() {
    let e = engine();
    let module = compile(&e, PROVIDER);
    let mut store = Store::new(&e, ());
    let first = Instance::new(&mut store, &module, &[]).unwrap();
    let old = first.get_typed_func::<(), i32>(&store, "seven").unwrap();
    first.dispose(&mut store).unwrap();
    for _ in 0..20_000 {
        let i = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(
            i.get_typed_func::<(), i32>(&store, "seven")
                .unwrap()
                .call(&mut store, ())
                .unwrap(),
            7
        );
        i.dispose(&mut store).unwrap();
    }
    // 20,000 instances, more than the store's instance limit, came and went in one slot.
    assert!(old.call(&mut store, ()).is_err());
}
