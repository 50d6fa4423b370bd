//! The inode table behind [`super::MemFs`]: nodes, link counts, open counts, byte budget.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::fs::{FileKind, Ino, Stat};

/// Largest file a [`super::MemFs`] lets a guest create.
pub const MAX_FILE_SIZE: u64 = 1 << 30;
/// Longest name a directory entry may have (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;

pub(super) const ROOT: Ino = 1;

/// File contents: borrowed from a `'static` image (no copy) until first written.
#[derive(Clone, Debug)]
pub enum FileData {
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl FileData {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            FileData::Static(b) => b,
            FileData::Owned(v) => v,
        }
    }

    fn owned_len(&self) -> u64 {
        match self {
            FileData::Static(_) => 0,
            FileData::Owned(v) => v.len() as u64,
        }
    }
}

/// A directory's entries: by name, and in the order tmpfs lists them (newest first).
#[derive(Default)]
pub(super) struct Entries {
    by_name: BTreeMap<String, (Ino, u64)>,
    by_age: BTreeMap<u64, String>,
}

impl Entries {
    pub fn get(&self, name: &str) -> Option<Ino> {
        self.by_name.get(name).map(|e| e.0)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Adds `name` as the newest entry (`seq` grows with every entry added to the tree).
    pub fn insert(&mut self, name: &str, ino: Ino, seq: u64) {
        self.remove(name);
        self.by_name.insert(name.into(), (ino, seq));
        self.by_age.insert(seq, name.into());
    }

    pub fn remove(&mut self, name: &str) {
        if let Some((_, seq)) = self.by_name.remove(name) {
            self.by_age.remove(&seq);
        }
    }

    /// Entries newest first, with their sequence numbers, starting below `before`.
    pub fn newest_first(&self, before: u64) -> impl Iterator<Item = (u64, &str, Ino)> {
        self.by_age
            .range(..before)
            .rev()
            .filter_map(|(seq, name)| Some((*seq, name.as_str(), self.get(name)?)))
    }
}

pub(super) enum Body {
    File(FileData),
    /// The entries (listed newest first, as Linux's tmpfs does) and the parent directory.
    Dir {
        entries: Entries,
        parent: Ino,
    },
    Symlink(String),
}

pub(super) struct Node {
    pub body: Body,
    /// Names referring to this node (for a directory: its entry, `.` and each child's `..`).
    pub nlink: u64,
    /// Open handles.
    pub opens: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
}

impl Node {
    pub fn kind(&self) -> FileKind {
        match self.body {
            Body::File(_) => FileKind::File,
            Body::Dir { .. } => FileKind::Directory,
            Body::Symlink(_) => FileKind::SymbolicLink,
        }
    }

    pub fn stat(&self, ino: Ino) -> Stat {
        let size = match &self.body {
            Body::File(d) => d.bytes().len() as u64,
            // Linux's tmpfs reports a directory's size as a multiple of its entries.
            Body::Dir { entries, .. } => 40 + 20 * entries.len() as u64,
            Body::Symlink(t) => t.len() as u64,
        };
        Stat {
            ino,
            kind: self.kind(),
            size,
            nlink: self.nlink,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
        }
    }
}

/// An open handle.
pub(super) struct Open {
    pub ino: Ino,
    pub read: bool,
    pub write: bool,
}

pub(super) struct Inner {
    pub nodes: BTreeMap<Ino, Node>,
    pub handles: BTreeMap<u64, Open>,
    pub next_ino: Ino,
    pub next_handle: u64,
    /// Orders directory entries: the next one added gets this.
    pub next_seq: u64,
    pub read_only: bool,
    /// Bytes held by owned file contents of live nodes.
    pub used: u64,
    pub capacity: u64,
}

/// Checks one name component (never `.`/`..`, no `/` or NUL, at most [`NAME_MAX`] bytes).
pub(super) fn valid_name(name: &str) -> Result<(), Errno> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(Errno::Inval);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::Nametoolong);
    }
    Ok(())
}

impl Inner {
    pub fn new() -> Inner {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            Node {
                body: Body::Dir {
                    entries: Entries::default(),
                    parent: ROOT,
                },
                nlink: 2,
                opens: 0,
                atime: 0,
                mtime: 0,
                ctime: 0,
            },
        );
        Inner {
            nodes,
            handles: BTreeMap::new(),
            next_ino: ROOT + 1,
            next_handle: 1,
            next_seq: 1,
            read_only: false,
            used: 0,
            capacity: u64::MAX,
        }
    }

    pub fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::Noent)
    }

    pub fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::Noent)
    }

    pub fn entries(&self, dir: Ino) -> Result<&Entries, Errno> {
        match &self.node(dir)?.body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::Notdir),
        }
    }

    fn entries_mut(&mut self, dir: Ino) -> Result<&mut Entries, Errno> {
        match &mut self.node_mut(dir)?.body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::Notdir),
        }
    }

    /// A directory that may still receive entries: one removed while open may not.
    pub fn live_dir(&self, dir: Ino) -> Result<(), Errno> {
        self.entries(dir)?;
        if self.node(dir)?.nlink == 0 {
            return Err(Errno::Noent);
        }
        Ok(())
    }

    pub fn writable(&self) -> Result<(), Errno> {
        if self.read_only {
            Err(Errno::Rofs)
        } else {
            Ok(())
        }
    }

    pub fn open(&self, handle: u64) -> Result<&Open, Errno> {
        self.handles.get(&handle).ok_or(Errno::Badf)
    }

    /// Adds a new node as `name` in `dir`, with all three times `now`.
    pub fn insert(&mut self, dir: Ino, name: &str, body: Body, now: u64) -> Result<Ino, Errno> {
        valid_name(name)?;
        self.live_dir(dir)?;
        if self.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let is_dir = matches!(body, Body::Dir { .. });
        self.used += match &body {
            Body::File(d) => d.owned_len(),
            _ => 0,
        };
        self.nodes.insert(
            ino,
            Node {
                body,
                nlink: if is_dir { 2 } else { 1 },
                opens: 0,
                atime: now,
                mtime: now,
                ctime: now,
            },
        );
        self.add_entry(dir, name, ino)?;
        let d = self.node_mut(dir)?;
        if is_dir {
            d.nlink += 1;
        }
        d.mtime = now;
        d.ctime = now;
        Ok(ino)
    }

    /// Frees a node nothing refers to any more (no name, no handle).
    pub fn release(&mut self, ino: Ino) {
        let unused = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.nlink == 0 && n.opens == 0 && ino != ROOT);
        if unused
            && let Some(Node {
                body: Body::File(d),
                ..
            }) = self.nodes.remove(&ino)
        {
            self.used -= d.owned_len();
        }
    }

    /// Adds the entry `name` for `ino` to `dir`, as its newest.
    pub fn add_entry(&mut self, dir: Ino, name: &str, ino: Ino) -> Result<(), Errno> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries_mut(dir)?.insert(name, ino, seq);
        Ok(())
    }

    pub fn remove_entry(&mut self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.entries_mut(dir)?.remove(name);
        Ok(())
    }

    /// Drops the name `name` from `dir` for node `ino` and updates link counts and times.
    pub fn drop_name(&mut self, dir: Ino, name: &str, ino: Ino, now: u64) -> Result<(), Errno> {
        self.remove_entry(dir, name)?;
        let is_dir = self.node(ino)?.kind() == FileKind::Directory;
        let n = self.node_mut(ino)?;
        n.nlink = if is_dir { 0 } else { n.nlink.saturating_sub(1) };
        n.ctime = now;
        let d = self.node_mut(dir)?;
        if is_dir {
            d.nlink -= 1;
        }
        d.mtime = now;
        d.ctime = now;
        self.release(ino);
        Ok(())
    }

    /// Resizes a file within the budget and returns its now owned bytes.
    pub fn resize(&mut self, ino: Ino, len: u64) -> Result<&mut Vec<u8>, Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::Fbig);
        }
        let (used, capacity) = (self.used, self.capacity);
        let Body::File(data) = &mut self.node_mut(ino)?.body else {
            return Err(Errno::Isdir);
        };
        let old_owned = data.owned_len();
        if len > old_owned && used - old_owned + len > capacity {
            return Err(Errno::Nospc);
        }
        if let FileData::Static(b) = *data {
            let mut v = Vec::new();
            v.try_reserve_exact(b.len().max(len as usize))
                .map_err(|_| Errno::Nospc)?;
            v.extend_from_slice(b);
            *data = FileData::Owned(v);
        }
        let FileData::Owned(v) = data else {
            return Err(Errno::Io);
        };
        if len as usize > v.len() {
            v.try_reserve(len as usize - v.len())
                .map_err(|_| Errno::Nospc)?;
        }
        v.resize(len as usize, 0);
        self.used = used - old_owned + len;
        match &mut self.node_mut(ino)?.body {
            Body::File(FileData::Owned(v)) => Ok(v),
            _ => Err(Errno::Io),
        }
    }

    /// Whether directory `dir` is `target` or one of its ancestors.
    pub fn is_ancestor(&self, dir: Ino, mut target: Ino) -> bool {
        loop {
            if target == dir {
                return true;
            }
            match self.nodes.get(&target).map(|n| &n.body) {
                Some(Body::Dir { parent, .. }) if *parent != target => target = *parent,
                _ => return false,
            }
        }
    }
}
