//! Tests of the functions on plain byte memory, without an engine.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::abi::{clockid, eventtype, fdflags, filetype, oflags, rights, whence};
use crate::*;

const MEM: usize = 0x1_0000;
const PATH: u32 = 0x100;
const OUT: u32 = 0x800;
const IOV: u32 = 0x400;
const BUF: u32 = 0x1000;

/// A clock that only moves when the scheduler sleeps.
#[derive(Clone, Default)]
struct FakeClock(Arc<AtomicU64>);

impl Clock for FakeClock {
    fn monotonic_now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn realtime_now(&self) -> u64 {
        1_700_000_000_000_000_000 + self.monotonic_now()
    }
    fn monotonic_resolution(&self) -> u64 {
        1000
    }
    fn realtime_resolution(&self) -> u64 {
        1_000_000
    }
}

impl Scheduler for FakeClock {
    fn yield_now(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn sleep_until(&mut self, deadline_ns: u64, _wake_on_stdin: bool) {
        self.0.fetch_max(deadline_ns, Ordering::SeqCst);
    }
}

struct Counter(u8);

impl Random for Counter {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

struct T {
    ctx: WasiCtx,
    mem: Vec<u8>,
    console: Arc<Mutex<MemConsole>>,
    clock: FakeClock,
    /// The tree at `/` when it is a [`MemFs`].
    root: Option<Arc<MemFs>>,
    tmp: Arc<MemFs>,
}

static MOTD: &[u8] = b"welcome to atoll\n";

impl T {
    fn new() -> T {
        Self::with_stdin(b"")
    }

    fn with_stdin(stdin: &[u8]) -> T {
        let root = Arc::new(MemFs::new(1));
        root.insert_file("etc/motd", FileData::Static(MOTD))
            .unwrap();
        root.insert_dir("bin").unwrap();
        root.set_read_only(true);
        let mut t = Self::with_root(stdin, root.clone());
        t.root = Some(root);
        t
    }

    /// `root` preopened at `/` (fd 3), a fresh [`MemFs`] at `/tmp` (fd 4).
    fn with_root(stdin: &[u8], root: Arc<dyn FileSystem>) -> T {
        let console = Arc::new(Mutex::new(MemConsole::new(stdin)));
        let clock = FakeClock::default();
        let tmp = Arc::new(MemFs::new(2));
        let ctx = WasiCtx::builder(
            Box::new(console.clone()),
            Box::new(clock.clone()),
            Box::new(Counter(0)),
            Box::new(clock.clone()),
        )
        .args(["prog", "a b", ""])
        .env("HOME", "/tmp")
        .preopen_dir(root, "/")
        .preopen_dir(tmp.clone(), "/tmp")
        .build();
        T {
            ctx,
            mem: vec![0; MEM],
            console,
            clock,
            root: None,
            tmp,
        }
    }

    fn call(&mut self, name: &str, args: &[u64]) -> Errno {
        let f = Function::from_name(name).unwrap();
        let mut mem = GuestMemory::new(&mut self.mem);
        dispatch(&mut self.ctx, &mut mem, f, args).unwrap()
    }

    /// Calls `name`, expecting a host error (wasmtime's answer to invalid flag and enum
    /// values and to pointers outside memory).
    fn host_error(&mut self, name: &str, args: &[u64]) -> &'static str {
        let f = Function::from_name(name).unwrap();
        let mut mem = GuestMemory::new(&mut self.mem);
        match dispatch(&mut self.ctx, &mut mem, f, args) {
            Err(Stop::HostError(m)) => m,
            other => panic!("{name}{args:?}: no host error but {other:?}"),
        }
    }

    fn put(&mut self, at: u32, bytes: &[u8]) -> u64 {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        bytes.len() as u64
    }

    fn u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.mem[at as usize..at as usize + 4].try_into().unwrap())
    }

    fn u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.mem[at as usize..at as usize + 8].try_into().unwrap())
    }

    fn bytes(&self, at: u32, len: usize) -> &[u8] {
        &self.mem[at as usize..at as usize + len]
    }

    /// path_open relative to `dir`; returns the new fd or the errno.
    fn open(
        &mut self,
        dir: u32,
        path: &str,
        oflags: u16,
        base: u64,
        fdflags: u16,
    ) -> Result<u32, Errno> {
        let len = self.put(PATH, path.as_bytes());
        let e = self.call(
            "path_open",
            &[
                dir.into(),
                0,
                PATH.into(),
                len,
                oflags.into(),
                base,
                rights::ALL,
                fdflags.into(),
                OUT.into(),
            ],
        );
        if e == Errno::Success {
            Ok(self.u32(OUT))
        } else {
            Err(e)
        }
    }

    fn path_call(&mut self, name: &str, dir: u32, path: &str) -> Errno {
        let len = self.put(PATH, path.as_bytes());
        self.call(name, &[dir.into(), PATH.into(), len])
    }

    /// fd_write of one buffer; returns bytes written or the errno.
    fn write(&mut self, fd: u32, data: &[u8]) -> Result<u32, Errno> {
        let len = self.put(BUF, data);
        self.put(
            IOV,
            &[BUF.to_le_bytes(), (len as u32).to_le_bytes()].concat(),
        );
        let e = self.call("fd_write", &[fd.into(), IOV.into(), 1, OUT.into()]);
        if e == Errno::Success {
            Ok(self.u32(OUT))
        } else {
            Err(e)
        }
    }

    fn read(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, Errno> {
        self.put(IOV, &[BUF.to_le_bytes(), len.to_le_bytes()].concat());
        let e = self.call("fd_read", &[fd.into(), IOV.into(), 1, OUT.into()]);
        if e == Errno::Success {
            Ok(self.bytes(BUF, self.u32(OUT) as usize).to_vec())
        } else {
            Err(e)
        }
    }
}

const BAD: u64 = MEM as u64 - 2;

/// The host error for a pointer outside memory.
const OOB: &str = "pointer out of bounds";

#[test]
fn args_and_environ() {
    let mut t = T::new();
    assert_eq!(t.call("args_sizes_get", &[0, 4]), Errno::Success);
    assert_eq!((t.u32(0), t.u32(4)), (3, 5 + 4 + 1));
    assert_eq!(t.call("args_get", &[0x10, 0x40]), Errno::Success);
    assert_eq!([t.u32(0x10), t.u32(0x14), t.u32(0x18)], [0x40, 0x45, 0x49]);
    assert_eq!(t.bytes(0x40, 10), b"prog\0a b\0\0");
    assert_eq!(t.call("environ_sizes_get", &[0, 4]), Errno::Success);
    assert_eq!((t.u32(0), t.u32(4)), (1, 10));
    assert_eq!(t.call("environ_get", &[0x10, 0x40]), Errno::Success);
    assert_eq!(t.bytes(0x40, 10), b"HOME=/tmp\0");
    // Bad pointers anywhere are EFAULT.
    assert_eq!(t.host_error("args_sizes_get", &[BAD, 4]), OOB);
    assert_eq!(t.host_error("args_sizes_get", &[0, BAD]), OOB);
    assert_eq!(t.host_error("args_get", &[BAD, 0x40]), OOB);
    assert_eq!(t.host_error("args_get", &[0x10, BAD]), OOB);
    assert_eq!(t.host_error("environ_get", &[0x10, u32::MAX.into()]), OOB);
    assert_eq!(t.host_error("environ_sizes_get", &[BAD, 0]), OOB);
}

#[test]
fn console_streams() {
    let mut t = T::with_stdin(b"line one\nrest");
    assert_eq!(t.write(1, b"out"), Ok(3));
    assert_eq!(t.write(2, b"err"), Ok(3));
    // Two iovecs in one call.
    t.put(BUF, b"abcdef");
    t.put(
        IOV,
        &[
            BUF.to_le_bytes(),
            2u32.to_le_bytes(),
            (BUF + 4).to_le_bytes(),
            2u32.to_le_bytes(),
        ]
        .concat(),
    );
    assert_eq!(
        t.call("fd_write", &[1, IOV.into(), 2, OUT.into()]),
        Errno::Success
    );
    // wasmtime writes the first non-empty buffer only; the guest loops for the rest.
    assert_eq!(t.u32(OUT), 2);
    assert_eq!(t.console.lock().stdout, b"outab");
    assert_eq!(t.console.lock().stderr, b"err");
    assert_eq!(t.read(0, 5), Ok(b"line ".to_vec()));
    assert_eq!(t.read(0, 100), Ok(b"one\nrest".to_vec()));
    assert_eq!(t.read(0, 100), Ok(Vec::new()));
    // Wrong direction, bad fds, bad buffers.
    assert_eq!(t.write(0, b"x"), Err(Errno::Badf));
    assert_eq!(t.read(1, 1), Err(Errno::Badf));
    assert_eq!(t.write(99, b"x"), Err(Errno::Badf));
    assert_eq!(t.read(u32::MAX, 1), Err(Errno::Badf));
    t.put(
        IOV,
        &[(MEM as u32 - 1).to_le_bytes(), 2u32.to_le_bytes()].concat(),
    );
    assert_eq!(
        t.host_error("fd_write", &[1, IOV.into(), 1, OUT.into()]),
        OOB
    );
    assert_eq!(t.host_error("fd_write", &[1, BAD, 1, OUT.into()]), OOB);
    assert_eq!(t.host_error("fd_write", &[1, IOV.into(), 0, BAD]), OOB);
    // At the end of stdin a read gets nothing, so its buffer outside memory is never touched.
    assert_eq!(
        t.call("fd_read", &[0, IOV.into(), 1, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u32(OUT), 0);
    assert_eq!(t.console.lock().stdout, b"outab");
    // fdstat of the streams: captured output is no terminal (wasmtime: FILETYPE_UNKNOWN).
    assert_eq!(t.call("fd_fdstat_get", &[1, OUT.into()]), Errno::Success);
    assert_eq!(t.mem[OUT as usize], filetype::UNKNOWN);
    t.console.lock().terminal = [true; 3];
    assert_eq!(t.call("fd_fdstat_get", &[1, OUT.into()]), Errno::Success);
    assert_eq!(t.mem[OUT as usize], filetype::CHARACTER_DEVICE);
    assert_eq!(t.u64(OUT + 8) & rights::FD_WRITE, rights::FD_WRITE);
    assert_eq!(t.host_error("fd_fdstat_get", &[1, BAD]), OOB);
    assert_eq!(t.call("fd_fdstat_get", &[7, OUT.into()]), Errno::Badf);
    assert_eq!(
        t.call("fd_seek", &[1, 0, whence::CUR.into(), OUT.into()]),
        Errno::Spipe
    );
    assert_eq!(t.call("fd_tell", &[1, OUT.into()]), Errno::Spipe);
    assert_eq!(t.call("fd_filestat_get", &[1, OUT.into()]), Errno::Success);
    assert_eq!(t.mem[OUT as usize + 16], filetype::CHARACTER_DEVICE);
}

#[test]
fn preopens() {
    let mut t = T::new();
    assert_eq!(t.call("fd_prestat_get", &[3, OUT.into()]), Errno::Success);
    assert_eq!((t.mem[OUT as usize], t.u32(OUT + 4)), (0, 1));
    assert_eq!(
        t.call("fd_prestat_dir_name", &[3, BUF.into(), 1]),
        Errno::Success
    );
    assert_eq!(t.bytes(BUF, 1), b"/");
    assert_eq!(t.call("fd_prestat_get", &[4, OUT.into()]), Errno::Success);
    assert_eq!(t.u32(OUT + 4), 4);
    assert_eq!(
        t.call("fd_prestat_dir_name", &[4, BUF.into(), 4]),
        Errno::Success
    );
    assert_eq!(t.bytes(BUF, 4), b"/tmp");
    assert_eq!(
        t.call("fd_prestat_dir_name", &[4, BUF.into(), 3]),
        Errno::Nametoolong
    );
    assert_eq!(t.host_error("fd_prestat_dir_name", &[4, BAD, 4]), OOB);
    assert_eq!(t.host_error("fd_prestat_get", &[3, BAD]), OOB);
    // The end of the preopen list, and non-preopened fds.
    assert_eq!(t.call("fd_prestat_get", &[5, OUT.into()]), Errno::Badf);
    assert_eq!(t.call("fd_prestat_get", &[1, OUT.into()]), Errno::Badf);
    // Preopens report wasmtime's hard-coded rights (recorded from wasmtime 51).
    assert_eq!(t.call("fd_fdstat_get", &[3, OUT.into()]), Errno::Success);
    assert_eq!(t.mem[OUT as usize], filetype::DIRECTORY);
    assert_eq!((t.u64(OUT + 8), t.u64(OUT + 16)), (0x7b7fe00, 0xff7ffff));
}

#[test]
fn read_only_tree() {
    let mut t = T::new();
    let fd = t
        .open(3, "etc/motd", 0, rights::ALL & !rights::FD_WRITE, 0)
        .unwrap();
    assert_eq!(fd, 5);
    assert_eq!(t.read(fd, 7), Ok(b"welcome".to_vec()));
    assert_eq!(t.call("fd_tell", &[fd.into(), OUT.into()]), Errno::Success);
    assert_eq!(t.u64(OUT), 7);
    assert_eq!(
        t.call(
            "fd_seek",
            &[fd.into(), (-3i64) as u64, whence::END.into(), OUT.into()]
        ),
        Errno::Success
    );
    assert_eq!(t.u64(OUT), MOTD.len() as u64 - 3);
    assert_eq!(t.read(fd, 100), Ok(b"ll\n".to_vec()));
    assert_eq!(
        t.call(
            "fd_seek",
            &[fd.into(), (-1i64) as u64, whence::SET.into(), OUT.into()]
        ),
        Errno::Inval
    );
    assert_eq!(
        t.host_error("fd_seek", &[fd.into(), 0, 3, OUT.into()]),
        "invalid enum value whence"
    );
    // The result pointer is written after the seek (which a host error does not undo).
    assert_eq!(
        t.host_error("fd_seek", &[fd.into(), 0, whence::CUR.into(), BAD]),
        OOB
    );
    assert_eq!(
        t.host_error(
            "fd_seek",
            &[fd.into(), 0, whence::CUR.into(), u64::from(OUT) + 4]
        ),
        "pointer not aligned"
    );
    // pread does not move the position.
    t.put(IOV, &[BUF.to_le_bytes(), 4u32.to_le_bytes()].concat());
    assert_eq!(
        t.call("fd_pread", &[fd.into(), IOV.into(), 1, 11, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.bytes(BUF, t.u32(OUT) as usize), b"atol");
    assert_eq!(t.read(fd, 100), Ok(Vec::new()));
    // No write rights were handed out.
    assert_eq!(t.write(fd, b"x"), Err(Errno::Badf));
    assert_eq!(
        t.call("fd_filestat_get", &[fd.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.mem[OUT as usize + 16], filetype::REGULAR_FILE);
    assert_eq!(t.u64(OUT + 32), MOTD.len() as u64);
    assert_eq!(t.u64(OUT), 1);
    assert_eq!(t.call("fd_close", &[fd.into()]), Errno::Success);
    assert_eq!(t.call("fd_close", &[fd.into()]), Errno::Badf);
    // A read-only tree is a read-only preopen of wasmtime's: writing, creating, truncating
    // and removing are EPERM, before the path is looked at.
    assert_eq!(t.open(3, "etc/motd", 0, rights::ALL, 0), Err(Errno::Perm));
    assert_eq!(t.open(3, "etc/new", oflags::CREAT, 0, 0), Err(Errno::Perm));
    assert_eq!(
        t.open(3, "nope/new", oflags::TRUNC, rights::FD_READ, 0),
        Err(Errno::Perm)
    );
    assert_eq!(t.path_call("path_create_directory", 3, "d"), Errno::Perm);
    assert_eq!(t.path_call("path_create_directory", 3, "etc"), Errno::Perm);
    assert_eq!(t.path_call("path_unlink_file", 3, "etc/motd"), Errno::Perm);
    assert_eq!(t.path_call("path_remove_directory", 3, "nope"), Errno::Perm);
    // Lookups.
    assert_eq!(t.open(3, "etc/nope", 0, 0, 0), Err(Errno::Noent));
    assert_eq!(t.open(3, "etc/motd/x", 0, 0, 0), Err(Errno::Notdir));
    assert_eq!(
        t.open(3, "etc/motd", oflags::DIRECTORY, 0, 0),
        Err(Errno::Notdir)
    );
    assert_eq!(t.open(3, "etc/motd/", 0, 0, 0), Err(Errno::Notdir));
    assert_eq!(t.open(3, "", 0, 0, 0), Err(Errno::Noent));
    // Escapes are EPERM, as cap-std's under wasmtime.
    assert_eq!(t.open(3, "../etc", 0, 0, 0), Err(Errno::Perm));
    assert_eq!(t.open(3, "etc/../..", 0, 0, 0), Err(Errno::Perm));
    assert_eq!(t.open(3, "/etc/motd", 0, 0, 0), Err(Errno::Perm));
    // wasmtime: a stream as the directory fd is EBADF (a file fd ENOTDIR).
    assert_eq!(t.open(1, "etc/motd", 0, 0, 0), Err(Errno::Badf));
    assert_eq!(t.open(9, "etc/motd", 0, 0, 0), Err(Errno::Badf));
    assert!(
        t.open(3, "bin/../etc/./motd", 0, rights::FD_READ, 0)
            .is_ok()
    );
    let len = t.put(PATH, b"etc/motd");
    let open = |path: u64, len: u64, out: u64| [3, 0, path, len, 0, rights::FD_READ, 0, 0, out];
    // The path is read first; the new fd is written last.
    assert_eq!(t.host_error("path_open", &open(PATH.into(), len, BAD)), OOB);
    assert_eq!(t.host_error("path_open", &open(BAD, len, OUT.into())), OOB);
    assert_eq!(
        t.host_error("path_open", &[9, 0, 0xFFFF_FF00, 0, 0, 0, 0, 0, 0]),
        OOB
    );
    // A path longer than one call may take from the guest.
    assert_eq!(
        t.call("path_open", &open(PATH.into(), u32::MAX.into(), OUT.into())),
        Errno::Nomem
    );
    t.put(PATH, &[0xff, 0xfe]);
    assert_eq!(
        t.call("path_open", &open(PATH.into(), 2, OUT.into())),
        Errno::Ilseq
    );
    // path_filestat_get.
    let len = t.put(PATH, b"etc");
    assert_eq!(
        t.call("path_filestat_get", &[3, 0, PATH.into(), len, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.mem[OUT as usize + 16], filetype::DIRECTORY);
    assert_eq!(t.u64(OUT), 1);
    assert_eq!(
        t.host_error("path_filestat_get", &[3, 0, PATH.into(), len, BAD]),
        OOB
    );
    assert_eq!(
        t.host_error("path_filestat_get", &[3, 0, BAD, len, OUT.into()]),
        OOB
    );
    assert_eq!(
        t.call(
            "path_readlink",
            &[3, PATH.into(), len, BUF.into(), 16, OUT.into()]
        ),
        Errno::Inval
    );
}

/// Parses an `fd_readdir` buffer into (next cookie, name, type).
fn dirents(buf: &[u8]) -> Vec<(u64, String, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let len = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let ty = buf[at + 20];
        let name = buf
            .get(at + 24..at + 24 + len)
            .map(|n| String::from_utf8(n.to_vec()).unwrap());
        out.push((next, name.unwrap_or_default(), ty));
        at += 24 + len;
    }
    out
}

#[test]
fn tmp_fs() {
    let mut t = T::new();
    assert_eq!(t.path_call("path_create_directory", 4, "d"), Errno::Success);
    assert_eq!(t.path_call("path_create_directory", 4, "d"), Errno::Exist);
    assert_eq!(
        t.path_call("path_create_directory", 4, "nope/d"),
        Errno::Noent
    );
    let fd = t
        .open(4, "d/f.txt", oflags::CREAT | oflags::EXCL, rights::ALL, 0)
        .unwrap();
    assert_eq!(
        t.open(4, "d/f.txt", oflags::CREAT | oflags::EXCL, rights::ALL, 0),
        Err(Errno::Exist)
    );
    assert_eq!(t.write(fd, b"hello world"), Ok(11));
    assert_eq!(t.tmp.file_contents("d/f.txt").unwrap(), b"hello world");
    assert_eq!(
        t.call("fd_seek", &[fd.into(), 6, whence::SET.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.write(fd, b"atoll"), Ok(5));
    assert_eq!(
        t.call("fd_seek", &[fd.into(), 0, whence::SET.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.read(fd, 64), Ok(b"hello atoll".to_vec()));
    assert_eq!(
        t.call("fd_filestat_set_size", &[fd.into(), 5]),
        Errno::Success
    );
    assert_eq!(t.tmp.file_contents("d/f.txt").unwrap(), b"hello");
    t.put(IOV, &[BUF.to_le_bytes(), 2u32.to_le_bytes()].concat());
    t.put(BUF, b"!!");
    assert_eq!(
        t.call("fd_pwrite", &[fd.into(), IOV.into(), 1, 7, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.tmp.file_contents("d/f.txt").unwrap(), b"hello\0\0!!");
    t.call("fd_close", &[fd.into()]);

    // Append mode, then truncation.
    let fd = t
        .open(4, "d/f.txt", 0, rights::ALL, fdflags::APPEND)
        .unwrap();
    assert_eq!(t.write(fd, b"+"), Ok(1));
    assert_eq!(t.tmp.file_contents("d/f.txt").unwrap(), b"hello\0\0!!+");
    assert_eq!(
        t.call("fd_fdstat_get", &[fd.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(
        u16::from_le_bytes([t.mem[OUT as usize + 2], t.mem[OUT as usize + 3]]),
        fdflags::APPEND
    );
    assert_eq!(
        t.call("fd_fdstat_set_flags", &[fd.into(), 0]),
        Errno::Success
    );
    // wasmtime: undefined flag bits trap; rights cannot be changed at all (ENOTSUP).
    assert_eq!(
        t.host_error("fd_fdstat_set_flags", &[fd.into(), 0x100]),
        "invalid flag value"
    );
    assert_eq!(
        t.call("fd_fdstat_set_rights", &[fd.into(), rights::FD_READ, 0]),
        Errno::Notsup
    );
    assert_eq!(t.write(fd, b"x"), Ok(1));
    t.call("fd_close", &[fd.into()]);
    let fd = t.open(4, "d/f.txt", oflags::TRUNC, rights::ALL, 0).unwrap();
    assert_eq!(t.tmp.file_contents("d/f.txt").unwrap(), b"");
    t.call("fd_close", &[fd.into()]);
    assert_eq!(t.open(4, "d", 0, rights::FD_WRITE, 0), Err(Errno::Isdir));

    // Directory listing, including a buffer too small for everything.
    t.open(4, "d/g", oflags::CREAT, 0, 0).unwrap();
    let dir = t
        .open(4, "d", oflags::DIRECTORY, rights::DIRECTORY, 0)
        .unwrap();
    assert_eq!(
        t.call("fd_readdir", &[dir.into(), BUF.into(), 256, 0, OUT.into()]),
        Errno::Success
    );
    let used = t.u32(OUT) as usize;
    let names: Vec<_> = dirents(t.bytes(BUF, used))
        .into_iter()
        .map(|(_, n, _)| n)
        .collect();
    // Newest first, as tmpfs lists (wasmtime passes the host's order through).
    assert_eq!(names, [".", "..", "g", "f.txt"]);
    assert_eq!(
        t.call("fd_readdir", &[dir.into(), BUF.into(), 30, 2, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u32(OUT), 30);
    let e = dirents(t.bytes(BUF, 30));
    assert_eq!(
        (e[0].0, e[0].1.as_str(), e[0].2),
        (3, "g", filetype::REGULAR_FILE)
    );
    assert_eq!(
        t.call("fd_readdir", &[dir.into(), BUF.into(), 256, 4, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u32(OUT), 0);
    assert_eq!(
        t.host_error("fd_readdir", &[dir.into(), BAD, 256, 0, OUT.into()]),
        OOB
    );
    assert_eq!(
        t.call("fd_readdir", &[1, BUF.into(), 256, 0, OUT.into()]),
        Errno::Badf
    );
    // Paths are relative to an opened subdirectory and may not leave it (as in wasmtime).
    assert!(t.open(dir, "./g", 0, rights::FD_READ, 0).is_ok());
    assert_eq!(
        t.open(dir, "../d/g", 0, rights::FD_READ, 0),
        Err(Errno::Perm)
    );

    // Rename, unlink, rmdir.
    let (old, new) = (b"d/g", b"h");
    t.put(PATH, old);
    t.put(PATH + 0x80, new);
    assert_eq!(
        t.call(
            "path_rename",
            &[4, PATH.into(), 3, 4, (PATH + 0x80).into(), 1]
        ),
        Errno::Success
    );
    assert!(t.tmp.file_contents("h").is_some());
    // Into the read-only root: EPERM before either path is looked at.
    assert_eq!(
        t.call(
            "path_rename",
            &[4, PATH.into(), 3, 3, (PATH + 0x80).into(), 1]
        ),
        Errno::Perm
    );
    assert_eq!(
        t.call(
            "path_rename",
            &[4, (PATH + 0x80).into(), 1, 3, (PATH + 0x80).into(), 1]
        ),
        Errno::Perm
    );
    assert_eq!(
        t.path_call("path_remove_directory", 4, "d"),
        Errno::Notempty
    );
    assert_eq!(t.path_call("path_unlink_file", 4, "d"), Errno::Isdir);
    assert_eq!(
        t.path_call("path_unlink_file", 4, "d/f.txt/"),
        Errno::Notdir
    );
    assert_eq!(
        t.path_call("path_unlink_file", 4, "d/f.txt"),
        Errno::Success
    );
    assert_eq!(t.path_call("path_unlink_file", 4, "d/f.txt"), Errno::Noent);
    assert_eq!(t.path_call("path_remove_directory", 4, "h"), Errno::Notdir);
    assert_eq!(t.path_call("path_remove_directory", 4, "d"), Errno::Success);
    assert_eq!(t.path_call("path_remove_directory", 4, "."), Errno::Inval);
    assert_eq!(t.path_call("path_create_directory", 4, "x"), Errno::Success);
    assert_eq!(t.path_call("path_create_directory", 77, "x"), Errno::Badf);
    assert_eq!(t.host_error("path_create_directory", &[4, BAD, 10]), OOB);
    // The read-only tree was never touched.
    assert_eq!(t.root.as_ref().unwrap().used_bytes(), 0);
}

#[test]
fn fd_table() {
    let mut t = T::new();
    let a = t.open(3, "etc/motd", 0, rights::FD_READ, 0).unwrap();
    let b = t
        .open(3, "etc/motd", 0, rights::FD_READ | rights::FD_SEEK, 0)
        .unwrap();
    assert_eq!((a, b), (5, 6));
    t.read(a, 3).unwrap();
    assert_eq!(t.call("fd_renumber", &[a.into(), b.into()]), Errno::Success);
    assert_eq!(t.read(a, 1), Err(Errno::Badf));
    assert_eq!(t.read(b, 4), Ok(b"come".to_vec()));
    assert_eq!(t.call("fd_renumber", &[b.into(), 77]), Errno::Badf);
    // wasmtime enforces no rights: fd_tell works without FD_TELL.
    assert_eq!(t.call("fd_tell", &[b.into(), OUT.into()]), Errno::Success);
    assert_eq!(
        t.call("fd_seek", &[b.into(), 0, 0, OUT.into()]),
        Errno::Success
    );
    // The highest freed fd is reused first, as wasmtime's table does.
    assert_eq!(t.call("fd_close", &[b.into()]), Errno::Success);
    assert_eq!(t.open(3, "etc/motd", 0, rights::FD_READ, 0), Ok(6));
    // Too many open files.
    let mut last = Ok(0);
    for _ in 0..MAX_FDS {
        last = t.open(3, "etc", oflags::DIRECTORY, 0, 0);
        if last.is_err() {
            break;
        }
    }
    assert_eq!(last, Err(Errno::Mfile));
}

#[test]
fn clocks_random_sched() {
    let mut t = T::new();
    t.clock.0.store(5_000, Ordering::SeqCst);
    assert_eq!(
        t.call(
            "clock_time_get",
            &[clockid::MONOTONIC.into(), 0, OUT.into()]
        ),
        Errno::Success
    );
    assert_eq!(t.u64(OUT), 5_000);
    assert_eq!(
        t.call("clock_time_get", &[clockid::REALTIME.into(), 0, OUT.into()]),
        Errno::Success
    );
    assert!(t.u64(OUT) > 1_700_000_000_000_000_000);
    assert_eq!(
        t.call("clock_res_get", &[clockid::MONOTONIC.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u64(OUT), 1000);
    assert_eq!(
        t.call("clock_res_get", &[clockid::REALTIME.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u64(OUT), 1_000_000);
    // wasmtime: an unknown clock id traps.
    assert_eq!(
        t.host_error("clock_time_get", &[9, 0, OUT.into()]),
        "invalid enum value clockid"
    );
    assert_eq!(
        t.call(
            "clock_time_get",
            &[clockid::PROCESS_CPUTIME_ID.into(), 0, OUT.into()]
        ),
        // wasmtime: the CPU-time clocks are EBADF.
        Errno::Badf
    );
    assert_eq!(
        t.host_error("clock_time_get", &[clockid::MONOTONIC.into(), 0, BAD]),
        OOB
    );
    assert_eq!(
        t.host_error("clock_res_get", &[clockid::MONOTONIC.into(), BAD]),
        OOB
    );
    assert_eq!(t.call("random_get", &[BUF.into(), 4]), Errno::Success);
    assert_eq!(t.bytes(BUF, 4), [1, 2, 3, 4]);
    assert_eq!(t.host_error("random_get", &[BAD, 4]), OOB);
    assert_eq!(t.call("random_get", &[BUF.into(), 0]), Errno::Success);
    assert_eq!(t.call("sched_yield", &[]), Errno::Success);
    assert_eq!(t.clock.0.load(Ordering::SeqCst), 5_001);
}

/// Writes one subscription at `SUB + 48 * i`.
fn sub(t: &mut T, i: u32, userdata: u64, tag: u8, a: u32, timeout: u64, flags: u16) {
    let at = BUF + 48 * i;
    let mut rec = [0u8; 48];
    rec[0..8].copy_from_slice(&userdata.to_le_bytes());
    rec[8] = tag;
    rec[16..20].copy_from_slice(&a.to_le_bytes());
    rec[24..32].copy_from_slice(&timeout.to_le_bytes());
    rec[40..42].copy_from_slice(&flags.to_le_bytes());
    t.put(at, &rec);
}

#[test]
fn poll() {
    let mut t = T::new();
    let ev = 0x2000u32;
    // A relative clock sleeps until the deadline.
    t.clock.0.store(1_000, Ordering::SeqCst);
    sub(
        &mut t,
        0,
        42,
        eventtype::CLOCK,
        clockid::MONOTONIC,
        5_000,
        0,
    );
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 1, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u32(OUT), 1);
    assert_eq!((t.u64(ev), t.mem[ev as usize + 10]), (42, eventtype::CLOCK));
    assert_eq!(t.clock.0.load(Ordering::SeqCst), 6_000);
    // An absolute deadline in the past fires at once.
    sub(&mut t, 0, 1, eventtype::CLOCK, clockid::MONOTONIC, 10, 1);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 1, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.clock.0.load(Ordering::SeqCst), 6_000);
    // A readable stdin (end of input) and a writable stdout win over a long timeout.
    sub(
        &mut t,
        0,
        7,
        eventtype::CLOCK,
        clockid::MONOTONIC,
        1 << 40,
        0,
    );
    sub(&mut t, 1, 8, eventtype::FD_READ, 0, 0, 0);
    sub(&mut t, 2, 9, eventtype::FD_WRITE, 1, 0, 0);
    sub(&mut t, 3, 10, eventtype::FD_READ, 99, 0, 0);
    // wasmtime: an fd that is not open fails the whole call.
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 4, OUT.into()]),
        Errno::Badf
    );
    sub(&mut t, 3, 10, eventtype::FD_WRITE, 2, 0, 0);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 4, OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u32(OUT), 3);
    assert_eq!([t.u64(ev), t.u64(ev + 32), t.u64(ev + 64)], [8, 9, 10]);
    let errno = |t: &T, i: u32| {
        u16::from_le_bytes([
            t.mem[(ev + 32 * i + 8) as usize],
            t.mem[(ev + 32 * i + 9) as usize],
        ])
    };
    assert_eq!([errno(&t, 0), errno(&t, 1), errno(&t, 2)], [0, 0, 0]);
    assert_eq!(t.clock.0.load(Ordering::SeqCst), 6_000);
    // Errors of the call itself.
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 0, OUT.into()]),
        Errno::Inval
    );
    assert_eq!(
        t.host_error("poll_oneoff", &[BAD, ev.into(), 1, OUT.into()]),
        OOB
    );
    assert_eq!(
        t.host_error("poll_oneoff", &[BUF.into(), BAD, 1, OUT.into()]),
        OOB
    );
    assert_eq!(
        t.host_error("poll_oneoff", &[BUF.into(), ev.into(), 1, BAD]),
        OOB
    );
    // More subscriptions than one call may take from the guest (128 MiB of them).
    assert_eq!(
        t.call(
            "poll_oneoff",
            &[BUF.into(), ev.into(), u32::MAX.into(), OUT.into()]
        ),
        Errno::Nomem
    );
    // Subscriptions are read from memory: a value outside its type is EINVAL, no host error.
    sub(&mut t, 0, 1, 9, 0, 0, 0);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 1, OUT.into()]),
        Errno::Inval
    );
    sub(&mut t, 0, 1, eventtype::CLOCK, 9, 0, 0);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 1, OUT.into()]),
        Errno::Inval
    );
    sub(&mut t, 0, 1, eventtype::CLOCK, clockid::MONOTONIC, 0, 2);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), ev.into(), 1, OUT.into()]),
        Errno::Inval
    );
    // Events are written as they are reported: room for none is a host error only when
    // one is ready, and records must be 8-aligned.
    sub(&mut t, 0, 1, eventtype::CLOCK, clockid::MONOTONIC, 0, 0);
    assert_eq!(
        t.host_error("poll_oneoff", &[BUF.into(), (ev + 4).into(), 1, OUT.into()]),
        "pointer not aligned"
    );
}

#[test]
fn exit_and_unsupported() {
    let mut t = T::new();
    let mut mem = GuestMemory::new(&mut t.mem);
    assert_eq!(
        dispatch(&mut t.ctx, &mut mem, Function::proc_exit, &[3]),
        Err(Stop::Exit(3))
    );
    assert_eq!(t.ctx.exit_code(), Some(3));
    // wasmtime: ENOTSUP.
    assert_eq!(t.call("proc_raise", &[9]), Errno::Notsup);
    assert_eq!(t.call("sock_shutdown", &[1, 0]), Errno::Notsock);
    assert_eq!(t.call("sock_shutdown", &[50, 0]), Errno::Badf);
    // wasmtime never touches the socket calls' buffers.
    assert_eq!(t.call("sock_accept", &[3, 0, BAD]), Errno::Notsock);
    assert_eq!(
        t.call("sock_send", &[1, IOV.into(), 0, 0, OUT.into()]),
        Errno::Notsock
    );
    assert_eq!(
        t.call(
            "sock_recv",
            &[1, IOV.into(), 0, 0, OUT.into(), u64::from(OUT) + 4]
        ),
        Errno::Notsock
    );
    let len = t.put(PATH, b"etc");
    assert_eq!(
        t.call("path_symlink", &[PATH.into(), len, 4, PATH.into(), len]),
        Errno::Success
    );
    assert_eq!(
        t.call("fd_filestat_set_times", &[4, 0, 0, 0]),
        Errno::Success
    );
    assert_eq!(t.call("fd_filestat_set_times", &[4, 0, 0, 3]), Errno::Inval);
    // wasmtime: sync and advise take regular files only (EBADF for directories, streams).
    assert_eq!(t.call("fd_sync", &[4]), Errno::Badf);
    assert_eq!(t.call("fd_sync", &[1]), Errno::Badf);
    assert_eq!(t.call("fd_advise", &[1, 0, 0, 0]), Errno::Badf);
    // Wrong arity (only reachable without an engine) is EINVAL, not a panic.
    assert_eq!(t.call("fd_close", &[]), Errno::Inval);
}

#[test]
fn signatures_match_preview1() {
    assert_eq!(Function::ALL.len(), 46);
    let f = Function::from_name("path_open").unwrap();
    use crate::ParamType::{I32, I64};
    assert_eq!(f.params(), [I32, I32, I32, I32, I32, I64, I64, I32, I32]);
    assert_eq!(
        Function::from_name("fd_seek").unwrap().params(),
        [I32, I64, I32, I32]
    );
    assert!(!Function::proc_exit.returns_errno());
    assert!(Function::from_name("fd_write").unwrap().returns_errno());
}

/// Every function with many pseudo-random arguments on a small memory: no panics, and a
/// `proc_exit` only from `proc_exit`.
#[test]
fn random_arguments_never_panic() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for &f in Function::ALL {
        let mut t = T::with_stdin(b"input");
        t.mem.truncate(512);
        for round in 0..300 {
            let args: Vec<u64> = f
                .params()
                .iter()
                .map(|_| match next() % 4 {
                    0 => next() % 8,
                    1 => next() % 600,
                    2 => u64::from(u32::MAX) - next() % 4,
                    _ => next(),
                } & if round % 2 == 0 { 0xffff_ffff } else { u64::MAX })
                .collect();
            for b in t.mem.iter_mut().take(256) {
                *b = next() as u8;
            }
            let mut mem = GuestMemory::new(&mut t.mem);
            let r = dispatch(&mut t.ctx, &mut mem, f, &args);
            assert!(
                r.is_ok() || f == Function::proc_exit || matches!(r, Err(Stop::HostError(_))),
                "{f:?} {args:?} -> {r:?}"
            );
        }
    }
}

/// The preopen a guest path belongs to, as wasi-libc picks it: the longest preopen name that
/// is a whole-component prefix of the path. Returns the fd and the path relative to it.
fn preopen_for(t: &mut T, path: &str) -> (u32, String) {
    let mut best: Option<(u32, String)> = None;
    for fd in 3.. {
        if t.call("fd_prestat_get", &[fd.into(), OUT.into()]) == Errno::Badf {
            break;
        }
        let len = t.u32(OUT + 4);
        assert_eq!(
            t.call("fd_prestat_dir_name", &[fd.into(), BUF.into(), len.into()]),
            Errno::Success
        );
        let name = String::from_utf8(t.bytes(BUF, len as usize).to_vec()).unwrap();
        let prefix = name.trim_end_matches('/');
        let matches = path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if matches && best.as_ref().is_none_or(|(_, b)| b.len() < name.len()) {
            best = Some((fd, name));
        }
    }
    let (fd, name) = best.expect("no preopen");
    let rel = path[name.trim_end_matches('/').len()..].trim_start_matches('/');
    (fd, String::from(if rel.is_empty() { "." } else { rel }))
}

#[test]
fn initrd_at_root_and_memfs_at_tmp() {
    let mut b = initrd::Builder::new();
    b.file("/etc/motd", MOTD)
        .file("/bin/hello.wasm", b"\0asm\x01\0\0\0")
        .dir("/tmp");
    let image: &'static [u8] = b.finish().leak();
    let root = Arc::new(InitrdFs::new(image, 1).unwrap());
    let mut t = T::with_root(b"", root);
    // Preopens are fds 3 (`/`) and 4 (`/tmp`); `/tmp/...` goes to the longer one.
    assert_eq!(preopen_for(&mut t, "/etc/motd"), (3, "etc/motd".into()));
    assert_eq!(preopen_for(&mut t, "/tmp/x"), (4, "x".into()));
    assert_eq!(preopen_for(&mut t, "/tmp"), (4, ".".into()));
    assert_eq!(preopen_for(&mut t, "/tmpfoo"), (3, "tmpfoo".into()));

    // Read a file from the initrd.
    let (dir, rel) = preopen_for(&mut t, "/etc/motd");
    let fd = t
        .open(dir, &rel, 0, rights::FD_READ | rights::FD_FILESTAT_GET, 0)
        .unwrap();
    assert_eq!(fd, 5);
    assert_eq!(t.read(fd, 100), Ok(MOTD.to_vec()));
    assert_eq!(t.read(fd, 100), Ok(Vec::new()));
    assert_eq!(
        t.call("fd_filestat_get", &[fd.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.u64(OUT), 1, "dev");
    assert_eq!(t.u64(OUT + 32), MOTD.len() as u64);
    assert_eq!(t.write(fd, b"x"), Err(Errno::Badf));
    assert_eq!(t.call("fd_close", &[fd.into()]), Errno::Success);

    // List `/` through fd_readdir: `.`, `..`, then the entries in name order.
    assert_eq!(
        t.call("fd_readdir", &[3, BUF.into(), 512, 0, OUT.into()]),
        Errno::Success
    );
    let used = t.u32(OUT) as usize;
    let list: Vec<(String, u8)> = dirents(t.bytes(BUF, used))
        .into_iter()
        .map(|(_, n, ty)| (n, ty))
        .collect();
    let d = filetype::DIRECTORY;
    assert_eq!(
        list,
        [
            (".".into(), d),
            ("..".into(), d),
            ("bin".into(), d),
            ("etc".into(), d),
            ("tmp".into(), d)
        ]
    );
    let (dir, rel) = preopen_for(&mut t, "/bin");
    let bin = t
        .open(dir, &rel, oflags::DIRECTORY, rights::FD_READDIR, 0)
        .unwrap();
    assert_eq!(
        t.call("fd_readdir", &[bin.into(), BUF.into(), 512, 2, OUT.into()]),
        Errno::Success
    );
    let used = t.u32(OUT) as usize;
    let list = dirents(t.bytes(BUF, used));
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].1.as_str(), list[0].2),
        ("hello.wasm", filetype::REGULAR_FILE)
    );

    // Write through `/tmp`, read back, and see it in the RAM file system only.
    let (dir, rel) = preopen_for(&mut t, "/tmp/out.txt");
    let fd = t
        .open(
            dir,
            &rel,
            oflags::CREAT,
            rights::FD_READ | rights::FD_WRITE | rights::FD_SEEK,
            0,
        )
        .unwrap();
    assert_eq!(t.write(fd, b"scratch"), Ok(7));
    assert_eq!(
        t.call("fd_seek", &[fd.into(), 0, whence::SET.into(), OUT.into()]),
        Errno::Success
    );
    assert_eq!(t.read(fd, 100), Ok(b"scratch".to_vec()));
    assert_eq!(t.tmp.file_contents("out.txt").unwrap(), b"scratch");
    assert_eq!(
        t.open(3, "tmp/out.txt", 0, rights::FD_READ, 0),
        Err(Errno::Noent)
    );

    // The initrd refuses every change, as a read-only preopen of wasmtime's does.
    assert_eq!(
        t.open(3, "etc/motd", 0, rights::FD_WRITE, 0),
        Err(Errno::Perm)
    );
    assert_eq!(
        t.open(3, "etc/motd", oflags::TRUNC, rights::FD_READ, 0),
        Err(Errno::Perm)
    );
    assert_eq!(
        t.open(3, "etc/new", oflags::CREAT, rights::FD_WRITE, 0),
        Err(Errno::Perm)
    );
    assert_eq!(t.path_call("path_create_directory", 3, "d"), Errno::Perm);
    assert_eq!(t.path_call("path_unlink_file", 3, "etc/motd"), Errno::Perm);
    assert_eq!(t.path_call("path_remove_directory", 3, "bin"), Errno::Perm);
}

#[test]
fn a_rename_or_link_between_two_writable_trees_is_exdev() {
    let root = Arc::new(MemFs::new(1));
    root.insert_file("f", FileData::Static(MOTD)).unwrap();
    let mut t = T::with_root(b"", root);
    let (a, b) = (PATH, PATH + 0x80);
    t.put(a, b"f");
    t.put(b, b"g");
    let rename = [3, a.into(), 1, 4, b.into(), 1];
    assert_eq!(t.call("path_rename", &rename), Errno::Xdev);
    let link = [3, 0, a.into(), 1, 4, b.into(), 1];
    assert_eq!(t.call("path_link", &link), Errno::Xdev);
}

mod rules;
