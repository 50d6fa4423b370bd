//! Validation with wasmparser, for the feature set the engine implements.

use wasmparser::{Validator, WasmFeatures};

use crate::Error;

/// The features the engine accepts: Wasm 2.0 and the Wasm 3.0 proposals it
/// implements so far. SIMD validates everywhere; targets without vector support
/// (riscv64 without V) refuse it at translation time.
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::RELAXED_SIMD
}

/// Validates a whole module, function bodies included, allowing `features`.
pub fn validate(features: WasmFeatures, bytes: &[u8]) -> Result<(), Error> {
    let mut validator = Validator::new_with_features(features);
    validator.validate_all(bytes)?;
    Ok(())
}
