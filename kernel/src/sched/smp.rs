//! Running code on every hart through inter-processor interrupts (kernel tests); the
//! software-interrupt handler that does it, which also wakes parked harts.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::percpu;

#[cfg(feature = "ktest")]
static CALL_LOCK: spin::Mutex<()> = spin::Mutex::new(());
static CALL_FN: AtomicUsize = AtomicUsize::new(0);
static CALL_DONE: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "ktest")]
/// How long [`run_on_all`] waits for the other harts.
const TIMEOUT_NS: u64 = 2_000_000_000;

#[cfg(feature = "ktest")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpError {
    /// Some harts did not run the call in time: (done, expected).
    Timeout { done: usize, expected: usize },
}

#[cfg(feature = "ktest")]
/// Runs `f` on every online hart (in interrupt context on the others, with
/// interrupts off: keep it short, no allocation) and on this one; returns
/// how many harts ran it.
pub fn run_on_all(f: fn()) -> Result<usize, SmpError> {
    let _guard = CALL_LOCK.lock();
    let me = percpu::current().id();
    let others = percpu::online_mask() & !(1 << me);
    CALL_FN.store(f as usize, Ordering::Relaxed);
    CALL_DONE.store(0, Ordering::Relaxed);
    for h in 0..64 {
        if others & (1 << h) != 0
            && let Some(hl) = percpu::of(h)
        {
            hl.call_pending.store(true, Ordering::Release);
        }
    }
    if others != 0 {
        crate::arch::send_ipi(others);
    }
    f();
    let expected = others.count_ones() as usize;
    let deadline = super::timer::now_ns() + TIMEOUT_NS;
    loop {
        let done = CALL_DONE.load(Ordering::Acquire);
        if done == expected {
            return Ok(expected + 1);
        }
        if super::timer::now_ns() > deadline {
            return Err(SmpError::Timeout { done, expected });
        }
        crate::arch::relax();
    }
}

/// The software-interrupt handler.
pub(crate) fn on_ipi() {
    crate::arch::clear_ipi();
    let local = percpu::current();
    if local.call_pending.swap(false, Ordering::AcqRel) {
        let f = CALL_FN.load(Ordering::Relaxed);
        // SAFETY: `run_on_all` stored a valid `fn()` before setting the flag.
        let f: fn() = unsafe { core::mem::transmute::<usize, fn()>(f) };
        // `f` may run Wasm code published on another hart (tests do).
        crate::arch::wasm::sync_icache_this_hart();
        f();
        CALL_DONE.fetch_add(1, Ordering::Release);
    }
}
