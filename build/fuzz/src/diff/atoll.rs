//! The `diff` target's runs in atoll's engine (on the Linux platform), in one bounds-check
//! mode.

use std::sync::Arc;

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{
    BoundsChecks, Config, Engine, Error, Instance, Module, Store, StoreLimitsBuilder, TrapCode, Val,
};

use super::value::{Call, Outcome, Plan, Run, Snapshot, TrapKind, Value};
use super::{MEMORY_LIMIT_PAGES, TABLE_LIMIT};

pub struct Atoll {
    engine: Engine,
}

impl Atoll {
    pub fn new(mode: BoundsChecks) -> Atoll {
        let mut config = Config::new();
        config.bounds_checks(mode).simd(true);
        let engine = Engine::new(&config, Arc::new(LinuxPlatform::new()))
            .expect("atoll's engine supports the host");
        Atoll { engine }
    }

    pub fn run(&self, wasm: &[u8], plan: &Plan) -> Run {
        let failed = |outcome| Run {
            instantiate: outcome,
            calls: Vec::new(),
            snapshot: None,
        };
        let module = match Module::new(&self.engine, wasm) {
            Ok(m) => m,
            Err(e) => return failed(outcome_of(&e)),
        };
        let mut store = Store::new(&self.engine, ());
        store.limiter(
            StoreLimitsBuilder::new()
                .memory_size((MEMORY_LIMIT_PAGES * 65536) as usize)
                .table_elements(TABLE_LIMIT)
                .build(),
        );
        let instance = match Instance::new(&mut store, &module, &[]) {
            Ok(i) => i,
            Err(e) => return failed(outcome_of(&e)),
        };
        let mut calls = Vec::new();
        for (f, args) in &plan.calls {
            let outcome = match instance.get_func(&store, &f.name) {
                None => Outcome::Error(format!("no exported function {:?}", f.name)),
                Some(func) => {
                    let params: Vec<Val> = args.iter().map(to_val).collect();
                    let mut results = vec![Val::I32(0); f.results.len()];
                    match func.call(&mut store, &params, &mut results) {
                        Ok(()) => Outcome::Values(results.iter().map(from_val).collect()),
                        Err(e) => outcome_of(&e),
                    }
                }
            };
            let stop = matches!(outcome, Outcome::Exhausted);
            calls.push(Call {
                export: f.name.clone(),
                args: args.clone(),
                outcome,
            });
            if stop {
                return Run {
                    instantiate: Outcome::Values(Vec::new()),
                    calls,
                    snapshot: None,
                };
            }
        }
        let mut snapshot = Snapshot::default();
        for name in &plan.memories {
            if let Some(m) = instance.get_memory(&store, name) {
                snapshot
                    .memories
                    .push((name.clone(), m.data(&store).to_vec()));
            }
        }
        for name in &plan.globals {
            if let Some(g) = instance.get_global(&store, name) {
                snapshot
                    .globals
                    .push((name.clone(), from_val(&g.get(&store))));
            }
        }
        for name in &plan.tables {
            if let Some(t) = instance.get_table(&store, name) {
                let elems = (0..t.size(&store))
                    .map(|i| t.get(&store, i).is_none_or(|v| is_null(&v)))
                    .collect();
                snapshot.tables.push((name.clone(), elems));
            }
        }
        Run {
            instantiate: Outcome::Values(Vec::new()),
            calls,
            snapshot: Some(snapshot),
        }
    }
}

fn is_null(v: &Val) -> bool {
    match v {
        Val::FuncRef(f) => f.is_none(),
        Val::ExternRef(e) => e.is_none(),
        _ => false,
    }
}

fn to_val(v: &Value) -> Val {
    match *v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(x) => Val::F32(x),
        Value::F64(x) => Val::F64(x),
        Value::V128(x) => Val::V128(x),
        Value::FuncRef { .. } => Val::FuncRef(None),
        Value::ExternRef { .. } => Val::ExternRef(None),
    }
}

fn from_val(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(*x),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_none() },
        Val::ExternRef(e) => Value::ExternRef { null: e.is_none() },
        // The generated modules are Wasm 2.0 (see `config`): no exception handling.
        Val::ExnRef(_) => panic!("an exnref from a Wasm 2.0 module"),
    }
}

fn outcome_of(e: &Error) -> Outcome {
    match e {
        Error::Trap(t) => match t.code {
            TrapCode::StackOverflow => Outcome::Exhausted,
            TrapCode::Unreachable => Outcome::Trap(TrapKind::Unreachable),
            TrapCode::IntegerDivisionByZero => Outcome::Trap(TrapKind::IntegerDivisionByZero),
            TrapCode::IntegerOverflow => Outcome::Trap(TrapKind::IntegerOverflow),
            TrapCode::BadConversionToInteger => Outcome::Trap(TrapKind::BadConversionToInteger),
            TrapCode::MemoryOutOfBounds => Outcome::Trap(TrapKind::MemoryOutOfBounds),
            TrapCode::TableOutOfBounds | TrapCode::UndefinedElement => {
                Outcome::Trap(TrapKind::TableOutOfBounds)
            }
            TrapCode::IndirectCallToNull => Outcome::Trap(TrapKind::IndirectCallToNull),
            TrapCode::BadSignature => Outcome::Trap(TrapKind::BadSignature),
            TrapCode::NullReference => Outcome::Trap(TrapKind::NullReference),
        },
        other => Outcome::Error(other.to_string()),
    }
}
