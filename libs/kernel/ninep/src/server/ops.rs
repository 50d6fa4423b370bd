//! The test [`Server`]'s dispatcher: one host operation per 9P request (the handlers that
//! keep fid state are in `fids`).

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;
use std::vec;
use std::vec::Vec;

use super::host::{self, Errno};
use super::{Open, Server, lock};
use crate::errno;
use crate::msg::{
    AT_REMOVEDIR, Attr, HEADER_LEN, Rmsg, StatFs, Tmsg, VERSION_9P2000_L, getattr, open,
};
use crate::wire::{QT_DIR, QT_FILE, QT_SYMLINK, Qid};

pub(super) fn qid(st: &libc::stat) -> Qid {
    let ty = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => QT_DIR,
        libc::S_IFLNK => QT_SYMLINK,
        _ => QT_FILE,
    };
    // QEMU's `stat_to_qid`.
    let version = (st.st_mtime as u64 ^ ((st.st_size as u64) << 8)) as u32;
    Qid {
        ty,
        version,
        path: st.st_ino,
    }
}

// `st_nlink` and `st_blksize` are narrower on some Linux targets.
#[allow(clippy::unnecessary_cast)]
fn attr(st: &libc::stat) -> Attr {
    Attr {
        valid: getattr::BASIC,
        qid: qid(st),
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        nlink: st.st_nlink as u64,
        rdev: st.st_rdev,
        size: st.st_size as u64,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        atime_sec: st.st_atime as u64,
        atime_nsec: st.st_atime_nsec as u64,
        mtime_sec: st.st_mtime as u64,
        mtime_nsec: st.st_mtime_nsec as u64,
        ctime_sec: st.st_ctime as u64,
        ctime_nsec: st.st_ctime_nsec as u64,
        ..Attr::default()
    }
}

/// 9P2000.L open flags to the host's, without the ones a server drops (QEMU's
/// `get_dotl_openflags`), never following a final symbolic link.
pub(super) fn host_flags(flags: u32) -> i32 {
    let map = [
        (open::CREATE, libc::O_CREAT),
        (open::EXCL, libc::O_EXCL),
        (open::TRUNC, libc::O_TRUNC),
        (open::APPEND, libc::O_APPEND),
        (open::NONBLOCK, libc::O_NONBLOCK),
        (open::DSYNC, libc::O_DSYNC),
        (open::DIRECTORY, libc::O_DIRECTORY),
        (open::SYNC, libc::O_SYNC),
    ];
    let mut out = (flags & open::ACCMODE) as i32;
    for (p9, h) in map {
        if flags & p9 == p9 {
            out |= h;
        }
    }
    out | libc::O_NOFOLLOW
}

pub(super) fn wants_write(flags: u32) -> bool {
    flags & open::ACCMODE != open::RDONLY || flags & (open::TRUNC | open::APPEND) != 0
}

fn cstring(bytes: &[u8]) -> Result<std::ffi::CString, Errno> {
    std::ffi::CString::new(bytes).map_err(|_| errno::EINVAL)
}

/// `Rlerror` when an encoding limit is hit (a reply that cannot be expressed).
pub(super) fn enc(r: Result<(), crate::wire::WireError>) -> Result<(), Errno> {
    r.map_err(|_| errno::EIO)
}

impl Server {
    pub(super) fn iounit(&self, fd: BorrowedFd<'_>) -> u32 {
        let room = self
            .msize
            .load(Ordering::Relaxed)
            .saturating_sub(crate::msg::IOHDRSZ as u32);
        match host::fstatfs(fd) {
            Ok(st) if st.f_bsize > 0 && (st.f_bsize as u64) <= u64::from(room) => {
                let b = st.f_bsize as u32;
                b * (room / b)
            }
            _ => room,
        }
    }

    /// Handles one decoded request, writing its reply into `out`.
    pub(super) fn dispatch(
        &self,
        tag: u16,
        msg: &Tmsg<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        let read_only_op = matches!(
            msg,
            Tmsg::Version { .. }
                | Tmsg::Attach { .. }
                | Tmsg::Walk { .. }
                | Tmsg::Lopen { .. }
                | Tmsg::Read { .. }
                | Tmsg::Clunk { .. }
                | Tmsg::Getattr { .. }
                | Tmsg::Readdir { .. }
                | Tmsg::Readlink { .. }
                | Tmsg::Fsync { .. }
                | Tmsg::Statfs { .. }
                | Tmsg::Flush { .. }
        );
        if self.options.read_only && !read_only_op {
            return Err(errno::EROFS);
        }
        let reply = |m: Rmsg<'_>, out: &mut Vec<u8>| enc(m.encode(tag, out));
        match *msg {
            Tmsg::Version { msize, version } => {
                let msize = msize.min(self.options.max_msize);
                self.msize.store(msize, Ordering::Relaxed);
                lock(&self.fids).clear();
                let version: &[u8] = if version.starts_with(VERSION_9P2000_L) {
                    VERSION_9P2000_L
                } else {
                    b"unknown"
                };
                reply(Rmsg::Version { msize, version }, out)
            }
            Tmsg::Attach { fid, .. } => {
                let st = host::fstat(self.root.as_fd())?;
                self.add_fid(fid, Vec::new(), Open::None)?;
                reply(Rmsg::Attach { qid: qid(&st) }, out)
            }
            Tmsg::Walk {
                fid,
                newfid,
                ref names,
            } => {
                let qids = self.walk(fid, newfid, names)?;
                reply(Rmsg::Walk { qids }, out)
            }
            Tmsg::Lopen { fid, flags } => {
                let (qid, iounit) = self.lopen(fid, flags)?;
                reply(Rmsg::Lopen { qid, iounit }, out)
            }
            Tmsg::Lcreate {
                fid,
                name,
                flags,
                mode,
                gid,
            } => {
                let (qid, iounit) = self.lcreate(fid, name, flags, mode, gid)?;
                reply(Rmsg::Lcreate { qid, iounit }, out)
            }
            Tmsg::Read { fid, offset, count } => {
                let f = self.fid(fid)?;
                let open = lock(&f.open);
                let Open::File(fd) = &*open else {
                    return Err(if matches!(*open, Open::Dir(_)) {
                        errno::EISDIR
                    } else {
                        errno::EBADF
                    });
                };
                let room = self.msize.load(Ordering::Relaxed) as usize - HEADER_LEN - 4;
                let mut buf = vec![0u8; (count as usize).min(room)];
                let n = host::pread(fd.as_fd(), &mut buf, offset)?;
                reply(Rmsg::Read { data: &buf[..n] }, out)
            }
            Tmsg::Write { fid, offset, data } => {
                let f = self.fid(fid)?;
                let open = lock(&f.open);
                let Open::File(fd) = &*open else {
                    return Err(errno::EBADF);
                };
                let n = host::pwrite(fd.as_fd(), data, offset)?;
                reply(Rmsg::Write { count: n as u32 }, out)
            }
            Tmsg::Clunk { fid } => {
                lock(&self.fids).remove(&fid).ok_or(errno::ENOENT)?;
                reply(Rmsg::Clunk, out)
            }
            Tmsg::Getattr { fid, .. } => {
                let f = self.fid(fid)?;
                let open = lock(&f.open);
                let st = match open.fd() {
                    Some(fd) => host::fstat(fd.as_fd())?,
                    None => {
                        let path = lock(&f.path).clone();
                        let (dir, name) = self.locate(&path)?;
                        host::lstat(dir.as_fd(), name.as_deref())?
                    }
                };
                reply(Rmsg::Getattr(attr(&st)), out)
            }
            Tmsg::Setattr { fid, attr } => {
                self.setattr(fid, &attr)?;
                reply(Rmsg::Setattr, out)
            }
            Tmsg::Readdir { fid, offset, count } => {
                let data = self.readdir(fid, offset, count)?;
                reply(Rmsg::Readdir { data: &data }, out)
            }
            Tmsg::Mkdir {
                dfid,
                name,
                mode,
                gid,
            } => {
                let dir = self.open_dir(&lock(&self.fid(dfid)?.path).clone())?;
                let n = host::name(name)?;
                host::mkdirat(dir.as_fd(), &n, mode & 0o7777)?;
                host::fchmodat(dir.as_fd(), Some(&n), mode & 0o7777)?;
                let _ = host::fchownat(dir.as_fd(), Some(&n), u32::MAX, gid);
                let st = host::lstat(dir.as_fd(), Some(&n))?;
                reply(Rmsg::Mkdir { qid: qid(&st) }, out)
            }
            Tmsg::Symlink {
                fid,
                name,
                target,
                gid,
            } => {
                let dir = self.open_dir(&lock(&self.fid(fid)?.path).clone())?;
                let n = host::name(name)?;
                host::symlinkat(&cstring(target)?, dir.as_fd(), &n)?;
                let _ = host::fchownat(dir.as_fd(), Some(&n), u32::MAX, gid);
                let st = host::lstat(dir.as_fd(), Some(&n))?;
                reply(Rmsg::Symlink { qid: qid(&st) }, out)
            }
            Tmsg::Readlink { fid } => {
                let path = lock(&self.fid(fid)?.path).clone();
                let (dir, name) = self.locate(&path)?;
                let name = name.ok_or(errno::EINVAL)?;
                let target = host::readlinkat(dir.as_fd(), Some(&name))?;
                reply(Rmsg::Readlink { target: &target }, out)
            }
            Tmsg::Link { dfid, fid, name } => {
                let path = lock(&self.fid(fid)?.path).clone();
                let (old_dir, old) = self.locate(&path)?;
                let old = old.ok_or(errno::EPERM)?;
                let dir = self.open_dir(&lock(&self.fid(dfid)?.path).clone())?;
                host::linkat(old_dir.as_fd(), &old, dir.as_fd(), &host::name(name)?)?;
                reply(Rmsg::Link, out)
            }
            Tmsg::Unlinkat {
                dirfid,
                name,
                flags,
            } => {
                let dir = self.open_dir(&lock(&self.fid(dirfid)?.path).clone())?;
                let how = if flags & AT_REMOVEDIR != 0 {
                    libc::AT_REMOVEDIR
                } else {
                    0
                };
                host::unlinkat(dir.as_fd(), &host::name(name)?, how)?;
                reply(Rmsg::Unlinkat, out)
            }
            Tmsg::Renameat {
                olddirfid,
                oldname,
                newdirfid,
                newname,
            } => {
                let mut from = lock(&self.fid(olddirfid)?.path).clone();
                let mut to = lock(&self.fid(newdirfid)?.path).clone();
                let (od, nd) = (self.open_dir(&from)?, self.open_dir(&to)?);
                let (on, nn) = (host::name(oldname)?, host::name(newname)?);
                host::renameat(od.as_fd(), &on, nd.as_fd(), &nn)?;
                from.push(oldname.to_vec());
                to.push(newname.to_vec());
                self.move_fid_paths(&from, &to);
                reply(Rmsg::Renameat, out)
            }
            Tmsg::Fsync { fid, datasync } => {
                let f = self.fid(fid)?;
                let open = lock(&f.open);
                let fd = open.fd().ok_or(errno::EBADF)?;
                host::fsync(fd.as_fd(), datasync != 0)?;
                reply(Rmsg::Fsync, out)
            }
            Tmsg::Statfs { fid } => {
                let path = lock(&self.fid(fid)?.path).clone();
                let (dir, name) = self.locate(&path)?;
                let st = match name {
                    Some(n) => {
                        let fd = host::openat(dir.as_fd(), &n, libc::O_PATH | libc::O_NOFOLLOW, 0)?;
                        host::fstatfs(fd.as_fd())?
                    }
                    None => host::fstatfs(dir.as_fd())?,
                };
                let s = StatFs {
                    fs_type: st.f_type as u32,
                    bsize: st.f_bsize as u32,
                    blocks: st.f_blocks,
                    bfree: st.f_bfree,
                    bavail: st.f_bavail,
                    files: st.f_files,
                    ffree: st.f_ffree,
                    // SAFETY: `fsid_t` is two plain `int`s; reading them as one u64 is valid.
                    fsid: unsafe { core::mem::transmute::<libc::fsid_t, u64>(st.f_fsid) },
                    namelen: st.f_namelen as u32,
                };
                reply(Rmsg::Statfs(s), out)
            }
            Tmsg::Flush { .. } => reply(Rmsg::Flush, out),
        }
    }
}
