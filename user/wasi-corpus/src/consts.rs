//! WASI preview 1 constants (from the witx) and their printable names.

/// A WASI errno; `Display` prints its name (`ENOENT`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(errno_name(i32::from(self.0)))
    }
}

const ERRNO_NAMES: [&str; 77] = [
    "SUCCESS",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE",
];

/// The name of a WASI errno (wasi-libc's `errno` values are the same numbers).
pub fn errno_name(n: i32) -> &'static str {
    usize::try_from(n)
        .ok()
        .and_then(|i| ERRNO_NAMES.get(i))
        .copied()
        .unwrap_or("E?")
}

pub const FT_UNKNOWN: u8 = 0;
pub const FT_CHARACTER_DEVICE: u8 = 2;
pub const FT_DIRECTORY: u8 = 3;
pub const FT_REGULAR_FILE: u8 = 4;
pub const FT_SYMBOLIC_LINK: u8 = 7;

/// The name of a `filetype`.
pub fn filetype_name(t: u8) -> &'static str {
    match t {
        0 => "unknown",
        1 => "block-device",
        2 => "character-device",
        3 => "directory",
        4 => "regular-file",
        5 => "socket-dgram",
        6 => "socket-stream",
        7 => "symbolic-link",
        _ => "filetype?",
    }
}

pub const RIGHT_NAMES: [&str; 30] = [
    "fd_datasync",
    "fd_read",
    "fd_seek",
    "fd_fdstat_set_flags",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "fd_advise",
    "fd_allocate",
    "path_create_directory",
    "path_create_file",
    "path_link_source",
    "path_link_target",
    "path_open",
    "fd_readdir",
    "path_readlink",
    "path_rename_source",
    "path_rename_target",
    "path_filestat_get",
    "path_filestat_set_size",
    "path_filestat_set_times",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "path_symlink",
    "path_remove_directory",
    "path_unlink_file",
    "poll_fd_readwrite",
    "sock_shutdown",
    "sock_accept",
];

pub const FD_DATASYNC: u64 = 1 << 0;
pub const FD_READ: u64 = 1 << 1;
pub const FD_SEEK: u64 = 1 << 2;
pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
pub const FD_SYNC: u64 = 1 << 4;
pub const FD_TELL: u64 = 1 << 5;
pub const FD_WRITE: u64 = 1 << 6;
pub const FD_ADVISE: u64 = 1 << 7;
pub const FD_ALLOCATE: u64 = 1 << 8;
pub const FD_READDIR: u64 = 1 << 14;
pub const FD_FILESTAT_GET: u64 = 1 << 21;
pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
/// Every right preview 1 defines.
pub const ALL_RIGHTS: u64 = (1 << 30) - 1;

/// Rights as `name|name|...` (or `none`).
pub fn rights_names(r: u64) -> String {
    let mut names: Vec<&str> = (0..30)
        .filter(|b| r & (1 << b) != 0)
        .map(|b| RIGHT_NAMES[b])
        .collect();
    if r >> 30 != 0 {
        names.push("unknown-bits");
    }
    if names.is_empty() {
        "none".into()
    } else {
        names.join("|")
    }
}

pub const FDFLAGS_APPEND: u16 = 1;
pub const FDFLAGS_DSYNC: u16 = 2;
pub const FDFLAGS_NONBLOCK: u16 = 4;
pub const FDFLAGS_RSYNC: u16 = 8;
pub const FDFLAGS_SYNC: u16 = 16;

/// fdflags as `append|nonblock|...` (or `none`).
pub fn fdflags_names(f: u16) -> String {
    let names: Vec<&str> = ["append", "dsync", "nonblock", "rsync", "sync"]
        .iter()
        .enumerate()
        .filter(|(i, _)| f & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("|")
    }
}

pub const O_CREAT: u16 = 1;
pub const O_DIRECTORY: u16 = 2;
pub const O_EXCL: u16 = 4;
pub const O_TRUNC: u16 = 8;

pub const LOOKUP_NOFOLLOW: u32 = 0;
pub const LOOKUP_FOLLOW: u32 = 1;

pub const FST_ATIM: u16 = 1;
pub const FST_ATIM_NOW: u16 = 2;
pub const FST_MTIM: u16 = 4;
pub const FST_MTIM_NOW: u16 = 8;

pub const WHENCE_SET: u8 = 0;
pub const WHENCE_CUR: u8 = 1;
pub const WHENCE_END: u8 = 2;

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME: u32 = 2;
pub const CLOCK_THREAD_CPUTIME: u32 = 3;

pub const EVENT_CLOCK: u8 = 0;
pub const EVENT_FD_READ: u8 = 1;
pub const EVENT_FD_WRITE: u8 = 2;
/// `subclockflags`: the timeout is an absolute time of the clock.
pub const SUBCLOCK_ABSTIME: u16 = 1;

/// Rights for a file opened to read and write (what wasi-libc asks for).
pub const FILE_RW: u64 = FD_READ
    | FD_WRITE
    | FD_SEEK
    | FD_TELL
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_SIZE
    | FD_FILESTAT_SET_TIMES
    | FD_ADVISE
    | FD_ALLOCATE
    | FD_DATASYNC
    | FD_SYNC
    | FD_FDSTAT_SET_FLAGS;
