//! The raw `atoll` import module: the functions of `atoll_abi::imports`,
//! made from the one list in `libs/kernel/atoll-abi` (`user/ABI.md` describes them).
//!
//! Every function returns a WASI errno (0 is success) unless noted; pointers
//! are offsets into this module's memory. Off wasm32 (host unit tests) the
//! imports do not exist, so each call returns `ENOSYS` instead.

pub use atoll_abi::imports::*;

/// A pointer as the ABI's `i32` memory offset. wasm32 pointers are 32-bit,
/// so this is lossless there; on the host the value is never dereferenced.
pub fn ptr<T: ?Sized>(p: *const T) -> i32 {
    p.cast::<u8>() as usize as i32
}

/// A length as the ABI's `i32`.
pub fn len(n: usize) -> i32 {
    n as i32
}
