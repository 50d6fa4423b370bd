//! [`NinepFs`]: a `wasi_p1::FileSystem` over a 9P2000.L share (QEMU `-fsdev local` +
//! virtio-9p), live: what the host changes, the program sees.
//!
//! How inodes map to fids. An [`Ino`] is the server's `qid.path` (QEMU: the host inode
//! number). For each inode the adapter remembers the paths below the root it was last seen
//! at and, for recently used ones, a cached walk fid. QEMU's fids name *paths*, so a fid
//! goes stale when the host renames or deletes behind the program's back; the adapter
//! therefore never trusts a cached fid blindly: `stat` checks the qid the server returns,
//! other operations on a cached fid first check it with `Tgetattr`, and a fid that fails the
//! check is dropped and the inode found again by walking its path from the root (a walk
//! returns the qid of every component, so the walk itself proves the path still leads to
//! that inode). An inode no path leads to any more is `Noent`, except that an open handle
//! still answers `stat` (unlink-while-open). Cached walk fids are bounded (least recently
//! used ones are clunked); every handle owns one opened fid, clunked on `close`; fid numbers
//! are reused after clunk, and no fid is clunked while a request on it is in flight.
//!
//! Costs, in round trips: `lookup` 1 (+1 to clunk the fid it replaces; a failed lookup
//! below the root +2 to get the exact errno), `stat` 1, `open` 2 (clone + `Tlopen`),
//! `close` 1, mutations 2 (check + act; `create_file` 3), `read` and `write` 1 per
//! `msize - 24` bytes. A cached fid found stale costs one walk more.

mod errno_map;
mod io;
mod names;
mod state;

use alloc::string::String;
use alloc::vec::Vec;

use spin::Mutex;
use wasi_p1::Errno;
use wasi_p1::fs::{Access, DirEntry, FileKind, FileSystem, Handle, Ino, SetTime, Stat};

pub use errno_map::{from_error, from_linux};
pub use state::Limits;
use state::State;

use crate::client::{Client, DEFAULT_MSIZE};
use crate::msg::{Attr, NONUNAME, SetAttr, dt};
use crate::transport::Transport;
use crate::wire::{QT_DIR, QT_SYMLINK, Qid};

/// How to mount a share.
#[derive(Clone, Debug)]
pub struct MountOptions {
    /// `filestat.dev` of this tree (distinct per mounted tree).
    pub dev: u64,
    /// The `msize` to ask for; the server may offer less.
    pub msize: u32,
    /// The tree to attach (QEMU ignores it).
    pub aname: String,
    /// Treat the share as read-only even if the server accepts writes.
    pub read_only: bool,
    pub limits: Limits,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            dev: 0,
            msize: DEFAULT_MSIZE,
            aname: String::new(),
            read_only: false,
            limits: Limits::default(),
        }
    }
}

/// A 9P2000.L share as a WASI file system.
pub struct NinepFs<T: Transport> {
    client: Client<T>,
    root_fid: u32,
    root: Ino,
    dev: u64,
    read_only: bool,
    state: Mutex<State>,
}

impl<T: Transport> NinepFs<T> {
    /// Negotiates the protocol over `transport`, attaches the share's root and probes
    /// whether it is read-only (QEMU `readonly=on`), with default options and `dev`.
    pub fn mount(transport: T, dev: u64) -> Result<Self, Errno> {
        Self::mount_with(
            transport,
            MountOptions {
                dev,
                ..MountOptions::default()
            },
        )
    }

    /// [`mount`](Self::mount) with every option.
    pub fn mount_with(transport: T, options: MountOptions) -> Result<Self, Errno> {
        let client = Client::connect(transport, options.msize).map_err(from_error)?;
        let (root_fid, qid) = client
            .attach(b"", options.aname.as_bytes(), NONUNAME)
            .map_err(from_error)?;
        // A `Tsetattr` that changes nothing succeeds on a writable export and gets `EROFS`
        // from QEMU's read-only one (it is not on QEMU's list of read-only requests).
        let read_only = options.read_only
            || client.setattr(root_fid, SetAttr::default())
                == Err(crate::Error::Remote(crate::errno::EROFS));
        Ok(NinepFs {
            client,
            root_fid,
            root: qid.path,
            dev: options.dev,
            read_only,
            state: Mutex::new(State::new(qid.path, options.limits)),
        })
    }

    /// The 9P session (for its `msize` and fid count).
    pub fn client(&self) -> &Client<T> {
        &self.client
    }

    /// Walk fids cached right now.
    pub fn cached_fids(&self) -> usize {
        self.state.lock().cached_fids()
    }

    /// Inodes remembered right now.
    pub fn remembered_inodes(&self) -> usize {
        self.state.lock().node_count()
    }

    /// Clunks `fids` (the lock is not held: callers pass what a `State` method returned).
    fn clunk(&self, fids: Vec<u32>) {
        for fid in fids {
            // A clunked fid is gone even if the server complains.
            let _ = self.client.clunk(fid);
        }
    }

    fn writable(&self) -> Result<(), Errno> {
        if self.read_only {
            Err(Errno::Rofs)
        } else {
            Ok(())
        }
    }
}

impl<T: Transport> Drop for NinepFs<T> {
    fn drop(&mut self) {
        let fids = self.state.lock().drain();
        self.clunk(fids);
        let _ = self.client.clunk(self.root_fid);
    }
}

/// What a mode's `S_IFMT` bits say.
fn kind_of_mode(mode: u32) -> FileKind {
    match mode & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::SymbolicLink,
        0o020000 => FileKind::CharacterDevice,
        0o060000 => FileKind::BlockDevice,
        0o140000 => FileKind::Socket,
        _ => FileKind::Unknown,
    }
}

/// What a directory entry's `d_type` says (the qid when the host did not say).
fn kind_of_dtype(dtype: u8, qid: &Qid) -> FileKind {
    match dtype {
        dt::REG => FileKind::File,
        dt::DIR => FileKind::Directory,
        dt::LNK => FileKind::SymbolicLink,
        dt::CHR => FileKind::CharacterDevice,
        dt::BLK => FileKind::BlockDevice,
        dt::SOCK => FileKind::Socket,
        dt::UNKNOWN if qid.ty & QT_DIR != 0 => FileKind::Directory,
        dt::UNKNOWN if qid.ty & QT_SYMLINK != 0 => FileKind::SymbolicLink,
        _ => FileKind::Unknown,
    }
}

fn nanos(sec: u64, nsec: u64) -> u64 {
    // Times before the epoch come as huge (negative) seconds: report 0, as unknown.
    if sec > i64::MAX as u64 {
        return 0;
    }
    sec.saturating_mul(1_000_000_000).saturating_add(nsec)
}

fn stat_of(a: &Attr) -> Stat {
    Stat {
        ino: a.qid.path,
        kind: kind_of_mode(a.mode),
        size: a.size,
        nlink: a.nlink,
        atime: nanos(a.atime_sec, a.atime_nsec),
        mtime: nanos(a.mtime_sec, a.mtime_nsec),
        ctime: nanos(a.ctime_sec, a.ctime_nsec),
    }
}

/// The `Tsetattr` that sets these times (`Now`: the server's clock).
fn times_attr(atime: SetTime, mtime: SetTime) -> SetAttr {
    use crate::msg::setattr::*;
    let mut a = SetAttr::default();
    match atime {
        SetTime::Omit => {}
        SetTime::Now => a.valid |= ATIME,
        SetTime::At(ns) => {
            a.valid |= ATIME | ATIME_SET;
            (a.atime_sec, a.atime_nsec) = (ns / 1_000_000_000, ns % 1_000_000_000);
        }
    }
    match mtime {
        SetTime::Omit => {}
        SetTime::Now => a.valid |= MTIME,
        SetTime::At(ns) => {
            a.valid |= MTIME | MTIME_SET;
            (a.mtime_sec, a.mtime_nsec) = (ns / 1_000_000_000, ns % 1_000_000_000);
        }
    }
    a
}

impl<T: Transport> FileSystem for NinepFs<T> {
    fn dev(&self) -> u64 {
        self.dev
    }
    fn root(&self) -> Ino {
        self.root
    }
    fn is_read_only(&self) -> bool {
        self.read_only
    }
    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.lookup_name(dir, name)
    }
    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        self.stat_ino(ino).map(|a| stat_of(&a))
    }
    fn set_times(&self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.writable()?;
        let lease = self.verified(ino)?;
        self.client
            .setattr(lease.fid, times_attr(atime, mtime))
            .map_err(from_error)
    }
    fn readlink(&self, ino: Ino) -> Result<String, Errno> {
        let lease = self.verified(ino)?;
        let target = self.client.readlink(lease.fid).map_err(from_error)?;
        String::from_utf8(target).map_err(|_| Errno::Ilseq)
    }
    fn create_file(&self, dir: Ino, name: &str, access: Access) -> Result<(Ino, Handle), Errno> {
        self.create_file_in(dir, name, access)
    }
    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.make_in(dir, name, |c, fid| {
            c.mkdir(fid, name.as_bytes(), 0o755, NONUNAME)
        })
    }
    fn symlink(&self, dir: Ino, name: &str, target: &str) -> Result<Ino, Errno> {
        self.make_in(dir, name, |c, fid| {
            c.symlink(fid, name.as_bytes(), target.as_bytes(), NONUNAME)
        })
    }
    fn link(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno> {
        self.link_in(ino, dir, name)
    }
    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.remove_in(dir, name, 0)
    }
    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.remove_in(dir, name, crate::msg::AT_REMOVEDIR)
    }
    fn rename(
        &self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), Errno> {
        self.rename_in(from_dir, from_name, to_dir, to_name)
    }
    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        self.open_ino(ino, access)
    }
    fn close(&self, handle: Handle) {
        let fids = self.state.lock().close_handle(handle);
        self.clunk(fids);
    }
    fn fstat(&self, handle: Handle) -> Result<Stat, Errno> {
        let (lease, _) = self.handle(handle)?;
        let a = self
            .client
            .getattr(lease.fid, crate::msg::getattr::BASIC)
            .map_err(from_error)?;
        Ok(stat_of(&a))
    }
    fn fset_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.writable()?;
        let (lease, _) = self.handle(handle)?;
        self.client
            .setattr(lease.fid, times_attr(atime, mtime))
            .map_err(from_error)
    }
    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.read_at(handle, offset, buf)
    }
    fn write(&self, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.write_at(handle, offset, data)
    }
    fn set_len(&self, handle: Handle, len: u64) -> Result<(), Errno> {
        self.writable()?;
        let (lease, obj) = self.handle(handle)?;
        if obj.dir {
            return Err(Errno::Isdir);
        }
        let attr = SetAttr {
            valid: crate::msg::setattr::SIZE,
            size: len,
            ..SetAttr::default()
        };
        self.client.setattr(lease.fid, attr).map_err(from_error)
    }
    fn sync(&self, handle: Handle, data_only: bool) -> Result<(), Errno> {
        let (lease, _) = self.handle(handle)?;
        self.client.fsync(lease.fid, data_only).map_err(from_error)
    }
    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        self.list(handle, cookie, max_bytes, out)
    }
}
