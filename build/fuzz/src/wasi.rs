//! The `wasi` target: random `wasi_snapshot_preview1` calls with hostile arguments (pointers
//! near and past the end of memory, huge lengths, bad fds, undefined flag bits, deep, long,
//! escaping and looping paths) on a [`WasiCtx`] over two in-memory trees: a read-only `/`
//! and a writable `/tmp` with a capacity. Every call must return an errno, `proc_exit`, or a
//! host error (wasmtime 51's answer to an argument outside its witx type or memory); after
//! each, no more handles are open than fds, and `/tmp` is a consistent tree. When the context
//! is dropped, every handle is closed and no node is left unreachable.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arbitrary::Unstructured;
use wasi_p1::fs::Access;
use wasi_p1::{
    Clock, Errno, FileData, FileKind, FileSystem, Function, GuestMemory, MemConsole, MemFs,
    ParamType, Random, Scheduler, Stop, WasiCtx, dispatch,
};

use crate::stats::Stats;

/// The guest's memory.
const MEM: usize = 0x1_0000;
const PATHS: u32 = 0x100;
const IOVS: u32 = 0x1000;
const SUBS: u32 = 0x1400;
const DATA: u32 = 0x2000;
/// `/tmp` holds at most this many bytes of file data.
const TMP_CAPACITY: u64 = 256 << 10;
/// Calls per input at most.
const MAX_CALLS: usize = 200;

/// Argument kinds per function, in parameter order: `f` fd, `p` path (pointer and length),
/// `i` iovec array (pointer and count), `b` buffer (pointer and length), `o` result pointer,
/// `s` subscriptions pointer, `x` flags or enum value, `w` 64-bit value, `n` small number.
fn shape(f: Function) -> &'static str {
    use Function::*;
    match f {
        args_get | args_sizes_get | environ_get | environ_sizes_get => "oo",
        clock_res_get => "xo",
        clock_time_get => "xwo",
        fd_advise | fd_filestat_set_times => "fwwx",
        fd_allocate | fd_fdstat_set_rights => "fww",
        fd_close | fd_datasync | fd_sync => "f",
        fd_fdstat_get | fd_filestat_get | fd_prestat_get | fd_tell => "fo",
        fd_fdstat_set_flags | sock_shutdown => "fx",
        fd_filestat_set_size => "fw",
        fd_pread | fd_pwrite => "fiwo",
        fd_prestat_dir_name => "fb",
        fd_read | fd_write => "fio",
        fd_readdir => "fbwo",
        fd_renumber => "ff",
        fd_seek => "fwxo",
        path_create_directory | path_remove_directory | path_unlink_file => "fp",
        path_filestat_get => "fxpo",
        path_filestat_set_times => "fxpwwx",
        path_link => "fxpfp",
        path_open => "fxpxwwxo",
        path_readlink => "fpbo",
        path_rename => "fpfp",
        path_symlink => "pfp",
        poll_oneoff => "sono",
        proc_exit | proc_raise => "n",
        sched_yield => "",
        random_get => "b",
        sock_accept => "fxo",
        sock_recv => "fixoo",
        sock_send => "fixo",
    }
}

/// The parameter types a shape stands for.
pub fn shape_params(shape: &str) -> Vec<ParamType> {
    shape
        .chars()
        .flat_map(|c| match c {
            'p' | 'i' | 'b' => vec![ParamType::I32, ParamType::I32],
            'w' => vec![ParamType::I64],
            _ => vec![ParamType::I32],
        })
        .collect()
}

/// A clock that moves only when the guest sleeps or yields.
#[derive(Clone, Default)]
struct FakeTime(Arc<AtomicU64>);

impl Clock for FakeTime {
    fn monotonic_now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn realtime_now(&self) -> u64 {
        1_700_000_000_000_000_000u64.saturating_add(self.monotonic_now())
    }
    fn monotonic_resolution(&self) -> u64 {
        1
    }
    fn realtime_resolution(&self) -> u64 {
        1000
    }
}

impl Scheduler for FakeTime {
    fn yield_now(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn sleep_until(&mut self, deadline_ns: u64, _wake_on_stdin: bool) {
        self.0.fetch_max(deadline_ns, Ordering::SeqCst);
    }
}

struct Bytes(u8);

impl Random for Bytes {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for b in buf {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

static MOTD: &[u8] = b"welcome to atoll\n";

struct World {
    ctx: WasiCtx,
    mem: Vec<u8>,
    root: Arc<MemFs>,
    tmp: Arc<MemFs>,
    /// Fds the calls returned (from `path_open`), to aim at.
    fds: Vec<u32>,
}

impl World {
    fn new() -> World {
        let root = Arc::new(MemFs::new(1));
        let _ = root.insert_file("etc/motd", FileData::Static(MOTD));
        let _ = root.insert_dir("bin");
        let _ = root.insert_symlink("etc/up", "../..");
        root.set_read_only(true);
        let time = FakeTime::default();
        let tmp = Arc::new(
            MemFs::new(2)
                .with_clock(Arc::new(time.clone()))
                .with_capacity(TMP_CAPACITY),
        );
        let _ = tmp.insert_file("a/b/file", FileData::Owned(b"contents".to_vec()));
        let _ = tmp.insert_symlink("link", "a/b");
        let _ = tmp.insert_symlink("loop", "loop");
        let _ = tmp.insert_symlink("escape", "../../etc");
        let _ = tmp.insert_symlink("abs", "/etc/motd");
        let ctx = WasiCtx::builder(
            Box::new(MemConsole::new(b"line one\nline two\n")),
            Box::new(time.clone()),
            Box::new(Bytes(1)),
            Box::new(time),
        )
        .args(["prog", "arg"])
        .env("HOME", "/tmp")
        .preopen_dir(root.clone(), "/")
        .preopen_dir(tmp.clone(), "/tmp")
        .build();
        World {
            ctx,
            mem: vec![0; MEM],
            root,
            tmp,
            fds: Vec::new(),
        }
    }
}

/// Runs the calls an input describes, checking the invariants after each.
pub fn run(input: &[u8], stats: &mut Stats) -> Result<(), String> {
    stats.cases += 1;
    let mut u = Unstructured::new(input);
    let mut w = World::new();
    let mut log = Vec::new();
    for _ in 0..MAX_CALLS {
        if u.is_empty() {
            break;
        }
        let func = *u
            .choose(Function::ALL)
            .map_err(|e| format!("choosing a function: {e}"))?;
        let args = arguments(&mut u, &mut w, func);
        log.push(format!("{}{args:x?}", func.name()));
        let fds_before = w.ctx.fd_count();
        let r = {
            let mut mem = GuestMemory::new(&mut w.mem);
            dispatch(&mut w.ctx, &mut mem, func, &args)
        };
        stats.execs += 1;
        match r {
            Ok(Errno::Success) => {
                stats.event(format!("{}: success", func.name()));
                if func == Function::path_open {
                    // The new fd, if the result pointer was in memory.
                    if let Some(fd) = read_u32(&w.mem, args[8] as u32) {
                        w.fds.push(fd);
                    }
                }
            }
            Ok(e) => stats.event(format!("errno {e:?}")),
            Err(Stop::Exit(_)) => stats.event("proc_exit"),
            Err(Stop::HostError(m)) => stats.event(format!("host error: {m}")),
        }
        check(&w, fds_before, func).map_err(|e| format!("{e}\ncalls:\n  {}", log.join("\n  ")))?;
    }
    let (root, tmp) = (w.root.clone(), w.tmp.clone());
    drop(w);
    for (name, fs) in [("/", &root), ("/tmp", &tmp)] {
        if fs.open_handles() != 0 {
            return Err(format!(
                "{name}: {} handles still open after the context was dropped\ncalls:\n  {}",
                fs.open_handles(),
                log.join("\n  ")
            ));
        }
    }
    let reachable = walk(&*tmp)?;
    if reachable != tmp.node_count() {
        return Err(format!(
            "/tmp: {} nodes alive but {reachable} reachable with no handle open\ncalls:\n  {}",
            tmp.node_count(),
            log.join("\n  ")
        ));
    }
    Ok(())
}

/// The invariants after a call.
fn check(w: &World, fds_before: usize, func: Function) -> Result<(), String> {
    let fds = w.ctx.fd_count();
    if fds > wasi_p1::MAX_FDS {
        return Err(format!("{fds} fds open, over the limit"));
    }
    // Only path_open makes fds; only fd_close and fd_renumber end them.
    let may_grow = func == Function::path_open;
    let may_shrink = matches!(func, Function::fd_close | Function::fd_renumber);
    if (fds > fds_before && !may_grow) || (fds < fds_before && !may_shrink) || fds > fds_before + 1
    {
        return Err(format!(
            "{}: the fd count went from {fds_before} to {fds}",
            func.name()
        ));
    }
    let handles = w.root.open_handles() + w.tmp.open_handles();
    if handles > fds {
        return Err(format!(
            "{handles} handles open for {fds} fds: a handle leaked"
        ));
    }
    if w.tmp.used_bytes() > TMP_CAPACITY {
        return Err(format!(
            "/tmp holds {} bytes, over its capacity",
            w.tmp.used_bytes()
        ));
    }
    let reachable = walk(&*w.tmp)?;
    let nodes = w.tmp.node_count();
    // Nodes beyond the reachable ones are unlinked but open: at most one per handle.
    if nodes < reachable || nodes - reachable > w.tmp.open_handles() {
        return Err(format!(
            "/tmp: {nodes} nodes alive, {reachable} reachable, {} handles open",
            w.tmp.open_handles()
        ));
    }
    Ok(())
}

/// Walks a tree from its root: every entry must look up to its inode and stat as its kind.
/// Returns the number of distinct inodes reached (the root included).
fn walk(fs: &dyn FileSystem) -> Result<usize, String> {
    let mut seen = BTreeSet::new();
    let mut dirs = vec![fs.root()];
    seen.insert(fs.root());
    while let Some(dir) = dirs.pop() {
        let handle = fs
            .open(
                dir,
                Access {
                    read: true,
                    write: false,
                },
            )
            .map_err(|e| format!("cannot open directory {dir}: {e:?}"))?;
        let mut entries = Vec::new();
        let mut cookie = 0;
        loop {
            let start = entries.len();
            let end = fs
                .read_dir(handle, cookie, 4096, &mut entries)
                .map_err(|e| format!("cannot list directory {dir}: {e:?}"))?;
            if end || entries.len() == start {
                break;
            }
            cookie = entries.last().map_or(0, |e| e.next);
        }
        fs.close(handle);
        for e in entries {
            let ino = fs
                .lookup(dir, &e.name)
                .map_err(|err| format!("entry {:?} of {dir} does not look up: {err:?}", e.name))?;
            if ino != e.ino {
                return Err(format!(
                    "entry {:?} of {dir}: listed as {}, looks up as {ino}",
                    e.name, e.ino
                ));
            }
            let st = fs
                .stat(ino)
                .map_err(|err| format!("entry {:?} does not stat: {err:?}", e.name))?;
            if st.kind == FileKind::Directory && !seen.insert(ino) {
                return Err(format!("directory {ino} is reachable twice (a cycle)"));
            }
            if st.kind == FileKind::Directory {
                dirs.push(ino);
            } else {
                seen.insert(ino);
            }
            if seen.len() > 100_000 {
                return Err("the tree has over 100000 nodes".into());
            }
        }
    }
    Ok(seen.len())
}

fn read_u32(mem: &[u8], at: u32) -> Option<u32> {
    let at = at as usize;
    mem.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Arguments for `func`, several kinds hostile.
fn arguments(u: &mut Unstructured<'_>, w: &mut World, func: Function) -> Vec<u64> {
    let mut args = Vec::new();
    for c in shape(func).chars() {
        match c {
            'f' => args.push(u64::from(fd(u, w))),
            'p' => {
                let (ptr, len) = path(u, &mut w.mem);
                args.push(u64::from(ptr));
                args.push(u64::from(len));
            }
            'i' => {
                let (ptr, n) = iovecs(u, &mut w.mem);
                args.push(u64::from(ptr));
                args.push(u64::from(n));
            }
            'b' => {
                let (ptr, len) = buffer(u);
                args.push(u64::from(ptr));
                args.push(u64::from(len));
            }
            'o' => args.push(u64::from(out_ptr(u))),
            's' => args.push(u64::from(subscriptions(u, &mut w.mem))),
            'x' => args.push(u64::from(flags(u))),
            'w' => args.push(wide(u)),
            _ => args.push(u64::from(small(u))),
        }
    }
    args
}

fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn word(u: &mut Unstructured<'_>) -> u32 {
    u.arbitrary().unwrap_or(0)
}

fn fd(u: &mut Unstructured<'_>, w: &World) -> u32 {
    match byte(u) % 8 {
        0..=2 => u32::from(byte(u) % 8),
        3 | 4 => w
            .fds
            .get(usize::from(byte(u)) % w.fds.len().max(1))
            .copied()
            .unwrap_or(5),
        5 => *[u32::MAX, 1024, 1023, 0x8000_0000]
            .get(usize::from(byte(u) % 4))
            .unwrap_or(&0),
        _ => u32::from(byte(u) % 16),
    }
}

fn out_ptr(u: &mut Unstructured<'_>) -> u32 {
    let m = MEM as u32;
    match byte(u) % 8 {
        0 => m - 4,
        1 => m - 1,
        2 => m,
        3 => u32::MAX - 3,
        4 => word(u),
        5 => (0x8000 + (word(u) % 0x7ff0)) | 1,
        _ => 0x8000 + ((word(u) % 0x7ff0) & !7),
    }
}

fn buffer(u: &mut Unstructured<'_>) -> (u32, u32) {
    let m = MEM as u32;
    let ptr = match byte(u) % 6 {
        0 => m - 16,
        1 => m,
        2 => word(u),
        _ => DATA + word(u) % 0x4000,
    };
    let len = match byte(u) % 6 {
        0 => 0,
        1 => u32::MAX,
        2 => 0x8000_0000,
        3 => m,
        _ => word(u) % 512,
    };
    (ptr, len)
}

fn small(u: &mut Unstructured<'_>) -> u32 {
    match byte(u) % 4 {
        0 => word(u),
        _ => u32::from(byte(u) % 40),
    }
}

fn flags(u: &mut Unstructured<'_>) -> u32 {
    match byte(u) % 4 {
        0 => word(u),
        1 => 0,
        _ => u32::from(byte(u) % 32),
    }
}

fn wide(u: &mut Unstructured<'_>) -> u64 {
    match byte(u) % 6 {
        0 => u64::MAX,
        1 => i64::MAX as u64,
        2 => u64::from(word(u)),
        3 => u64::from(byte(u)),
        4 => 1 << 40,
        _ => u.arbitrary().unwrap_or(0),
    }
}

const COMPONENTS: [&[u8]; 16] = [
    b"a",
    b"b",
    b"..",
    b".",
    b"",
    b"etc",
    b"motd",
    b"tmp",
    b"link",
    b"loop",
    b"escape",
    b"abs",
    b"file",
    b"new",
    b"\xff\xfe",
    b"nul\0",
];

/// A hostile path written into memory; its pointer and length (sometimes wrong).
fn path(u: &mut Unstructured<'_>, mem: &mut [u8]) -> (u32, u32) {
    let mut p = Vec::new();
    if byte(u).is_multiple_of(8) {
        p.push(b'/');
    }
    match byte(u) % 10 {
        0 => p.extend(std::iter::repeat_n(b'x', 200 + usize::from(byte(u)))),
        1 => {
            for _ in 0..150 {
                p.extend_from_slice(b"d/");
            }
        }
        _ => {
            for i in 0..1 + byte(u) % 5 {
                if i > 0 {
                    p.push(b'/');
                }
                p.extend_from_slice(COMPONENTS[usize::from(byte(u)) % COMPONENTS.len()]);
            }
        }
    }
    let at = PATHS + u32::from(byte(u)) * 8;
    let room = (IOVS - at) as usize;
    p.truncate(room);
    mem[at as usize..at as usize + p.len()].copy_from_slice(&p);
    let len = p.len() as u32;
    match byte(u) % 16 {
        0 => (MEM as u32 - 2, len),
        1 => (at, u32::MAX),
        2 => (at, len + 1),
        3 => (u32::MAX, len),
        _ => (at, len),
    }
}

/// An iovec array at [`IOVS`] (buffers in the data area, some hostile); pointer and count.
fn iovecs(u: &mut Unstructured<'_>, mem: &mut [u8]) -> (u32, u32) {
    let n = u32::from(byte(u) % 5);
    for i in 0..n {
        let (ptr, len) = buffer(u);
        let at = (IOVS + i * 8) as usize;
        mem[at..at + 4].copy_from_slice(&ptr.to_le_bytes());
        mem[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
    }
    match byte(u) % 10 {
        0 => (IOVS, u32::MAX),
        1 => (MEM as u32 - 4, 1),
        2 => (IOVS + 1, n),
        _ => (IOVS, n),
    }
}

/// Subscription records (48 bytes each) at [`SUBS`], fields random or plausible.
fn subscriptions(u: &mut Unstructured<'_>, mem: &mut [u8]) -> u32 {
    for i in 0..4usize {
        let at = SUBS as usize + i * 48;
        let rec = &mut mem[at..at + 48];
        rec[..8].copy_from_slice(&(i as u64).to_le_bytes());
        rec[8] = byte(u) % 4; // event type (3 is invalid)
        let clock_or_fd = u32::from(byte(u) % 6);
        rec[16..20].copy_from_slice(&clock_or_fd.to_le_bytes());
        rec[24..32].copy_from_slice(&wide(u).to_le_bytes());
        rec[40..42].copy_from_slice(&u16::from(byte(u) % 3).to_le_bytes());
    }
    match byte(u) % 8 {
        0 => MEM as u32 - 24,
        1 => SUBS + 4,
        _ => SUBS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_functions_shape_matches_its_parameters() {
        for f in Function::ALL {
            assert_eq!(shape_params(shape(*f)), f.params(), "{}", f.name());
        }
    }

    #[test]
    fn a_fixed_input_runs_without_a_finding() {
        let input: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut stats = Stats::default();
        run(&input, &mut stats).unwrap();
        assert!(stats.execs > 10);
    }
}
