// Shared helpers for the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::sync::Arc;

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{BoundsChecks, Config, Engine, Error, Instance, Module, Store, TrapCode};

pub fn engine_with(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config, Arc::new(LinuxPlatform::new())).expect("engine")
}

pub fn engine() -> Engine {
    Engine::default()
}

pub fn explicit_engine() -> Engine {
    engine_with(|c| {
        c.bounds_checks(BoundsChecks::Explicit);
    })
}

pub fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let bytes = wat::parse_str(wat).expect("wat");
    let module = Module::new(engine, &bytes).expect("compile");
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiate");
    (store, instance)
}

#[track_caller]
pub fn assert_trap<T: std::fmt::Debug>(r: Result<T, Error>, code: TrapCode) {
    match r {
        Err(Error::Trap(t)) => assert_eq!(t.code, code, "trap {t}"),
        other => panic!("expected trap {code:?}, got {other:?}"),
    }
}
