//! The kernel's backends for WASI: the console (through the line
//! discipline), clocks, randomness, scheduling, and the system tree (the
//! initrd read-only at `/`, a shared RAM file system at `/tmp`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;
use wasi_p1::fs::{Access, Handle, SetTime};
use wasi_p1::{
    Clock, Console, DirEntry, Errno, FileSystem, InitrdFs, Ino, MemFs, OutputStream, Random,
    Scheduler, Stat, WasiCtx,
};

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
    /// `isatty` is true); null stdio is not.
    fn is_terminal(&self, _fd: u32) -> bool {
        !self.null
    }
}

struct KernelClock;

impl Clock for KernelClock {
    fn monotonic_now(&self) -> u64 {
        timer::now_ns()
    }
    // No real-time clock is read yet: the epoch is boot.
    fn realtime_now(&self) -> u64 {
        timer::uptime_ns()
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

// ---- the system tree ----

/// Device numbers of the two trees (`filestat.dev` tells them apart).
const ROOT_DEV: u64 = 1;
const TMP_DEV: u64 = 2;

static ROOT: Once<Arc<dyn FileSystem>> = Once::new();
static TMP: Once<Arc<dyn FileSystem>> = Once::new();

/// The initrd as a read-only tree (empty without an initrd).
pub fn root_fs() -> Arc<dyn FileSystem> {
    ROOT.call_once(|| {
        let tree = crate::initrd::archive().map(|a| InitrdFs::from_archive(a, ROOT_DEV));
        match tree {
            Some(Ok(fs)) => Arc::new(fs),
            other => {
                if let Some(Err(e)) = other {
                    crate::warn!("initrd: not usable as the file tree: {e}");
                }
                let empty = MemFs::new(ROOT_DEV);
                empty.set_read_only(true);
                Arc::new(empty)
            }
        }
    })
    .clone()
}

/// `/tmp`: RAM, writable, shared by all processes.
pub fn tmp_fs() -> Arc<dyn FileSystem> {
    TMP.call_once(|| {
        Arc::new(
            MemFs::new(TMP_DEV)
                .with_clock(Arc::new(KernelClock))
                .with_capacity(64 << 20),
        )
    })
    .clone()
}

/// A directory of another tree, seen as the root of its own.
struct SubdirFs {
    inner: Arc<dyn FileSystem>,
    root: Ino,
}

impl FileSystem for SubdirFs {
    fn dev(&self) -> u64 {
        self.inner.dev()
    }
    fn root(&self) -> Ino {
        self.root
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.inner.lookup(dir, name)
    }
    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        self.inner.stat(ino)
    }
    fn set_times(&self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.inner.set_times(ino, atime, mtime)
    }
    fn readlink(&self, ino: Ino) -> Result<String, Errno> {
        self.inner.readlink(ino)
    }
    fn create_file(&self, dir: Ino, name: &str, access: Access) -> Result<(Ino, Handle), Errno> {
        self.inner.create_file(dir, name, access)
    }
    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.inner.create_dir(dir, name)
    }
    fn symlink(&self, dir: Ino, name: &str, target: &str) -> Result<Ino, Errno> {
        self.inner.symlink(dir, name, target)
    }
    fn link(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.link(ino, dir, name)
    }
    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.unlink(dir, name)
    }
    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.remove_dir(dir, name)
    }
    fn rename(&self, from_dir: Ino, from: &str, to_dir: Ino, to: &str) -> Result<(), Errno> {
        self.inner.rename(from_dir, from, to_dir, to)
    }
    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        self.inner.open(ino, access)
    }
    fn close(&self, handle: Handle) {
        self.inner.close(handle)
    }
    fn fstat(&self, handle: Handle) -> Result<Stat, Errno> {
        self.inner.fstat(handle)
    }
    fn fset_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.inner.fset_times(handle, atime, mtime)
    }
    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.inner.read(handle, offset, buf)
    }
    fn write(&self, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.inner.write(handle, offset, data)
    }
    fn set_len(&self, handle: Handle, len: u64) -> Result<(), Errno> {
        self.inner.set_len(handle, len)
    }
    fn sync(&self, handle: Handle, data_only: bool) -> Result<(), Errno> {
        self.inner.sync(handle, data_only)
    }
    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        self.inner.read_dir(handle, cookie, max_bytes, out)
    }
}

/// The directory at system path `path` (`/...` in the initrd, `/tmp/...` in RAM).
pub fn open_dir(path: &str) -> Result<Arc<dyn FileSystem>, String> {
    let (fs, rest) = if path == "/tmp" || path.starts_with("/tmp/") {
        (tmp_fs(), &path[4..])
    } else if path.starts_with('/') {
        (root_fs(), path)
    } else {
        return Err(format!("{path}: not an absolute path"));
    };
    let mut ino = fs.root();
    for comp in rest.split('/').filter(|c| !c.is_empty() && *c != ".") {
        ino = fs.lookup(ino, comp).map_err(|e| format!("{path}: {e:?}"))?;
    }
    let st = fs.stat(ino).map_err(|e| format!("{path}: {e:?}"))?;
    if st.kind != wasi_p1::FileKind::Directory {
        return Err(format!("{path}: not a directory"));
    }
    if ino == fs.root() {
        return Ok(fs);
    }
    Ok(Arc::new(SubdirFs {
        inner: fs,
        root: ino,
    }))
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
        b = b.preopen_dir(open_dir(path)?, name);
    }
    Ok(b.build())
}
