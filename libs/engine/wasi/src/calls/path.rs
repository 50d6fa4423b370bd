//! The `path_*` functions: resolution as cap-std does it ([`crate::walk`]) and the errnos
//! wasmtime 51 gives on Linux for each operation's last component.
//!
//! A directory fd is needed everywhere (`EBADF` otherwise; `path_open` on a file fd is
//! `ENOTDIR`), then the path is read (`path_open` reads it first). A read-only tree (the
//! initrd, a read-only share) answers `EPERM` to every change before the path is resolved, as
//! wasmtime's read-only preopens do.

use alloc::string::String;
use alloc::sync::Arc;

use super::{Fail, R, flags, mutable, set_times_of, write_filestat};
use crate::abi::{fdflags, lookupflags, oflags, rights};
use crate::ctx::{DirFd, Fd, FileFd, Opened, WasiCtx};
use crate::errno::Errno;
use crate::fs::{Access, FileKind, FileSystem};
use crate::mem::GuestMemory;
use crate::walk::{Loc, Parent, Walk};

/// The tree of a directory fd and the location resolution starts at.
type Start = (Arc<dyn FileSystem>, Loc);

/// Whether `SYMLINK_FOLLOW` is set (other bits trap, as in wasmtime).
fn follow_of(lookup: u32) -> Result<bool, Fail> {
    Ok(flags(u64::from(lookup), u64::from(lookupflags::SYMLINK_FOLLOW))? != 0)
}

/// The errno for a last component of `.` or `..` where a new name is needed: `..` above
/// the fd's directory escapes (`EPERM`), anything else is `dots`.
fn dots(p: &Parent, dots: Errno) -> Errno {
    if p.name == ".." && p.at_top() {
        Errno::Perm
    } else {
        dots
    }
}

fn is_dots(name: &str) -> bool {
    name == "." || name == ".."
}

// The parameter lists are the preview 1 ABI's.
#[allow(clippy::too_many_arguments)]
impl WasiCtx {
    fn start(&self, fd: u32) -> Result<Start, Errno> {
        let d = self.dir(fd)?;
        Ok((d.fs.clone(), alloc::vec![d.ino]))
    }

    fn path_str(mem: &mut GuestMemory<'_>, path: u32, len: u32) -> Result<String, Fail> {
        mem.path(path, len)
    }

    /// `EEXIST` for an existing name (a dangling link included), `EPERM` for `..` above
    /// the fd's directory.
    pub(super) fn path_create_directory(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        let path = Self::path_str(mem, path, path_len)?;
        mutable(&*fs)?;
        let p = Walk::new(&*fs).parent(loc, &path)?;
        if is_dots(&p.name) {
            return Err(dots(&p, Errno::Exist).into());
        }
        fs.create_dir(p.dir(), &p.name)?;
        Ok(())
    }

    pub(super) fn path_filestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        lookup: u32,
        path: u32,
        path_len: u32,
        out: u32,
    ) -> R {
        let follow = follow_of(lookup)?;
        let (fs, mut loc) = self.start(fd)?;
        let path = Self::path_str(mem, path, path_len)?;
        Walk::new(&*fs).path(&mut loc, &path, follow)?;
        let st = fs.stat(loc.last().copied().unwrap_or(0))?;
        write_filestat(mem, out, fs.dev(), &st)
    }

    /// The arguments are checked before the fd (as in wasmtime); without `SYMLINK_FOLLOW` a
    /// link's own times change.
    pub(super) fn path_filestat_set_times(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        lookup: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> R {
        let follow = follow_of(lookup)?;
        let (a, m) = set_times_of(atim, mtim, fst)?;
        let (fs, mut loc) = self.start(fd)?;
        let path = Self::path_str(mem, path, path_len)?;
        mutable(&*fs)?;
        Walk::new(&*fs).path(&mut loc, &path, follow)?;
        Ok(fs.set_times(loc.last().copied().unwrap_or(0), a, m)?)
    }

    /// wasmtime refuses `SYMLINK_FOLLOW` (`EINVAL`): the old path's last component is never
    /// followed, so a link to a symbolic link is a second name of the link. A directory is
    /// `EPERM`; a new name that exists `EEXIST`; different trees `EXDEV`.
    pub(super) fn path_link(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        let follow = follow_of(old_flags)?;
        let (fs, loc) = self.start(old_fd)?;
        let (fs2, loc2) = self.start(new_fd)?;
        let old = Self::path_str(mem, old_path, old_len)?;
        let new = Self::path_str(mem, new_path, new_len)?;
        mutable(&*fs)?;
        mutable(&*fs2)?;
        if follow {
            return Err(Errno::Inval.into());
        }
        let mut w = Walk::new(&*fs);
        let po = w.parent(loc, &old)?;
        let ino = w.last(&po, false)?.last().copied().unwrap_or(0);
        let pn = Walk::new(&*fs2).parent(loc2, &new)?;
        if fs.stat(ino)?.kind == FileKind::Directory {
            return Err(Errno::Perm.into());
        }
        if is_dots(&pn.name) {
            return Err(dots(&pn, Errno::Exist).into());
        }
        if pn.dir_only {
            // `new/`: an existing name is taken; a missing one cannot be a directory.
            fs2.lookup(pn.dir(), &pn.name)?;
            return Err(Errno::Exist.into());
        }
        if !same_tree(&fs, &fs2) {
            return Err(Errno::Xdev.into());
        }
        Ok(fs.link(ino, pn.dir(), &pn.name)?)
    }

    /// Rights decide only the access mode (`FD_READ`, `FD_WRITE`; creating or truncating
    /// opens for writing too, and asking for neither opens for reading), as in wasmtime.
    pub(super) fn path_open(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        out: u32,
    ) -> R {
        let follow = follow_of(dirflags)?;
        let of = flags(u64::from(oflags), u64::from(oflags::ALL))? as u16;
        let ff = flags(u64::from(fdflags), u64::from(fdflags::ALL))? as u16;
        flags(base, rights::ALL)?;
        flags(inheriting, rights::ALL)?;
        let path = Self::path_str(mem, path, path_len)?;
        let (fs, loc) = match self.fd(fd)? {
            Fd::Dir(d) => (d.fs.clone(), alloc::vec![d.ino]),
            Fd::File(_) => return Err(Errno::Notdir.into()),
            _ => return Err(Errno::Badf.into()),
        };
        if ff & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(Errno::Notsup.into());
        }
        let (creat, excl, trunc) = (
            of & oflags::CREAT != 0,
            of & oflags::EXCL != 0,
            of & oflags::TRUNC != 0,
        );
        let directory = of & oflags::DIRECTORY != 0;
        if directory && (creat || excl || trunc) {
            return Err(Errno::Inval.into());
        }
        let want_write = base & rights::FD_WRITE != 0;
        let access = Access {
            read: base & rights::FD_READ != 0 || !want_write,
            write: want_write || creat || trunc,
        };
        if access.write {
            mutable(&*fs)?;
        }
        let mut w = Walk::new(&*fs);
        let mut p = w.parent(loc, &path)?;
        // Find the object, following links at the end only with SYMLINK_FOLLOW (or a `/`).
        let found = loop {
            if p.name == ".." && p.at_top() {
                // An escape is EPERM whatever the flags ask for.
                return Err(Errno::Perm.into());
            }
            if creat && p.dir_only {
                return Err(Errno::Isdir.into());
            }
            if is_dots(&p.name) {
                break Some(w.last(&p, true)?);
            }
            match fs.lookup(p.dir(), &p.name) {
                Ok(ino) => {
                    if creat && excl {
                        return Err(Errno::Exist.into());
                    }
                    if fs.stat(ino)?.kind == FileKind::SymbolicLink {
                        if !follow && !p.dir_only {
                            // O_NOFOLLOW on a link.
                            return Err(Errno::Loop.into());
                        }
                        let target = w.expand(ino)?;
                        let dir_only = p.dir_only;
                        p = w.parent(p.loc, &target)?;
                        p.dir_only |= dir_only;
                        continue;
                    }
                    let mut loc = p.loc.clone();
                    loc.push(ino);
                    break Some(loc);
                }
                Err(Errno::Noent) if creat => break None,
                Err(e) => return Err(e.into()),
            }
        };
        let new = match found {
            None => {
                let (_, h) = fs.create_file(p.dir(), &p.name, access)?;
                Fd::File(FileFd {
                    file: Opened::new(&fs, h),
                    pos: 0,
                    append: ff & fdflags::APPEND != 0,
                    nonblock: ff & fdflags::NONBLOCK != 0,
                    access,
                })
            }
            Some(loc) => {
                let ino = loc.last().copied().unwrap_or(0);
                let kind = fs.stat(ino)?.kind;
                if kind == FileKind::Directory {
                    if creat || trunc || want_write {
                        return Err(Errno::Isdir.into());
                    }
                    let h = fs.open(
                        ino,
                        Access {
                            read: true,
                            write: false,
                        },
                    )?;
                    Fd::Dir(DirFd {
                        fs: fs.clone(),
                        ino,
                        handle: Some(Opened::new(&fs, h)),
                        preopen: None,
                    })
                } else {
                    if directory || p.dir_only {
                        return Err(Errno::Notdir.into());
                    }
                    let file = Opened::new(&fs, fs.open(ino, access)?);
                    if trunc {
                        fs.set_len(file.handle, 0)?;
                    }
                    Fd::File(FileFd {
                        file,
                        pos: 0,
                        append: ff & fdflags::APPEND != 0,
                        nonblock: ff & fdflags::NONBLOCK != 0,
                        access,
                    })
                }
            }
        };
        let n = self.alloc_fd(new)?;
        mem.write_u32(out, n)
    }

    /// A buffer shorter than the target gets the target cut to its length, and success
    /// (wasmtime truncates; no `ERANGE`). Not a link: `EINVAL`. An absolute target is
    /// `EPERM`: cap-std does not reveal where a link out of the tree points.
    pub(super) fn path_readlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        let path = Self::path_str(mem, path, path_len)?;
        let mut w = Walk::new(&*fs);
        let p = w.parent(loc, &path)?;
        let ino = w.last(&p, false)?.last().copied().unwrap_or(0);
        let target = fs.readlink(ino)?;
        if target.starts_with('/') {
            return Err(Errno::Perm.into());
        }
        let n = target.len().min(buf_len as usize);
        mem.write_bytes(buf, &target.as_bytes()[..n])?;
        mem.write_u32(bufused, n as u32)
    }

    /// A last component `.` or `..` is `EINVAL` (`..` above the fd's directory `EPERM`); a
    /// link or file (with or without a trailing `/`) `ENOTDIR`.
    pub(super) fn path_remove_directory(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        let path = Self::path_str(mem, path, path_len)?;
        mutable(&*fs)?;
        let p = Walk::new(&*fs).parent(loc, &path)?;
        if is_dots(&p.name) {
            return Err(dots(&p, Errno::Inval).into());
        }
        Ok(fs.remove_dir(p.dir(), &p.name)?)
    }

    /// A directory, `.` or a path ending in `/` that leads to one is `EISDIR`; a `/` after
    /// anything else `ENOTDIR`.
    pub(super) fn path_unlink_file(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        // wasmtime copies this one path without charging it to the call's fuel.
        let path = String::from(mem.str(path, path_len)?);
        mutable(&*fs)?;
        let mut w = Walk::new(&*fs);
        let p = w.parent(loc, &path)?;
        if is_dots(&p.name) {
            return Err(dots(&p, Errno::Isdir).into());
        }
        if p.dir_only {
            // Resolving fails with ENOTDIR unless it leads to a directory.
            w.last(&p, true)?;
            return Err(Errno::Isdir.into());
        }
        Ok(fs.unlink(p.dir(), &p.name)?)
    }

    /// `.` or `..` on either side is `EBUSY` (`..` above the fd's directory `EPERM`); a
    /// trailing `/` on either side needs the source to be a directory (a link is not);
    /// different trees are `EXDEV`; the rest follows `renameat`.
    pub(super) fn path_rename(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        let (fs2, loc2) = self.start(new_fd)?;
        let old = Self::path_str(mem, old_path, old_len)?;
        let new = Self::path_str(mem, new_path, new_len)?;
        mutable(&*fs)?;
        mutable(&*fs2)?;
        let po = Walk::new(&*fs).parent(loc, &old)?;
        let pn = Walk::new(&*fs2).parent(loc2, &new)?;
        for p in [&po, &pn] {
            if is_dots(&p.name) {
                return Err(dots(p, Errno::Busy).into());
            }
        }
        let ino = fs.lookup(po.dir(), &po.name)?;
        if (po.dir_only || pn.dir_only) && fs.stat(ino)?.kind != FileKind::Directory {
            return Err(Errno::Notdir.into());
        }
        if !same_tree(&fs, &fs2) {
            return Err(Errno::Xdev.into());
        }
        Ok(fs.rename(po.dir(), &po.name, pn.dir(), &pn.name)?)
    }

    /// An absolute target is refused (`EPERM`, as cap-std refuses it); a relative one is
    /// stored as given, even one that climbs out (following it is then `EPERM`). An empty
    /// target is `ENOENT`; an existing name `EEXIST`.
    pub(super) fn path_symlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old_path: u32,
        old_len: u32,
        fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        let (fs, loc) = self.start(fd)?;
        let target = Self::path_str(mem, old_path, old_len)?;
        let new = Self::path_str(mem, new_path, new_len)?;
        mutable(&*fs)?;
        if target.starts_with('/') {
            return Err(Errno::Perm.into());
        }
        let p = Walk::new(&*fs).parent(loc, &new)?;
        if is_dots(&p.name) {
            return Err(dots(&p, Errno::Exist).into());
        }
        if p.dir_only {
            fs.lookup(p.dir(), &p.name)?;
            return Err(Errno::Exist.into());
        }
        if target.is_empty() {
            return Err(Errno::Noent.into());
        }
        fs.symlink(p.dir(), &p.name, &target)?;
        Ok(())
    }
}

/// Whether two preopens' trees are one tree (possibly seen from different directories, as
/// two preopens inside one host share are): the same object, or the same device number.
fn same_tree(a: &Arc<dyn FileSystem>, b: &Arc<dyn FileSystem>) -> bool {
    Arc::ptr_eq(a, b) || a.dev() == b.dev()
}
