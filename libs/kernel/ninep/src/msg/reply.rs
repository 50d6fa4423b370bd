//! Replies: [`Rmsg`], encoded by the server and decoded by the client.

use alloc::vec::Vec;

use super::{Attr, MAXWELEM, StatFs, frame, split_frame, ty};
use crate::wire::{QID_LEN, Qid, Reader, WireError};

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
    /// Packed entries; see [`super::DirEntries`].
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
