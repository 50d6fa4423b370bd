//! Fault recovery: run code so that a fault (or panic) in it returns an error
//! to the caller instead of stopping the kernel.
//!
//! [`catch`] pushes a per-hart [`RecoveryCtx`]; the trap handler consults the
//! innermost one on any exception and, if present, rewrites the trap frame to
//! resume in the context with the fault recorded (see `arch::trap`). The
//! kernel tests use this for deliberate faults and panics; Wasm traps from JIT
//! code take the same path. Destructors of the frames skipped by a recovery
//! do not run (their resources leak), as with any non-unwinding abort.

#[cfg(feature = "ktest")]
mod tests;

use core::fmt;
use core::sync::atomic::Ordering;

use crate::arch::trap::{SavedRegs, TrapFrame, exception_name};
use crate::sched::percpu;

/// What went wrong inside [`catch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A CPU exception: the arch cause code, the faulting pc and the trap value
    /// (the address for page faults).
    Trap {
        cause: usize,
        pc: usize,
        stval: usize,
    },
    /// A panic; its message is in [`last_panic_message`].
    Panic,
    /// The deadline of [`catch_with_deadline`] passed (seen at a timer tick).
    Timeout,
}

impl Fault {
    #[cfg(feature = "ktest")]
    /// The faulting address, for page faults.
    pub fn page_fault_addr(&self) -> Option<usize> {
        match *self {
            Self::Trap { cause, stval, .. } if crate::arch::trap::is_page_fault(cause) => {
                Some(stval)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Trap { cause, pc, stval } => {
                write!(
                    f,
                    "{} at pc {:#x} (stval {:#x})",
                    exception_name(cause),
                    pc,
                    stval
                )
            }
            Self::Panic => write!(f, "panicked: {}", last_panic_message()),
            Self::Timeout => write!(f, "timed out"),
        }
    }
}

/// A recovery point on the stack of [`catch`]. `regs` must come first: the
/// assembly addresses it through the context pointer.
#[repr(C)]
pub struct RecoveryCtx {
    regs: SavedRegs,
    fault: Option<Fault>,
    prev: *mut RecoveryCtx,
    /// Trap nesting depth of the code that called `catch`: a fault in an
    /// interrupt handler must not resume a context of the code it interrupted.
    depth: usize,
    /// `timer::now_ns()` after which a timer tick aborts the code (0: never).
    deadline_ns: u64,
    /// The Wasm activation when `catch` was entered: resuming here abandons
    /// any Wasm calls made since, so the activation chain is cut back to it.
    wasm_activation: *mut u8,
}

#[cfg(any(target_arch = "riscv64", feature = "ktest"))]
/// Runs `f`, turning a fault or panic in it into `Err`.
pub fn catch<F: FnOnce() -> R, R>(f: F) -> Result<R, Fault> {
    catch_with_deadline(0, f)
}

#[cfg(feature = "ktest")]
/// Like [`catch`], and a timer tick after `timeout_ns` aborts `f` with
/// [`Fault::Timeout`] (if `f` runs with interrupts enabled).
pub fn catch_with_timeout<F: FnOnce() -> R, R>(timeout_ns: u64, f: F) -> Result<R, Fault> {
    catch_with_deadline(crate::sched::timer::now_ns().saturating_add(timeout_ns), f)
}

#[cfg(any(target_arch = "riscv64", feature = "ktest"))]
fn catch_with_deadline<F: FnOnce() -> R, R>(deadline_ns: u64, f: F) -> Result<R, Fault> {
    struct Call<F, R> {
        f: Option<F>,
        result: Option<R>,
    }
    extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut u8) {
        // SAFETY: `data` is the `Call` below, exclusively ours during the call.
        let call = unsafe { &mut *(data as *mut Call<F, R>) };
        if let Some(f) = call.f.take() {
            call.result = Some(f());
        }
    }

    let mut call = Call {
        f: Some(f),
        result: None,
    };
    let local = percpu::current();
    let mut ctx = RecoveryCtx {
        regs: SavedRegs::default(),
        fault: None,
        prev: local.recovery.get(),
        depth: local.trap_depth.load(Ordering::Relaxed),
        deadline_ns,
        wasm_activation: local.wasm_activation.get(),
    };
    local.recovery.set(&mut ctx);
    // SAFETY: `ctx` outlives the call and is popped on both paths below; on a
    // fault the trap handler pops it before resuming it.
    let faulted = unsafe {
        recovery_call(
            &mut ctx.regs,
            trampoline::<F, R>,
            &mut call as *mut Call<F, R> as *mut u8,
        )
    };
    // The thread may have been switched to another hart inside `f`: the
    // recovery chain follows the thread (see `sched::thread`), so use the
    // hart it is on now.
    if !faulted {
        percpu::current().recovery.set(ctx.prev);
    }
    match (faulted, call.result) {
        (false, Some(r)) => Ok(r),
        (_, _) => Err(ctx.fault.unwrap_or(Fault::Panic)),
    }
}

/// Pops this hart's innermost recovery context, if one was set up at trap
/// depth `depth` (that of the faulting code), recording `fault`. Returns the
/// registers to resume.
pub fn take_active(fault: Fault, depth: usize) -> Option<*mut SavedRegs> {
    let local = percpu::current();
    let ctx = local.recovery.get();
    // SAFETY: a non-null context is live: `catch` is still on this hart's stack.
    if ctx.is_null() || unsafe { (*ctx).depth } != depth {
        return None;
    }
    // SAFETY: as above.
    unsafe {
        local.recovery.set((*ctx).prev);
        local.wasm_activation.set((*ctx).wasm_activation);
        (*ctx).fault = Some(fault);
        Some(&raw mut (*ctx).regs)
    }
}

/// At a timer tick that interrupted code at trap depth `depth`: if that
/// code's innermost context has passed its deadline, pops it (as
/// [`take_active`] does) and returns the registers to resume.
pub fn take_expired(depth: usize, now_ns: u64) -> Option<*mut SavedRegs> {
    let ctx = percpu::current().recovery.get();
    // SAFETY: a non-null context is live (its `catch` is on this hart's stack).
    let expired =
        !ctx.is_null() && unsafe { (*ctx).deadline_ns != 0 && now_ns >= (*ctx).deadline_ns };
    if expired {
        take_active(Fault::Timeout, depth)
    } else {
        None
    }
}

/// The trap nesting depth of the running code (0 outside trap handlers).
pub fn current_depth() -> usize {
    percpu::current().trap_depth.load(Ordering::Relaxed)
}

#[cfg(feature = "ktest")]
/// How many recovery contexts are active on this hart.
pub fn nesting() -> usize {
    let mut n = 0;
    let mut ctx = percpu::current().recovery.get();
    while !ctx.is_null() {
        n += 1;
        // SAFETY: every context in the chain is live (its `catch` is on the stack).
        ctx = unsafe { (*ctx).prev };
    }
    n
}

/// The message of the last panic caught on this hart.
pub fn last_panic_message() -> &'static str {
    // SAFETY: only this hart writes its buffer, and only in the panic handler,
    // which does not run concurrently with this read on the same hart.
    unsafe { (*percpu::current().panic_msg.get()).as_str() }
}

// Each arch's assembly (`arch/*/trap.rs`) provides both symbols: `atoll_recovery_call`
// saves the callee-saved state in the context and calls `f(data)`, returning 0 when
// `f` returns; `atoll_recovery_landing(ctx)` restores that state and makes the same
// `atoll_recovery_call` return 1.
unsafe extern "C" {
    #[cfg(any(target_arch = "riscv64", feature = "ktest"))]
    fn atoll_recovery_call(ctx: *mut SavedRegs, f: extern "C" fn(*mut u8), data: *mut u8) -> usize;
    fn atoll_recovery_landing(ctx: *mut SavedRegs) -> !;
}

#[cfg(any(target_arch = "riscv64", feature = "ktest"))]
/// Calls `f(data)` with `regs` as the recovery point; returns `false` if `f`
/// returned, `true` if it faulted and was resumed through the context.
///
/// # Safety
/// `regs` must stay valid until this returns, and may be resumed only while
/// this call is still on the stack.
unsafe fn recovery_call(regs: *mut SavedRegs, f: extern "C" fn(*mut u8), data: *mut u8) -> bool {
    // SAFETY: the assembly follows the platform C ABI; see the caller's contract.
    unsafe { atoll_recovery_call(regs, f, data) != 0 }
}

/// Resumes the recovery point `regs` (from a panic: no trap frame involved).
///
/// # Safety
/// The `recovery_call` that filled `regs` must still be active on this stack.
pub unsafe fn recovery_resume(regs: *mut SavedRegs) -> ! {
    // SAFETY: see the caller's contract.
    unsafe { atoll_recovery_landing(regs) }
}

/// Makes `frame` return into the recovery point `regs` instead of the faulting code.
pub fn redirect_to_recovery(frame: &mut TrapFrame, regs: *mut SavedRegs) {
    frame.redirect(atoll_recovery_landing as *const () as usize, regs as usize);
}
