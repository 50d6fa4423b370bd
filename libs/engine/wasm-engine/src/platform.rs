//! The seam between the engine and the machine: virtual memory, code publishing,
//! per-thread activation pointer and a clock. A kernel implements this with its page
//! tables and per-thread data; `linux` implements it with mmap/mprotect.
//!
//! Trap catching is the platform's side of the contract too: its fault handler (a signal
//! handler, a kernel trap handler) calls [`crate::trap::handle_fault`] with the faulting PC,
//! address and frame pointer plus [`Platform::activation`], and if that returns a
//! [`crate::trap::ResumeContext`], sets the PC to `resume.pc` and the first argument
//! register to `resume.arg` before returning from the fault.

use crate::Error;

/// A new reservation of `size` bytes with its first `committed` committed: what
/// [`Platform::reserve_memory`] does when the platform has nothing kept to reuse.
pub fn fresh_memory<P: Platform + ?Sized>(
    platform: &P,
    size: usize,
    committed: usize,
) -> Result<*mut u8, Error> {
    let ptr = platform.reserve(size)?;
    if committed > 0
        && let Err(e) = platform.commit(ptr, committed)
    {
        // SAFETY: just reserved, never used.
        unsafe { platform.release(ptr, size) };
        return Err(e);
    }
    Ok(ptr)
}

pub trait Platform: Send + Sync + 'static {
    /// Page size for `reserve`/`commit`.
    fn page_size(&self) -> usize;

    /// Reserves `size` bytes (page-aligned) of address space that faults on any access.
    fn reserve(&self, size: usize) -> Result<*mut u8, Error>;

    /// Makes `[ptr, ptr + len)` of a reservation readable and writable (zero-filled the
    /// first time).
    fn commit(&self, ptr: *mut u8, len: usize) -> Result<(), Error>;

    /// Reserves `size` bytes of which the first `committed` (page-aligned) are readable,
    /// writable and zero, the rest faulting: `reserve` then `commit`. Linear memories
    /// come from here, so that a platform can hand out a reservation it kept from
    /// [`Platform::release_memory`] instead of building a new one.
    fn reserve_memory(&self, size: usize, committed: usize) -> Result<*mut u8, Error> {
        fresh_memory(self, size, committed)
    }

    /// Returns a reservation from [`Platform::reserve_memory`] whose first `committed`
    /// bytes, and nothing else, are committed. The platform may keep it for a later
    /// `reserve_memory` of the same size, which must then see it zeroed and faulting
    /// beyond its own `committed`. The default releases it.
    ///
    /// # Safety
    /// As for [`Platform::release`]; and exactly `[ptr, ptr + committed)` is committed.
    unsafe fn release_memory(&self, ptr: *mut u8, size: usize, committed: usize) {
        let _ = committed;
        // SAFETY: forwarded from the caller.
        unsafe { self.release(ptr, size) }
    }

    /// Makes `[ptr, ptr + len)` read+execute, no write, and makes it visible to instruction
    /// fetch on every hart (icache flush; `fence.i` on riscv, nothing on x86).
    fn publish_code(&self, ptr: *mut u8, len: usize) -> Result<(), Error>;

    /// Returns a whole reservation.
    ///
    /// # Safety
    /// `ptr`/`size` must come from `reserve`, and nothing may use the range any more.
    unsafe fn release(&self, ptr: *mut u8, size: usize);

    /// The current thread's innermost Wasm activation (null if none).
    fn activation(&self) -> *mut u8;

    /// Sets the current thread's innermost Wasm activation. Called on every entry to and
    /// exit from Wasm; a platform may also use the first call to set up per-thread trap
    /// handling (an alternate signal stack, for example).
    fn set_activation(&self, activation: *mut u8);

    /// Monotonic time in nanoseconds (for epoch timers; informational).
    fn monotonic_nanos(&self) -> u64 {
        0
    }

    /// Runs independent jobs (compiling function bodies), possibly in parallel, and
    /// returns when all are done. The default runs them one after the other.
    fn run_jobs(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        for job in jobs.iter_mut() {
            job();
        }
    }
}
