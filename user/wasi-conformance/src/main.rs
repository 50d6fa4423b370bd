//! wasi-conformance: checks the `wasi_snapshot_preview1` functions atoll provides, success
//! and error paths, by calling the raw imports (so it can pass bad fds, flags and paths), and
//! gives the same output under `wasmtime run` (the difftest case `wasi-conformance`).
//!
//! # Running it
//!
//! ```text
//! wasi-conformance a b            # exactly these two arguments
//! ```
//!
//! with:
//! - the environment containing `ATOLL_TEST=1`;
//! - exactly two preopens: fd 3 named `/`, a read-only tree that holds this program as
//!   `/bin/wasi-conformance.wasm` (or the absolute path in `CONFORMANCE_FILE`), and fd 4
//!   named `/tmp`, writable (the program creates and removes `/tmp/wasi-conformance.*`);
//! - stdin either at end of input or a console with nothing typed (the stdin check only
//!   reads when `poll_oneoff` says a read will not block).
//!
//! On atoll, init sets all of that up with the boot argument
//! `exec=/bin/wasi-conformance.wasm,a,b exec.env=ATOLL_TEST%3D1 exec.dir=/::/,/tmp::/tmp`.
//! On the host, `cargo test -p wasi-p1 --test engine wasi_conformance` runs it (through
//! `libs/engine/wasi` and the engine, with the initrd file system at `/`), and `cargo xtask difftest
//! wasi-conformance` compares it with wasmtime's run.
//!
//! It prints `ok NAME` or `FAIL NAME: DETAILS` per check, then `N passed, N failed`, and exits
//! (through `proc_exit`) with 0 if every check passed and 1 otherwise.
//! `wasi-conformance --exit N` only calls `proc_exit(N)`: a test of exit-code pass-through.
//!
//! Expected errnos are wasmtime 51's, which atoll follows (`libs/engine/wasi/src/lib.rs`): an fd that
//! is not open is EBADF; reading or writing an fd not opened for it is EBADF; leaving a preopen
//! is EPERM (cap-std's answer) and so is every change in a read-only preopen (`/` here); signals
//! are ENOTSUP and every fd is ENOTSOCK; a value read from memory outside its type is EINVAL;
//! one call takes at most 128 MiB from the guest (ENOMEM beyond). A pointer outside linear
//! memory and an argument outside its witx type end the program (a host error), so they are
//! not checked here (the difftest corpus's `efault` and `bad-enum` cases are); only that
//! nothing is checked where nothing is read or written. Device and inode numbers are not
//! compared: wasmtime reports device 1 and hashed inodes, atoll each tree's own numbers.

use std::fmt::Write as _;

/// The raw imports, every pointer an `i32` address so that bad ones can be passed.
mod sys {
    // Every pointer this program passes is either inside `ARENA` (with a length that stays
    // inside it) or, with a length of 0, outside linear memory, where the host reads and
    // writes nothing; so no call writes to memory Rust knows about, and the functions are
    // declared `safe`.
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub safe fn args_get(argv: u32, buf: u32) -> i32;
        pub safe fn args_sizes_get(argc: u32, size: u32) -> i32;
        pub safe fn environ_get(environ: u32, buf: u32) -> i32;
        pub safe fn environ_sizes_get(count: u32, size: u32) -> i32;
        pub safe fn clock_res_get(id: u32, out: u32) -> i32;
        pub safe fn clock_time_get(id: u32, precision: u64, out: u32) -> i32;
        pub safe fn fd_close(fd: u32) -> i32;
        pub safe fn fd_fdstat_get(fd: u32, out: u32) -> i32;
        pub safe fn fd_filestat_get(fd: u32, out: u32) -> i32;
        pub safe fn fd_prestat_get(fd: u32, out: u32) -> i32;
        pub safe fn fd_prestat_dir_name(fd: u32, path: u32, len: u32) -> i32;
        pub safe fn fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32) -> i32;
        pub safe fn fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32) -> i32;
        pub safe fn fd_seek(fd: u32, offset: i64, whence: u32, out: u32) -> i32;
        pub safe fn fd_readdir(fd: u32, buf: u32, len: u32, cookie: u64, used: u32) -> i32;
        pub safe fn path_open(
            fd: u32,
            dirflags: u32,
            path: u32,
            path_len: u32,
            oflags: u32,
            base: u64,
            inheriting: u64,
            fdflags: u32,
            out: u32,
        ) -> i32;
        pub safe fn path_create_directory(fd: u32, path: u32, len: u32) -> i32;
        pub safe fn path_remove_directory(fd: u32, path: u32, len: u32) -> i32;
        pub safe fn path_unlink_file(fd: u32, path: u32, len: u32) -> i32;
        pub safe fn path_readlink(
            fd: u32,
            path: u32,
            len: u32,
            buf: u32,
            buf_len: u32,
            used: u32,
        ) -> i32;
        pub safe fn path_symlink(old: u32, old_len: u32, fd: u32, new: u32, new_len: u32) -> i32;
        pub safe fn path_link(
            old_fd: u32,
            old_flags: u32,
            old: u32,
            old_len: u32,
            new_fd: u32,
            new: u32,
            new_len: u32,
        ) -> i32;
        pub safe fn random_get(buf: u32, len: u32) -> i32;
        pub safe fn sched_yield() -> i32;
        pub safe fn poll_oneoff(subs: u32, events: u32, nsubs: u32, nevents: u32) -> i32;
        pub safe fn proc_exit(code: u32) -> !;
        pub safe fn proc_raise(sig: u32) -> i32;
        pub safe fn sock_accept(fd: u32, flags: u32, out: u32) -> i32;
        pub safe fn sock_recv(
            fd: u32,
            ri_data: u32,
            ri_len: u32,
            ri_flags: u32,
            ro_len: u32,
            ro_flags: u32,
        ) -> i32;
        pub safe fn sock_send(fd: u32, si_data: u32, si_len: u32, flags: u32, so_len: u32) -> i32;
        pub safe fn sock_shutdown(fd: u32, how: u32) -> i32;
    }
}

// ---- errnos, rights and flags (witx) ------------------------------------------------------

const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EEXIST: i32 = 20;
const EINTR: i32 = 27;
const EINVAL: i32 = 28;
const ENAMETOOLONG: i32 = 37;
const ENOENT: i32 = 44;
const ENOSYS: i32 = 52;
const ENOTDIR: i32 = 54;
const ENOTEMPTY: i32 = 55;
const ENOTSOCK: i32 = 57;
const ENOMEM: i32 = 48;
const ESPIPE: i32 = 70;
const EPERM: i32 = 63;
const ENOTSUP: i32 = 58;

fn errno_name(e: i32) -> &'static str {
    match e {
        SUCCESS => "SUCCESS",
        EBADF => "EBADF",
        EEXIST => "EEXIST",
        EINTR => "EINTR",
        EINVAL => "EINVAL",
        ENAMETOOLONG => "ENAMETOOLONG",
        ENOENT => "ENOENT",
        ENOSYS => "ENOSYS",
        ENOTDIR => "ENOTDIR",
        ENOTEMPTY => "ENOTEMPTY",
        ENOTSOCK => "ENOTSOCK",
        ENOMEM => "ENOMEM",
        ESPIPE => "ESPIPE",
        EPERM => "EPERM",
        ENOTSUP => "ENOTSUP",
        _ => "?",
    }
}

const FD_READ: u64 = 1 << 1;
const FD_SEEK: u64 = 1 << 2;
const FD_TELL: u64 = 1 << 5;
const FD_WRITE: u64 = 1 << 6;
const PATH_CREATE_FILE: u64 = 1 << 10;
const PATH_OPEN: u64 = 1 << 13;
const FD_READDIR: u64 = 1 << 14;
const FD_FILESTAT_GET: u64 = 1 << 21;
const FILE_RW: u64 = FD_READ | FD_SEEK | FD_TELL | FD_WRITE | FD_FILESTAT_GET;

const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_EXCL: u32 = 4;
const O_TRUNC: u32 = 8;
const FDFLAGS_APPEND: u32 = 1;

const FT_CHARACTER_DEVICE: u8 = 2;
const FT_DIRECTORY: u8 = 3;
const FT_REGULAR_FILE: u8 = 4;

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;

const EVENT_CLOCK: u8 = 0;
const EVENT_FD_READ: u8 = 1;
const EVENT_FD_WRITE: u8 = 2;

const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;
const SEEK_END: u32 = 2;

const ROOT: u32 = 3;
const TMP: u32 = 4;

// ---- the arena: the only memory the host is given pointers into --------------------------

const ARENA_LEN: usize = 0x1_0000;
static mut ARENA: [u8; ARENA_LEN] = [0; ARENA_LEN];

/// Arena regions (offsets).
const OUT: u32 = 0x0000; // out-parameters, up to 0x100
const OUT2: u32 = 0x0100;
const IOV: u32 = 0x0200; // iovec arrays, up to 0x100
const PATH: u32 = 0x0300; // paths, up to 0xd00
const BUF: u32 = 0x1000; // data, up to 0x8000
const BUF_LEN: u32 = 0x8000;
const SUBS: u32 = 0x9000; // poll subscriptions
const EVENTS: u32 = 0xa000; // poll events
const LINE_IOV: u32 = 0xeff0; // the report's own output
const LINE: u32 = 0xf000;

/// The guest address of arena offset `off`.
fn a(off: u32) -> u32 {
    assert!((off as usize) < ARENA_LEN);
    (&raw const ARENA) as usize as u32 + off
}

fn put(off: u32, bytes: &[u8]) -> u32 {
    assert!(off as usize + bytes.len() <= ARENA_LEN);
    // SAFETY: the range is inside ARENA (checked above), which Rust code only touches through
    // these raw copies, never through a reference; wasm32 has one thread.
    unsafe {
        core::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (&raw mut ARENA).cast::<u8>().add(off as usize),
            bytes.len(),
        )
    };
    bytes.len() as u32
}

fn get(off: u32, len: usize) -> Vec<u8> {
    assert!(off as usize + len <= ARENA_LEN);
    let mut v = vec![0; len];
    // SAFETY: as in `put`.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (&raw const ARENA).cast::<u8>().add(off as usize),
            v.as_mut_ptr(),
            len,
        )
    };
    v
}

fn get_u8(off: u32) -> u8 {
    get(off, 1)[0]
}
fn get_u16(off: u32) -> u16 {
    u16::from_le_bytes(get(off, 2).try_into().unwrap())
}
fn get_u32(off: u32) -> u32 {
    u32::from_le_bytes(get(off, 4).try_into().unwrap())
}
fn get_u64(off: u32) -> u64 {
    u64::from_le_bytes(get(off, 8).try_into().unwrap())
}

/// An address far beyond memory, passed only where nothing is read or written at it.
const FAR: u32 = 0xffff_fff0;

// ---- reporting ----------------------------------------------------------------------------

/// Writes `s` to stdout with the raw `fd_write` (retrying short writes).
fn print(s: &str) {
    let mut rest = s.as_bytes();
    while !rest.is_empty() {
        let chunk = &rest[..rest.len().min(0x0ff0)];
        put(LINE, chunk);
        put(
            LINE_IOV,
            &[a(LINE).to_le_bytes(), (chunk.len() as u32).to_le_bytes()].concat(),
        );
        if sys::fd_write(1, a(LINE_IOV), 1, a(LINE_IOV + 8)) != SUCCESS {
            return;
        }
        let n = get_u32(LINE_IOV + 8) as usize;
        if n == 0 {
            return;
        }
        rest = &rest[n.min(rest.len())..];
    }
}

#[derive(Default)]
struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                print(&format!("ok {name}\n"));
            }
            Err(why) => {
                self.failed += 1;
                print(&format!("FAIL {name}: {why}\n"));
            }
        }
    }

    /// A check that a call returned errno `want`.
    fn errno(&mut self, name: &str, got: i32, want: i32) {
        self.check(name, expect(got, want));
    }
}

fn expect(got: i32, want: i32) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "returned {got} ({}), expected {want} ({})",
            errno_name(got),
            errno_name(want)
        ))
    }
}

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

// ---- small wrappers over the arena ---------------------------------------------------------

fn open(dir: u32, path: &str, oflags: u32, base: u64, fdflags: u32) -> Result<u32, i32> {
    let len = put(PATH, path.as_bytes());
    match sys::path_open(dir, 0, a(PATH), len, oflags, base, base, fdflags, a(OUT)) {
        SUCCESS => Ok(get_u32(OUT)),
        e => Err(e),
    }
}

fn path_call(f: extern "C" fn(u32, u32, u32) -> i32, dir: u32, path: &str) -> i32 {
    let len = put(PATH, path.as_bytes());
    f(dir, a(PATH), len)
}

/// `fd_write` of `parts`, one iovec each; returns the bytes written.
fn write(fd: u32, parts: &[&[u8]]) -> Result<u32, i32> {
    let mut at = BUF;
    for (i, p) in parts.iter().enumerate() {
        put(at, p);
        let iov = [a(at).to_le_bytes(), (p.len() as u32).to_le_bytes()].concat();
        put(IOV + 8 * i as u32, &iov);
        at += p.len() as u32;
    }
    match sys::fd_write(fd, a(IOV), parts.len() as u32, a(OUT)) {
        SUCCESS => Ok(get_u32(OUT)),
        e => Err(e),
    }
}

/// `fd_read` of up to `len` bytes into two iovecs (`len / 2` and the rest).
fn read(fd: u32, len: u32) -> Result<Vec<u8>, i32> {
    assert!(len <= BUF_LEN);
    let first = len / 2;
    put(
        IOV,
        &[
            a(BUF).to_le_bytes(),
            first.to_le_bytes(),
            a(BUF + first).to_le_bytes(),
            (len - first).to_le_bytes(),
        ]
        .concat(),
    );
    match sys::fd_read(fd, a(IOV), 2, a(OUT)) {
        SUCCESS => Ok(get(BUF, get_u32(OUT) as usize)),
        e => Err(e),
    }
}

fn read_all(fd: u32) -> Result<Vec<u8>, i32> {
    let mut all = Vec::new();
    loop {
        let chunk = read(fd, BUF_LEN)?;
        if chunk.is_empty() {
            return Ok(all);
        }
        all.extend_from_slice(&chunk);
    }
}

fn seek(fd: u32, offset: i64, whence: u32) -> Result<u64, i32> {
    match sys::fd_seek(fd, offset, whence, a(OUT)) {
        SUCCESS => Ok(get_u64(OUT)),
        e => Err(e),
    }
}

struct FdStat {
    filetype: u8,
    base: u64,
}

fn fdstat(fd: u32) -> Result<FdStat, i32> {
    match sys::fd_fdstat_get(fd, a(OUT)) {
        SUCCESS => Ok(FdStat {
            filetype: get_u8(OUT),
            base: get_u64(OUT + 8),
        }),
        e => Err(e),
    }
}

struct FileStat {
    ino: u64,
    filetype: u8,
    size: u64,
}

fn filestat(fd: u32) -> Result<FileStat, i32> {
    match sys::fd_filestat_get(fd, a(OUT)) {
        SUCCESS => Ok(FileStat {
            ino: get_u64(OUT + 8),
            filetype: get_u8(OUT + 16),
            size: get_u64(OUT + 32),
        }),
        e => Err(e),
    }
}

struct Dirent {
    next: u64,
    name: String,
    filetype: u8,
}

/// One `fd_readdir` call: the complete entries and the bytes used.
fn readdir(fd: u32, len: u32, cookie: u64) -> Result<(Vec<Dirent>, u32), i32> {
    let e = sys::fd_readdir(fd, a(BUF), len, cookie, a(OUT));
    if e != SUCCESS {
        return Err(e);
    }
    let used = get_u32(OUT);
    let buf = get(BUF, used as usize);
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let Some(name) = buf.get(at + 24..at + 24 + namlen) else {
            break;
        };
        out.push(Dirent {
            next: u64::from_le_bytes(buf[at..at + 8].try_into().unwrap()),
            name: String::from_utf8_lossy(name).into_owned(),
            filetype: buf[at + 20],
        });
        at += 24 + namlen;
    }
    Ok((out, used))
}

/// Every entry of a directory, following cookies with a buffer of `len` bytes.
fn list_dir(fd: u32, len: u32) -> Result<Vec<Dirent>, String> {
    let mut all: Vec<Dirent> = Vec::new();
    let mut cookie = 0;
    for _ in 0..10_000 {
        let (entries, used) = readdir(fd, len, cookie).map_err(|e| format!("errno {e}"))?;
        let full = used == len;
        let got = entries.len();
        if let Some(last) = entries.last() {
            cookie = last.next;
        }
        all.extend(entries);
        if !full {
            return Ok(all);
        }
        if got == 0 {
            return Err(format!("a {len}-byte buffer holds no whole entry"));
        }
    }
    Err("fd_readdir never ended".into())
}

fn names(entries: &[Dirent]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

/// Reads `count` strings laid out by `args_get`/`environ_get`: pointers at OUT2, bytes at BUF.
fn strings(count: u32, size: u32) -> Result<Vec<String>, String> {
    let buf = get(BUF, size as usize);
    let mut out = Vec::new();
    for i in 0..count {
        let p = get_u32(OUT2 + 4 * i);
        let off = p
            .checked_sub(a(BUF))
            .filter(|&o| o < size)
            .ok_or_else(|| format!("pointer {i} ({p:#x}) is outside the buffer"))?
            as usize;
        let end = buf[off..]
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| format!("string {i} has no NUL"))?;
        out.push(String::from_utf8_lossy(&buf[off..off + end]).into_owned());
    }
    if buf.last() != Some(&0) {
        return Err("the buffer does not end with a NUL".into());
    }
    Ok(out)
}

// ---- the checks ---------------------------------------------------------------------------

fn args(r: &mut Report) {
    let e = sys::args_sizes_get(a(OUT), a(OUT + 4));
    let (argc, size) = (get_u32(OUT), get_u32(OUT + 4));
    r.check(
        "args_sizes_get",
        expect(e, SUCCESS).and_then(|_| {
            ensure(argc == 3 && size >= 5, || {
                format!("argc {argc}, size {size}: run as `wasi-conformance a b`")
            })
        }),
    );
    let fits = argc <= 64 && size <= BUF_LEN;
    let e = if fits {
        sys::args_get(a(OUT2), a(BUF))
    } else {
        EINVAL
    };
    let got = expect(e, SUCCESS).and_then(|_| strings(argc, size));
    r.check(
        "args_get",
        got.and_then(|argv| {
            let total: usize = argv.iter().map(|s| s.len() + 1).sum();
            let first = argv.first().map_or("", String::as_str);
            let base = first.rsplit('/').next().unwrap_or("");
            let base = base.strip_suffix(".wasm").unwrap_or(base);
            ensure(total == size as usize, || {
                format!("strings take {total} bytes, args_sizes_get said {size}")
            })?;
            ensure(
                base == "wasi-conformance" && argv.get(1..) == Some(&["a".into(), "b".into()][..]),
                || format!("argv {argv:?}: argv[0] must be the program name, then a, b"),
            )
        }),
    );
}

fn environ(r: &mut Report) {
    let e = sys::environ_sizes_get(a(OUT), a(OUT + 4));
    let (count, size) = (get_u32(OUT), get_u32(OUT + 4));
    r.check(
        "environ_sizes_get",
        expect(e, SUCCESS).and_then(|_| ensure(count >= 1, || "the environment is empty".into())),
    );
    let fits = count <= 64 && size <= BUF_LEN;
    let e = if fits {
        sys::environ_get(a(OUT2), a(BUF))
    } else {
        EINVAL
    };
    r.check(
        "environ_get",
        expect(e, SUCCESS)
            .and_then(|_| strings(count, size))
            .and_then(|env| {
                ensure(env.iter().all(|v| v.contains('=')), || {
                    format!("an entry without '=': {env:?}")
                })?;
                ensure(env.iter().any(|v| v == "ATOLL_TEST=1"), || {
                    format!("ATOLL_TEST=1 missing from {env:?}")
                })
            }),
    );
}

fn preopens(r: &mut Report) {
    let mut seen = Vec::new();
    for (fd, want) in [(ROOT, "/"), (TMP, "/tmp")] {
        let e = sys::fd_prestat_get(fd, a(OUT));
        let (tag, len) = (get_u8(OUT), get_u32(OUT + 4));
        r.check(
            &format!("fd_prestat_get({fd})"),
            expect(e, SUCCESS).and_then(|_| {
                ensure(tag == 0 && len as usize == want.len(), || {
                    format!("tag {tag}, name length {len}; expected a dir named {want:?}")
                })
            }),
        );
        let e = sys::fd_prestat_dir_name(fd, a(PATH), len.min(0x100));
        let name = get(PATH, len.min(0x100) as usize);
        r.check(
            &format!("fd_prestat_dir_name({fd})"),
            expect(e, SUCCESS).and_then(|_| {
                ensure(name == want.as_bytes(), || {
                    format!(
                        "name {:?}, expected {want:?}",
                        String::from_utf8_lossy(&name)
                    )
                })
            }),
        );
        seen.push(fd);
    }
    r.errno(
        "fd_prestat_get: end of the preopens",
        sys::fd_prestat_get(5, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_prestat_get: stdin is no preopen",
        sys::fd_prestat_get(0, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_prestat_get: bad fd",
        sys::fd_prestat_get(9999, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_prestat_dir_name: buffer too short",
        sys::fd_prestat_dir_name(TMP, a(PATH), 3),
        ENAMETOOLONG,
    );
    r.errno(
        "fd_prestat_dir_name: bad fd",
        sys::fd_prestat_dir_name(9999, a(PATH), 16),
        EBADF,
    );
    r.errno(
        "fd_prestat_dir_name: not a preopen",
        sys::fd_prestat_dir_name(1, a(PATH), 16),
        // wasmtime's legacy answer for an open fd that is not a preopen.
        ENOTDIR,
    );
}

fn fdstats(r: &mut Report) {
    r.check(
        "fd_fdstat_get(stdout)",
        fdstat(1).map_err(|e| format!("errno {e}")).and_then(|s| {
            ensure(
                // A terminal is a character device, a pipe or capture UNKNOWN (wasmtime).
                (s.filetype == FT_CHARACTER_DEVICE || s.filetype == 0) && s.base == FD_WRITE,
                || format!("filetype {}, rights {:#x}", s.filetype, s.base),
            )
        }),
    );
    r.check(
        "fd_fdstat_get(/): preopened directory",
        fdstat(ROOT)
            .map_err(|e| format!("errno {e}"))
            .and_then(|s| {
                ensure(
                    // wasmtime's fixed preopen rights, whatever the tree.
                    s.filetype == FT_DIRECTORY && s.base == 0x7b7_fe00,
                    || format!("filetype {}, rights {:#x}", s.filetype, s.base),
                )
            }),
    );
    r.check(
        "fd_fdstat_get(/tmp): writable directory",
        fdstat(TMP).map_err(|e| format!("errno {e}")).and_then(|s| {
            ensure(
                s.filetype == FT_DIRECTORY && s.base & PATH_CREATE_FILE != 0,
                || format!("filetype {}, rights {:#x}", s.filetype, s.base),
            )
        }),
    );
    r.errno(
        "fd_fdstat_get: bad fd",
        sys::fd_fdstat_get(9999, a(OUT)),
        EBADF,
    );
    r.check(
        "fd_filestat_get(/)",
        filestat(ROOT)
            .map_err(|e| format!("errno {e}"))
            .and_then(|s| {
                ensure(s.filetype == FT_DIRECTORY, || {
                    format!("filetype {}", s.filetype)
                })
            }),
    );
    r.errno(
        "fd_filestat_get: bad fd",
        sys::fd_filestat_get(9999, a(OUT)),
        EBADF,
    );
}

/// Checks on a known file of the read-only tree (this program's own binary).
fn read_only_file(r: &mut Report, path: &str) {
    let rel = path.trim_start_matches('/');
    let fd = match open(
        ROOT,
        rel,
        0,
        FD_READ | FD_SEEK | FD_TELL | FD_FILESTAT_GET,
        0,
    ) {
        Ok(fd) => {
            r.check("path_open: a file of /", Ok(()));
            fd
        }
        Err(e) => {
            r.check(
                "path_open: a file of /",
                Err(format!("{path}: errno {e} ({})", errno_name(e))),
            );
            return;
        }
    };
    let data = read_all(fd);
    r.check(
        "fd_read: a file of /",
        match &data {
            Ok(d) => ensure(d.starts_with(b"\0asm\x01\0\0\0"), || {
                format!("{path} is {} bytes without the Wasm header", d.len())
            }),
            Err(e) => Err(format!("errno {e}")),
        },
    );
    let len = data.as_ref().map_or(0, |d| d.len() as u64);
    r.check(
        "fd_filestat_get: a file of /",
        filestat(fd)
            .map_err(|e| format!("errno {e}"))
            .and_then(|s| {
                ensure(
                    s.filetype == FT_REGULAR_FILE && s.size == len && s.ino != 0,
                    || {
                        format!(
                            "filetype {}, size {}, ino {}; {len} bytes were read",
                            s.filetype, s.size, s.ino
                        )
                    },
                )
            }),
    );
    r.check(
        "fd_fdstat_get: a file of /",
        fdstat(fd).map_err(|e| format!("errno {e}")).and_then(|s| {
            ensure(
                s.filetype == FT_REGULAR_FILE && s.base & FD_WRITE == 0,
                || format!("filetype {}, rights {:#x}", s.filetype, s.base),
            )
        }),
    );
    // Seeking.
    let want_end = len.saturating_sub(4);
    let seq = seek(fd, 4, SEEK_SET)
        .and_then(|a| Ok((a, seek(fd, 2, SEEK_CUR)?)))
        .and_then(|(a, b)| Ok((a, b, seek(fd, -4, SEEK_END)?)));
    r.check(
        "fd_seek: SET, CUR, END",
        match seq {
            Ok((4, 6, end)) if end == want_end => Ok(()),
            Ok(got) => Err(format!("positions {got:?}, expected (4, 6, {want_end})")),
            Err(e) => Err(format!("errno {e}")),
        },
    );
    r.check(
        "fd_read: after fd_seek",
        match (read(fd, 100), &data) {
            (Ok(tail), Ok(d)) => ensure(tail == d[d.len().saturating_sub(4)..], || {
                format!("read {tail:?} after seeking to 4 bytes before the end")
            }),
            (Err(e), _) => Err(format!("errno {e}")),
            (_, Err(_)) => Err("the file could not be read".into()),
        },
    );
    r.check(
        "fd_read: at end of file",
        match read(fd, 100) {
            Ok(v) => ensure(v.is_empty(), || format!("{} bytes past the end", v.len())),
            Err(e) => Err(format!("errno {e}")),
        },
    );
    r.errno(
        "fd_seek: before the start",
        sys::fd_seek(fd, -1, SEEK_SET, a(OUT)),
        EINVAL,
    );
    r.errno(
        "fd_seek: bad fd",
        sys::fd_seek(9999, 0, SEEK_SET, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_seek: stdout is not seekable",
        sys::fd_seek(1, 0, SEEK_SET, a(OUT)),
        ESPIPE,
    );
    r.check(
        "fd_write: a read-only file",
        match write(fd, &[b"x"]) {
            Err(EBADF) => Ok(()),
            other => Err(format!("{other:?}, expected EBADF (no fd_write right)")),
        },
    );
    put(IOV, &[a(BUF).to_le_bytes(), 8u32.to_le_bytes()].concat());
    r.errno(
        "fd_read: bad fd",
        sys::fd_read(9999, a(IOV), 1, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_read: stdout is not readable",
        sys::fd_read(1, a(IOV), 1, a(OUT)),
        EBADF,
    );
    r.errno("fd_close", sys::fd_close(fd), SUCCESS);
    r.errno("fd_close: already closed", sys::fd_close(fd), EBADF);
    r.errno(
        "fd_read: closed fd",
        sys::fd_read(fd, a(IOV), 1, a(OUT)),
        EBADF,
    );
}

/// `own` is this program's file below `/` (as `bin/wasi-conformance.wasm`).
fn path_open_errors(r: &mut Report, own: &str) {
    let open_err = |path: &str, oflags: u32, base: u64| match open(ROOT, path, oflags, base, 0) {
        Ok(fd) => {
            sys::fd_close(fd);
            SUCCESS
        }
        Err(e) => e,
    };
    r.errno(
        "path_open: missing file",
        open_err("no/such/file", 0, FD_READ),
        ENOENT,
    );
    r.errno(
        "path_open: escaping with ..",
        open_err("../etc", 0, FD_READ),
        EPERM,
    );
    r.errno(
        "path_open: absolute path",
        open_err("/bin", 0, FD_READ),
        EPERM,
    );
    r.errno(
        "path_open: O_DIRECTORY on a file",
        open_err(own, O_DIRECTORY, FD_READ),
        ENOTDIR,
    );
    r.errno(
        "path_open: O_CREAT in /",
        open_err("wasi-conformance.new", O_CREAT, FD_READ | FD_WRITE),
        EPERM,
    );
    r.errno(
        "path_open: write access in /",
        open_err(own, 0, FD_READ | FD_WRITE),
        EPERM,
    );
    r.errno(
        "path_open: O_TRUNC in /",
        open_err(own, O_TRUNC, FD_READ),
        EPERM,
    );
    let len = put(PATH, b"bin");
    r.errno(
        "path_open: bad fd",
        sys::path_open(9999, 0, a(PATH), len, 0, FD_READ, 0, 0, a(OUT)),
        EBADF,
    );
    r.errno(
        "path_open: fd is a stream",
        sys::path_open(1, 0, a(PATH), len, 0, FD_READ, 0, 0, a(OUT)),
        EBADF,
    );
    r.errno(
        "path_create_directory: in /",
        path_call(sys::path_create_directory, ROOT, "wasi-conformance.d"),
        EPERM,
    );
    r.errno(
        "path_unlink_file: in /",
        path_call(sys::path_unlink_file, ROOT, own),
        EPERM,
    );
    r.errno(
        "path_remove_directory: in /",
        path_call(sys::path_remove_directory, ROOT, "bin"),
        EPERM,
    );
}

/// `own` is this program's file below `/`, in `bin/`.
fn readdir_checks(r: &mut Report, own: &str) {
    let own_name = own.rsplit('/').next().unwrap_or(own);
    r.check(
        "fd_readdir(/)",
        list_dir(ROOT, 4096).and_then(|e| {
            let n = names(&e);
            ensure(
                n.len() >= 3 && n[..2] == [".", ".."] && n.contains(&"bin"),
                || format!("entries {n:?}: expected ., .., then bin among them"),
            )?;
            let bin = e.iter().find(|d| d.name == "bin").map(|d| d.filetype);
            ensure(bin == Some(FT_DIRECTORY), || {
                format!("bin has type {bin:?}")
            })
        }),
    );
    // A small buffer: records are cut, and cookies continue where the last whole one ended.
    r.check(
        "fd_readdir: small buffer and cookies",
        list_dir(ROOT, 4096).and_then(|big| {
            let small = list_dir(ROOT, 64)?;
            ensure(names(&small) == names(&big), || {
                format!(
                    "{:?} with 64-byte reads, {:?} at once",
                    names(&small),
                    names(&big)
                )
            })
        }),
    );
    r.check(
        "fd_readdir: truncated buffer is full",
        match readdir(ROOT, 10, 0) {
            Ok((_, 10)) => Ok(()),
            Ok((_, used)) => Err(format!("bufused {used} for a 10-byte buffer")),
            Err(e) => Err(format!("errno {e}")),
        },
    );
    r.check(
        "fd_readdir: cookie past the end",
        match readdir(ROOT, 4096, 1_000_000) {
            Ok((e, 0)) if e.is_empty() => Ok(()),
            Ok((_, used)) => Err(format!("bufused {used}")),
            Err(e) => Err(format!("errno {e}")),
        },
    );
    match open(ROOT, "bin", O_DIRECTORY, FD_READDIR | PATH_OPEN, 0) {
        Ok(fd) => {
            r.check(
                "fd_readdir(/bin)",
                list_dir(fd, 4096).and_then(|e| {
                    let me = e.iter().find(|d| d.name == own_name);
                    ensure(me.is_some_and(|d| d.filetype == FT_REGULAR_FILE), || {
                        format!("entries {:?}", names(&e))
                    })
                }),
            );
            sys::fd_close(fd);
        }
        Err(e) => r.check("fd_readdir(/bin)", Err(format!("path_open: errno {e}"))),
    }
    r.errno(
        "fd_readdir: bad fd",
        sys::fd_readdir(9999, a(BUF), 100, 0, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_readdir: not a directory",
        sys::fd_readdir(1, a(BUF), 100, 0, a(OUT)),
        EBADF,
    );
    r.check(
        "fd_readdir: a buffer of length 0 is never touched (wherever it is)",
        match sys::fd_readdir(ROOT, FAR, 0, 0, a(OUT)) {
            SUCCESS => ensure(get_u32(OUT) == 0, || format!("used {}", get_u32(OUT))),
            e => expect(e, SUCCESS),
        },
    );
}

const SCRATCH: &str = "wasi-conformance.tmp";
const SCRATCH_DIR: &str = "wasi-conformance.dir";

fn tmp_checks(r: &mut Report) {
    // Leftovers of an earlier run (the /tmp tree may be shared).
    path_call(sys::path_unlink_file, TMP, SCRATCH);
    path_call(sys::path_unlink_file, TMP, &format!("{SCRATCH_DIR}/f"));
    path_call(sys::path_remove_directory, TMP, SCRATCH_DIR);

    let fd = match open(TMP, SCRATCH, O_CREAT | O_EXCL, FILE_RW, 0) {
        Ok(fd) => {
            r.check("path_open: O_CREAT|O_EXCL in /tmp", Ok(()));
            fd
        }
        Err(e) => {
            r.check(
                "path_open: O_CREAT|O_EXCL in /tmp",
                Err(format!("errno {e}")),
            );
            return;
        }
    };
    r.check(
        "path_open: O_EXCL on an existing file",
        match open(TMP, SCRATCH, O_CREAT | O_EXCL, FILE_RW, 0) {
            Err(EEXIST) => Ok(()),
            other => Err(format!("{other:?}, expected EEXIST")),
        },
    );
    r.check(
        "fd_write: two iovecs to a file (the first only, as wasmtime)",
        match write(fd, &[b"hello, ", b"atoll\n"]).and_then(|n| {
            let rest: &[u8] = b"atoll\n";
            write(fd, &[rest]).map(|m| (n, m))
        }) {
            Ok((7, 6)) => Ok(()),
            other => Err(format!("{other:?}, expected 7 then 6 bytes")),
        },
    );
    r.check(
        "fd_read: read back from /tmp",
        seek(fd, 0, SEEK_SET)
            .and_then(|_| read(fd, 100))
            .map_err(|e| format!("errno {e}"))
            .and_then(|d| {
                ensure(d == b"hello, atoll\n", || {
                    format!("read {:?}", String::from_utf8_lossy(&d))
                })
            }),
    );
    r.check(
        "fd_seek: past the end, then write",
        seek(fd, 16, SEEK_SET)
            .and_then(|_| write(fd, &[b"!"]))
            .and_then(|_| filestat(fd))
            .map_err(|e| format!("errno {e}"))
            .and_then(|s| ensure(s.size == 17, || format!("size {}, expected 17", s.size))),
    );

    r.errno("fd_close: a /tmp file", sys::fd_close(fd), SUCCESS);
    r.check(
        "path_open: O_TRUNC in /tmp",
        open(TMP, SCRATCH, O_TRUNC, FILE_RW, 0)
            .and_then(|fd| {
                let s = filestat(fd);
                sys::fd_close(fd);
                s
            })
            .map_err(|e| format!("errno {e}"))
            .and_then(|s| ensure(s.size == 0, || format!("size {} after O_TRUNC", s.size))),
    );
    r.check(
        "path_open: FDFLAGS_APPEND writes at the end",
        open(TMP, SCRATCH, 0, FILE_RW, FDFLAGS_APPEND)
            .and_then(|fd| {
                let r = write(fd, &[b"one"])
                    .and_then(|_| seek(fd, 0, SEEK_SET))
                    .and_then(|_| write(fd, &[b"two"]))
                    .and_then(|_| seek(fd, 0, SEEK_SET))
                    .and_then(|_| read(fd, 100));
                let flags = sys::fd_fdstat_get(fd, a(OUT2));
                let flags = (flags == SUCCESS).then(|| get_u16(OUT2 + 2));
                sys::fd_close(fd);
                r.map(|d| (d, flags))
            })
            .map_err(|e| format!("errno {e}"))
            .and_then(|(d, flags)| {
                ensure(d == b"onetwo", || {
                    format!("read {:?}", String::from_utf8_lossy(&d))
                })?;
                ensure(flags == Some(FDFLAGS_APPEND as u16), || {
                    format!("fd_fdstat_get flags {flags:?}")
                })
            }),
    );
    r.check(
        "fd_readdir(/tmp) shows a new file",
        list_dir(TMP, 4096).and_then(|e| {
            ensure(names(&e).contains(&SCRATCH), || {
                format!("{SCRATCH} missing from {:?}", names(&e))
            })
        }),
    );
    r.errno(
        "path_create_directory: in /tmp",
        path_call(sys::path_create_directory, TMP, SCRATCH_DIR),
        SUCCESS,
    );
    r.errno(
        "path_create_directory: existing",
        path_call(sys::path_create_directory, TMP, SCRATCH_DIR),
        EEXIST,
    );
    let inner = format!("{SCRATCH_DIR}/f");
    let made = open(TMP, &inner, O_CREAT, FILE_RW, 0).map(|fd| sys::fd_close(fd));
    r.errno(
        "path_remove_directory: not empty",
        path_call(sys::path_remove_directory, TMP, SCRATCH_DIR),
        if made.is_ok() { ENOTEMPTY } else { SUCCESS },
    );
    r.errno(
        "path_unlink_file: in /tmp",
        path_call(sys::path_unlink_file, TMP, &inner),
        SUCCESS,
    );
    r.errno(
        "path_remove_directory: in /tmp",
        path_call(sys::path_remove_directory, TMP, SCRATCH_DIR),
        SUCCESS,
    );
    r.errno(
        "path_unlink_file: scratch file",
        path_call(sys::path_unlink_file, TMP, SCRATCH),
        SUCCESS,
    );
    r.errno(
        "path_unlink_file: missing",
        path_call(sys::path_unlink_file, TMP, SCRATCH),
        ENOENT,
    );
}

fn console(r: &mut Report) {
    r.check(
        "fd_write: stdout, empty iovecs",
        match write(1, &[b"", b""]) {
            Ok(0) => Ok(()),
            other => Err(format!("{other:?}, expected 0 bytes")),
        },
    );
    r.check(
        "fd_write: stderr, no iovecs",
        match write(2, &[]) {
            Ok(0) => Ok(()),
            other => Err(format!("{other:?}, expected 0 bytes")),
        },
    );
    put(IOV, &[a(BUF).to_le_bytes(), 1u32.to_le_bytes()].concat());
    r.errno(
        "fd_write: bad fd",
        sys::fd_write(9999, a(IOV), 1, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_write: stdin is not writable",
        sys::fd_write(0, a(IOV), 1, a(OUT)),
        EBADF,
    );
    r.errno(
        "fd_write: a directory",
        sys::fd_write(ROOT, a(IOV), 1, a(OUT)),
        EBADF,
    );
    r.check(
        "fd_write: no iovecs, so the array is never read (wherever it is)",
        match sys::fd_write(1, FAR, 0, a(OUT)) {
            SUCCESS => ensure(get_u32(OUT) == 0, || format!("wrote {}", get_u32(OUT))),
            e => expect(e, SUCCESS),
        },
    );
    put(IOV, &[a(BUF).to_le_bytes(), 0u32.to_le_bytes()].concat());
    r.errno(
        "fd_read: reading nothing from stdin is EINTR",
        sys::fd_read(0, a(IOV), 1, a(OUT)),
        EINTR,
    );
    r.errno("fd_close: bad fd", sys::fd_close(9999), EBADF);
}

fn clocks_random_sched(r: &mut Report) {
    let t1 = sys::clock_time_get(CLOCK_MONOTONIC, 1, a(OUT));
    let first = get_u64(OUT);
    sys::sched_yield();
    let t2 = sys::clock_time_get(CLOCK_MONOTONIC, 1, a(OUT));
    let second = get_u64(OUT);
    r.check(
        "clock_time_get(monotonic)",
        expect(t1, SUCCESS)
            .and(expect(t2, SUCCESS))
            .and_then(|_| ensure(second >= first, || format!("{first} then {second}"))),
    );
    r.errno(
        "clock_time_get(realtime)",
        sys::clock_time_get(CLOCK_REALTIME, 1, a(OUT)),
        SUCCESS,
    );
    for (name, id) in [("monotonic", CLOCK_MONOTONIC), ("realtime", CLOCK_REALTIME)] {
        let e = sys::clock_res_get(id, a(OUT));
        let res = get_u64(OUT);
        r.check(
            &format!("clock_res_get({name})"),
            expect(e, SUCCESS).and_then(|_| {
                ensure(res > 0 && res <= 1_000_000_000, || {
                    format!("resolution {res} ns")
                })
            }),
        );
    }
    put(BUF, &[0; 128]);
    let e1 = sys::random_get(a(BUF), 64);
    let e2 = sys::random_get(a(BUF + 64), 64);
    let bytes = get(BUF, 128);
    r.check(
        "random_get",
        expect(e1, SUCCESS).and(expect(e2, SUCCESS)).and_then(|_| {
            ensure(
                bytes[..64] != bytes[64..] && bytes.iter().any(|&b| b != 0),
                || "two 64-byte draws are equal or all zero".into(),
            )
        }),
    );
    r.errno(
        "random_get: zero length",
        sys::random_get(a(BUF), 0),
        SUCCESS,
    );
    r.errno(
        "random_get: nothing to write, so the buffer is never touched (wherever it is)",
        sys::random_get(FAR, 0),
        SUCCESS,
    );
    r.errno("sched_yield", sys::sched_yield(), SUCCESS);
}

/// Writes subscription `i`: a clock (`fd` is the clock id) or an fd event.
fn subscribe(i: u32, userdata: u64, tag: u8, fd_or_clock: u32, timeout: u64, flags: u16) {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = tag;
    s[16..20].copy_from_slice(&fd_or_clock.to_le_bytes());
    s[24..32].copy_from_slice(&timeout.to_le_bytes());
    s[40..42].copy_from_slice(&flags.to_le_bytes());
    put(SUBS + 48 * i, &s);
}

struct Event {
    userdata: u64,
    error: u16,
    tag: u8,
}

fn poll(nsubs: u32) -> Result<Vec<Event>, i32> {
    match sys::poll_oneoff(a(SUBS), a(EVENTS), nsubs, a(OUT)) {
        SUCCESS => Ok((0..get_u32(OUT).min(nsubs))
            .map(|i| {
                let at = EVENTS + 32 * i;
                Event {
                    userdata: get_u64(at),
                    error: get_u16(at + 8),
                    tag: get_u8(at + 10),
                }
            })
            .collect()),
        e => Err(e),
    }
}

fn monotonic() -> u64 {
    sys::clock_time_get(CLOCK_MONOTONIC, 1, a(OUT2));
    get_u64(OUT2)
}

fn poll_checks(r: &mut Report) {
    // A relative clock: returns after the timeout, with one event.
    let start = monotonic();
    subscribe(0, 0x1234, EVENT_CLOCK, CLOCK_MONOTONIC, 2_000_000, 0);
    let events = poll(1);
    let elapsed = monotonic() - start;
    r.check(
        "poll_oneoff: clock",
        events.map_err(|e| format!("errno {e}")).and_then(|ev| {
            ensure(
                ev.len() == 1 && ev[0].userdata == 0x1234 && ev[0].error == 0,
                || format!("{} events", ev.len()),
            )?;
            ensure(elapsed >= 2_000_000, || {
                format!("returned after {elapsed} ns, before the 2 ms timeout")
            })
        }),
    );
    // An absolute deadline in the past fires at once.
    subscribe(0, 7, EVENT_CLOCK, CLOCK_MONOTONIC, 1, 1);
    r.check(
        "poll_oneoff: absolute clock in the past",
        poll(1)
            .map_err(|e| format!("errno {e}"))
            .and_then(|ev| ensure(ev.len() == 1 && ev[0].userdata == 7, || "no event".into())),
    );
    // stdin (at end of input, or nothing typed) with a timeout: either stdin is ready, and
    // then a read does not block, or the clock fires.
    subscribe(0, 10, EVENT_FD_READ, 0, 0, 0);
    subscribe(1, 11, EVENT_CLOCK, CLOCK_MONOTONIC, 5_000_000, 0);
    let got = poll(2);
    let stdin_ready = got
        .as_ref()
        .is_ok_and(|ev| ev.iter().any(|e| e.userdata == 10 && e.error == 0));
    r.check(
        "poll_oneoff: stdin and a clock",
        got.map_err(|e| format!("errno {e}")).and_then(|ev| {
            ensure(!ev.is_empty(), || "no events".into())?;
            ensure(
                ev.iter().all(|e| {
                    (e.userdata == 10 && e.tag == EVENT_FD_READ)
                        || (e.userdata == 11 && e.tag == EVENT_CLOCK)
                }),
                || "an event that was not subscribed to".into(),
            )
        }),
    );
    if stdin_ready {
        r.check(
            "fd_read: stdin after poll_oneoff said ready",
            read(0, 64).map(|_| ()).map_err(|e| format!("errno {e}")),
        );
    }
    // stdout is always writable; a bad fd is an event with EBADF, not a failed call.
    subscribe(0, 20, EVENT_FD_WRITE, 1, 0, 0);
    subscribe(1, 21, EVENT_FD_READ, 9999, 0, 0);
    // wasmtime: an fd that is not open fails the whole call.
    r.check(
        "poll_oneoff: stdout writable, bad fd",
        match poll(2) {
            Err(EBADF) => Ok(()),
            other => Err(format!("{:?}, expected EBADF", other.map(|e| e.len()))),
        },
    );
    r.errno(
        "poll_oneoff: no subscriptions",
        sys::poll_oneoff(a(SUBS), a(EVENTS), 0, a(OUT)),
        EINVAL,
    );
    r.errno(
        "poll_oneoff: more subscriptions than one call may take (128 MiB)",
        sys::poll_oneoff(a(SUBS), a(EVENTS), 0x1000_0000, a(OUT)),
        ENOMEM,
    );
    // A subscription is read from memory: a value outside its type is EINVAL.
    subscribe(0, 1, 9, 0, 0, 0);
    r.errno(
        "poll_oneoff: an unknown event type",
        sys::poll_oneoff(a(SUBS), a(EVENTS), 1, a(OUT)),
        EINVAL,
    );
    subscribe(0, 1, EVENT_CLOCK, 9, 0, 0);
    r.errno(
        "poll_oneoff: an unknown clock",
        sys::poll_oneoff(a(SUBS), a(EVENTS), 1, a(OUT)),
        EINVAL,
    );
    subscribe(0, 1, EVENT_CLOCK, CLOCK_MONOTONIC, 0, 0x10);
    r.errno(
        "poll_oneoff: unknown clock flags",
        sys::poll_oneoff(a(SUBS), a(EVENTS), 1, a(OUT)),
        EINVAL,
    );
}

fn unsupported(r: &mut Report) {
    let target = put(PATH, b"wasi-conformance.link");
    let old = put(PATH + 0x100, b"x");
    r.errno(
        "path_symlink: in /tmp",
        sys::path_symlink(a(PATH + 0x100), old, TMP, a(PATH), target),
        SUCCESS,
    );
    r.errno(
        "path_symlink: the name is taken",
        sys::path_symlink(a(PATH + 0x100), old, TMP, a(PATH), target),
        EEXIST,
    );
    r.errno(
        "path_readlink: the link in /tmp",
        sys::path_readlink(TMP, a(PATH), target, a(BUF), 64, a(OUT)),
        SUCCESS,
    );
    r.errno(
        "path_unlink_file: the link in /tmp",
        sys::path_unlink_file(TMP, a(PATH), target),
        SUCCESS,
    );
    r.errno(
        "path_symlink: in /",
        sys::path_symlink(a(PATH + 0x100), old, ROOT, a(PATH), target),
        EPERM,
    );
    r.errno(
        "path_symlink: bad fd",
        sys::path_symlink(a(PATH + 0x100), old, 9999, a(PATH), target),
        EBADF,
    );
    let dot = put(PATH + 0x200, b".");
    r.errno(
        "path_link: a directory",
        sys::path_link(TMP, 0, a(PATH + 0x200), dot, TMP, a(PATH), target),
        EPERM,
    );
    r.check(
        "path_remove_directory: a last component . or .. is EINVAL",
        {
            let d = "wasi-conformance.dots";
            let e = path_call(sys::path_create_directory, TMP, d);
            let results = [
                e,
                path_call(sys::path_remove_directory, TMP, &format!("{d}/..")),
                path_call(sys::path_remove_directory, TMP, &format!("{d}/.")),
                path_call(sys::path_remove_directory, TMP, d),
            ];
            ensure(results == [SUCCESS, EINVAL, EINVAL, SUCCESS], || {
                format!("mkdir, rmdir d/.., rmdir d/., rmdir d: {results:?}")
            })
        },
    );
    let len = put(PATH + 0x200, b"bin");
    r.errno(
        "path_readlink: not a link",
        sys::path_readlink(ROOT, a(PATH + 0x200), len, a(BUF), 64, a(OUT)),
        EINVAL,
    );
    r.errno("proc_raise", sys::proc_raise(6), ENOTSUP);
    r.errno(
        "sock_accept: not a socket",
        sys::sock_accept(ROOT, 0, a(OUT)),
        ENOTSOCK,
    );
    r.errno(
        "sock_accept: bad fd",
        sys::sock_accept(9999, 0, a(OUT)),
        EBADF,
    );
    r.errno(
        "sock_recv: not a socket",
        sys::sock_recv(0, a(IOV), 0, 0, a(OUT), a(OUT + 8)),
        ENOTSOCK,
    );
    r.errno(
        "sock_send: not a socket",
        sys::sock_send(1, a(IOV), 0, 0, a(OUT)),
        ENOTSOCK,
    );
    r.errno(
        "sock_shutdown: not a socket",
        sys::sock_shutdown(1, 3),
        ENOTSOCK,
    );
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if let [_, flag, code] = argv.as_slice()
        && flag == "--exit"
    {
        sys::proc_exit(code.parse().unwrap_or(1));
    }
    let own = std::env::var("CONFORMANCE_FILE").unwrap_or("/bin/wasi-conformance.wasm".into());

    let mut r = Report::default();
    args(&mut r);
    environ(&mut r);
    preopens(&mut r);
    fdstats(&mut r);
    read_only_file(&mut r, &own);
    let below_root = own.trim_start_matches('/');
    path_open_errors(&mut r, below_root);
    readdir_checks(&mut r, below_root);
    tmp_checks(&mut r);
    console(&mut r);
    clocks_random_sched(&mut r);
    poll_checks(&mut r);
    unsupported(&mut r);

    let mut line = String::new();
    let _ = writeln!(line, "{} passed, {} failed", r.passed, r.failed);
    print(&line);
    sys::proc_exit(u32::from(r.failed > 0));
}
