//! `--dir` preopens as atoll mounts them: host directories exported over 9P (here an
//! in-process `ninep::server` per export instead of QEMU's virtio-9p), mounted with
//! `ninep::NinepFs`, the kernel's client. As `xtask exec` exports them for QEMU, preopens on one
//! host file system and of one kind (read-write or read-only) share one export rooted at their
//! deepest common ancestor, and each is that export's subdirectory seen as a tree of its own
//! (`wasi_p1::SubdirFs`, as the kernel opens a preopen below a mount): so renames and links
//! between two preopens work as under `wasmtime run`, and anything else is `EXDEV`.

use std::path::Path;
use std::sync::Arc;

use ninep::server::ServerOptions;
use wasi_p1::{FileKind, FileSystem, SubdirFs};

use crate::options::Dir;

/// `filestat.dev` of the first export (the kernel's numbering: 1 is its initrd, 2 its `/tmp`).
const FIRST_EXPORT_DEV: u64 = 3;

/// Serves and mounts every export, then opens each preopen in its export: one tree per `dirs`
/// entry, in order.
pub fn mount_all(dirs: &[Dir]) -> Result<Vec<Arc<dyn FileSystem>>, String> {
    let wanted: Vec<share_plan::Dir> = dirs
        .iter()
        .map(|d| share_plan::Dir {
            host: d.host.clone(),
            read_only: d.read_only,
        })
        .collect();
    let (exports, placed) = share_plan::plan(&wanted)?;
    let mut mounted: Vec<Arc<dyn FileSystem>> = Vec::new();
    for (i, e) in exports.iter().enumerate() {
        let server = ServerOptions {
            read_only: e.read_only,
            ..ServerOptions::default()
        };
        let mount = ninep::MountOptions {
            dev: FIRST_EXPORT_DEV + i as u64,
            ..ninep::MountOptions::default()
        };
        let fs = ninep::server::mount(&e.root, server, mount)
            .map_err(|err| format!("cannot mount {}: {err}", e.root.display()))?;
        mounted.push(Arc::new(fs));
    }
    placed
        .iter()
        .zip(dirs)
        .map(|((i, rel), d)| {
            open_dir(&mounted[*i], Path::new(rel))
                .map_err(|e| format!("--dir {}: {e}", d.host.display()))
        })
        .collect()
}

/// Directory `rel` of `fs` as a tree of its own (as the kernel's `vfs::open_dir`).
fn open_dir(fs: &Arc<dyn FileSystem>, rel: &Path) -> Result<Arc<dyn FileSystem>, String> {
    let mut ino = fs.root();
    for c in rel.components() {
        let name = c.as_os_str().to_str().ok_or("a name that is not UTF-8")?;
        ino = fs.lookup(ino, name).map_err(|e| format!("{name}: {e:?}"))?;
    }
    if fs.stat(ino).map_err(|e| format!("{e:?}"))?.kind != FileKind::Directory {
        return Err("not a directory".into());
    }
    if ino == fs.root() {
        return Ok(fs.clone());
    }
    Ok(Arc::new(SubdirFs::new(fs.clone(), ino)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(host: &Path, ro: bool) -> Dir {
        Dir {
            host: host.to_path_buf(),
            guest: "/g".into(),
            read_only: ro,
        }
    }

    #[test]
    fn two_preopens_of_one_export_are_one_tree_with_its_own_roots() {
        let base = tempfile::tempdir().unwrap();
        let (a, b) = (base.path().join("a"), base.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("f"), b"x").unwrap();
        let trees = mount_all(&[dir(&a, false), dir(&b, false)]).unwrap();
        assert_eq!(trees[0].dev(), trees[1].dev());
        assert_ne!(trees[0].root(), trees[1].root());
        assert!(trees[0].lookup(trees[0].root(), "f").is_ok());
        assert!(trees[1].lookup(trees[1].root(), "f").is_err());
    }
}
