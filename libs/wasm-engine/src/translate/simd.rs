//! SIMD (v128) translation. Not implemented yet: every SIMD operator and v128 local is
//! rejected with a compile error so that modules using SIMD fail cleanly.

use alloc::format;

use wasmparser::Operator;

use crate::Error;

/// Translates one SIMD operator. Until SIMD lands this always returns an error.
pub(crate) fn translate_operator(op: &Operator<'_>, offset: usize) -> Result<(), Error> {
    let name = format!("{op:?}");
    const SIMD_PREFIXES: [&str; 7] = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"];
    if SIMD_PREFIXES.iter().any(|p| name.starts_with(p)) {
        Err(Error::compile(Some(offset), format!("SIMD not supported yet ({name})")))
    } else {
        Err(Error::compile(Some(offset), format!("unsupported operator {name}")))
    }
}

/// v128 values in locals, params or results.
pub(crate) fn reject_v128(offset: usize) -> Error {
    Error::compile(Some(offset), "SIMD not supported yet (v128 value)")
}
