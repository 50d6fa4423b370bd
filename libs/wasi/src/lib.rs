//! WASI preview 1 (`wasi_snapshot_preview1`) for atoll, `no_std` + `alloc`.
//!
//! The embedder supplies small traits — a [`FileSystem`] per preopened directory, a
//! [`Console`], a [`Clock`], a [`Random`] source and a [`Scheduler`] — and gets a [`WasiCtx`]
//! per process. The functions themselves ([`calls`]) work on a [`GuestMemory`] and know
//! nothing of the engine; [`add_to_linker`] (feature `engine`) registers all of them into a
//! `wasm_engine::Linker`.
//!
//! Semantics are wasmtime 51's preview 1 (its adapter over preview 2 and cap-std, on Linux):
//! an fd that is not open is [`Errno::Badf`]; rights are not enforced (only the access mode
//! an fd was opened with, as wasmtime); paths resolve as cap-std does ([`walk`] rules: no
//! escape through `..`, absolute paths or symlinks, which is [`Errno::Perm`]); an invalid
//! flag or enum value traps. Deliberate differences: a guest pointer or length outside linear
//! memory is [`Errno::Fault`] (wasmtime traps), a read-only tree answers [`Errno::Rofs`], and
//! inode and device numbers are the trees' own (wasmtime hashes them). `proc_exit` ends the
//! call with [`Stop::Exit`]; no function panics on guest input.

#![no_std]

extern crate alloc;

pub mod abi;
pub mod calls;
mod console;
mod ctx;
mod errno;
pub mod fs;
pub mod host;
mod initrdfs;
#[cfg(feature = "engine")]
mod linker;
mod mem;
pub mod memfs;
#[cfg(feature = "std")]
pub mod std_host;
mod subdir;
#[cfg(test)]
mod tests;
pub mod walk;

pub use calls::{Function, ParamType, Stop, dispatch};
pub use console::MemConsole;
pub use ctx::{MAX_FDS, WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use fs::{DirEntry, FileKind, FileSystem, Ino, Stat};
pub use host::{Clock, Console, OutputStream, Random, Scheduler};
pub use initrdfs::{InitrdFs, InitrdFsError};
#[cfg(feature = "engine")]
pub use linker::{PROC_EXIT_PREFIX, add_to_linker, exit_status};
pub use mem::GuestMemory;
pub use memfs::{FileData, MemFs};
pub use subdir::SubdirFs;

/// The module name the functions are imported from.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// `proc_exit` was called with this code; the instance must not run further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcExit(pub u32);
