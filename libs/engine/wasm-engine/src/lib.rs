//! atoll's WebAssembly engine: wasmparser validation, an own Wasm → CLIF translator,
//! Cranelift code generation, and a small runtime whose only contact with the machine
//! is the [`Platform`] trait.
//!
//! Phases: [`validate`] → [`translate`] → [`compile`] → [`link`] → [`runtime`]. The
//! first three need the `compiler` feature (Cranelift, on by default); without it the
//! engine loads only precompiled modules (`artifact`).
//! Traps are caught by the platform's fault handler, which calls
//! [`trap::handle_fault`] and resumes at the entry stub in [`arch`].

#![no_std]
// Without the compiler (a runtime-only engine), what only compiling and writing
// artifacts use (function bodies, the artifact writer, `Header::of`) is dead code,
// which the linker drops; marking each piece would scatter `cfg`s over the crate.
#![cfg_attr(not(feature = "compiler"), allow(dead_code))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arch;
mod artifact;
mod code;
#[cfg(feature = "compiler")]
pub mod compile;
mod const_expr;
mod error;
pub mod invoke;
pub mod link;
#[cfg(feature = "linux")]
pub mod linux;
mod module;
pub mod platform;
pub mod runtime;
#[cfg(feature = "compiler")]
pub mod translate;
pub mod trap;
mod types;
pub mod validate;

pub use error::{Error, FrameInfo, Trap, TrapCode};
pub use module::{ExportType, ImportType, Module};
pub use platform::Platform;
pub use runtime::config::{BoundsChecks, Config};
pub use runtime::engine::Engine;
pub use runtime::exception::Exception;
pub use runtime::func::{
    CallAsync, Caller, Func, HostFuture, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet,
    WasmTy,
};
pub use runtime::global::Global;
pub use runtime::instance::{Extern, Instance};
pub use runtime::linker::Linker;
pub use runtime::memory::Memory;
pub use runtime::store::{
    AsContext, AsContextMut, EpochAction, ResourceLimiter, Store, StoreContext, StoreContextMut,
    StoreLimits, StoreLimitsBuilder,
};
pub use runtime::table::Table;
pub use runtime::tag::Tag;
pub use types::{
    ExternRef, ExternType, FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType,
    TableType, TagType, Val, ValType,
};
pub use wasmparser::WasmFeatures;
