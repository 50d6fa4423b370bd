//! Result patterns and trap messages.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use spec_bundle::{Expected, FloatPattern, RefKind, V128Pattern};
use wasm_engine::{TrapCode, Val};

/// Spec trap messages and the engine trap codes that mean the same thing.
/// Matching is by prefix: the suite has variants such as
/// "uninitialized element 2".
const TRAP_MESSAGES: &[(&str, TrapCode)] = &[
    ("unreachable", TrapCode::Unreachable),
    ("integer divide by zero", TrapCode::IntegerDivisionByZero),
    ("integer overflow", TrapCode::IntegerOverflow),
    (
        "invalid conversion to integer",
        TrapCode::BadConversionToInteger,
    ),
    ("out of bounds memory access", TrapCode::MemoryOutOfBounds),
    ("out of bounds table access", TrapCode::TableOutOfBounds),
    ("undefined element", TrapCode::UndefinedElement),
    ("uninitialized element", TrapCode::IndirectCallToNull),
    ("indirect call type mismatch", TrapCode::BadSignature),
    ("call stack exhausted", TrapCode::StackOverflow),
    ("null reference", TrapCode::NullReference),
    ("null function reference", TrapCode::NullReference),
];

/// Whether the engine's trap `code` is the trap the spec `message` describes.
pub fn trap_matches(code: TrapCode, message: &str) -> bool {
    match TRAP_MESSAGES
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
    {
        Some((_, expected)) => *expected == code,
        // An unlisted message: fall back to the engine's own wording.
        None => message.starts_with(code.message()),
    }
}

/// Whether the value `val` matches the pattern `expected`.
pub fn expected_matches(expected: &Expected, val: &Val) -> bool {
    match (expected, val) {
        (Expected::I32(e), Val::I32(v)) => *e == *v as u32,
        (Expected::I64(e), Val::I64(v)) => *e == *v as u64,
        (Expected::F32(p), Val::F32(bits)) => p.matches_f32(*bits),
        (Expected::F64(p), Val::F64(bits)) => p.matches_f64(*bits),
        (Expected::V128(p), Val::V128(bits)) => p.matches(*bits),
        (Expected::RefNull(kind), Val::FuncRef(None)) => {
            matches!(kind, None | Some(RefKind::Func))
        }
        (Expected::RefNull(kind), Val::ExternRef(None)) => {
            matches!(kind, None | Some(RefKind::Extern))
        }
        (Expected::RefFunc, Val::FuncRef(Some(_))) => true,
        (Expected::RefExtern(e), Val::ExternRef(Some(r))) => e.is_none_or(|e| e == r.value()),
        (Expected::Either(alternatives), v) => alternatives.iter().any(|a| expected_matches(a, v)),
        _ => false,
    }
}

/// A value as the spec writes it, with float bits for exactness.
pub fn describe_val(val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(bits) => format!("f32:{}(0x{bits:08x})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64:{}(0x{bits:016x})", f64::from_bits(*bits)),
        Val::V128(bits) => format!("v128:0x{bits:032x}"),
        Val::FuncRef(None) => String::from("ref.null func"),
        Val::FuncRef(Some(_)) => String::from("ref.func"),
        Val::ExternRef(None) => String::from("ref.null extern"),
        Val::ExternRef(Some(r)) => format!("ref.extern {}", r.value()),
        Val::ExnRef(None) => String::from("ref.null exn"),
        Val::ExnRef(Some(_)) => String::from("ref.exn"),
    }
}

fn describe_f32(p: &FloatPattern<u32>) -> String {
    match p {
        FloatPattern::Bits(bits) => format!("{}(0x{bits:08x})", f32::from_bits(*bits)),
        FloatPattern::CanonicalNan => String::from("nan:canonical"),
        FloatPattern::ArithmeticNan => String::from("nan:arithmetic"),
    }
}

fn describe_f64(p: &FloatPattern<u64>) -> String {
    match p {
        FloatPattern::Bits(bits) => format!("{}(0x{bits:016x})", f64::from_bits(*bits)),
        FloatPattern::CanonicalNan => String::from("nan:canonical"),
        FloatPattern::ArithmeticNan => String::from("nan:arithmetic"),
    }
}

/// A pattern as the spec writes it.
pub fn describe_expected(expected: &Expected) -> String {
    match expected {
        Expected::I32(v) => format!("i32:{}", *v as i32),
        Expected::I64(v) => format!("i64:{}", *v as i64),
        Expected::F32(p) => format!("f32:{}", describe_f32(p)),
        Expected::F64(p) => format!("f64:{}", describe_f64(p)),
        Expected::V128(V128Pattern::Bits(bits)) => format!("v128:0x{bits:032x}"),
        Expected::V128(V128Pattern::F32x4(lanes)) => {
            let lanes: Vec<String> = lanes.iter().map(describe_f32).collect();
            format!("f32x4:[{}]", lanes.join(" "))
        }
        Expected::V128(V128Pattern::F64x2(lanes)) => {
            let lanes: Vec<String> = lanes.iter().map(describe_f64).collect();
            format!("f64x2:[{}]", lanes.join(" "))
        }
        Expected::RefNull(None) => String::from("ref.null"),
        Expected::RefNull(Some(RefKind::Func)) => String::from("ref.null func"),
        Expected::RefNull(Some(RefKind::Extern)) => String::from("ref.null extern"),
        Expected::RefFunc => String::from("ref.func"),
        Expected::RefExtern(None) => String::from("ref.extern"),
        Expected::RefExtern(Some(v)) => format!("ref.extern {v}"),
        Expected::Either(alternatives) => {
            let items: Vec<String> = alternatives.iter().map(describe_expected).collect();
            format!("either({})", items.join(" | "))
        }
    }
}
