//! An in-process 9P2000.L server over a host directory, for tests and host tools (feature
//! `server`, Linux, std).
//!
//! It behaves as QEMU's `local` fsdev with `security_model=none` does: a fid names a *path*
//! below the export root (so a fid goes stale when the host renames or deletes what it
//! named, and a rename through 9P moves the paths of the fids below it); every path is
//! resolved one component at a time with `O_NOFOLLOW`, so no symbolic link is followed
//! and nothing outside the root is reached; an opened fid holds a host descriptor (reads,
//! writes, `getattr`, `setattr` of an unlinked open file keep working); errors are the
//! host's errno; created objects get exactly the mode asked for and ownership changes that
//! fail are ignored; `readonly=on` answers `EROFS` to every request outside QEMU's
//! read-only list and to `Tlopen` for writing. [`Loopback`] connects a [`crate::Client`]
//! to it in the same process.

mod fids;
mod host;
mod loopback;
mod ops;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::vec::Vec;

pub use loopback::Loopback;

use crate::errno;
use crate::msg::{NOTAG, Rmsg, Tmsg, split_frame};
use crate::transport::TransportError;
use crate::wire::WireError;
use host::Errno;

/// How a [`Server`] exports its directory.
#[derive(Clone, Copy, Debug)]
pub struct ServerOptions {
    /// QEMU's `readonly=on`.
    pub read_only: bool,
    /// The largest `msize` agreed to.
    pub max_msize: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            read_only: false,
            max_msize: 512 * 1024,
        }
    }
}

/// What a fid refers to.
struct Fid {
    /// Components below the root (raw bytes, as on the host).
    path: Mutex<Vec<Vec<u8>>>,
    open: Mutex<Open>,
}

enum Open {
    None,
    File(OwnedFd),
    Dir(OwnedFd),
}

impl Open {
    fn fd(&self) -> Option<&OwnedFd> {
        match self {
            Open::None => None,
            Open::File(fd) | Open::Dir(fd) => Some(fd),
        }
    }
}

/// A 9P2000.L server for one host directory.
pub struct Server {
    root: OwnedFd,
    options: ServerOptions,
    msize: AtomicU32,
    fids: Mutex<HashMap<u32, Arc<Fid>>>,
    requests: AtomicU64,
}

impl Server {
    /// Exports the directory `root`.
    pub fn new(root: &Path, options: ServerOptions) -> std::io::Result<Server> {
        let root = std::fs::File::open(root)?;
        if !root.metadata()?.is_dir() {
            return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        Ok(Server {
            root: root.into(),
            msize: AtomicU32::new(options.max_msize),
            options,
            fids: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// Fids the server currently knows (QEMU's fid table).
    pub fn fid_count(&self) -> usize {
        lock(&self.fids).len()
    }

    /// Requests handled so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Answers one request. Fails (as QEMU marks the device broken) only when the reply
    /// does not fit `response`.
    pub fn handle(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        match Tmsg::decode(request) {
            Ok((tag, msg)) => {
                if let Err(e) = self.dispatch(tag, &msg, &mut out) {
                    out.clear();
                    error_reply(tag, e, &mut out);
                }
            }
            Err(e) => {
                let tag = split_frame(request).map_or(NOTAG, |(_, tag, _)| tag);
                let code = match e {
                    WireError::UnknownType(_) => errno::EOPNOTSUPP,
                    _ => errno::EINVAL,
                };
                error_reply(tag, code, &mut out);
            }
        }
        let dst = response
            .get_mut(..out.len())
            .ok_or(TransportError("reply does not fit the response buffer"))?;
        dst.copy_from_slice(&out);
        Ok(out.len())
    }

    fn fid(&self, fid: u32) -> Result<Arc<Fid>, Errno> {
        lock(&self.fids).get(&fid).cloned().ok_or(errno::ENOENT)
    }

    fn add_fid(&self, fid: u32, path: Vec<Vec<u8>>, open: Open) -> Result<(), Errno> {
        let mut fids = lock(&self.fids);
        if fids.contains_key(&fid) {
            return Err(errno::EINVAL);
        }
        fids.insert(
            fid,
            Arc::new(Fid {
                path: Mutex::new(path),
                open: Mutex::new(open),
            }),
        );
        Ok(())
    }

    /// Opens the directory at `path` (components below the root), following no link.
    fn open_dir(&self, path: &[Vec<u8>]) -> Result<OwnedFd, Errno> {
        let mut cur = host::openat(self.root.as_fd(), c".", libc::O_PATH | libc::O_DIRECTORY, 0)?;
        for c in path {
            let name = host::name(c)?;
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
            cur = host::openat(cur.as_fd(), &name, flags, 0)?;
        }
        Ok(cur)
    }

    /// The parent directory and final name of `path`; for the root, the root (opened for
    /// reading, so descriptor calls work on it) and no name.
    fn locate(&self, path: &[Vec<u8>]) -> Result<(OwnedFd, Option<CString>), Errno> {
        match path.split_last() {
            None => {
                let fd = host::openat(
                    self.root.as_fd(),
                    c".",
                    libc::O_RDONLY | libc::O_DIRECTORY,
                    0,
                )?;
                Ok((fd, None))
            }
            Some((last, parent)) => Ok((self.open_dir(parent)?, Some(host::name(last)?))),
        }
    }

    /// Moves the paths of every fid at or below `from` to `to` (after a rename).
    fn move_fid_paths(&self, from: &[Vec<u8>], to: &[Vec<u8>]) {
        for fid in lock(&self.fids).values() {
            let mut path = lock(&fid.path);
            if path.starts_with(from) {
                let rest = path.split_off(from.len());
                *path = to.iter().cloned().chain(rest).collect();
            }
        }
    }
}

/// Serves the host directory `root` in this process and mounts it through the loopback
/// transport: a [`crate::NinepFs`] for a host tool to preopen, running the same client code
/// the kernel runs over virtio-9p.
pub fn mount(
    root: &Path,
    server: ServerOptions,
    mount: crate::MountOptions,
) -> std::io::Result<crate::NinepFs<Loopback>> {
    let server = Arc::new(Server::new(root, server)?);
    crate::NinepFs::mount_with(Loopback::new(server), mount)
        .map_err(|e| std::io::Error::other(e.message()))
}

fn error_reply(tag: u16, ecode: u32, out: &mut Vec<u8>) {
    // An `Rlerror` always encodes.
    let _ = Rmsg::Lerror { ecode }.encode(tag, out);
}

/// Locks a mutex, going on with the data of a thread that panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
