//! The 9P2000.L messages a file system client needs, each a [`Tmsg`] (request) or [`Rmsg`]
//! (response), with both directions of encoding so the client and the test server share one
//! definition. Layouts follow Linux `include/net/9p/9p.h` / `net/9p/client.c` and QEMU
//! `hw/9pfs/9p.c`: every message is `size[4] type[1] tag[2]` then its fields, little-endian.

use alloc::vec::Vec;

use crate::wire::{Qid, Reader, WireError, Writer};

mod dirent;
mod reply;
mod request;

pub use dirent::{DirEntries, RawDirEntry, dt};
pub use reply::Rmsg;
pub use request::Tmsg;

/// Message type numbers.
pub mod ty {
    pub const TLERROR: u8 = 6;
    pub const RLERROR: u8 = 7;
    pub const TSTATFS: u8 = 8;
    pub const RSTATFS: u8 = 9;
    pub const TLOPEN: u8 = 12;
    pub const RLOPEN: u8 = 13;
    pub const TLCREATE: u8 = 14;
    pub const RLCREATE: u8 = 15;
    pub const TSYMLINK: u8 = 16;
    pub const RSYMLINK: u8 = 17;
    pub const TREADLINK: u8 = 22;
    pub const RREADLINK: u8 = 23;
    pub const TGETATTR: u8 = 24;
    pub const RGETATTR: u8 = 25;
    pub const TSETATTR: u8 = 26;
    pub const RSETATTR: u8 = 27;
    pub const TREADDIR: u8 = 40;
    pub const RREADDIR: u8 = 41;
    pub const TFSYNC: u8 = 50;
    pub const RFSYNC: u8 = 51;
    pub const TLINK: u8 = 70;
    pub const RLINK: u8 = 71;
    pub const TMKDIR: u8 = 72;
    pub const RMKDIR: u8 = 73;
    pub const TRENAMEAT: u8 = 74;
    pub const RRENAMEAT: u8 = 75;
    pub const TUNLINKAT: u8 = 76;
    pub const RUNLINKAT: u8 = 77;
    pub const TVERSION: u8 = 100;
    pub const RVERSION: u8 = 101;
    pub const TATTACH: u8 = 104;
    pub const RATTACH: u8 = 105;
    pub const TFLUSH: u8 = 108;
    pub const RFLUSH: u8 = 109;
    pub const TWALK: u8 = 110;
    pub const RWALK: u8 = 111;
    pub const TREAD: u8 = 116;
    pub const RREAD: u8 = 117;
    pub const TWRITE: u8 = 118;
    pub const RWRITE: u8 = 119;
    pub const TCLUNK: u8 = 120;
    pub const RCLUNK: u8 = 121;
}

/// The tag of `Tversion`, which has no other in flight.
pub const NOTAG: u16 = 0xFFFF;
/// "No fid" (an `afid` without authentication).
pub const NOFID: u32 = 0xFFFF_FFFF;
/// "No uid" for `n_uname` / "no gid" for the `gid` of creating messages: the server keeps
/// its own credentials (QEMU `security_model=none`: `chown(-1, -1)`).
pub const NONUNAME: u32 = 0xFFFF_FFFF;
/// Most names one `Twalk` may carry.
pub const MAXWELEM: usize = 16;
/// `size[4] type[1] tag[2]`.
pub const HEADER_LEN: usize = 7;
/// Bytes of an `Rread`/`Rreaddir` before its data, and a safe bound for `Twrite`'s
/// (Linux's `P9_IOHDRSZ` is 24).
pub const IOHDRSZ: usize = 24;
/// The protocol this crate speaks.
pub const VERSION_9P2000_L: &[u8] = b"9P2000.L";

/// `Tunlinkat` flag: remove a directory (Linux `AT_REMOVEDIR`).
pub const AT_REMOVEDIR: u32 = 0x200;

/// `Tgetattr` request mask bits (`P9_GETATTR_*`).
pub mod getattr {
    pub const MODE: u64 = 0x0000_0001;
    pub const NLINK: u64 = 0x0000_0002;
    pub const UID: u64 = 0x0000_0004;
    pub const GID: u64 = 0x0000_0008;
    pub const RDEV: u64 = 0x0000_0010;
    pub const ATIME: u64 = 0x0000_0020;
    pub const MTIME: u64 = 0x0000_0040;
    pub const CTIME: u64 = 0x0000_0080;
    pub const INO: u64 = 0x0000_0100;
    pub const SIZE: u64 = 0x0000_0200;
    pub const BLOCKS: u64 = 0x0000_0400;
    /// Everything `stat` has.
    pub const BASIC: u64 = 0x0000_07ff;
    pub const BTIME: u64 = 0x0000_0800;
    pub const GEN: u64 = 0x0000_1000;
    pub const DATA_VERSION: u64 = 0x0000_2000;
    pub const ALL: u64 = 0x0000_3fff;
}

/// `Tsetattr` valid bits (`P9_ATTR_*`).
pub mod setattr {
    pub const MODE: u32 = 1 << 0;
    pub const UID: u32 = 1 << 1;
    pub const GID: u32 = 1 << 2;
    pub const SIZE: u32 = 1 << 3;
    /// Set the access time (to the server's "now" unless [`ATIME_SET`]).
    pub const ATIME: u32 = 1 << 4;
    pub const MTIME: u32 = 1 << 5;
    pub const CTIME: u32 = 1 << 6;
    /// With [`ATIME`]: use the given `atime_sec`/`atime_nsec`.
    pub const ATIME_SET: u32 = 1 << 7;
    pub const MTIME_SET: u32 = 1 << 8;
}

/// `Tlopen`/`Tlcreate` flags (`P9_DOTL_*`, the Linux generic `O_*` values).
pub mod open {
    pub const RDONLY: u32 = 0o0;
    pub const WRONLY: u32 = 0o1;
    pub const RDWR: u32 = 0o2;
    pub const ACCMODE: u32 = 0o3;
    pub const CREATE: u32 = 0o100;
    pub const EXCL: u32 = 0o200;
    pub const NOCTTY: u32 = 0o400;
    pub const TRUNC: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
    pub const DSYNC: u32 = 0o10000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NOFOLLOW: u32 = 0o400000;
    pub const CLOEXEC: u32 = 0o2000000;
    pub const SYNC: u32 = 0o4010000;
}

/// The new attributes of a `Tsetattr` (fields not named in `valid` are ignored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    pub valid: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime_sec: u64,
    pub atime_nsec: u64,
    pub mtime_sec: u64,
    pub mtime_nsec: u64,
}

/// The attributes of an `Rgetattr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attr {
    /// Which fields the server filled (`getattr::*`).
    pub valid: u64,
    pub qid: Qid,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime_sec: u64,
    pub atime_nsec: u64,
    pub mtime_sec: u64,
    pub mtime_nsec: u64,
    pub ctime_sec: u64,
    pub ctime_nsec: u64,
    pub btime_sec: u64,
    pub btime_nsec: u64,
    pub generation: u64,
    pub data_version: u64,
}

/// An `Rstatfs` (Linux `struct statfs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    pub fs_type: u32,
    pub bsize: u32,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: u64,
    pub namelen: u32,
}

/// Splits a received message into `(type, tag, body)`, checking its size field against
/// `buf` (which may be longer: the rest is ignored).
pub fn split_frame(buf: &[u8]) -> Result<(u8, u16, &[u8]), WireError> {
    let mut r = Reader::new(buf);
    let size = r.u32()?;
    let size = usize::try_from(size).map_err(|_| WireError::BadSize)?;
    if size < HEADER_LEN || size > buf.len() {
        return Err(if size > buf.len() {
            WireError::Truncated
        } else {
            WireError::BadSize
        });
    }
    let mut r = Reader::new(&buf[4..size]);
    let ty = r.u8()?;
    let tag = r.u16()?;
    Ok((ty, tag, &buf[HEADER_LEN..size]))
}

/// Writes `size[4] type[1] tag[2]`, runs `body`, then patches the size.
pub(crate) fn frame(
    out: &mut Vec<u8>,
    ty: u8,
    tag: u16,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), WireError>,
) -> Result<(), WireError> {
    let start = out.len();
    let mut w = Writer::new(out);
    w.u32(0);
    w.u8(ty);
    w.u16(tag);
    body(&mut w)?;
    let size = u32::try_from(out.len() - start).map_err(|_| WireError::TooLong)?;
    out[start..start + 4].copy_from_slice(&size.to_le_bytes());
    Ok(())
}
