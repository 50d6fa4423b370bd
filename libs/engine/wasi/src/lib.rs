//! WASI preview 1 (`wasi_snapshot_preview1`) for atoll, `no_std` + `alloc`.
//!
//! The embedder supplies small traits — a [`FileSystem`] per preopened directory, a
//! [`Console`], a [`Clock`], a [`Random`] source and a [`Scheduler`] — and gets a [`WasiCtx`]
//! per process. The functions themselves ([`calls`]) work on a [`GuestMemory`] and know
//! nothing of the engine; [`add_to_linker`] (feature `engine`) registers all of them into a
//! `wasm_engine::Linker`.
//!
//! Semantics are wasmtime 51's preview 1 (its adapter over preview 2 and cap-std, on Linux,
//! as its embedding API runs a command), errno for errno and in its order of checks:
//!
//! - An argument outside its witx type (an enum value or flag bit preview 1 does not define)
//!   is a host error ([`Stop::HostError`]): the program ends, and wasmtime exits with code 1.
//!   So is `proc_exit(n)` with n >= 126.
//! - Guest memory is checked when it is used ([`GuestMemory`]): a range outside linear memory,
//!   or a typed value at an address not aligned to it, is a host error too, never `EFAULT`;
//!   a result pointer is written (and so checked) only after the operation succeeded, and a
//!   write of nothing is not checked. One call takes at most 128 MiB of buffers and arrays
//!   from the guest (`ENOMEM` beyond). A value read from memory that is not valid for its
//!   type (a subscription's event type or clock) is `EINVAL`.
//! - An fd that is not open is [`Errno::Badf`]; rights are not enforced, only the access mode
//!   an fd was opened with (reading or writing an fd not opened for it is `EBADF`, truncating
//!   it `EINVAL`).
//! - Paths resolve as cap-std does ([`walk`]): no escape through `..`, absolute paths or
//!   symlinks (all [`Errno::Perm`]), and `readlink` of an absolute target is `EPERM`. A last
//!   component `.` or `..` gets the errno Linux gives for it per call (`EEXIST` to create,
//!   `EINVAL` to remove a directory, `EISDIR` to unlink, `EBUSY` to rename).
//! - A read-only tree (the initrd, a read-only 9P share) is a read-only preopen: every change
//!   is [`Errno::Perm`], before the path is looked at.
//! - A zero-length read of stdin is `EINTR`.
//!
//! Deliberate differences: inode and device numbers are the trees' own (wasmtime hashes
//! them). `proc_exit` ends the call with [`Stop::Exit`]; no function panics on guest input.

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
