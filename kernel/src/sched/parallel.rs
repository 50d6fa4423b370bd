//! Borrowed jobs run on every hart: the engine's parallel compilation.
//!
//! The calling thread and up to `harts - 1` helper kernel threads claim jobs
//! from a shared counter; the caller returns once every job has finished.
//! The caller never blocks (it may be on a hart's Wasm stack, which must not
//! be switched away from): it runs jobs itself and then spins only for jobs
//! that helpers are still running. Helpers that start after the last job was
//! claimed find nothing to do and touch nothing borrowed.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{percpu, thread};
use crate::wasm::WASM_STACK_SIZE;

/// The jobs and their progress, shared with the helpers.
struct Shared {
    /// The caller's job slice, lifetime erased: see [`run`] for why helpers
    /// may use it.
    jobs: *mut [&'static mut (dyn FnMut() + Send)],
    next: AtomicUsize,
    done: AtomicUsize,
}

// SAFETY: every job is `Send`, and each index is claimed (and its job used)
// by exactly one thread.
unsafe impl Send for Shared {}
// SAFETY: as above; the counters are atomics.
unsafe impl Sync for Shared {}

impl Shared {
    fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Runs jobs until none is left unclaimed.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::AcqRel);
            if i >= self.len() {
                return;
            }
            let job = self.jobs as *mut &'static mut (dyn FnMut() + Send);
            // SAFETY: `i` is in bounds and was claimed by this thread alone
            // (no reference to the whole slice is made, only to this job),
            // and the slice outlives every claimed job: `run` returns only
            // after `done` counts this one.
            unsafe { (*job.add(i))() };
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Runs `jobs`, possibly in parallel on other harts, and returns when all are
/// done.
pub fn run(jobs: &mut [&mut (dyn FnMut() + Send)]) {
    let harts = percpu::online_mask().count_ones() as usize;
    let helpers = harts.saturating_sub(1).min(jobs.len().saturating_sub(1));
    if helpers == 0 || !thread::is_running() {
        jobs.iter_mut().for_each(|job| job());
        return;
    }
    let len = jobs.len();
    let shared = Arc::new(Shared {
        // SAFETY: only the lifetime changes; `run` does not return before
        // every job that was claimed has finished (`done == len`), and
        // nothing reads the slice after that.
        jobs: unsafe {
            core::mem::transmute::<
                *mut [&mut (dyn FnMut() + Send)],
                *mut [&'static mut (dyn FnMut() + Send)],
            >(jobs as *mut _)
        },
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    for _ in 0..helpers {
        let s = shared.clone();
        // Without a helper the caller simply does more of the jobs.
        if thread::spawn("compile", WASM_STACK_SIZE, 0, move || s.work()).is_err() {
            break;
        }
    }
    shared.work();
    while shared.done.load(Ordering::Acquire) < len {
        core::hint::spin_loop();
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

    use ktest::ktest;

    use crate::sched::{percpu, timer};

    ktest! {
        fn parallel_jobs_each_run_once_across_harts() {
            const JOBS: usize = 64;
            let runs: Vec<AtomicU32> = (0..JOBS).map(|_| AtomicU32::new(0)).collect();
            let harts_used = AtomicU64::new(0);
            let mut closures: Vec<_> = runs
                .iter()
                .map(|r| {
                    let harts_used = &harts_used;
                    move || {
                        r.fetch_add(1, Ordering::Relaxed);
                        harts_used.fetch_or(1 << percpu::current().id(), Ordering::Relaxed);
                        // Long enough (2 ms each) for helpers to wake and take some.
                        let until = timer::now_ns() + 2_000_000;
                        while timer::now_ns() < until {
                            core::hint::spin_loop();
                        }
                    }
                })
                .collect();
            let mut jobs: Vec<&mut (dyn FnMut() + Send)> =
                closures.iter_mut().map(|c| c as &mut (dyn FnMut() + Send)).collect();
            super::run(&mut jobs);
            assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1), "a job ran twice or never");
            if percpu::online_mask().count_ones() > 1 {
                let used = harts_used.load(Ordering::Relaxed).count_ones();
                assert!(used > 1, "all {JOBS} jobs ran on one hart");
            }
        }
    }
}
