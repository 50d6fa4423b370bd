//! atoll's own ABI, defined once for both sides (in the spirit of Hubris's
//! `sys/abi`): the kernel (`kernel/src/proc/abi.rs`) implements the `atoll`
//! import module from these definitions and programs call it through them
//! (`user/atoll-sdk`); `user/ABI.md` describes the semantics.
//!
//! - [`FUNCTIONS`]: every function of the module with its Wasm signature, and
//!   [`imports`]: the same list as the program side's `extern` block.
//! - [`Errno`]: the errors, in WASI preview 1's numbering (`wasi_p1::Errno`).
//! - [`records`]: the `#[repr(C)]` records passed through memory, with their
//!   sizes checked at compile time and one encoding for both sides.

#![no_std]

pub mod records;

pub use wasi_p1::Errno;

/// The import module's name.
pub const MODULE: &str = "atoll";

/// A Wasm value type of the ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
}

/// One function of the `atoll` module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub params: &'static [Ty],
    pub results: &'static [Ty],
}

/// The ABI type of a Rust integer type in the list below.
macro_rules! ty {
    (i32) => {
        Ty::I32
    };
    (i64) => {
        Ty::I64
    };
}

/// The result a host build (no atoll underneath) gets from each import.
pub trait NotOnAtoll {
    const VALUE: Self;
}
impl NotOnAtoll for i32 {
    /// `ENOSYS`: errno results say "not supported".
    const VALUE: i32 = Errno::Nosys as i32;
}
impl NotOnAtoll for i64 {
    /// A clock reads 0.
    const VALUE: i64 = 0;
}

/// The one list of the module's functions: it makes [`FUNCTIONS`] and
/// [`imports`].
macro_rules! functions {
    ($($(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $t:ident),* $(,)?) -> $r:ident;)*) => {
        /// Every function of the `atoll` module, in `user/ABI.md`'s order.
        pub const FUNCTIONS: &[Function] = &[$(Function {
            name: stringify!($name),
            params: &[$(ty!($t)),*],
            results: &[ty!($r)],
        }),*];

        /// The imports as a program calls them. Pointers are offsets into the
        /// caller's memory; each returns an errno (0 is success) unless its
        /// documentation says otherwise.
        #[cfg(target_arch = "wasm32")]
        pub mod imports {
            #[link(wasm_import_module = "atoll")]
            unsafe extern "C" {
                $($(#[doc = $doc])* pub fn $name($($arg: $t),*) -> $r;)*
            }
        }

        /// Host stand-ins with the imports' signatures (for programs' unit
        /// tests on the host): atoll is not there, so errno results are
        /// `ENOSYS` and `i64` results 0.
        #[cfg(not(target_arch = "wasm32"))]
        #[allow(clippy::missing_safety_doc, unused_variables)]
        pub mod imports {
            use super::NotOnAtoll;
            $($(#[doc = $doc])* pub unsafe fn $name($($arg: $t),*) -> $r {
                <$r as NotOnAtoll>::VALUE
            })*
        }
    };
}

functions! {
    /// Closes a handle (a process or a channel end).
    fn handle_close(handle: i32) -> i32;
    /// Starts a program from a [`records::SpawnRequest`]; writes its process handle.
    fn spawn(request: i32, out_handle: i32) -> i32;
    /// Waits for a process to end; writes a [`records::Status`].
    fn wait(process: i32, nonblocking: i32, out_status: i32) -> i32;
    /// The trap message of a process that trapped.
    fn trap_message(process: i32, buf: i32, buf_len: i32, out_len: i32) -> i32;
    /// Kills a descendant process.
    fn kill(pid: i32) -> i32;
    /// Writes [`records::ProcessRecord`]s and the number of processes.
    fn process_list(buf: i32, buf_len: i32, out_count: i32) -> i32;
    /// The caller's pid (not an errno).
    fn getpid() -> i32;
    /// Gives the console's Ctrl-C to a process (console owners only).
    fn set_foreground(pid: i32) -> i32;
    /// Powers off with an exit code (pid 1 only).
    fn shutdown(code: i32) -> i32;
    /// `just exec`: a run's output starts (pid 1 only).
    fn exec_begin(run: i32) -> i32;
    /// `just exec`: a run ended with `code` (pid 1 only).
    fn exec_end(code: i32) -> i32;
    /// Creates a channel; writes the handles of its two ends.
    fn channel_create(out_a: i32, out_b: i32) -> i32;
    /// Sends one message (at most [`MAX_MESSAGE`] bytes).
    fn channel_send(handle: i32, buf: i32, len: i32, nonblocking: i32) -> i32;
    /// Receives one message; writes its length.
    fn channel_recv(handle: i32, buf: i32, buf_len: i32, nonblocking: i32, out_len: i32) -> i32;
    /// Monotonic nanoseconds since boot (not an errno).
    fn clock_ns() -> i64;
    /// Sleeps for `ns` nanoseconds.
    fn sleep_ns(ns: i64) -> i32;
    /// Writes to the kernel log at a level (0 error … 4 trace).
    fn log(level: i32, msg: i32, len: i32) -> i32;
}

/// Longest channel message.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Largest number of handles a process holds.
pub const MAX_HANDLES: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_listed_once_with_its_signature() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert!(
                FUNCTIONS[..i].iter().all(|g| g.name != f.name),
                "{} twice",
                f.name
            );
        }
        let recv = FUNCTIONS.iter().find(|f| f.name == "channel_recv").unwrap();
        assert_eq!(recv.params, [Ty::I32; 5]);
        assert_eq!(recv.results, [Ty::I32]);
        let clock = FUNCTIONS.iter().find(|f| f.name == "clock_ns").unwrap();
        assert_eq!((clock.params, clock.results), (&[][..], &[Ty::I64][..]));
        assert_eq!(FUNCTIONS.len(), 17);
    }

    #[test]
    fn host_stand_ins_say_not_supported() {
        // SAFETY: the host stand-ins touch no memory.
        let (e, t) = unsafe { (imports::channel_create(0, 0), imports::clock_ns()) };
        assert_eq!(e, Errno::Nosys as i32);
        assert_eq!(t, 0);
    }
}
