//! The adapter's bookkeeping, pure data behind one short lock: what it knows of each inode
//! (the paths it was last seen at and a cached walk fid), the open handles, and how many
//! users each fid has, so that no fid is clunked while a request on it is in flight and no
//! fid number is reused under a request that still names it.
//!
//! Every method that retires fids returns the ones whose last user is gone; the caller
//! clunks them after dropping the lock.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use wasi_p1::fs::{Handle, Ino};

/// A path below the share's root, one component per name.
pub type Path = Vec<String>;

/// Paths remembered per inode (hard links); the most recently seen first.
const MAX_PATHS: usize = 4;

/// Limits that keep the server's fid table and our memory bounded over a long run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Inodes remembered (those with open handles and the root are never forgotten).
    pub nodes: usize,
    /// Walk fids kept cached (open handles come on top).
    pub cached_fids: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            nodes: 16384,
            cached_fids: 128,
        }
    }
}

struct Node {
    paths: Vec<Path>,
    /// A walk fid for this inode, if one is cached.
    fid: Option<u32>,
    /// Last use, for least-recently-used eviction.
    stamp: u64,
    /// Open handles on this inode: while any, the node stays.
    handles: u32,
}

struct FidRef {
    users: u32,
    /// No longer cached or open: clunk when the last user is done.
    retired: bool,
}

/// An open file or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenObj {
    pub fid: u32,
    pub ino: Ino,
    pub dir: bool,
}

pub struct State {
    root: Ino,
    limits: Limits,
    nodes: BTreeMap<Ino, Node>,
    refs: BTreeMap<u32, FidRef>,
    handles: BTreeMap<Handle, OpenObj>,
    next_handle: Handle,
    tick: u64,
    cached: usize,
}

impl State {
    pub fn new(root: Ino, limits: Limits) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            root,
            Node {
                paths: alloc::vec![Vec::new()],
                fid: None,
                stamp: 0,
                handles: 0,
            },
        );
        State {
            root,
            limits,
            nodes,
            refs: BTreeMap::new(),
            handles: BTreeMap::new(),
            next_handle: 1,
            tick: 0,
            cached: 0,
        }
    }

    fn touch(&mut self, ino: Ino) {
        self.tick += 1;
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.stamp = self.tick;
        }
    }

    /// Takes one use of `fid` (known to be live).
    fn take(&mut self, fid: u32) {
        if let Some(r) = self.refs.get_mut(&fid) {
            r.users += 1;
        }
    }

    /// Ends one use of `fid`; returns it if it is now to be clunked.
    pub fn put(&mut self, fid: u32) -> Option<u32> {
        let r = self.refs.get_mut(&fid)?;
        r.users = r.users.saturating_sub(1);
        if r.users == 0 && r.retired {
            self.refs.remove(&fid);
            return Some(fid);
        }
        None
    }

    fn retire(&mut self, fid: u32, clunk: &mut Vec<u32>) {
        if let Some(r) = self.refs.get_mut(&fid) {
            r.retired = true;
            if r.users == 0 {
                self.refs.remove(&fid);
                clunk.push(fid);
            }
        }
    }

    /// The paths `ino` was seen at (the root: one empty path); empty if unknown.
    pub fn paths(&mut self, ino: Ino) -> Vec<Path> {
        self.touch(ino);
        self.nodes
            .get(&ino)
            .map(|n| n.paths.clone())
            .unwrap_or_default()
    }

    /// The cached walk fid of `ino`, with one use taken.
    pub fn take_cached(&mut self, ino: Ino) -> Option<u32> {
        self.touch(ino);
        let fid = self.nodes.get(&ino)?.fid?;
        self.take(fid);
        Some(fid)
    }

    /// Records that `ino` is at `path` (most recent first).
    pub fn note_path(&mut self, ino: Ino, path: Path) -> Vec<u32> {
        let node = self.nodes.entry(ino).or_insert(Node {
            paths: Vec::new(),
            fid: None,
            stamp: 0,
            handles: 0,
        });
        node.paths.retain(|p| *p != path);
        node.paths.insert(0, path);
        node.paths.truncate(MAX_PATHS);
        self.touch(ino);
        self.evict()
    }

    /// Makes `fid` (fresh from a walk, one use held by the caller) the cached fid of `ino`,
    /// retiring the one it replaces.
    pub fn install(&mut self, ino: Ino, fid: u32, path: Option<Path>) -> Vec<u32> {
        let mut clunk = match path {
            Some(p) => self.note_path(ino, p),
            None => Vec::new(),
        };
        self.refs.insert(
            fid,
            FidRef {
                users: 1,
                retired: false,
            },
        );
        let Some(node) = self.nodes.get_mut(&ino) else {
            // Unknown inode (no path): nothing to cache it under.
            if let Some(r) = self.refs.get_mut(&fid) {
                r.retired = true;
            }
            return clunk;
        };
        match node.fid.replace(fid) {
            Some(old) => self.retire(old, &mut clunk),
            None => self.cached += 1,
        }
        self.touch(ino);
        clunk.extend(self.evict());
        clunk
    }

    /// Stops caching `fid` for `ino` (it turned out stale).
    pub fn invalidate(&mut self, ino: Ino, fid: u32) -> Vec<u32> {
        let mut clunk = Vec::new();
        if let Some(node) = self.nodes.get_mut(&ino)
            && node.fid == Some(fid)
        {
            node.fid = None;
            self.cached -= 1;
            self.retire(fid, &mut clunk);
        }
        clunk
    }

    /// Forgets that `ino` is at `path`.
    pub fn drop_path(&mut self, ino: Ino, path: &Path) -> Vec<u32> {
        let mut clunk = Vec::new();
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.paths.retain(|p| p != path);
        }
        self.forget_if_unreachable(ino, &mut clunk);
        clunk
    }

    fn forget_if_unreachable(&mut self, ino: Ino, clunk: &mut Vec<u32>) {
        if ino == self.root {
            return;
        }
        let Some(node) = self.nodes.get(&ino) else {
            return;
        };
        if node.paths.is_empty() && node.handles == 0 {
            let fid = node.fid;
            self.nodes.remove(&ino);
            if let Some(fid) = fid {
                self.cached -= 1;
                self.retire(fid, clunk);
            }
        }
    }

    /// After `path` was unlinked: no inode is there any more.
    pub fn remove_path(&mut self, path: &Path) -> Vec<u32> {
        self.rewrite_paths(path, None)
    }

    /// After a rename of `from` to `to`: what was at or below `from` is now below `to`, and
    /// what `to` named before is gone.
    pub fn rename_paths(&mut self, from: &Path, to: &Path) -> Vec<u32> {
        let mut clunk = self.rewrite_paths(to, None);
        clunk.extend(self.rewrite_paths(from, Some(to)));
        clunk
    }

    /// Replaces the prefix `from` of every remembered path by `to`, or drops those paths.
    fn rewrite_paths(&mut self, from: &Path, to: Option<&Path>) -> Vec<u32> {
        let mut touched = Vec::new();
        for (ino, node) in self.nodes.iter_mut() {
            let before = node.paths.len();
            let mut changed = false;
            node.paths = core::mem::take(&mut node.paths)
                .into_iter()
                .filter_map(|p| {
                    if !p.starts_with(from) {
                        return Some(p);
                    }
                    changed = true;
                    let to = to?;
                    Some(to.iter().chain(&p[from.len()..]).cloned().collect())
                })
                .collect();
            if changed || node.paths.len() != before {
                touched.push(*ino);
            }
        }
        let mut clunk = Vec::new();
        for ino in touched {
            self.forget_if_unreachable(ino, &mut clunk);
        }
        clunk
    }

    /// Registers an open fid (no user yet) and returns its new handle.
    pub fn add_handle(&mut self, fid: u32, ino: Ino, dir: bool) -> Handle {
        self.refs.insert(
            fid,
            FidRef {
                users: 0,
                retired: false,
            },
        );
        let h = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(h, OpenObj { fid, ino, dir });
        let node = self.nodes.entry(ino).or_insert(Node {
            paths: Vec::new(),
            fid: None,
            stamp: 0,
            handles: 0,
        });
        node.handles += 1;
        self.touch(ino);
        h
    }

    /// The open object behind `h`, with one use of its fid taken.
    pub fn take_handle(&mut self, h: Handle) -> Option<OpenObj> {
        let obj = *self.handles.get(&h)?;
        self.take(obj.fid);
        Some(obj)
    }

    /// Open objects of `ino` (one use taken of each).
    pub fn take_handles_of(&mut self, ino: Ino) -> Vec<OpenObj> {
        let objs: Vec<OpenObj> = self
            .handles
            .values()
            .filter(|o| o.ino == ino)
            .copied()
            .collect();
        for o in &objs {
            self.take(o.fid);
        }
        objs
    }

    /// Closes `h`; returns its fid if it is to be clunked now.
    pub fn close_handle(&mut self, h: Handle) -> Vec<u32> {
        let mut clunk = Vec::new();
        let Some(obj) = self.handles.remove(&h) else {
            return clunk;
        };
        if let Some(node) = self.nodes.get_mut(&obj.ino) {
            node.handles = node.handles.saturating_sub(1);
        }
        self.forget_if_unreachable(obj.ino, &mut clunk);
        self.retire(obj.fid, &mut clunk);
        clunk
    }

    /// Every fid this state holds (for unmounting).
    pub fn drain(&mut self) -> Vec<u32> {
        self.handles.clear();
        self.nodes.clear();
        self.cached = 0;
        let fids = self.refs.keys().copied().collect();
        self.refs.clear();
        fids
    }

    /// Walk fids currently cached.
    pub fn cached_fids(&self) -> usize {
        self.cached
    }

    /// Inodes currently remembered.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Keeps the nodes and cached fids within the limits, least recently used first; the
    /// root and inodes with open handles stay.
    fn evict(&mut self) -> Vec<u32> {
        let mut clunk = Vec::new();
        if self.nodes.len() > self.limits.nodes {
            // Evict down to 7/8 of the limit so the scan is amortized.
            let target = self.limits.nodes - self.limits.nodes / 8;
            let mut victims: Vec<(u64, Ino)> = self
                .nodes
                .iter()
                .filter(|(ino, n)| **ino != self.root && n.handles == 0)
                .map(|(ino, n)| (n.stamp, *ino))
                .collect();
            victims.sort_unstable();
            let excess = self.nodes.len().saturating_sub(target);
            for (_, ino) in victims.into_iter().take(excess) {
                if let Some(node) = self.nodes.remove(&ino)
                    && let Some(fid) = node.fid
                {
                    self.cached -= 1;
                    self.retire(fid, &mut clunk);
                }
            }
        }
        if self.cached > self.limits.cached_fids {
            let target = self.limits.cached_fids - self.limits.cached_fids / 8;
            let mut victims: Vec<(u64, Ino)> = self
                .nodes
                .iter()
                .filter(|(_, n)| n.fid.is_some())
                .map(|(ino, n)| (n.stamp, *ino))
                .collect();
            victims.sort_unstable();
            let excess = self.cached.saturating_sub(target);
            for (_, ino) in victims.into_iter().take(excess) {
                if let Some(fid) = self.nodes.get_mut(&ino).and_then(|n| n.fid.take()) {
                    self.cached -= 1;
                    self.retire(fid, &mut clunk);
                }
            }
        }
        clunk
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
