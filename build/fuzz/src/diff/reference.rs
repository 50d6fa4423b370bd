//! The `diff` target's reference runs: the `wasmi` interpreter.

use wasmi::TrapCode;
use wasmi::errors::{ErrorKind, MemoryError, TableError};
use wasmi::{
    Config, Engine, Error, Linker, Module, Ref, Store, StoreLimits, StoreLimitsBuilder, Val,
};

use super::value::{Call, Outcome, Plan, Run, Snapshot, TrapKind, Value};
use super::{MEMORY_LIMIT_PAGES, TABLE_LIMIT};

pub struct Reference {
    engine: Engine,
}

impl Reference {
    pub fn new() -> Reference {
        let mut config = Config::default();
        config.wasm_simd(true);
        Reference {
            engine: Engine::new(&config),
        }
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
        let limits = StoreLimitsBuilder::new()
            .memory_size((MEMORY_LIMIT_PAGES * 65536) as usize)
            .table_elements(TABLE_LIMIT as usize)
            .build();
        let mut store: Store<StoreLimits> = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        let linker = Linker::<StoreLimits>::new(&self.engine);
        let instance = match linker.instantiate_and_start(&mut store, &module) {
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
                    .map(|i| {
                        t.get(&store, i).is_none_or(|v| match v {
                            Val::FuncRef(f) => f.is_null(),
                            Val::ExternRef(e) => e.is_null(),
                            _ => false,
                        })
                    })
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

impl Default for Reference {
    fn default() -> Self {
        Self::new()
    }
}

fn to_val(v: &Value) -> Val {
    match *v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(x) => Val::F32(wasmi::F32::from_bits(x)),
        Value::F64(x) => Val::F64(wasmi::F64::from_bits(x)),
        Value::V128(x) => Val::V128(x.into()),
        Value::FuncRef { .. } => Val::FuncRef(Ref::Null),
        Value::ExternRef { .. } => Val::ExternRef(Ref::Null),
    }
}

fn from_val(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(x.to_bits()),
        Val::F64(x) => Value::F64(x.to_bits()),
        Val::V128(x) => Value::V128(x.as_u128()),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_null() },
        Val::ExternRef(e) => Value::ExternRef { null: e.is_null() },
    }
}

fn outcome_of(e: &Error) -> Outcome {
    match e.as_trap_code() {
        Some(TrapCode::StackOverflow) | Some(TrapCode::OutOfFuel) => Outcome::Exhausted,
        Some(TrapCode::UnreachableCodeReached) => Outcome::Trap(TrapKind::Unreachable),
        Some(TrapCode::MemoryOutOfBounds) => Outcome::Trap(TrapKind::MemoryOutOfBounds),
        Some(TrapCode::TableOutOfBounds) => Outcome::Trap(TrapKind::TableOutOfBounds),
        Some(TrapCode::IndirectCallToNull) => Outcome::Trap(TrapKind::IndirectCallToNull),
        Some(TrapCode::IntegerDivisionByZero) => Outcome::Trap(TrapKind::IntegerDivisionByZero),
        Some(TrapCode::IntegerOverflow) => Outcome::Trap(TrapKind::IntegerOverflow),
        Some(TrapCode::BadConversionToInteger) => Outcome::Trap(TrapKind::BadConversionToInteger),
        Some(TrapCode::BadSignature) => Outcome::Trap(TrapKind::BadSignature),
        Some(other) => Outcome::Error(format!("wasmi trap {other:?}")),
        // wasmi 1.1 reports some out-of-bounds bulk table and memory operations of running
        // code as table and memory errors rather than traps.
        None => match e.kind() {
            ErrorKind::Table(
                TableError::CopyOutOfBounds
                | TableError::InitOutOfBounds
                | TableError::FillOutOfBounds
                | TableError::SetOutOfBounds,
            ) => Outcome::Trap(TrapKind::TableOutOfBounds),
            ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => {
                Outcome::Trap(TrapKind::MemoryOutOfBounds)
            }
            _ => Outcome::Error(e.to_string()),
        },
    }
}
