//! [`MemFs`]: an in-memory [`FileSystem`], either a read-only tree filled by the embedder or a
//! writable RAM file system (`/tmp`), answering as Linux's tmpfs would.
//!
//! It has regular files, directories and symbolic links; hard links (link counts as Linux
//! keeps them); access, modification and change times from an optional [`Clock`]; and open
//! handles that keep a file alive after its last name is gone, until they are closed.

mod node;
#[cfg(test)]
mod tests;

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;

use crate::errno::Errno;
use crate::fs::{Access, DirEntry, FileKind, FileSystem, Handle, Ino, SetTime, Stat};
use crate::host::Clock;
use node::{Body, Entries, Inner, Node, Open, ROOT, valid_name};
pub use node::{FileData, MAX_FILE_SIZE, NAME_MAX};

/// An in-memory tree of files, directories and symbolic links.
pub struct MemFs {
    dev: u64,
    clock: Option<Arc<dyn Clock + Sync>>,
    inner: Mutex<Inner>,
}

impl MemFs {
    /// An empty, writable file system whose times stay 0. `dev` identifies it in `filestat`.
    pub fn new(dev: u64) -> Self {
        MemFs {
            dev,
            clock: None,
            inner: Mutex::new(Inner::new()),
        }
    }

    /// Stamps times from `clock` (its real-time clock), the root directory's included.
    pub fn with_clock(mut self, clock: Arc<dyn Clock + Sync>) -> Self {
        let now = clock.realtime_now();
        self.clock = Some(clock);
        if let Ok(root) = self.inner.get_mut().node_mut(ROOT) {
            root.atime = now;
            root.mtime = now;
            root.ctime = now;
        }
        self
    }

    /// Limits the bytes guests may store in files (default: unlimited but for allocation failure).
    pub fn with_capacity(self, bytes: u64) -> Self {
        self.inner.lock().capacity = bytes;
        self
    }

    /// Makes the tree read-only for guests. The embedder's `insert_*` methods still work.
    pub fn set_read_only(&self, read_only: bool) {
        self.inner.lock().read_only = read_only;
    }

    fn now(&self) -> u64 {
        self.clock.as_ref().map_or(0, |c| c.realtime_now())
    }

    fn time(&self, t: SetTime, now: u64) -> Option<u64> {
        match t {
            SetTime::Omit => None,
            SetTime::Now => Some(now),
            SetTime::At(ns) => Some(ns),
        }
    }

    fn split(path: &str) -> Vec<&str> {
        path.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect()
    }

    /// Walks `components` from the root, creating missing directories.
    fn mkdirs(&self, inner: &mut Inner, components: &[&str]) -> Result<Ino, Errno> {
        let mut dir = ROOT;
        for name in components {
            dir = match inner.entries(dir)?.get(name) {
                Some(ino) => {
                    inner.entries(ino)?;
                    ino
                }
                None => inner.insert(
                    dir,
                    name,
                    Body::Dir {
                        entries: Entries::default(),
                        parent: dir,
                    },
                    self.now(),
                )?,
            };
        }
        Ok(dir)
    }

    /// Adds `body` at `path` (replacing a file or link there), creating parent directories.
    fn insert_at(&self, path: &str, body: Body) -> Result<Ino, Errno> {
        let comps = Self::split(path);
        let (name, parents) = comps.split_last().ok_or(Errno::Inval)?;
        let mut inner = self.inner.lock();
        let dir = self.mkdirs(&mut inner, parents)?;
        if let Some(old) = inner.entries(dir)?.get(name) {
            if inner.node(old)?.kind() == FileKind::Directory {
                return Err(Errno::Isdir);
            }
            inner.drop_name(dir, name, old, self.now())?;
        }
        inner.insert(dir, name, body, self.now())
    }

    /// Adds (or replaces) the file at `path`, creating parent directories. For the embedder.
    pub fn insert_file(&self, path: &str, data: FileData) -> Result<Ino, Errno> {
        self.insert_at(path, Body::File(data))
    }

    /// Adds (or replaces) a symbolic link at `path` to `target`. For the embedder.
    pub fn insert_symlink(&self, path: &str, target: &str) -> Result<Ino, Errno> {
        self.insert_at(path, Body::Symlink(target.to_string()))
    }

    /// Adds the directory at `path` and its parents. For the embedder.
    pub fn insert_dir(&self, path: &str) -> Result<Ino, Errno> {
        let comps = Self::split(path);
        self.mkdirs(&mut self.inner.lock(), &comps)
    }

    /// A copy of the file at `path` (no link followed), if there is one. For the embedder
    /// and tests.
    pub fn file_contents(&self, path: &str) -> Option<Vec<u8>> {
        let inner = self.inner.lock();
        let mut ino = ROOT;
        for name in Self::split(path) {
            ino = inner.entries(ino).ok()?.get(name)?;
        }
        match &inner.node(ino).ok()?.body {
            Body::File(d) => Some(d.bytes().to_vec()),
            _ => None,
        }
    }

    /// Bytes held by files written by guests or inserted as owned data.
    pub fn used_bytes(&self) -> u64 {
        self.inner.lock().used
    }

    /// Nodes alive (named or open), the root included: lets tests see that nothing leaks.
    pub fn node_count(&self) -> usize {
        self.inner.lock().nodes.len()
    }

    /// Open handles: lets tests see that every handle is closed exactly once.
    pub fn open_handles(&self) -> usize {
        self.inner.lock().handles.len()
    }

    fn new_handle(inner: &mut Inner, ino: Ino, access: Access) -> Result<Handle, Errno> {
        let h = inner.next_handle;
        inner.next_handle += 1;
        inner.node_mut(ino)?.opens += 1;
        inner.handles.insert(
            h,
            Open {
                ino,
                read: access.read,
                write: access.write,
            },
        );
        Ok(h)
    }

    /// The node of a handle, checked for the access an operation needs.
    fn file_of(inner: &Inner, handle: Handle) -> Result<(Ino, &Open), Errno> {
        let o = inner.open(handle)?;
        Ok((o.ino, o))
    }
}

impl FileSystem for MemFs {
    fn dev(&self) -> u64 {
        self.dev
    }

    fn root(&self) -> Ino {
        ROOT
    }

    fn is_read_only(&self) -> bool {
        self.inner.lock().read_only
    }

    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::Nametoolong);
        }
        self.inner
            .lock()
            .entries(dir)?
            .get(name)
            .ok_or(Errno::Noent)
    }

    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        Ok(self.inner.lock().node(ino)?.stat(ino))
    }

    fn set_times(&self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let now = self.now();
        let (a, m) = (self.time(atime, now), self.time(mtime, now));
        let n = inner.node_mut(ino)?;
        if let Some(a) = a {
            n.atime = a;
        }
        if let Some(m) = m {
            n.mtime = m;
        }
        n.ctime = now;
        Ok(())
    }

    fn readlink(&self, ino: Ino) -> Result<String, Errno> {
        match &self.inner.lock().node(ino)?.body {
            Body::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::Inval),
        }
    }

    fn create_file(&self, dir: Ino, name: &str, access: Access) -> Result<(Ino, Handle), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = inner.insert(
            dir,
            name,
            Body::File(FileData::Owned(Vec::new())),
            self.now(),
        )?;
        Ok((ino, Self::new_handle(&mut inner, ino, access)?))
    }

    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let body = Body::Dir {
            entries: Entries::default(),
            parent: dir,
        };
        inner.insert(dir, name, body, self.now())
    }

    fn symlink(&self, dir: Ino, name: &str, target: &str) -> Result<Ino, Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        inner.insert(dir, name, Body::Symlink(target.to_string()), self.now())
    }

    fn link(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        valid_name(name)?;
        inner.live_dir(dir)?;
        let n = inner.node(ino)?;
        if n.kind() == FileKind::Directory {
            return Err(Errno::Perm);
        }
        if n.nlink == 0 {
            // Linux refuses to give an unlinked (but open) file a new name.
            return Err(Errno::Noent);
        }
        if inner.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let now = self.now();
        inner.add_entry(dir, name, ino)?;
        let n = inner.node_mut(ino)?;
        n.nlink += 1;
        n.ctime = now;
        let d = inner.node_mut(dir)?;
        d.mtime = now;
        d.ctime = now;
        Ok(())
    }

    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = inner.entries(dir)?.get(name).ok_or(Errno::Noent)?;
        if inner.node(ino)?.kind() == FileKind::Directory {
            return Err(Errno::Isdir);
        }
        inner.drop_name(dir, name, ino, self.now())
    }

    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = inner.entries(dir)?.get(name).ok_or(Errno::Noent)?;
        if !inner.entries(ino)?.is_empty() {
            return Err(Errno::Notempty);
        }
        inner.drop_name(dir, name, ino, self.now())
    }

    fn rename(
        &self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = inner
            .entries(from_dir)?
            .get(from_name)
            .ok_or(Errno::Noent)?;
        valid_name(to_name)?;
        inner.live_dir(to_dir)?;
        let moving_dir = inner.node(ino)?.kind() == FileKind::Directory;
        let old = inner.entries(to_dir)?.get(to_name);
        if old == Some(ino) {
            // Two names of one file (or one name): POSIX says do nothing.
            return Ok(());
        }
        if moving_dir && inner.is_ancestor(ino, to_dir) {
            return Err(Errno::Inval);
        }
        let now = self.now();
        if let Some(old) = old {
            let old_node = inner.node(old)?;
            match (moving_dir, old_node.kind() == FileKind::Directory) {
                (false, true) => return Err(Errno::Isdir),
                (true, false) => return Err(Errno::Notdir),
                (true, true) if !inner.entries(old)?.is_empty() => return Err(Errno::Notempty),
                _ => {}
            }
            inner.drop_name(to_dir, to_name, old, now)?;
        }
        inner.remove_entry(from_dir, from_name)?;
        inner.add_entry(to_dir, to_name, ino)?;
        if moving_dir {
            if let Body::Dir { parent, .. } = &mut inner.node_mut(ino)?.body {
                *parent = to_dir;
            }
            inner.node_mut(from_dir)?.nlink -= 1;
            inner.node_mut(to_dir)?.nlink += 1;
        }
        inner.node_mut(ino)?.ctime = now;
        for d in [from_dir, to_dir] {
            let d = inner.node_mut(d)?;
            d.mtime = now;
            d.ctime = now;
        }
        Ok(())
    }

    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        let mut inner = self.inner.lock();
        match inner.node(ino)?.kind() {
            FileKind::Directory if access.write => return Err(Errno::Isdir),
            FileKind::SymbolicLink => return Err(Errno::Loop),
            _ => {}
        }
        if access.write {
            inner.writable()?;
        }
        Self::new_handle(&mut inner, ino, access)
    }

    fn close(&self, handle: Handle) {
        let mut inner = self.inner.lock();
        if let Some(o) = inner.handles.remove(&handle) {
            if let Ok(n) = inner.node_mut(o.ino) {
                n.opens -= 1;
            }
            inner.release(o.ino);
        }
    }

    fn fstat(&self, handle: Handle) -> Result<Stat, Errno> {
        let inner = self.inner.lock();
        let ino = inner.open(handle)?.ino;
        Ok(inner.node(ino)?.stat(ino))
    }

    fn fset_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        let ino = self.inner.lock().open(handle)?.ino;
        self.set_times(ino, atime, mtime)
    }

    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let now = self.now();
        let mut inner = self.inner.lock();
        let (ino, o) = Self::file_of(&inner, handle)?;
        if !o.read {
            return Err(Errno::Badf);
        }
        let node = inner.node_mut(ino)?;
        let bytes = match &node.body {
            Body::File(d) => d.bytes(),
            Body::Dir { .. } => return Err(Errno::Isdir),
            Body::Symlink(_) => return Err(Errno::Inval),
        };
        let avail = usize::try_from(offset)
            .ok()
            .and_then(|o| bytes.get(o..))
            .unwrap_or(&[]);
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        // relatime: the access time moves when it is not newer than the last change.
        if node.atime <= node.mtime || node.atime <= node.ctime {
            node.atime = now;
        }
        Ok(n)
    }

    fn write(&self, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let now = self.now();
        let mut inner = self.inner.lock();
        let (ino, o) = Self::file_of(&inner, handle)?;
        if !o.write {
            return Err(Errno::Badf);
        }
        inner.writable()?;
        let cur = match &inner.node(ino)?.body {
            Body::File(d) => d.bytes().len() as u64,
            Body::Dir { .. } => return Err(Errno::Isdir),
            Body::Symlink(_) => return Err(Errno::Inval),
        };
        if data.is_empty() {
            return Ok(0);
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::Fbig)?;
        let v = inner.resize(ino, end.max(cur))?;
        // `end <= MAX_FILE_SIZE` was checked by `resize`, so these fit in usize.
        v[offset as usize..end as usize].copy_from_slice(data);
        let n = inner.node_mut(ino)?;
        n.mtime = now;
        n.ctime = now;
        Ok(data.len())
    }

    fn set_len(&self, handle: Handle, len: u64) -> Result<(), Errno> {
        let now = self.now();
        let mut inner = self.inner.lock();
        let (ino, o) = Self::file_of(&inner, handle)?;
        // ftruncate(2): EINVAL unless a regular file open for writing.
        if !o.write || inner.node(ino)?.kind() != FileKind::File {
            return Err(Errno::Inval);
        }
        inner.writable()?;
        inner.resize(ino, len)?;
        let n = inner.node_mut(ino)?;
        n.mtime = now;
        n.ctime = now;
        Ok(())
    }

    fn sync(&self, handle: Handle, _data_only: bool) -> Result<(), Errno> {
        // Nothing to make durable: RAM is all there is.
        self.inner.lock().open(handle).map(|_| ())
    }

    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        let inner = self.inner.lock();
        let ino = inner.open(handle)?.ino;
        let entries = inner.entries(ino)?;
        let mut bytes = 0;
        // Newest first, as tmpfs lists; a cookie is the sequence number of the entry before.
        let before = if cookie == 0 { u64::MAX } else { cookie };
        for (seq, name, child) in entries.newest_first(before) {
            if bytes >= max_bytes && bytes > 0 {
                return Ok(false);
            }
            let kind = inner.node(child).map_or(FileKind::Unknown, Node::kind);
            out.push(DirEntry {
                name: name.to_string(),
                ino: child,
                kind,
                next: seq,
            });
            bytes += name.len() + 24;
        }
        Ok(true)
    }
}
