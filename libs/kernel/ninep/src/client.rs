//! A 9P2000.L client session: version negotiation, tag and fid numbers, and one method per
//! request. Tags and fids come from small pools behind short spin locks that are never held
//! across a [`Transport::exchange`]; every method is safe to call from several threads.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use spin::Mutex;

use crate::errno;
use crate::msg::{
    Attr, DirEntries, IOHDRSZ, MAXWELEM, NOFID, NOTAG, RawDirEntry, Rmsg, SetAttr, StatFs, Tmsg,
    VERSION_9P2000_L,
};
use crate::transport::{Transport, TransportError};
use crate::wire::{Qid, WireError};

/// The `msize` asked for by default: 512 KiB per message.
pub const DEFAULT_MSIZE: u32 = 512 * 1024;
/// The smallest `msize` accepted from a server (Linux's minimum too).
pub const MIN_MSIZE: u32 = 4096;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The server answered `Rlerror` with this Linux errno.
    Remote(u32),
    /// The reply was malformed.
    Wire(WireError),
    /// The reply was well-formed but not an answer to the request (wrong type or tag, a
    /// count larger than asked, ...).
    Protocol(&'static str),
    /// The device failed.
    Transport(TransportError),
    /// The request would be larger than `msize` (a very long name or target).
    TooLarge,
    /// All 65535 tags or all fids are in use.
    Exhausted,
    /// The server does not speak 9P2000.L or offered a too-small `msize`.
    Unsupported,
}

impl Error {
    /// The Linux errno this error stands for (`EIO` for what is not the server's answer).
    pub fn errno(self) -> u32 {
        match self {
            Error::Remote(e) => e,
            Error::TooLarge => errno::ENAMETOOLONG,
            Error::Exhausted => errno::ENFILE,
            Error::Unsupported => errno::EPROTONOSUPPORT,
            Error::Wire(_) | Error::Protocol(_) | Error::Transport(_) => errno::EIO,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Remote(e) => write!(f, "9P server error: errno {e}"),
            Error::Wire(e) => write!(f, "{e}"),
            Error::Protocol(what) => write!(f, "9P protocol violation: {what}"),
            Error::Transport(e) => write!(f, "{e}"),
            Error::TooLarge => f.write_str("9P request larger than msize"),
            Error::Exhausted => f.write_str("no free 9P tag or fid"),
            Error::Unsupported => f.write_str("server does not speak 9P2000.L"),
        }
    }
}

impl core::error::Error for Error {}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Error::Wire(e)
    }
}

/// Numbers handed out lowest-recycled-first: freed numbers are reused before new ones.
struct IdPool {
    next: u32,
    /// One past the largest number handed out.
    limit: u32,
    free: Vec<u32>,
}

impl IdPool {
    const fn new(first: u32, limit: u32) -> Self {
        IdPool {
            next: first,
            limit,
            free: Vec::new(),
        }
    }
    fn alloc(&mut self) -> Option<u32> {
        if let Some(id) = self.free.pop() {
            return Some(id);
        }
        if self.next >= self.limit {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }
    fn release(&mut self, id: u32) {
        self.free.push(id);
    }
    fn in_use(&self) -> usize {
        self.next as usize - self.free.len()
    }
}

/// A failed walk: how far it got and why it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkFailure {
    /// The qids of the names walked before the failure.
    pub qids: Vec<Qid>,
    pub error: Error,
    /// Whether `error` is the server's own answer for the failing name (an `Rlerror`);
    /// a walk that stops part-way is reported by the server only as a short `Rwalk`, and
    /// `error` is then `ENOENT`.
    pub exact: bool,
}

/// A 9P2000.L session over a [`Transport`].
pub struct Client<T> {
    transport: T,
    msize: u32,
    tags: Mutex<IdPool>,
    fids: Mutex<IdPool>,
}

impl<T: Transport> Client<T> {
    /// Negotiates the protocol (`Tversion`): asks for `msize` bytes per message and accepts
    /// what the server offers if smaller (but at least [`MIN_MSIZE`]).
    pub fn connect(transport: T, msize: u32) -> Result<Self, Error> {
        let asked = msize.max(MIN_MSIZE);
        let req = Tmsg::Version {
            msize: asked,
            version: VERSION_9P2000_L,
        };
        let mut out = Vec::new();
        req.encode(NOTAG, &mut out)?;
        let mut resp = vec![0u8; req.reply_capacity(asked)];
        let n = transport
            .exchange(&out, &mut resp)
            .map_err(Error::Transport)?;
        let resp = resp
            .get(..n)
            .ok_or(Error::Protocol("reply longer than its buffer"))?;
        let (tag, msg) = Rmsg::decode(resp)?;
        if tag != NOTAG {
            return Err(Error::Protocol("Rversion with a tag other than NOTAG"));
        }
        let msize = match msg {
            Rmsg::Version { msize, version } if version == VERSION_9P2000_L => msize.min(asked),
            Rmsg::Version { .. } => return Err(Error::Unsupported),
            Rmsg::Lerror { ecode } => return Err(Error::Remote(ecode)),
            _ => return Err(Error::Protocol("reply to Tversion is not Rversion")),
        };
        if msize < MIN_MSIZE {
            return Err(Error::Unsupported);
        }
        Ok(Client {
            transport,
            msize,
            tags: Mutex::new(IdPool::new(0, u32::from(NOTAG))),
            fids: Mutex::new(IdPool::new(0, NOFID)),
        })
    }

    /// The negotiated message size.
    pub fn msize(&self) -> u32 {
        self.msize
    }

    /// The most data bytes one `Tread` or `Twrite` carries.
    pub fn max_io(&self) -> u32 {
        self.msize - IOHDRSZ as u32
    }

    /// The transport, for its owner's bookkeeping.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Fid numbers currently allocated by this client.
    pub fn fids_in_use(&self) -> usize {
        self.fids.lock().in_use()
    }

    /// Takes a free fid number (no message is sent).
    pub fn alloc_fid(&self) -> Result<u32, Error> {
        let fid = self.fids.lock().alloc();
        fid.ok_or(Error::Exhausted)
    }

    /// Returns a fid number that the server does not know (never walked, or clunked).
    pub fn release_fid(&self, fid: u32) {
        self.fids.lock().release(fid);
    }

    /// Sends `req` and hands the reply to `f` unless it is an `Rlerror` or not the reply
    /// `req` asks for.
    fn rpc<R>(
        &self,
        req: &Tmsg<'_>,
        f: impl FnOnce(Rmsg<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let tag = self.tags.lock().alloc();
        let tag = tag.ok_or(Error::Exhausted)? as u16;
        let result = self.rpc_tagged(tag, req, f);
        self.tags.lock().release(u32::from(tag));
        result
    }

    fn rpc_tagged<R>(
        &self,
        tag: u16,
        req: &Tmsg<'_>,
        f: impl FnOnce(Rmsg<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut out = Vec::new();
        req.encode(tag, &mut out).map_err(|_| Error::TooLarge)?;
        if out.len() > self.msize as usize {
            return Err(Error::TooLarge);
        }
        let mut resp = vec![0u8; req.reply_capacity(self.msize)];
        let n = self
            .transport
            .exchange(&out, &mut resp)
            .map_err(Error::Transport)?;
        let resp = resp
            .get(..n)
            .ok_or(Error::Protocol("reply longer than its buffer"))?;
        let (rtag, msg) = Rmsg::decode(resp)?;
        if rtag != tag {
            return Err(Error::Protocol("reply carries another request's tag"));
        }
        if let Rmsg::Lerror { ecode } = msg {
            return Err(Error::Remote(ecode));
        }
        if msg.ty() != req.ty() + 1 {
            return Err(Error::Protocol("reply of the wrong type"));
        }
        f(msg)
    }

    /// `Tattach`: a new fid for the root of the tree `aname` (QEMU ignores `aname`).
    pub fn attach(&self, uname: &[u8], aname: &[u8], n_uname: u32) -> Result<(u32, Qid), Error> {
        let fid = self.alloc_fid()?;
        let req = Tmsg::Attach {
            fid,
            afid: NOFID,
            uname,
            aname,
            n_uname,
        };
        let r = self.rpc(&req, |m| match m {
            Rmsg::Attach { qid } => Ok(qid),
            _ => Err(Error::Protocol("bad Rattach")),
        });
        match r {
            Ok(qid) => Ok((fid, qid)),
            Err(e) => {
                self.release_fid(fid);
                Err(e)
            }
        }
    }

    /// One `Twalk` of at most [`MAXWELEM`] names; returns the qids walked (fewer than the
    /// names if the walk stopped early, in which case `newfid` was not touched).
    pub fn walk(&self, fid: u32, newfid: u32, names: &[&[u8]]) -> Result<Vec<Qid>, Error> {
        if names.len() > MAXWELEM {
            return Err(Error::TooLarge);
        }
        let req = Tmsg::Walk {
            fid,
            newfid,
            names: names.to_vec(),
        };
        self.rpc(&req, |m| match m {
            Rmsg::Walk { qids } if qids.len() <= names.len() => Ok(qids),
            _ => Err(Error::Protocol("bad Rwalk")),
        })
    }

    /// Walks `names` (any number) from `from` to a new fid. No names clones `from`.
    pub fn walk_new(&self, from: u32, names: &[&[u8]]) -> Result<(u32, Vec<Qid>), WalkFailure> {
        let fail = |qids, error, exact| WalkFailure { qids, error, exact };
        let newfid = self.alloc_fid().map_err(|e| fail(Vec::new(), e, true))?;
        let mut qids = Vec::with_capacity(names.len());
        let mut chunks = names.chunks(MAXWELEM);
        // The first message creates `newfid`; later ones walk it in place.
        let first = chunks.next().unwrap_or(&[]);
        match self.walk(from, newfid, first) {
            Ok(q) if q.len() == first.len() => qids.extend(q),
            Ok(q) => {
                // A short walk leaves `newfid` unused.
                self.release_fid(newfid);
                qids.extend(q);
                return Err(fail(qids, Error::Remote(errno::ENOENT), false));
            }
            Err(e) => {
                self.forget_failed(newfid, e);
                return Err(fail(qids, e, true));
            }
        }
        for chunk in chunks {
            let r = self.walk(newfid, newfid, chunk);
            let (got, err, exact) = match r {
                Ok(q) if q.len() == chunk.len() => {
                    qids.extend(q);
                    continue;
                }
                Ok(q) => (q, Error::Remote(errno::ENOENT), false),
                Err(e) => (Vec::new(), e, true),
            };
            qids.extend(got);
            // An in-place walk that fails leaves `newfid` where it was: still ours.
            let _ = self.clunk(newfid);
            return Err(fail(qids, err, exact));
        }
        Ok((newfid, qids))
    }

    /// After a request that would have created `fid` failed: the number is free again
    /// unless the transport broke (then the server's state is unknown and it is leaked).
    fn forget_failed(&self, fid: u32, e: Error) {
        if !matches!(e, Error::Transport(_)) {
            self.release_fid(fid);
        }
    }

    /// `Tclunk`: forgets `fid` on the server and frees its number (even when the server
    /// reports an error: a clunked fid is gone either way).
    pub fn clunk(&self, fid: u32) -> Result<(), Error> {
        let r = self.rpc(&Tmsg::Clunk { fid }, |_| Ok(()));
        match r {
            Ok(()) => self.release_fid(fid),
            Err(e) => self.forget_failed(fid, e),
        }
        r
    }

    /// `Tlopen`: opens `fid` with Linux open `flags`; returns its qid and iounit.
    pub fn lopen(&self, fid: u32, flags: u32) -> Result<(Qid, u32), Error> {
        self.rpc(&Tmsg::Lopen { fid, flags }, |m| match m {
            Rmsg::Lopen { qid, iounit } => Ok((qid, iounit)),
            _ => Err(Error::Protocol("bad Rlopen")),
        })
    }

    /// `Tlcreate`: creates `name` in the directory `fid`, which becomes the open new file.
    pub fn lcreate(
        &self,
        fid: u32,
        name: &[u8],
        flags: u32,
        mode: u32,
        gid: u32,
    ) -> Result<(Qid, u32), Error> {
        self.rpc(
            &Tmsg::Lcreate {
                fid,
                name,
                flags,
                mode,
                gid,
            },
            |m| match m {
                Rmsg::Lcreate { qid, iounit } => Ok((qid, iounit)),
                _ => Err(Error::Protocol("bad Rlcreate")),
            },
        )
    }

    /// One `Tread` of at most `min(buf.len(), max_io)` bytes; returns the bytes read (0 at
    /// end of file).
    pub fn read(&self, fid: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
        let count = buf.len().min(self.max_io() as usize);
        let req = Tmsg::Read {
            fid,
            offset,
            count: count as u32,
        };
        self.rpc(&req, |m| match m {
            Rmsg::Read { data } if data.len() <= count => {
                buf[..data.len()].copy_from_slice(data);
                Ok(data.len())
            }
            Rmsg::Read { .. } => Err(Error::Protocol("Rread returned more than asked")),
            _ => Err(Error::Protocol("bad Rread")),
        })
    }

    /// One `Twrite` of at most `max_io` bytes of `data`; returns the bytes written.
    pub fn write(&self, fid: u32, offset: u64, data: &[u8]) -> Result<usize, Error> {
        let data = &data[..data.len().min(self.max_io() as usize)];
        self.rpc(&Tmsg::Write { fid, offset, data }, |m| match m {
            Rmsg::Write { count } if count as usize <= data.len() => Ok(count as usize),
            _ => Err(Error::Protocol("bad Rwrite")),
        })
    }

    /// `Tgetattr` with `request_mask` (`msg::getattr::*`).
    pub fn getattr(&self, fid: u32, request_mask: u64) -> Result<Attr, Error> {
        self.rpc(&Tmsg::Getattr { fid, request_mask }, |m| match m {
            Rmsg::Getattr(a) => Ok(a),
            _ => Err(Error::Protocol("bad Rgetattr")),
        })
    }

    /// `Tsetattr`.
    pub fn setattr(&self, fid: u32, attr: SetAttr) -> Result<(), Error> {
        self.rpc(&Tmsg::Setattr { fid, attr }, |_| Ok(()))
    }

    /// One `Treaddir` from `offset` asking for at most `count` bytes of entries (capped to
    /// fit `msize`); calls `each` per entry and returns how many there were (0 at the end).
    pub fn readdir(
        &self,
        fid: u32,
        offset: u64,
        count: u32,
        each: &mut dyn FnMut(RawDirEntry<'_>),
    ) -> Result<usize, Error> {
        let count = count.min(self.max_io());
        self.rpc(&Tmsg::Readdir { fid, offset, count }, |m| match m {
            Rmsg::Readdir { data } if data.len() <= count as usize => {
                let mut n = 0;
                for e in DirEntries::new(data) {
                    each(e?);
                    n += 1;
                }
                Ok(n)
            }
            _ => Err(Error::Protocol("bad Rreaddir")),
        })
    }

    /// `Tmkdir`: creates the directory `name` in `dfid`.
    pub fn mkdir(&self, dfid: u32, name: &[u8], mode: u32, gid: u32) -> Result<Qid, Error> {
        self.rpc(
            &Tmsg::Mkdir {
                dfid,
                name,
                mode,
                gid,
            },
            |m| match m {
                Rmsg::Mkdir { qid } => Ok(qid),
                _ => Err(Error::Protocol("bad Rmkdir")),
            },
        )
    }

    /// `Tsymlink`: creates the symbolic link `name` in `fid` pointing at `target`.
    pub fn symlink(&self, fid: u32, name: &[u8], target: &[u8], gid: u32) -> Result<Qid, Error> {
        self.rpc(
            &Tmsg::Symlink {
                fid,
                name,
                target,
                gid,
            },
            |m| match m {
                Rmsg::Symlink { qid } => Ok(qid),
                _ => Err(Error::Protocol("bad Rsymlink")),
            },
        )
    }

    /// `Treadlink`: the target of the symbolic link `fid`.
    pub fn readlink(&self, fid: u32) -> Result<Vec<u8>, Error> {
        self.rpc(&Tmsg::Readlink { fid }, |m| match m {
            Rmsg::Readlink { target } => Ok(target.to_vec()),
            _ => Err(Error::Protocol("bad Rreadlink")),
        })
    }

    /// `Tlink`: adds the name `name` in `dfid` for the file `fid`.
    pub fn link(&self, dfid: u32, fid: u32, name: &[u8]) -> Result<(), Error> {
        self.rpc(&Tmsg::Link { dfid, fid, name }, |_| Ok(()))
    }

    /// `Tunlinkat`: removes `name` from `dirfid` (`flags`: [`crate::msg::AT_REMOVEDIR`]).
    pub fn unlinkat(&self, dirfid: u32, name: &[u8], flags: u32) -> Result<(), Error> {
        self.rpc(
            &Tmsg::Unlinkat {
                dirfid,
                name,
                flags,
            },
            |_| Ok(()),
        )
    }

    /// `Trenameat`.
    pub fn renameat(
        &self,
        olddirfid: u32,
        oldname: &[u8],
        newdirfid: u32,
        newname: &[u8],
    ) -> Result<(), Error> {
        self.rpc(
            &Tmsg::Renameat {
                olddirfid,
                oldname,
                newdirfid,
                newname,
            },
            |_| Ok(()),
        )
    }

    /// `Tfsync` of an open fid.
    pub fn fsync(&self, fid: u32, datasync: bool) -> Result<(), Error> {
        self.rpc(
            &Tmsg::Fsync {
                fid,
                datasync: u32::from(datasync),
            },
            |_| Ok(()),
        )
    }

    /// `Tstatfs`.
    pub fn statfs(&self, fid: u32) -> Result<StatFs, Error> {
        self.rpc(&Tmsg::Statfs { fid }, |m| match m {
            Rmsg::Statfs(s) => Ok(s),
            _ => Err(Error::Protocol("bad Rstatfs")),
        })
    }

    /// `Tflush`: asks the server to abandon the request with `oldtag`.
    pub fn flush(&self, oldtag: u16) -> Result<(), Error> {
        self.rpc(&Tmsg::Flush { oldtag }, |_| Ok(()))
    }
}
