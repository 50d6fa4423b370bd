//! `poll-clock`: `poll_oneoff` with clocks: a relative 20 ms timeout (at least 20 ms pass), an
//! absolute one already in the past, two clocks (the earlier fires; both may be reported),
//! a zero timeout, no subscriptions (EINVAL), and `std::thread::sleep`.

use corpus::sys::{Sub, poll_oneoff};
use corpus::*;

fn now() -> u64 {
    sys::clock_time_get(CLOCK_MONOTONIC, 1).unwrap_or(0)
}

/// Polls `subs`; with `waits`, also says whether at least 15 ms of the 20 asked for passed
/// (a lower bound with slack: an absolute deadline is computed a moment before the clock
/// starts here). Immediate polls print no time: how fast they return depends on the machine.
fn events(label: &str, subs: &[Sub], waits: bool) {
    let t0 = now();
    let r = poll_oneoff(subs);
    let ms = (now() - t0) / 1_000_000;
    match r {
        Ok(evs) => {
            let list: Vec<String> = evs
                .iter()
                .map(|e| {
                    format!(
                        "(userdata {} type {} error {})",
                        e.userdata,
                        e.kind,
                        Errno(e.error)
                    )
                })
                .collect();
            println!("{label}: {} event(s) {}", evs.len(), list.join(" "));
            if waits {
                println!("{label}: took at least 15 ms: {}", ms >= 15);
            }
        }
        Err(e) => println!("{label}: {e}"),
    }
}

fn main() {
    events(
        "relative 20 ms",
        &[Sub::Clock(7, CLOCK_MONOTONIC, 20_000_000, 0, 0)],
        true,
    );
    events(
        "absolute, now + 20 ms",
        &[Sub::Clock(
            8,
            CLOCK_MONOTONIC,
            now() + 20_000_000,
            0,
            SUBCLOCK_ABSTIME,
        )],
        true,
    );
    events(
        "absolute, in the past",
        &[Sub::Clock(9, CLOCK_MONOTONIC, 1, 0, SUBCLOCK_ABSTIME)],
        false,
    );
    events(
        "zero timeout",
        &[Sub::Clock(10, CLOCK_MONOTONIC, 0, 0, 0)],
        false,
    );
    events(
        "20 ms and 10 s",
        &[
            Sub::Clock(1, CLOCK_MONOTONIC, 10_000_000_000, 0, 0),
            Sub::Clock(2, CLOCK_MONOTONIC, 20_000_000, 0, 0),
        ],
        true,
    );
    events(
        "realtime relative 20 ms",
        &[Sub::Clock(3, CLOCK_REALTIME, 20_000_000, 0, 0)],
        true,
    );
    events(
        "process cputime clock",
        &[Sub::Clock(4, CLOCK_PROCESS_CPUTIME, 1_000, 0, 0)],
        false,
    );
    match poll_oneoff(&[]) {
        Ok(e) => println!("no subscriptions: {} events", e.len()),
        Err(e) => println!("no subscriptions: {e}"),
    }
    let t0 = now();
    std::thread::sleep(std::time::Duration::from_millis(25));
    println!(
        "sleep(25 ms) took at least 25 ms: {}",
        now() - t0 >= 25_000_000
    );
}
