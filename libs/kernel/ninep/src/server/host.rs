//! Thin safe wrappers over the Linux `*at` system calls the test server uses. Each returns
//! the host's errno on failure, which the server sends back unchanged in `Rlerror`.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::vec;
use std::vec::Vec;

/// A host errno.
pub type Errno = u32;

fn last_errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO) as Errno
}

fn check(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret < 0 { Err(last_errno()) } else { Ok(ret) }
}

fn check_size(ret: libc::ssize_t) -> Result<usize, Errno> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as usize)
    }
}

/// A name from the wire as a C string: empty names and names with `/` or NUL are refused
/// (`ENOENT`, as QEMU's `name_is_illegal`).
pub fn name(bytes: &[u8]) -> Result<CString, Errno> {
    if bytes.is_empty() || bytes.contains(&b'/') {
        return Err(libc::ENOENT as Errno);
    }
    CString::new(bytes).map_err(|_| libc::ENOENT as Errno)
}

pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: `name` is NUL-terminated and `dir` a live descriptor; the call only reads them.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode,
        )
    })?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `lstat` of `name` in `dir`, or of `dir` itself when `name` is `None`.
pub fn lstat(dir: BorrowedFd<'_>, name: Option<&CStr>) -> Result<libc::stat, Errno> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    let (path, flags) = match name {
        Some(n) => (n.as_ptr(), libc::AT_SYMLINK_NOFOLLOW),
        None => (
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        ),
    };
    // SAFETY: `path` is NUL-terminated, `st` is writable and outlives the call.
    check(unsafe { libc::fstatat(dir.as_raw_fd(), path, &mut st, flags) })?;
    Ok(st)
}

pub fn fstat(fd: BorrowedFd<'_>) -> Result<libc::stat, Errno> {
    lstat(fd, None)
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

pub fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> Result<(), Errno> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

pub fn readlinkat(dir: BorrowedFd<'_>, name: Option<&CStr>) -> Result<Vec<u8>, Errno> {
    let path = name.map_or(c"".as_ptr(), CStr::as_ptr);
    let mut buf = vec![0u8; 4096];
    // SAFETY: `path` is NUL-terminated; `buf` is writable for its length.
    let n = check_size(unsafe {
        libc::readlinkat(dir.as_raw_fd(), path, buf.as_mut_ptr().cast(), buf.len())
    })?;
    buf.truncate(n);
    Ok(buf)
}

pub fn linkat(
    old_dir: BorrowedFd<'_>,
    old: &CStr,
    new_dir: BorrowedFd<'_>,
    new: &CStr,
) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
            0,
        )
    })
    .map(drop)
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

pub fn renameat(
    old_dir: BorrowedFd<'_>,
    old: &CStr,
    new_dir: BorrowedFd<'_>,
    new: &CStr,
) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe {
        libc::renameat(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
        )
    })
    .map(drop)
}

/// `utimensat` without following a final symbolic link; with `name` `None`, `futimens`.
pub fn set_times(
    dir: BorrowedFd<'_>,
    name: Option<&CStr>,
    times: &[libc::timespec; 2],
) -> Result<(), Errno> {
    match name {
        // SAFETY: `n` is NUL-terminated and `times` points at two timespecs.
        Some(n) => check(unsafe {
            libc::utimensat(
                dir.as_raw_fd(),
                n.as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        }),
        // SAFETY: `times` points at two timespecs.
        None => check(unsafe { libc::futimens(dir.as_raw_fd(), times.as_ptr()) }),
    }
    .map(drop)
}

pub fn fchmodat(dir: BorrowedFd<'_>, name: Option<&CStr>, mode: u32) -> Result<(), Errno> {
    match name {
        // SAFETY: `n` is NUL-terminated.
        Some(n) => check(unsafe { libc::fchmodat(dir.as_raw_fd(), n.as_ptr(), mode, 0) }),
        // SAFETY: plain descriptor call.
        None => check(unsafe { libc::fchmod(dir.as_raw_fd(), mode) }),
    }
    .map(drop)
}

pub fn fchownat(dir: BorrowedFd<'_>, name: Option<&CStr>, uid: u32, gid: u32) -> Result<(), Errno> {
    let (path, flags) = match name {
        Some(n) => (n.as_ptr(), libc::AT_SYMLINK_NOFOLLOW),
        None => (
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        ),
    };
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::fchownat(dir.as_raw_fd(), path, uid, gid, flags) }).map(drop)
}

pub fn ftruncate(fd: BorrowedFd<'_>, len: u64) -> Result<(), Errno> {
    let len = i64::try_from(len).map_err(|_| libc::EFBIG as Errno)?;
    // SAFETY: plain descriptor call.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len) }).map(drop)
}

pub fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    let off = i64::try_from(offset).map_err(|_| libc::EINVAL as Errno)?;
    // SAFETY: `buf` is writable for its length.
    check_size(unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), off) })
}

pub fn pwrite(fd: BorrowedFd<'_>, data: &[u8], offset: u64) -> Result<usize, Errno> {
    let off = i64::try_from(offset).map_err(|_| libc::EINVAL as Errno)?;
    // SAFETY: `data` is readable for its length.
    check_size(unsafe { libc::pwrite(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), off) })
}

pub fn fsync(fd: BorrowedFd<'_>, data_only: bool) -> Result<(), Errno> {
    // SAFETY: plain descriptor calls.
    check(unsafe {
        if data_only {
            libc::fdatasync(fd.as_raw_fd())
        } else {
            libc::fsync(fd.as_raw_fd())
        }
    })
    .map(drop)
}

pub fn fstatfs(fd: BorrowedFd<'_>) -> Result<libc::statfs, Errno> {
    // SAFETY: an all-zero `statfs` is a valid value of this plain C struct.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: `st` is writable and outlives the call.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) })?;
    Ok(st)
}

/// One `getdents64` entry.
pub struct Dirent {
    pub ino: u64,
    /// The position after this entry.
    pub next: u64,
    pub dtype: u8,
    pub name: Vec<u8>,
}

/// One `getdents64` batch starting at directory position `offset`; empty at the end.
pub fn read_dir_at(fd: BorrowedFd<'_>, offset: u64) -> Result<Vec<Dirent>, Errno> {
    let raw: RawFd = fd.as_raw_fd();
    let off = i64::try_from(offset).map_err(|_| libc::EINVAL as Errno)?;
    // SAFETY: plain descriptor call.
    if unsafe { libc::lseek(raw, off, libc::SEEK_SET) } < 0 {
        return Err(last_errno());
    }
    let mut buf = vec![0u8; 32 * 1024];
    // SAFETY: `buf` is writable for its length; getdents64 writes at most that many bytes.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, raw, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return Err(last_errno());
    }
    let buf = &buf[..n as usize];
    let mut out = Vec::new();
    let mut pos = 0;
    // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    while pos + 19 <= buf.len() {
        let field = |at: usize, len: usize| &buf[pos + at..pos + at + len];
        let ino = u64::from_ne_bytes(field(0, 8).try_into().unwrap_or_default());
        let next = u64::from_ne_bytes(field(8, 8).try_into().unwrap_or_default());
        let reclen = usize::from(u16::from_ne_bytes(
            field(16, 2).try_into().unwrap_or_default(),
        ));
        let dtype = buf[pos + 18];
        if reclen < 19 || pos + reclen > buf.len() {
            return Err(libc::EIO as Errno);
        }
        let name = &buf[pos + 19..pos + reclen];
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        out.push(Dirent {
            ino,
            next,
            dtype,
            name: name[..len].to_vec(),
        });
        pos += reclen;
    }
    Ok(out)
}
