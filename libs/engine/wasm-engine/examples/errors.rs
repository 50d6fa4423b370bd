//! Pattern 3, the error taxonomy: every failure an embedder can meet is one variant of
//! `wasm_engine::Error`, and each is provoked here: a compile error, instantiation errors
//! (a missing import, an import of the wrong signature; a segment that does not fit, which
//! traps during instantiation as the spec says), a trap
//! with its code and Wasm backtrace, running out of fuel, an epoch deadline, a host function's
//! error, a host access to memory out of bounds, a resource limit and an uncaught exception.
use std::sync::Arc;

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{
    Config, Engine, Error, Func, Instance, Linker, Module, Store, StoreLimitsBuilder,
};

/// An engine with fuel and epochs on, so that one engine can show every error.
pub fn engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    Engine::new(&config, Arc::new(LinuxPlatform::new())).expect("engine")
}

fn module(engine: &Engine, wat: &str) -> Result<Module, Error> {
    Module::new(engine, &wat::parse_str(wat).expect("valid wat"))
}

/// A store with plenty of fuel and no epoch deadline.
fn store(engine: &Engine) -> Store<()> {
    let mut store = Store::new(engine, ());
    store.set_fuel(u64::MAX).expect("fuel is on");
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// Calls the export `name` of the import-free `wat` with no arguments and results.
fn call(engine: &Engine, mut store: Store<()>, wat: &str, name: &str) -> Result<(), Error> {
    let instance = Instance::new(&mut store, &module(engine, wat)?, &[])?;
    instance
        .get_typed_func::<(), ()>(&store, name)?
        .call(&mut store, ())
}

const SPIN: &str = r#"(module (func (export "spin") (loop br 0)))"#;

/// Each kind of failure, by name, with the error it gives (an error setting one up fails).
pub fn provoke_all(engine: &Engine) -> Result<Vec<(&'static str, Error)>, Error> {
    let cases: Vec<(&'static str, Result<(), Error>)> = vec![
        (
            "compile",
            module(engine, "(module (func (result i32)))").map(drop),
        ),
        ("missing import", {
            let m = module(
                engine,
                r#"(module (import "env" "log" (func (param i32))))"#,
            );
            m.and_then(|m| Linker::new(engine).instantiate(&mut store(engine), &m))
                .map(drop)
        }),
        ("import of the wrong signature", {
            let mut s = store(engine);
            let wrong = Func::wrap(&mut s, |x: i64| x);
            let m = module(
                engine,
                r#"(module (import "env" "log" (func (param i32))))"#,
            );
            m.and_then(|m| Instance::new(&mut s, &m, &[wrong.into()]))
                .map(drop)
        }),
        ("segment out of bounds", {
            let m = module(
                engine,
                r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
            );
            m.and_then(|m| Instance::new(&mut store(engine), &m, &[]))
                .map(drop)
        }),
        ("trap", {
            let wat = r#"(module (func $inner unreachable)
                (func $outer (export "run") call $inner))"#;
            call(engine, store(engine), wat, "run")
        }),
        ("out of fuel", {
            let mut s = store(engine);
            s.set_fuel(10_000).expect("fuel is on");
            call(engine, s, SPIN, "spin")
        }),
        ("epoch deadline", {
            // Deadline: one tick from now. A timer would tick; here the host does, up front.
            let mut s = store(engine);
            s.set_epoch_deadline(1);
            engine.increment_epoch();
            call(engine, s, SPIN, "spin")
        }),
        ("host function", {
            let mut linker = Linker::new(engine);
            linker.func_wrap("env", "check", |x: i32| -> Result<i32, Error> {
                Err(Error::Host(format!("{x} is not allowed")))
            })?;
            let m = module(
                engine,
                r#"(module (import "env" "check" (func $check (param i32) (result i32)))
                     (func (export "run") (drop (call $check (i32.const 13)))))"#,
            )?;
            let mut s = store(engine);
            linker
                .instantiate(&mut s, &m)
                .and_then(|i| i.get_typed_func::<(), ()>(&s, "run")?.call(&mut s, ()))
        }),
        ("memory access out of bounds", {
            let mut s = store(engine);
            let m = module(engine, r#"(module (memory (export "memory") 1))"#)?;
            let memory = Instance::new(&mut s, &m, &[])?
                .get_memory(&s, "memory")
                .expect("exported");
            memory.read(&s, 65_530, &mut [0; 16])
        }),
        ("resource limit", {
            let mut s = store(engine);
            s.limiter(StoreLimitsBuilder::new().memory_size(1 << 20).build());
            let m = module(engine, "(module (memory 17))")?;
            Instance::new(&mut s, &m, &[]).map(drop)
        }),
        ("uncaught exception", {
            let wat = r#"(module (tag $oops (param i32))
                (func (export "run") (throw $oops (i32.const 1))))"#;
            call(engine, store(engine), wat, "run")
        }),
    ];
    cases
        .into_iter()
        .map(|(name, r)| match r {
            Err(e) => Ok((name, e)),
            Ok(()) => Err(Error::Usage(format!("{name}: no error"))),
        })
        .collect()
}

/// The variant's name, as an embedder's `match` would tell them apart.
pub fn variant(e: &Error) -> &'static str {
    match e {
        Error::Compile { .. } => "Compile",
        Error::Unlinkable { .. } => "Unlinkable",
        Error::Instantiation(_) => "Instantiation",
        Error::Trap(_) => "Trap",
        Error::ResourceLimit(_) => "ResourceLimit",
        Error::OutOfFuel => "OutOfFuel",
        Error::Interrupted => "Interrupted",
        Error::Host(_) => "Host",
        Error::MemoryAccess { .. } => "MemoryAccess",
        Error::Usage(_) => "Usage",
        Error::Platform(_) => "Platform",
        Error::Artifact(_) => "Artifact",
        Error::Exception(_) => "Exception",
    }
}

fn main() -> Result<(), Error> {
    for (name, error) in provoke_all(&engine())? {
        println!("{name:>30}: {:<13} {error}", variant(&error));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_engine::TrapCode;

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn each_failure_is_its_own_variant() {
        let got: Vec<_> = provoke_all(&engine())
            .unwrap()
            .iter()
            .map(|(name, e)| (*name, variant(e)))
            .collect();
        assert_eq!(
            got,
            [
                ("compile", "Compile"),
                ("missing import", "Unlinkable"),
                ("import of the wrong signature", "Unlinkable"),
                // As the spec (and wasmtime) has it: a segment that does not fit traps.
                ("segment out of bounds", "Trap"),
                ("trap", "Trap"),
                ("out of fuel", "OutOfFuel"),
                ("epoch deadline", "Interrupted"),
                ("host function", "Host"),
                ("memory access out of bounds", "MemoryAccess"),
                ("resource limit", "ResourceLimit"),
                ("uncaught exception", "Exception"),
            ]
        );
    }

    #[test]
    fn a_trap_carries_its_code_and_a_wasm_backtrace() {
        let errors = provoke_all(&engine()).unwrap();
        let Error::Trap(trap) = &errors[4].1 else {
            panic!("{:?}", errors[4]);
        };
        assert_eq!(trap.code, TrapCode::Unreachable);
        let names: Vec<_> = trap
            .backtrace
            .iter()
            .map(|f| f.func_name.as_deref())
            .collect();
        assert_eq!(names, [Some("inner"), Some("outer")]);
    }

    #[test]
    fn the_errors_say_what_went_wrong() {
        let errors = provoke_all(&engine()).unwrap();
        let text = |i: usize| errors[i].1.to_string();
        assert!(text(1).contains("env::log"), "{}", text(1));
        assert!(text(7).contains("13 is not allowed"), "{}", text(7));
        assert!(text(8).contains("16 bytes at 65530"), "{}", text(8));
    }
}
