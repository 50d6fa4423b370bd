//! The file system seam: an inode-level interface that a preopened directory is backed by.
//!
//! Path resolution, fds, rights and offsets live in the WASI layer; a [`FileSystem`] only
//! names objects by [`Ino`] inside one tree. Methods take `&self` so a tree can be shared
//! (e.g. one read-only tree from the initrd for every process, one `/tmp` RAM fs).

use alloc::string::String;

use crate::errno::Errno;

/// An inode number, unique within one [`FileSystem`].
pub type Ino = u64;

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Directory,
}

/// What `stat` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub ino: Ino,
    pub kind: FileKind,
    pub size: u64,
    pub nlink: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 if unknown).
    pub mtime: u64,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub ino: Ino,
    pub kind: FileKind,
}

/// A tree of files and directories.
///
/// Errors use WASI errnos directly: `Noent`, `Notdir`, `Isdir`, `Exist`, `Notempty`, `Rofs`,
/// `Nospc`, `Fbig`, `Inval`.
pub trait FileSystem: Send + Sync {
    /// A device number for `filestat.dev`; distinct per mounted tree.
    fn dev(&self) -> u64;
    /// The root directory.
    fn root(&self) -> Ino;
    /// Whether every mutating method fails with [`Errno::Rofs`].
    fn is_read_only(&self) -> bool;

    /// Finds `name` (a single component, never `.`, `..` or containing `/`) in directory `dir`.
    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno>;
    fn stat(&self, ino: Ino) -> Result<Stat, Errno>;
    /// Reads from a file at `offset`; short reads only at end of file.
    fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// The `index`-th entry of a directory (without `.` and `..`), `None` past the end.
    /// Indices are stable as long as the directory is not modified.
    fn read_dir(&self, dir: Ino, index: u64) -> Result<Option<DirEntry>, Errno>;

    /// Writes to a file at `offset`, growing it as needed (holes read as zeros).
    fn write(&self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize, Errno>;
    /// Truncates or zero-extends a file.
    fn set_len(&self, ino: Ino, len: u64) -> Result<(), Errno>;
    /// Creates an empty file `name` in `dir`; [`Errno::Exist`] if the name is taken.
    fn create_file(&self, dir: Ino, name: &str) -> Result<Ino, Errno>;
    /// Creates an empty directory `name` in `dir`; [`Errno::Exist`] if the name is taken.
    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno>;
    /// Removes the file `name` from `dir`; [`Errno::Isdir`] for a directory.
    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno>;
    /// Removes the empty directory `name` from `dir`; [`Errno::Notdir`] for a file.
    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno>;
    /// Moves `from_dir/from_name` to `to_dir/to_name`, replacing a file there.
    fn rename(
        &self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), Errno>;
}
