//! `NinepFs` over the in-process server: the name operations of `FileSystem` on success
//! and error paths, checked against what the host directory really holds.

mod common;

use std::os::unix::fs::MetadataExt;

use common::{RO, RW, host_ino, share, share_with};
use ninep::MountOptions;
use ninep::server::ServerOptions;
use wasi_p1::Errno;
use wasi_p1::fs::{FileKind, FileSystem, SetTime};

#[test]
fn a_mounted_share_reports_its_dev_its_root_inode_and_that_it_is_writable() {
    let s = share();
    assert_eq!(s.fs.dev(), 7);
    assert_eq!(s.root(), host_ino(s.dir.path()));
    assert!(!s.fs.is_read_only());
    assert_eq!(s.fs.stat(s.root()).unwrap().kind, FileKind::Directory);
    assert!(s.fs.client().msize() >= 4096);
}

#[test]
fn lookup_gives_the_host_inode_of_files_directories_and_links_without_following_links() {
    let s = share();
    std::fs::create_dir(s.host("d")).unwrap();
    std::fs::write(s.host("d/f"), b"x").unwrap();
    std::os::unix::fs::symlink("d", s.host("l")).unwrap();
    assert_eq!(s.path("d").unwrap(), host_ino(&s.host("d")));
    assert_eq!(s.path("d/f").unwrap(), host_ino(&s.host("d/f")));
    let l = s.path("l").unwrap();
    assert_eq!(l, host_ino(&s.host("l")));
    assert_eq!(s.fs.stat(l).unwrap().kind, FileKind::SymbolicLink);
    // Walking through the link is not following it.
    assert_eq!(s.fs.lookup(l, "f"), Err(Errno::Notdir));
}

#[test]
fn lookup_of_a_missing_name_is_noent_at_the_root_and_below_it() {
    let s = share();
    std::fs::create_dir_all(s.host("a/b")).unwrap();
    assert_eq!(s.fs.lookup(s.root(), "nope"), Err(Errno::Noent));
    let b = s.path("a/b").unwrap();
    assert_eq!(s.fs.lookup(b, "nope"), Err(Errno::Noent));
}

#[test]
fn lookup_below_a_regular_file_is_notdir() {
    let s = share();
    std::fs::create_dir(s.host("d")).unwrap();
    std::fs::write(s.host("d/f"), b"x").unwrap();
    std::fs::write(s.host("top"), b"x").unwrap();
    assert_eq!(s.fs.lookup(s.path("top").unwrap(), "x"), Err(Errno::Notdir));
    assert_eq!(s.fs.lookup(s.path("d/f").unwrap(), "x"), Err(Errno::Notdir));
}

#[test]
fn a_lookup_that_fails_below_the_root_reports_the_hosts_errno() {
    let s = share();
    std::fs::create_dir(s.host("d")).unwrap();
    let d = s.path("d").unwrap();
    let long = "n".repeat(300);
    assert_eq!(s.fs.lookup(d, &long), Err(Errno::Nametoolong));
    assert_eq!(s.fs.lookup(s.root(), &long), Err(Errno::Nametoolong));
}

#[test]
fn stat_reports_kind_size_links_and_times_as_the_host_has_them() {
    let s = share();
    std::fs::write(s.host("f"), b"hello").unwrap();
    let st = s.fs.stat(s.path("f").unwrap()).unwrap();
    let m = std::fs::metadata(s.host("f")).unwrap();
    assert_eq!(st.kind, FileKind::File);
    assert_eq!(st.size, 5);
    assert_eq!(st.nlink, 1);
    assert_eq!(st.ino, m.ino());
    assert_eq!(
        st.mtime,
        m.mtime() as u64 * 1_000_000_000 + m.mtime_nsec() as u64
    );
    assert_eq!(
        st.atime,
        m.atime() as u64 * 1_000_000_000 + m.atime_nsec() as u64
    );
    assert_eq!(
        st.ctime,
        m.ctime() as u64 * 1_000_000_000 + m.ctime_nsec() as u64
    );
}

#[test]
fn stat_of_a_fifo_is_unknown_and_of_a_socket_is_socket() {
    let s = share();
    let fifo = std::ffi::CString::new(s.host("p").to_str().unwrap()).unwrap();
    // SAFETY: `fifo` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _sock = std::os::unix::net::UnixListener::bind(s.host("sock")).unwrap();
    assert_eq!(
        s.fs.stat(s.path("p").unwrap()).unwrap().kind,
        FileKind::Unknown
    );
    assert_eq!(
        s.fs.stat(s.path("sock").unwrap()).unwrap().kind,
        FileKind::Socket
    );
}

#[test]
fn create_file_is_exclusive_even_over_a_dangling_link() {
    let s = share();
    let (ino, h) = s.fs.create_file(s.root(), "f", RW).unwrap();
    assert_eq!(ino, host_ino(&s.host("f")));
    assert_eq!(
        std::fs::metadata(s.host("f")).unwrap().mode() & 0o777,
        0o644
    );
    s.fs.close(h);
    assert_eq!(
        s.fs.create_file(s.root(), "f", RW).err(),
        Some(Errno::Exist)
    );
    std::os::unix::fs::symlink("nowhere", s.host("dangling")).unwrap();
    assert_eq!(
        s.fs.create_file(s.root(), "dangling", RW).err(),
        Some(Errno::Exist)
    );
    assert!(!s.host("nowhere").exists());
}

#[test]
fn create_dir_makes_a_directory_and_refuses_a_taken_name() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    assert_eq!(d, host_ino(&s.host("d")));
    assert!(s.host("d").is_dir());
    assert_eq!(
        std::fs::metadata(s.host("d")).unwrap().mode() & 0o777,
        0o755
    );
    assert_eq!(s.fs.create_dir(s.root(), "d"), Err(Errno::Exist));
    let sub = s.fs.create_dir(d, "sub").unwrap();
    assert_eq!(s.path("d/sub").unwrap(), sub);
}

#[test]
fn a_symbolic_link_keeps_its_target_as_given_and_readlink_returns_it() {
    let s = share();
    let l = s.fs.symlink(s.root(), "l", "../outside/x").unwrap();
    assert_eq!(l, host_ino(&s.host("l")));
    assert_eq!(
        std::fs::read_link(s.host("l")).unwrap().to_str(),
        Some("../outside/x")
    );
    assert_eq!(s.fs.readlink(l).unwrap(), "../outside/x");
    assert_eq!(s.fs.stat(l).unwrap().size, 12);
    assert_eq!(s.fs.symlink(s.root(), "l", "t"), Err(Errno::Exist));
}

#[test]
fn readlink_of_something_that_is_not_a_link_is_inval() {
    let s = share();
    std::fs::write(s.host("f"), b"").unwrap();
    assert_eq!(s.fs.readlink(s.path("f").unwrap()), Err(Errno::Inval));
}

#[test]
fn hard_links_share_an_inode_and_count_their_names() {
    let s = share();
    let (ino, h) = s.create("a", b"data");
    s.fs.close(h);
    s.fs.link(ino, s.root(), "b").unwrap();
    assert_eq!(s.path("b").unwrap(), ino);
    assert_eq!(s.fs.stat(ino).unwrap().nlink, 2);
    assert_eq!(std::fs::read(s.host("b")).unwrap(), b"data");
    // The inode stays reachable through the other name.
    s.fs.unlink(s.root(), "a").unwrap();
    assert_eq!(s.fs.stat(ino).unwrap().nlink, 1);
    assert_eq!(s.fs.link(ino, s.root(), "b"), Err(Errno::Exist));
}

#[test]
fn a_directory_cannot_be_hard_linked() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    assert_eq!(s.fs.link(d, s.root(), "e"), Err(Errno::Perm));
}

#[test]
fn unlink_removes_files_and_refuses_directories_and_missing_names() {
    let s = share();
    s.fs.close(s.create("f", b"").1);
    s.fs.create_dir(s.root(), "d").unwrap();
    s.fs.unlink(s.root(), "f").unwrap();
    assert!(!s.host("f").exists());
    assert_eq!(s.fs.lookup(s.root(), "f"), Err(Errno::Noent));
    assert_eq!(s.fs.unlink(s.root(), "d"), Err(Errno::Isdir));
    assert_eq!(s.fs.unlink(s.root(), "f"), Err(Errno::Noent));
}

#[test]
fn remove_dir_removes_only_empty_directories() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    s.fs.create_dir(d, "inner").unwrap();
    s.fs.close(s.create("f", b"").1);
    assert_eq!(s.fs.remove_dir(s.root(), "d"), Err(Errno::Notempty));
    assert_eq!(s.fs.remove_dir(s.root(), "f"), Err(Errno::Notdir));
    s.fs.remove_dir(d, "inner").unwrap();
    s.fs.remove_dir(s.root(), "d").unwrap();
    assert!(!s.host("d").exists());
    assert_eq!(s.fs.stat(d), Err(Errno::Noent));
}

#[test]
fn rename_moves_a_file_over_a_file_and_keeps_its_inode() {
    let s = share();
    let (a, h) = s.create("a", b"new");
    s.fs.close(h);
    s.fs.close(s.create("b", b"old").1);
    s.fs.rename(s.root(), "a", s.root(), "b").unwrap();
    assert_eq!(s.path("b").unwrap(), a);
    assert_eq!(s.fs.lookup(s.root(), "a"), Err(Errno::Noent));
    assert_eq!(std::fs::read(s.host("b")).unwrap(), b"new");
    assert_eq!(s.fs.stat(a).unwrap().size, 3);
}

#[test]
fn rename_follows_posix_rules_for_directories() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    s.fs.create_dir(s.root(), "empty").unwrap();
    let full = s.fs.create_dir(s.root(), "full").unwrap();
    s.fs.create_dir(full, "x").unwrap();
    s.fs.close(s.create("f", b"").1);
    assert_eq!(
        s.fs.rename(s.root(), "d", s.root(), "full"),
        Err(Errno::Notempty)
    );
    assert_eq!(s.fs.rename(s.root(), "d", d, "inside"), Err(Errno::Inval));
    assert_eq!(s.fs.rename(s.root(), "f", s.root(), "d"), Err(Errno::Isdir));
    assert_eq!(
        s.fs.rename(s.root(), "d", s.root(), "f"),
        Err(Errno::Notdir)
    );
    assert_eq!(
        s.fs.rename(s.root(), "missing", s.root(), "z"),
        Err(Errno::Noent)
    );
    s.fs.rename(s.root(), "d", s.root(), "empty").unwrap();
    assert_eq!(s.path("empty").unwrap(), d);
}

#[test]
fn inodes_below_a_renamed_directory_stay_reachable() {
    let s = share();
    std::fs::create_dir_all(s.host("a/b")).unwrap();
    std::fs::write(s.host("a/b/c"), b"c").unwrap();
    let c = s.path("a/b/c").unwrap();
    let b = s.path("a/b").unwrap();
    s.fs.rename(s.root(), "a", s.root(), "z").unwrap();
    assert_eq!(s.fs.stat(c).unwrap().size, 1);
    assert_eq!(s.fs.lookup(b, "c"), Ok(c));
    assert_eq!(s.path("z/b/c").unwrap(), c);
}

#[test]
fn set_times_sets_given_times_leaves_omitted_ones_and_takes_now_from_the_host() {
    let s = share();
    s.fs.close(s.create("f", b"").1);
    let f = s.path("f").unwrap();
    let before = s.fs.stat(f).unwrap();
    s.fs.set_times(f, SetTime::At(1_000_000_123), SetTime::Omit)
        .unwrap();
    let st = s.fs.stat(f).unwrap();
    assert_eq!(st.atime, 1_000_000_123);
    assert_eq!(st.mtime, before.mtime);
    s.fs.set_times(f, SetTime::Omit, SetTime::At(5_000_000_000))
        .unwrap();
    assert_eq!(s.fs.stat(f).unwrap().mtime, 5_000_000_000);
    s.fs.set_times(f, SetTime::Now, SetTime::Now).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let st = s.fs.stat(f).unwrap();
    let close = |t: u64| (t as i128 - now.as_nanos() as i128).abs() < 5_000_000_000;
    assert!(close(st.atime) && close(st.mtime), "{st:?} vs {now:?}");
}

#[test]
fn set_times_on_a_link_changes_the_link_not_its_target() {
    let s = share();
    s.fs.close(s.create("t", b"").1);
    let l = s.fs.symlink(s.root(), "l", "t").unwrap();
    let target_before = std::fs::metadata(s.host("t")).unwrap().mtime();
    s.fs.set_times(l, SetTime::Omit, SetTime::At(7_000_000_000))
        .unwrap();
    assert_eq!(s.fs.stat(l).unwrap().mtime, 7_000_000_000);
    assert_eq!(std::fs::symlink_metadata(s.host("l")).unwrap().mtime(), 7);
    assert_eq!(
        std::fs::metadata(s.host("t")).unwrap().mtime(),
        target_before
    );
}

#[test]
fn a_read_only_export_is_detected_and_every_mutation_is_rofs() {
    let s = share_with(
        ServerOptions {
            read_only: true,
            ..ServerOptions::default()
        },
        MountOptions::default(),
    );
    std::fs::write(s.host("f"), b"data").unwrap();
    std::fs::create_dir(s.host("d")).unwrap();
    assert!(s.fs.is_read_only());
    let f = s.path("f").unwrap();
    let root = s.root();
    assert_eq!(s.fs.create_file(root, "n", RW).err(), Some(Errno::Rofs));
    assert_eq!(s.fs.create_dir(root, "n"), Err(Errno::Rofs));
    assert_eq!(s.fs.symlink(root, "n", "t"), Err(Errno::Rofs));
    assert_eq!(s.fs.link(f, root, "n"), Err(Errno::Rofs));
    assert_eq!(s.fs.unlink(root, "f"), Err(Errno::Rofs));
    assert_eq!(s.fs.remove_dir(root, "d"), Err(Errno::Rofs));
    assert_eq!(s.fs.rename(root, "f", root, "g"), Err(Errno::Rofs));
    assert_eq!(
        s.fs.set_times(f, SetTime::Now, SetTime::Now),
        Err(Errno::Rofs)
    );
    assert_eq!(s.fs.open(f, RW), Err(Errno::Rofs));
    let h = s.fs.open(f, RO).unwrap();
    assert_eq!(s.fs.write(h, 0, b"x"), Err(Errno::Rofs));
    assert_eq!(s.fs.set_len(h, 0), Err(Errno::Rofs));
    assert_eq!(
        s.fs.fset_times(h, SetTime::Now, SetTime::Omit),
        Err(Errno::Rofs)
    );
    assert_eq!(s.read_all(h), b"data");
    assert_eq!(s.list(root), ["d", "f"]);
    assert_eq!(std::fs::read(s.host("f")).unwrap(), b"data");
}

#[test]
fn a_writable_export_mounted_read_only_refuses_writes() {
    let s = share_with(
        ServerOptions::default(),
        MountOptions {
            read_only: true,
            ..MountOptions::default()
        },
    );
    assert!(s.fs.is_read_only());
    assert_eq!(s.fs.create_dir(s.root(), "d"), Err(Errno::Rofs));
    assert!(!s.host("d").exists());
}
