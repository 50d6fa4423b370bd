//! Path resolution inside one directory capability, as cap-std does it for wasmtime.
//!
//! A path is resolved from a directory fd and may never leave it: an absolute path, a `..`
//! above the fd's directory, or a symbolic link whose target is absolute or climbs above it
//! is [`Errno::Perm`] (cap-std's "a path led outside of the filesystem", which wasmtime
//! reports as `EPERM`). Symbolic links are followed in the middle of a path always and at its
//! end when asked to or when the path ends in `/`; more than [`MAX_SYMLINK_EXPANSIONS`]
//! expansions in one resolution is [`Errno::Loop`]. A trailing `/` requires a directory.

use alloc::string::String;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::fs::{FileKind, FileSystem, Ino};

/// Symbolic links one resolution may expand (cap-std's `MAX_SYMLINK_EXPANSIONS`).
pub const MAX_SYMLINK_EXPANSIONS: u32 = 40;

/// Longest path a guest may pass (Linux's `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// A location: the directories from the fd's directory down, ending in the object itself.
/// `loc[0]` is the fd's directory; popping past it is an escape.
pub type Loc = Vec<Ino>;

/// The last component of a path, not yet resolved, and the directory it is in.
pub struct Parent {
    pub loc: Loc,
    /// A single component; may be `.` or `..`.
    pub name: String,
    /// The path ended in `/` (after any link expansion): the object must be a directory.
    pub dir_only: bool,
}

impl Parent {
    /// The directory the last component is looked up in.
    pub fn dir(&self) -> Ino {
        self.loc.last().copied().unwrap_or(0)
    }

    /// Whether the directory is the fd's own (so `..` from here escapes).
    pub fn at_top(&self) -> bool {
        self.loc.len() <= 1
    }
}

/// One resolution: the tree and the symbolic links expanded so far.
pub struct Walk<'a> {
    pub fs: &'a dyn FileSystem,
    links: u32,
}

impl<'a> Walk<'a> {
    pub fn new(fs: &'a dyn FileSystem) -> Walk<'a> {
        Walk { fs, links: 0 }
    }

    fn kind(&self, ino: Ino) -> Result<FileKind, Errno> {
        Ok(self.fs.stat(ino)?.kind)
    }

    /// The target of symbolic link `ino`, counted against the expansion limit.
    pub fn expand(&mut self, ino: Ino) -> Result<String, Errno> {
        self.links += 1;
        if self.links > MAX_SYMLINK_EXPANSIONS {
            return Err(Errno::Loop);
        }
        self.fs.readlink(ino)
    }

    /// Steps from `loc` into component `name`, following a symbolic link if `follow`.
    fn enter(&mut self, loc: &mut Loc, name: &str, follow: bool) -> Result<(), Errno> {
        match name {
            "." => Ok(()),
            ".." => {
                if loc.len() <= 1 {
                    return Err(Errno::Perm);
                }
                loc.pop();
                Ok(())
            }
            _ => {
                let dir = loc.last().copied().ok_or(Errno::Badf)?;
                let ino = self.fs.lookup(dir, name)?;
                if follow && self.kind(ino)? == FileKind::SymbolicLink {
                    let target = self.expand(ino)?;
                    self.path(loc, &target, true)
                } else {
                    loc.push(ino);
                    Ok(())
                }
            }
        }
    }

    /// Splits `path` after checking it may be resolved at all; returns its components and
    /// whether it ends in `/`.
    fn split(path: &str) -> Result<(Vec<&str>, bool), Errno> {
        if path.is_empty() {
            return Err(Errno::Noent);
        }
        if path.starts_with('/') {
            return Err(Errno::Perm);
        }
        if path.len() > PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        if path.contains('\0') {
            return Err(Errno::Inval);
        }
        let comps = path.split('/').filter(|c| !c.is_empty()).collect();
        Ok((comps, path.ends_with('/')))
    }

    /// Resolves all of `path` from the directory at the end of `loc`, which then ends in the
    /// object. The last component is followed if it is a link and `follow` is set or the
    /// path ends in `/`.
    pub fn path(&mut self, loc: &mut Loc, path: &str, follow: bool) -> Result<(), Errno> {
        let (comps, dir_only) = Self::split(path)?;
        let n = comps.len();
        for (i, c) in comps.into_iter().enumerate() {
            let last = i + 1 == n;
            self.enter(loc, c, !last || follow || dir_only)?;
            if (!last || dir_only)
                && self.kind(loc.last().copied().unwrap_or(0))? != FileKind::Directory
            {
                return Err(Errno::Notdir);
            }
        }
        Ok(())
    }

    /// Resolves all but the last component of `path` from the directory at the end of `loc`.
    pub fn parent(&mut self, mut loc: Loc, path: &str) -> Result<Parent, Errno> {
        let (comps, dir_only) = Self::split(path)?;
        let Some((last, init)) = comps.split_last() else {
            // Only slashes, which `split` refused as absolute.
            return Err(Errno::Perm);
        };
        for c in init {
            self.enter(&mut loc, c, true)?;
            if self.kind(loc.last().copied().unwrap_or(0))? != FileKind::Directory {
                return Err(Errno::Notdir);
            }
        }
        Ok(Parent {
            loc,
            name: String::from(*last),
            dir_only,
        })
    }

    /// The object a [`Parent`]'s last component names, following a final symbolic link if
    /// `follow` is set or the path ended in `/`; the location ends in it.
    pub fn last(&mut self, p: &Parent, follow: bool) -> Result<Loc, Errno> {
        let mut loc = p.loc.clone();
        self.enter(&mut loc, &p.name, follow || p.dir_only)?;
        if p.dir_only && self.kind(loc.last().copied().unwrap_or(0))? != FileKind::Directory {
            return Err(Errno::Notdir);
        }
        Ok(loc)
    }
}
