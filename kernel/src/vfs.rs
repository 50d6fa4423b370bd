//! The system tree: what an absolute path names. `/` is the initrd (read-only), `/tmp` a RAM
//! tree shared by every process, and each host directory shared over virtio-9p is mounted at
//! `/mnt/<tag>`, or where a boot argument `mount=TAG:PATH` says (`just run` mounts its home
//! share at `/home`). A preopen of any directory below a mount is that directory seen as a
//! tree of its own ([`SubdirFs`]).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::{Once, RwLock};
use wasi_p1::fs::{Access, Handle, SetTime};
use wasi_p1::{DirEntry, Errno, FileSystem, InitrdFs, Ino, MemFs, Stat};

use crate::drivers::virtio;

/// `filestat.dev` of the trees: the initrd, `/tmp`, then the shares in order.
const ROOT_DEV: u64 = 1;
const TMP_DEV: u64 = 2;
const FIRST_SHARE_DEV: u64 = 3;

/// Mount points, longest first.
static MOUNTS: RwLock<Vec<(String, Arc<dyn FileSystem>)>> = RwLock::new(Vec::new());
static MOUNTED: Once<()> = Once::new();

/// Mounts `/`, `/tmp` and every 9P share (once; later calls return at once). Needs interrupts
/// and the scheduler: 9P requests block until the host answers.
pub fn init() {
    MOUNTED.call_once(|| {
        mount("/", root_fs());
        let tmp = MemFs::new(TMP_DEV)
            .with_clock(Arc::new(crate::proc::host::KernelClock))
            .with_capacity(64 << 20);
        mount("/tmp", Arc::new(tmp));
        for (i, share) in virtio::shares().iter().enumerate() {
            let options = ninep::MountOptions {
                dev: FIRST_SHARE_DEV + i as u64,
                msize: virtio::p9::MSIZE as u32,
                ..Default::default()
            };
            let point = mount_point(share.tag());
            match ninep::NinepFs::mount_with(share, options) {
                Ok(fs) => {
                    let ro = if fs.is_read_only() {
                        " (read-only)"
                    } else {
                        ""
                    };
                    crate::info!("9P share `{}` at {point}{ro}", share.tag());
                    mount(&point, Arc::new(fs));
                }
                Err(e) => crate::warn!("9P share `{}`: cannot mount: {e:?}", share.tag()),
            }
        }
    });
}

/// Where the share tagged `tag` goes: a `mount=TAG:PATH` boot argument, else `/mnt/<tag>`.
fn mount_point(tag: &str) -> String {
    let cmdline = crate::boot_info_opt().map_or("", |bi| bi.cmdline());
    cmdline
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("mount="))
        .filter_map(|m| m.split_once(':'))
        .find(|(t, path)| *t == tag && path.starts_with('/'))
        .map_or_else(|| format!("/mnt/{tag}"), |(_, path)| path.to_string())
}

fn mount(point: &str, fs: Arc<dyn FileSystem>) {
    let mut m = MOUNTS.write();
    m.retain(|(p, _)| p != point);
    m.push((point.to_string(), fs));
    m.sort_by(|a, b| b.0.len().cmp(&a.0.len()));
}

/// The initrd as a read-only tree (empty without an initrd).
fn root_fs() -> Arc<dyn FileSystem> {
    let tree = crate::initrd::archive().map(|a| InitrdFs::from_archive(a, ROOT_DEV));
    match tree {
        Some(Ok(fs)) => Arc::new(fs),
        other => {
            if let Some(Err(e)) = other {
                crate::warn!("initrd: not usable as the file tree: {e}");
            }
            let empty = MemFs::new(ROOT_DEV);
            empty.set_read_only(true);
            Arc::new(empty)
        }
    }
}

/// The mount that holds `path` and the rest of the path inside it.
fn find_mount(path: &str) -> Option<(Arc<dyn FileSystem>, String)> {
    let m = MOUNTS.read();
    m.iter().find_map(|(point, fs)| {
        let rest = if point == "/" {
            Some(path)
        } else {
            path.strip_prefix(point.as_str())
                .filter(|r| r.is_empty() || r.starts_with('/'))
        }?;
        Some((fs.clone(), rest.to_string()))
    })
}

/// The directory at system path `path`, as a tree of its own.
pub fn open_dir(path: &str) -> Result<Arc<dyn FileSystem>, String> {
    if !path.starts_with('/') {
        return Err(format!("{path}: not an absolute path"));
    }
    init();
    let (fs, rest) = find_mount(path).ok_or_else(|| format!("{path}: nothing is mounted"))?;
    let mut ino = fs.root();
    for comp in rest.split('/').filter(|c| !c.is_empty() && *c != ".") {
        ino = fs.lookup(ino, comp).map_err(|e| format!("{path}: {e:?}"))?;
    }
    let st = fs.stat(ino).map_err(|e| format!("{path}: {e:?}"))?;
    if st.kind != wasi_p1::FileKind::Directory {
        return Err(format!("{path}: not a directory"));
    }
    if ino == fs.root() {
        return Ok(fs);
    }
    Ok(Arc::new(SubdirFs {
        inner: fs,
        root: ino,
    }))
}

/// A directory of another tree, seen as the root of its own.
struct SubdirFs {
    inner: Arc<dyn FileSystem>,
    root: Ino,
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
