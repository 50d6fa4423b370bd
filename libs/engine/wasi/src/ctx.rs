//! Per-process WASI state: arguments, environment, the fd table and the host traits.
//!
//! The fd table follows wasmtime's preview 1 adapter: fds 0-2 are the standard streams,
//! preopens follow from 3, a new fd takes the highest number freed by `fd_close` or
//! `fd_renumber` (or one past the highest in use), and rights are not stored: `fd_fdstat_get`
//! derives them from what an fd is and how it was opened, as wasmtime does.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::fs::{Access, FileSystem, Handle, Ino};
use crate::host::{Clock, Console, Random, Scheduler};

/// Most fds a process may have open at once (an atoll limit; wasmtime has none).
pub const MAX_FDS: usize = 1024;

/// A [`Handle`] of a tree, closed when dropped: an fd owns its handles, so closing the fd,
/// renumbering another fd over it or dropping the [`WasiCtx`] closes each exactly once.
pub(crate) struct Opened {
    pub fs: Arc<dyn FileSystem>,
    pub handle: Handle,
}

impl Opened {
    pub fn new(fs: &Arc<dyn FileSystem>, handle: Handle) -> Opened {
        Opened {
            fs: fs.clone(),
            handle,
        }
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.fs.close(self.handle);
    }
}

/// An open regular file (or another non-directory a tree can open).
pub(crate) struct FileFd {
    pub file: Opened,
    pub pos: u64,
    /// `FDFLAGS_APPEND`: every write goes to the end, and `fd_pwrite` ignores its offset.
    pub append: bool,
    /// `FDFLAGS_NONBLOCK`: only reported back (files never block).
    pub nonblock: bool,
    pub access: Access,
}

/// An open directory.
pub(crate) struct DirFd {
    pub fs: Arc<dyn FileSystem>,
    pub ino: Ino,
    /// Opened on first use for a preopen, at `path_open` otherwise.
    pub handle: Option<Opened>,
    /// The guest path if this fd is a preopen.
    pub preopen: Option<String>,
}

impl DirFd {
    /// The directory's handle, opening it first if this is its first use.
    pub fn handle(&mut self) -> Result<&Opened, Errno> {
        if self.handle.is_none() {
            let read = Access {
                read: true,
                write: false,
            };
            let h = self.fs.open(self.ino, read)?;
            self.handle = Some(Opened::new(&self.fs, h));
        }
        self.handle.as_ref().ok_or(Errno::Badf)
    }
}

/// What an open fd refers to.
pub(crate) enum Fd {
    Stdin,
    Stdout,
    Stderr,
    File(FileFd),
    Dir(DirFd),
}

/// The WASI state of one process (one Wasm instance).
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, Fd>,
    /// Numbers freed by `fd_close` and `fd_renumber`, reused highest first.
    pub(crate) free: BTreeSet<u32>,
    pub(crate) console: Box<dyn Console>,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) random: Box<dyn Random>,
    pub(crate) sched: Box<dyn Scheduler>,
    pub(crate) exit_code: Option<u32>,
}

/// Builds a [`WasiCtx`].
pub struct WasiCtxBuilder {
    ctx: WasiCtx,
}

impl WasiCtx {
    /// Starts a context with fds 0-2 on `console` and no arguments, environment or preopens.
    /// Whether each stream is a terminal comes from [`Console::is_terminal`].
    pub fn builder(
        console: Box<dyn Console>,
        clock: Box<dyn Clock>,
        random: Box<dyn Random>,
        sched: Box<dyn Scheduler>,
    ) -> WasiCtxBuilder {
        let mut fds = BTreeMap::new();
        fds.insert(0, Fd::Stdin);
        fds.insert(1, Fd::Stdout);
        fds.insert(2, Fd::Stderr);
        WasiCtxBuilder {
            ctx: WasiCtx {
                args: Vec::new(),
                env: Vec::new(),
                fds,
                free: BTreeSet::new(),
                console,
                clock,
                random,
                sched,
                exit_code: None,
            },
        }
    }

    /// The code passed to `proc_exit`, once the guest called it.
    pub fn exit_code(&self) -> Option<u32> {
        self.exit_code
    }

    /// Open fds, the standard streams and preopens included: lets tests and fuzzers see
    /// that nothing leaks.
    pub fn fd_count(&self) -> usize {
        self.fds.len()
    }

    /// The console, e.g. to collect captured output.
    pub fn console(&mut self) -> &mut dyn Console {
        &mut *self.console
    }

    pub(crate) fn fd(&self, fd: u32) -> Result<&Fd, Errno> {
        self.fds.get(&fd).ok_or(Errno::Badf)
    }

    pub(crate) fn fd_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.fds.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// An open regular file; anything else is [`Errno::Badf`] (wasmtime's `get_file`).
    pub(crate) fn file(&self, fd: u32) -> Result<&FileFd, Errno> {
        match self.fd(fd)? {
            Fd::File(f) => Ok(f),
            _ => Err(Errno::Badf),
        }
    }

    pub(crate) fn file_mut(&mut self, fd: u32) -> Result<&mut FileFd, Errno> {
        match self.fd_mut(fd)? {
            Fd::File(f) => Ok(f),
            _ => Err(Errno::Badf),
        }
    }

    /// A seekable fd: a file; the standard streams are [`Errno::Spipe`], others
    /// [`Errno::Badf`] (wasmtime's `get_seekable`).
    pub(crate) fn seekable(&mut self, fd: u32) -> Result<&mut FileFd, Errno> {
        match self.fd_mut(fd)? {
            Fd::File(f) => Ok(f),
            Fd::Stdin | Fd::Stdout | Fd::Stderr => Err(Errno::Spipe),
            Fd::Dir(_) => Err(Errno::Badf),
        }
    }

    /// An open directory; anything else is [`Errno::Badf`] (wasmtime's `get_dir_fd`).
    pub(crate) fn dir(&self, fd: u32) -> Result<&DirFd, Errno> {
        match self.fd(fd)? {
            Fd::Dir(d) => Ok(d),
            _ => Err(Errno::Badf),
        }
    }

    pub(crate) fn dir_mut(&mut self, fd: u32) -> Result<&mut DirFd, Errno> {
        match self.fd_mut(fd)? {
            Fd::Dir(d) => Ok(d),
            _ => Err(Errno::Badf),
        }
    }

    /// Gives `fd` a number: the highest freed one, else one past the highest in use.
    pub(crate) fn alloc_fd(&mut self, fd: Fd) -> Result<u32, Errno> {
        if self.fds.len() >= MAX_FDS {
            return Err(Errno::Mfile);
        }
        let n = match self.free.pop_last() {
            Some(n) => n,
            None => match self.fds.last_key_value() {
                Some((&last, _)) => last.checked_add(1).ok_or(Errno::Mfile)?,
                None => 0,
            },
        };
        self.fds.insert(n, fd);
        Ok(n)
    }

    /// Closes `fd` (its handles are closed as it drops).
    pub(crate) fn close_fd(&mut self, fd: u32) -> Result<(), Errno> {
        let old = self.fds.remove(&fd).ok_or(Errno::Badf)?;
        self.free.insert(fd);
        drop(old);
        Ok(())
    }
}

impl WasiCtxBuilder {
    /// Appends one argument; the first is the program name (`argv[0]`).
    pub fn arg(mut self, arg: &str) -> Self {
        self.ctx.args.push(arg.as_bytes().to_vec());
        self
    }

    /// Appends several arguments.
    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Adds `key=value` to the environment.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        let mut v = Vec::with_capacity(key.len() + 1 + value.len());
        v.extend_from_slice(key.as_bytes());
        v.push(b'=');
        v.extend_from_slice(value.as_bytes());
        self.ctx.env.push(v);
        self
    }

    /// Preopens the root of `fs` as directory `guest_path` (e.g. `/` or `/tmp`); the first
    /// preopen is fd 3, the next fd 4, and so on.
    pub fn preopen_dir(mut self, fs: Arc<dyn FileSystem>, guest_path: &str) -> Self {
        let ino = fs.root();
        let fd = Fd::Dir(DirFd {
            fs,
            ino,
            handle: None,
            preopen: Some(String::from(guest_path)),
        });
        let n = self.ctx.fds.last_key_value().map_or(0, |(&k, _)| k + 1);
        self.ctx.fds.insert(n, fd);
        self
    }

    pub fn build(self) -> WasiCtx {
        self.ctx
    }
}
