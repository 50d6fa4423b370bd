//! Safe wrappers over the raw preview 1 imports (`raw.rs`): slices in, `Result<_, Errno>` out.
//! Every wrapper hands the host only pointers to live Rust memory of the stated length.

use crate::consts::Errno;
use crate::raw;

pub type R<T> = Result<T, Errno>;

fn ok(e: u16) -> R<()> {
    if e == 0 { Ok(()) } else { Err(Errno(e)) }
}

/// `fdstat`, as the witx lays it out.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

/// `filestat`, as the witx lays it out.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// The iovec array for `bufs` (guest addresses are 32-bit: a pointer and a length each).
fn iovecs(bufs: &[&[u8]]) -> Vec<[usize; 2]> {
    bufs.iter()
        .map(|b| [b.as_ptr() as usize, b.len()])
        .collect()
}

pub fn fd_read(fd: u32, bufs: &mut [&mut [u8]]) -> R<usize> {
    let iov: Vec<[usize; 2]> = bufs
        .iter_mut()
        .map(|b| [b.as_mut_ptr() as usize, b.len()])
        .collect();
    let mut n = 0;
    // SAFETY: each iovec names a live, writable buffer of its length; `n` is a live out-parameter.
    ok(unsafe { raw::fd_read(fd, iov.as_ptr().cast(), iov.len(), &mut n) })?;
    Ok(n)
}

pub fn fd_pread(fd: u32, bufs: &mut [&mut [u8]], offset: u64) -> R<usize> {
    let iov: Vec<[usize; 2]> = bufs
        .iter_mut()
        .map(|b| [b.as_mut_ptr() as usize, b.len()])
        .collect();
    let mut n = 0;
    // SAFETY: as in `fd_read`.
    ok(unsafe { raw::fd_pread(fd, iov.as_ptr().cast(), iov.len(), offset, &mut n) })?;
    Ok(n)
}

pub fn fd_write(fd: u32, bufs: &[&[u8]]) -> R<usize> {
    let iov = iovecs(bufs);
    let mut n = 0;
    // SAFETY: each iovec names a live buffer of its length; `n` is a live out-parameter.
    ok(unsafe { raw::fd_write(fd, iov.as_ptr().cast(), iov.len(), &mut n) })?;
    Ok(n)
}

pub fn fd_pwrite(fd: u32, bufs: &[&[u8]], offset: u64) -> R<usize> {
    let iov = iovecs(bufs);
    let mut n = 0;
    // SAFETY: as in `fd_write`.
    ok(unsafe { raw::fd_pwrite(fd, iov.as_ptr().cast(), iov.len(), offset, &mut n) })?;
    Ok(n)
}

pub fn fd_seek(fd: u32, offset: i64, whence: u8) -> R<u64> {
    let mut pos = 0;
    // SAFETY: `pos` is a live out-parameter.
    ok(unsafe { raw::fd_seek(fd, offset, whence, &mut pos) })?;
    Ok(pos)
}

pub fn fd_tell(fd: u32) -> R<u64> {
    let mut pos = 0;
    // SAFETY: `pos` is a live out-parameter.
    ok(unsafe { raw::fd_tell(fd, &mut pos) })?;
    Ok(pos)
}

pub fn fd_close(fd: u32) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_close(fd) })
}

pub fn fd_sync(fd: u32) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_sync(fd) })
}

pub fn fd_datasync(fd: u32) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_datasync(fd) })
}

pub fn fd_advise(fd: u32, offset: u64, len: u64, advice: u8) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_advise(fd, offset, len, advice) })
}

pub fn fd_allocate(fd: u32, offset: u64, len: u64) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_allocate(fd, offset, len) })
}

pub fn fd_renumber(from: u32, to: u32) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_renumber(from, to) })
}

pub fn fd_fdstat_get(fd: u32) -> R<Fdstat> {
    let mut st = Fdstat::default();
    // SAFETY: `st` has the witx `fdstat` layout (24 bytes) and is live.
    ok(unsafe { raw::fd_fdstat_get(fd, (&raw mut st).cast()) })?;
    Ok(st)
}

pub fn fd_fdstat_set_flags(fd: u32, flags: u16) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_fdstat_set_flags(fd, flags) })
}

pub fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_fdstat_set_rights(fd, base, inheriting) })
}

pub fn fd_filestat_get(fd: u32) -> R<Filestat> {
    let mut st = Filestat::default();
    // SAFETY: `st` has the witx `filestat` layout (64 bytes) and is live.
    ok(unsafe { raw::fd_filestat_get(fd, (&raw mut st).cast()) })?;
    Ok(st)
}

pub fn fd_filestat_set_size(fd: u32, size: u64) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_filestat_set_size(fd, size) })
}

pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fstflags: u16) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::fd_filestat_set_times(fd, atim, mtim, fstflags) })
}

/// `(tag, name length)` of a preopen.
pub fn fd_prestat_get(fd: u32) -> R<(u8, u32)> {
    let mut out = [0u32; 2];
    // SAFETY: `out` is the 8-byte `prestat` (tag byte, then the u32 name length) and is live.
    ok(unsafe { raw::fd_prestat_get(fd, out.as_mut_ptr().cast()) })?;
    Ok(((out[0] & 0xff) as u8, out[1]))
}

pub fn fd_prestat_dir_name(fd: u32, buf: &mut [u8]) -> R<()> {
    // SAFETY: `buf` is live and writable for its length.
    ok(unsafe { raw::fd_prestat_dir_name(fd, buf.as_mut_ptr(), buf.len()) })
}

/// Reads directory entries into `buf` from `cookie`; returns the bytes used.
pub fn fd_readdir(fd: u32, buf: &mut [u8], cookie: u64) -> R<usize> {
    let mut used = 0;
    // SAFETY: `buf` is live and writable for its length; `used` is a live out-parameter.
    ok(unsafe { raw::fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie, &mut used) })?;
    Ok(used)
}

#[allow(clippy::too_many_arguments)]
pub fn path_open(
    fd: u32,
    dirflags: u32,
    path: &str,
    oflags: u16,
    base: u64,
    inheriting: u64,
    fdflags: u16,
) -> R<u32> {
    path_open_bytes(
        fd,
        dirflags,
        path.as_bytes(),
        oflags,
        base,
        inheriting,
        fdflags,
    )
}

/// `path_open` with a path that need not be UTF-8.
pub fn path_open_bytes(
    fd: u32,
    dirflags: u32,
    path: &[u8],
    oflags: u16,
    base: u64,
    inheriting: u64,
    fdflags: u16,
) -> R<u32> {
    let mut out = 0;
    // SAFETY: `path` is live for its length; `out` is a live out-parameter.
    ok(unsafe {
        raw::path_open(
            fd,
            dirflags,
            path.as_ptr(),
            path.len(),
            oflags,
            base,
            inheriting,
            fdflags,
            &mut out,
        )
    })?;
    Ok(out)
}

pub fn path_create_directory(fd: u32, path: &str) -> R<()> {
    // SAFETY: `path` is live for its length.
    ok(unsafe { raw::path_create_directory(fd, path.as_ptr(), path.len()) })
}

pub fn path_remove_directory(fd: u32, path: &str) -> R<()> {
    // SAFETY: `path` is live for its length.
    ok(unsafe { raw::path_remove_directory(fd, path.as_ptr(), path.len()) })
}

pub fn path_unlink_file(fd: u32, path: &str) -> R<()> {
    // SAFETY: `path` is live for its length.
    ok(unsafe { raw::path_unlink_file(fd, path.as_ptr(), path.len()) })
}

pub fn path_filestat_get(fd: u32, flags: u32, path: &str) -> R<Filestat> {
    let mut st = Filestat::default();
    // SAFETY: `path` is live for its length; `st` has the `filestat` layout and is live.
    ok(unsafe {
        raw::path_filestat_get(fd, flags, path.as_ptr(), path.len(), (&raw mut st).cast())
    })?;
    Ok(st)
}

pub fn path_filestat_set_times(
    fd: u32,
    flags: u32,
    path: &str,
    atim: u64,
    mtim: u64,
    fstflags: u16,
) -> R<()> {
    // SAFETY: `path` is live for its length.
    ok(unsafe {
        raw::path_filestat_set_times(fd, flags, path.as_ptr(), path.len(), atim, mtim, fstflags)
    })
}

pub fn path_rename(fd: u32, old: &str, new_fd: u32, new: &str) -> R<()> {
    // SAFETY: both paths are live for their lengths.
    ok(unsafe { raw::path_rename(fd, old.as_ptr(), old.len(), new_fd, new.as_ptr(), new.len()) })
}

pub fn path_link(old_fd: u32, flags: u32, old: &str, new_fd: u32, new: &str) -> R<()> {
    // SAFETY: both paths are live for their lengths.
    ok(unsafe {
        raw::path_link(
            old_fd,
            flags,
            old.as_ptr(),
            old.len(),
            new_fd,
            new.as_ptr(),
            new.len(),
        )
    })
}

pub fn path_symlink(target: &str, fd: u32, path: &str) -> R<()> {
    // SAFETY: both strings are live for their lengths.
    ok(unsafe { raw::path_symlink(target.as_ptr(), target.len(), fd, path.as_ptr(), path.len()) })
}

/// Reads a symlink into `buf`; returns the bytes used.
pub fn path_readlink(fd: u32, path: &str, buf: &mut [u8]) -> R<usize> {
    let mut used = 0;
    // SAFETY: `path` is live; `buf` is live and writable for its length; `used` is live.
    ok(unsafe {
        raw::path_readlink(
            fd,
            path.as_ptr(),
            path.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut used,
        )
    })?;
    Ok(used)
}

pub fn clock_res_get(id: u32) -> R<u64> {
    let mut t = 0;
    // SAFETY: `t` is a live out-parameter.
    ok(unsafe { raw::clock_res_get(id, &mut t) })?;
    Ok(t)
}

pub fn clock_time_get(id: u32, precision: u64) -> R<u64> {
    let mut t = 0;
    // SAFETY: `t` is a live out-parameter.
    ok(unsafe { raw::clock_time_get(id, precision, &mut t) })?;
    Ok(t)
}

pub fn random_get(buf: &mut [u8]) -> R<()> {
    // SAFETY: `buf` is live and writable for its length.
    ok(unsafe { raw::random_get(buf.as_mut_ptr(), buf.len()) })
}

pub fn sched_yield() -> R<()> {
    // SAFETY: no arguments.
    ok(unsafe { raw::sched_yield() })
}

pub fn proc_exit(code: u32) -> ! {
    // SAFETY: plain integer; the call does not return.
    unsafe { raw::proc_exit(code) }
}

pub fn sock_accept(fd: u32, flags: u16) -> R<u32> {
    let mut out = 0;
    // SAFETY: `out` is a live out-parameter.
    ok(unsafe { raw::sock_accept(fd, flags, &mut out) })?;
    Ok(out)
}

pub fn sock_shutdown(fd: u32, how: u8) -> R<()> {
    // SAFETY: plain integers.
    ok(unsafe { raw::sock_shutdown(fd, how) })
}

/// A `subscription` (48 bytes): a clock, or readiness of an fd.
#[derive(Clone, Copy)]
pub enum Sub {
    /// `(userdata, clock id, timeout ns, precision ns, flags)`.
    Clock(u64, u32, u64, u64, u16),
    /// `(userdata, fd)`.
    Read(u64, u32),
    /// `(userdata, fd)`.
    Write(u64, u32),
}

/// An `event` as reported: `(userdata, errno, type, nbytes, flags)`.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub userdata: u64,
    pub error: u16,
    pub kind: u8,
    pub nbytes: u64,
    pub flags: u16,
}

fn encode(sub: &Sub) -> [u8; 48] {
    let mut b = [0u8; 48];
    let (ud, tag) = match *sub {
        Sub::Clock(ud, id, timeout, precision, flags) => {
            b[16..20].copy_from_slice(&id.to_le_bytes());
            b[24..32].copy_from_slice(&timeout.to_le_bytes());
            b[32..40].copy_from_slice(&precision.to_le_bytes());
            b[40..42].copy_from_slice(&flags.to_le_bytes());
            (ud, 0)
        }
        Sub::Read(ud, fd) => {
            b[16..20].copy_from_slice(&fd.to_le_bytes());
            (ud, 1)
        }
        Sub::Write(ud, fd) => {
            b[16..20].copy_from_slice(&fd.to_le_bytes());
            (ud, 2)
        }
    };
    b[0..8].copy_from_slice(&ud.to_le_bytes());
    b[8] = tag;
    b
}

/// `poll_oneoff` over `subs`; returns the events in the order the host wrote them.
pub fn poll_oneoff(subs: &[Sub]) -> R<Vec<Event>> {
    let bytes: Vec<u8> = subs.iter().flat_map(encode).collect();
    // u64-aligned storage for the events (32 bytes each).
    let mut events = vec![0u64; 4 * subs.len().max(1)];
    let mut n = 0;
    // SAFETY: `bytes` holds `subs.len()` encoded subscriptions; `events` has room for as many
    // 32-byte events; `n` is a live out-parameter.
    ok(unsafe {
        raw::poll_oneoff(
            bytes.as_ptr(),
            events.as_mut_ptr().cast(),
            subs.len(),
            &mut n,
        )
    })?;
    let raw: Vec<u8> = events.iter().flat_map(|w| w.to_le_bytes()).collect();
    Ok(raw
        .chunks(32)
        .take(n)
        .map(|e| Event {
            userdata: u64::from_le_bytes(e[0..8].try_into().unwrap_or_default()),
            error: u16::from_le_bytes([e[8], e[9]]),
            kind: e[10],
            nbytes: u64::from_le_bytes(e[16..24].try_into().unwrap_or_default()),
            flags: u16::from_le_bytes([e[24], e[25]]),
        })
        .collect())
}

/// One parsed `dirent`: `(next cookie, type, name)` (the inode is left out on purpose).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    pub next: u64,
    pub kind: u8,
    pub name: Vec<u8>,
}

/// Parses the entries `fd_readdir` wrote into `buf[..used]`; a last entry cut short by the
/// buffer's end is left out (the second value says whether one was).
pub fn parse_dirents(buf: &[u8]) -> (Vec<Dirent>, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        if buf.len() - at < 24 {
            return (out, true);
        }
        let h = &buf[at..at + 24];
        let next = u64::from_le_bytes(h[0..8].try_into().unwrap_or_default());
        let namlen = u32::from_le_bytes(h[16..20].try_into().unwrap_or_default()) as usize;
        let kind = h[20];
        if buf.len() - at - 24 < namlen {
            return (out, true);
        }
        out.push(Dirent {
            next,
            kind,
            name: buf[at + 24..at + 24 + namlen].to_vec(),
        });
        at += 24 + namlen;
    }
    (out, false)
}

/// Every entry of the directory `fd`, read with a large buffer from cookie 0.
pub fn read_dir_all(fd: u32) -> R<Vec<Dirent>> {
    let mut all = Vec::new();
    let mut cookie = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let used = fd_readdir(fd, &mut buf, cookie)?;
        let (entries, cut) = parse_dirents(&buf[..used]);
        let Some(last) = entries.last() else {
            return Ok(all);
        };
        cookie = last.next;
        all.extend(entries);
        if used < buf.len() && !cut {
            return Ok(all);
        }
    }
}
