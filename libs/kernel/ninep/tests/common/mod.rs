//! A share for the `NinepFs` tests: a temporary host directory served by the in-process
//! server and mounted through the loopback transport, exactly the client code the kernel
//! runs.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ninep::server::{Loopback, Server, ServerOptions};
use ninep::{MountOptions, NinepFs};
use wasi_p1::fs::{Access, FileSystem, Handle, Ino};

pub struct Share {
    pub dir: tempfile::TempDir,
    pub server: Arc<Server>,
    pub fs: NinepFs<Loopback>,
}

pub const RW: Access = Access {
    read: true,
    write: true,
};
pub const RO: Access = Access {
    read: true,
    write: false,
};
pub const WO: Access = Access {
    read: false,
    write: true,
};

pub fn share() -> Share {
    share_with(
        ServerOptions::default(),
        MountOptions {
            dev: 7,
            ..MountOptions::default()
        },
    )
}

pub fn share_with(server: ServerOptions, mount: MountOptions) -> Share {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::new(dir.path(), server).unwrap());
    let fs = NinepFs::mount_with(Loopback::new(server.clone()), mount).unwrap();
    Share { dir, server, fs }
}

impl Share {
    /// A path on the host side of the share.
    pub fn host(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn root(&self) -> Ino {
        self.fs.root()
    }

    /// Looks up a `/`-separated path from the root.
    pub fn path(&self, rel: &str) -> Result<Ino, wasi_p1::Errno> {
        let mut ino = self.fs.root();
        for c in rel.split('/').filter(|c| !c.is_empty()) {
            ino = self.fs.lookup(ino, c)?;
        }
        Ok(ino)
    }

    /// Creates `name` in the root with `data`, through the client.
    pub fn create(&self, name: &str, data: &[u8]) -> (Ino, Handle) {
        let (ino, h) = self.fs.create_file(self.root(), name, RW).unwrap();
        assert_eq!(self.fs.write(h, 0, data).unwrap(), data.len());
        (ino, h)
    }

    /// All of a file's bytes, through an open handle.
    pub fn read_all(&self, h: Handle) -> Vec<u8> {
        let mut out = vec![0u8; self.fs.fstat(h).unwrap().size as usize + 16];
        let n = self.fs.read(h, 0, &mut out).unwrap();
        out.truncate(n);
        out
    }

    /// The names of a directory listing, sorted.
    pub fn list(&self, dir: Ino) -> Vec<String> {
        let h = self.fs.open(dir, RO).unwrap();
        let mut out = Vec::new();
        let mut cookie = 0;
        loop {
            let mut chunk = Vec::new();
            let end = self.fs.read_dir(h, cookie, 4096, &mut chunk).unwrap();
            if let Some(last) = chunk.last() {
                cookie = last.next;
            }
            out.extend(chunk.into_iter().map(|e| e.name));
            if end {
                break;
            }
        }
        self.fs.close(h);
        out.sort();
        out
    }
}

/// The host's inode number of a path (what `qid.path` carries).
pub fn host_ino(p: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().ino()
}
