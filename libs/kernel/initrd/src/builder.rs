//! Writing cpio newc archives (feature `alloc`): what `build/` packs the
//! initrd with, and what tests build archives with.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::{S_IFDIR, S_IFREG, TRAILER};

/// Builds an archive. Parent directories of every file are added
/// automatically, each once, before the file; paths are stored without a
/// leading `/`.
#[derive(Debug, Default)]
pub struct Builder {
    out: Vec<u8>,
    dirs: BTreeSet<String>,
    next_ino: u32,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a regular file (mode 0644) at `path`, e.g. `/bin/hello.wasm`.
    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        let path = crate::normalize(path);
        self.parents(path);
        self.entry(path, S_IFREG | 0o644, data);
        self
    }

    /// Adds a directory (mode 0755) at `path`, and its parents.
    pub fn dir(&mut self, path: &str) -> &mut Self {
        let path = crate::normalize(path);
        self.parents(path);
        self.add_dir(path);
        self
    }

    /// Ends the archive with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry(TRAILER, 0, &[]);
        self.out
    }

    fn parents(&mut self, path: &str) {
        for (i, c) in path.char_indices() {
            if c == '/' {
                self.add_dir(&path[..i]);
            }
        }
    }

    fn add_dir(&mut self, path: &str) {
        if !path.is_empty() && self.dirs.insert(path.into()) {
            self.entry(path, S_IFDIR | 0o755, &[]);
        }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.next_ino += 1;
        let nlink = if mode & crate::S_IFMT == S_IFDIR {
            2
        } else {
            1
        };
        let fields = [
            self.next_ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            0, // rdevmajor
            0, // rdevminor
            name.len() as u32 + 1,
            0, // check
        ];
        let mut header = String::with_capacity(crate::HEADER_LEN);
        header.push_str("070701");
        for f in fields {
            // Writing to a String cannot fail.
            let _ = write!(header, "{f:08x}");
        }
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Archive;

    #[test]
    fn round_trips_files_and_parents() {
        let mut b = Builder::new();
        b.file("/bin/hello.wasm", b"\0asm\x01\0\0\0")
            .file("bin/init.wasm", b"x")
            .dir("/tmp")
            .file("/etc/motd", b"hi\n");
        let bytes = b.finish();
        let a = Archive::new(&bytes);
        assert_eq!(a.validate(), Ok(6));
        let paths: Vec<_> = a.entries().map(|e| e.unwrap().path()).collect();
        assert_eq!(
            paths,
            [
                "bin",
                "bin/hello.wasm",
                "bin/init.wasm",
                "tmp",
                "etc",
                "etc/motd"
            ]
        );
        assert_eq!(a.find("/etc/motd").unwrap().unwrap().data, b"hi\n");
        assert!(a.find("bin").unwrap().unwrap().is_dir());
        assert!(a.find("bin/init.wasm").unwrap().unwrap().is_file());
    }

    #[test]
    fn empty_archive_is_valid() {
        let bytes = Builder::new().finish();
        assert_eq!(Archive::new(&bytes).validate(), Ok(0));
    }
}
