//! Finding inodes by name and acting on names: fid leases, walks from the root that prove
//! a path still leads to an inode, `lookup`, `stat`, and the mutations of a directory.

use alloc::string::String;
use alloc::vec::Vec;

use wasi_p1::Errno;
use wasi_p1::fs::Ino;

use super::state::Path;
use super::{NinepFs, from_error};
use crate::Error;
use crate::client::Client;
use crate::msg::{Attr, getattr};
use crate::transport::Transport;
use crate::wire::{QT_DIR, Qid};

/// One use of a fid: while it lives, the fid is neither clunked nor its number reused.
pub(super) struct Lease<'a, T: Transport> {
    fs: &'a NinepFs<T>,
    pub fid: u32,
    /// Counted in the state (every fid but the root's).
    counted: bool,
    /// Just walked from the root and proven to lead to the inode.
    pub fresh: bool,
}

impl<T: Transport> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        if self.counted {
            let done = self.fs.state.lock().put(self.fid);
            if let Some(fid) = done {
                let _ = self.fs.client.clunk(fid);
            }
        }
    }
}

fn walk_names(path: &[String]) -> Vec<&[u8]> {
    path.iter().map(|c| c.as_bytes()).collect()
}

fn joined(dir: &Path, name: &str) -> Path {
    let mut p = dir.clone();
    p.push(String::from(name));
    p
}

impl<T: Transport> NinepFs<T> {
    fn root_lease(&self) -> Lease<'_, T> {
        Lease {
            fs: self,
            fid: self.root_fid,
            counted: false,
            fresh: true,
        }
    }

    /// A lease on `fid`, whose one use the caller already took.
    pub(super) fn lease(&self, fid: u32, fresh: bool) -> Lease<'_, T> {
        Lease {
            fs: self,
            fid,
            counted: true,
            fresh,
        }
    }

    /// Makes `fid` (fresh from a walk, not leased) the cached fid of `ino`.
    fn cache(&self, ino: Ino, fid: u32, path: Option<Path>) {
        let mut clunk = self.state.lock().install(ino, fid, path);
        let done = self.state.lock().put(fid);
        clunk.extend(done);
        self.clunk(clunk);
    }

    fn forget_path(&self, ino: Ino, path: &Path) {
        let clunk = self.state.lock().drop_path(ino, path);
        self.clunk(clunk);
    }

    /// The path `ino` was most recently seen at.
    pub(super) fn first_path(&self, ino: Ino) -> Option<Path> {
        self.state.lock().paths(ino).into_iter().next()
    }

    /// A fid for `ino`: the cached one (unchecked) or a fresh walk.
    pub(super) fn resolve(&self, ino: Ino) -> Result<Lease<'_, T>, Errno> {
        if ino == self.root {
            return Ok(self.root_lease());
        }
        let cached = self.state.lock().take_cached(ino);
        match cached {
            Some(fid) => Ok(self.lease(fid, false)),
            None => self.walk_fresh(ino),
        }
    }

    /// Walks from the root along each remembered path of `ino` until one still leads to it.
    pub(super) fn walk_fresh(&self, ino: Ino) -> Result<Lease<'_, T>, Errno> {
        if ino == self.root {
            return Ok(self.root_lease());
        }
        let paths = self.state.lock().paths(ino);
        for path in paths {
            match self.client.walk_new(self.root_fid, &walk_names(&path)) {
                Ok((fid, qids)) if qids.last().map(|q| q.path) == Some(ino) => {
                    let clunk = self.state.lock().install(ino, fid, None);
                    self.clunk(clunk);
                    return Ok(self.lease(fid, true));
                }
                Ok((fid, _)) => {
                    let _ = self.client.clunk(fid);
                    self.forget_path(ino, &path);
                }
                Err(f) if matches!(f.error, Error::Remote(_)) => self.forget_path(ino, &path),
                Err(f) => return Err(from_error(f.error)),
            }
        }
        Err(Errno::Noent)
    }

    /// Drops a cached fid that turned out stale.
    fn invalidate(&self, ino: Ino, lease: Lease<'_, T>) {
        let clunk = self.state.lock().invalidate(ino, lease.fid);
        drop(lease);
        self.clunk(clunk);
    }

    /// A fid proven to name `ino` right now: fresh, or cached and checked with `Tgetattr`.
    pub(super) fn verified(&self, ino: Ino) -> Result<Lease<'_, T>, Errno> {
        let lease = self.resolve(ino)?;
        if lease.fresh {
            return Ok(lease);
        }
        match self.client.getattr(lease.fid, getattr::BASIC) {
            Ok(a) if a.qid.path == ino => return Ok(lease),
            Ok(_) | Err(Error::Remote(_)) => {}
            Err(e) => return Err(from_error(e)),
        }
        self.invalidate(ino, lease);
        self.walk_fresh(ino)
    }

    /// The attributes of `ino`, by name or, when no name leads to it any more, by an open
    /// handle on it.
    pub(super) fn stat_ino(&self, ino: Ino) -> Result<Attr, Errno> {
        match self.attr_by_name(ino) {
            Err(Errno::Noent) => {}
            other => return other,
        }
        let objs = self.state.lock().take_handles_of(ino);
        let mut found = None;
        for o in &objs {
            if found.is_none()
                && let Ok(a) = self.client.getattr(o.fid, getattr::BASIC)
                && a.qid.path == ino
            {
                found = Some(a);
            }
        }
        for o in objs {
            drop(self.lease(o.fid, false));
        }
        found.ok_or(Errno::Noent)
    }

    fn attr_by_name(&self, ino: Ino) -> Result<Attr, Errno> {
        let lease = self.resolve(ino)?;
        match self.client.getattr(lease.fid, getattr::BASIC) {
            Ok(a) if a.qid.path == ino => return Ok(a),
            Ok(_) | Err(Error::Remote(_)) if !lease.fresh => {}
            Ok(_) => return Err(Errno::Noent),
            Err(e) => return Err(from_error(e)),
        }
        self.invalidate(ino, lease);
        let lease = self.walk_fresh(ino)?;
        match self.client.getattr(lease.fid, getattr::BASIC) {
            Ok(a) if a.qid.path == ino => Ok(a),
            Ok(_) => Err(Errno::Noent),
            Err(e) => Err(from_error(e)),
        }
    }

    /// `lookup`: one walk from the root along the directory's path plus `name`, which
    /// proves the directory is still there (its qid is among those returned).
    pub(super) fn lookup_name(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        let paths = self.state.lock().paths(dir);
        for path in paths {
            let depth = path.len();
            let full = joined(&path, name);
            let dir_matches =
                |qids: &[Qid]| depth == 0 || qids.get(depth - 1).map(|q| q.path) == Some(dir);
            match self.client.walk_new(self.root_fid, &walk_names(&full)) {
                Ok((fid, qids)) if dir_matches(&qids) => {
                    let child = qids[depth].path;
                    self.cache(child, fid, Some(full));
                    return Ok(child);
                }
                Ok((fid, _)) => {
                    let _ = self.client.clunk(fid);
                    self.forget_path(dir, &path);
                }
                Err(f) if !matches!(f.error, Error::Remote(_)) => return Err(from_error(f.error)),
                Err(f) if f.qids.len() == depth && dir_matches(&f.qids) => {
                    // The directory is where it was: `name` is what failed.
                    if f.exact {
                        return Err(from_error(f.error));
                    }
                    if depth > 0 && f.qids[depth - 1].ty & QT_DIR == 0 {
                        return Err(Errno::Notdir);
                    }
                    return self.lookup_for_errno(dir, &path, name);
                }
                Err(_) => self.forget_path(dir, &path),
            }
        }
        Err(Errno::Noent)
    }

    /// A walk that stopped part-way says only "not found"; walking `name` alone from the
    /// directory gets the server's own errno (or finds the name, if it just appeared).
    fn lookup_for_errno(&self, dir: Ino, path: &Path, name: &str) -> Result<Ino, Errno> {
        let (dfid, qids) = self
            .client
            .walk_new(self.root_fid, &walk_names(path))
            .map_err(|f| from_error(f.error))?;
        if qids.last().map(|q| q.path) != Some(dir) {
            let _ = self.client.clunk(dfid);
            return Err(Errno::Noent);
        }
        let r = self.client.walk_new(dfid, &[name.as_bytes()]);
        self.cache(dir, dfid, None);
        let (fid, qids) = r.map_err(|f| from_error(f.error))?;
        let child = qids[0].path;
        self.cache(child, fid, Some(joined(path, name)));
        Ok(child)
    }

    /// `create_dir` and `symlink`: `op` makes the object in the directory's fid.
    pub(super) fn make_in(
        &self,
        dir: Ino,
        name: &str,
        op: impl FnOnce(&Client<T>, u32) -> Result<Qid, Error>,
    ) -> Result<Ino, Errno> {
        self.writable()?;
        let lease = self.verified(dir)?;
        let qid = op(&self.client, lease.fid).map_err(from_error)?;
        drop(lease);
        if let Some(p) = self.first_path(dir) {
            let clunk = self.state.lock().note_path(qid.path, joined(&p, name));
            self.clunk(clunk);
        }
        Ok(qid.path)
    }

    pub(super) fn link_in(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno> {
        self.writable()?;
        let target = self.verified(ino)?;
        let d = self.verified(dir)?;
        self.client
            .link(d.fid, target.fid, name.as_bytes())
            .map_err(from_error)?;
        drop((target, d));
        if let Some(p) = self.first_path(dir) {
            let clunk = self.state.lock().note_path(ino, joined(&p, name));
            self.clunk(clunk);
        }
        Ok(())
    }

    /// `unlink` (`flags` 0) and `remove_dir` (`AT_REMOVEDIR`).
    pub(super) fn remove_in(&self, dir: Ino, name: &str, flags: u32) -> Result<(), Errno> {
        self.writable()?;
        let d = self.verified(dir)?;
        self.client
            .unlinkat(d.fid, name.as_bytes(), flags)
            .map_err(from_error)?;
        drop(d);
        if let Some(p) = self.first_path(dir) {
            let clunk = self.state.lock().remove_path(&joined(&p, name));
            self.clunk(clunk);
        }
        Ok(())
    }

    pub(super) fn rename_in(
        &self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), Errno> {
        self.writable()?;
        let a = self.verified(from_dir)?;
        let b = self.verified(to_dir)?;
        let r = self
            .client
            .renameat(a.fid, from_name.as_bytes(), b.fid, to_name.as_bytes());
        r.map_err(from_error)?;
        drop((a, b));
        if let (Some(pa), Some(pb)) = (self.first_path(from_dir), self.first_path(to_dir)) {
            let (from, to) = (joined(&pa, from_name), joined(&pb, to_name));
            if from != to {
                let clunk = self.state.lock().rename_paths(&from, &to);
                self.clunk(clunk);
            }
        }
        Ok(())
    }
}
