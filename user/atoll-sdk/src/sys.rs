//! The raw `atoll` import module, exactly as `user/ABI.md` lists it.
//!
//! Every function returns a WASI errno (0 is success) unless noted; pointers
//! are offsets into this module's memory. Off wasm32 (host unit tests) the
//! imports do not exist, so each call returns `ENOSYS` instead.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "atoll")]
unsafe extern "C" {
    pub fn handle_close(handle: i32) -> i32;
    pub fn spawn(request: i32, out_handle: i32) -> i32;
    pub fn wait(process: i32, nonblocking: i32, out_status: i32) -> i32;
    pub fn trap_message(process: i32, buf: i32, buf_len: i32, out_len: i32) -> i32;
    pub fn kill(pid: i32) -> i32;
    pub fn process_list(buf: i32, buf_len: i32, out_count: i32) -> i32;
    pub fn getpid() -> i32;
    pub fn set_foreground(pid: i32) -> i32;
    pub fn shutdown(code: i32) -> i32;
    pub fn exec_begin(run: i32) -> i32;
    pub fn exec_end(code: i32) -> i32;
    pub fn channel_create(out_a: i32, out_b: i32) -> i32;
    pub fn channel_send(handle: i32, buf: i32, len: i32, nonblocking: i32) -> i32;
    pub fn channel_recv(handle: i32, buf: i32, buf_len: i32, nonblocking: i32, out_len: i32)
    -> i32;
    pub fn clock_ns() -> i64;
    pub fn sleep_ns(ns: i64) -> i32;
    pub fn log(level: i32, msg: i32, len: i32) -> i32;
}

/// Host stand-ins with the imports' signatures: atoll is not there, so every
/// call fails with `ENOSYS` (and `getpid`/`clock_ns` return 0).
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, unused_variables)]
mod host {
    const ENOSYS: i32 = 52;
    pub unsafe fn handle_close(handle: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn spawn(request: i32, out_handle: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn wait(process: i32, nonblocking: i32, out_status: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn trap_message(process: i32, buf: i32, buf_len: i32, out_len: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn kill(pid: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn process_list(buf: i32, buf_len: i32, out_count: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn getpid() -> i32 {
        0
    }
    pub unsafe fn set_foreground(pid: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn shutdown(code: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn exec_begin(run: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn exec_end(code: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn channel_create(out_a: i32, out_b: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn channel_send(handle: i32, buf: i32, len: i32, nonblocking: i32) -> i32 {
        ENOSYS
    }
    pub unsafe fn channel_recv(
        handle: i32,
        buf: i32,
        buf_len: i32,
        nonblocking: i32,
        out_len: i32,
    ) -> i32 {
        ENOSYS
    }
    pub unsafe fn clock_ns() -> i64 {
        0
    }
    pub unsafe fn sleep_ns(ns: i64) -> i32 {
        ENOSYS
    }
    pub unsafe fn log(level: i32, msg: i32, len: i32) -> i32 {
        ENOSYS
    }
}
#[cfg(not(target_arch = "wasm32"))]
pub use host::*;

/// A pointer as the ABI's `i32` memory offset. wasm32 pointers are 32-bit,
/// so this is lossless there; on the host the value is never dereferenced.
pub fn ptr<T: ?Sized>(p: *const T) -> i32 {
    p.cast::<u8>() as usize as i32
}

/// A length as the ABI's `i32`.
pub fn len(n: usize) -> i32 {
    n as i32
}
