//! The file system seam: the interface a preopened directory is backed by.
//!
//! Path resolution (components, `.` and `..`, following symbolic links, staying inside the
//! preopen), fds, rights and offsets live in the WASI layer. A [`FileSystem`] names objects by
//! [`Ino`] inside one tree, and gives out [`Handle`]s for open objects, as a real VFS does:
//! a regular file is read and written only through a handle, and a directory is listed only
//! through one, so an open file keeps working after it is unlinked or renamed (9P opens a fid
//! on the host, a RAM tree keeps the inode alive). Methods take `&self` so one tree can be
//! shared (one read-only tree from the initrd for every process, one `/tmp` RAM tree, one
//! 9P share per host directory).
//!
//! Errors use WASI errnos directly, with the meaning Linux gives them (`Noent`, `Notdir`,
//! `Isdir`, `Exist`, `Notempty`, `Rofs`, `Nospc`, `Fbig`, `Inval`, `Loop`, `Mlink`, `Xdev`,
//! `Perm`, `Acces`, `Io`, ...): a backend over a host (9P) passes the host's answer through,
//! and a RAM backend gives the answer Linux would.

use alloc::string::String;
use alloc::vec::Vec;

use crate::errno::Errno;

/// An inode number, unique within one [`FileSystem`] (hard links share it).
pub type Ino = u64;

/// An open file or directory, from [`FileSystem::open`] or [`FileSystem::create_file`];
/// valid until passed to [`FileSystem::close`].
pub type Handle = u64;

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Directory,
    SymbolicLink,
    CharacterDevice,
    BlockDevice,
    /// A Unix socket.
    Socket,
    /// A FIFO or anything else WASI has no file type for.
    Unknown,
}

/// What `stat` reports. Times are nanoseconds since the Unix epoch (0 if unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub ino: Ino,
    pub kind: FileKind,
    /// Bytes (for a symbolic link: the length of its target).
    pub size: u64,
    pub nlink: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub ino: Ino,
    pub kind: FileKind,
    /// The cookie that continues the listing after this entry (see [`FileSystem::read_dir`]).
    pub next: u64,
}

/// A new value for one timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it as it is.
    Omit,
    /// The backend's current time (the host's, for a host directory).
    Now,
    /// Nanoseconds since the Unix epoch.
    At(u64),
}

/// How a file is opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub read: bool,
    pub write: bool,
}

/// A tree of files, directories and symbolic links.
///
/// Names passed in are single components: never empty, `.`, `..`, or containing `/` or NUL.
/// Nothing here follows a symbolic link: [`lookup`](Self::lookup) of a link's name gives the
/// link itself, and the WASI layer reads it with [`readlink`](Self::readlink).
pub trait FileSystem: Send + Sync {
    /// A device number for `filestat.dev`; distinct per mounted tree.
    fn dev(&self) -> u64;
    /// The root directory.
    fn root(&self) -> Ino;
    /// Whether every mutating method fails with [`Errno::Rofs`].
    fn is_read_only(&self) -> bool;

    // ---- names ----------------------------------------------------------------------

    /// Finds `name` in directory `dir`, without following a symbolic link.
    fn lookup(&self, dir: Ino, name: &str) -> Result<Ino, Errno>;
    fn stat(&self, ino: Ino) -> Result<Stat, Errno>;
    /// Sets the access and modification times of `ino` (a symbolic link's own times).
    fn set_times(&self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<(), Errno>;
    /// The target of the symbolic link `ino`; [`Errno::Inval`] if it is not one.
    fn readlink(&self, ino: Ino) -> Result<String, Errno>;

    /// Creates and opens an empty regular file `name` in `dir`, failing with
    /// [`Errno::Exist`] if the name is taken (by anything, a dangling link included).
    fn create_file(&self, dir: Ino, name: &str, access: Access) -> Result<(Ino, Handle), Errno>;
    /// Creates an empty directory `name` in `dir`; [`Errno::Exist`] if the name is taken.
    fn create_dir(&self, dir: Ino, name: &str) -> Result<Ino, Errno>;
    /// Creates a symbolic link `name` in `dir` pointing at `target` (stored as given).
    fn symlink(&self, dir: Ino, name: &str, target: &str) -> Result<Ino, Errno>;
    /// Adds the name `name` in `dir` for the existing non-directory `ino` (a hard link).
    fn link(&self, ino: Ino, dir: Ino, name: &str) -> Result<(), Errno>;
    /// Removes the non-directory `name` from `dir` ([`Errno::Isdir`] for a directory).
    fn unlink(&self, dir: Ino, name: &str) -> Result<(), Errno>;
    /// Removes the empty directory `name` from `dir` ([`Errno::Notdir`] if it is not one).
    fn remove_dir(&self, dir: Ino, name: &str) -> Result<(), Errno>;
    /// Moves `from_dir/from_name` to `to_dir/to_name` with POSIX `renameat` rules: a file
    /// replaces a file, a directory replaces an empty directory, and moving a directory
    /// into itself is [`Errno::Inval`].
    fn rename(
        &self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), Errno>;

    // ---- open objects -----------------------------------------------------------------

    /// Opens a regular file or directory (`access.write` only for a regular file).
    fn open(&self, ino: Ino, access: Access) -> Result<Handle, Errno>;
    /// Releases a handle. The object lives on while other handles or names refer to it.
    fn close(&self, handle: Handle);
    /// `stat` of an open object (which may no longer have a name).
    fn fstat(&self, handle: Handle) -> Result<Stat, Errno>;
    /// Sets the times of an open object.
    fn fset_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> Result<(), Errno>;
    /// Reads from a file at `offset`; short reads only at end of file.
    fn read(&self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes to a file at `offset`, growing it as needed (holes read as zeros). May write
    /// less than all of `data`; a backend writes all of it unless it runs out of space.
    fn write(&self, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno>;
    /// Truncates or zero-extends a file.
    fn set_len(&self, handle: Handle, len: u64) -> Result<(), Errno>;
    /// Makes the file's data (and with `!data_only`, its metadata) durable.
    fn sync(&self, handle: Handle, data_only: bool) -> Result<(), Errno>;
    /// Lists a directory from `cookie` on (0: from the start), appending entries to `out`
    /// (never `.` or `..`) until about `max_bytes` of names are added or the end is reached.
    /// Each entry's `next` continues after it; cookies are below `u64::MAX - 2`, so the WASI
    /// layer can put its own `.` and `..` in front. Returns `true` at the end of the listing.
    fn read_dir(
        &self,
        handle: Handle,
        cookie: u64,
        max_bytes: usize,
        out: &mut Vec<DirEntry>,
    ) -> Result<bool, Errno>;
}
