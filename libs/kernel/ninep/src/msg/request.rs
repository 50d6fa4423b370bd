//! Requests: [`Tmsg`], encoded by the client and decoded by the server.

use alloc::vec::Vec;

use super::{HEADER_LEN, SetAttr, frame, split_frame, ty};
use crate::wire::{QID_LEN, Reader, WireError};

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
