//! `--dir` preopens as atoll mounts them: host directories exported over 9P (here an
//! in-process `ninep::server` per export instead of QEMU's virtio-9p), mounted with
//! `ninep::NinepFs`, the kernel's client. As `xtask exec` exports them for QEMU, preopens on one
//! host file system and of one kind (read-write or read-only) share one export rooted at their
//! deepest common ancestor, and each is that export's subdirectory seen as a tree of its own
//! (`wasi_p1::SubdirFs`, as the kernel opens a preopen below a mount): so renames and links
//! between two preopens work as under `wasmtime run`, and anything else is `EXDEV`.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ninep::server::ServerOptions;
use wasi_p1::{FileKind, FileSystem, SubdirFs};

use crate::options::Dir;

/// `filestat.dev` of the first export (the kernel's numbering: 1 is its initrd, 2 its `/tmp`).
const FIRST_EXPORT_DEV: u64 = 3;

/// One 9P export: a host directory and whether it is exported read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub root: PathBuf,
    pub read_only: bool,
}

/// For each preopen, the index of its export and its path below the export's root (empty for
/// the root itself).
pub type Placement = (usize, PathBuf);

/// The exports for `dirs`, and where each dir lies in them.
pub fn plan(dirs: &[Dir]) -> Result<(Vec<Export>, Vec<Placement>), String> {
    let mut groups: Vec<(u64, bool, PathBuf)> = Vec::new();
    let mut canon = Vec::new();
    for d in dirs {
        let path = d
            .host
            .canonicalize()
            .map_err(|e| format!("--dir {}: {e}", d.host.display()))?;
        let dev = std::fs::metadata(&path)
            .map_err(|e| format!("--dir {}: {e}", d.host.display()))?
            .dev();
        match groups
            .iter_mut()
            .find(|(gd, ro, _)| *gd == dev && *ro == d.read_only)
        {
            Some((_, _, root)) => *root = common_ancestor(root, &path),
            None => groups.push((dev, d.read_only, path.clone())),
        }
        canon.push((dev, d.read_only, path));
    }
    let placed = canon
        .into_iter()
        .map(|(dev, ro, path)| {
            let i = groups
                .iter()
                .position(|(gd, gro, _)| *gd == dev && *gro == ro)
                .ok_or("a preopen lost its export")?;
            let rel = path
                .strip_prefix(&groups[i].2)
                .map_err(|_| "a preopen lies outside its export")?
                .to_path_buf();
            Ok((i, rel))
        })
        .collect::<Result<_, &str>>()?;
    let exports = groups
        .into_iter()
        .map(|(_, read_only, root)| Export { root, read_only })
        .collect();
    Ok((exports, placed))
}

/// The deepest directory containing both `a` and `b` (both absolute).
fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for (x, y) in a.components().zip(b.components()) {
        if x != y {
            break;
        }
        out.push(x.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(Component::RootDir.as_os_str());
    }
    out
}

/// Serves and mounts every export, then opens each preopen in its export: one tree per `dirs`
/// entry, in order.
pub fn mount_all(dirs: &[Dir]) -> Result<Vec<Arc<dyn FileSystem>>, String> {
    let (exports, placed) = plan(dirs)?;
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
            open_dir(&mounted[*i], rel).map_err(|e| format!("--dir {}: {e}", d.host.display()))
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
    fn sibling_directories_share_one_export_at_their_parent_and_read_only_ones_get_their_own() {
        let base = tempfile::tempdir().unwrap();
        let (a, b) = (base.path().join("a"), base.path().join("b/c"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let (exports, placed) = plan(&[dir(&a, false), dir(&b, false), dir(&a, true)]).unwrap();
        let canon = base.path().canonicalize().unwrap();
        assert_eq!(
            exports,
            [
                Export {
                    root: canon.clone(),
                    read_only: false
                },
                Export {
                    root: canon.join("a"),
                    read_only: true
                }
            ]
        );
        assert_eq!(
            placed,
            [
                (0, PathBuf::from("a")),
                (0, PathBuf::from("b/c")),
                (1, PathBuf::new())
            ]
        );
    }

    #[test]
    fn the_common_ancestor_of_unrelated_paths_is_the_root() {
        assert_eq!(
            common_ancestor(Path::new("/x/y"), Path::new("/z")),
            PathBuf::from("/")
        );
        assert_eq!(
            common_ancestor(Path::new("/x/y/z"), Path::new("/x/y")),
            PathBuf::from("/x/y")
        );
    }

    #[test]
    fn a_missing_host_directory_is_an_error_that_names_it() {
        let e = plan(&[dir(Path::new("/nonexistent/wasi-run"), false)]).unwrap_err();
        assert!(e.contains("/nonexistent/wasi-run"), "{e}");
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
