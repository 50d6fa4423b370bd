//! A WASI program's view of a share: the preview 1 functions of `wasi-p1` (as a Wasm
//! program calls them) on a host directory served by the in-process server, through
//! `NinepFs`, the client code the kernel runs.

mod common;

use std::sync::Arc;

use common::{host_ino, share};
use wasi_p1::abi::{filetype, lookupflags, oflags, rights};
use wasi_p1::{Clock, Errno, FileSystem, Function, GuestMemory, MemConsole, Random, Scheduler};
use wasi_p1::{WasiCtx, dispatch};

struct Host;

impl Clock for Host {
    fn monotonic_now(&self) -> u64 {
        0
    }
    fn realtime_now(&self) -> u64 {
        0
    }
    fn monotonic_resolution(&self) -> u64 {
        1
    }
    fn realtime_resolution(&self) -> u64 {
        1
    }
}

impl Random for Host {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        buf.fill(4);
        Ok(())
    }
}

impl Scheduler for Host {
    fn yield_now(&mut self) {}
    fn sleep_until(&mut self, _deadline_ns: u64, _wake_on_stdin: bool) {}
}

const PATH: u32 = 0x100;
const PATH2: u32 = 0x300;
const IOV: u32 = 0x500;
const OUT: u32 = 0x600;
const BUF: u32 = 0x1000;

/// A guest with the share preopened at `/` as fd 3.
struct Guest {
    ctx: WasiCtx,
    mem: Vec<u8>,
}

impl Guest {
    fn new(fs: Arc<dyn FileSystem>) -> Guest {
        let console = Arc::new(spin::Mutex::new(MemConsole::new(b"")));
        let ctx = WasiCtx::builder(
            Box::new(console),
            Box::new(Host),
            Box::new(Host),
            Box::new(Host),
        )
        .preopen_dir(fs, "/")
        .build();
        Guest {
            ctx,
            mem: vec![0; 0x10000],
        }
    }

    fn call(&mut self, name: &str, args: &[u64]) -> Errno {
        let f = Function::from_name(name).unwrap();
        dispatch(&mut self.ctx, &mut GuestMemory::new(&mut self.mem), f, args).unwrap()
    }

    fn put(&mut self, at: u32, bytes: &[u8]) -> u64 {
        self.mem[at as usize..][..bytes.len()].copy_from_slice(bytes);
        bytes.len() as u64
    }

    fn u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.mem[at as usize..][..4].try_into().unwrap())
    }

    fn u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.mem[at as usize..][..8].try_into().unwrap())
    }

    fn open(&mut self, path: &str, oflags: u16) -> Result<u32, Errno> {
        let len = self.put(PATH, path.as_bytes());
        let args = [
            3,
            1,
            PATH.into(),
            len,
            oflags.into(),
            rights::ALL,
            rights::ALL,
            0,
            OUT.into(),
        ];
        match self.call("path_open", &args) {
            Errno::Success => Ok(self.u32(OUT)),
            e => Err(e),
        }
    }

    fn write(&mut self, fd: u32, data: &[u8]) -> Errno {
        let len = self.put(BUF, data);
        self.put(
            IOV,
            &[BUF.to_le_bytes(), (len as u32).to_le_bytes()].concat(),
        );
        self.call("fd_write", &[fd.into(), IOV.into(), 1, OUT.into()])
    }

    fn read(&mut self, fd: u32, len: u32) -> Vec<u8> {
        self.put(IOV, &[BUF.to_le_bytes(), len.to_le_bytes()].concat());
        assert_eq!(
            self.call("fd_read", &[fd.into(), IOV.into(), 1, OUT.into()]),
            Errno::Success
        );
        self.mem[BUF as usize..][..self.u32(OUT) as usize].to_vec()
    }

    fn path(&mut self, name: &str, path: &str) -> Errno {
        let len = self.put(PATH, path.as_bytes());
        self.call(name, &[3, PATH.into(), len])
    }

    /// `path_filestat_get` (following links): `(ino, filetype, size)`.
    fn stat(&mut self, path: &str) -> Result<(u64, u8, u64), Errno> {
        let len = self.put(PATH, path.as_bytes());
        let args = [
            3,
            lookupflags::SYMLINK_FOLLOW.into(),
            PATH.into(),
            len,
            BUF.into(),
        ];
        match self.call("path_filestat_get", &args) {
            Errno::Success => Ok((
                self.u64(BUF + 8),
                self.mem[BUF as usize + 16],
                self.u64(BUF + 32),
            )),
            e => Err(e),
        }
    }

    /// The names `fd_readdir` gives for fd 3.
    fn list(&mut self) -> Vec<String> {
        let args = [3, BUF.into(), 0x4000, 0, OUT.into()];
        assert_eq!(self.call("fd_readdir", &args), Errno::Success);
        let used = self.u32(OUT) as usize;
        let (mut at, mut names) = (BUF as usize, Vec::new());
        while at + 24 <= BUF as usize + used {
            let namlen =
                u32::from_le_bytes(self.mem[at + 16..at + 20].try_into().unwrap()) as usize;
            names.push(String::from_utf8(self.mem[at + 24..at + 24 + namlen].to_vec()).unwrap());
            at += 24 + namlen;
        }
        names.sort();
        names
    }
}

#[test]
fn a_program_creates_writes_and_closes_a_file_the_host_then_reads() {
    let s = share();
    let fs = Arc::new(s.fs);
    let mut g = Guest::new(fs);
    let fd = g.open("out.txt", oflags::CREAT | oflags::EXCL).unwrap();
    assert_eq!(g.write(fd, b"hello from wasm\n"), Errno::Success);
    assert_eq!(g.call("fd_close", &[fd.into()]), Errno::Success);
    assert_eq!(
        std::fs::read(s.dir.path().join("out.txt")).unwrap(),
        b"hello from wasm\n"
    );
    assert_eq!(
        g.open("out.txt", oflags::CREAT | oflags::EXCL),
        Err(Errno::Exist)
    );
}

#[test]
fn a_program_reads_what_the_host_writes_while_it_runs() {
    let s = share();
    let mut g = Guest::new(Arc::new(s.fs));
    assert_eq!(g.open("news", 0), Err(Errno::Noent));
    std::fs::write(s.dir.path().join("news"), b"breaking").unwrap();
    let fd = g.open("news", 0).unwrap();
    assert_eq!(g.read(fd, 100), b"breaking");
    std::fs::write(s.dir.path().join("news"), b"updated!").unwrap();
    let fd2 = g.open("news", 0).unwrap();
    assert_eq!(g.read(fd2, 100), b"updated!");
}

#[test]
fn a_program_walks_dot_dot_inside_the_share_and_not_out_of_it() {
    let s = share();
    std::fs::create_dir(s.dir.path().join("d")).unwrap();
    std::fs::write(s.dir.path().join("target"), b"t").unwrap();
    let mut g = Guest::new(Arc::new(s.fs));
    let (ino, ty, size) = g.stat("d/../target").unwrap();
    assert_eq!(
        (ino, ty, size),
        (
            host_ino(&s.dir.path().join("target")),
            filetype::REGULAR_FILE,
            1
        )
    );
    assert_eq!(g.stat("d").unwrap().1, filetype::DIRECTORY);
    assert!(g.stat("../outside").is_err());
    assert!(g.stat("d/../../outside").is_err());
}

#[test]
fn a_program_makes_reads_and_follows_links_inside_the_share_and_not_out_of_it() {
    let s = share();
    std::fs::create_dir(s.dir.path().join("d")).unwrap();
    std::fs::write(s.dir.path().join("target"), b"t").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", s.dir.path().join("escape")).unwrap();
    let mut g = Guest::new(Arc::new(s.fs));
    let (len, len2) = (g.put(PATH, b"../target"), g.put(PATH2, b"d/link"));
    assert_eq!(
        g.call("path_symlink", &[PATH.into(), len, 3, PATH2.into(), len2]),
        Errno::Success
    );
    assert_eq!(
        std::fs::read_link(s.dir.path().join("d/link"))
            .unwrap()
            .to_str(),
        Some("../target")
    );
    let args = [3, PATH2.into(), len2, BUF.into(), 64, OUT.into()];
    assert_eq!(g.call("path_readlink", &args), Errno::Success);
    assert_eq!(&g.mem[BUF as usize..][..g.u32(OUT) as usize], b"../target");
    let target = host_ino(&s.dir.path().join("target"));
    assert_eq!(
        g.stat("d/link").unwrap(),
        (target, filetype::REGULAR_FILE, 1)
    );
    assert!(g.stat("escape").is_err());
}

#[test]
fn a_program_renames_lists_and_removes_what_the_host_then_sees() {
    let s = share();
    let mut g = Guest::new(Arc::new(s.fs));
    assert_eq!(g.path("path_create_directory", "dir"), Errno::Success);
    let fd = g.open("dir/a", oflags::CREAT).unwrap();
    assert_eq!(g.call("fd_close", &[fd.into()]), Errno::Success);
    let (l1, l2) = (g.put(PATH, b"dir/a"), g.put(PATH2, b"b"));
    assert_eq!(
        g.call("path_rename", &[3, PATH.into(), l1, 3, PATH2.into(), l2]),
        Errno::Success
    );
    assert!(s.dir.path().join("b").is_file());
    assert_eq!(g.list(), [".", "..", "b", "dir"]);
    assert_eq!(g.path("path_unlink_file", "b"), Errno::Success);
    assert_eq!(g.path("path_remove_directory", "dir"), Errno::Success);
    assert_eq!(g.list(), [".", ".."]);
    assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), 0);
}

impl Guest {
    /// Opens `path` in fd 3 for reading only.
    fn open_read_only(&mut self, path: &str) -> Result<u32, Errno> {
        let len = self.put(PATH, path.as_bytes());
        let args = [3, 1, PATH.into(), len, 0, rights::FD_READ, 0, 0, OUT.into()];
        match self.call("path_open", &args) {
            Errno::Success => Ok(self.u32(OUT)),
            e => Err(e),
        }
    }
}

#[test]
fn a_read_only_share_answers_eperm_to_every_change_as_a_read_only_preopen_does() {
    let s = common::share_with(
        ninep::server::ServerOptions {
            read_only: true,
            ..Default::default()
        },
        ninep::MountOptions::default(),
    );
    std::fs::write(s.host("f"), b"keep").unwrap();
    std::fs::create_dir(s.host("d")).unwrap();
    let mut g = Guest::new(Arc::new(s.fs));
    assert_eq!(g.path("path_create_directory", "new"), Errno::Perm);
    // Before the path is looked at: a missing parent is EPERM too.
    assert_eq!(g.path("path_create_directory", "nope/new"), Errno::Perm);
    assert_eq!(g.path("path_unlink_file", "f"), Errno::Perm);
    assert_eq!(g.path("path_remove_directory", "d"), Errno::Perm);
    assert_eq!(g.open("f", 0), Err(Errno::Perm));
    assert_eq!(g.open("new", oflags::CREAT), Err(Errno::Perm));
    let fd = g.open_read_only("f").unwrap();
    assert_eq!(g.read(fd, 100), b"keep");
    assert_eq!(g.call("fd_filestat_set_size", &[fd.into(), 0]), Errno::Perm);
    assert_eq!(
        g.call("fd_filestat_set_times", &[fd.into(), 0, 0, 2]),
        Errno::Perm
    );
    assert_eq!(std::fs::read(s.dir.path().join("f")).unwrap(), b"keep");
}

#[test]
fn truncating_a_file_opened_for_reading_only_is_einval_and_leaves_it_whole() {
    let s = share();
    std::fs::write(s.host("f"), b"whole").unwrap();
    let mut g = Guest::new(Arc::new(s.fs));
    let fd = g.open_read_only("f").unwrap();
    assert_eq!(
        g.call("fd_filestat_set_size", &[fd.into(), 1]),
        Errno::Inval
    );
    assert_eq!(std::fs::read(s.dir.path().join("f")).unwrap(), b"whole");
    let rw = g.open("f", 0).unwrap();
    // ftruncate's limit: a size that is negative as an off_t.
    assert_eq!(
        g.call("fd_filestat_set_size", &[rw.into(), 1 << 63]),
        Errno::Inval
    );
    assert_eq!(
        g.call("fd_filestat_set_size", &[rw.into(), 2]),
        Errno::Success
    );
    assert_eq!(std::fs::read(s.dir.path().join("f")).unwrap(), b"wh");
}

#[test]
fn readlink_of_a_link_whose_target_is_absolute_is_eperm_and_a_relative_one_is_given() {
    let s = share();
    std::os::unix::fs::symlink("/etc", s.host("abs")).unwrap();
    std::os::unix::fs::symlink("../out", s.host("rel")).unwrap();
    let mut g = Guest::new(Arc::new(s.fs));
    let readlink = |g: &mut Guest, path: &str| {
        let len = g.put(PATH, path.as_bytes());
        let e = g.call(
            "path_readlink",
            &[3, PATH.into(), len, BUF.into(), 64, OUT.into()],
        );
        (e, g.mem[BUF as usize..][..g.u32(OUT) as usize].to_vec())
    };
    assert_eq!(readlink(&mut g, "abs").0, Errno::Perm);
    assert_eq!(
        readlink(&mut g, "rel"),
        (Errno::Success, b"../out".to_vec())
    );
}
