//! Kernel tests of time and harts: the clock and ticks, code on every hart,
//! tick hooks, and FP/vector state across interrupts.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ktest::ktest;

use crate::sched::{percpu, smp, timer};

ktest! {
    fn clock_is_monotonic_and_ticks_advance() {
        assert!(timer::timer_hz() > 0);
        let mut last = timer::now_ns();
        for _ in 0..10_000 {
            let now = timer::now_ns();
            assert!(now >= last, "clock went backwards");
            last = now;
        }
        assert!(crate::arch::interrupts::are_enabled(), "tests must run with interrupts on");
        let me = percpu::current().id();
        let t0 = timer::ticks(me);
        let c0 = timer::now_ns();
        timer::spin_for_ns(60_000_000);
        let elapsed = timer::now_ns() - c0;
        let ticks = timer::ticks(me) - t0;
        assert!(elapsed >= 60_000_000);
        // 100 Hz over 60 ms: at least 3 ticks even with slack.
        assert!(ticks >= 3, "only {ticks} ticks in {elapsed} ns");
        assert!(timer::uptime_ns() > 0);
    }
}

static HART_BITS: AtomicU64 = AtomicU64::new(0);
static HART_RUNS: AtomicUsize = AtomicUsize::new(0);

fn mark_hart() {
    HART_BITS.fetch_or(1 << percpu::current().id(), Ordering::Relaxed);
    HART_RUNS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn every_hart_runs_code() {
        let bi = crate::boot_info();
        assert_eq!(percpu::online_mask(), bi.hart_mask, "not every started hart is online");
        HART_BITS.store(0, Ordering::Relaxed);
        HART_RUNS.store(0, Ordering::Relaxed);
        let n = smp::run_on_all(mark_hart).unwrap();
        assert_eq!(n, bi.hart_mask.count_ones() as usize);
        assert_eq!(HART_BITS.load(Ordering::Relaxed), bi.hart_mask);
        assert_eq!(HART_RUNS.load(Ordering::Relaxed), n);
        // Every hart takes timer ticks.
        timer::spin_for_ns(30_000_000);
        for h in bi.harts() {
            assert!(timer::ticks(h as usize) > 0, "hart {h} took no ticks");
        }
    }
}

static HOOK_CALLS: AtomicU64 = AtomicU64::new(0);

fn count_tick() {
    HOOK_CALLS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn tick_hook_runs_on_every_tick() {
        HOOK_CALLS.store(0, Ordering::Relaxed);
        timer::set_tick_hook(count_tick);
        timer::spin_for_ns(50_000_000);
        timer::clear_tick_hook();
        let calls = HOOK_CALLS.load(Ordering::Relaxed);
        // 100 Hz on every hart for 50 ms: several calls at least.
        assert!(calls >= 3, "tick hook ran {calls} times");
        // Let a call that loaded the hook just before the clear finish.
        timer::spin_for_ns(1_000_000);
        let after = HOOK_CALLS.load(Ordering::Relaxed);
        timer::spin_for_ns(30_000_000);
        assert_eq!(HOOK_CALLS.load(Ordering::Relaxed), after, "hook still runs after clearing");
    }
}

static CLOBBERS: AtomicU64 = AtomicU64::new(0);

fn clobber_ext_state() {
    crate::arch::ext_state_test::clobber(crate::arch::has_vector());
    CLOBBERS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn fp_and_vector_state_survive_interrupts() {
        use crate::arch::ext_state_test::{fill_and_spin, vlenb};
        let me = percpu::current().id();
        let vlenb = vlenb();
        let regs = if cfg!(target_arch = "x86_64") { 16 } else { 32 };
        let mut vbuf = alloc::vec![0u8; regs * vlenb];
        CLOBBERS.store(0, Ordering::Relaxed);
        let t0 = timer::ticks(me);
        // The hook overwrites FP and vector registers on every tick: only
        // the trap path's save/restore keeps the spinning code's values.
        timer::set_tick_hook(clobber_ext_state);
        // 200 ms: at 100 Hz several ticks even on a loaded host.
        let deadline = crate::arch::read_time() + timer::timer_hz() / 5;
        let bad = fill_and_spin(deadline, (vlenb > 0).then_some(&mut vbuf[..]));
        timer::clear_tick_hook();
        let ticks = timer::ticks(me) - t0;
        assert!(ticks >= 3, "only {ticks} ticks while spinning");
        assert!(CLOBBERS.load(Ordering::Relaxed) >= 3, "the clobbering hook did not run");
        assert_eq!(bad, 0, "FP registers or fcsr/vl/vtype changed across interrupts");
        for (i, reg) in vbuf.chunks(vlenb.max(1)).enumerate() {
            assert!(reg.iter().all(|&b| b as usize == i + 1), "v{i} changed across interrupts: {reg:?}");
        }
        assert!(crate::arch::has_vector(), "the test machine has V or AVX (configs/*.toml)");
    }
}
