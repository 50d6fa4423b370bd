//! The `wasi_snapshot_preview1` functions, over a [`WasiCtx`] and a [`GuestMemory`].
//!
//! Errnos and effects follow wasmtime 51's preview 1 implementation (its adapter over
//! preview 2 and cap-std, on Linux), in its order: an argument that is not a valid value of
//! its witx type (a flag bit or enum value preview 1 does not define) is a host error before
//! anything else; guest memory is checked as it is used ([`crate::mem`]), so a bad pointer is
//! a host error at the point wasmtime meets it (a result pointer only after the operation
//! succeeded); a value read from memory that is not valid for its type is `EINVAL`. A host
//! error ends the program ([`Stop::HostError`]; wasmtime's exit code 1).

mod fd;
mod path;
mod poll;

use alloc::vec::Vec;

use crate::abi::{
    RIFLAGS_ALL, SDFLAGS_ALL, SIFLAGS_ALL, SIGNAL_MAX, clockid, fdflags, filetype, fstflags, layout,
};
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fs::{FileKind, FileSystem, SetTime, Stat};
use crate::mem::GuestMemory;

/// How a WASI function ended when it did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// Returned to the guest as its errno.
    Errno(Errno),
    /// `proc_exit(code)`: the instance must stop.
    Exit(u32),
    /// The call fails as a host function and the program ends (wasmtime's answer to an invalid
    /// argument or a pointer outside memory), with this message.
    HostError(&'static str),
}

/// How a call stopped the instance instead of returning an errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `proc_exit(code)`.
    Exit(u32),
    /// A host error, with its message: the program ends (the embedder reports a failed host
    /// call; wasmtime exits with code 1).
    HostError(&'static str),
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
        /// Returns the errno for the guest, or how the call stopped the instance.
        pub fn dispatch(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, func: Function, args: &[u64])
            -> Result<Errno, Stop>
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
                Err(Fail::Exit(code)) => Err(Stop::Exit(code)),
                Err(Fail::HostError(m)) => Err(Stop::HostError(m)),
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

/// Writes a `$filestat` record (its fields are `u64`s: 8-aligned).
fn write_filestat(mem: &mut GuestMemory<'_>, out: u32, dev: u64, st: &Stat) -> R {
    let mut rec = [0u8; layout::FILESTAT_SIZE as usize];
    let fields = [
        dev, st.ino, 0, st.nlink, st.size, st.atime, st.mtime, st.ctime,
    ];
    for (i, v) in fields.iter().enumerate() {
        rec[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
    }
    rec[16] = filetype_of(st.kind);
    mem.write_record(out, &rec, 8)
}

/// Checks that argument `v` has only bits of `all` set; a host error otherwise (wasmtime's
/// "invalid flag value").
fn flags(v: u64, all: u64) -> Result<u64, Fail> {
    if v & !all != 0 {
        return Err(Fail::HostError("invalid flag value"));
    }
    Ok(v)
}

/// A tree that may change: a read-only one answers `EPERM` to every change, before looking at
/// the path, as wasmtime's read-only preopens do (`DirPerms` without `MUTATE`, `FilePerms`
/// without `WRITE`).
fn mutable(fs: &dyn FileSystem) -> Result<(), Errno> {
    if fs.is_read_only() {
        Err(Errno::Perm)
    } else {
        Ok(())
    }
}

/// The two new times of a `*_set_times` call (wasmtime's `systimespec`): a time both given
/// and `_NOW` is [`Errno::Inval`].
fn set_times_of(atim: u64, mtim: u64, fst: u32) -> Result<(SetTime, SetTime), Fail> {
    let all = fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW;
    let f = flags(u64::from(fst), u64::from(all))? as u16;
    let one = |set: u16, now: u16, t: u64| match (f & set != 0, f & now != 0) {
        (true, true) => Err(Fail::Errno(Errno::Inval)),
        (true, false) => Ok(SetTime::At(t)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Omit),
    };
    Ok((
        one(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        one(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ))
}

// The parameter lists are the preview 1 ABI's.
#[allow(clippy::too_many_arguments)]
impl WasiCtx {
    // ---- arguments and environment ----------------------------------------------------

    /// Each string's address at `ptrs`, then the string and a NUL at `buf`, one after the
    /// other (wasmtime writes them in this order; a bad address ends the call there).
    fn write_strings(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> R {
        const BAD: Fail = Fail::HostError("pointer out of bounds");
        let (mut ptr, mut at) = (ptrs, buf);
        for s in list {
            mem.write_u32(ptr, at)?;
            ptr = ptr.checked_add(4).ok_or(BAD)?;
            let len = u32::try_from(s.len()).map_err(|_| BAD)?;
            mem.write_bytes(at, s)?;
            at = at.checked_add(len).ok_or(BAD)?;
            mem.write_bytes(at, &[0])?;
            at = at.checked_add(1).ok_or(BAD)?;
        }
        Ok(())
    }

    /// The count, then the total size (each string with its NUL), written in that order.
    fn write_sizes(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], count: u32, size: u32) -> R {
        let n = u32::try_from(list.len()).map_err(|_| Errno::Overflow)?;
        let total: usize = list.iter().map(|s| s.len() + 1).sum();
        let total = u32::try_from(total).map_err(|_| Errno::Overflow)?;
        mem.write_u32(count, n)?;
        mem.write_u32(size, total)
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

    /// The CPU-time clocks are `EBADF`, as in wasmtime.
    fn clock_res_get(&mut self, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> R {
        let res = match id {
            clockid::REALTIME => self.clock.realtime_resolution(),
            clockid::MONOTONIC => self.clock.monotonic_resolution(),
            clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => {
                return Err(Errno::Badf.into());
            }
            _ => return Err(Fail::HostError("invalid enum value clockid")),
        };
        mem.write_u64(out, res.max(1))
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
                return Err(Errno::Badf.into());
            }
            _ => return Err(Fail::HostError("invalid enum value clockid")),
        };
        mem.write_u64(out, now)
    }

    /// The random bytes are made first, then written (nothing to write checks nothing).
    fn random_get(&mut self, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> R {
        if len == 0 {
            return Ok(());
        }
        let slice = mem.slice_mut(buf, len)?;
        Ok(self.random.fill(slice)?)
    }

    fn sched_yield(&mut self, _mem: &mut GuestMemory<'_>) -> R {
        self.sched.yield_now();
        Ok(())
    }

    /// A status of 126 or more is a host error, as in wasmtime ("exit with invalid exit
    /// status outside of [0..126)").
    fn proc_exit(&mut self, _mem: &mut GuestMemory<'_>, code: u32) -> R {
        if code >= 126 {
            return Err(Fail::HostError(
                "exit with invalid exit status outside of [0..126)",
            ));
        }
        self.exit_code = Some(code);
        Err(Fail::Exit(code))
    }

    /// Signals are not supported: `ENOTSUP`, as in wasmtime (a number that is no `$signal`
    /// is a host error).
    fn proc_raise(&mut self, _mem: &mut GuestMemory<'_>, sig: u32) -> R {
        if sig > SIGNAL_MAX {
            return Err(Fail::HostError("invalid enum value signal"));
        }
        Err(Errno::Notsup.into())
    }

    // ---- sockets: none exist, so every fd is not one ---------------------------------
    // wasmtime checks the flag arguments, then the fd, and never touches the buffers.

    fn not_a_socket(&self, fd: u32) -> R {
        self.fd(fd)?;
        Err(Errno::Notsock.into())
    }

    fn sock_accept(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, fl: u32, _out: u32) -> R {
        flags(u64::from(fl), u64::from(fdflags::ALL))?;
        self.not_a_socket(fd)
    }

    fn sock_recv(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _ri_data: u32,
        _ri_len: u32,
        ri_flags: u32,
        _ro_len: u32,
        _ro_flags: u32,
    ) -> R {
        flags(u64::from(ri_flags), RIFLAGS_ALL)?;
        self.not_a_socket(fd)
    }

    fn sock_send(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _si_data: u32,
        _si_len: u32,
        si_flags: u32,
        _so_len: u32,
    ) -> R {
        flags(u64::from(si_flags), SIFLAGS_ALL)?;
        self.not_a_socket(fd)
    }

    fn sock_shutdown(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, how: u32) -> R {
        flags(u64::from(how), SDFLAGS_ALL)?;
        self.not_a_socket(fd)
    }
}
