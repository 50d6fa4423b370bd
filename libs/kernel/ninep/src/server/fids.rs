//! The request handlers of the test [`Server`] that hold state: walks, opens and creates,
//! attribute changes and directory reads.

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::vec::Vec;

use super::host::{self, Errno};
use super::ops::{enc, host_flags, qid, wants_write};
use super::{Open, Server, lock};
use crate::errno;
use crate::msg::{HEADER_LEN, RawDirEntry, SetAttr, dt, setattr};
use crate::wire::{QT_DIR, QT_FILE, QT_SYMLINK, Qid};

impl Server {
    pub(super) fn walk(&self, fid: u32, newfid: u32, names: &[&[u8]]) -> Result<Vec<Qid>, Errno> {
        let from = self.fid(fid)?;
        let mut path = lock(&from.path).clone();
        if newfid != fid && lock(&self.fids).contains_key(&newfid) {
            return Err(errno::EINVAL);
        }
        if names.len() > crate::msg::MAXWELEM {
            return Err(errno::E2BIG);
        }
        let mut qids = Vec::with_capacity(names.len());
        // The open directory at `path`, when known.
        let mut dir = None;
        for (i, &n) in names.iter().enumerate() {
            let step = (|| {
                if n == b".." {
                    path.pop();
                    dir = None;
                    let (d, name) = self.locate(&path)?;
                    return host::lstat(d.as_fd(), name.as_deref());
                }
                let d = match dir.take() {
                    Some(d) => d,
                    None => self.open_dir(&path)?,
                };
                let name = host::name(n)?;
                let st = host::lstat(d.as_fd(), Some(&name))?;
                if st.st_mode & libc::S_IFMT == libc::S_IFDIR && i + 1 < names.len() {
                    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
                    dir = Some(host::openat(d.as_fd(), &name, flags, 0)?);
                }
                path.push(n.to_vec());
                Ok(st)
            })();
            match step {
                Ok(st) => qids.push(qid(&st)),
                Err(e) if i == 0 => return Err(e),
                Err(_) => return Ok(qids),
            }
        }
        if newfid == fid {
            *lock(&from.path) = path;
        } else {
            self.add_fid(newfid, path, Open::None)?;
        }
        Ok(qids)
    }

    pub(super) fn lopen(&self, fid: u32, flags: u32) -> Result<(Qid, u32), Errno> {
        let f = self.fid(fid)?;
        let mut open = lock(&f.open);
        if !matches!(*open, Open::None) {
            return Err(errno::EINVAL);
        }
        let path = lock(&f.path).clone();
        let (dir, name) = self.locate(&path)?;
        let st = host::lstat(dir.as_fd(), name.as_deref())?;
        let fd = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            let fd = match &name {
                Some(n) => host::openat(
                    dir.as_fd(),
                    n,
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                )?,
                None => dir,
            };
            *open = Open::Dir(fd);
            open.fd()
        } else {
            if self.options.read_only && wants_write(flags) {
                return Err(errno::EROFS);
            }
            let name = name.ok_or(errno::EINVAL)?;
            let hf = host_flags(flags) & !(libc::O_CREAT | libc::O_EXCL);
            *open = Open::File(host::openat(dir.as_fd(), &name, hf, 0)?);
            open.fd()
        };
        let fd = fd.ok_or(errno::EIO)?;
        let st = host::fstat(fd.as_fd())?;
        Ok((qid(&st), self.iounit(fd.as_fd())))
    }

    pub(super) fn lcreate(
        &self,
        fid: u32,
        name: &[u8],
        flags: u32,
        mode: u32,
        gid: u32,
    ) -> Result<(Qid, u32), Errno> {
        let f = self.fid(fid)?;
        let mut open = lock(&f.open);
        if !matches!(*open, Open::None) {
            return Err(errno::EINVAL);
        }
        let mut path = lock(&f.path).clone();
        let dir = self.open_dir(&path)?;
        let n = host::name(name)?;
        let fd = host::openat(
            dir.as_fd(),
            &n,
            host_flags(flags) | libc::O_CREAT,
            mode & 0o7777,
        )?;
        host::fchmodat(fd.as_fd(), None, mode & 0o7777)?;
        let _ = host::fchownat(fd.as_fd(), None, u32::MAX, gid);
        let st = host::fstat(fd.as_fd())?;
        let iounit = self.iounit(fd.as_fd());
        path.push(name.to_vec());
        *lock(&f.path) = path;
        *open = Open::File(fd);
        Ok((qid(&st), iounit))
    }

    pub(super) fn setattr(&self, fid: u32, a: &SetAttr) -> Result<(), Errno> {
        let f = self.fid(fid)?;
        let open = lock(&f.open);
        let path = lock(&f.path).clone();
        // The object: its open descriptor, or its parent and name.
        let located = match open.fd() {
            Some(_) => None,
            None => Some(self.locate(&path)?),
        };
        let (fd, name) = match (&located, open.fd()) {
            (Some((d, n)), _) => (d.as_fd(), n.as_deref()),
            (None, Some(fd)) => (fd.as_fd(), None),
            (None, None) => return Err(errno::EBADF),
        };
        if a.valid & setattr::MODE != 0 {
            host::fchmodat(fd, name, a.mode & 0o7777)?;
        }
        if a.valid & (setattr::ATIME | setattr::MTIME) != 0 {
            let time = |set: u32, given: u32, sec: u64, nsec: u64| {
                if a.valid & set == 0 {
                    libc::timespec {
                        tv_sec: 0,
                        tv_nsec: libc::UTIME_OMIT,
                    }
                } else if a.valid & given == 0 {
                    libc::timespec {
                        tv_sec: 0,
                        tv_nsec: libc::UTIME_NOW,
                    }
                } else {
                    libc::timespec {
                        tv_sec: sec as i64,
                        tv_nsec: nsec as i64,
                    }
                }
            };
            let times = [
                time(
                    setattr::ATIME,
                    setattr::ATIME_SET,
                    a.atime_sec,
                    a.atime_nsec,
                ),
                time(
                    setattr::MTIME,
                    setattr::MTIME_SET,
                    a.mtime_sec,
                    a.mtime_nsec,
                ),
            ];
            host::set_times(fd, name, &times)?;
        }
        if a.valid & (setattr::UID | setattr::GID) != 0 {
            let uid = if a.valid & setattr::UID != 0 {
                a.uid
            } else {
                u32::MAX
            };
            let gid = if a.valid & setattr::GID != 0 {
                a.gid
            } else {
                u32::MAX
            };
            host::fchownat(fd, name, uid, gid)?;
        }
        if a.valid & setattr::SIZE != 0 {
            match (&*open, name) {
                (Open::File(fd), _) => host::ftruncate(fd.as_fd(), a.size)?,
                (Open::Dir(_), _) => return Err(errno::EISDIR),
                (Open::None, Some(n)) => {
                    let w = host::openat(fd, n, libc::O_WRONLY | libc::O_NOFOLLOW, 0)?;
                    host::ftruncate(w.as_fd(), a.size)?;
                }
                (Open::None, None) => return Err(errno::EISDIR),
            }
        }
        Ok(())
    }

    pub(super) fn readdir(&self, fid: u32, offset: u64, count: u32) -> Result<Vec<u8>, Errno> {
        let f = self.fid(fid)?;
        let open = lock(&f.open);
        let Open::Dir(fd) = &*open else {
            return Err(errno::ENOTDIR);
        };
        let room = self.msize.load(Ordering::Relaxed) as usize - HEADER_LEN - 4;
        let cap = (count as usize).min(room);
        let mut data = Vec::new();
        let mut pos = offset;
        loop {
            let batch = host::read_dir_at(fd.as_fd(), pos)?;
            if batch.is_empty() {
                return Ok(data);
            }
            for d in batch {
                if data.len() + RawDirEntry::encoded_len(d.name.len()) > cap {
                    return Ok(data);
                }
                let ty = match d.dtype {
                    dt::DIR => QT_DIR,
                    dt::LNK => QT_SYMLINK,
                    _ => QT_FILE,
                };
                let e = RawDirEntry {
                    qid: Qid {
                        ty,
                        version: 0,
                        path: d.ino,
                    },
                    offset: d.next,
                    dtype: d.dtype,
                    name: &d.name,
                };
                enc(e.encode(&mut data))?;
                pos = d.next;
            }
        }
    }
}
