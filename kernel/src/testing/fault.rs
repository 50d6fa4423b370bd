//! Helpers for tests that touch memory that may fault: raw reads and writes,
//! and a check that an access faults with a given cause and address.

use crate::recover::{self, Fault};

/// Reads a word at `addr` (which may be unmapped: call under `recover::catch`).
pub fn read(addr: u64) -> u64 {
    // SAFETY: tests call this under `recover::catch` on possibly unmapped addresses.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes a word at `addr` (as [`read`]).
pub fn write(addr: u64, v: u64) {
    // SAFETY: as `read`.
    unsafe { core::ptr::write_volatile(addr as *mut u64, v) }
}

/// Runs `f`, which must fault with `cause` at `addr`.
pub fn expect_fault(cause: usize, addr: u64, f: impl FnOnce()) {
    match recover::catch(f) {
        Ok(()) => panic!("access to {addr:#x} did not fault"),
        Err(Fault::Trap {
            cause: c, stval, ..
        }) => {
            assert_eq!(
                (c, stval as u64),
                (cause, addr),
                "wrong fault (cause, address)"
            );
        }
        Err(other) => panic!("expected a fault, got: {other}"),
    }
}
