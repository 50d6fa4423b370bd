//! Host implementations of [`Clock`], [`Scheduler`] and [`Random`] over the standard library
//! (feature `std`): what a program on a host OS uses, such as `wasi-run` (which runs a WASI
//! program as `wasmtime run` does) and the tests that run programs through the real engine.
//!
//! [`HostClock`] and the [`HostScheduler`] it makes share one starting instant, so the
//! scheduler's deadlines are in the clock's monotonic time. [`OsRandom`] reads the OS's
//! random source (`/dev/urandom`).

extern crate std;

use std::fs::File;
use std::io::Read;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::errno::Errno;
use crate::host::{Clock, Random, Scheduler};

/// The longest a [`HostScheduler`] sleeps while stdin may become readable: the scheduler
/// cannot watch stdin itself, so it returns this often for `poll_oneoff` to look again.
pub const STDIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The host's clocks: monotonic time since this clock was made, and the system's real time.
#[derive(Clone, Copy, Debug)]
pub struct HostClock {
    start: Instant,
}

impl HostClock {
    /// A clock whose monotonic time starts now.
    pub fn new() -> HostClock {
        HostClock {
            start: Instant::now(),
        }
    }

    /// A scheduler whose deadlines are this clock's monotonic times.
    pub fn scheduler(&self) -> HostScheduler {
        HostScheduler { clock: *self }
    }

    fn elapsed_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl Default for HostClock {
    fn default() -> Self {
        HostClock::new()
    }
}

impl Clock for HostClock {
    fn monotonic_now(&self) -> u64 {
        self.elapsed_ns()
    }

    fn realtime_now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// `Instant` counts nanoseconds (Linux's `CLOCK_MONOTONIC`).
    fn monotonic_resolution(&self) -> u64 {
        1
    }

    /// `SystemTime` counts nanoseconds (Linux's `CLOCK_REALTIME`).
    fn realtime_resolution(&self) -> u64 {
        1
    }
}

/// Sleeps on the host (made by [`HostClock::scheduler`]).
#[derive(Clone, Copy, Debug)]
pub struct HostScheduler {
    clock: HostClock,
}

impl Scheduler for HostScheduler {
    fn yield_now(&mut self) {
        std::thread::yield_now();
    }

    /// Sleeps until the deadline; while stdin may wake the caller, at most
    /// [`STDIN_POLL_INTERVAL`] (an early return the trait allows).
    fn sleep_until(&mut self, deadline_ns: u64, wake_on_stdin: bool) {
        let left = Duration::from_nanos(deadline_ns.saturating_sub(self.clock.elapsed_ns()));
        let nap = if wake_on_stdin {
            left.min(STDIN_POLL_INTERVAL)
        } else {
            left
        };
        std::thread::sleep(nap);
    }
}

/// Random bytes from the OS (`/dev/urandom`, opened on first use).
#[derive(Debug, Default)]
pub struct OsRandom {
    source: Option<File>,
}

impl OsRandom {
    pub fn new() -> OsRandom {
        OsRandom::default()
    }
}

impl Random for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        if self.source.is_none() {
            self.source = Some(File::open("/dev/urandom").map_err(|_| Errno::Io)?);
        }
        let source = self.source.as_mut().ok_or(Errno::Io)?;
        source.read_exact(buf).map_err(|_| Errno::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedulers_deadlines_are_the_clocks_monotonic_times() {
        let clock = HostClock::new();
        let mut sched = clock.scheduler();
        let deadline = clock.monotonic_now() + 2_000_000;
        sched.sleep_until(deadline, false);
        assert!(clock.monotonic_now() >= deadline);
    }

    #[test]
    fn a_sleep_that_stdin_may_end_returns_within_the_poll_interval() {
        let clock = HostClock::new();
        let t = Instant::now();
        clock.scheduler().sleep_until(u64::MAX, true);
        assert!(t.elapsed() < STDIN_POLL_INTERVAL * 50, "{:?}", t.elapsed());
    }

    #[test]
    fn realtime_is_after_2020_and_os_random_fills_the_whole_buffer() {
        assert!(HostClock::new().realtime_now() > 1_577_836_800_000_000_000);
        let mut buf = [0u8; 64];
        OsRandom::new().fill(&mut buf).unwrap();
        // 64 zero bytes from a real random source: probability 2^-512.
        assert!(buf.iter().any(|&b| b != 0));
    }
}
