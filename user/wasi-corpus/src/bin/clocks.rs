//! `clocks`: `clock_res_get` and `clock_time_get` for every clock id (shape only: whether the
//! call works, the resolution is positive and at most a second, realtime is after 2020), that
//! the monotonic clock never goes back over 1000 reads, and std's `Instant`/`SystemTime`.

use corpus::*;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    for (id, name) in [
        (CLOCK_REALTIME, "realtime"),
        (CLOCK_MONOTONIC, "monotonic"),
        (CLOCK_PROCESS_CPUTIME, "process-cputime"),
        (CLOCK_THREAD_CPUTIME, "thread-cputime"),
    ] {
        show(
            &format!("{name} res"),
            sys::clock_res_get(id).map(|r| {
                if r > 0 && r <= 1_000_000_000 {
                    "plausible"
                } else {
                    "implausible"
                }
            }),
        );
        show(
            &format!("{name} time"),
            sys::clock_time_get(id, 1).map(|t| if t > 0 { "nonzero" } else { "zero" }),
        );
        show(
            &format!("{name} time, precision 0"),
            sys::clock_time_get(id, 0).map(|_| "ok"),
        );
        show(
            &format!("{name} time, precision max"),
            sys::clock_time_get(id, u64::MAX).map(|_| "ok"),
        );
    }
    show(
        "realtime after 2020",
        sys::clock_time_get(CLOCK_REALTIME, 1).map(|t| t > 1_577_836_800_000_000_000),
    );
    let mut last = 0;
    let mut backwards = 0;
    for _ in 0..1000 {
        let t = sys::clock_time_get(CLOCK_MONOTONIC, 1).unwrap_or(0);
        if t < last {
            backwards += 1;
        }
        last = t;
    }
    println!("monotonic went backwards {backwards} times in 1000 reads");
    let start = Instant::now();
    let mut spin = 0u64;
    while start.elapsed() < Duration::from_millis(5) {
        spin += 1;
    }
    println!(
        "Instant advances: {}",
        spin > 0 && start.elapsed() >= Duration::from_millis(5)
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() > 1_577_836_800);
    println!("SystemTime after 2020: {now:?}");
}
