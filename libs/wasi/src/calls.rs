//! The `wasi_snapshot_preview1` functions, over a [`WasiCtx`] and a [`GuestMemory`].
//!
//! Each function validates every guest pointer before it changes any state where that is
//! cheap (so a bad out-pointer does not leave a half-done operation behind), and returns
//! an [`Errno`]; only `proc_exit` ends the call.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::abi::{
    ADVICE_MAX, clockid, eventrwflags, eventtype, fdflags, filetype, fstflags, layout, lookupflags,
    oflags, preopentype, rights, subclockflags, whence,
};
use crate::ctx::{Fd, FdKind, Opened, WasiCtx};
use crate::errno::Errno;
use crate::fs::{Access, DirEntry, FileKind, FileSystem, Ino, Stat};
use crate::host::OutputStream;
use crate::mem::GuestMemory;

/// Longest path a guest may pass.
pub const PATH_MAX: u32 = 4096;
/// Largest single read from the console; a bigger request gets a short read.
const CONSOLE_READ_MAX: usize = 64 * 1024;

/// How a WASI function ended when it did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// Returned to the guest as its errno.
    Errno(Errno),
    /// `proc_exit(code)`: the instance must stop.
    Exit(u32),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::Errno(e)
    }
}

type R = Result<(), Fail>;

/// A Wasm parameter type of a WASI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    I32,
    I64,
}

trait Param: Sized {
    const TYPE: ParamType;
    fn from_raw(raw: u64) -> Self;
}

impl Param for u32 {
    const TYPE: ParamType = ParamType::I32;
    fn from_raw(raw: u64) -> u32 {
        raw as u32
    }
}

impl Param for u64 {
    const TYPE: ParamType = ParamType::I64;
    fn from_raw(raw: u64) -> u64 {
        raw
    }
}

macro_rules! functions {
    ($($name:ident($($arg:ident: $ty:ident),*);)*) => {
        /// Every function of `wasi_snapshot_preview1`.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Function {
            $($name,)*
        }

        impl Function {
            /// All of them, in witx order.
            pub const ALL: &'static [Function] = &[$(Function::$name,)*];

            /// The import name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Function::$name => stringify!($name),)*
                }
            }

            /// Parameter types of the core Wasm signature.
            pub fn params(self) -> &'static [ParamType] {
                match self {
                    $(Function::$name => &[$(<$ty as Param>::TYPE,)*],)*
                }
            }

            /// Whether the function returns an errno (`i32`); only `proc_exit` does not.
            pub fn returns_errno(self) -> bool {
                !matches!(self, Function::proc_exit)
            }

            /// Looks a function up by import name.
            pub fn from_name(name: &str) -> Option<Function> {
                Function::ALL.iter().copied().find(|f| f.name() == name)
            }
        }

        /// Runs `func` with raw arguments (each `i32` zero-extended or `i64` as bits).
        /// Returns the errno for the guest, or [`Fail::Exit`].
        pub fn dispatch(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, func: Function, args: &[u64])
            -> Result<Errno, u32>
        {
            if args.len() != func.params().len() {
                return Ok(Errno::Inval);
            }
            let r = match func {
                $(Function::$name => {
                    let mut _it = args.iter().copied();
                    $(let $arg = <$ty as Param>::from_raw(_it.next().unwrap_or(0));)*
                    ctx.$name(mem, $($arg),*)
                })*
            };
            match r {
                Ok(()) => Ok(Errno::Success),
                Err(Fail::Errno(e)) => Ok(e),
                Err(Fail::Exit(code)) => Err(code),
            }
        }
    };
}

functions! {
    args_get(argv: u32, argv_buf: u32);
    args_sizes_get(argc: u32, argv_buf_size: u32);
    environ_get(environ: u32, environ_buf: u32);
    environ_sizes_get(count: u32, buf_size: u32);
    clock_res_get(id: u32, out: u32);
    clock_time_get(id: u32, precision: u64, out: u32);
    fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
    fd_allocate(fd: u32, offset: u64, len: u64);
    fd_close(fd: u32);
    fd_datasync(fd: u32);
    fd_fdstat_get(fd: u32, out: u32);
    fd_fdstat_set_flags(fd: u32, flags: u32);
    fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64);
    fd_filestat_get(fd: u32, out: u32);
    fd_filestat_set_size(fd: u32, size: u64);
    fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32);
    fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32);
    fd_prestat_get(fd: u32, out: u32);
    fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
    fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32);
    fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32);
    fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32);
    fd_renumber(fd: u32, to: u32);
    fd_seek(fd: u32, offset: u64, whence: u32, newoffset: u32);
    fd_sync(fd: u32);
    fd_tell(fd: u32, out: u32);
    fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
    path_create_directory(fd: u32, path: u32, path_len: u32);
    path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, out: u32);
    path_filestat_set_times(fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst: u32);
    path_link(old_fd: u32, old_flags: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32);
    path_open(fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: u32);
    path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32);
    path_remove_directory(fd: u32, path: u32, path_len: u32);
    path_rename(fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32);
    path_symlink(old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32);
    path_unlink_file(fd: u32, path: u32, path_len: u32);
    poll_oneoff(subs: u32, events: u32, nsubs: u32, nevents: u32);
    proc_exit(code: u32);
    proc_raise(sig: u32);
    sched_yield();
    random_get(buf: u32, len: u32);
    sock_accept(fd: u32, flags: u32, out: u32);
    sock_recv(fd: u32, ri_data: u32, ri_len: u32, ri_flags: u32, ro_len: u32, ro_flags: u32);
    sock_send(fd: u32, si_data: u32, si_len: u32, si_flags: u32, so_len: u32);
    sock_shutdown(fd: u32, how: u32);
}

/// A path resolved up to its last component.
struct Resolved {
    fs: Arc<dyn FileSystem>,
    /// Directories from the fd's directory down to the parent of `name` (never empty).
    stack: Vec<Ino>,
    /// The last component; may be `.` or `..`.
    name: String,
    /// The path ended in `/`: the target must be a directory.
    dir_only: bool,
}

impl Resolved {
    fn parent(&self) -> Ino {
        // `stack` is never empty: it starts with the fd's directory.
        self.stack.last().copied().unwrap_or(0)
    }

    /// The target inode and its parent directory.
    fn target(&self) -> Result<(Ino, Ino), Errno> {
        let parent = self.parent();
        let n = self.stack.len();
        match self.name.as_str() {
            "." => Ok((parent, if n >= 2 { self.stack[n - 2] } else { parent })),
            ".." if n >= 2 => Ok((
                self.stack[n - 2],
                if n >= 3 {
                    self.stack[n - 3]
                } else {
                    self.stack[n - 2]
                },
            )),
            ".." => Err(Errno::Notcapable),
            name => {
                let ino = self.fs.lookup(parent, name)?;
                if self.dir_only && self.fs.stat(ino)?.kind != FileKind::Directory {
                    return Err(Errno::Notdir);
                }
                Ok((ino, parent))
            }
        }
    }

    /// The last component, for operations that create or remove it.
    fn plain_name(&self) -> Result<&str, Errno> {
        match self.name.as_str() {
            "." | ".." => Err(Errno::Inval),
            name => Ok(name),
        }
    }
}

fn write_filestat(mem: &mut GuestMemory<'_>, out: u32, dev: u64, st: &Stat) -> Result<(), Errno> {
    mem.check(out, layout::FILESTAT_SIZE)?;
    write_filestat_raw(
        mem,
        out,
        [dev, st.ino],
        filetype_of(st.kind),
        [st.nlink, st.size, st.atime, st.mtime, st.ctime],
    )
}

/// The `$filetype` of a [`FileKind`].
fn filetype_of(kind: FileKind) -> u8 {
    match kind {
        FileKind::File => filetype::REGULAR_FILE,
        FileKind::Directory => filetype::DIRECTORY,
        FileKind::SymbolicLink => filetype::SYMBOLIC_LINK,
        FileKind::CharacterDevice => filetype::CHARACTER_DEVICE,
        FileKind::BlockDevice => filetype::BLOCK_DEVICE,
        FileKind::Socket => filetype::SOCKET_STREAM,
        FileKind::Unknown => filetype::UNKNOWN,
    }
}

fn write_filestat_raw(
    mem: &mut GuestMemory<'_>,
    out: u32,
    head: [u64; 2],
    ft: u8,
    tail: [u64; 5],
) -> Result<(), Errno> {
    let mut rec = [0u8; layout::FILESTAT_SIZE as usize];
    rec[0..8].copy_from_slice(&head[0].to_le_bytes());
    rec[8..16].copy_from_slice(&head[1].to_le_bytes());
    rec[16] = ft;
    for (i, v) in tail.iter().enumerate() {
        rec[24 + 8 * i..32 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    mem.write_bytes(out, &rec)
}

/// Validates `$fstflags` for the set-times functions.
fn check_fstflags(flags: u32) -> Result<(), Errno> {
    let all = fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW;
    let f = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    if f & !all != 0
        || (f & fstflags::ATIM != 0 && f & fstflags::ATIM_NOW != 0)
        || (f & fstflags::MTIM != 0 && f & fstflags::MTIM_NOW != 0)
    {
        return Err(Errno::Inval);
    }
    Ok(())
}

// The parameter lists are the preview 1 ABI's.
#[allow(clippy::too_many_arguments)]
impl WasiCtx {
    // ---- arguments and environment ----------------------------------------------------

    fn write_strings(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> R {
        let count = u32::try_from(list.len()).map_err(|_| Errno::TooBig)?;
        let total: usize = list.iter().map(|s| s.len() + 1).sum();
        let total = u32::try_from(total).map_err(|_| Errno::TooBig)?;
        mem.check(ptrs, count.checked_mul(4).ok_or(Errno::Fault)?)?;
        mem.check(buf, total)?;
        let mut at = buf;
        for (i, s) in list.iter().enumerate() {
            mem.write_u32(ptrs + 4 * i as u32, at)?;
            mem.write_bytes(at, s)?;
            mem.write_u8(at + s.len() as u32, 0)?;
            at += s.len() as u32 + 1;
        }
        Ok(())
    }

    fn write_sizes(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], count: u32, size: u32) -> R {
        let total: usize = list.iter().map(|s| s.len() + 1).sum();
        mem.check(count, 4)?;
        mem.check(size, 4)?;
        mem.write_u32(count, u32::try_from(list.len()).map_err(|_| Errno::TooBig)?)?;
        mem.write_u32(size, u32::try_from(total).map_err(|_| Errno::TooBig)?)?;
        Ok(())
    }

    fn args_get(&mut self, mem: &mut GuestMemory<'_>, argv: u32, argv_buf: u32) -> R {
        Self::write_strings(mem, &self.args, argv, argv_buf)
    }

    fn args_sizes_get(&mut self, mem: &mut GuestMemory<'_>, argc: u32, size: u32) -> R {
        Self::write_sizes(mem, &self.args, argc, size)
    }

    fn environ_get(&mut self, mem: &mut GuestMemory<'_>, environ: u32, buf: u32) -> R {
        Self::write_strings(mem, &self.env, environ, buf)
    }

    fn environ_sizes_get(&mut self, mem: &mut GuestMemory<'_>, count: u32, size: u32) -> R {
        Self::write_sizes(mem, &self.env, count, size)
    }

    // ---- clocks, randomness, scheduling, exit -----------------------------------------

    fn clock_res_get(&mut self, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> R {
        let res = match id {
            clockid::REALTIME => self.clock.realtime_resolution(),
            clockid::MONOTONIC => self.clock.monotonic_resolution(),
            clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => {
                self.clock.process_cputime().ok_or(Errno::Notsup)?;
                self.clock.monotonic_resolution()
            }
            _ => return Err(Errno::Inval.into()),
        };
        Ok(mem.write_u64(out, res.max(1))?)
    }

    fn clock_time_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        _precision: u64,
        out: u32,
    ) -> R {
        let now = match id {
            clockid::REALTIME => self.clock.realtime_now(),
            clockid::MONOTONIC => self.clock.monotonic_now(),
            clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => {
                self.clock.process_cputime().ok_or(Errno::Notsup)?
            }
            _ => return Err(Errno::Inval.into()),
        };
        Ok(mem.write_u64(out, now)?)
    }

    fn random_get(&mut self, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> R {
        let slice = mem.slice_mut(buf, len)?;
        Ok(self.random.fill(slice)?)
    }

    fn sched_yield(&mut self, _mem: &mut GuestMemory<'_>) -> R {
        self.sched.yield_now();
        Ok(())
    }

    fn proc_exit(&mut self, _mem: &mut GuestMemory<'_>, code: u32) -> R {
        self.exit_code = Some(code);
        Err(Fail::Exit(code))
    }

    fn proc_raise(&mut self, _mem: &mut GuestMemory<'_>, _sig: u32) -> R {
        Err(Errno::Nosys.into())
    }

    // ---- fds -------------------------------------------------------------------------

    fn fd_close(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        self.fd(fd)?;
        self.fds[fd as usize] = None;
        while matches!(self.fds.last(), Some(None)) {
            self.fds.pop();
        }
        Ok(())
    }

    fn fd_renumber(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, to: u32) -> R {
        self.fd(fd)?;
        self.fd(to)?;
        if fd != to {
            let moved = self.fds[fd as usize].take();
            self.fds[to as usize] = moved;
            while matches!(self.fds.last(), Some(None)) {
                self.fds.pop();
            }
        }
        Ok(())
    }

    fn sync(&mut self, fd: u32, right: u64) -> R {
        let f = self.fd(fd)?;
        match f.kind {
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => Err(Errno::Inval.into()),
            // Every tree this crate knows is in memory: there is nothing to flush.
            FdKind::File { .. } | FdKind::Dir { .. } => Ok(f.need(right)?),
        }
    }

    fn fd_datasync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        self.sync(fd, rights::FD_DATASYNC)
    }

    fn fd_sync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> R {
        self.sync(fd, rights::FD_SYNC)
    }

    fn fd_advise(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        len: u64,
        advice: u32,
    ) -> R {
        let f = self.fd(fd)?;
        if advice > ADVICE_MAX
            || offset
                .checked_add(len)
                .is_none_or(|end| end > i64::MAX as u64)
        {
            return Err(Errno::Inval.into());
        }
        match f.kind {
            FdKind::File { .. } => Ok(f.need(rights::FD_ADVISE)?),
            FdKind::Dir { .. } => Err(Errno::Badf.into()),
            _ => Err(Errno::Spipe.into()),
        }
    }

    fn fd_allocate(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, offset: u64, len: u64) -> R {
        let f = self.fd(fd)?;
        let FdKind::File { file, .. } = &f.kind else {
            return Err(match f.kind {
                FdKind::Dir { .. } => Errno::Badf,
                _ => Errno::Spipe,
            }
            .into());
        };
        f.need(rights::FD_ALLOCATE)?;
        if len == 0 {
            return Err(Errno::Inval.into());
        }
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        if end > file.fs.fstat(file.handle)?.size {
            file.fs.set_len(file.handle, end)?;
        }
        Ok(())
    }

    fn fd_fdstat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let f = self.fd(fd)?;
        let mut rec = [0u8; layout::FDSTAT_SIZE as usize];
        rec[0] = f.filetype();
        rec[2..4].copy_from_slice(&f.flags.to_le_bytes());
        rec[8..16].copy_from_slice(&f.base.to_le_bytes());
        rec[16..24].copy_from_slice(&f.inheriting.to_le_bytes());
        Ok(mem.write_bytes(out, &rec)?)
    }

    fn fd_fdstat_set_flags(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, flags: u32) -> R {
        let f = self.fd_mut(fd)?;
        f.need(rights::FD_FDSTAT_SET_FLAGS)?;
        let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
        if flags & !fdflags::ALL != 0 {
            return Err(Errno::Inval.into());
        }
        // The sync flags are trivially honoured by in-memory trees; APPEND and NONBLOCK are
        // read back by `fd_write` and `fd_read`.
        f.flags = flags;
        Ok(())
    }

    fn fd_fdstat_set_rights(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> R {
        let f = self.fd_mut(fd)?;
        if base & !f.base != 0 || inheriting & !f.inheriting != 0 {
            return Err(Errno::Notcapable.into());
        }
        f.base = base;
        f.inheriting = inheriting;
        Ok(())
    }

    fn fd_filestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let f = self.fd(fd)?;
        f.need(rights::FD_FILESTAT_GET)?;
        match &f.kind {
            FdKind::File { file, .. } => {
                let st = file.fs.fstat(file.handle)?;
                Ok(write_filestat(mem, out, file.fs.dev(), &st)?)
            }
            FdKind::Dir { fs, ino, .. } => {
                let st = fs.stat(*ino)?;
                Ok(write_filestat(mem, out, fs.dev(), &st)?)
            }
            _ => Ok(write_filestat_raw(
                mem,
                out,
                [0, 0],
                filetype::CHARACTER_DEVICE,
                [1, 0, 0, 0, 0],
            )?),
        }
    }

    fn fd_filestat_set_size(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, size: u64) -> R {
        let f = self.fd(fd)?;
        match &f.kind {
            FdKind::File { file, .. } => {
                f.need(rights::FD_FILESTAT_SET_SIZE)?;
                Ok(file.fs.set_len(file.handle, size)?)
            }
            FdKind::Dir { .. } => Err(Errno::Isdir.into()),
            _ => Err(Errno::Inval.into()),
        }
    }

    fn fd_filestat_set_times(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _atim: u64,
        _mtim: u64,
        flags: u32,
    ) -> R {
        self.fd(fd)?;
        check_fstflags(flags)?;
        // The file system trait keeps no settable timestamps.
        Err(Errno::Nosys.into())
    }

    fn fd_prestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let FdKind::Dir {
            preopen: Some(name),
            ..
        } = &self.fd(fd)?.kind
        else {
            return Err(Errno::Badf.into());
        };
        let mut rec = [0u8; layout::PRESTAT_SIZE as usize];
        rec[0] = preopentype::DIR;
        rec[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
        Ok(mem.write_bytes(out, &rec)?)
    }

    fn fd_prestat_dir_name(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let FdKind::Dir {
            preopen: Some(name),
            ..
        } = &self.fd(fd)?.kind
        else {
            return Err(Errno::Badf.into());
        };
        mem.check(path, path_len)?;
        if (path_len as usize) < name.len() {
            return Err(Errno::Nametoolong.into());
        }
        Ok(mem.write_bytes(path, name.as_bytes())?)
    }

    fn fd_seek(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        whence: u32,
        newoffset: u32,
    ) -> R {
        mem.check(newoffset, 8)?;
        let offset = offset as i64;
        let f = self.fd_mut(fd)?;
        let needed = if offset == 0 && whence == whence::CUR {
            rights::FD_TELL
        } else {
            rights::FD_SEEK
        };
        let (base, file, pos) = match &mut f.kind {
            FdKind::File { file, pos } => (f.base, &*file, pos),
            FdKind::Dir { .. } => return Err(Errno::Isdir.into()),
            _ => return Err(Errno::Spipe.into()),
        };
        if base & needed != needed && base & rights::FD_SEEK == 0 {
            return Err(Errno::Notcapable.into());
        }
        let from = match whence {
            whence::SET => 0,
            whence::CUR => *pos,
            whence::END => file.fs.fstat(file.handle)?.size,
            _ => return Err(Errno::Inval.into()),
        };
        let new = i64::try_from(from)
            .ok()
            .and_then(|f| f.checked_add(offset))
            .ok_or(Errno::Inval)?;
        let new = u64::try_from(new).map_err(|_| Errno::Inval)?;
        *pos = new;
        Ok(mem.write_u64(newoffset, new)?)
    }

    fn fd_tell(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> R {
        let f = self.fd(fd)?;
        match &f.kind {
            FdKind::File { pos, .. } => {
                f.need(rights::FD_TELL)?;
                Ok(mem.write_u64(out, *pos)?)
            }
            FdKind::Dir { .. } => Err(Errno::Isdir.into()),
            _ => Err(Errno::Spipe.into()),
        }
    }

    /// Reads into the iovecs from a file at `at`; returns the bytes read.
    fn file_read(
        file: &Opened,
        mut at: u64,
        mem: &mut GuestMemory<'_>,
        iovs: &[(u32, u32)],
    ) -> Result<usize, Errno> {
        let mut total = 0;
        for &(buf, len) in iovs {
            let dst = mem.slice_mut(buf, len)?;
            let n = file.fs.read(file.handle, at, dst)?;
            total += n;
            at += n as u64;
            if n < len as usize {
                break;
            }
        }
        Ok(total)
    }

    /// Writes the iovecs to a file at `at`; returns the bytes written.
    fn file_write(
        file: &Opened,
        mut at: u64,
        mem: &GuestMemory<'_>,
        iovs: &[(u32, u32)],
    ) -> Result<usize, Errno> {
        let mut total = 0;
        for &(buf, len) in iovs {
            let n = file.fs.write(file.handle, at, mem.slice(buf, len)?)?;
            total += n;
            at += n as u64;
            if n < len as usize {
                break;
            }
        }
        Ok(total)
    }

    fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> R {
        let iov = mem.iovecs(iovs, iovs_len)?;
        mem.check(nread, 4)?;
        let f = self.fd_mut(fd)?;
        if f.base & rights::FD_READ == 0 {
            return Err(Errno::Badf.into());
        }
        let nonblock = f.flags & fdflags::NONBLOCK != 0;
        let n = match &mut f.kind {
            FdKind::Stdin => {
                let want: usize = iov
                    .iter()
                    .map(|&(_, l)| l as usize)
                    .sum::<usize>()
                    .min(CONSOLE_READ_MAX);
                if nonblock && !self.console.stdin_ready() {
                    return Err(Errno::Again.into());
                }
                let mut tmp = vec![0u8; want];
                let n = if want == 0 {
                    0
                } else {
                    self.console.read(&mut tmp)?.min(want)
                };
                let mut done = 0;
                for &(buf, len) in &iov {
                    let take = (len as usize).min(n - done);
                    mem.write_bytes(buf, &tmp[done..done + take])?;
                    done += take;
                }
                n
            }
            FdKind::File { file, pos } => {
                let n = Self::file_read(file, *pos, mem, &iov)?;
                *pos += n as u64;
                n
            }
            FdKind::Dir { .. } => return Err(Errno::Isdir.into()),
            FdKind::Stdout | FdKind::Stderr => return Err(Errno::Badf.into()),
        };
        Ok(mem.write_u32(nread, n as u32)?)
    }

    fn fd_pread(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> R {
        let iov = mem.iovecs(iovs, iovs_len)?;
        mem.check(nread, 4)?;
        let f = self.fd(fd)?;
        let FdKind::File { file, .. } = &f.kind else {
            return Err(match f.kind {
                FdKind::Dir { .. } => Errno::Isdir,
                _ => Errno::Spipe,
            }
            .into());
        };
        if f.base & rights::FD_READ == 0 {
            return Err(Errno::Badf.into());
        }
        f.need(rights::FD_SEEK)?;
        let n = Self::file_read(file, offset, mem, &iov)?;
        Ok(mem.write_u32(nread, n as u32)?)
    }

    fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> R {
        let iov = mem.iovecs(iovs, iovs_len)?;
        mem.check(nwritten, 4)?;
        let f = self.fd_mut(fd)?;
        if f.base & rights::FD_WRITE == 0 {
            return Err(Errno::Badf.into());
        }
        let append = f.flags & fdflags::APPEND != 0;
        let n = match &mut f.kind {
            FdKind::Stdout | FdKind::Stderr => {
                let stream = if matches!(f.kind, FdKind::Stdout) {
                    OutputStream::Stdout
                } else {
                    OutputStream::Stderr
                };
                let mut total = 0;
                for &(buf, len) in &iov {
                    let n = self.console.write(stream, mem.slice(buf, len)?)?;
                    total += n;
                    if n < len as usize {
                        break;
                    }
                }
                total
            }
            FdKind::File { file, pos } => {
                if append {
                    *pos = file.fs.fstat(file.handle)?.size;
                }
                let n = Self::file_write(file, *pos, mem, &iov)?;
                *pos += n as u64;
                n
            }
            FdKind::Dir { .. } => return Err(Errno::Isdir.into()),
            FdKind::Stdin => return Err(Errno::Badf.into()),
        };
        Ok(mem.write_u32(nwritten, n as u32)?)
    }

    fn fd_pwrite(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> R {
        let iov = mem.iovecs(iovs, iovs_len)?;
        mem.check(nwritten, 4)?;
        let f = self.fd(fd)?;
        let FdKind::File { file, .. } = &f.kind else {
            return Err(match f.kind {
                FdKind::Dir { .. } => Errno::Isdir,
                _ => Errno::Spipe,
            }
            .into());
        };
        if f.base & rights::FD_WRITE == 0 {
            return Err(Errno::Badf.into());
        }
        f.need(rights::FD_SEEK)?;
        let n = Self::file_write(file, offset, mem, &iov)?;
        Ok(mem.write_u32(nwritten, n as u32)?)
    }

    fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> R {
        mem.check(buf, buf_len)?;
        mem.check(bufused, 4)?;
        let f = self.fd_mut(fd)?;
        if !matches!(f.kind, FdKind::Dir { .. }) {
            return Err(Errno::Notdir.into());
        }
        f.need(rights::FD_READDIR)?;
        let ino = match f.kind {
            FdKind::Dir { ino, .. } => ino,
            _ => 0,
        };
        let dir = f.kind.dir_handle()?;
        // `.` and `..` come first (cookies 0 and 1), then the tree's entries: position `n`
        // of the listing has cookie `n`, as wasmtime numbers them.
        let mut list: Vec<DirEntry> = Vec::new();
        for (i, name) in [".", ".."].into_iter().enumerate() {
            list.push(DirEntry {
                name: String::from(name),
                ino,
                kind: FileKind::Directory,
                next: i as u64 + 1,
            });
        }
        let mut fs_cookie = 0;
        loop {
            let mut chunk = Vec::new();
            let done = dir.fs.read_dir(dir.handle, fs_cookie, 4096, &mut chunk)?;
            if let Some(last) = chunk.last() {
                fs_cookie = last.next;
            }
            list.extend(chunk);
            if done || list.len() as u64 > cookie.saturating_add(u64::from(buf_len)) {
                break;
            }
        }
        let mut used: u32 = 0;
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (i, e) in list.iter().enumerate().skip(start) {
            if used >= buf_len {
                break;
            }
            let mut rec = Vec::with_capacity(layout::DIRENT_SIZE as usize + e.name.len());
            rec.extend_from_slice(&(i as u64 + 1).to_le_bytes());
            rec.extend_from_slice(&e.ino.to_le_bytes());
            rec.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
            rec.push(filetype_of(e.kind));
            rec.extend_from_slice(&[0; 3]);
            rec.extend_from_slice(e.name.as_bytes());
            // A record that does not fit is truncated; the guest sees a full buffer and
            // retries from this cookie with a bigger one.
            let take = rec.len().min((buf_len - used) as usize);
            mem.write_bytes(buf + used, &rec[..take])?;
            used += take as u32;
        }
        Ok(mem.write_u32(bufused, used)?)
    }

    // ---- paths -----------------------------------------------------------------------

    /// Resolves `path` relative to directory fd `fd`, up to its last component, after
    /// checking that the fd holds `needed`. Paths may not leave the fd's directory.
    fn resolve(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
        needed: u64,
    ) -> Result<Resolved, Errno> {
        let f = self.fd(fd)?;
        let FdKind::Dir { fs, ino, .. } = &f.kind else {
            return Err(Errno::Notdir);
        };
        if f.base & needed != needed {
            // Only mutating rights are missing on a read-only tree: say so, as Linux would.
            let missing = needed & !f.base;
            let rofs = fs.is_read_only() && missing & !rights::MUTATING == 0;
            return Err(if rofs { Errno::Rofs } else { Errno::Notcapable });
        }
        if path_len > PATH_MAX {
            mem.check(path, path_len)?;
            return Err(Errno::Nametoolong);
        }
        let path = mem.str(path, path_len)?;
        if path.contains('\0') {
            return Err(Errno::Inval);
        }
        if path.is_empty() {
            return Err(Errno::Noent);
        }
        if path.starts_with('/') {
            return Err(Errno::Notcapable);
        }
        let dir_only = path.ends_with('/');
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let (last, walk) = comps.split_last().ok_or(Errno::Noent)?;
        let mut stack = vec![*ino];
        for c in walk {
            match *c {
                "." => {}
                ".." => {
                    if stack.len() == 1 {
                        return Err(Errno::Notcapable);
                    }
                    stack.pop();
                }
                name => {
                    let parent = stack.last().copied().unwrap_or(*ino);
                    let next = fs.lookup(parent, name)?;
                    if fs.stat(next)?.kind != FileKind::Directory {
                        return Err(Errno::Notdir);
                    }
                    stack.push(next);
                }
            }
        }
        Ok(Resolved {
            fs: fs.clone(),
            stack,
            name: String::from(*last),
            dir_only,
        })
    }

    fn path_create_directory(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_CREATE_DIRECTORY)?;
        let name = r.plain_name().map_err(|_| Errno::Exist)?;
        r.fs.create_dir(r.parent(), name)?;
        Ok(())
    }

    fn path_filestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        out: u32,
    ) -> R {
        mem.check(out, layout::FILESTAT_SIZE)?;
        if flags & !lookupflags::SYMLINK_FOLLOW != 0 {
            return Err(Errno::Inval.into());
        }
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_FILESTAT_GET)?;
        let (ino, _) = r.target()?;
        let st = r.fs.stat(ino)?;
        Ok(write_filestat(mem, out, r.fs.dev(), &st)?)
    }

    fn path_filestat_set_times(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        _flags: u32,
        path: u32,
        path_len: u32,
        _atim: u64,
        _mtim: u64,
        fst: u32,
    ) -> R {
        check_fstflags(fst)?;
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_FILESTAT_SET_TIMES)?;
        r.target()?;
        // The file system trait keeps no settable timestamps.
        Err(Errno::Nosys.into())
    }

    fn path_link(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old_fd: u32,
        _old_flags: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        self.resolve(mem, old_fd, old_path, old_len, rights::PATH_LINK_SOURCE)?
            .target()?;
        self.resolve(mem, new_fd, new_path, new_len, rights::PATH_LINK_TARGET)?;
        // The file system trait is a tree: no hard links.
        Err(Errno::Nosys.into())
    }

    fn path_symlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old_path: u32,
        old_len: u32,
        fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        mem.str(old_path, old_len)?;
        self.resolve(mem, fd, new_path, new_len, rights::PATH_SYMLINK)?;
        // The file system trait has no symbolic links.
        Err(Errno::Nosys.into())
    }

    fn path_readlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> R {
        mem.check(buf, buf_len)?;
        mem.check(bufused, 4)?;
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_READLINK)?;
        r.target()?;
        // It exists, and nothing is a symbolic link.
        Err(Errno::Inval.into())
    }

    fn path_open(
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
        mem.check(out, 4)?;
        let oflags = u16::try_from(oflags).map_err(|_| Errno::Inval)?;
        let fdflags = u16::try_from(fdflags).map_err(|_| Errno::Inval)?;
        if oflags & !oflags::ALL != 0
            || fdflags & !fdflags::ALL != 0
            || dirflags & !lookupflags::SYMLINK_FOLLOW != 0
        {
            return Err(Errno::Inval.into());
        }
        let mut needed = rights::PATH_OPEN;
        if oflags & oflags::CREAT != 0 {
            needed |= rights::PATH_CREATE_FILE;
        }
        if oflags & oflags::TRUNC != 0 {
            needed |= rights::PATH_FILESTAT_SET_SIZE;
        }
        let r = self.resolve(mem, fd, path, path_len, needed)?;
        let dir_fd = self.fd(fd)?;
        let read_only = r.fs.is_read_only();
        let wants_write = base & rights::FD_WRITE != 0 || oflags & oflags::TRUNC != 0;
        let mut created = None;
        let (ino, _parent) = match r.target() {
            Ok((ino, parent)) => {
                if oflags & (oflags::CREAT | oflags::EXCL) == oflags::CREAT | oflags::EXCL {
                    return Err(Errno::Exist.into());
                }
                (ino, parent)
            }
            Err(Errno::Noent) if oflags & oflags::CREAT != 0 => {
                if oflags & oflags::DIRECTORY != 0 || r.dir_only {
                    return Err(Errno::Isdir.into());
                }
                if read_only {
                    return Err(Errno::Rofs.into());
                }
                let access = Access {
                    read: true,
                    write: true,
                };
                let (ino, h) = r.fs.create_file(r.parent(), r.plain_name()?, access)?;
                created = Some(Opened::new(&r.fs, h));
                (ino, r.parent())
            }
            Err(e) => return Err(e.into()),
        };
        let kind = r.fs.stat(ino)?.kind;
        let is_dir = kind == FileKind::Directory;
        if oflags & oflags::DIRECTORY != 0 && !is_dir {
            return Err(Errno::Notdir.into());
        }
        if is_dir && wants_write {
            return Err(Errno::Isdir.into());
        }
        if read_only && wants_write {
            return Err(Errno::Rofs.into());
        }
        // Rights the guest asked for, cut down to what the directory may hand out and what
        // makes sense for the object; asking for more is allowed (wasi-libc and Rust's std do).
        let mask = if read_only {
            !rights::MUTATING
        } else {
            rights::ALL
        };
        let kind_rights = if is_dir {
            rights::DIRECTORY
        } else {
            rights::FILE
        };
        let new_base = base & dir_fd.inheriting & kind_rights & mask;
        let new_inheriting = inheriting & dir_fd.inheriting & mask;
        let access = Access {
            read: !is_dir,
            write: !is_dir && !read_only,
        };
        let opened = match created {
            Some(o) => o,
            None => Opened::new(
                &r.fs,
                r.fs.open(
                    ino,
                    Access {
                        read: true,
                        ..access
                    },
                )?,
            ),
        };
        if oflags & oflags::TRUNC != 0 {
            r.fs.set_len(opened.handle, 0)?;
        }
        let kind = if is_dir {
            FdKind::Dir {
                fs: r.fs.clone(),
                ino,
                handle: Some(opened),
                preopen: None,
            }
        } else {
            FdKind::File {
                file: opened,
                pos: 0,
            }
        };
        let newfd = self.alloc_fd(Fd {
            kind,
            base: new_base,
            inheriting: new_inheriting,
            flags: fdflags,
        })?;
        Ok(mem.write_u32(out, newfd)?)
    }

    fn path_remove_directory(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_REMOVE_DIRECTORY)?;
        let name = r.plain_name()?;
        if r.fs.is_read_only() {
            return Err(Errno::Rofs.into());
        }
        Ok(r.fs.remove_dir(r.parent(), name)?)
    }

    fn path_unlink_file(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> R {
        let r = self.resolve(mem, fd, path, path_len, rights::PATH_UNLINK_FILE)?;
        let name = r.plain_name().map_err(|_| Errno::Isdir)?;
        if r.dir_only {
            // `unlink("file/")`: a directory is asked for.
            let (ino, _) = r.target()?;
            return Err(if r.fs.stat(ino)?.kind == FileKind::Directory {
                Errno::Isdir
            } else {
                Errno::Notdir
            }
            .into());
        }
        if r.fs.is_read_only() {
            return Err(Errno::Rofs.into());
        }
        Ok(r.fs.unlink(r.parent(), name)?)
    }

    fn path_rename(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> R {
        let from = self.resolve(mem, fd, old_path, old_len, rights::PATH_RENAME_SOURCE)?;
        let to = self.resolve(mem, new_fd, new_path, new_len, rights::PATH_RENAME_TARGET)?;
        if !Arc::ptr_eq(&from.fs, &to.fs) {
            return Err(Errno::Xdev.into());
        }
        let (from_name, to_name) = (from.plain_name()?, to.plain_name()?);
        if from.fs.is_read_only() {
            return Err(Errno::Rofs.into());
        }
        Ok(from
            .fs
            .rename(from.parent(), from_name, to.parent(), to_name)?)
    }

    // ---- poll ------------------------------------------------------------------------

    fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs: u32,
        events: u32,
        nsubs: u32,
        nevents: u32,
    ) -> R {
        if nsubs == 0 {
            return Err(Errno::Inval.into());
        }
        let in_bytes = nsubs
            .checked_mul(layout::SUBSCRIPTION_SIZE)
            .ok_or(Errno::Fault)?;
        let out_bytes = nsubs.checked_mul(layout::EVENT_SIZE).ok_or(Errno::Fault)?;
        mem.check(subs, in_bytes)?;
        mem.check(events, out_bytes)?;
        mem.check(nevents, 4)?;

        enum Sub {
            /// Fires at this monotonic time.
            Clock(u64),
            /// Readable stdin.
            Stdin,
            /// Ready at once with this many bytes (0 if unknown) and flags.
            Ready(u64, u16),
            /// Fails at once with this errno.
            Error(Errno),
        }
        let now = self.clock.monotonic_now();
        let mut list = Vec::with_capacity(nsubs as usize);
        for i in 0..nsubs {
            let at = subs + i * layout::SUBSCRIPTION_SIZE;
            let userdata = mem.read_u64(at)?;
            let tag = mem.read_u8(at + 8)?;
            let sub = match tag {
                eventtype::CLOCK => {
                    let id = mem.read_u32(at + 16)?;
                    let timeout = mem.read_u64(at + 24)?;
                    let flags = mem.read_u16(at + 40)?;
                    let abs = flags & subclockflags::ABSTIME != 0;
                    match id {
                        clockid::MONOTONIC if abs => Sub::Clock(timeout),
                        clockid::REALTIME if abs => Sub::Clock(
                            now.saturating_add(timeout.saturating_sub(self.clock.realtime_now())),
                        ),
                        clockid::MONOTONIC | clockid::REALTIME => {
                            Sub::Clock(now.saturating_add(timeout))
                        }
                        _ => Sub::Error(Errno::Inval),
                    }
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = mem.read_u32(at + 16)?;
                    let read = tag == eventtype::FD_READ;
                    match self.fd(fd) {
                        Err(e) => Sub::Error(e),
                        Ok(f)
                            if f.base & rights::POLL_FD_READWRITE == 0
                                && !matches!(f.kind, FdKind::File { .. }) =>
                        {
                            Sub::Error(Errno::Notcapable)
                        }
                        Ok(f) => match (&f.kind, read) {
                            (FdKind::Stdin, true) => Sub::Stdin,
                            (FdKind::Stdout | FdKind::Stderr, false) => Sub::Ready(0, 0),
                            (FdKind::File { file, pos }, true) => {
                                match file.fs.fstat(file.handle) {
                                    Ok(st) => Sub::Ready(st.size.saturating_sub(*pos), 0),
                                    Err(e) => Sub::Error(e),
                                }
                            }
                            (FdKind::File { .. }, false) => Sub::Ready(0, 0),
                            (FdKind::Dir { .. }, _) => Sub::Error(Errno::Isdir),
                            _ => Sub::Error(Errno::Badf),
                        },
                    }
                }
                _ => return Err(Errno::Inval.into()),
            };
            list.push((userdata, tag, sub));
        }

        loop {
            let now = self.clock.monotonic_now();
            let stdin_ready =
                list.iter().any(|(_, _, s)| matches!(s, Sub::Stdin)) && self.console.stdin_ready();
            let mut n: u32 = 0;
            // Clock events only count when nothing else is ready, as with Linux poll/timeouts.
            let io_ready = stdin_ready
                || list
                    .iter()
                    .any(|(_, _, s)| matches!(s, Sub::Ready(..) | Sub::Error(_)));
            for (userdata, tag, sub) in &list {
                let (error, nbytes, flags) = match sub {
                    Sub::Error(e) => (*e, 0, 0),
                    Sub::Ready(nbytes, flags) => (Errno::Success, *nbytes, *flags),
                    Sub::Stdin if stdin_ready => (Errno::Success, 1, 0),
                    Sub::Clock(deadline) if !io_ready && *deadline <= now => (Errno::Success, 0, 0),
                    _ => continue,
                };
                let at = events + n * layout::EVENT_SIZE;
                let mut rec = [0u8; layout::EVENT_SIZE as usize];
                rec[0..8].copy_from_slice(&userdata.to_le_bytes());
                rec[8..10].copy_from_slice(&error.raw().to_le_bytes());
                rec[10] = *tag;
                rec[16..24].copy_from_slice(&nbytes.to_le_bytes());
                rec[24..26]
                    .copy_from_slice(&(flags & eventrwflags::FD_READWRITE_HANGUP).to_le_bytes());
                mem.write_bytes(at, &rec)?;
                n += 1;
            }
            if n > 0 {
                return Ok(mem.write_u32(nevents, n)?);
            }
            let deadline = list
                .iter()
                .filter_map(|(_, _, s)| {
                    if let Sub::Clock(d) = s {
                        Some(*d)
                    } else {
                        None
                    }
                })
                .min()
                .unwrap_or(u64::MAX);
            let wake_on_stdin = list.iter().any(|(_, _, s)| matches!(s, Sub::Stdin));
            self.sched.sleep_until(deadline, wake_on_stdin);
        }
    }

    // ---- sockets: none exist, so every fd is not one ---------------------------------

    fn not_a_socket(&self, fd: u32) -> R {
        self.fd(fd)?;
        Err(Errno::Notsock.into())
    }

    fn sock_accept(&mut self, mem: &mut GuestMemory<'_>, fd: u32, _flags: u32, out: u32) -> R {
        mem.check(out, 4)?;
        self.not_a_socket(fd)
    }

    fn sock_recv(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        ri_data: u32,
        ri_len: u32,
        _ri_flags: u32,
        ro_len: u32,
        ro_flags: u32,
    ) -> R {
        mem.iovecs(ri_data, ri_len)?;
        mem.check(ro_len, 4)?;
        mem.check(ro_flags, 2)?;
        self.not_a_socket(fd)
    }

    fn sock_send(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        si_data: u32,
        si_len: u32,
        _si_flags: u32,
        so_len: u32,
    ) -> R {
        mem.iovecs(si_data, si_len)?;
        mem.check(so_len, 4)?;
        self.not_a_socket(fd)
    }

    fn sock_shutdown(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, _how: u32) -> R {
        self.not_a_socket(fd)
    }
}
