//! [`SubdirFs`]: a directory of a tree seen as a tree of its own, for a preopen of a
//! directory below a mount (a 9P export holds several preopens that share one host file
//! system, so that renames and links between them work as on the host).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::fs::{Access, DirEntry, FileSystem, Handle, Ino, SetTime, Stat};

/// A directory of another tree, seen as the root of its own.
///
/// Everything is the inner tree's (its device number too, so [`crate::calls`] treats two
/// subdirectories of one tree as one tree); only [`FileSystem::root`] differs. Path
/// resolution never climbs above a preopen's root, so nothing outside the directory is
/// reached.
pub struct SubdirFs {
    inner: Arc<dyn FileSystem>,
    root: Ino,
}

impl SubdirFs {
    /// Directory `root` of `inner` as a tree of its own.
    pub fn new(inner: Arc<dyn FileSystem>, root: Ino) -> SubdirFs {
        SubdirFs { inner, root }
    }
}

impl FileSystem for SubdirFs {
    fn dev(&self) -> u64 {
        self.inner.dev()
    }
    fn root(&self) -> Ino {
        self.root
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.inner.lookup(dir, name)
    }
    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        self.inner.stat(ino)
    }
    fn set_times(&self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.inner.set_times(ino, atime, mtime)
    }
    fn readlink(&self, ino: Ino) -> Result<String, Errno> {
        self.inner.readlink(ino)
    }
    fn create_file(&self, dir: Ino, name: &str, access: Access) -> Result<(Ino, Handle), Errno> {
        self.inner.create_file(dir, name, access)
    }
    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno> {
        self.inner.create_dir(dir, name)
    }
    fn symlink(&self, dir: Ino, name: &str, target: &str) -> Result<Ino, Errno> {
        self.inner.symlink(dir, name, target)
    }
    fn link(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.link(ino, dir, name)
    }
    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.unlink(dir, name)
    }
    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno> {
        self.inner.remove_dir(dir, name)
    }
    fn rename(&self, from_dir: Ino, from: &str, to_dir: Ino, to: &str) -> Result<(), Errno> {
        self.inner.rename(from_dir, from, to_dir, to)
    }
    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno> {
        self.inner.open(ino, access)
    }
    fn close(&self, handle: Handle) {
        self.inner.close(handle)
    }
    fn fstat(&self, handle: Handle) -> Result<Stat, Errno> {
        self.inner.fstat(handle)
    }
    fn fset_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> Result<(), Errno> {
        self.inner.fset_times(handle, atime, mtime)
    }
    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.inner.read(handle, offset, buf)
    }
    fn write(&self, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.inner.write(handle, offset, data)
    }
    fn set_len(&self, handle: Handle, len: u64) -> Result<(), Errno> {
        self.inner.set_len(handle, len)
    }
    fn sync(&self, handle: Handle, data_only: bool) -> Result<(), Errno> {
        self.inner.sync(handle, data_only)
    }
    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno> {
        self.inner.read_dir(handle, cookie, max_bytes, out)
    }
}
