//! Tests of the adapter's bookkeeping alone: fid users, retirement, eviction, paths.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;

fn p(s: &str) -> Path {
    s.split('/')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

fn state(nodes: usize, cached_fids: usize) -> State {
    State::new(1, Limits { nodes, cached_fids })
}

#[test]
fn a_fid_retired_while_in_use_is_clunked_only_when_its_last_user_is_done() {
    let mut s = state(100, 10);
    assert!(s.install(5, 50, Some(p("a"))).is_empty());
    assert_eq!(s.put(50), None);
    assert_eq!(s.take_cached(5), Some(50));
    assert_eq!(s.take_cached(5), Some(50));
    assert!(s.invalidate(5, 50).is_empty());
    assert_eq!(s.take_cached(5), None);
    assert_eq!(s.put(50), None);
    assert_eq!(s.put(50), Some(50));
    assert_eq!(s.put(50), None);
}

#[test]
fn replacing_a_cached_fid_retires_the_old_one() {
    let mut s = state(100, 10);
    s.install(5, 50, Some(p("a")));
    s.put(50);
    assert_eq!(s.install(5, 51, None), vec![50]);
    assert_eq!(s.cached_fids(), 1);
    assert_eq!(s.take_cached(5), Some(51));
}

#[test]
fn the_least_recently_used_cached_fids_are_evicted_beyond_the_limit() {
    let mut s = state(100, 8);
    let mut clunked = Vec::new();
    for i in 0..8u32 {
        clunked.extend(s.install(10 + u64::from(i), 100 + i, Some(p(&alloc::format!("f{i}")))));
        s.put(100 + i);
    }
    assert!(clunked.is_empty());
    // Using the first one makes it recent.
    let f = s.take_cached(10).unwrap();
    s.put(f);
    clunked.extend(s.install(20, 200, Some(p("g"))));
    // Over the limit: down to 7 cached, the oldest (not the one just used) go.
    assert_eq!(clunked, vec![101, 102]);
    assert_eq!(s.cached_fids(), 7);
    assert_eq!(s.take_cached(10), Some(100));
}

#[test]
fn nodes_with_open_handles_and_the_root_are_never_evicted() {
    let mut s = state(8, 8);
    s.note_path(2, p("open"));
    let h = s.add_handle(77, 2, false);
    for i in 0..50 {
        s.note_path(100 + i, p(&alloc::format!("n{i}")));
    }
    assert!(s.node_count() <= 9);
    assert_eq!(s.paths(2), vec![p("open")]);
    assert_eq!(s.paths(1), vec![p("")]);
    assert_eq!(s.close_handle(h), vec![77]);
}

#[test]
fn a_rename_moves_remembered_paths_below_it_and_drops_the_replaced_target() {
    let mut s = state(100, 10);
    s.note_path(2, p("a"));
    s.note_path(3, p("a/b"));
    s.note_path(4, p("ab"));
    s.note_path(5, p("z"));
    s.install(5, 55, None);
    s.put(55);
    assert_eq!(s.rename_paths(&p("a"), &p("z")), vec![55]);
    assert_eq!(s.paths(2), vec![p("z")]);
    assert_eq!(s.paths(3), vec![p("z/b")]);
    assert_eq!(s.paths(4), vec![p("ab")]);
    assert!(s.paths(5).is_empty());
}

#[test]
fn an_unlinked_name_is_forgotten_but_an_inode_with_another_name_stays() {
    let mut s = state(100, 10);
    s.note_path(2, p("a"));
    s.note_path(2, p("b"));
    s.note_path(3, p("c"));
    assert!(s.remove_path(&p("b")).is_empty());
    assert_eq!(s.paths(2), vec![p("a")]);
    s.remove_path(&p("c"));
    assert!(s.paths(3).is_empty());
    assert_eq!(s.node_count(), 2);
}

#[test]
fn handles_are_never_reused_and_a_closed_one_is_unknown() {
    let mut s = state(100, 10);
    let a = s.add_handle(10, 2, false);
    assert_eq!(s.close_handle(a), vec![10]);
    let b = s.add_handle(10, 2, false);
    assert_ne!(a, b);
    assert_eq!(s.take_handle(a), None);
    assert!(s.close_handle(a).is_empty());
    let obj = s.take_handle(b).unwrap();
    // Closed while a request is in flight: clunked when that request is done.
    assert!(s.close_handle(b).is_empty());
    assert_eq!(s.put(obj.fid), Some(10));
}
