//! The runtime: engine, store, instances and the objects they own.

pub mod config;
mod dispose;
pub mod engine;
pub mod exception;
pub(crate) mod fiber;
pub mod func;
pub mod global;
pub mod instance;
pub(crate) mod libcalls;
pub mod linker;
pub mod memory;
pub mod store;
pub mod table;
pub mod tag;
pub(crate) mod type_registry;
pub mod vmcontext;
