//! Snapshots of a directory tree after a run, compared between runners: every entry's relative
//! path, kind, a file's size and contents, a symlink's target, and which files are hard links
//! of each other. Not compared: times, inode and device numbers, permissions, and a directory's
//! size or link count (they depend on the host file system).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::diff;

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    File(Vec<u8>),
    Symlink(Vec<u8>),
    /// A FIFO, socket or device: only its kind is kept.
    Other(&'static str),
}

impl Node {
    fn kind(&self) -> String {
        match self {
            Node::Dir => "directory".into(),
            Node::File(data) => format!("file of {} bytes", data.len()),
            Node::Symlink(t) => format!("symlink to \"{}\"", diff::escape(t)),
            Node::Other(k) => (*k).into(),
        }
    }
}

/// A directory tree: entries by relative path (bytes, `/`-separated), and its hard-link
/// groups (sets of two or more paths naming one file).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    pub entries: BTreeMap<Vec<u8>, Node>,
    pub links: BTreeSet<Vec<Vec<u8>>>,
}

/// Reads the tree under `root` (not following symlinks).
pub fn snapshot(root: &Path) -> Result<Tree, String> {
    let mut tree = Tree::default();
    let mut inodes: BTreeMap<(u64, u64), Vec<Vec<u8>>> = BTreeMap::new();
    walk(root, b"", &mut tree, &mut inodes)?;
    tree.links = inodes.into_values().filter(|v| v.len() > 1).collect();
    Ok(tree)
}

fn walk(
    dir: &Path,
    prefix: &[u8],
    tree: &mut Tree,
    inodes: &mut BTreeMap<(u64, u64), Vec<Vec<u8>>>,
) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("reading {}: {e}", p.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| err(dir, e))? {
        names.push(entry.map_err(|e| err(dir, e))?.file_name());
    }
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let mut rel = prefix.to_vec();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(name.as_bytes());
        let meta = std::fs::symlink_metadata(&path).map_err(|e| err(&path, e))?;
        let ft = meta.file_type();
        let node = if ft.is_dir() {
            walk(&path, &rel, tree, inodes)?;
            Node::Dir
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| err(&path, e))?;
            Node::Symlink(target.as_os_str().as_bytes().to_vec())
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                inodes
                    .entry((meta.dev(), meta.ino()))
                    .or_default()
                    .push(rel.clone());
            }
            Node::File(std::fs::read(&path).map_err(|e| err(&path, e))?)
        } else {
            Node::Other("special file")
        };
        tree.entries.insert(rel, node);
    }
    Ok(())
}

/// The differences between side `la`'s tree `a` and side `lb`'s tree `b`, one readable item
/// each (empty when they match).
pub fn compare(a: &Tree, b: &Tree, la: &str, lb: &str) -> Vec<String> {
    let mut out = Vec::new();
    let show = |p: &[u8]| diff::escape(p);
    for (path, na) in &a.entries {
        match b.entries.get(path) {
            None => out.push(format!("{} only in {la} ({})", show(path), na.kind())),
            Some(nb) if na == nb => {}
            Some(nb) => match (na, nb) {
                (Node::File(x), Node::File(y)) => {
                    let d = diff::describe(x, y, la, lb).unwrap_or_default();
                    out.push(format!("{}: contents differ: {d}", show(path)));
                }
                _ => out.push(format!(
                    "{}: {la} has a {}, {lb} a {}",
                    show(path),
                    na.kind(),
                    nb.kind()
                )),
            },
        }
    }
    for (path, nb) in &b.entries {
        if !a.entries.contains_key(path) {
            out.push(format!("{} only in {lb} ({})", show(path), nb.kind()));
        }
    }
    if a.links != b.links {
        let fmt = |l: &BTreeSet<Vec<Vec<u8>>>| {
            let groups: Vec<String> = l
                .iter()
                .map(|g| g.iter().map(|p| show(p)).collect::<Vec<_>>().join(" = "))
                .collect();
            if groups.is_empty() {
                "none".to_string()
            } else {
                groups.join("; ")
            }
        };
        out.push(format!(
            "hard links differ: {la}: {}; {lb}: {}",
            fmt(&a.links),
            fmt(&b.links)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-tree-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_snapshot_holds_kinds_contents_symlink_targets_and_hard_link_groups() {
        let d = scratch("snap");
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/f"), b"data").unwrap();
        std::fs::hard_link(d.join("sub/f"), d.join("g")).unwrap();
        std::os::unix::fs::symlink("sub/f", d.join("l")).unwrap();
        let t = snapshot(&d).unwrap();
        assert_eq!(t.entries[&b"sub"[..]], Node::Dir);
        assert_eq!(t.entries[&b"sub/f"[..]], Node::File(b"data".to_vec()));
        assert_eq!(t.entries[&b"l"[..]], Node::Symlink(b"sub/f".to_vec()));
        let group: Vec<Vec<u8>> = vec![b"g".to_vec(), b"sub/f".to_vec()];
        assert!(t.links.contains(&group), "{:?}", t.links);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn identical_trees_in_different_places_compare_equal() {
        let (a, b) = (scratch("eq-a"), scratch("eq-b"));
        for d in [&a, &b] {
            std::fs::write(d.join("f"), b"same").unwrap();
            std::fs::create_dir(d.join("dir")).unwrap();
        }
        assert!(compare(&snapshot(&a).unwrap(), &snapshot(&b).unwrap(), "a", "b").is_empty());
        let _ = (std::fs::remove_dir_all(a), std::fs::remove_dir_all(b));
    }

    fn tree(entries: &[(&str, Node)]) -> Tree {
        Tree {
            entries: entries
                .iter()
                .map(|(p, n)| (p.as_bytes().to_vec(), n.clone()))
                .collect(),
            links: BTreeSet::new(),
        }
    }

    #[test]
    fn differing_contents_name_the_file_and_the_first_differing_byte() {
        let a = tree(&[("x", Node::File(b"hello\n".to_vec()))]);
        let b = tree(&[("x", Node::File(b"help\n".to_vec()))]);
        let d = compare(&a, &b, "wasmtime", "atoll");
        assert_eq!(d.len(), 1);
        assert!(
            d[0].starts_with("x: contents differ: first difference at byte 3"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn missing_entries_kind_changes_and_symlink_targets_are_reported() {
        let a = tree(&[
            ("only-a", Node::Dir),
            ("k", Node::Dir),
            ("s", Node::Symlink(b"t1".to_vec())),
        ]);
        let b = tree(&[
            ("only-b", Node::File(vec![1])),
            ("k", Node::File(vec![])),
            ("s", Node::Symlink(b"t2".to_vec())),
        ]);
        let d = compare(&a, &b, "a", "b").join("\n");
        assert!(d.contains("only-a only in a (directory)"), "{d}");
        assert!(d.contains("only-b only in b (file of 1 bytes)"), "{d}");
        assert!(
            d.contains("k: a has a directory, b a file of 0 bytes"),
            "{d}"
        );
        assert!(
            d.contains("s: a has a symlink to \"t1\", b a symlink to \"t2\""),
            "{d}"
        );
    }

    #[test]
    fn different_hard_link_groups_are_reported() {
        let mut a = tree(&[("f", Node::File(vec![])), ("g", Node::File(vec![]))]);
        let b = a.clone();
        a.links.insert(vec![b"f".to_vec(), b"g".to_vec()]);
        let d = compare(&a, &b, "a", "b");
        assert_eq!(d, ["hard links differ: a: f = g; b: none"]);
    }
}
