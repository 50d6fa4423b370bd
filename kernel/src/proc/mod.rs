//! Processes: one Wasm instance with its own store (memory, limits), WASI
//! state, handle table and kernel thread. The thread's stack is big enough
//! for the engine's Wasm stack limit, so Wasm runs directly on it, and it
//! may block inside host functions like any kernel thread.
//!
//! Lifecycle: [`spawn`] creates the process and its thread; the thread
//! compiles (through the [`cache`]) and instantiates the module, reports
//! success or the reason to the spawner, then runs its [`invoke::Entry`]:
//! `_start`, or an export named at spawn (reactors included). The end is
//! recorded as a [`Status`] (exited, trapped, killed); a process stays in
//! the table until it was waited for, or until nothing can wait for it.
//! Preemption: the store's epoch deadline callback yields the hart when
//! another thread is ready, and interrupts a killed process.

pub mod abi;
pub mod cache;
pub mod channel;
pub mod host;
pub mod invoke;
pub mod precompiled;
#[cfg(feature = "ktest")]
mod precompiled_tests;
#[cfg(feature = "ktest")]
mod stress_tests;
#[cfg(feature = "ktest")]
mod tests;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use wasm_engine::{EpochAction, Error, Store, StoreLimitsBuilder, TrapCode};

use crate::sched::thread::{self, Thread, WaitQueue};
use crate::wasm::WASM_STACK_SIZE;

/// Each process's memory cap (all its linear memories together count
/// against the frame allocator; this bounds one memory).
pub const MEMORY_LIMIT: usize = 256 << 20;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Exited = 0,
    Trapped = 1,
    Killed = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub kind: StatusKind,
    /// Exit code, trap code number (see [`trap_number`]) or 0.
    pub code: u32,
}

/// Trap code numbers of `user/ABI.md`.
pub mod trap_code {
    pub const STACK_OVERFLOW: u32 = 0;
    pub const INTERRUPTED: u32 = 11;
    pub const OUT_OF_FUEL: u32 = 12;
    pub const HOST: u32 = 13;
    pub const OUT_OF_MEMORY: u32 = 14;
    pub const EXCEPTION: u32 = 15;
}

pub fn trap_number(code: TrapCode) -> u32 {
    match code {
        TrapCode::StackOverflow => trap_code::STACK_OVERFLOW,
        TrapCode::MemoryOutOfBounds => 1,
        TrapCode::TableOutOfBounds => 2,
        TrapCode::UndefinedElement => 3,
        TrapCode::IndirectCallToNull => 4,
        TrapCode::BadSignature => 5,
        TrapCode::IntegerOverflow => 6,
        TrapCode::IntegerDivisionByZero => 7,
        TrapCode::BadConversionToInteger => 8,
        TrapCode::Unreachable => 9,
        TrapCode::NullReference => 10,
    }
}

/// What a process is doing, for the process list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running = 0,
    Ready = 1,
    Blocked = 2,
    Exited = 3,
}

pub struct Process {
    pub pid: u32,
    pub parent: u32,
    pub name: String,
    status: spin::Mutex<Option<Status>>,
    trap_message: spin::Mutex<Option<String>>,
    killed: AtomicBool,
    ended: WaitQueue,
    thread: spin::Mutex<Option<Arc<Thread>>>,
    /// Whether it may call `set_foreground` (it owns the console).
    pub owns_console: AtomicBool,
    /// Its stdio, which its children inherit.
    pub stdio: Stdio,
    /// Handles (and kernel references) that can still wait for it.
    waiters_alive: AtomicU32,
    reaped: AtomicBool,
}

impl Process {
    pub fn status(&self) -> Option<Status> {
        *self.status.lock()
    }

    pub fn trap_message(&self) -> Option<String> {
        self.trap_message.lock().clone()
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Blocks until the process ends; `None` if the caller was killed first.
    pub fn wait(&self) -> Option<Status> {
        self.ended
            .wait_until(|| self.status().is_some(), None, current_killed);
        let s = self.status();
        if s.is_some() {
            self.reaped.store(true, Ordering::Release);
            reap_if_done(self.pid);
        }
        s
    }

    pub fn run_state(&self) -> RunState {
        if self.status().is_some() {
            return RunState::Exited;
        }
        match self.thread.lock().as_ref().map(|t| t.state()) {
            Some(thread::State::Running) => RunState::Running,
            Some(thread::State::Blocked) => RunState::Blocked,
            _ => RunState::Ready,
        }
    }

    pub fn cpu_ns(&self) -> u64 {
        self.thread.lock().as_ref().map_or(0, |t| t.cpu_ns())
    }

    pub fn hart(&self) -> usize {
        self.thread.lock().as_ref().map_or(0, |t| t.last_hart())
    }

    fn finish(&self, status: Status, message: Option<String>) {
        *self.trap_message.lock() = message;
        *self.status.lock() = Some(status);
        self.ended.wake_all();
        // Its thread is ending; the handle to it goes (for the stack).
        self.thread.lock().take();
        reap_if_done(self.pid);
    }
}

/// A reference that can wait for a process (a handle, or the kernel's
/// own). While one exists, an ended process stays listed until waited.
pub struct ProcRef(Arc<Process>);

impl ProcRef {
    fn new(p: Arc<Process>) -> Self {
        p.waiters_alive.fetch_add(1, Ordering::AcqRel);
        Self(p)
    }
}

impl Clone for ProcRef {
    fn clone(&self) -> Self {
        Self::new(self.0.clone())
    }
}

impl core::ops::Deref for ProcRef {
    type Target = Arc<Process>;
    fn deref(&self) -> &Arc<Process> {
        &self.0
    }
}

impl Drop for ProcRef {
    fn drop(&mut self) {
        self.0.waiters_alive.fetch_sub(1, Ordering::AcqRel);
        reap_if_done(self.0.pid);
    }
}

static PROCS: spin::Mutex<BTreeMap<u32, Arc<Process>>> = spin::Mutex::new(BTreeMap::new());
static NEXT_PID: AtomicU32 = AtomicU32::new(1);
/// The foreground process (Ctrl-C ends it), 0: none.
static FOREGROUND: AtomicU32 = AtomicU32::new(0);

/// Drops an ended process from the table once it was waited for or
/// nothing can wait for it any more.
fn reap_if_done(pid: u32) {
    let mut procs = PROCS.lock();
    if let Some(p) = procs.get(&pid)
        && p.status().is_some()
        && (p.reaped.load(Ordering::Acquire) || p.waiters_alive.load(Ordering::Acquire) == 0)
    {
        procs.remove(&pid);
    }
}

pub fn get(pid: u32) -> Option<Arc<Process>> {
    PROCS.lock().get(&pid).cloned()
}

/// The process the current thread runs, if any.
pub fn current() -> Option<Arc<Process>> {
    match thread::current_pid() {
        0 => None,
        pid => get(pid),
    }
}

/// Whether the current thread's process was killed (false for kernel threads).
pub fn current_killed() -> bool {
    current().is_some_and(|p| p.is_killed())
}

/// Live processes (including ended ones not yet waited for), by pid.
pub fn list() -> Vec<Arc<Process>> {
    PROCS.lock().values().cloned().collect()
}

/// Whether `pid` is `ancestor` or one of its descendants.
fn descends_from(procs: &BTreeMap<u32, Arc<Process>>, mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..procs.len() + 1 {
        if pid == ancestor {
            return true;
        }
        match procs.get(&pid) {
            Some(p) if p.parent != 0 => pid = p.parent,
            _ => return false,
        }
    }
    false
}

/// Kills `pid` and its descendants. Errors: no such process.
pub fn kill(pid: u32) -> Result<(), ()> {
    let victims: Vec<Arc<Process>> = {
        let procs = PROCS.lock();
        if !procs.contains_key(&pid) {
            return Err(());
        }
        procs
            .values()
            .filter(|p| descends_from(&procs, p.pid, pid))
            .cloned()
            .collect()
    };
    for p in victims {
        if p.status().is_some() {
            continue;
        }
        p.killed.store(true, Ordering::Release);
        // Wake it wherever it blocks; blocking calls check `killed`.
        let t = p.thread.lock().clone();
        if let Some(t) = t {
            thread::unpark(&t);
        }
    }
    crate::console::wake_readers();
    Ok(())
}

/// Whether `pid` is a strict descendant of `ancestor`.
pub fn is_descendant(pid: u32, ancestor: u32) -> bool {
    let procs = PROCS.lock();
    pid != ancestor && descends_from(&procs, pid, ancestor)
}

pub fn set_foreground(pid: u32) {
    FOREGROUND.store(pid, Ordering::Release);
}

/// Ctrl-C: ends the foreground process and its descendants.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
pub fn interrupt_foreground() {
    let pid = FOREGROUND.swap(0, Ordering::AcqRel);
    if pid != 0 {
        let _ = kill(pid);
    }
}

/// What to start.
pub struct SpawnRequest<'a> {
    /// Program name (for the process list and logs).
    pub name: &'a str,
    pub wasm: &'a [u8],
    /// Where `wasm` is in the boot image (`bin/init.wasm`), if it is a file there:
    /// its precompiled artifact is then the one beside it (see `precompiled`).
    pub image_path: Option<&'a str>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// `(system path, guest name)` pairs, preopened as fds 3, 4, ...
    pub preopens: Vec<(String, String)>,
    /// Objects given to the child as handles 1, 2, ...
    pub handles: Vec<abi::Object>,
    /// Where fds 0-2 go.
    pub stdio: Stdio,
    pub owns_console: bool,
    /// What the process runs: a command, one export (with `args[1..]` as its
    /// arguments), or calls that arrive on its handle 1.
    pub entry: invoke::Request,
}

/// Where a process's stdin, stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ktest", allow(dead_code))] // init picks Console or Link; tests use Null.
pub enum Stdio {
    /// The serial console, through its line discipline.
    Console,
    /// The host link of `just exec` (`crate::hostlink`).
    Link,
    /// Nothing: reads end at once, writes vanish.
    Null,
}

/// Why a spawn failed (errno of the ABI).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // The errno names.
pub enum SpawnError {
    /// Not valid Wasm, or imports something missing (`ENOEXEC`).
    NoExec(String),
    /// Out of memory (`ENOMEM`).
    NoMem(String),
    /// A preopen names no directory (`ENOENT`).
    NoEnt(String),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoExec(m) => write!(f, "not executable: {m}"),
            Self::NoMem(m) => write!(f, "out of memory: {m}"),
            Self::NoEnt(m) => write!(f, "no such directory: {m}"),
        }
    }
}

/// Compiling takes kernel heap in proportion to the module (Cranelift's IR, the machine code
/// and its metadata): at most about this many bytes per byte of Wasm.
const COMPILE_BYTES_PER_WASM_BYTE: u64 = 24;

/// Refuses a module whose compile would need more memory than is free (an allocation failure
/// in the compiler would end the kernel, not the process).
fn compile_fits(wasm_len: usize) -> Result<(), SpawnError> {
    let free = crate::mem::frames::stats().0 * crate::mem::PAGE_SIZE;
    let need = (wasm_len as u64).saturating_mul(COMPILE_BYTES_PER_WASM_BYTE);
    // Left free after the estimate, for the kernel and the process itself: twice the
    // kernel's reserve (32 MiB on a machine of 256 MiB or more, 8 MiB with 64 MiB).
    let reserve = 2 * crate::mem::heap::reserve_frames() * crate::mem::PAGE_SIZE;
    if need.saturating_add(reserve) > free {
        return Err(SpawnError::NoMem(format!(
            "a module of {} needs about {} to compile, {} is free",
            crate::mem::Size(wasm_len as u64),
            crate::mem::Size(need),
            crate::mem::Size(free)
        )));
    }
    Ok(())
}

/// The per-process data in the store.
pub struct ProcState {
    pub wasi: wasi_p1::WasiCtx,
    pub proc: Arc<Process>,
    pub handles: ipc::HandleTable<abi::Object>,
}

/// Where a new process's thread reports whether it could start.
type Ready = (spin::Mutex<Option<Result<(), SpawnError>>>, WaitQueue);

/// Starts a process as a child of the current one (or of the kernel: parent 0).
pub fn spawn(req: SpawnRequest<'_>) -> Result<ProcRef, SpawnError> {
    let parent = current().map_or(0, |p| p.pid);
    compile_fits(req.wasm.len())?;
    let module = cache::get_or_compile(req.wasm, req.image_path).map_err(|e| match e {
        Error::ResourceLimit(m) => SpawnError::NoMem(m),
        // Refused at load time, before any of it runs: said at warning
        // level, since the caller only gets ENOEXEC.
        e @ Error::Compile { .. }
            if !crate::arch::wasm::simd_supported() && e.to_string().contains("SIMD") =>
        {
            let why = format!(
                "this machine cannot run Wasm SIMD ({}), and the module uses it: {e}",
                crate::arch::wasm::SIMD_MISSING
            );
            crate::warn!("{}: {why}", req.name);
            SpawnError::NoExec(why)
        }
        e => SpawnError::NoExec(e.to_string()),
    })?;
    let wasi = host::wasi_ctx(&req).map_err(SpawnError::NoEnt)?;
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let proc = Arc::new(Process {
        pid,
        parent,
        name: String::from(req.name),
        status: spin::Mutex::new(None),
        trap_message: spin::Mutex::new(None),
        killed: AtomicBool::new(false),
        ended: WaitQueue::new(),
        thread: spin::Mutex::new(None),
        owns_console: AtomicBool::new(req.owns_console),
        stdio: req.stdio,
        waiters_alive: AtomicU32::new(0),
        reaped: AtomicBool::new(false),
    });
    let mut handles = ipc::HandleTable::new();
    for obj in req.handles {
        handles.insert(obj);
    }
    let state = ProcState {
        wasi,
        proc: proc.clone(),
        handles,
    };
    let pref = ProcRef::new(proc.clone());
    PROCS.lock().insert(pid, proc.clone());

    // The child instantiates on its own thread and reports here first.
    let ready: Arc<Ready> = Arc::new((spin::Mutex::new(None), WaitQueue::new()));
    let ready2 = ready.clone();
    let proc2 = proc.clone();
    let entry = (req.entry, req.args.clone());
    let t = thread::spawn(req.name, WASM_STACK_SIZE, pid, move || {
        run(proc2, module, state, entry, &ready2)
    });
    let t = match t {
        Ok(t) => t,
        Err(e) => {
            proc.finish(
                Status {
                    kind: StatusKind::Trapped,
                    code: trap_code::OUT_OF_MEMORY,
                },
                None,
            );
            return Err(SpawnError::NoMem(format!("thread stack: {e}")));
        }
    };
    *proc.thread.lock() = Some(t);
    ready
        .1
        .wait_until(|| ready.0.lock().is_some(), None, || false);
    let r = ready.0.lock().take().unwrap_or(Ok(()));
    r.map(|()| pref)
}

/// The body of a process's thread.
fn run(
    proc: Arc<Process>,
    module: wasm_engine::Module,
    state: ProcState,
    (entry, args): (invoke::Request, Vec<String>),
    ready: &Ready,
) {
    let report = |r: Result<(), SpawnError>| {
        *ready.0.lock() = Some(r);
        ready.1.wake_all();
    };
    let outcome = crate::wasm::on_wasm_stack(|| {
        let engine = cache::engine();
        let mut store = Store::new(engine, state);
        store.limiter(StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build());
        store.epoch_deadline_callback(|s: &mut ProcState| {
            if s.proc.is_killed() {
                return EpochAction::Interrupt;
            }
            if thread::should_yield() {
                thread::yield_now();
            }
            EpochAction::Continue(1)
        });
        store.set_epoch_deadline(1);
        let instance = match cache::linker().instantiate(&mut store, &module) {
            Ok(i) => i,
            Err(e) => {
                report(Err(match e {
                    Error::ResourceLimit(m) => SpawnError::NoMem(m),
                    Error::Trap(t) => SpawnError::NoExec(format!("start function: {t}")),
                    e => SpawnError::NoExec(e.to_string()),
                }));
                return None;
            }
        };
        let entry = invoke::Entry::find(&store, &instance, entry, &args);
        let entry = match entry {
            Ok(e) => e,
            Err(why) => {
                report(Err(SpawnError::NoExec(why)));
                return None;
            }
        };
        report(Ok(()));
        if proc.pid == 1 {
            crate::boot_marks::reach(crate::boot_marks::Milestone::User);
        }
        let r = entry.run(&mut store);
        let exit = store.data().wasi.exit_code();
        // Closing its handles wakes peers (EPIPE) before the store goes.
        for obj in store.data_mut().handles.drain() {
            drop(obj);
        }
        Some(classify(&proc, r, exit))
    });
    let (status, message) = match outcome {
        Ok(Some(s)) => s,
        Ok(None) => (
            Status {
                kind: StatusKind::Trapped,
                code: trap_code::HOST,
            },
            Some(String::from("the process could not start")),
        ),
        Err(e) => {
            report(Err(SpawnError::NoMem(format!("Wasm stack: {e}"))));
            (
                Status {
                    kind: StatusKind::Trapped,
                    code: trap_code::OUT_OF_MEMORY,
                },
                Some(format!("no Wasm stack: {e}")),
            )
        }
    };
    if status.kind == StatusKind::Trapped
        && let Some(m) = &message
    {
        crate::info!("process {} ({}) trapped: {m}", proc.pid, proc.name);
    }
    FOREGROUND
        .compare_exchange(proc.pid, 0, Ordering::AcqRel, Ordering::Relaxed)
        .ok();
    proc.finish(status, message);
}

fn classify(proc: &Process, r: Result<(), Error>, exit: Option<u32>) -> (Status, Option<String>) {
    let st = |kind, code| Status { kind, code };
    if let Some(code) = exit {
        return (st(StatusKind::Exited, code), None);
    }
    match r {
        Ok(()) => (st(StatusKind::Exited, 0), None),
        Err(_) if proc.is_killed() => (st(StatusKind::Killed, 0), None),
        Err(e) => {
            if let Some(code) = wasi_p1::exit_status(&e) {
                return (st(StatusKind::Exited, code), None);
            }
            let code = match &e {
                Error::Trap(t) => trap_number(t.code),
                Error::Interrupted => trap_code::INTERRUPTED,
                Error::Exception(_) => trap_code::EXCEPTION,
                Error::OutOfFuel => trap_code::OUT_OF_FUEL,
                Error::ResourceLimit(_) | Error::Platform(_) => trap_code::OUT_OF_MEMORY,
                _ => trap_code::HOST,
            };
            (st(StatusKind::Trapped, code), Some(format!("{e}")))
        }
    }
}
