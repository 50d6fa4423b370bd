//! [`InitrdFs`]: the initrd (a cpio newc archive) as a read-only [`FileSystem`].
//!
//! The archive is parsed once, at construction, into an inode table; file contents stay
//! borrowed from the `'static` image (no copy). Directories that only appear as parents of
//! other entries exist too. Symbolic links are served (their target is the entry's data);
//! device nodes and FIFOs are left out. A handle is the inode number itself: nothing here
//! changes, so an open object needs no state.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use initrd::Archive;

use crate::errno::Errno;
use crate::fs::{Access, DirEntry, FileKind, FileSystem, Handle, Ino, SetTime, Stat};

/// Why an archive cannot be mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitrdFsError {
    /// The cpio archive itself is malformed.
    Archive(initrd::Error),
    /// An entry's path has a `..` component or a component longer than 255 bytes, or a
    /// symbolic link's target is not UTF-8.
    BadPath(String),
    /// A path is both a file and a directory (e.g. `a` is a file and `a/b` exists).
    Conflict(String),
}

impl fmt::Display for InitrdFsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Archive(e) => write!(f, "initrd: {e}"),
            Self::BadPath(p) => write!(f, "initrd: entry {p:?} has a bad path component"),
            Self::Conflict(p) => write!(f, "initrd: {p:?} is both a file and a directory"),
        }
    }
}

impl From<initrd::Error> for InitrdFsError {
    fn from(e: initrd::Error) -> Self {
        Self::Archive(e)
    }
}

enum Node {
    File {
        data: &'static [u8],
        mtime: u64,
    },
    Symlink {
        target: &'static str,
        mtime: u64,
    },
    /// Children sorted by name: `lookup` is a binary search, `read_dir` an index.
    Dir {
        children: Vec<(String, Ino)>,
        mtime: u64,
    },
}

/// A read-only tree over a `'static` initrd image. Inode `i` is `nodes[i - 1]`; the root is 1.
pub struct InitrdFs {
    dev: u64,
    nodes: Vec<Node>,
}

const ROOT: Ino = 1;

impl fmt::Debug for InitrdFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitrdFs")
            .field("dev", &self.dev)
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

impl InitrdFs {
    /// Indexes the cpio newc archive in `image`. `dev` identifies the tree in `filestat`.
    pub fn new(image: &'static [u8], dev: u64) -> Result<Self, InitrdFsError> {
        Self::from_archive(Archive::new(image), dev)
    }

    /// Indexes `archive`. A later entry for the same file replaces an earlier one (as Linux
    /// unpacks an initramfs); a repeated directory merges.
    pub fn from_archive(archive: Archive<'static>, dev: u64) -> Result<Self, InitrdFsError> {
        let mut fs = InitrdFs {
            dev,
            nodes: alloc::vec![Node::Dir {
                children: Vec::new(),
                mtime: 0,
            }],
        };
        for entry in archive.entries() {
            let entry = entry?;
            if !entry.is_file() && !entry.is_dir() && !entry.is_symlink() {
                continue;
            }
            let path = entry.path();
            let mut comps = Vec::new();
            for c in path.split('/') {
                match c {
                    "" | "." => {}
                    ".." => return Err(InitrdFsError::BadPath(path.into())),
                    c if c.len() > 255 => return Err(InitrdFsError::BadPath(path.into())),
                    c => comps.push(c),
                }
            }
            let conflict = || InitrdFsError::Conflict(String::from(path));
            let mtime = u64::from(entry.mtime) * 1_000_000_000;
            let Some((name, parents)) = comps.split_last() else {
                // The archive root ("." or "/").
                match &mut fs.nodes[0] {
                    Node::Dir { mtime: m, .. } if entry.is_dir() => *m = mtime,
                    _ => return Err(conflict()),
                }
                continue;
            };
            let mut dir = ROOT;
            for p in parents {
                dir = match fs.child(dir, p) {
                    Some(ino) if fs.is_dir(ino) => ino,
                    Some(_) => return Err(conflict()),
                    None => fs.add(
                        dir,
                        p,
                        Node::Dir {
                            children: Vec::new(),
                            mtime: 0,
                        },
                    ),
                };
            }
            match (fs.child(dir, name), entry.is_dir()) {
                (None, true) => {
                    fs.add(
                        dir,
                        name,
                        Node::Dir {
                            children: Vec::new(),
                            mtime,
                        },
                    );
                }
                (None, false) => {
                    let node = Self::leaf(&entry, mtime)?;
                    fs.add(dir, name, node);
                }
                (Some(ino), is_dir) => match (fs.node_mut(ino), is_dir) {
                    (Some(Node::Dir { mtime: m, .. }), true) => *m = mtime,
                    (Some(old @ (Node::File { .. } | Node::Symlink { .. })), false) => {
                        *old = Self::leaf(&entry, mtime)?;
                    }
                    _ => return Err(conflict()),
                },
            }
        }
        Ok(fs)
    }

    /// The node of a file or symbolic link entry.
    fn leaf(entry: &initrd::Entry<'static>, mtime: u64) -> Result<Node, InitrdFsError> {
        if entry.is_symlink() {
            let target = core::str::from_utf8(entry.data)
                .map_err(|_| InitrdFsError::BadPath(String::from(entry.path())))?;
            Ok(Node::Symlink { target, mtime })
        } else {
            Ok(Node::File {
                data: entry.data,
                mtime,
            })
        }
    }

    /// How many files, directories and links the tree holds, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: the root always exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        usize::try_from(ino.wrapping_sub(1))
            .ok()
            .and_then(|i| self.nodes.get(i))
            .ok_or(Errno::Noent)
    }

    fn node_mut(&mut self, ino: Ino) -> Option<&mut Node> {
        let i = usize::try_from(ino.wrapping_sub(1)).ok()?;
        self.nodes.get_mut(i)
    }

    fn is_dir(&self, ino: Ino) -> bool {
        matches!(self.node(ino), Ok(Node::Dir { .. }))
    }

    fn children(&self, dir: Ino) -> Result<&[(String, Ino)], Errno> {
        match self.node(dir)? {
            Node::Dir { children, .. } => Ok(children),
            _ => Err(Errno::Notdir),
        }
    }

    fn child(&self, dir: Ino, name: &str) -> Option<Ino> {
        let c = self.children(dir).ok()?;
        let i = c.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok()?;
        Some(c[i].1)
    }

    /// Adds `node` as `name` in `dir` (which must be a directory without that name).
    fn add(&mut self, dir: Ino, name: &str, node: Node) -> Ino {
        self.nodes.push(node);
        let ino = self.nodes.len() as Ino;
        if let Some(Node::Dir { children, .. }) = self.node_mut(dir) {
            let at = children.partition_point(|(n, _)| n.as_str() < name);
            children.insert(at, (String::from(name), ino));
        }
        ino
    }

    fn kind(node: &Node) -> FileKind {
        match node {
            Node::File { .. } => FileKind::File,
            Node::Dir { .. } => FileKind::Directory,
            Node::Symlink { .. } => FileKind::SymbolicLink,
        }
    }
}

impl FileSystem for InitrdFs {
    fn dev(&self) -> u64 {
        self.dev
    }

    fn root(&self) -> Ino {
        ROOT
    }

    fn is_read_only(&self) -> bool {
        true
    }

    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        if name.len() > 255 {
            return Err(Errno::Nametoolong);
        }
        let c = self.children(dir)?;
        c.binary_search_by(|(n, _)| n.as_str().cmp(name))
            .map(|i| c[i].1)
            .map_err(|_| Errno::Noent)
    }

    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let (size, nlink, mtime) = match self.node(ino)? {
            Node::File { data, mtime } => (data.len() as u64, 1, *mtime),
            Node::Symlink { target, mtime } => (target.len() as u64, 1, *mtime),
            Node::Dir { children, mtime } => {
                // `.`, the entry in the parent, and each subdirectory's `..`.
                let subdirs = children.iter().filter(|(_, i)| self.is_dir(*i)).count();
                (children.len() as u64, 2 + subdirs as u64, *mtime)
            }
        };
        Ok(Stat {
            ino,
            kind: Self::kind(self.node(ino)?),
            size,
            nlink,
            atime: mtime,
            mtime,
            ctime: mtime,
        })
    }

    fn set_times(&self, ino: Ino, _atime: SetTime, _mtime: SetTime) -> Result<(), Errno> {
        self.node(ino)?;
        Err(Errno::Rofs)
    }

    fn readlink(&self, ino: Ino) -> Result<String, Errno> {
        match self.node(ino)? {
            Node::Symlink { target, .. } => Ok(String::from(*target)),
            _ => Err(Errno::Inval),
        }
    }

    fn create_file(&self, _dir: Ino, _name: &str, _access: Access) -> Result<(Ino, Handle), Errno> {
        Err(Errno::Rofs)
    }

    fn create_dir(&self, _dir: Ino, _name: &str) -> Result<Ino, Errno> {
        Err(Errno::Rofs)
    }

    fn symlink(&self, _dir: Ino, _name: &str, _target: &str) -> Result<Ino, Errno> {
        Err(Errno::Rofs)
    }

    fn link(&self, _ino: Ino, _dir: Ino, _name: &str) -> Result<(), Errno> {
        Err(Errno::Rofs)
    }

    fn unlink(&self, _dir: Ino, _name: &str) -> Result<(), Errno> {
        Err(Errno::Rofs)
    }

    fn remove_dir(&self, _dir: Ino, _name: &str) -> Result<(), Errno> {
        Err(Errno::Rofs)
    }

    fn rename(&self, _: Ino, _: &str, _: Ino, _: &str) -> Result<(), Errno> {
        Err(Errno::Rofs)
    }

    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        match self.node(ino)? {
            Node::Symlink { .. } => Err(Errno::Loop),
            Node::Dir { .. } if access.write => Err(Errno::Isdir),
            _ if access.write => Err(Errno::Rofs),
            _ => Ok(ino),
        }
    }

    fn close(&self, _handle: Handle) {}

    fn fstat(&self, handle: Handle) -> Result<Stat, Errno> {
        self.stat(handle).map_err(|_| Errno::Badf)
    }

    fn fset_times(&self, handle: Handle, _atime: SetTime, _mtime: SetTime) -> Result<(), Errno> {
        self.node(handle).map_err(|_| Errno::Badf)?;
        Err(Errno::Rofs)
    }

    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let data = match self.node(handle).map_err(|_| Errno::Badf)? {
            Node::File { data, .. } => *data,
            Node::Dir { .. } => return Err(Errno::Isdir),
            Node::Symlink { .. } => return Err(Errno::Badf),
        };
        let avail = usize::try_from(offset)
            .ok()
            .and_then(|o| data.get(o..))
            .unwrap_or(&[]);
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        Ok(n)
    }

    fn write(&self, handle: Handle, _offset: u64, _data: &[u8]) -> Result<usize, Errno> {
        self.node(handle).map_err(|_| Errno::Badf)?;
        // Never opened for writing: as write(2) on a read-only descriptor.
        Err(Errno::Badf)
    }

    fn set_len(&self, handle: Handle, _len: u64) -> Result<(), Errno> {
        self.node(handle).map_err(|_| Errno::Badf)?;
        Err(Errno::Inval)
    }

    fn sync(&self, handle: Handle, _data_only: bool) -> Result<(), Errno> {
        self.node(handle).map(|_| ()).map_err(|_| Errno::Badf)
    }

    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        let c = self.children(handle)?;
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        let mut bytes = 0;
        for (i, (name, ino)) in c.iter().enumerate().skip(start) {
            if bytes >= max_bytes && bytes > 0 {
                return Ok(false);
            }
            out.push(DirEntry {
                name: name.clone(),
                ino: *ino,
                kind: Self::kind(self.node(*ino)?),
                next: i as u64 + 1,
            });
            bytes += name.len() + 24;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    /// Leaks `bytes`: the tree borrows a `'static` image, as the kernel's initrd is.
    fn leak(bytes: Vec<u8>) -> &'static [u8] {
        bytes.leak()
    }

    /// One raw newc entry (no implied parents, unlike `initrd::Builder`).
    fn push(out: &mut Vec<u8>, name: &str, mode: u32, mtime: u32, data: &[u8]) {
        out.extend_from_slice(b"070701");
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            mtime,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    fn raw(entries: &[(&str, u32, &[u8])]) -> &'static [u8] {
        let mut out = Vec::new();
        for (name, mode, data) in entries {
            push(&mut out, name, *mode, 1_700_000_000, data);
        }
        push(&mut out, "TRAILER!!!", 0, 0, b"");
        leak(out)
    }

    const REG: u32 = 0o100644;
    const DIR: u32 = 0o040755;

    fn walk(fs: &InitrdFs, path: &str) -> Result<Ino, Errno> {
        let mut ino = fs.root();
        for c in path.split('/').filter(|c| !c.is_empty()) {
            ino = fs.lookup(ino, c)?;
        }
        Ok(ino)
    }

    fn names(fs: &InitrdFs, dir: Ino) -> Vec<(String, FileKind)> {
        let h = fs.open(dir, Access::default()).unwrap();
        let mut out = Vec::new();
        let mut cookie = 0;
        // One entry at a time, so every cookie is used.
        while !fs.read_dir(h, cookie, 0, &mut out).unwrap() {
            cookie = out.last().unwrap().next;
        }
        fs.close(h);
        out.into_iter().map(|e| (e.name, e.kind)).collect()
    }

    #[test]
    fn builder_archive_is_indexed_exactly() {
        let mut b = initrd::Builder::new();
        b.file("/bin/hello.wasm", b"\0asm\x01\0\0\0")
            .file("/bin/init.wasm", b"init")
            .file("/etc/motd", b"welcome to atoll\n")
            .file("/empty", b"")
            .dir("/tmp");
        let fs = InitrdFs::new(leak(b.finish()), 9).unwrap();
        assert!(fs.is_read_only());
        assert_eq!(fs.dev(), 9);
        assert_eq!(fs.len(), 8);
        let root = fs.root();
        assert_eq!(
            names(&fs, root),
            [
                ("bin".into(), FileKind::Directory),
                ("empty".into(), FileKind::File),
                ("etc".into(), FileKind::Directory),
                ("tmp".into(), FileKind::Directory),
            ]
        );
        let bin = fs.lookup(root, "bin").unwrap();
        assert_eq!(
            names(&fs, bin),
            [
                ("hello.wasm".into(), FileKind::File),
                ("init.wasm".into(), FileKind::File)
            ]
        );
        let st = fs.stat(bin).unwrap();
        assert_eq!(
            (st.kind, st.size, st.nlink, st.ino),
            (FileKind::Directory, 2, 2, bin)
        );
        assert_eq!(fs.stat(root).unwrap().nlink, 5);
        let motd = walk(&fs, "etc/motd").unwrap();
        let st = fs.stat(motd).unwrap();
        assert_eq!((st.kind, st.size, st.nlink), (FileKind::File, 17, 1));
        let mut buf = [0u8; 32];
        let motd_h = fs.open(motd, Access::default()).unwrap();
        assert_eq!(fs.read(motd_h, 0, &mut buf), Ok(17));
        assert_eq!(&buf[..17], b"welcome to atoll\n");
        assert_eq!(fs.read(motd_h, 11, &mut buf[..3]), Ok(3));
        assert_eq!(&buf[..3], b"ato");
        assert_eq!(fs.read(motd_h, 17, &mut buf), Ok(0));
        assert_eq!(fs.read(motd_h, u64::MAX, &mut buf), Ok(0));
        let empty = fs.open(walk(&fs, "empty").unwrap(), Access::default());
        assert_eq!(fs.read(empty.unwrap(), 0, &mut buf), Ok(0));
        // Errors are exact.
        assert_eq!(fs.lookup(root, "nope"), Err(Errno::Noent));
        assert_eq!(fs.lookup(motd, "x"), Err(Errno::Notdir));
        let bin_h = fs.open(bin, Access::default()).unwrap();
        assert_eq!(fs.read(bin_h, 0, &mut buf), Err(Errno::Isdir));
        let mut out = Vec::new();
        assert_eq!(fs.read_dir(motd_h, 0, 99, &mut out), Err(Errno::Notdir));
        assert_eq!(fs.read_dir(bin_h, 2, 99, &mut out), Ok(true));
        assert_eq!(fs.read_dir(bin_h, u64::MAX, 99, &mut out), Ok(true));
        assert!(out.is_empty());
        let rw = Access {
            read: true,
            write: true,
        };
        assert_eq!(fs.open(motd, rw), Err(Errno::Rofs));
        assert_eq!(fs.open(bin, rw), Err(Errno::Isdir));
        for bad in [0, 99, u64::MAX] {
            assert_eq!(fs.stat(bad), Err(Errno::Noent));
            assert_eq!(fs.lookup(bad, "bin"), Err(Errno::Noent));
        }
        // Every mutation is refused, and nothing changed.
        assert_eq!(fs.write(motd_h, 0, b"x"), Err(Errno::Badf));
        assert_eq!(fs.set_len(motd_h, 0), Err(Errno::Inval));
        assert_eq!(
            fs.set_times(motd, SetTime::Now, SetTime::Omit),
            Err(Errno::Rofs)
        );
        assert_eq!(fs.create_file(root, "new", rw), Err(Errno::Rofs));
        assert_eq!(fs.symlink(root, "new", "x"), Err(Errno::Rofs));
        assert_eq!(fs.link(motd, root, "new"), Err(Errno::Rofs));
        assert_eq!(fs.create_dir(root, "new"), Err(Errno::Rofs));
        assert_eq!(
            fs.unlink(walk(&fs, "etc").unwrap(), "motd"),
            Err(Errno::Rofs)
        );
        assert_eq!(fs.remove_dir(root, "tmp"), Err(Errno::Rofs));
        assert_eq!(fs.rename(root, "empty", root, "full"), Err(Errno::Rofs));
        assert_eq!(fs.stat(motd).unwrap().size, 17);
        assert_eq!(fs.len(), 8);
    }

    #[test]
    fn implied_directories_names_and_mtimes() {
        // Only files, with `./` and `/` prefixes and doubled slashes, as other cpio writers do.
        let fs = InitrdFs::new(
            raw(&[
                ("./a/b/c.txt", REG, b"c"),
                ("/a//d.txt", REG, b"dd"),
                (".", DIR, b""),
                ("a/./b/e", REG, b"e"),
                ("./link", 0o120777, b"a/d.txt"),
            ]),
            1,
        )
        .unwrap();
        let a = walk(&fs, "a").unwrap();
        assert_eq!(fs.stat(a).unwrap().kind, FileKind::Directory);
        // Implied directories have no time; entries carry theirs in nanoseconds.
        assert_eq!(fs.stat(a).unwrap().mtime, 0);
        let c = walk(&fs, "a/b/c.txt").unwrap();
        assert_eq!(fs.stat(c).unwrap().mtime, 1_700_000_000 * 1_000_000_000);
        assert_eq!(names(&fs, walk(&fs, "a/b").unwrap()).len(), 2);
        assert_eq!(fs.stat(walk(&fs, "a/d.txt").unwrap()).unwrap().size, 2);
        // The symbolic link is served as one, with its target.
        let link = fs.lookup(fs.root(), "link").unwrap();
        assert_eq!(fs.readlink(link).as_deref(), Ok("a/d.txt"));
        assert_eq!(fs.stat(link).unwrap().size, 7);
        assert_eq!(fs.readlink(a), Err(Errno::Inval));
        assert_eq!(fs.open(link, Access::default()), Err(Errno::Loop));
        assert_eq!(
            names(&fs, fs.root()),
            [
                ("a".into(), FileKind::Directory),
                ("link".into(), FileKind::SymbolicLink)
            ]
        );
    }

    #[test]
    fn later_entries_replace_files_and_merge_directories() {
        let fs = InitrdFs::new(
            raw(&[
                ("d", DIR, b""),
                ("d/f", REG, b"old"),
                ("d", DIR, b""),
                ("d/f", REG, b"new!"),
            ]),
            1,
        )
        .unwrap();
        let f = walk(&fs, "d/f").unwrap();
        let mut buf = [0u8; 8];
        let h = fs.open(f, Access::default()).unwrap();
        assert_eq!(fs.read(h, 0, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"new!");
        assert_eq!(names(&fs, walk(&fs, "d").unwrap()).len(), 1);
        assert_eq!(fs.len(), 3);
    }

    #[test]
    fn malformed_archives_are_errors() {
        let long = "x".repeat(256);
        let cases: Vec<(&'static [u8], InitrdFsError)> = vec![
            (
                leak(Vec::new()),
                InitrdFsError::Archive(initrd::Error::MissingTrailer { offset: 0 }),
            ),
            (
                leak(b"070701zz".to_vec()),
                InitrdFsError::Archive(initrd::Error::Truncated { offset: 0 }),
            ),
            (
                raw(&[("a/../etc", REG, b"")]),
                InitrdFsError::BadPath("a/../etc".into()),
            ),
            (
                raw(&[(&long, REG, b"")]),
                InitrdFsError::BadPath(long.clone()),
            ),
            (
                raw(&[("a", REG, b""), ("a/b", REG, b"")]),
                InitrdFsError::Conflict("a/b".into()),
            ),
            (
                raw(&[("a", DIR, b""), ("a", REG, b"")]),
                InitrdFsError::Conflict("a".into()),
            ),
            (
                raw(&[("a", REG, b""), ("a", DIR, b"")]),
                InitrdFsError::Conflict("a".into()),
            ),
            (raw(&[(".", REG, b"")]), InitrdFsError::Conflict("".into())),
        ];
        for (image, want) in cases {
            let got = InitrdFs::new(image, 1).err();
            assert_eq!(got.as_ref(), Some(&want));
            assert!(!format!("{want}").is_empty());
        }
        // A truncated copy of a good archive is refused wherever it is cut.
        let mut b = initrd::Builder::new();
        b.file("/bin/x.wasm", b"0123456789");
        let good = b.finish();
        for cut in 0..good.len() - 1 {
            assert!(
                InitrdFs::new(leak(good[..cut].to_vec()), 1).is_err(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut b = initrd::Builder::new();
        b.file("/bin/a.wasm", b"abc").file("/etc/b", b"0123456789");
        let base = b.finish();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut data = base.clone();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % data.len();
                data[i] = (seed >> 40) as u8;
            }
            if let Ok(fs) = InitrdFs::new(leak(data), 1) {
                // Whatever it accepted is a consistent tree.
                for ino in 1..=fs.len() as Ino {
                    let st = fs.stat(ino).unwrap();
                    if st.kind == FileKind::Directory {
                        for e in names(&fs, ino) {
                            assert_eq!(
                                fs.lookup(ino, &e.0).map(|i| fs.stat(i).unwrap().kind),
                                Ok(e.1)
                            );
                        }
                    }
                }
            }
        }
    }
}
