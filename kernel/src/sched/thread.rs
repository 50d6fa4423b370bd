//! Kernel threads and the scheduler: one run queue shared by all harts,
//! cooperative switches at well-defined points (blocking, yielding, and the
//! Wasm epoch callback, which is how processes are preempted), a per-hart
//! idle thread that sleeps in `wfi`/`hlt`, sleeping with deadlines and
//! park/unpark with a wake token so a wake-up is never lost.
//!
//! Locking: one spin lock (`SCHED`) guards the run queue, the sleepers
//! and thread states. It is taken with interrupts masked and is held
//! across a switch: the thread switched to releases it (`finish_switch`),
//! so a thread on the run queue is never resumed before its registers
//! are saved. Interrupt handlers never take it (they only set flags that
//! the scheduler polls), so it cannot deadlock against them.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use boot_info::MAX_HARTS;

use super::{percpu, timer};
use crate::arch::{interrupts, switch};
use crate::mem::vm::{self, KernelStack};
use crate::recover::RecoveryCtx;

/// Stack of an ordinary kernel thread.
pub const KERNEL_STACK_SIZE: u64 = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Running = 0,
    Ready = 1,
    Blocked = 2,
    Exited = 3,
}

impl State {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Running,
            1 => Self::Ready,
            2 => Self::Blocked,
            _ => Self::Exited,
        }
    }
}

type Entry = Box<dyn FnOnce() + Send>;

pub struct Thread {
    id: u64,
    name: String,
    /// Saved stack pointer while switched out (touched under `SCHED`).
    sp: UnsafeCell<usize>,
    /// The stack this thread owns (None: a hart's boot stack).
    stack: Option<KernelStack>,
    state: AtomicU8,
    /// Set by `unpark`; consumed by `park` (under `SCHED`).
    wake_token: AtomicBool,
    /// Per-thread parts of the per-hart data, swapped on every switch.
    activation: Cell<*mut u8>,
    recovery: Cell<*mut RecoveryCtx>,
    entry: spin::Mutex<Option<Entry>>,
    idle: bool,
    cpu_ns: AtomicU64,
    switched_in_ns: AtomicU64,
    last_hart: AtomicUsize,
    /// The process this thread runs (0: a kernel thread).
    pid: AtomicU32,
}

// SAFETY: the `Cell`/`UnsafeCell` fields are only accessed under the
// scheduler lock by the hart switching the thread in or out.
unsafe impl Send for Thread {}
// SAFETY: as above.
unsafe impl Sync for Thread {}

impl Thread {
    fn new(name: &str, stack: Option<KernelStack>, idle: bool) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name: String::from(name),
            sp: UnsafeCell::new(0),
            stack,
            state: AtomicU8::new(State::Ready as u8),
            wake_token: AtomicBool::new(false),
            activation: Cell::new(core::ptr::null_mut()),
            recovery: Cell::new(core::ptr::null_mut()),
            entry: spin::Mutex::new(None),
            idle,
            cpu_ns: AtomicU64::new(0),
            switched_in_ns: AtomicU64::new(0),
            last_hart: AtomicUsize::new(0),
            pid: AtomicU32::new(0),
        }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Release);
    }

    /// CPU time used, including the current run if it is running.
    pub fn cpu_ns(&self) -> u64 {
        let mut t = self.cpu_ns.load(Ordering::Relaxed);
        if self.state() == State::Running {
            t += timer::now_ns().saturating_sub(self.switched_in_ns.load(Ordering::Relaxed));
        }
        t
    }

    /// The hart it runs on or last ran on.
    pub fn last_hart(&self) -> usize {
        self.last_hart.load(Ordering::Relaxed)
    }

    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Relaxed)
    }

    pub fn set_pid(&self, pid: u32) {
        self.pid.store(pid, Ordering::Relaxed);
    }

    /// The stack it owns, as an address range.
    pub fn stack_range(&self) -> Option<core::ops::Range<u64>> {
        self.stack.as_ref().map(|s| s.bottom..s.top)
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            release_stack(stack);
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Sched {
    run_queue: VecDeque<Arc<Thread>>,
    /// Threads parked with a deadline: (deadline_ns, thread).
    sleepers: Vec<(u64, Arc<Thread>)>,
}

struct SchedCell(UnsafeCell<Sched>);
// SAFETY: only accessed while `SCHED_LOCKED` is held.
unsafe impl Sync for SchedCell {}

static SCHED_LOCKED: AtomicBool = AtomicBool::new(false);
static SCHED: SchedCell = SchedCell(UnsafeCell::new(Sched {
    run_queue: VecDeque::new(),
    sleepers: Vec::new(),
}));

/// The thread running on each hart (a strong reference, `Arc::into_raw`).
static CURRENT: [AtomicPtr<Thread>; MAX_HARTS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_HARTS];
/// The thread a hart just switched away from, released by `finish_switch`.
static PREV: [AtomicPtr<Thread>; MAX_HARTS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_HARTS];
/// Each hart's idle thread.
static IDLE: [AtomicPtr<Thread>; MAX_HARTS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_HARTS];
/// Harts waiting in their idle loop (to kick with an IPI on new work).
static IDLE_MASK: AtomicU64 = AtomicU64::new(0);
/// Run queue length and earliest sleeper deadline as of the last unlock
/// (hints for [`should_yield`]).
static READY_LEN: AtomicUsize = AtomicUsize::new(0);
static NEXT_WAKE_NS: AtomicU64 = AtomicU64::new(u64::MAX);
static STARTED: AtomicBool = AtomicBool::new(false);
/// Polled by the scheduler: functions that wake threads for events
/// interrupt handlers only flagged (e.g. console input).
static POLL_HOOKS: spin::Mutex<Vec<fn()>> = spin::Mutex::new(Vec::new());

/// Takes the scheduler lock with interrupts masked; returns whether they
/// were enabled. Waits with interrupts as they were, so this hart still
/// answers IPIs (a TLB shootdown by the holder, for instance).
fn lock() -> bool {
    loop {
        let irq = interrupts::disable();
        if SCHED_LOCKED
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return irq;
        }
        interrupts::restore(irq);
        while SCHED_LOCKED.load(Ordering::Relaxed) {
            crate::arch::relax();
        }
    }
}

fn unlock() {
    // SAFETY: we still hold the lock.
    let s = unsafe { sched() };
    READY_LEN.store(s.run_queue.len(), Ordering::Relaxed);
    let next_wake = s.sleepers.iter().map(|e| e.0).min().unwrap_or(u64::MAX);
    NEXT_WAKE_NS.store(next_wake, Ordering::Relaxed);
    SCHED_LOCKED.store(false, Ordering::Release);
}

/// The scheduler state.
///
/// # Safety
/// The caller holds the scheduler lock and keeps no other reference to it.
#[allow(clippy::mut_from_ref)]
unsafe fn sched() -> &'static mut Sched {
    // SAFETY: see the caller's contract.
    unsafe { &mut *SCHED.0.get() }
}

fn hart() -> usize {
    percpu::current().id()
}

/// Whether the scheduler runs (this hart has a current thread).
pub fn is_running() -> bool {
    STARTED.load(Ordering::Acquire) && !CURRENT[hart()].load(Ordering::Acquire).is_null()
}

/// Makes the code running on this hart its first thread: call once per
/// hart at boot, on its boot stack. The boot hart's becomes an ordinary
/// (blockable) thread and gets a separate idle thread; the others' boot
/// contexts become their idle threads (see [`idle_loop`]).
pub fn init_this_hart(boot: bool) {
    let h = hart();
    let me = Arc::new(Thread::new(if boot { "main" } else { "idle" }, None, !boot));
    me.set_state(State::Running);
    me.last_hart.store(h, Ordering::Relaxed);
    me.switched_in_ns.store(timer::now_ns(), Ordering::Relaxed);
    if boot {
        let stack = vm::alloc_stack(KERNEL_STACK_SIZE)
            .unwrap_or_else(|e| panic!("idle stack for hart {h}: {e}"));
        let idle = Arc::new(Thread::new("idle", None, true));
        // SAFETY: a fresh stack nothing else uses.
        unsafe { *idle.sp.get() = switch::init_stack(stack.top as usize, idle_entry) };
        // The idle thread's stack is never freed (idle threads live forever).
        IDLE[h].store(Arc::into_raw(idle) as *mut Thread, Ordering::Release);
    } else {
        IDLE[h].store(Arc::into_raw(me.clone()) as *mut Thread, Ordering::Release);
    }
    CURRENT[h].store(Arc::into_raw(me) as *mut Thread, Ordering::Release);
    STARTED.store(true, Ordering::Release);
}

extern "C" fn idle_entry() -> ! {
    finish_switch();
    interrupts::enable();
    idle_loop()
}

/// The idle loop: runs whatever is ready, else sleeps until an interrupt.
pub fn idle_loop() -> ! {
    let bit = 1u64 << hart();
    loop {
        run_poll_hooks();
        let irq = lock();
        // SAFETY: we hold the lock.
        let s = unsafe { sched() };
        wake_sleepers(s, timer::now_ns());
        if !s.run_queue.is_empty() {
            schedule_locked(irq);
            continue;
        }
        IDLE_MASK.fetch_or(bit, Ordering::AcqRel);
        unlock();
        switch::idle_wait();
        IDLE_MASK.fetch_and(!bit, Ordering::AcqRel);
        interrupts::restore(irq);
    }
}

/// Registers a function the scheduler calls at every scheduling point and
/// idle wake-up (thread context, interrupts on): it wakes threads waiting
/// for something an interrupt handler only flagged.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
pub fn add_poll_hook(f: fn()) {
    POLL_HOOKS.lock().push(f);
}

fn run_poll_hooks() {
    let hooks: Vec<fn()> = match POLL_HOOKS.try_lock() {
        Some(h) if !h.is_empty() => h.clone(),
        _ => return,
    };
    for f in hooks {
        f();
    }
}

/// The current thread (None before the scheduler is set up on this hart).
pub fn current() -> Option<Arc<Thread>> {
    let irq = interrupts::disable();
    let p = CURRENT[hart()].load(Ordering::Acquire);
    let t = (!p.is_null()).then(|| {
        // SAFETY: CURRENT holds a strong reference to a live thread, which
        // cannot be dropped while it runs here.
        unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        }
    });
    interrupts::restore(irq);
    t
}

/// The id of the current thread (0 before the scheduler runs).
pub fn current_id() -> u64 {
    let irq = interrupts::disable();
    let p = CURRENT[hart()].load(Ordering::Acquire);
    // SAFETY: as in `current`.
    let id = if p.is_null() { 0 } else { unsafe { (*p).id } };
    interrupts::restore(irq);
    id
}

/// The process id of the current thread (0: a kernel thread).
pub fn current_pid() -> u32 {
    let irq = interrupts::disable();
    let p = CURRENT[hart()].load(Ordering::Acquire);
    let pid = if p.is_null() {
        0
    } else {
        // SAFETY: as in `current`.
        unsafe { (*p).pid() }
    };
    interrupts::restore(irq);
    pid
}

/// The stack range of the current thread, if it owns one.
pub fn current_stack() -> Option<core::ops::Range<u64>> {
    current().and_then(|t| t.stack_range())
}

/// Starts a thread with a stack of `stack_size` bytes running `f`, for
/// process `pid` (0: a kernel thread).
pub fn spawn(
    name: &str,
    stack_size: u64,
    pid: u32,
    f: impl FnOnce() + Send + 'static,
) -> Result<Arc<Thread>, vm::VmError> {
    let stack = take_stack(stack_size)?;
    let top = stack.top as usize;
    let t = Arc::new(Thread::new(name, Some(stack), false));
    t.set_pid(pid);
    // SAFETY: the stack is fresh (or returned by an exited thread) and unused.
    unsafe { *t.sp.get() = switch::init_stack(top, thread_entry) };
    *t.entry.lock() = Some(Box::new(f));
    let irq = lock();
    // SAFETY: we hold the lock.
    unsafe { sched() }.run_queue.push_back(t.clone());
    kick_idle();
    unlock();
    interrupts::restore(irq);
    Ok(t)
}

extern "C" fn thread_entry() -> ! {
    finish_switch();
    interrupts::enable();
    let entry = current().and_then(|t| t.entry.lock().take());
    if let Some(f) = entry {
        f();
    }
    exit()
}

/// Ends the current thread.
pub fn exit() -> ! {
    if let Some(t) = current() {
        crate::trace!("thread {} ({}) exits", t.id, t.name);
    }
    let irq = lock();
    if let Some(t) = current() {
        t.set_state(State::Exited);
    }
    schedule_locked(irq);
    unreachable!("an exited thread was resumed");
}

/// Lets other ready threads run; returns soon.
pub fn yield_now() {
    if !is_running() {
        return;
    }
    run_poll_hooks();
    let irq = lock();
    schedule_locked(irq);
}

/// Whether another thread waits for a hart (or a sleeper is due): what
/// the preemption point checks before yielding.
pub fn should_yield() -> bool {
    READY_LEN.load(Ordering::Relaxed) != 0
        || NEXT_WAKE_NS.load(Ordering::Relaxed) <= timer::now_ns()
}

/// Blocks until [`unpark`] (or the deadline, a monotonic `now_ns` value)
/// — or returns at once if an unpark came since the last park. Spurious
/// returns are possible: callers re-check their condition.
pub fn park(deadline_ns: Option<u64>) {
    let Some(me) = current() else {
        crate::arch::wait_for_interrupt();
        return;
    };
    if me.idle {
        // The idle thread never blocks: poll instead.
        crate::arch::wait_for_interrupt();
        return;
    }
    let irq = lock();
    if me.wake_token.swap(false, Ordering::AcqRel) {
        unlock();
        interrupts::restore(irq);
        return;
    }
    if let Some(d) = deadline_ns {
        if d <= timer::now_ns() {
            unlock();
            interrupts::restore(irq);
            return;
        }
        // SAFETY: we hold the lock.
        unsafe { sched() }.sleepers.push((d, me.clone()));
    }
    me.set_state(State::Blocked);
    drop(me);
    schedule_locked(irq);
    // Woken: if by someone else before the deadline, leave the sleepers.
    if deadline_ns.is_some() {
        let id = current_id();
        let irq = lock();
        // SAFETY: we hold the lock.
        unsafe { sched() }.sleepers.retain(|(_, t)| t.id != id);
        unlock();
        interrupts::restore(irq);
    }
}

/// Sleeps until the monotonic clock reaches `deadline_ns` (unless woken).
pub fn sleep_until(deadline_ns: u64) {
    while timer::now_ns() < deadline_ns {
        park(Some(deadline_ns));
        if crate::proc::current_killed() {
            return;
        }
    }
}

/// Wakes `t` if it is parked, else makes its next `park` return at once.
pub fn unpark(t: &Arc<Thread>) {
    let irq = lock();
    // SAFETY: we hold the lock.
    unpark_locked(unsafe { sched() }, t);
    unlock();
    interrupts::restore(irq);
}

fn unpark_locked(s: &mut Sched, t: &Arc<Thread>) {
    t.wake_token.store(true, Ordering::Release);
    if t.state() == State::Blocked {
        t.set_state(State::Ready);
        s.run_queue.push_back(t.clone());
        kick_idle();
    }
}

fn wake_sleepers(s: &mut Sched, now: u64) {
    if s.sleepers.is_empty() {
        return;
    }
    let mut i = 0;
    while i < s.sleepers.len() {
        if s.sleepers[i].0 <= now {
            let (_, t) = s.sleepers.swap_remove(i);
            unpark_locked(s, &t);
        } else {
            i += 1;
        }
    }
}

/// Wakes one idle hart other than this one, if any.
fn kick_idle() {
    let others = IDLE_MASK.load(Ordering::Acquire) & !(1u64 << hart());
    if others != 0 {
        crate::arch::send_ipi(1 << others.trailing_zeros());
    }
}

/// Picks the next thread and switches to it. Called with the lock held
/// and interrupts masked (`irq`: whether they were enabled before); returns
/// (in this thread, maybe on another hart) with the lock released and
/// interrupts restored.
fn schedule_locked(irq: bool) {
    let h = hart();
    // SAFETY: we hold the lock.
    let s = unsafe { sched() };
    wake_sleepers(s, timer::now_ns());
    let prev_ptr = CURRENT[h].load(Ordering::Acquire);
    // SAFETY: CURRENT holds a strong reference to the running thread.
    let prev = unsafe { &*prev_ptr };
    let prev_state = prev.state();
    let next = match s.run_queue.pop_front() {
        Some(n) => n,
        None if prev_state == State::Running => {
            unlock();
            interrupts::restore(irq);
            return;
        }
        None => {
            let idle = IDLE[h].load(Ordering::Acquire);
            // SAFETY: IDLE holds a strong reference forever.
            unsafe {
                Arc::increment_strong_count(idle);
                Arc::from_raw(idle)
            }
        }
    };
    if core::ptr::eq(Arc::as_ptr(&next), prev_ptr) {
        // Unparked before it got away: go on running.
        prev.set_state(State::Running);
        unlock();
        interrupts::restore(irq);
        return;
    }
    if prev_state == State::Running && !prev.idle {
        prev.set_state(State::Ready);
        // SAFETY: CURRENT's reference stays; this is a second one.
        let again = unsafe {
            Arc::increment_strong_count(prev_ptr);
            Arc::from_raw(prev_ptr)
        };
        s.run_queue.push_back(again);
    }
    let now = timer::now_ns();
    prev.cpu_ns.fetch_add(
        now.saturating_sub(prev.switched_in_ns.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    let local = percpu::current();
    prev.activation.set(local.wasm_activation.get());
    prev.recovery.set(local.recovery.get());
    next.set_state(State::Running);
    // The thread may run Wasm code published on another hart.
    crate::arch::wasm::sync_icache_this_hart();
    next.last_hart.store(h, Ordering::Relaxed);
    next.switched_in_ns.store(now, Ordering::Relaxed);
    local.wasm_activation.set(next.activation.get());
    local.recovery.set(next.recovery.get());
    let next_sp = {
        // SAFETY: `next` is switched out (its sp saved) and we hold the lock.
        unsafe { *next.sp.get() }
    };
    CURRENT[h].store(Arc::into_raw(next) as *mut Thread, Ordering::Release);
    PREV[h].store(prev_ptr, Ordering::Release);
    // SAFETY: `prev` is the thread running here; its sp slot lives as long
    // as the thread (PREV keeps it alive until `finish_switch`). `next_sp`
    // was saved by its last switch or set up by `init_stack`.
    unsafe { switch::atoll_switch(prev.sp.get(), next_sp) };
    finish_switch();
    interrupts::restore(irq);
}

/// Run by a thread right after it was switched to: releases the lock and
/// the reference to the thread switched away from.
fn finish_switch() {
    let prev = PREV[hart()].swap(core::ptr::null_mut(), Ordering::AcqRel);
    unlock();
    if !prev.is_null() {
        // SAFETY: PREV held the reference CURRENT had; nothing runs on that
        // thread's stack any more (we are on ours).
        drop(unsafe { Arc::from_raw(prev) });
    }
}

// ---- stacks ----

/// Stacks of exited threads, kept for reuse: the stack region's addresses
/// are handed out once, so freeing and reallocating would leak them.
static STACK_POOL: spin::Mutex<Vec<KernelStack>> = spin::Mutex::new(Vec::new());
/// At most this many stacks are kept.
const POOL_MAX: usize = 16;

fn take_stack(size: u64) -> Result<KernelStack, vm::VmError> {
    let size = size.next_multiple_of(crate::mem::PAGE_SIZE);
    {
        let mut pool = STACK_POOL.lock();
        if let Some(i) = pool.iter().position(|s| s.top - s.bottom == size) {
            return Ok(pool.swap_remove(i));
        }
    }
    vm::alloc_stack(size)
}

fn release_stack(stack: KernelStack) {
    let mut pool = STACK_POOL.lock();
    if pool.len() < POOL_MAX {
        // Allocate the whole pool's room once: its growth must not look
        // like a leak in the heap counters.
        let room = POOL_MAX - pool.len();
        pool.reserve_exact(room);
        pool.push(stack);
    } else {
        drop(pool);
        let _ = vm::free_stack(stack);
    }
}

#[cfg(any(feature = "ktest", feature = "bench"))]
/// Stacks held for reuse, for leak checks.
pub fn pooled_stacks() -> usize {
    STACK_POOL.lock().len()
}

// ---- wait queues ----

/// Threads waiting for a condition. Use: `wq.wait_until(|| cond)`, and
/// `wq.wake_all()` after making a condition true.
#[derive(Default)]
pub struct WaitQueue {
    waiters: spin::Mutex<Vec<Arc<Thread>>>,
}

impl WaitQueue {
    pub const fn new() -> Self {
        Self {
            waiters: spin::Mutex::new(Vec::new()),
        }
    }

    /// Blocks until `cond()` is true, the deadline passes or `interrupted()`
    /// is true after a wake-up; returns `cond()`.
    pub fn wait_until(
        &self,
        mut cond: impl FnMut() -> bool,
        deadline_ns: Option<u64>,
        interrupted: impl Fn() -> bool,
    ) -> bool {
        loop {
            if cond() {
                return true;
            }
            let Some(me) = current() else {
                crate::arch::wait_for_interrupt();
                continue;
            };
            self.waiters.lock().push(me.clone());
            if cond() {
                self.remove(&me);
                return true;
            }
            park(deadline_ns);
            self.remove(&me);
            if interrupted() || deadline_ns.is_some_and(|d| timer::now_ns() >= d) {
                return cond();
            }
        }
    }

    fn remove(&self, me: &Arc<Thread>) {
        self.waiters.lock().retain(|t| !Arc::ptr_eq(t, me));
    }

    pub fn wake_all(&self) {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        for t in &waiters {
            unpark(t);
        }
    }
}
