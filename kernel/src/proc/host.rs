//! The kernel's backends for WASI: the console (through the line discipline,
//! or the host link), clocks, randomness and scheduling; preopens come from
//! the system tree (`crate::vfs`).

use alloc::boxed::Box;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

use wasi_p1::{Clock, Console, Errno, OutputStream, Random, Scheduler, WasiCtx};

use super::SpawnRequest;
use crate::sched::{thread, timer};

/// A process's fds 0-2 (see [`super::Stdio`]).
struct KernelConsole {
    stdio: super::Stdio,
}

impl Console for KernelConsole {
    fn write(&mut self, stream: OutputStream, data: &[u8]) -> Result<usize, Errno> {
        match self.stdio {
            super::Stdio::Console => crate::console::write_bytes(data),
            super::Stdio::Link => {
                let kind = match stream {
                    OutputStream::Stdout => hostlink::Kind::Stdout,
                    OutputStream::Stderr => hostlink::Kind::Stderr,
                };
                crate::hostlink::write(kind, data).map_err(|()| Errno::Io)?;
            }
            super::Stdio::Null => {}
        }
        Ok(data.len())
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self.stdio {
            super::Stdio::Null => Ok(0),
            super::Stdio::Link => {
                crate::hostlink::read_stdin(buf, super::current_killed).map_err(|()| Errno::Intr)
            }
            super::Stdio::Console => {
                let prompt = crate::boot_marks::Milestone::Prompt;
                if crate::boot_marks::armed(prompt) && !crate::console::stdin_ready() {
                    // The read will block: the reader (the shell) waits at its prompt.
                    crate::boot_marks::reach(prompt);
                }
                crate::console::read_stdin(buf, super::current_killed).map_err(|()| Errno::Intr)
            }
        }
    }

    fn stdin_ready(&mut self) -> bool {
        match self.stdio {
            super::Stdio::Null => true,
            super::Stdio::Link => crate::hostlink::stdin_ready(),
            super::Stdio::Console => crate::console::stdin_ready(),
        }
    }

    /// The serial console is a terminal (guests see `FILETYPE_CHARACTER_DEVICE` and
    /// `isatty` is true); null stdio is not; over the host link, each stream is what it
    /// is on the host.
    fn is_terminal(&self, fd: u32) -> bool {
        match self.stdio {
            super::Stdio::Console => true,
            super::Stdio::Null => false,
            super::Stdio::Link => crate::hostlink::is_tty(fd as usize),
        }
    }
}

pub struct KernelClock;

impl Clock for KernelClock {
    fn monotonic_now(&self) -> u64 {
        timer::now_ns()
    }
    fn realtime_now(&self) -> u64 {
        timer::realtime_ns()
    }
    fn monotonic_resolution(&self) -> u64 {
        let hz = timer::timer_hz().max(1);
        1_000_000_000u64.div_ceil(hz)
    }
    fn realtime_resolution(&self) -> u64 {
        self.monotonic_resolution()
    }
    fn process_cputime(&self) -> Option<u64> {
        thread::current().map(|t| t.cpu_ns())
    }
}

/// A ChaCha-free, xoshiro256** generator per process, seeded from the boot
/// entropy (FDT `rng-seed` / `rdrand`, see `BootInfo::rng_seed`) mixed with
/// the clock and a global counter. Not cryptographically strong.
struct KernelRandom {
    s: [u64; 4],
}

static RNG_COUNTER: AtomicU64 = AtomicU64::new(0);

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl KernelRandom {
    fn new() -> Self {
        let seed = crate::boot_info_opt().map_or([0; 32], |bi| bi.rng_seed);
        let mut x = timer::now_ns() ^ RNG_COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32);
        let mut s = [0u64; 4];
        for (i, w) in s.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&seed[i * 8..i * 8 + 8]);
            *w = u64::from_le_bytes(b) ^ splitmix(&mut x);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.s;
        let r = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }
}

impl Random for KernelRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

struct KernelScheduler;

impl Scheduler for KernelScheduler {
    fn yield_now(&mut self) {
        thread::yield_now();
    }
    fn sleep_until(&mut self, deadline_ns: u64, wake_on_stdin: bool) {
        if wake_on_stdin {
            match super::current().map(|p| p.stdio) {
                Some(super::Stdio::Link) => {
                    crate::hostlink::wait_stdin(deadline_ns, super::current_killed)
                }
                _ => crate::console::wait_stdin(deadline_ns, super::current_killed),
            }
        } else {
            thread::sleep_until(deadline_ns);
        }
    }
}

/// The WASI context of a new process.
pub fn wasi_ctx(req: &SpawnRequest<'_>) -> Result<WasiCtx, String> {
    let mut b = WasiCtx::builder(
        Box::new(KernelConsole { stdio: req.stdio }),
        Box::new(KernelClock),
        Box::new(KernelRandom::new()),
        Box::new(KernelScheduler),
    )
    .args(req.args.iter().map(String::as_str));
    for kv in &req.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        b = b.env(k, v);
    }
    for (path, name) in &req.preopens {
        b = b.preopen_dir(crate::vfs::open_dir(path)?, name);
    }
    Ok(b.build())
}
