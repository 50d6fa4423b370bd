//! The 9P2000.L messages a file system client needs, each a [`Tmsg`] (request) or [`Rmsg`]
//! (response), with both directions of encoding so the client and the test server share one
//! definition. Layouts follow Linux `include/net/9p/9p.h` / `net/9p/client.c` and QEMU
//! `hw/9pfs/9p.c`: every message is `size[4] type[1] tag[2]` then its fields, little-endian.

use alloc::vec::Vec;

use crate::wire::{QID_LEN, Qid, Reader, WireError, Writer};

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

/// A request. Strings are raw bytes (the wire does not promise UTF-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tmsg<'a> {
    Version {
        msize: u32,
        version: &'a [u8],
    },
    Attach {
        fid: u32,
        afid: u32,
        uname: &'a [u8],
        aname: &'a [u8],
        n_uname: u32,
    },
    /// `newfid` may equal `fid` (walk in place); no names clones the fid.
    Walk {
        fid: u32,
        newfid: u32,
        names: Vec<&'a [u8]>,
    },
    Lopen {
        fid: u32,
        flags: u32,
    },
    /// Creates `name` in the directory `fid`, which then becomes the open new file.
    Lcreate {
        fid: u32,
        name: &'a [u8],
        flags: u32,
        mode: u32,
        gid: u32,
    },
    Read {
        fid: u32,
        offset: u64,
        count: u32,
    },
    Write {
        fid: u32,
        offset: u64,
        data: &'a [u8],
    },
    Clunk {
        fid: u32,
    },
    Getattr {
        fid: u32,
        request_mask: u64,
    },
    Setattr {
        fid: u32,
        attr: SetAttr,
    },
    Readdir {
        fid: u32,
        offset: u64,
        count: u32,
    },
    Mkdir {
        dfid: u32,
        name: &'a [u8],
        mode: u32,
        gid: u32,
    },
    Symlink {
        fid: u32,
        name: &'a [u8],
        target: &'a [u8],
        gid: u32,
    },
    Readlink {
        fid: u32,
    },
    Link {
        dfid: u32,
        fid: u32,
        name: &'a [u8],
    },
    Unlinkat {
        dirfid: u32,
        name: &'a [u8],
        flags: u32,
    },
    Renameat {
        olddirfid: u32,
        oldname: &'a [u8],
        newdirfid: u32,
        newname: &'a [u8],
    },
    Fsync {
        fid: u32,
        datasync: u32,
    },
    Statfs {
        fid: u32,
    },
    Flush {
        oldtag: u16,
    },
}

/// A response. `Read` and `Readdir` borrow their data from the received buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rmsg<'a> {
    /// The request failed with this Linux errno.
    Lerror {
        ecode: u32,
    },
    Version {
        msize: u32,
        version: &'a [u8],
    },
    Attach {
        qid: Qid,
    },
    /// One qid per name walked; fewer than asked means the walk stopped early.
    Walk {
        qids: Vec<Qid>,
    },
    Lopen {
        qid: Qid,
        iounit: u32,
    },
    Lcreate {
        qid: Qid,
        iounit: u32,
    },
    Read {
        data: &'a [u8],
    },
    Write {
        count: u32,
    },
    Clunk,
    Getattr(Attr),
    Setattr,
    /// Packed entries; see [`DirEntries`].
    Readdir {
        data: &'a [u8],
    },
    Mkdir {
        qid: Qid,
    },
    Symlink {
        qid: Qid,
    },
    Readlink {
        target: &'a [u8],
    },
    Link,
    Unlinkat,
    Renameat,
    Fsync,
    Statfs(StatFs),
    Flush,
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
fn frame(
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

impl Tmsg<'_> {
    /// The message type byte.
    pub fn ty(&self) -> u8 {
        match self {
            Tmsg::Version { .. } => ty::TVERSION,
            Tmsg::Attach { .. } => ty::TATTACH,
            Tmsg::Walk { .. } => ty::TWALK,
            Tmsg::Lopen { .. } => ty::TLOPEN,
            Tmsg::Lcreate { .. } => ty::TLCREATE,
            Tmsg::Read { .. } => ty::TREAD,
            Tmsg::Write { .. } => ty::TWRITE,
            Tmsg::Clunk { .. } => ty::TCLUNK,
            Tmsg::Getattr { .. } => ty::TGETATTR,
            Tmsg::Setattr { .. } => ty::TSETATTR,
            Tmsg::Readdir { .. } => ty::TREADDIR,
            Tmsg::Mkdir { .. } => ty::TMKDIR,
            Tmsg::Symlink { .. } => ty::TSYMLINK,
            Tmsg::Readlink { .. } => ty::TREADLINK,
            Tmsg::Link { .. } => ty::TLINK,
            Tmsg::Unlinkat { .. } => ty::TUNLINKAT,
            Tmsg::Renameat { .. } => ty::TRENAMEAT,
            Tmsg::Fsync { .. } => ty::TFSYNC,
            Tmsg::Statfs { .. } => ty::TSTATFS,
            Tmsg::Flush { .. } => ty::TFLUSH,
        }
    }

    /// The most bytes any valid reply to this request can take (an `Rlerror` included),
    /// capped at `msize`: the size of the response buffer to hand the transport.
    pub fn reply_capacity(&self, msize: u32) -> usize {
        const RLERROR: usize = HEADER_LEN + 4;
        let need = match self {
            Tmsg::Version { .. } => HEADER_LEN + 4 + 2 + 64,
            Tmsg::Attach { .. } | Tmsg::Mkdir { .. } | Tmsg::Symlink { .. } => HEADER_LEN + QID_LEN,
            Tmsg::Walk { names, .. } => HEADER_LEN + 2 + QID_LEN * names.len(),
            Tmsg::Lopen { .. } | Tmsg::Lcreate { .. } => HEADER_LEN + QID_LEN + 4,
            Tmsg::Read { count, .. } | Tmsg::Readdir { count, .. } => {
                HEADER_LEN + 4 + *count as usize
            }
            Tmsg::Write { .. } => HEADER_LEN + 4,
            Tmsg::Getattr { .. } => HEADER_LEN + 8 + QID_LEN + 3 * 4 + 15 * 8,
            // A Linux symlink target is at most PATH_MAX - 1 bytes.
            Tmsg::Readlink { .. } => HEADER_LEN + 2 + 4096,
            Tmsg::Statfs { .. } => HEADER_LEN + 2 * 4 + 6 * 8 + 4,
            Tmsg::Clunk { .. }
            | Tmsg::Setattr { .. }
            | Tmsg::Link { .. }
            | Tmsg::Unlinkat { .. }
            | Tmsg::Renameat { .. }
            | Tmsg::Fsync { .. }
            | Tmsg::Flush { .. } => HEADER_LEN,
        };
        need.max(RLERROR).min(msize as usize).max(RLERROR)
    }

    /// Appends the encoded message to `out`.
    pub fn encode(&self, tag: u16, out: &mut Vec<u8>) -> Result<(), WireError> {
        frame(out, self.ty(), tag, |w| {
            match self {
                Tmsg::Version { msize, version } => {
                    w.u32(*msize);
                    w.str(version)?;
                }
                Tmsg::Attach {
                    fid,
                    afid,
                    uname,
                    aname,
                    n_uname,
                } => {
                    w.u32(*fid);
                    w.u32(*afid);
                    w.str(uname)?;
                    w.str(aname)?;
                    w.u32(*n_uname);
                }
                Tmsg::Walk { fid, newfid, names } => {
                    w.u32(*fid);
                    w.u32(*newfid);
                    let n = u16::try_from(names.len()).map_err(|_| WireError::TooLong)?;
                    w.u16(n);
                    for name in names {
                        w.str(name)?;
                    }
                }
                Tmsg::Lopen { fid, flags } => {
                    w.u32(*fid);
                    w.u32(*flags);
                }
                Tmsg::Lcreate {
                    fid,
                    name,
                    flags,
                    mode,
                    gid,
                } => {
                    w.u32(*fid);
                    w.str(name)?;
                    w.u32(*flags);
                    w.u32(*mode);
                    w.u32(*gid);
                }
                Tmsg::Read { fid, offset, count } | Tmsg::Readdir { fid, offset, count } => {
                    w.u32(*fid);
                    w.u64(*offset);
                    w.u32(*count);
                }
                Tmsg::Write { fid, offset, data } => {
                    w.u32(*fid);
                    w.u64(*offset);
                    w.data(data)?;
                }
                Tmsg::Clunk { fid } | Tmsg::Readlink { fid } | Tmsg::Statfs { fid } => {
                    w.u32(*fid);
                }
                Tmsg::Getattr { fid, request_mask } => {
                    w.u32(*fid);
                    w.u64(*request_mask);
                }
                Tmsg::Setattr { fid, attr } => {
                    w.u32(*fid);
                    w.u32(attr.valid);
                    w.u32(attr.mode);
                    w.u32(attr.uid);
                    w.u32(attr.gid);
                    w.u64(attr.size);
                    w.u64(attr.atime_sec);
                    w.u64(attr.atime_nsec);
                    w.u64(attr.mtime_sec);
                    w.u64(attr.mtime_nsec);
                }
                Tmsg::Mkdir {
                    dfid,
                    name,
                    mode,
                    gid,
                } => {
                    w.u32(*dfid);
                    w.str(name)?;
                    w.u32(*mode);
                    w.u32(*gid);
                }
                Tmsg::Symlink {
                    fid,
                    name,
                    target,
                    gid,
                } => {
                    w.u32(*fid);
                    w.str(name)?;
                    w.str(target)?;
                    w.u32(*gid);
                }
                Tmsg::Link { dfid, fid, name } => {
                    w.u32(*dfid);
                    w.u32(*fid);
                    w.str(name)?;
                }
                Tmsg::Unlinkat {
                    dirfid,
                    name,
                    flags,
                } => {
                    w.u32(*dirfid);
                    w.str(name)?;
                    w.u32(*flags);
                }
                Tmsg::Renameat {
                    olddirfid,
                    oldname,
                    newdirfid,
                    newname,
                } => {
                    w.u32(*olddirfid);
                    w.str(oldname)?;
                    w.u32(*newdirfid);
                    w.str(newname)?;
                }
                Tmsg::Fsync { fid, datasync } => {
                    w.u32(*fid);
                    w.u32(*datasync);
                }
                Tmsg::Flush { oldtag } => w.u16(*oldtag),
            }
            Ok(())
        })
    }
}

impl<'a> Tmsg<'a> {
    /// Decodes a whole request (what a server receives): `(tag, message)`.
    pub fn decode(buf: &'a [u8]) -> Result<(u16, Tmsg<'a>), WireError> {
        let (t, tag, body) = split_frame(buf)?;
        let mut r = Reader::new(body);
        let m = match t {
            ty::TVERSION => Tmsg::Version {
                msize: r.u32()?,
                version: r.str()?,
            },
            ty::TATTACH => Tmsg::Attach {
                fid: r.u32()?,
                afid: r.u32()?,
                uname: r.str()?,
                aname: r.str()?,
                n_uname: r.u32()?,
            },
            ty::TWALK => {
                let fid = r.u32()?;
                let newfid = r.u32()?;
                let n = usize::from(r.u16()?);
                // Each name takes at least its two length bytes.
                if n * 2 > r.remaining() {
                    return Err(WireError::BadCount);
                }
                let mut names = Vec::with_capacity(n);
                for _ in 0..n {
                    names.push(r.str()?);
                }
                Tmsg::Walk { fid, newfid, names }
            }
            ty::TLOPEN => Tmsg::Lopen {
                fid: r.u32()?,
                flags: r.u32()?,
            },
            ty::TLCREATE => Tmsg::Lcreate {
                fid: r.u32()?,
                name: r.str()?,
                flags: r.u32()?,
                mode: r.u32()?,
                gid: r.u32()?,
            },
            ty::TREAD => Tmsg::Read {
                fid: r.u32()?,
                offset: r.u64()?,
                count: r.u32()?,
            },
            ty::TWRITE => Tmsg::Write {
                fid: r.u32()?,
                offset: r.u64()?,
                data: r.data()?,
            },
            ty::TCLUNK => Tmsg::Clunk { fid: r.u32()? },
            ty::TGETATTR => Tmsg::Getattr {
                fid: r.u32()?,
                request_mask: r.u64()?,
            },
            ty::TSETATTR => Tmsg::Setattr {
                fid: r.u32()?,
                attr: SetAttr {
                    valid: r.u32()?,
                    mode: r.u32()?,
                    uid: r.u32()?,
                    gid: r.u32()?,
                    size: r.u64()?,
                    atime_sec: r.u64()?,
                    atime_nsec: r.u64()?,
                    mtime_sec: r.u64()?,
                    mtime_nsec: r.u64()?,
                },
            },
            ty::TREADDIR => Tmsg::Readdir {
                fid: r.u32()?,
                offset: r.u64()?,
                count: r.u32()?,
            },
            ty::TMKDIR => Tmsg::Mkdir {
                dfid: r.u32()?,
                name: r.str()?,
                mode: r.u32()?,
                gid: r.u32()?,
            },
            ty::TSYMLINK => Tmsg::Symlink {
                fid: r.u32()?,
                name: r.str()?,
                target: r.str()?,
                gid: r.u32()?,
            },
            ty::TREADLINK => Tmsg::Readlink { fid: r.u32()? },
            ty::TLINK => Tmsg::Link {
                dfid: r.u32()?,
                fid: r.u32()?,
                name: r.str()?,
            },
            ty::TUNLINKAT => Tmsg::Unlinkat {
                dirfid: r.u32()?,
                name: r.str()?,
                flags: r.u32()?,
            },
            ty::TRENAMEAT => Tmsg::Renameat {
                olddirfid: r.u32()?,
                oldname: r.str()?,
                newdirfid: r.u32()?,
                newname: r.str()?,
            },
            ty::TFSYNC => Tmsg::Fsync {
                fid: r.u32()?,
                datasync: r.u32()?,
            },
            ty::TSTATFS => Tmsg::Statfs { fid: r.u32()? },
            ty::TFLUSH => Tmsg::Flush { oldtag: r.u16()? },
            other => return Err(WireError::UnknownType(other)),
        };
        r.finish()?;
        Ok((tag, m))
    }
}

impl Rmsg<'_> {
    /// The message type byte.
    pub fn ty(&self) -> u8 {
        match self {
            Rmsg::Lerror { .. } => ty::RLERROR,
            Rmsg::Version { .. } => ty::RVERSION,
            Rmsg::Attach { .. } => ty::RATTACH,
            Rmsg::Walk { .. } => ty::RWALK,
            Rmsg::Lopen { .. } => ty::RLOPEN,
            Rmsg::Lcreate { .. } => ty::RLCREATE,
            Rmsg::Read { .. } => ty::RREAD,
            Rmsg::Write { .. } => ty::RWRITE,
            Rmsg::Clunk => ty::RCLUNK,
            Rmsg::Getattr(_) => ty::RGETATTR,
            Rmsg::Setattr => ty::RSETATTR,
            Rmsg::Readdir { .. } => ty::RREADDIR,
            Rmsg::Mkdir { .. } => ty::RMKDIR,
            Rmsg::Symlink { .. } => ty::RSYMLINK,
            Rmsg::Readlink { .. } => ty::RREADLINK,
            Rmsg::Link => ty::RLINK,
            Rmsg::Unlinkat => ty::RUNLINKAT,
            Rmsg::Renameat => ty::RRENAMEAT,
            Rmsg::Fsync => ty::RFSYNC,
            Rmsg::Statfs(_) => ty::RSTATFS,
            Rmsg::Flush => ty::RFLUSH,
        }
    }

    /// Appends the encoded message to `out` (what a server sends).
    pub fn encode(&self, tag: u16, out: &mut Vec<u8>) -> Result<(), WireError> {
        frame(out, self.ty(), tag, |w| {
            match self {
                Rmsg::Lerror { ecode } => w.u32(*ecode),
                Rmsg::Version { msize, version } => {
                    w.u32(*msize);
                    w.str(version)?;
                }
                Rmsg::Attach { qid } | Rmsg::Mkdir { qid } | Rmsg::Symlink { qid } => w.qid(qid),
                Rmsg::Walk { qids } => {
                    let n = u16::try_from(qids.len()).map_err(|_| WireError::TooLong)?;
                    w.u16(n);
                    for q in qids {
                        w.qid(q);
                    }
                }
                Rmsg::Lopen { qid, iounit } | Rmsg::Lcreate { qid, iounit } => {
                    w.qid(qid);
                    w.u32(*iounit);
                }
                Rmsg::Read { data } | Rmsg::Readdir { data } => w.data(data)?,
                Rmsg::Write { count } => w.u32(*count),
                Rmsg::Getattr(a) => {
                    w.u64(a.valid);
                    w.qid(&a.qid);
                    w.u32(a.mode);
                    w.u32(a.uid);
                    w.u32(a.gid);
                    for v in [
                        a.nlink,
                        a.rdev,
                        a.size,
                        a.blksize,
                        a.blocks,
                        a.atime_sec,
                        a.atime_nsec,
                        a.mtime_sec,
                        a.mtime_nsec,
                        a.ctime_sec,
                        a.ctime_nsec,
                        a.btime_sec,
                        a.btime_nsec,
                        a.generation,
                        a.data_version,
                    ] {
                        w.u64(v);
                    }
                }
                Rmsg::Readlink { target } => w.str(target)?,
                Rmsg::Statfs(s) => {
                    w.u32(s.fs_type);
                    w.u32(s.bsize);
                    for v in [s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.fsid] {
                        w.u64(v);
                    }
                    w.u32(s.namelen);
                }
                Rmsg::Clunk
                | Rmsg::Setattr
                | Rmsg::Link
                | Rmsg::Unlinkat
                | Rmsg::Renameat
                | Rmsg::Fsync
                | Rmsg::Flush => {}
            }
            Ok(())
        })
    }
}

impl<'a> Rmsg<'a> {
    /// Decodes a whole response (what a client receives): `(tag, message)`. `buf` may be
    /// longer than the message; its size field decides.
    pub fn decode(buf: &'a [u8]) -> Result<(u16, Rmsg<'a>), WireError> {
        let (t, tag, body) = split_frame(buf)?;
        let mut r = Reader::new(body);
        let m = match t {
            ty::RLERROR => Rmsg::Lerror { ecode: r.u32()? },
            ty::RVERSION => Rmsg::Version {
                msize: r.u32()?,
                version: r.str()?,
            },
            ty::RATTACH => Rmsg::Attach { qid: r.qid()? },
            ty::RWALK => {
                let n = usize::from(r.u16()?);
                if n > MAXWELEM || n * QID_LEN > r.remaining() {
                    return Err(WireError::BadCount);
                }
                let mut qids = Vec::with_capacity(n);
                for _ in 0..n {
                    qids.push(r.qid()?);
                }
                Rmsg::Walk { qids }
            }
            ty::RLOPEN => Rmsg::Lopen {
                qid: r.qid()?,
                iounit: r.u32()?,
            },
            ty::RLCREATE => Rmsg::Lcreate {
                qid: r.qid()?,
                iounit: r.u32()?,
            },
            ty::RREAD => Rmsg::Read { data: r.data()? },
            ty::RWRITE => Rmsg::Write { count: r.u32()? },
            ty::RCLUNK => Rmsg::Clunk,
            ty::RGETATTR => Rmsg::Getattr(Attr {
                valid: r.u64()?,
                qid: r.qid()?,
                mode: r.u32()?,
                uid: r.u32()?,
                gid: r.u32()?,
                nlink: r.u64()?,
                rdev: r.u64()?,
                size: r.u64()?,
                blksize: r.u64()?,
                blocks: r.u64()?,
                atime_sec: r.u64()?,
                atime_nsec: r.u64()?,
                mtime_sec: r.u64()?,
                mtime_nsec: r.u64()?,
                ctime_sec: r.u64()?,
                ctime_nsec: r.u64()?,
                btime_sec: r.u64()?,
                btime_nsec: r.u64()?,
                generation: r.u64()?,
                data_version: r.u64()?,
            }),
            ty::RSETATTR => Rmsg::Setattr,
            ty::RREADDIR => Rmsg::Readdir { data: r.data()? },
            ty::RMKDIR => Rmsg::Mkdir { qid: r.qid()? },
            ty::RSYMLINK => Rmsg::Symlink { qid: r.qid()? },
            ty::RREADLINK => Rmsg::Readlink { target: r.str()? },
            ty::RLINK => Rmsg::Link,
            ty::RUNLINKAT => Rmsg::Unlinkat,
            ty::RRENAMEAT => Rmsg::Renameat,
            ty::RFSYNC => Rmsg::Fsync,
            ty::RSTATFS => Rmsg::Statfs(StatFs {
                fs_type: r.u32()?,
                bsize: r.u32()?,
                blocks: r.u64()?,
                bfree: r.u64()?,
                bavail: r.u64()?,
                files: r.u64()?,
                ffree: r.u64()?,
                fsid: r.u64()?,
                namelen: r.u32()?,
            }),
            ty::RFLUSH => Rmsg::Flush,
            other => return Err(WireError::UnknownType(other)),
        };
        r.finish()?;
        Ok((tag, m))
    }
}

/// One entry of an `Rreaddir`: `qid[13] offset[8] type[1] name[s]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawDirEntry<'a> {
    pub qid: Qid,
    /// Where the listing continues after this entry.
    pub offset: u64,
    /// Linux `d_type` (`DT_*`).
    pub dtype: u8,
    pub name: &'a [u8],
}

/// Linux `d_type` values.
pub mod dt {
    pub const UNKNOWN: u8 = 0;
    pub const FIFO: u8 = 1;
    pub const CHR: u8 = 2;
    pub const DIR: u8 = 4;
    pub const BLK: u8 = 6;
    pub const REG: u8 = 8;
    pub const LNK: u8 = 10;
    pub const SOCK: u8 = 12;
}

impl RawDirEntry<'_> {
    /// Bytes this entry takes in an `Rreaddir`.
    pub fn encoded_len(name_len: usize) -> usize {
        QID_LEN + 8 + 1 + 2 + name_len
    }

    /// Appends the entry (server side).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let mut w = Writer::new(out);
        w.qid(&self.qid);
        w.u64(self.offset);
        w.u8(self.dtype);
        w.str(self.name)
    }
}

/// Iterates the packed entries of an `Rreaddir`; a malformed entry yields one error and
/// ends the iteration.
pub struct DirEntries<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> DirEntries<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        DirEntries {
            r: Reader::new(data),
            failed: false,
        }
    }
}

impl<'a> Iterator for DirEntries<'a> {
    type Item = Result<RawDirEntry<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.remaining() == 0 {
            return None;
        }
        let mut entry = || -> Result<RawDirEntry<'a>, WireError> {
            Ok(RawDirEntry {
                qid: self.r.qid()?,
                offset: self.r.u64()?,
                dtype: self.r.u8()?,
                name: self.r.str()?,
            })
        };
        let e = entry();
        self.failed = e.is_err();
        Some(e)
    }
}
