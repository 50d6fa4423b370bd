//! The small traits an embedder implements: console, clocks, randomness, scheduling.
//!
//! The file system trait lives in [`crate::fs`]. Process exit needs no trait: `proc_exit`
//! records the code in the [`crate::WasiCtx`] and ends the call with an error the embedder
//! recognises (see [`crate::ProcExit`]).

use crate::errno::Errno;

/// Which output stream a write goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// The process's standard streams (fds 0, 1 and 2).
pub trait Console: Send {
    /// Writes to stdout or stderr; returns how many bytes were taken.
    fn write(&mut self, stream: OutputStream, data: &[u8]) -> Result<usize, Errno>;

    /// Reads from stdin. May block until at least one byte is there; `Ok(0)` means end of input.
    /// A console that cannot block returns [`Errno::Again`] when nothing is buffered.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;

    /// Whether a `read` would return without blocking (data or end of input is there).
    fn stdin_ready(&mut self) -> bool;

    /// Whether standard stream `fd` (0, 1 or 2) is a terminal. wasmtime reports a terminal
    /// as `FILETYPE_CHARACTER_DEVICE` and anything else (a pipe, a file, captured output)
    /// as `FILETYPE_UNKNOWN`, in `fd_fdstat_get` and `fd_filestat_get`; so `isatty` in the
    /// guest answers yes exactly for the streams this says are terminals. Default: none is.
    fn is_terminal(&self, fd: u32) -> bool {
        let _ = fd;
        false
    }
}

/// Clocks, in nanoseconds.
pub trait Clock: Send {
    /// Nanoseconds since an arbitrary, fixed point; never goes backwards.
    fn monotonic_now(&self) -> u64;
    /// Nanoseconds since the Unix epoch.
    fn realtime_now(&self) -> u64;
    /// Resolution of the monotonic clock in nanoseconds.
    fn monotonic_resolution(&self) -> u64;
    /// Resolution of the realtime clock in nanoseconds.
    fn realtime_resolution(&self) -> u64;
    /// CPU time the process has used, if the embedder tracks it.
    fn process_cputime(&self) -> Option<u64> {
        None
    }
}

/// A source of randomness for `random_get`. Should be cryptographically secure on a real system.
pub trait Random: Send {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno>;
}

/// How a process gives up the CPU (`sched_yield`, `poll_oneoff`).
pub trait Scheduler: Send {
    /// Lets other processes run; returns soon.
    fn yield_now(&mut self);
    /// Blocks until the monotonic clock reaches `deadline_ns`, or earlier if stdin may have
    /// become readable and `wake_on_stdin` is set. Spurious early returns are allowed.
    fn sleep_until(&mut self, deadline_ns: u64, wake_on_stdin: bool);
}
