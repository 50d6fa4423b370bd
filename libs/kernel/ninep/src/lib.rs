//! 9P2000.L for atoll, `no_std` + `alloc`: how `just exec prog.wasm --dir HOST::GUEST`
//! shares a host directory read-write and live, as `wasmtime run --dir` does. QEMU exports
//! the directory (`-fsdev local,security_model=none,...` + a virtio-9p device); the kernel
//! carries messages over the virtio queue ([`Transport`]); everything that is protocol and
//! file system logic lives here and is tested on the host.
//!
//! - [`wire`] and [`msg`]: the wire format of every message a file system client needs
//!   (`Tversion` ... `Tflush` and `Rlerror`), encoded and decoded in both directions;
//!   malformed input is an error, never a panic.
//! - [`Client`]: one 9P session: version negotiation (asks for 512 KiB, takes what the
//!   server offers), attach, tags and fids from pools whose short locks are never held
//!   across a transport call, one method per request.
//! - [`NinepFs`]: a [`wasi_p1::FileSystem`] over a share (see [`fs`] for how inodes map to
//!   fids and stay right while the host changes the directory).
//! - `server` (feature `server`, std, Linux): an in-process server with QEMU's `local`
//!   backend semantics and a loopback [`Transport`], for the tests and for host tools that
//!   run a Wasm program against a real directory through exactly this client code
//!   ([`server::mount`]).
//!
//! # Why a hand-written client
//!
//! The `virtio-drivers` crate has a raw virtio-9p request transport but no 9P protocol.
//! The 9P crates on crates.io (checked with `cargo info`) do not fit a `no_std` kernel
//! client: `rs9p` is a tokio server, `p9` (crosvm) a std server, `jetstream_9p` an RPC
//! framework over QUIC, and `ninep-client`/`ninep-proto` an async tokio client under the
//! AGPL. 9P2000.L is small and fixed (20 request types, little-endian fields), so the whole
//! protocol is a few hundred lines we test byte for byte.
//!
//! # The kernel's side
//!
//! ```ignore
//! impl ninep::Transport for VirtioNinep {
//!     fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
//!         // copy `request` to a device-readable bounce buffer, post it with a device-writable
//!         // one of `response.len()` bytes, block until the chain completes, copy back.
//!     }
//! }
//! let fs = ninep::NinepFs::mount(VirtioNinep::new(dev), /* dev */ 3)?;
//! ctx_builder.preopen_dir(Arc::new(fs), "/guest/path");
//! ```

#![no_std]

extern crate alloc;
#[cfg(feature = "server")]
extern crate std;

pub mod client;
pub mod errno;
pub mod fs;
pub mod msg;
#[cfg(feature = "server")]
pub mod server;
pub mod transport;
pub mod wire;

pub use client::{Client, Error, WalkFailure};
pub use fs::{MountOptions, NinepFs};
pub use transport::{Transport, TransportError};
pub use wire::{Qid, WireError};
