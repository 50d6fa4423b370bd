//! An in-memory [`FileSystem`]: a read-only tree filled by the embedder (e.g. from the initrd)
//! or a writable RAM file system (e.g. `/tmp`).

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use spin::Mutex;

use crate::errno::Errno;
use crate::fs::{DirEntry, FileKind, FileSystem, Ino, Stat};

/// Largest file a [`MemFs`] lets a guest create.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

const ROOT: Ino = 1;

/// File contents: borrowed from a `'static` image (no copy) until first written.
#[derive(Clone, Debug)]
pub enum FileData {
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl FileData {
    fn bytes(&self) -> &[u8] {
        match self {
            FileData::Static(b) => b,
            FileData::Owned(v) => v,
        }
    }

    /// The contents as an owned, growable buffer (copies a static image once).
    fn owned(&mut self) -> Result<&mut Vec<u8>, Errno> {
        if let FileData::Static(b) = *self {
            let mut v = Vec::new();
            v.try_reserve_exact(b.len()).map_err(|_| Errno::Nospc)?;
            v.extend_from_slice(b);
            *self = FileData::Owned(v);
        }
        match self {
            FileData::Owned(v) => Ok(v),
            FileData::Static(_) => Err(Errno::Io),
        }
    }
}

enum Node {
    File(FileData),
    Dir(BTreeMap<String, Ino>),
}

struct Inner {
    nodes: BTreeMap<Ino, Node>,
    next_ino: Ino,
    read_only: bool,
    /// Bytes held by owned file contents.
    used: u64,
    capacity: u64,
}

/// An in-memory tree of files and directories.
pub struct MemFs {
    dev: u64,
    inner: Mutex<Inner>,
}

fn valid_name(name: &str) -> Result<(), Errno> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Errno::Inval);
    }
    if name.len() > 255 {
        return Err(Errno::Nametoolong);
    }
    Ok(())
}

impl Inner {
    fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::Noent)
    }

    fn dir(&self, ino: Ino) -> Result<&BTreeMap<String, Ino>, Errno> {
        match self.node(ino)? {
            Node::Dir(d) => Ok(d),
            Node::File(_) => Err(Errno::Notdir),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Result<&mut BTreeMap<String, Ino>, Errno> {
        match self.nodes.get_mut(&ino).ok_or(Errno::Noent)? {
            Node::Dir(d) => Ok(d),
            Node::File(_) => Err(Errno::Notdir),
        }
    }

    fn writable(&self) -> Result<(), Errno> {
        if self.read_only {
            Err(Errno::Rofs)
        } else {
            Ok(())
        }
    }

    fn insert(&mut self, dir: Ino, name: &str, node: Node) -> Result<Ino, Errno> {
        valid_name(name)?;
        if self.dir(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        self.dir_mut(dir)?.insert(name.to_string(), ino);
        Ok(ino)
    }

    fn file_len(&self, ino: Ino) -> u64 {
        match self.nodes.get(&ino) {
            Some(Node::File(FileData::Owned(v))) => v.len() as u64,
            _ => 0,
        }
    }

    /// Drops a file node and returns its owned bytes to the budget.
    fn free(&mut self, ino: Ino) {
        self.used -= self.file_len(ino);
        self.nodes.remove(&ino);
    }

    /// Resizes a file's contents within the budget.
    fn resize(&mut self, ino: Ino, len: u64) -> Result<&mut Vec<u8>, Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::Fbig);
        }
        let old = self.file_len(ino);
        let capacity = self.capacity;
        let used = self.used;
        let data = match self.nodes.get_mut(&ino).ok_or(Errno::Noent)? {
            Node::File(d) => d.owned()?,
            Node::Dir(_) => return Err(Errno::Isdir),
        };
        // A static image just became owned: count it now.
        let old_counted = old;
        let now_owned = data.len() as u64;
        let base = used - old_counted + now_owned;
        if len > now_owned && base + (len - now_owned) > capacity {
            return Err(Errno::Nospc);
        }
        if len > now_owned {
            data.try_reserve((len - now_owned) as usize)
                .map_err(|_| Errno::Nospc)?;
        }
        data.resize(len as usize, 0);
        self.used = base - now_owned + len;
        match self.nodes.get_mut(&ino) {
            Some(Node::File(FileData::Owned(v))) => Ok(v),
            _ => Err(Errno::Io),
        }
    }
}

impl MemFs {
    /// An empty, writable file system. `dev` identifies it in `filestat`.
    pub fn new(dev: u64) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Node::Dir(BTreeMap::new()));
        MemFs {
            dev,
            inner: Mutex::new(Inner {
                nodes,
                next_ino: ROOT + 1,
                read_only: false,
                used: 0,
                capacity: u64::MAX,
            }),
        }
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

    /// Walks `path` (components separated by `/`) from the root, creating missing directories.
    fn mkdirs(inner: &mut Inner, components: &[&str]) -> Result<Ino, Errno> {
        let mut dir = ROOT;
        for name in components {
            dir = match inner.dir(dir)?.get(*name) {
                Some(&ino) => {
                    inner.dir(ino)?;
                    ino
                }
                None => inner.insert(dir, name, Node::Dir(BTreeMap::new()))?,
            };
        }
        Ok(dir)
    }

    fn split(path: &str) -> Vec<&str> {
        path.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect()
    }

    /// Adds (or replaces) the file at `path`, creating parent directories. For the embedder.
    pub fn insert_file(&self, path: &str, data: FileData) -> Result<Ino, Errno> {
        let comps = Self::split(path);
        let (name, parents) = comps.split_last().ok_or(Errno::Inval)?;
        let mut inner = self.inner.lock();
        let dir = Self::mkdirs(&mut inner, parents)?;
        if let Some(&old) = inner.dir(dir)?.get(*name) {
            if let Node::Dir(_) = inner.node(old)? {
                return Err(Errno::Isdir);
            }
            inner.free(old);
            inner.dir_mut(dir)?.remove(*name);
        }
        let owned = match &data {
            FileData::Owned(v) => v.len() as u64,
            FileData::Static(_) => 0,
        };
        let ino = inner.insert(dir, name, Node::File(data))?;
        inner.used += owned;
        Ok(ino)
    }

    /// Adds the directory at `path` and its parents. For the embedder.
    pub fn insert_dir(&self, path: &str) -> Result<Ino, Errno> {
        let comps = Self::split(path);
        Self::mkdirs(&mut self.inner.lock(), &comps)
    }

    /// A copy of the file at `path`, if there is one. For the embedder and tests.
    pub fn file_contents(&self, path: &str) -> Option<Vec<u8>> {
        let inner = self.inner.lock();
        let mut ino = ROOT;
        for name in Self::split(path) {
            ino = *inner.dir(ino).ok()?.get(name)?;
        }
        match inner.node(ino).ok()? {
            Node::File(d) => Some(d.bytes().to_vec()),
            Node::Dir(_) => None,
        }
    }

    /// Bytes held by files written by guests or inserted as owned data.
    pub fn used_bytes(&self) -> u64 {
        self.inner.lock().used
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
        self.inner
            .lock()
            .dir(dir)?
            .get(name)
            .copied()
            .ok_or(Errno::Noent)
    }

    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let inner = self.inner.lock();
        let (kind, size, nlink) = match inner.node(ino)? {
            Node::File(d) => (FileKind::File, d.bytes().len() as u64, 1),
            Node::Dir(d) => (FileKind::Directory, d.len() as u64, 2),
        };
        Ok(Stat {
            ino,
            kind,
            size,
            nlink,
            mtime: 0,
        })
    }

    fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let inner = self.inner.lock();
        let bytes = match inner.node(ino)? {
            Node::File(d) => d.bytes(),
            Node::Dir(_) => return Err(Errno::Isdir),
        };
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(avail) = bytes.get(start..) else {
            return Ok(0);
        };
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        Ok(n)
    }

    fn read_dir(&self, dir: Ino, index: u64) -> Result<Option<DirEntry>, Errno> {
        let inner = self.inner.lock();
        let d = inner.dir(dir)?;
        let Ok(index) = usize::try_from(index) else {
            return Ok(None);
        };
        let Some((name, &ino)) = d.iter().nth(index) else {
            return Ok(None);
        };
        let kind = match inner.node(ino)? {
            Node::File(_) => FileKind::File,
            Node::Dir(_) => FileKind::Directory,
        };
        Ok(Some(DirEntry {
            name: name.clone(),
            ino,
            kind,
        }))
    }

    fn write(&self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        if let Node::Dir(_) = inner.node(ino)? {
            return Err(Errno::Isdir);
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::Fbig)?;
        let cur = match inner.node(ino)? {
            Node::File(d) => d.bytes().len() as u64,
            Node::Dir(_) => return Err(Errno::Isdir),
        };
        let v = inner.resize(ino, end.max(cur))?;
        // `end <= MAX_FILE_SIZE` was checked by `resize`, so these fit in usize.
        v[offset as usize..end as usize].copy_from_slice(data);
        Ok(data.len())
    }

    fn set_len(&self, ino: Ino, len: u64) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        inner.resize(ino, len).map(|_| ())
    }

    fn create_file(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        inner.insert(dir, name, Node::File(FileData::Owned(Vec::new())))
    }

    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        inner.insert(dir, name, Node::Dir(BTreeMap::new()))
    }

    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = *inner.dir(dir)?.get(name).ok_or(Errno::Noent)?;
        if let Node::Dir(_) = inner.node(ino)? {
            return Err(Errno::Isdir);
        }
        inner.dir_mut(dir)?.remove(name);
        inner.free(ino);
        Ok(())
    }

    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.writable()?;
        let ino = *inner.dir(dir)?.get(name).ok_or(Errno::Noent)?;
        if !inner.dir(ino)?.is_empty() {
            return Err(Errno::Notempty);
        }
        inner.dir_mut(dir)?.remove(name);
        inner.nodes.remove(&ino);
        Ok(())
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
        valid_name(to_name)?;
        let ino = *inner.dir(from_dir)?.get(from_name).ok_or(Errno::Noent)?;
        inner.dir(to_dir)?;
        if from_dir == to_dir && from_name == to_name {
            return Ok(());
        }
        let moving_dir = matches!(inner.node(ino)?, Node::Dir(_));
        if moving_dir && Self::is_ancestor(&inner, ino, to_dir) {
            return Err(Errno::Inval);
        }
        if let Some(&old) = inner.dir(to_dir)?.get(to_name) {
            match (moving_dir, inner.node(old)?) {
                (false, Node::Dir(_)) => return Err(Errno::Isdir),
                (true, Node::File(_)) => return Err(Errno::Notdir),
                (true, Node::Dir(d)) if !d.is_empty() => return Err(Errno::Notempty),
                _ => {}
            }
            inner.free(old);
        }
        inner.dir_mut(from_dir)?.remove(from_name);
        inner.dir_mut(to_dir)?.insert(to_name.to_string(), ino);
        Ok(())
    }
}

impl MemFs {
    /// Whether directory `dir` is `target` or contains it (a rename would create a cycle).
    fn is_ancestor(inner: &Inner, dir: Ino, target: Ino) -> bool {
        if dir == target {
            return true;
        }
        match inner.nodes.get(&dir) {
            Some(Node::Dir(d)) => d.values().any(|&c| Self::is_ancestor(inner, c, target)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_io() {
        static HELLO: &[u8] = b"hello";
        let fs = MemFs::new(7);
        let f = fs
            .insert_file("/etc/motd", FileData::Static(HELLO))
            .unwrap();
        let etc = fs.lookup(fs.root(), "etc").unwrap();
        assert_eq!(fs.lookup(etc, "motd"), Ok(f));
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(f, 1, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"ello");
        assert_eq!(fs.read(f, 99, &mut buf), Ok(0));
        assert_eq!(fs.write(f, 7, b"!"), Ok(1));
        assert_eq!(fs.file_contents("etc/motd").unwrap(), b"hello\0\0!");
        assert_eq!(fs.used_bytes(), 8);
        assert_eq!(fs.read_dir(fs.root(), 0).unwrap().unwrap().name, "etc");
        assert_eq!(fs.read_dir(fs.root(), 1), Ok(None));
        assert_eq!(fs.remove_dir(fs.root(), "etc"), Err(Errno::Notempty));
        assert_eq!(fs.unlink(fs.root(), "etc"), Err(Errno::Isdir));
        fs.unlink(etc, "motd").unwrap();
        assert_eq!(fs.used_bytes(), 0);
        fs.remove_dir(fs.root(), "etc").unwrap();
        assert_eq!(fs.lookup(fs.root(), "etc"), Err(Errno::Noent));
    }

    #[test]
    fn limits_and_read_only() {
        let fs = MemFs::new(1).with_capacity(10);
        let f = fs.create_file(fs.root(), "a").unwrap();
        assert_eq!(fs.write(f, 0, &[1; 11]), Err(Errno::Nospc));
        assert_eq!(fs.write(f, 0, &[1; 10]), Ok(10));
        assert_eq!(fs.write(f, u64::MAX, &[1]), Err(Errno::Fbig));
        assert_eq!(fs.set_len(f, MAX_FILE_SIZE + 1), Err(Errno::Fbig));
        fs.set_len(f, 2).unwrap();
        assert_eq!(fs.used_bytes(), 2);
        assert_eq!(fs.create_file(fs.root(), "a"), Err(Errno::Exist));
        assert_eq!(fs.create_file(fs.root(), "x/y"), Err(Errno::Inval));
        fs.set_read_only(true);
        assert_eq!(fs.write(f, 0, b"x"), Err(Errno::Rofs));
        assert_eq!(fs.create_dir(fs.root(), "d"), Err(Errno::Rofs));
    }

    #[test]
    fn rename_rules() {
        let fs = MemFs::new(1);
        let r = fs.root();
        let d = fs.create_dir(r, "d").unwrap();
        let e = fs.create_dir(d, "e").unwrap();
        fs.create_file(r, "f").unwrap();
        assert_eq!(fs.rename(r, "d", e, "x"), Err(Errno::Inval));
        assert_eq!(fs.rename(r, "f", r, "d"), Err(Errno::Isdir));
        fs.rename(r, "f", e, "g").unwrap();
        assert!(fs.lookup(e, "g").is_ok());
        assert_eq!(fs.lookup(r, "f"), Err(Errno::Noent));
    }
}
