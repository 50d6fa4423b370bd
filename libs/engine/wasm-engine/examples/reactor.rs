//! Pattern 1, reactors: a module with `_initialize` and exports but no `_start` (what
//! `wasi-sdk -mexec-model=reactor` and plugin toolchains produce). The host instantiates it
//! with WASI, runs `_initialize` exactly once, lists the exports with their types and then
//! calls typed exports many times on the same instance, whose state persists between calls.
use std::sync::Arc;

use spin::Mutex;
use wasi_p1::std_host::{HostClock, OsRandom};
use wasi_p1::{MemConsole, WasiCtx};
use wasm_engine::{Engine, Error, ExternType, Instance, Linker, Module, Store};

/// The reactor (`examples/guests/reactor.wat`).
const REACTOR_WAT: &str = include_str!("guests/reactor.wat");

/// The store's data: the WASI state of the instance.
pub struct Host {
    wasi: WasiCtx,
}

/// An initialized reactor instance and what its WASI stdout received.
pub struct Reactor {
    pub store: Store<Host>,
    pub instance: Instance,
    pub stdout: Arc<Mutex<MemConsole>>,
}

/// Whether `module` is a reactor: no `_start` (`_initialize`, if exported, sets it up).
pub fn is_reactor(module: &Module) -> bool {
    !module.exports().any(|e| e.name() == "_start")
}

/// Each export's name and type, as `wasmtime` lists them.
pub fn describe_exports(module: &Module) -> Vec<String> {
    module
        .exports()
        .map(|e| match e.ty() {
            ExternType::Func(f) => format!("{}: {f:?}", e.name()),
            other => format!("{}: {other:?}", e.name()),
        })
        .collect()
}

/// Instantiates `wasm` with WASI and runs its `_initialize` (if any) once.
pub fn instantiate_reactor(engine: &Engine, wasm: &[u8]) -> Result<Reactor, Error> {
    let mut reactor = instantiate_with_wasi(engine, wasm)?;
    if let Some(init) = reactor.instance.get_func(&reactor.store, "_initialize") {
        init.typed::<(), ()>(&reactor.store)?
            .call(&mut reactor.store, ())?;
    }
    Ok(reactor)
}

/// Instantiates the reactor `wasm` with WASI, its stdout captured, without initializing it.
pub fn instantiate_with_wasi(engine: &Engine, wasm: &[u8]) -> Result<Reactor, Error> {
    let module = Module::new(engine, wasm)?;
    if !is_reactor(&module) {
        return Err(Error::Usage(
            "a command (it has `_start`), not a reactor".into(),
        ));
    }
    let stdout = Arc::new(Mutex::new(MemConsole::default()));
    let clock = HostClock::new();
    let wasi = WasiCtx::builder(
        Box::new(stdout.clone()),
        Box::new(clock),
        Box::new(OsRandom::new()),
        Box::new(clock.scheduler()),
    )
    .arg("reactor.wasm")
    .build();
    let mut linker = Linker::new(engine);
    wasi_p1::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)?;
    let mut store = Store::new(engine, Host { wasi });
    let instance = linker.instantiate(&mut store, &module)?;
    Ok(Reactor {
        store,
        instance,
        stdout,
    })
}

fn main() -> Result<(), Error> {
    let engine = Engine::default();
    let wasm = wat::parse_str(REACTOR_WAT).expect("valid wat");
    println!("exports:");
    for line in describe_exports(&Module::new(&engine, &wasm)?) {
        println!("  {line}");
    }
    let mut reactor = instantiate_reactor(&engine, &wasm)?;
    print!("{}", String::from_utf8_lossy(&reactor.stdout.lock().stdout));
    let add = reactor
        .instance
        .get_typed_func::<i64, i64>(&reactor.store, "add")?;
    for n in 1..=4 {
        println!("add({n}) = {}", add.call(&mut reactor.store, n)?);
    }
    let scale = reactor
        .instance
        .get_typed_func::<(i32, f64), (f64, i64)>(&reactor.store, "scale")?;
    println!(
        "scale(7, -2.5) = {:?}",
        scale.call(&mut reactor.store, (7, -2.5))?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reactor() -> Reactor {
        let wasm = wat::parse_str(REACTOR_WAT).expect("valid wat");
        instantiate_reactor(&Engine::default(), &wasm).expect("reactor")
    }

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn initialize_runs_once_and_its_wasi_output_reaches_the_host() {
        let r = reactor();
        assert_eq!(r.stdout.lock().stdout, b"reactor initialized\n");
    }

    #[test]
    fn the_exports_are_listed_with_their_types() {
        let engine = Engine::default();
        let module = Module::new(&engine, &wat::parse_str(REACTOR_WAT).unwrap()).unwrap();
        let listed = describe_exports(&module);
        assert_eq!(listed.len(), 4, "{listed:?}");
        assert!(listed.contains(&"add: (func (param i64) (result i64))".to_string()));
        assert!(listed.contains(&"scale: (func (param i32 f64) (result f64 i64))".to_string()));
        assert!(listed[0].starts_with("memory: Memory("), "{listed:?}");
    }

    #[test]
    fn typed_exports_keep_their_state_across_many_calls() {
        let mut r = reactor();
        let add = r
            .instance
            .get_typed_func::<i64, i64>(&r.store, "add")
            .unwrap();
        let mut expected = 0;
        for n in 0..1000 {
            expected += n;
            assert_eq!(add.call(&mut r.store, n).unwrap(), expected);
        }
    }

    #[test]
    fn a_command_is_not_taken_for_a_reactor() {
        let wasm = wat::parse_str(r#"(module (func (export "_start")))"#).unwrap();
        let err = instantiate_reactor(&Engine::default(), &wasm)
            .err()
            .unwrap();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
    }

    #[test]
    fn without_initialize_the_reactor_traps() {
        let wasm = wat::parse_str(REACTOR_WAT).unwrap();
        let mut r = instantiate_with_wasi(&Engine::default(), &wasm).unwrap();
        let add = r
            .instance
            .get_typed_func::<i64, i64>(&r.store, "add")
            .unwrap();
        assert!(add.call(&mut r.store, 1).unwrap_err().trap_code().is_some());
        assert!(r.stdout.lock().stdout.is_empty());
    }
}
