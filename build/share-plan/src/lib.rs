//! Host directories as 9P exports, for `xtask exec` (QEMU's `-fsdev`) and `wasi-run` (an
//! in-process server) alike. Preopens on one host file system (and of one kind, read-write or
//! read-only) become subdirectories of a single export, their deepest common ancestor, so that
//! renaming or linking between two of them works as it does under `wasmtime run` (a real
//! cross-file-system move is `EXDEV` there too). Programs still see only their preopens: atoll
//! opens each below the export and nothing resolves past it.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// A host directory a program gets as a preopen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub host: PathBuf,
    pub read_only: bool,
}

/// One QEMU `-fsdev` export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub root: PathBuf,
    pub read_only: bool,
}

/// Where a share lies: its export's index and its path below the export's root (`""` for the
/// root itself).
pub type Placement = (usize, String);

/// The exports for `shares`, and where each share lies in them.
pub fn plan(shares: &[Dir]) -> Result<(Vec<Export>, Vec<Placement>), String> {
    let mut groups: Vec<(u64, bool, PathBuf)> = Vec::new();
    let mut canon = Vec::new();
    for share in shares {
        let path = share
            .host
            .canonicalize()
            .map_err(|e| format!("--dir {}: {e}", share.host.display()))?;
        let dev = std::fs::metadata(&path)
            .map_err(|e| format!("--dir {}: {e}", share.host.display()))?
            .dev();
        match groups
            .iter_mut()
            .find(|(d, ro, _)| *d == dev && *ro == share.read_only)
        {
            Some((_, _, root)) => *root = common_ancestor(root, &path),
            None => groups.push((dev, share.read_only, path.clone())),
        }
        canon.push((dev, path));
    }
    let exports = groups
        .iter()
        .map(|(_, ro, root)| Export {
            root: root.clone(),
            read_only: *ro,
        })
        .collect();
    let placed = shares
        .iter()
        .zip(canon)
        .map(|(share, (dev, path))| {
            let i = groups
                .iter()
                .position(|(d, ro, _)| *d == dev && *ro == share.read_only)
                .unwrap_or(0);
            let rel = path
                .strip_prefix(&groups[i].2)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            (i, rel)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn share(host: &Path, ro: bool) -> Dir {
        Dir {
            host: host.to_path_buf(),
            read_only: ro,
        }
    }

    #[test]
    fn sibling_directories_share_one_export_at_their_parent() {
        let base = std::env::temp_dir().join(format!("xtask-shares-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b/c"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let (sa, sb, ro) = (share(&a, false), share(&b, false), share(&a, true));
        let (exports, placed) = plan(&[sa, sb, ro]).unwrap();
        let canon = base.canonicalize().unwrap();
        std::fs::remove_dir_all(&base).unwrap();
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
                (0, "a".to_string()),
                (0, "b/c".to_string()),
                (1, String::new())
            ]
        );
    }

    #[test]
    fn a_missing_host_directory_is_an_error_that_names_it() {
        let e = plan(&[share(Path::new("/nonexistent/share-plan"), false)]).unwrap_err();
        assert!(e.contains("/nonexistent/share-plan"), "{e}");
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
}
