//! The `fd_*` functions, with wasmtime 51's errnos and order of checks (its comments in
//! `p1.rs` are quoted where the rule is surprising). Buffers are checked only as far as they
//! are used: a read checks the bytes it got (a file read through `fd_read` checks the whole
//! buffer first, as wasmtime reads straight into it), a write the bytes it takes, after the
//! fd was found.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{Fail, R, filetype_of, flags, mutable, set_times_of, write_filestat};
use crate::abi::{ADVICE_MAX, fdflags, filetype, layout, preopentype, rights, whence};
use crate::ctx::{Fd, FileFd, WasiCtx};
use crate::errno::Errno;
use crate::fs::{DirEntry, FileKind};
use crate::host::OutputStream;
use crate::mem::GuestMemory;

/// Largest single read from the console; a bigger request gets a short read.
const CONSOLE_READ_MAX: usize = 64 * 1024;

/// Rights wasmtime reports for a preopened directory (hard-coded there, "expected by many
/// userlands").
const PREOPEN_BASE: u64 = rights::PATH_CREATE_DIRECTORY
    | rights::PATH_CREATE_FILE
    | rights::PATH_LINK_SOURCE
    | rights::PATH_LINK_TARGET
    | rights::PATH_OPEN
    | rights::FD_READDIR
    | rights::PATH_READLINK
    | rights::PATH_RENAME_SOURCE
    | rights::PATH_RENAME_TARGET
    | rights::PATH_SYMLINK
    | rights::PATH_REMOVE_DIRECTORY
    | rights::PATH_UNLINK_FILE
    | rights::PATH_FILESTAT_GET
    | rights::PATH_FILESTAT_SET_TIMES
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_TIMES;
const PREOPEN_INHERITING: u64 = PREOPEN_BASE | rights::FILE;

/// The `$whence` of `fd_seek`.
fn whence_of(w: u32) -> Result<u32, Fail> {
    match w {
        whence::SET | whence::CUR | whence::END => Ok(w),
        _ => Err(Fail::HostError("invalid enum value whence")),
    }
}

/// A count of bytes, or how the call failed.
type R32 = Result<usize, Fail>;

// The parameter lists are the preview 1 ABI's.
#[allow(clippy::too_many_arguments)]
impl WasiCtx {
    pub(super) fn fd_close(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        // Preopens too: wasmtime lets them be closed.
        Ok(self.close_fd(fd)?)
    }

    /// `to` must be open (`EBADF` otherwise), then `fd`; renumbering onto itself does nothing.
    pub(super) fn fd_renumber(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, to: u32) -> R {
        self.fd(to)?;
        self.fd(fd)?;
        if fd != to {
            let moved = self.fds.remove(&fd).ok_or(Errno::Badf)?;
            self.free.insert(fd);
            self.free.remove(&to);
            // The fd that was at `to` drops here, closing its handles.
            self.fds.insert(to, moved);
        }
        Ok(())
    }

    /// Regular files only (`EBADF` for directories and streams).
    pub(super) fn fd_datasync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        let f = self.file(fd)?;
        Ok(f.file.fs.sync(f.file.handle, true)?)
    }

    /// Regular files only (`EBADF` for directories and streams).
    pub(super) fn fd_sync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        let f = self.file(fd)?;
        Ok(f.file.fs.sync(f.file.handle, false)?)
    }

    /// Regular files only; the advice is accepted and has no effect.
    pub(super) fn fd_advise(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _offset: u64,
        _len: u64,
        advice: u32,
    ) -> R {
        if advice > ADVICE_MAX {
            return Err(Fail::HostError("invalid enum value advice"));
        }
        self.file(fd)?;
        Ok(())
    }

    /// wasmtime: `ENOTSUP` for a regular file, `EBADF` for anything else.
    pub(super) fn fd_allocate(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _o: u64,
        _l: u64,
    ) -> R {
        self.file(fd)?;
        Err(Errno::Notsup.into())
    }

    pub(super) fn fd_fdstat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let tty = |ctx: &WasiCtx, n| {
            if ctx.console.is_terminal(n) {
                filetype::CHARACTER_DEVICE
            } else {
                filetype::UNKNOWN
            }
        };
        let (ft, fl, base, inheriting) = match self.fd(fd)? {
            Fd::Stdin => (tty(self, 0), 0, rights::FD_READ, rights::FD_READ),
            Fd::Stdout => (tty(self, 1), 0, rights::FD_WRITE, rights::FD_WRITE),
            Fd::Stderr => (tty(self, 2), 0, rights::FD_WRITE, rights::FD_WRITE),
            Fd::Dir(d) if d.preopen.is_some() => {
                (filetype::DIRECTORY, 0, PREOPEN_BASE, PREOPEN_INHERITING)
            }
            Fd::Dir(_) => {
                // Opened for reading only; never seekable or truncatable.
                let base = rights::ALL
                    & !(rights::FD_SEEK
                        | rights::FD_FILESTAT_SET_SIZE
                        | rights::PATH_FILESTAT_SET_SIZE
                        | rights::FD_WRITE);
                (filetype::DIRECTORY, 0, base, base)
            }
            Fd::File(f) => {
                let kind = f.file.fs.fstat(f.file.handle)?.kind;
                let mut base = rights::ALL;
                if kind == FileKind::Directory {
                    base &= !(rights::FD_SEEK
                        | rights::FD_FILESTAT_SET_SIZE
                        | rights::PATH_FILESTAT_SET_SIZE);
                }
                if !f.access.read {
                    base &= !(rights::FD_READ | rights::FD_READDIR);
                }
                if !f.access.write {
                    base &= !rights::FD_WRITE;
                }
                let mut fl = 0;
                if f.append {
                    fl |= fdflags::APPEND;
                }
                if f.nonblock {
                    fl |= fdflags::NONBLOCK;
                }
                (filetype_of(kind), fl, base, base)
            }
        };
        let mut rec = [0u8; layout::FDSTAT_SIZE as usize];
        rec[0] = ft;
        rec[2..4].copy_from_slice(&fl.to_le_bytes());
        rec[8..16].copy_from_slice(&base.to_le_bytes());
        rec[16..24].copy_from_slice(&inheriting.to_le_bytes());
        mem.write_record(out, &rec, 8)
    }

    /// Regular files only (`EBADF` otherwise). Only `APPEND` and `NONBLOCK` may be set; the
    /// sync flags are `EINVAL`, as in wasmtime.
    pub(super) fn fd_fdstat_set_flags(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        fl: u32,
    ) -> R {
        let fl = flags(u64::from(fl), u64::from(fdflags::ALL))? as u16;
        let f = self.file_mut(fd)?;
        if fl & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(Errno::Inval.into());
        }
        f.append = fl & fdflags::APPEND != 0;
        f.nonblock = fl & fdflags::NONBLOCK != 0;
        Ok(())
    }

    /// wasmtime 51 does not implement rights changes: `ENOTSUP` for a file or directory,
    /// `EBADF` for the standard streams and closed fds (rights never shrink or grow).
    pub(super) fn fd_fdstat_set_rights(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> R {
        flags(base, rights::ALL)?;
        flags(inheriting, rights::ALL)?;
        match self.fd(fd)? {
            Fd::File(_) | Fd::Dir(_) => Err(Errno::Notsup.into()),
            _ => Err(Errno::Badf.into()),
        }
    }

    /// The standard streams report only their file type (terminal or not), all else 0.
    pub(super) fn fd_filestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let console = &self.console;
        let stream = |n: u32| {
            let mut rec = [0u8; layout::FILESTAT_SIZE as usize];
            rec[16] = if console.is_terminal(n) {
                filetype::CHARACTER_DEVICE
            } else {
                filetype::UNKNOWN
            };
            rec
        };
        let rec = match self.fds.get_mut(&fd).ok_or(Errno::Badf)? {
            Fd::Stdin => stream(0),
            Fd::Stdout => stream(1),
            Fd::Stderr => stream(2),
            Fd::File(f) => {
                let st = f.file.fs.fstat(f.file.handle)?;
                return write_filestat(mem, out, f.file.fs.dev(), &st);
            }
            Fd::Dir(d) => {
                let h = d.handle()?;
                let st = h.fs.fstat(h.handle)?;
                return write_filestat(mem, out, h.fs.dev(), &st);
            }
        };
        mem.write_record(out, &rec, 8)
    }

    /// Regular files only (`EBADF` otherwise). A file of a read-only tree is `EPERM`
    /// (wasmtime's file permissions), one not open for writing `EINVAL`, and a size above
    /// `i64::MAX` `EINVAL` (`ftruncate`'s answers, checked here for every tree).
    pub(super) fn fd_filestat_set_size(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        size: u64,
    ) -> R {
        let f = self.file(fd)?;
        mutable(&*f.file.fs)?;
        if !f.access.write || i64::try_from(size).is_err() {
            return Err(Errno::Inval.into());
        }
        Ok(f.file.fs.set_len(f.file.handle, size)?)
    }

    /// The flags are checked first (`EINVAL` for a time both given and `_NOW`, even on a
    /// closed fd), then the fd: a file or directory (`EBADF` for the streams; `EPERM` in a
    /// read-only tree).
    pub(super) fn fd_filestat_set_times(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> R {
        let (a, m) = set_times_of(atim, mtim, fst)?;
        match self.fd_mut(fd)? {
            Fd::File(f) => {
                mutable(&*f.file.fs)?;
                Ok(f.file.fs.fset_times(f.file.handle, a, m)?)
            }
            Fd::Dir(d) => {
                mutable(&*d.fs)?;
                let h = d.handle()?;
                Ok(h.fs.fset_times(h.handle, a, m)?)
            }
            _ => Err(Errno::Badf.into()),
        }
    }

    /// Preopened directories only; any other fd is `EBADF`.
    pub(super) fn fd_prestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let Fd::Dir(d) = self.fd(fd)? else {
            return Err(Errno::Badf.into());
        };
        let Some(name) = &d.preopen else {
            return Err(Errno::Badf.into());
        };
        let mut rec = [0u8; layout::PRESTAT_SIZE as usize];
        rec[0] = preopentype::DIR;
        rec[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
        mem.write_record(out, &rec, 4)
    }

    /// An open fd that is not a preopen is `ENOTDIR` here (wasmtime: "legacy implementation
    /// returns NOTDIR here"); a buffer shorter than the name is `ENAMETOOLONG`.
    pub(super) fn fd_prestat_dir_name(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let name = match self.fd(fd)? {
            Fd::Dir(d) => d.preopen.as_ref().ok_or(Errno::Notdir)?,
            _ => return Err(Errno::Notdir.into()),
        };
        if name.len() > path_len as usize {
            return Err(Errno::Nametoolong.into());
        }
        mem.write_bytes(path, name.as_bytes())
    }

    /// Files only: the streams are `ESPIPE`, directories `EBADF`. `SET` to a negative
    /// offset, or a `CUR`/`END` result below 0, is `EINVAL`; past the end is allowed.
    pub(super) fn fd_seek(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        whence: u32,
        newoffset: u32,
    ) -> R {
        let whence = whence_of(whence)?;
        let offset = offset as i64;
        let f = self.seekable(fd)?;
        let new = match whence {
            whence::SET => u64::try_from(offset).map_err(|_| Errno::Inval)?,
            whence::CUR => f.pos.checked_add_signed(offset).ok_or(Errno::Inval)?,
            _ => {
                let size = f.file.fs.fstat(f.file.handle)?.size;
                size.checked_add_signed(offset).ok_or(Errno::Inval)?
            }
        };
        f.pos = new;
        mem.write_u64(newoffset, new)
    }

    /// Files only: the streams are `ESPIPE`, directories `EBADF`.
    pub(super) fn fd_tell(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let pos = self.seekable(fd)?.pos;
        mem.write_u64(out, pos)
    }

    /// `fd_read` on a file: the whole buffer must be inside memory (wasmtime reads straight
    /// into it), then the file must be open for reading (`EBADF`).
    fn file_read(f: &FileFd, at: u64, mem: &mut GuestMemory<'_>, buf: (u32, u32)) -> R32 {
        let dst = mem.slice_mut(buf.0, buf.1)?;
        if !f.access.read {
            return Err(Errno::Badf.into());
        }
        if dst.is_empty() {
            return Ok(0);
        }
        Ok(f.file.fs.read(f.file.handle, at, dst)?)
    }

    /// `fd_pread` on a file: the file must be open for reading (`EBADF`), and only the bytes
    /// read must be inside memory (wasmtime reads into a buffer of its own, then copies).
    fn file_pread(f: &FileFd, at: u64, mem: &mut GuestMemory<'_>, buf: (u32, u32)) -> R32 {
        if !f.access.read {
            return Err(Errno::Badf.into());
        }
        if buf.1 == 0 {
            return Ok(0);
        }
        let fs = &f.file.fs;
        // The part of the buffer inside memory takes what it can; whether the file had more
        // (which would have been copied outside memory) is one byte's read more.
        let inside = (mem.len() as u64)
            .saturating_sub(u64::from(buf.0))
            .min(u64::from(buf.1));
        let n = if inside > 0 {
            fs.read(f.file.handle, at, mem.slice_mut(buf.0, inside as u32)?)?
        } else {
            0
        };
        if n as u64 == inside && inside < u64::from(buf.1) {
            let mut more = [0u8; 1];
            if fs.read(f.file.handle, at + n as u64, &mut more)? > 0 {
                mem.check(buf.0, buf.1)?;
            }
        }
        Ok(n)
    }

    /// Writes one guest buffer to a file: the bytes must be inside memory, then the file open
    /// for writing (`EBADF`); at its end with `APPEND` (as Linux's `pwrite` on an append-mode
    /// file does, whatever the offset), else at `at`.
    fn file_write(f: &FileFd, at: u64, mem: &GuestMemory<'_>, buf: (u32, u32)) -> R32 {
        let data = mem.slice(buf.0, buf.1)?;
        let fs = &f.file.fs;
        if !f.access.write {
            return Err(Errno::Badf.into());
        }
        let at = if f.append {
            fs.fstat(f.file.handle)?.size
        } else {
            at
        };
        let mut done = 0;
        while done < data.len() {
            let n = fs.write(f.file.handle, at + done as u64, &data[done..])?;
            if n == 0 {
                return Err(Errno::Nospc.into());
            }
            done += n;
        }
        Ok(done)
    }

    /// Files and stdin; anything else is `EBADF`. Reads the first non-empty buffer only. A
    /// read of nothing from stdin is `EINTR` (wasmtime's stream answers an empty read so).
    pub(super) fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> R {
        let buf = mem.first_iovec(iovs, iovs_len)?;
        let n = match self.fd_mut(fd)? {
            Fd::File(f) => {
                let n = Self::file_read(f, f.pos, mem, buf)?;
                f.pos += n as u64;
                n
            }
            Fd::Stdin => {
                if buf.1 == 0 {
                    return Err(Errno::Intr.into());
                }
                let want = (buf.1 as usize).min(CONSOLE_READ_MAX);
                let mut tmp = vec![0u8; want];
                let n = self.console.read(&mut tmp)?.min(want);
                mem.write_bytes(buf.0, &tmp[..n])?;
                n
            }
            _ => return Err(Errno::Badf.into()),
        };
        mem.write_u32(nread, n as u32)
    }

    /// Files at `offset`; stdin is `ESPIPE`, anything else `EBADF`.
    pub(super) fn fd_pread(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> R {
        let buf = mem.first_iovec(iovs, iovs_len)?;
        let n = match self.fd(fd)? {
            Fd::File(f) => Self::file_pread(f, offset, mem, buf)?,
            Fd::Stdin => return Err(Errno::Spipe.into()),
            _ => return Err(Errno::Badf.into()),
        };
        mem.write_u32(nread, n as u32)
    }

    /// Files, stdout and stderr; anything else is `EBADF`. Writes the first non-empty buffer
    /// only. After an append the position is the file's new size.
    pub(super) fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> R {
        let buf = mem.first_iovec(iovs, iovs_len)?;
        let n = match self.fd_mut(fd)? {
            Fd::File(f) => {
                let n = Self::file_write(f, f.pos, mem, buf)?;
                f.pos = if f.append {
                    f.file.fs.fstat(f.file.handle)?.size
                } else {
                    f.pos + n as u64
                };
                n
            }
            Fd::Stdout | Fd::Stderr => {
                let stream = if matches!(self.fd(fd)?, Fd::Stdout) {
                    OutputStream::Stdout
                } else {
                    OutputStream::Stderr
                };
                let data = mem.slice(buf.0, buf.1)?;
                let mut done = 0;
                while done < data.len() {
                    let n = self.console.write(stream, &data[done..])?;
                    if n == 0 {
                        return Err(Errno::Io.into());
                    }
                    done += n;
                }
                done
            }
            _ => return Err(Errno::Badf.into()),
        };
        mem.write_u32(nwritten, n as u32)
    }

    /// Files at `offset` (at the end for an append-mode file); stdout and stderr are
    /// `ESPIPE`, anything else `EBADF`.
    pub(super) fn fd_pwrite(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> R {
        let buf = mem.first_iovec(iovs, iovs_len)?;
        let n = match self.fd(fd)? {
            Fd::File(f) => Self::file_write(f, offset, mem, buf)?,
            Fd::Stdout | Fd::Stderr => return Err(Errno::Spipe.into()),
            _ => return Err(Errno::Badf.into()),
        };
        mem.write_u32(nwritten, n as u32)
    }

    /// Directories only (`EBADF` otherwise). The listing is `.`, `..`, then the tree's
    /// entries; position `n` has cookie `n` and its `d_next` is `n + 1`, as wasmtime numbers
    /// them, so any cookie resumes. Like wasmtime, each call lists the directory again from
    /// its start and skips `cookie` entries (so a guest that removes entries while listing
    /// sees what it would see there). A record that does not fit is cut off and the buffer
    /// reported full, so the guest retries from that cookie with a bigger one. Only the bytes
    /// written must be inside memory.
    pub(super) fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> R {
        let d = self.dir_mut(fd)?;
        let ino = d.ino;
        let (mut pos, mut fs_cookie) = (2, 0);
        let h = d.handle()?;
        let mut list: Vec<(u64, DirEntry)> = Vec::new();
        for (i, name) in [".", ".."].into_iter().enumerate() {
            if (i as u64) >= cookie {
                let kind = FileKind::Directory;
                let next = i as u64 + 1;
                list.push((
                    i as u64,
                    DirEntry {
                        name: String::from(name),
                        ino,
                        kind,
                        next,
                    },
                ));
            }
        }
        let mut bytes = 0u64;
        let mut done = false;
        while !done && bytes < u64::from(buf_len) {
            let mut chunk = Vec::new();
            done = h.fs.read_dir(h.handle, fs_cookie, 4096, &mut chunk)?;
            for e in chunk {
                fs_cookie = e.next;
                if pos >= cookie {
                    bytes += u64::from(layout::DIRENT_SIZE) + e.name.len() as u64;
                    list.push((pos, e));
                }
                pos += 1;
            }
        }
        let mut out: Vec<u8> = Vec::new();
        for (n, e) in &list {
            if out.len() >= buf_len as usize {
                break;
            }
            let mut rec = Vec::with_capacity(layout::DIRENT_SIZE as usize + e.name.len());
            rec.extend_from_slice(&(n + 1).to_le_bytes());
            rec.extend_from_slice(&e.ino.to_le_bytes());
            rec.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
            rec.push(filetype_of(e.kind));
            rec.extend_from_slice(&[0; 3]);
            rec.extend_from_slice(e.name.as_bytes());
            let take = rec.len().min(buf_len as usize - out.len());
            out.extend_from_slice(&rec[..take]);
        }
        mem.write_bytes(buf, &out)?;
        mem.write_u32(bufused, out.len() as u32)
    }
}
