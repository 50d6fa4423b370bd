//! 9P2000.L for atoll, `no_std` + `alloc`.
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
