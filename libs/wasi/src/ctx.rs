//! Per-process WASI state: arguments, environment, the fd table and the host traits.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::{filetype, rights};
use crate::errno::Errno;
use crate::fs::{Access, FileSystem, Handle, Ino};
use crate::host::{Clock, Console, Random, Scheduler};

/// Most fds a process may have open at once.
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

/// What an open fd refers to.
pub(crate) enum FdKind {
    Stdin,
    Stdout,
    Stderr,
    File {
        file: Opened,
        pos: u64,
    },
    Dir {
        fs: Arc<dyn FileSystem>,
        ino: Ino,
        /// Opened on first use for a preopen, at `path_open` otherwise.
        handle: Option<Opened>,
        /// The guest path if this fd is a preopen.
        preopen: Option<String>,
    },
}

impl FdKind {
    /// The directory's handle, opening it first if this is its first use.
    pub fn dir_handle(&mut self) -> Result<&Opened, crate::errno::Errno> {
        let FdKind::Dir {
            fs, ino, handle, ..
        } = self
        else {
            return Err(crate::errno::Errno::Notdir);
        };
        if handle.is_none() {
            let h = fs.open(
                *ino,
                Access {
                    read: true,
                    write: false,
                },
            )?;
            *handle = Some(Opened::new(fs, h));
        }
        handle.as_ref().ok_or(crate::errno::Errno::Badf)
    }
}

pub(crate) struct Fd {
    pub kind: FdKind,
    pub base: u64,
    pub inheriting: u64,
    pub flags: u16,
}

impl Fd {
    pub fn filetype(&self) -> u8 {
        match self.kind {
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => filetype::CHARACTER_DEVICE,
            FdKind::File { .. } => filetype::REGULAR_FILE,
            FdKind::Dir { .. } => filetype::DIRECTORY,
        }
    }

    /// `Ok` if this fd holds every right in `needed`.
    pub fn need(&self, needed: u64) -> Result<(), Errno> {
        if self.base & needed == needed {
            Ok(())
        } else {
            Err(Errno::Notcapable)
        }
    }
}

/// The WASI state of one process (one Wasm instance).
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: Vec<Option<Fd>>,
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
    pub fn builder(
        console: Box<dyn Console>,
        clock: Box<dyn Clock>,
        random: Box<dyn Random>,
        sched: Box<dyn Scheduler>,
    ) -> WasiCtxBuilder {
        let tty = |kind, drop: u64| {
            Some(Fd {
                kind,
                base: rights::TTY & !drop,
                inheriting: 0,
                flags: 0,
            })
        };
        let fds = alloc::vec![
            tty(FdKind::Stdin, rights::FD_WRITE),
            tty(FdKind::Stdout, rights::FD_READ),
            tty(FdKind::Stderr, rights::FD_READ),
        ];
        WasiCtxBuilder {
            ctx: WasiCtx {
                args: Vec::new(),
                env: Vec::new(),
                fds,
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

    /// The console, e.g. to collect captured output.
    pub fn console(&mut self) -> &mut dyn Console {
        &mut *self.console
    }

    pub(crate) fn fd(&self, fd: u32) -> Result<&Fd, Errno> {
        self.fds
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub(crate) fn fd_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Puts `fd` in the lowest free slot.
    pub(crate) fn alloc_fd(&mut self, fd: Fd) -> Result<u32, Errno> {
        if let Some(i) = self.fds.iter().position(Option::is_none) {
            self.fds[i] = Some(fd);
            return Ok(i as u32);
        }
        if self.fds.len() >= MAX_FDS {
            return Err(Errno::Mfile);
        }
        self.fds.push(Some(fd));
        Ok((self.fds.len() - 1) as u32)
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
    /// preopen is fd 3, the next fd 4, and so on. A read-only tree never grants mutating rights.
    pub fn preopen_dir(mut self, fs: Arc<dyn FileSystem>, guest_path: &str) -> Self {
        let mask = if fs.is_read_only() {
            !rights::MUTATING
        } else {
            rights::ALL
        };
        let ino = fs.root();
        let fd = Fd {
            kind: FdKind::Dir {
                fs,
                ino,
                handle: None,
                preopen: Some(String::from(guest_path)),
            },
            base: rights::DIRECTORY & mask,
            inheriting: (rights::DIRECTORY | rights::FILE) & mask,
            flags: 0,
        };
        self.ctx.fds.push(Some(fd));
        self
    }

    pub fn build(self) -> WasiCtx {
        self.ctx
    }
}
