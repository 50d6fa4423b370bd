//! Per-hart data, reached through the arch's per-hart register (`tp` on riscv64).

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use boot_info::MAX_HARTS;

use crate::recover::RecoveryCtx;

/// Bytes of each hart's trap stack.
pub const TRAP_STACK_SIZE: usize = 16 * 1024;

/// Room for the message of a panic caught by a recovery context.
pub const PANIC_MSG_LEN: usize = 512;

/// One hart's data. The first two fields are read by the trap entry assembly.
#[repr(C)]
pub struct HartLocal {
    pub hart_id: AtomicUsize,
    pub trap_stack_top: AtomicUsize,
    /// The innermost active recovery context (only this hart touches it).
    pub recovery: Cell<*mut RecoveryCtx>,
    /// Timer ticks taken on this hart.
    pub ticks: AtomicU64,
    /// A cross-hart call is waiting for this hart (see `smp`).
    pub call_pending: AtomicBool,
    pub online: AtomicBool,
    /// Trap nesting depth, to stop on faults inside the fault reporter.
    pub trap_depth: AtomicUsize,
    pub panicking: AtomicBool,
    /// Message of the last caught panic (only this hart touches it).
    pub panic_msg: UnsafeCell<MsgBuf>,
    /// The innermost Wasm activation of the code running on this hart (the
    /// engine's per-thread pointer: kernel code never migrates between harts
    /// while in Wasm). Only this hart touches it.
    pub wasm_activation: Cell<*mut u8>,
}

// SAFETY: the `Cell`/`UnsafeCell` fields are only touched by the owning hart
// (through `current()`), with interrupts unable to observe a torn update
// because the fields are word-sized or only written outside interrupts.
unsafe impl Sync for HartLocal {}

impl HartLocal {
    const fn new() -> Self {
        Self {
            hart_id: AtomicUsize::new(0),
            trap_stack_top: AtomicUsize::new(0),
            recovery: Cell::new(core::ptr::null_mut()),
            ticks: AtomicU64::new(0),
            call_pending: AtomicBool::new(false),
            online: AtomicBool::new(false),
            trap_depth: AtomicUsize::new(0),
            panicking: AtomicBool::new(false),
            panic_msg: UnsafeCell::new(MsgBuf::new()),
            wasm_activation: Cell::new(core::ptr::null_mut()),
        }
    }

    pub fn id(&self) -> usize {
        self.hart_id.load(Ordering::Relaxed)
    }

    /// This hart's trap stack, for telling trap-stack addresses apart.
    pub fn trap_stack(&self) -> core::ops::Range<usize> {
        let top = self.trap_stack_top.load(Ordering::Relaxed);
        top - TRAP_STACK_SIZE..top
    }
}

/// A fixed-size text buffer that truncates.
pub struct MsgBuf {
    buf: [u8; PANIC_MSG_LEN],
    len: usize,
}

impl MsgBuf {
    pub const fn new() -> Self {
        Self {
            buf: [0; PANIC_MSG_LEN],
            len: 0,
        }
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
    pub fn as_str(&self) -> &str {
        match core::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) => s,
            // Truncation may split a character: keep the valid prefix.
            Err(e) => core::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

impl core::fmt::Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(PANIC_MSG_LEN - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[repr(C, align(16))]
struct TrapStack([u8; TRAP_STACK_SIZE]);

static HARTS: [HartLocal; MAX_HARTS] = [const { HartLocal::new() }; MAX_HARTS];
static mut TRAP_STACKS: [TrapStack; MAX_HARTS] =
    [const { TrapStack([0; TRAP_STACK_SIZE]) }; MAX_HARTS];

/// Sets up this hart's per-hart data and trap handling. Called first thing on
/// every hart; `hart_id` must be below `MAX_HARTS` and unique.
pub fn init_this_hart(hart_id: usize) {
    let local = &HARTS[hart_id];
    // SAFETY: only the address of this hart's own stack is taken.
    let stack = unsafe { &raw mut TRAP_STACKS[hart_id] };
    let top = stack as usize + TRAP_STACK_SIZE;
    local.hart_id.store(hart_id, Ordering::Relaxed);
    local.trap_stack_top.store(top, Ordering::Relaxed);
    // SAFETY: `local` is this hart's static per-hart data, laid out as the
    // trap entry expects, and `top` the top of its own trap stack.
    unsafe { crate::arch::init_hart(local as *const HartLocal as *const u8, top) };
}

/// This hart's data.
pub fn current() -> &'static HartLocal {
    // SAFETY: `init_this_hart` ran first on every hart and pointed the
    // per-hart register at an element of the static `HARTS`.
    unsafe { &*(crate::arch::local_ptr() as *const HartLocal) }
}

/// Another hart's data.
pub fn of(hart_id: usize) -> Option<&'static HartLocal> {
    HARTS.get(hart_id)
}

/// Bit mask of harts that finished their kernel init.
pub fn online_mask() -> u64 {
    HARTS
        .iter()
        .enumerate()
        .filter(|(_, h)| h.online.load(Ordering::Acquire))
        .fold(0, |m, (i, _)| m | 1 << i)
}
