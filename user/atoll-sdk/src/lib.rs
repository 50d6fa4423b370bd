//! Safe Rust wrappers over atoll's own system calls, the `atoll` Wasm import
//! module. `user/ABI.md` is the contract; each item here names the call it wraps.
//!
//! Programs are ordinary `wasm32-wasip1` binaries: `std` covers files, the
//! console, args and the environment through WASI; this crate adds processes,
//! channels, time and the kernel log. Off wasm32 (host unit tests) every call
//! fails with [`Error::NotSupported`].
//!
//! ```no_run
//! use atoll::{Process, SpawnOptions};
//! let child = Process::spawn(SpawnOptions::new("hello").arg("world")).unwrap();
//! let status = child.wait().unwrap();
//! println!("hello ended: {status}");
//! ```

mod error;
pub mod sys;

use core::cell::Cell;
use core::fmt;
use core::num::NonZeroU32;
use core::time::Duration;

pub use error::Error;
use error::check;
use sys::{len, ptr};

/// The result of an `atoll` call.
pub type Result<T> = core::result::Result<T, Error>;

/// The largest message a channel carries (ABI.md, "Channels").
pub use atoll_abi::MAX_MESSAGE;
use atoll_abi::records;

// ---------------------------------------------------------------------------
// Handles

/// A handle: a per-process capability naming a kernel object (ABI.md,
/// "Handles"). Closed (`handle_close`) on drop.
#[derive(Debug, PartialEq, Eq)]
pub struct Handle(NonZeroU32);

impl Handle {
    /// Takes ownership of a raw handle number, e.g. one moved to this process
    /// at spawn (those are 1, 2, … in order). `None` for 0, never a handle.
    /// A number this process does not hold makes later calls fail with
    /// [`Error::BadHandle`]; nothing unsafe happens.
    pub fn from_raw(raw: u32) -> Option<Handle> {
        NonZeroU32::new(raw).map(Handle)
    }

    /// The handle number.
    pub fn raw(&self) -> u32 {
        self.0.get()
    }

    /// Gives up ownership without closing.
    pub fn into_raw(self) -> u32 {
        let raw = self.raw();
        core::mem::forget(self);
        raw
    }

    /// Closes the handle and reports the kernel's answer (drop ignores it).
    pub fn close(self) -> Result<()> {
        let raw = self.into_raw();
        // SAFETY: `handle_close` takes a plain integer and touches no memory.
        check(unsafe { sys::handle_close(raw as i32) })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: as in `close`.
        unsafe { sys::handle_close(self.raw() as i32) };
    }
}

// ---------------------------------------------------------------------------
// Processes

/// How to start a program: the request of the `spawn` call (ABI.md,
/// "Processes"). Built with chained calls:
/// `SpawnOptions::new("/bin/hello.wasm").arg("a").env("K", "V")`.
#[derive(Debug)]
pub struct SpawnOptions {
    path: String,
    argv: Vec<String>,
    argv0_set: bool,
    env: Vec<String>,
    preopens: Vec<String>,
    handles: Vec<Handle>,
    stdio_null: bool,
    invoke: Option<String>,
    serve: bool,
}

impl SpawnOptions {
    /// Runs `path` (a name without `/` means `/bin/<name>.wasm`). `argv[0]`
    /// defaults to `path`.
    pub fn new(path: impl Into<String>) -> SpawnOptions {
        let path = path.into();
        SpawnOptions {
            argv: vec![path.clone()],
            path,
            argv0_set: false,
            env: Vec::new(),
            preopens: Vec::new(),
            handles: Vec::new(),
            stdio_null: false,
            invoke: None,
            serve: false,
        }
    }

    /// Calls the export `name` instead of `_start` (after `_initialize`, if the module
    /// exports it), with the arguments after `argv[0]` as its parameters; the results are
    /// printed to the child's stdout (`just exec --invoke`).
    pub fn invoke(mut self, name: impl Into<String>) -> Self {
        self.invoke = Some(name.into());
        self
    }

    /// Makes the child serve calls (a reactor, usually): after its `_initialize`, each
    /// message on its first handle (give it a channel with [`SpawnOptions::handle`]) is a
    /// call `NAME ARG...`, answered on the channel by the results, one per line, or by
    /// `error: REASON` (`SPAWN_SERVE` in `user/ABI.md`).
    pub fn serve(mut self) -> Self {
        self.serve = true;
        self
    }

    /// Sets `argv[0]`.
    pub fn argv0(mut self, name: impl Into<String>) -> Self {
        self.argv[0] = name.into();
        self.argv0_set = true;
        self
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.argv.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push(format!("{key}={value}"));
        self
    }

    /// Adds a `KEY=VALUE` environment entry as is.
    pub fn env_entry(mut self, entry: impl Into<String>) -> Self {
        self.env.push(entry.into());
        self
    }

    /// Preopens `path` of the system tree under the same name (the next fd, from 3).
    pub fn preopen(mut self, path: impl Into<String>) -> Self {
        self.preopens.push(path.into());
        self
    }

    /// Preopens `path` under the guest name `name`.
    pub fn preopen_as(mut self, path: &str, name: &str) -> Self {
        self.preopens.push(format!("{path}::{name}"));
        self
    }

    /// Moves a handle to the child: it gets them as handles 1, 2, … in the
    /// order given. If `spawn` fails, the handles are closed.
    pub fn handle(mut self, handle: impl Into<Handle>) -> Self {
        self.handles.push(handle.into());
        self
    }

    /// The child's stdin reads end of input and its output is discarded.
    pub fn stdio_null(mut self, on: bool) -> Self {
        self.stdio_null = on;
        self
    }

    /// The arguments the child gets, `argv[0]` included.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }
}

/// Encodes a string list: each string followed by one NUL byte. A string
/// with a NUL inside cannot be encoded ([`Error::Invalid`]).
pub fn string_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for s in items {
        let s = s.as_ref();
        if s.contains('\0') {
            return Err(Error::Invalid);
        }
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    Ok(out)
}

/// How a process ended (the `wait` status, ABI.md "wait").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It returned from `_start` or called `proc_exit(code)`.
    Exited(u32),
    /// It trapped, with this trap.
    Trapped(TrapCode),
    /// It was killed (`kill`, or Ctrl-C in the foreground).
    Killed,
}

/// A process's end and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub exit: Exit,
    pub pid: u32,
}

impl Status {
    /// Decodes the status record.
    pub fn decode(raw: &[u8; records::Status::SIZE]) -> Status {
        let r = records::Status::decode(raw);
        let exit = match r.kind {
            k if k == records::StatusKind::Exited as u32 => Exit::Exited(r.code),
            k if k == records::StatusKind::Trapped as u32 => Exit::Trapped(TrapCode(r.code)),
            _ => Exit::Killed,
        };
        Status { exit, pid: r.pid }
    }

    /// The convention atoll's init uses, `wasmtime run`'s: the exit code, 1
    /// when a host function failed (a WASI call refused its arguments: a
    /// pointer outside memory, a value outside its type, `proc_exit(n)` with
    /// n >= 126), 134 for any other trap (like SIGABRT), 137 for a kill
    /// (like SIGKILL).
    pub fn code(&self) -> u32 {
        match self.exit {
            Exit::Exited(code) => code,
            Exit::Trapped(TrapCode::HOST) => 1,
            Exit::Trapped(_) => 134,
            Exit::Killed => 137,
        }
    }

    pub fn success(&self) -> bool {
        self.exit == Exit::Exited(0)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exit {
            Exit::Exited(code) => write!(f, "exited with code {code}"),
            Exit::Trapped(trap) => write!(f, "trapped: {trap}"),
            Exit::Killed => f.write_str("killed"),
        }
    }
}

/// A trap code number (ABI.md, under "wait").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapCode(pub u32);

impl TrapCode {
    /// A host function failed (for a WASI call: it refused its arguments).
    pub const HOST: TrapCode = TrapCode(13);
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 16] = [
            "call stack exhausted",
            "out-of-bounds memory access",
            "out-of-bounds table access",
            "undefined element",
            "uninitialized element",
            "indirect call type mismatch",
            "integer overflow",
            "integer divide by zero",
            "invalid conversion to integer",
            "unreachable executed",
            "null reference",
            "interrupted",
            "out of fuel",
            "a host function failed",
            "out of memory",
            "uncaught Wasm exception",
        ];
        match NAMES.get(self.0 as usize) {
            Some(name) => f.write_str(name),
            None => write!(f, "trap code {}", self.0),
        }
    }
}

/// A child process (a handle from `spawn`). Dropping it closes the handle
/// but does not end the process.
#[derive(Debug)]
pub struct Process {
    handle: Handle,
    pid: Cell<Option<u32>>,
}

impl Process {
    /// Starts a program (`spawn`).
    pub fn spawn(options: SpawnOptions) -> Result<Process> {
        let path = options.path.as_bytes();
        let argv = string_list(&options.argv)?;
        let env = string_list(&options.env)?;
        let preopens = string_list(&options.preopens)?;
        let handles: Vec<u32> = options.handles.iter().map(Handle::raw).collect();
        let invoke = options.invoke.as_deref().unwrap_or("").as_bytes();
        let word = |v: i32| v as u32;
        let request = records::SpawnRequest {
            path_ptr: word(ptr(path)),
            path_len: word(len(path.len())),
            argv_ptr: word(ptr(argv.as_slice())),
            argv_len: word(len(argv.len())),
            env_ptr: word(ptr(env.as_slice())),
            env_len: word(len(env.len())),
            preopens_ptr: word(ptr(preopens.as_slice())),
            preopens_len: word(len(preopens.len())),
            handles_ptr: word(ptr(handles.as_slice())),
            handles_count: word(len(handles.len())),
            flags: if options.stdio_null {
                records::SPAWN_STDIO_NULL
            } else {
                0
            } | if options.serve {
                records::SPAWN_SERVE
            } else {
                0
            },
            invoke_ptr: word(ptr(invoke)),
            invoke_len: word(len(invoke.len())),
        }
        .encode();
        let mut out: u32 = 0;
        // SAFETY: every pointer in `request` and `out` points at live memory
        // of the stated length for the duration of the call.
        check(unsafe { sys::spawn(ptr(&request), ptr(&mut out as *mut u32)) })?;
        // The kernel now owns the moved handles: forget them without closing.
        for h in options.handles {
            h.into_raw();
        }
        let handle = Handle::from_raw(out).ok_or(Error::Invalid)?;
        let process = Process {
            handle,
            pid: Cell::new(None),
        };
        process.pid.set(newest_child_pid());
        Ok(process)
    }

    /// The process id, if known. `spawn` returns only a handle, so this is
    /// found from `process_list` right after spawning: the newest (highest
    /// pid) child of this process, since pids increase and a child stays
    /// listed until waited for. `wait` reports it as well.
    pub fn pid(&self) -> Option<u32> {
        self.pid.get()
    }

    /// Blocks until the process ends (`wait`).
    pub fn wait(&self) -> Result<Status> {
        self.wait_raw(false)
    }

    /// The status if it has ended, `Ok(None)` if it still runs.
    pub fn try_wait(&self) -> Result<Option<Status>> {
        match self.wait_raw(true) {
            Ok(status) => Ok(Some(status)),
            Err(Error::WouldBlock) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn wait_raw(&self, nonblocking: bool) -> Result<Status> {
        let mut raw = [0u8; records::Status::SIZE];
        // SAFETY: `raw` is writable and the size of the status record.
        check(unsafe {
            sys::wait(
                self.handle.raw() as i32,
                i32::from(nonblocking),
                ptr(raw.as_mut_ptr()),
            )
        })?;
        let status = Status::decode(&raw);
        self.pid.set(Some(status.pid));
        Ok(status)
    }

    /// The trap's message and Wasm backtrace (`trap_message`), for a process
    /// that trapped.
    pub fn trap_message(&self) -> Result<String> {
        let mut buf = vec![0u8; 1024];
        loop {
            let mut full: u32 = 0;
            // SAFETY: `buf` is `buf.len()` writable bytes; `full` is a u32.
            check(unsafe {
                sys::trap_message(
                    self.handle.raw() as i32,
                    ptr(buf.as_mut_ptr()),
                    len(buf.len()),
                    ptr(&mut full as *mut u32),
                )
            })?;
            let full = full as usize;
            if full <= buf.len() {
                buf.truncate(full);
                return Ok(String::from_utf8_lossy(&buf).into_owned());
            }
            buf.resize(full, 0);
        }
    }

    /// Ends the process (`kill`), if its pid is known.
    pub fn kill(&self) -> Result<()> {
        kill(self.pid().ok_or(Error::NoProcess)?)
    }

    /// The process handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

/// The pid of this process's newest live child, from `process_list`.
fn newest_child_pid() -> Option<u32> {
    let me = getpid();
    process_list()
        .ok()?
        .iter()
        .filter(|p| p.parent == me)
        .map(|p| p.pid)
        .max()
}

/// Ends process `pid` (`kill`); allowed only for this process's descendants.
pub fn kill(pid: u32) -> Result<()> {
    // SAFETY: `kill` takes a plain integer.
    check(unsafe { sys::kill(pid as i32) })
}

/// This process's id (`getpid`; init is 1).
pub fn getpid() -> u32 {
    // SAFETY: `getpid` takes no arguments.
    unsafe { sys::getpid() as u32 }
}

/// Makes `pid` the console's foreground process, so Ctrl-C ends it; 0 means
/// none (`set_foreground`). Only the console's owner may call it.
pub fn set_foreground(pid: u32) -> Result<()> {
    // SAFETY: `set_foreground` takes a plain integer.
    check(unsafe { sys::set_foreground(pid as i32) })
}

/// Powers the machine off with `code` as QEMU's exit status (`shutdown`).
/// Only pid 1 may; on success this does not return.
pub fn shutdown(code: u32) -> Error {
    // SAFETY: `shutdown` takes a plain integer.
    match check(unsafe { sys::shutdown(code as i32) }) {
        Ok(()) => Error::Io,
        Err(e) => e,
    }
}

/// Tells the host (`just exec`, over the host link) that run `run` of a session starts: its
/// output follows, and the host sends that run's stdin (`exec_begin`). Only pid 1 may;
/// [`Error::NotFound`] without a host link.
pub fn exec_begin(run: u32) -> Result<()> {
    // SAFETY: `exec_begin` takes a plain integer.
    check(unsafe { sys::exec_begin(run as i32) })
}

/// Tells the host that the current run ended with `code` (`exec_end`). Only pid 1 may;
/// [`Error::NotFound`] without a host link.
pub fn exec_end(code: u32) -> Result<()> {
    // SAFETY: `exec_end` takes a plain integer.
    check(unsafe { sys::exec_end(code as i32) })
}

/// The state column of `process_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    Ready,
    Blocked,
    Exited,
    Unknown(u32),
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Running => f.write_str("running"),
            State::Ready => f.write_str("ready"),
            State::Blocked => f.write_str("blocked"),
            State::Exited => f.write_str("exited"),
            State::Unknown(n) => write!(f, "state {n}"),
        }
    }
}

/// One live process, a `process_list` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// 0 for init.
    pub parent: u32,
    pub state: State,
    /// The hart it runs or last ran on.
    pub hart: u32,
    /// CPU time used.
    pub cpu_ns: u64,
    pub name: String,
}

/// Size of one `process_list` record.
pub const PROCESS_RECORD: usize = records::ProcessRecord::SIZE;

impl ProcessInfo {
    /// Decodes one record.
    pub fn decode(raw: &[u8; PROCESS_RECORD]) -> ProcessInfo {
        let r = records::ProcessRecord::decode(raw);
        ProcessInfo {
            pid: r.pid,
            parent: r.parent,
            state: match r.state {
                0 => State::Running,
                1 => State::Ready,
                2 => State::Blocked,
                3 => State::Exited,
                n => State::Unknown(n),
            },
            hart: r.hart,
            cpu_ns: r.cpu_ns,
            name: String::from_utf8_lossy(r.name_bytes()).into_owned(),
        }
    }
}

/// Every live process (`process_list`).
pub fn process_list() -> Result<Vec<ProcessInfo>> {
    let mut capacity = 16;
    loop {
        let mut buf = vec![0u8; capacity * PROCESS_RECORD];
        let mut count: u32 = 0;
        // SAFETY: `buf` is `buf.len()` writable bytes; `count` is a u32.
        check(unsafe {
            sys::process_list(
                ptr(buf.as_mut_ptr()),
                len(buf.len()),
                ptr(&mut count as *mut u32),
            )
        })?;
        let count = count as usize;
        if count <= capacity {
            return Ok(buf
                .chunks_exact(PROCESS_RECORD)
                .take(count)
                .map(|r| ProcessInfo::decode(r.try_into().expect("chunks are 48 bytes")))
                .collect());
        }
        capacity = count + 8;
    }
}

// ---------------------------------------------------------------------------
// Channels

/// One end of a channel (ABI.md, "Channels"): sends byte messages of at most
/// [`MAX_MESSAGE`] bytes to the other end.
#[derive(Debug)]
pub struct Channel(Handle);

impl Channel {
    /// A connected pair of ends (`channel_create`).
    pub fn create() -> Result<(Channel, Channel)> {
        let mut a: u32 = 0;
        let mut b: u32 = 0;
        // SAFETY: `a` and `b` are writable u32s.
        check(unsafe { sys::channel_create(ptr(&mut a as *mut u32), ptr(&mut b as *mut u32)) })?;
        match (Handle::from_raw(a), Handle::from_raw(b)) {
            (Some(a), Some(b)) => Ok((Channel(a), Channel(b))),
            _ => Err(Error::Invalid),
        }
    }

    /// A channel end from a handle, e.g. one moved to this process at spawn.
    pub fn from_handle(handle: Handle) -> Channel {
        Channel(handle)
    }

    /// Sends a message, blocking while the queue is full.
    pub fn send(&self, msg: &[u8]) -> Result<()> {
        self.send_raw(msg, false)
    }

    /// Sends a message, or fails with [`Error::WouldBlock`] if the queue is full.
    pub fn try_send(&self, msg: &[u8]) -> Result<()> {
        self.send_raw(msg, true)
    }

    fn send_raw(&self, msg: &[u8], nonblocking: bool) -> Result<()> {
        // SAFETY: `msg` is `msg.len()` readable bytes.
        check(unsafe {
            sys::channel_send(
                self.0.raw() as i32,
                ptr(msg),
                len(msg.len()),
                i32::from(nonblocking),
            )
        })
    }

    /// Receives the next message into `buf`, returning its length. A message
    /// longer than `buf` stays queued and this fails with [`Error::MessageSize`].
    pub fn recv_into(&self, buf: &mut [u8], nonblocking: bool) -> Result<usize> {
        let mut n: u32 = 0;
        // SAFETY: `buf` is `buf.len()` writable bytes; `n` is a u32.
        let errno = unsafe {
            sys::channel_recv(
                self.0.raw() as i32,
                ptr(buf.as_mut_ptr()),
                len(buf.len()),
                i32::from(nonblocking),
                ptr(&mut n as *mut u32),
            )
        };
        check(errno).map(|()| n as usize)
    }

    /// Receives the next message, blocking while the queue is empty.
    /// [`Error::BrokenPipe`] once the peer is closed and the queue drained.
    pub fn recv(&self) -> Result<Vec<u8>> {
        self.recv_vec(false)
    }

    /// Receives the next message, or fails with [`Error::WouldBlock`].
    pub fn try_recv(&self) -> Result<Vec<u8>> {
        self.recv_vec(true)
    }

    fn recv_vec(&self, nonblocking: bool) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; 256];
        loop {
            let mut n: u32 = 0;
            // SAFETY: `buf` is `buf.len()` writable bytes; `n` is a u32.
            let errno = unsafe {
                sys::channel_recv(
                    self.0.raw() as i32,
                    ptr(buf.as_mut_ptr()),
                    len(buf.len()),
                    i32::from(nonblocking),
                    ptr(&mut n as *mut u32),
                )
            };
            match check(errno) {
                Ok(()) => {
                    buf.truncate(n as usize);
                    return Ok(buf);
                }
                // Too small: the message stays queued and `n` is its length.
                Err(Error::MessageSize) if (n as usize) > buf.len() => buf.resize(n as usize, 0),
                Err(e) => return Err(e),
            }
        }
    }

    /// The underlying handle.
    pub fn handle(&self) -> &Handle {
        &self.0
    }
}

impl From<Channel> for Handle {
    fn from(c: Channel) -> Handle {
        c.0
    }
}

impl From<Process> for Handle {
    fn from(p: Process) -> Handle {
        p.handle
    }
}

// ---------------------------------------------------------------------------
// Time and logging

/// Nanoseconds of the monotonic clock since boot (`clock_ns`).
pub fn clock_ns() -> u64 {
    // SAFETY: `clock_ns` takes no arguments.
    unsafe { sys::clock_ns() as u64 }
}

/// Blocks for at least `d` (`sleep_ns`); other processes run meanwhile.
pub fn sleep(d: Duration) -> Result<()> {
    let ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    // SAFETY: `sleep_ns` takes a plain integer.
    check(unsafe { sys::sleep_ns(ns) })
}

/// Kernel log levels (`log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

/// Writes a line to the kernel log, tagged with this process's name and pid.
pub fn log(level: Level, msg: &str) -> Result<()> {
    // SAFETY: `msg` is `msg.len()` readable bytes.
    check(unsafe { sys::log(level as i32, ptr(msg), len(msg.len())) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lists() {
        assert_eq!(string_list(&["a", "bc"]).unwrap(), b"a\0bc\0");
        assert_eq!(string_list::<&str>(&[]).unwrap(), b"");
        assert_eq!(string_list(&["a\0b"]), Err(Error::Invalid));
    }

    #[test]
    fn spawn_options() {
        let o = SpawnOptions::new("hello").arg("a").args(["b", "c"]);
        assert_eq!(o.argv(), ["hello", "a", "b", "c"]);
        let o = SpawnOptions::new("/bin/x.wasm").argv0("x");
        assert_eq!(o.argv(), ["x"]);
    }

    #[test]
    fn status_decodes() {
        let mut raw = [0u8; 16];
        raw[4] = 3;
        raw[8] = 7;
        let s = Status::decode(&raw);
        assert_eq!(
            s,
            Status {
                exit: Exit::Exited(3),
                pid: 7
            }
        );
        assert_eq!(s.code(), 3);
        raw[0] = 1;
        raw[4] = 9;
        let s = Status::decode(&raw);
        assert_eq!(s.exit, Exit::Trapped(TrapCode(9)));
        assert_eq!(s.code(), 134);
        assert_eq!(s.to_string(), "trapped: unreachable executed");
        raw[4] = 13;
        let s = Status::decode(&raw);
        assert_eq!(s.exit, Exit::Trapped(TrapCode::HOST));
        assert_eq!(s.code(), 1, "a failed host call exits 1, as in wasmtime");
        raw[0] = 2;
        assert_eq!(Status::decode(&raw).code(), 137);
    }

    #[test]
    fn process_record_decodes() {
        let mut r = [0u8; PROCESS_RECORD];
        r[0] = 5;
        r[4] = 1;
        r[8] = 2;
        r[12] = 3;
        r[16..24].copy_from_slice(&1_000_000u64.to_le_bytes());
        r[24..29].copy_from_slice(b"shell");
        let p = ProcessInfo::decode(&r);
        assert_eq!(p.pid, 5);
        assert_eq!(p.parent, 1);
        assert_eq!(p.state, State::Blocked);
        assert_eq!(p.hart, 3);
        assert_eq!(p.cpu_ns, 1_000_000);
        assert_eq!(p.name, "shell");
    }

    #[test]
    fn host_calls_report_not_supported() {
        assert!(matches!(Channel::create(), Err(Error::NotSupported)));
        assert_eq!(log(Level::Info, "x"), Err(Error::NotSupported));
    }
}
