//! Open objects: `open`, `create_file`, reads and writes split by `msize`, and directory
//! listings by `Treaddir` offset.

use alloc::string::String;
use alloc::vec::Vec;

use wasi_p1::Errno;
use wasi_p1::fs::{Access, DirEntry, Handle, Ino};

use super::names::Lease;
use super::state::OpenObj;
use super::{NinepFs, from_error, kind_of_dtype};
use crate::Error;
use crate::msg::{NONUNAME, open};
use crate::transport::Transport;
use crate::wire::{QT_DIR, Qid};

/// Bytes of entries asked for per `Treaddir` (capped by `msize`).
const READDIR_COUNT: u32 = 32 * 1024;
/// Mode bits of a new regular file (what `0o666` gives under the usual umask).
const FILE_MODE: u32 = 0o644;

fn access_flags(access: Access) -> u32 {
    match (access.read, access.write) {
        (_, false) => open::RDONLY,
        (false, true) => open::WRONLY,
        (true, true) => open::RDWR,
    }
}

impl<T: Transport> NinepFs<T> {
    /// The open object behind `h` and a lease on its fid.
    pub(super) fn handle(&self, h: Handle) -> Result<(Lease<'_, T>, OpenObj), Errno> {
        let obj = self.state.lock().take_handle(h).ok_or(Errno::Badf)?;
        Ok((self.lease(obj.fid, false), obj))
    }

    /// Clones `fid` and opens the clone; the clone is clunked if the open fails.
    fn open_clone(&self, fid: u32, flags: u32) -> Result<(u32, Qid), Error> {
        let (clone, _) = self.client.walk_new(fid, &[]).map_err(|f| f.error)?;
        match self.client.lopen(clone, flags) {
            Ok((qid, _iounit)) => Ok((clone, qid)),
            Err(e) => {
                let _ = self.client.clunk(clone);
                Err(e)
            }
        }
    }

    pub(super) fn open_ino(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        if access.write {
            self.writable()?;
        }
        // Non-blocking so that opening a FIFO on the host cannot hang the server.
        let flags = access_flags(access) | open::NONBLOCK;
        let mut lease = self.resolve(ino)?;
        loop {
            let r = self.open_clone(lease.fid, flags);
            let stale = match &r {
                Ok((_, qid)) => qid.path != ino,
                Err(Error::Remote(_)) => true,
                Err(_) => false,
            };
            if stale && !lease.fresh {
                // A cached fid that no longer names `ino`: find it again and retry once.
                if let Ok((fid, _)) = r {
                    let _ = self.client.clunk(fid);
                }
                let clunk = self.state.lock().invalidate(ino, lease.fid);
                drop(lease);
                self.clunk(clunk);
                lease = self.walk_fresh(ino)?;
                continue;
            }
            let (fid, qid) = r.map_err(from_error)?;
            if qid.path != ino {
                let _ = self.client.clunk(fid);
                return Err(Errno::Noent);
            }
            let dir = qid.ty & QT_DIR != 0;
            if dir && access.write {
                let _ = self.client.clunk(fid);
                return Err(Errno::Isdir);
            }
            drop(lease);
            return Ok(self.state.lock().add_handle(fid, ino, dir));
        }
    }

    /// `create_file`: `Tlcreate` (exclusive) on a clone of the directory's fid, which then
    /// is the new file's open fid.
    pub(super) fn create_file_in(
        &self,
        dir: Ino,
        name: &str,
        access: Access,
    ) -> Result<(Ino, Handle), Errno> {
        self.writable()?;
        let d = self.verified(dir)?;
        let (fid, _) = self
            .client
            .walk_new(d.fid, &[])
            .map_err(|f| from_error(f.error))?;
        drop(d);
        let flags = access_flags(access) | open::CREATE | open::EXCL | open::NOFOLLOW;
        let qid = match self
            .client
            .lcreate(fid, name.as_bytes(), flags, FILE_MODE, NONUNAME)
        {
            Ok((qid, _iounit)) => qid,
            Err(e) => {
                let _ = self.client.clunk(fid);
                return Err(from_error(e));
            }
        };
        if let Some(mut p) = self.first_path(dir) {
            p.push(String::from(name));
            let clunk = self.state.lock().note_path(qid.path, p);
            self.clunk(clunk);
        }
        Ok((qid.path, self.state.lock().add_handle(fid, qid.path, false)))
    }

    /// Reads `buf.len()` bytes (fewer only at end of file) in `msize`-sized `Tread`s.
    pub(super) fn read_at(&self, h: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let (lease, obj) = self.handle(h)?;
        if obj.dir {
            return Err(Errno::Isdir);
        }
        let mut done = 0;
        while done < buf.len() {
            let at = offset.checked_add(done as u64).ok_or(Errno::Inval)?;
            let chunk = (buf.len() - done).min(self.client.max_io() as usize);
            let n = match self
                .client
                .read(lease.fid, at, &mut buf[done..done + chunk])
            {
                Ok(n) => n,
                Err(_) if done > 0 => break,
                Err(e) => return Err(from_error(e)),
            };
            done += n;
            // A short read of a regular file is the end of it.
            if n < chunk {
                break;
            }
        }
        Ok(done)
    }

    /// Writes all of `data` in `msize`-sized `Twrite`s, unless the server stops short.
    pub(super) fn write_at(&self, h: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.writable()?;
        let (lease, obj) = self.handle(h)?;
        if obj.dir {
            return Err(Errno::Isdir);
        }
        let mut done = 0;
        while done < data.len() {
            let at = offset.checked_add(done as u64).ok_or(Errno::Fbig)?;
            let chunk = (data.len() - done).min(self.client.max_io() as usize);
            let n = match self.client.write(lease.fid, at, &data[done..done + chunk]) {
                Ok(n) => n,
                Err(_) if done > 0 => break,
                Err(e) => return Err(from_error(e)),
            };
            if n == 0 {
                if done == 0 {
                    return Err(Errno::Io);
                }
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// `read_dir`: `Treaddir` from `cookie` (a server offset), without `.` and `..`.
    pub(super) fn list(
        &self,
        h: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        let (lease, obj) = self.handle(h)?;
        if !obj.dir {
            return Err(Errno::Notdir);
        }
        let mut pos = cookie;
        let mut added = 0;
        loop {
            let mut batch = Vec::new();
            let mut bad_offset = false;
            let n = self
                .client
                .readdir(lease.fid, pos, READDIR_COUNT, &mut |e| {
                    bad_offset |= e.offset >= u64::MAX - 2;
                    let dot = e.name == b"." || e.name == b"..";
                    let name = String::from_utf8_lossy(e.name).into_owned();
                    batch.push((dot, name, e.qid, e.offset, kind_of_dtype(e.dtype, &e.qid)));
                })
                .map_err(from_error)?;
            if n == 0 {
                return Ok(true);
            }
            if bad_offset {
                // The WASI layer needs the top cookies for its own `.` and `..`.
                return Err(Errno::Overflow);
            }
            if batch.last().map(|e| e.3) == Some(pos) {
                // A server that does not move on would list forever.
                return Err(Errno::Io);
            }
            for (dot, name, qid, next, kind) in batch {
                pos = next;
                if dot {
                    continue;
                }
                added += name.len();
                out.push(DirEntry {
                    name,
                    ino: qid.path,
                    kind,
                    next,
                });
                if added >= max_bytes {
                    return Ok(false);
                }
            }
        }
    }
}
