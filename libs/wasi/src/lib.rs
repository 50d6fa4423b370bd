//! WASI preview 1 (`wasi_snapshot_preview1`) for atoll, `no_std` + `alloc`.
//!
//! The embedder supplies small traits — a [`FileSystem`] per preopened directory, a
//! [`Console`], a [`Clock`], a [`Random`] source and a [`Scheduler`] — and gets a [`WasiCtx`]
//! per process. The functions themselves ([`calls`]) work on a [`GuestMemory`] and know
//! nothing of the engine; [`add_to_linker`] (feature `engine`) registers all of them into a
//! `wasm_engine::Linker`.
//!
//! Errno rules: a guest pointer or length outside linear memory is [`Errno::Fault`]; an fd
//! that is not open is [`Errno::Badf`]; missing rights are [`Errno::Notcapable`] (reading or
//! writing without `fd_read`/`fd_write` rights is [`Errno::Badf`], as POSIX has it); what no
//! trait can provide (symlinks, hard links, timestamps, signals, sockets) is [`Errno::Nosys`]
//! or [`Errno::Notsock`]. No function traps or panics on guest input; `proc_exit` ends the
//! call with [`ProcExit`].

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
#[cfg(test)]
mod tests;
mod walk;

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

/// The module name the functions are imported from.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// `proc_exit` was called with this code; the instance must not run further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcExit(pub u32);
