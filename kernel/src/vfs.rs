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
use wasi_p1::{FileSystem, InitrdFs, MemFs, SubdirFs};

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
    m.sort_by_key(|(point, _)| core::cmp::Reverse(point.len()));
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
    Ok(Arc::new(SubdirFs::new(fs, ino)))
}
