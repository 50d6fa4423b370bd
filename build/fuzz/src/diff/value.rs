//! What a run of a module is made of, engine-neutral: the plan (which exports to call with
//! which arguments), each call's outcome, the final snapshot, and their comparison.

use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType};

use crate::rng::Rng;

/// A Wasm value; references only as far as engines can agree on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// A function reference: only whether it is null.
    FuncRef {
        null: bool,
    },
    /// An external reference: only whether it is null (the fuzzer passes only null).
    ExternRef {
        null: bool,
    },
}

/// A trap, by kind (messages differ between engines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    /// A table index out of bounds, `call_indirect` beyond the table included.
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerDivisionByZero,
    IntegerOverflow,
    BadConversionToInteger,
    NullReference,
}

/// How an instantiation or a call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Values(Vec<Value>),
    Trap(TrapKind),
    /// Stack overflow: each engine has its own limit, so the run is inconclusive from here.
    Exhausted,
    /// Any other failure (compilation, linking, instantiation), with its message.
    Error(String),
}

impl Outcome {
    /// A short name of the kind of outcome, for statistics.
    pub fn kind(&self) -> String {
        match self {
            Outcome::Values(_) => "values".into(),
            Outcome::Trap(k) => format!("trap {k:?}"),
            Outcome::Exhausted => "stack exhausted".into(),
            Outcome::Error(_) => "error".into(),
        }
    }
}

/// One exported-function call.
#[derive(Clone, Debug)]
pub struct Call {
    pub export: String,
    pub args: Vec<Value>,
    pub outcome: Outcome,
}

/// The exported state after the calls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub memories: Vec<(String, Vec<u8>)>,
    pub globals: Vec<(String, Value)>,
    /// Each table's elements, as null or not.
    pub tables: Vec<(String, Vec<bool>)>,
}

/// One engine's run of a module.
#[derive(Clone, Debug)]
pub struct Run {
    pub instantiate: Outcome,
    pub calls: Vec<Call>,
    pub snapshot: Option<Snapshot>,
}

/// An exported function's signature.
#[derive(Clone, Debug)]
pub struct ExportFunc {
    pub name: String,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// What every engine does with a module: the calls, in order, with their arguments.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub calls: Vec<(ExportFunc, Vec<Value>)>,
    pub memories: Vec<String>,
    pub globals: Vec<String>,
    pub tables: Vec<String>,
}

impl Plan {
    /// The plan for `wasm`: every exported function, [`super::CALLS_PER_EXPORT`] times, with
    /// arguments drawn from a generator seeded by the module's bytes.
    pub fn for_module(wasm: &[u8]) -> Result<Plan, String> {
        let mut types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
        let mut funcs: Vec<u32> = Vec::new();
        let mut exports = Vec::new();
        let mut plan = Plan::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(|e| format!("generated module does not parse: {e}"))? {
                Payload::TypeSection(r) => {
                    for ty in r.into_iter_err_on_gc_types() {
                        let f = ty.map_err(|e| e.to_string())?;
                        types.push((f.params().to_vec(), f.results().to_vec()));
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        if let TypeRef::Func(t) = imp.map_err(|e| e.to_string())?.ty {
                            funcs.push(t);
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        funcs.push(t.map_err(|e| e.to_string())?);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.map_err(|e| e.to_string())?;
                        exports.push((e.name.to_string(), e.kind, e.index));
                    }
                }
                _ => {}
            }
        }
        let mut rng = Rng::new(fnv(wasm));
        for (name, kind, index) in exports {
            match kind {
                ExternalKind::Func | ExternalKind::FuncExact => {
                    let ty = funcs
                        .get(index as usize)
                        .and_then(|t| types.get(*t as usize))
                        .ok_or("export of an unknown function")?;
                    let f = ExportFunc {
                        name,
                        params: ty.0.clone(),
                        results: ty.1.clone(),
                    };
                    for _ in 0..super::CALLS_PER_EXPORT {
                        let args = f.params.iter().map(|t| arg(&mut rng, *t)).collect();
                        plan.calls.push((f.clone(), args));
                    }
                }
                ExternalKind::Memory => plan.memories.push(name),
                ExternalKind::Global => plan.globals.push(name),
                ExternalKind::Table => plan.tables.push(name),
                _ => {}
            }
        }
        Ok(plan)
    }
}

/// FNV-1a of `bytes`.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// An argument of type `ty`: often a boundary value, otherwise random.
fn arg(rng: &mut Rng, ty: ValType) -> Value {
    const I32S: [i32; 8] = [0, 1, -1, i32::MIN, i32::MAX, 0x8000, 65536, 0xffff];
    const I64S: [i64; 6] = [0, 1, -1, i64::MIN, i64::MAX, 1 << 32];
    const F32S: [u32; 8] = [
        0,
        0x8000_0000,
        0x3f80_0000,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0x4f00_0000,
        0x0000_0001,
    ];
    const F64S: [u64; 6] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x43e0_0000_0000_0000,
    ];
    let special = rng.one_in(2);
    match ty {
        ValType::I32 if special => Value::I32(*rng.pick(&I32S)),
        ValType::I32 => Value::I32(rng.next_u64() as i32),
        ValType::I64 if special => Value::I64(*rng.pick(&I64S)),
        ValType::I64 => Value::I64(rng.next_u64() as i64),
        ValType::F32 if special => Value::F32(*rng.pick(&F32S)),
        ValType::F32 => Value::F32(rng.next_u64() as u32),
        ValType::F64 if special => Value::F64(*rng.pick(&F64S)),
        ValType::F64 => Value::F64(rng.next_u64()),
        ValType::V128 => Value::V128(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())),
        ValType::Ref(r) if r.is_func_ref() => Value::FuncRef { null: true },
        ValType::Ref(_) => Value::ExternRef { null: true },
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => {
            x == y || (f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan())
        }
        (Value::F64(x), Value::F64(y)) => {
            x == y || (f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan())
        }
        (Value::V128(x), Value::V128(y)) => x == y || same_lanes_but_nans(*x, *y),
        _ => a == b,
    }
}

/// Whether two vectors differ only in lanes that are NaN in both, read as f32x4 or f64x2
/// (NaN bit patterns are nondeterministic in SIMD results).
fn same_lanes_but_nans(x: u128, y: u128) -> bool {
    let f32x4 = (0..4).all(|i| {
        let (a, b) = ((x >> (32 * i)) as u32, (y >> (32 * i)) as u32);
        a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
    });
    let f64x2 = (0..2).all(|i| {
        let (a, b) = ((x >> (64 * i)) as u64, (y >> (64 * i)) as u64);
        a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
    });
    f32x4 || f64x2
}

fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Values(x), Outcome::Values(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Outcome::Trap(x), Outcome::Trap(y)) => x == y,
        (Outcome::Error(_), Outcome::Error(_)) => true,
        _ => false,
    }
}

/// Compares run `a` (named `an`) with run `b`; `Err` describes the first difference.
pub fn compare(an: &str, a: &Run, bn: &str, b: &Run) -> Result<(), String> {
    if matches!(a.instantiate, Outcome::Exhausted) || matches!(b.instantiate, Outcome::Exhausted) {
        return Ok(());
    }
    // Instantiation failures are compared by kind only when both are traps.
    let a_ok = matches!(a.instantiate, Outcome::Values(_));
    let b_ok = matches!(b.instantiate, Outcome::Values(_));
    let traps_differ = matches!((&a.instantiate, &b.instantiate),
        (Outcome::Trap(x), Outcome::Trap(y)) if x != y);
    if a_ok != b_ok || traps_differ {
        return Err(format!(
            "instantiation: {an} {:?}, {bn} {:?}",
            a.instantiate, b.instantiate
        ));
    }
    for (x, y) in a.calls.iter().zip(&b.calls) {
        if matches!(x.outcome, Outcome::Exhausted) || matches!(y.outcome, Outcome::Exhausted) {
            return Ok(());
        }
        if !same_outcome(&x.outcome, &y.outcome) {
            return Err(format!(
                "call {:?}{:?}: {an} {:?}, {bn} {:?}",
                x.export, x.args, x.outcome, y.outcome
            ));
        }
    }
    if a.calls.len() != b.calls.len() {
        return Err(format!(
            "{an} made {} calls, {bn} {}",
            a.calls.len(),
            b.calls.len()
        ));
    }
    match (&a.snapshot, &b.snapshot) {
        (Some(x), Some(y)) => compare_snapshots(an, x, bn, y),
        (None, None) => Ok(()),
        _ => Err(format!("only one of {an} and {bn} took a snapshot")),
    }
}

fn compare_snapshots(an: &str, a: &Snapshot, bn: &str, b: &Snapshot) -> Result<(), String> {
    for ((name, x), (_, y)) in a.memories.iter().zip(&b.memories) {
        if x.len() != y.len() {
            return Err(format!(
                "memory {name:?}: {an} has {} bytes, {bn} {}",
                x.len(),
                y.len()
            ));
        }
        if let Some(i) = (0..x.len()).find(|&i| x[i] != y[i]) {
            return Err(format!(
                "memory {name:?} differs first at {i:#x}: {an} {:#04x}, {bn} {:#04x}",
                x[i], y[i]
            ));
        }
    }
    for ((name, x), (_, y)) in a.globals.iter().zip(&b.globals) {
        if !same_value(x, y) {
            return Err(format!("global {name:?}: {an} {x:?}, {bn} {y:?}"));
        }
    }
    for ((name, x), (_, y)) in a.tables.iter().zip(&b.tables) {
        if x != y {
            return Err(format!(
                "table {name:?}: {an} {} elements ({} null), {bn} {} ({} null)",
                x.len(),
                x.iter().filter(|n| **n).count(),
                y.len(),
                y.iter().filter(|n| **n).count()
            ));
        }
    }
    if (a.memories.len(), a.globals.len(), a.tables.len())
        != (b.memories.len(), b.globals.len(), b.tables.len())
    {
        return Err(format!("{an} and {bn} exported different state"));
    }
    Ok(())
}
