//! Validation with wasmparser, for the feature set the engine implements.

use wasmparser::{Validator, WasmFeatures};

use crate::Error;

/// The features the engine accepts: Wasm 2.0 and the Wasm 3.0 proposals it
/// implements. SIMD validates everywhere; targets without vector support (riscv64
/// without V) refuse it at translation time.
///
/// `GC` is on for its type system only, which Wasm 3.0 defines for every type:
/// recursion groups, `final`, and constant expressions reading any immutable global.
/// What needs a collector (struct, array, i31, any and eq types, declared supertypes
/// and the GC instructions) validates but is refused when the module is compiled,
/// with an "unsupported" error that names it.
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::GC
        | WasmFeatures::EXCEPTIONS
}

/// Validates a whole module, function bodies included, allowing `features`.
pub fn validate(features: WasmFeatures, bytes: &[u8]) -> Result<(), Error> {
    let mut validator = Validator::new_with_features(features);
    validator.validate_all(bytes)?;
    Ok(())
}
