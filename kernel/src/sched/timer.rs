//! The periodic tick and the monotonic clock.
//!
//! Every hart arms its own timer (`arch::set_timer`) at [`TICK_HZ`], at a
//! fixed rate: each deadline is the previous one plus the interval, so a
//! late tick (a busy or descheduled hart) is made up by the next ones, up
//! to [`MAX_CATCH_UP`] intervals. The clock is the `time` counter scaled by
//! the frequency the loader reported.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use boot_info::MAX_HARTS;

use super::percpu;

pub const TICK_HZ: u64 = 100;
/// Missed ticks beyond this many intervals are dropped, not replayed.
const MAX_CATCH_UP: u64 = 4;

/// Each hart's next tick deadline (in `time` counter ticks).
static NEXT_TICK: [AtomicU64; MAX_HARTS] = [const { AtomicU64::new(0) }; MAX_HARTS];

static TIMER_HZ: AtomicU64 = AtomicU64::new(0);
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);
/// A `fn()` run on every tick on every hart (e.g. bumping the Wasm epoch).
static TICK_HOOK: AtomicUsize = AtomicUsize::new(0);

/// The wall-clock time (ns since the Unix epoch) when the monotonic clock read 0; 0 if no
/// real-time clock was found.
static REALTIME_AT_ZERO: AtomicU64 = AtomicU64::new(0);

/// Sets the realtime clock from a wall-clock reading taken now.
pub fn set_realtime(wall_ns: u64) {
    REALTIME_AT_ZERO.store(wall_ns.saturating_sub(now_ns()), Ordering::Relaxed);
}

/// Nanoseconds since the Unix epoch (since boot if the machine has no real-time clock).
pub fn realtime_ns() -> u64 {
    REALTIME_AT_ZERO.load(Ordering::Relaxed) + now_ns()
}

/// Records the counter frequency and the counter value at loader entry.
pub fn init(timer_hz: u64, boot_ticks: u64) {
    TIMER_HZ.store(timer_hz, Ordering::Relaxed);
    BOOT_TICKS.store(boot_ticks, Ordering::Relaxed);
}

pub fn timer_hz() -> u64 {
    TIMER_HZ.load(Ordering::Relaxed)
}

fn interval() -> u64 {
    (timer_hz() / TICK_HZ).max(1)
}

/// Arms this hart's periodic tick.
pub fn start_this_hart() {
    if timer_hz() != 0 {
        let next = crate::arch::read_time() + interval();
        NEXT_TICK[percpu::current().id()].store(next, Ordering::Relaxed);
        crate::arch::set_timer(next);
    }
}

#[cfg(feature = "ktest")]
/// Installs the per-tick hook. It runs in interrupt context on every hart:
/// it must be short and must not allocate or block.
pub fn set_tick_hook(hook: fn()) {
    TICK_HOOK.store(hook as usize, Ordering::Release);
}

#[cfg(feature = "ktest")]
pub fn clear_tick_hook() {
    TICK_HOOK.store(0, Ordering::Release);
}

pub(crate) fn on_timer_interrupt() {
    percpu::current().ticks.fetch_add(1, Ordering::Relaxed);
    crate::wasm::engine::on_tick();
    let hook = TICK_HOOK.load(Ordering::Acquire);
    if hook != 0 {
        // SAFETY: only `set_tick_hook` stores here, always a valid `fn()`.
        let hook: fn() = unsafe { core::mem::transmute::<usize, fn()>(hook) };
        hook();
    }
    let slot = &NEXT_TICK[percpu::current().id()];
    let now = crate::arch::read_time();
    let mut next = slot.load(Ordering::Relaxed) + interval();
    if next.saturating_add(MAX_CATCH_UP * interval()) < now {
        next = now + interval();
    }
    slot.store(next, Ordering::Relaxed);
    crate::arch::set_timer(next);
}

/// Converts counter ticks to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    let hz = timer_hz();
    if hz == 0 {
        return 0;
    }
    (ticks as u128 * 1_000_000_000 / hz as u128) as u64
}

/// Monotonic nanoseconds since the counter started.
pub fn now_ns() -> u64 {
    ticks_to_ns(crate::arch::read_time())
}

/// Nanoseconds since the loader started.
pub fn uptime_ns() -> u64 {
    ticks_to_ns(crate::arch::read_time().saturating_sub(BOOT_TICKS.load(Ordering::Relaxed)))
}

/// Ticks taken by `hart`.
pub fn ticks(hart: usize) -> u64 {
    percpu::of(hart)
        .map(|h| h.ticks.load(Ordering::Relaxed))
        .unwrap_or(0)
}

#[cfg(any(target_arch = "x86_64", feature = "ktest"))]
/// Busy-waits for `ns` nanoseconds.
pub fn spin_for_ns(ns: u64) {
    let end = now_ns() + ns;
    while now_ns() < end {
        crate::arch::relax();
    }
}
