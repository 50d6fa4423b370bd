use alloc::vec;

use spec_bundle::{Expected, FloatPattern, RefKind, V128Pattern};
use wasm_engine::{ExternRef, TrapCode, Val};

use crate::{expected_matches, trap_matches};

#[test]
fn trap_messages_map_to_codes() {
    assert!(trap_matches(
        TrapCode::IntegerDivisionByZero,
        "integer divide by zero"
    ));
    assert!(trap_matches(
        TrapCode::MemoryOutOfBounds,
        "out of bounds memory access"
    ));
    assert!(trap_matches(
        TrapCode::IndirectCallToNull,
        "uninitialized element 2"
    ));
    assert!(trap_matches(
        TrapCode::UndefinedElement,
        "undefined element"
    ));
    assert!(trap_matches(
        TrapCode::StackOverflow,
        "call stack exhausted"
    ));
    assert!(trap_matches(
        TrapCode::BadSignature,
        "indirect call type mismatch"
    ));
    assert!(!trap_matches(
        TrapCode::TableOutOfBounds,
        "undefined element"
    ));
    assert!(!trap_matches(
        TrapCode::IntegerOverflow,
        "integer divide by zero"
    ));
    assert!(!trap_matches(
        TrapCode::Unreachable,
        "out of bounds memory access"
    ));
}

#[test]
fn scalar_and_ref_patterns() {
    assert!(expected_matches(&Expected::I32(u32::MAX), &Val::I32(-1)));
    assert!(!expected_matches(&Expected::I32(1), &Val::I64(1)));
    assert!(expected_matches(
        &Expected::I64(1 << 63),
        &Val::I64(i64::MIN)
    ));
    assert!(expected_matches(
        &Expected::F32(FloatPattern::CanonicalNan),
        &Val::F32(0xffc0_0000)
    ));
    assert!(!expected_matches(
        &Expected::F64(FloatPattern::Bits(0)),
        &Val::F64(0x8000_0000_0000_0000)
    ));
    assert!(expected_matches(
        &Expected::RefNull(None),
        &Val::ExternRef(None)
    ));
    assert!(expected_matches(
        &Expected::RefNull(Some(RefKind::Func)),
        &Val::FuncRef(None)
    ));
    assert!(!expected_matches(
        &Expected::RefNull(Some(RefKind::Func)),
        &Val::ExternRef(None)
    ));
    assert!(expected_matches(
        &Expected::RefExtern(Some(3)),
        &Val::ExternRef(Some(ExternRef::new(3)))
    ));
    assert!(!expected_matches(
        &Expected::RefExtern(Some(3)),
        &Val::ExternRef(Some(ExternRef::new(4)))
    ));
    assert!(!expected_matches(
        &Expected::RefExtern(None),
        &Val::ExternRef(None)
    ));
    assert!(!expected_matches(&Expected::RefFunc, &Val::FuncRef(None)));
    assert!(expected_matches(
        &Expected::Either(vec![Expected::I32(1), Expected::I32(2)]),
        &Val::I32(2)
    ));
    assert!(!expected_matches(&Expected::Either(vec![]), &Val::I32(2)));
    assert!(expected_matches(
        &Expected::V128(V128Pattern::F64x2([
            FloatPattern::ArithmeticNan,
            FloatPattern::Bits(0)
        ])),
        &Val::V128(0x7ff8_0000_0000_0001)
    ));
}
