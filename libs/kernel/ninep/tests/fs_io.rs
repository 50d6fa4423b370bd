//! `NinepFs` over the in-process server: open objects (reads, writes, lengths, listings,
//! handle attributes) on success and error paths, and reads and writes split by `msize`.

mod common;

use std::collections::HashSet;

use common::{RO, RW, WO, host_ino, share, share_with};
use ninep::MountOptions;
use ninep::server::ServerOptions;
use wasi_p1::Errno;
use wasi_p1::fs::{FileKind, FileSystem, SetTime};

#[test]
fn reads_return_what_the_host_file_holds_and_are_short_only_at_its_end() {
    let s = share();
    std::fs::write(s.host("f"), b"0123456789").unwrap();
    let h = s.fs.open(s.path("f").unwrap(), RO).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(s.fs.read(h, 3, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"3456");
    assert_eq!(s.fs.read(h, 8, &mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"89");
    assert_eq!(s.fs.read(h, 10, &mut buf).unwrap(), 0);
    assert_eq!(s.fs.read(h, 1 << 40, &mut buf).unwrap(), 0);
    assert_eq!(s.fs.read(h, 0, &mut []).unwrap(), 0);
    s.fs.close(h);
}

#[test]
fn writes_grow_the_file_and_a_hole_reads_as_zeros() {
    let s = share();
    let (ino, h) = s.create("f", b"abc");
    assert_eq!(s.fs.write(h, 6, b"xyz").unwrap(), 3);
    assert_eq!(s.fs.stat(ino).unwrap().size, 9);
    assert_eq!(std::fs::read(s.host("f")).unwrap(), b"abc\0\0\0xyz");
    assert_eq!(s.read_all(h), b"abc\0\0\0xyz");
    assert_eq!(s.fs.write(h, 0, b"").unwrap(), 0);
    s.fs.close(h);
}

#[test]
fn a_write_only_handle_writes_and_a_read_only_handle_does_not() {
    let s = share();
    std::fs::write(s.host("f"), b"data").unwrap();
    let f = s.path("f").unwrap();
    let w = s.fs.open(f, WO).unwrap();
    assert_eq!(s.fs.write(w, 0, b"DA").unwrap(), 2);
    let mut buf = [0u8; 4];
    assert_eq!(s.fs.read(w, 0, &mut buf), Err(Errno::Badf));
    let r = s.fs.open(f, RO).unwrap();
    assert_eq!(s.fs.write(r, 0, b"x"), Err(Errno::Badf));
    assert_eq!(s.read_all(r), b"DAta");
    s.fs.close(w);
    s.fs.close(r);
}

#[test]
fn directories_open_for_reading_only_and_are_not_read_as_files() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    assert_eq!(s.fs.open(d, RW), Err(Errno::Isdir));
    let h = s.fs.open(d, RO).unwrap();
    assert_eq!(s.fs.read(h, 0, &mut [0u8; 4]), Err(Errno::Isdir));
    assert_eq!(s.fs.write(h, 0, b"x"), Err(Errno::Isdir));
    assert_eq!(s.fs.set_len(h, 0), Err(Errno::Isdir));
    assert_eq!(s.fs.fstat(h).unwrap().kind, FileKind::Directory);
    s.fs.close(h);
    let (_, f) = s.create("f", b"");
    assert_eq!(
        s.fs.read_dir(f, 0, 100, &mut Vec::new()),
        Err(Errno::Notdir)
    );
}

#[test]
fn opening_a_symbolic_link_itself_is_loop() {
    let s = share();
    let l = s.fs.symlink(s.root(), "l", "anything").unwrap();
    assert_eq!(s.fs.open(l, RO), Err(Errno::Loop));
}

#[test]
fn opening_an_inode_the_share_never_had_is_noent() {
    let s = share();
    assert_eq!(s.fs.open(0xdead_beef, RO), Err(Errno::Noent));
    assert_eq!(s.fs.stat(0xdead_beef), Err(Errno::Noent));
    assert_eq!(s.fs.lookup(0xdead_beef, "x"), Err(Errno::Noent));
}

#[test]
fn set_len_truncates_and_zero_extends() {
    let s = share();
    let (ino, h) = s.create("f", b"abcdef");
    s.fs.set_len(h, 2).unwrap();
    assert_eq!(std::fs::read(s.host("f")).unwrap(), b"ab");
    s.fs.set_len(h, 5).unwrap();
    assert_eq!(s.fs.stat(ino).unwrap().size, 5);
    assert_eq!(s.read_all(h), b"ab\0\0\0");
    s.fs.close(h);
}

#[test]
fn sync_succeeds_for_data_and_metadata() {
    let s = share();
    let (_, h) = s.create("f", b"abc");
    s.fs.sync(h, true).unwrap();
    s.fs.sync(h, false).unwrap();
    let d = s.fs.open(s.root(), RO).unwrap();
    s.fs.sync(d, false).unwrap();
}

#[test]
fn fstat_and_fset_times_work_on_the_open_object() {
    let s = share();
    let (ino, h) = s.create("f", b"abc");
    let st = s.fs.fstat(h).unwrap();
    assert_eq!((st.ino, st.size, st.kind), (ino, 3, FileKind::File));
    s.fs.fset_times(h, SetTime::At(3_000_000_007), SetTime::At(4_000_000_009))
        .unwrap();
    let st = s.fs.fstat(h).unwrap();
    assert_eq!((st.atime, st.mtime), (3_000_000_007, 4_000_000_009));
}

#[test]
fn a_closed_handle_is_badf() {
    let s = share();
    let (_, h) = s.create("f", b"abc");
    s.fs.close(h);
    assert_eq!(s.fs.read(h, 0, &mut [0u8; 3]), Err(Errno::Badf));
    assert_eq!(s.fs.fstat(h), Err(Errno::Badf));
    assert_eq!(s.fs.write(h, 0, b"x"), Err(Errno::Badf));
    assert_eq!(s.fs.sync(h, true), Err(Errno::Badf));
    // Closing twice does nothing.
    s.fs.close(h);
}

#[test]
fn a_listing_has_every_entry_once_with_its_inode_and_kind_and_never_dot_or_dotdot() {
    let s = share();
    std::fs::create_dir(s.host("dir")).unwrap();
    std::fs::write(s.host("file"), b"").unwrap();
    std::os::unix::fs::symlink("file", s.host("link")).unwrap();
    let h = s.fs.open(s.root(), RO).unwrap();
    let mut out = Vec::new();
    assert!(s.fs.read_dir(h, 0, 1 << 20, &mut out).unwrap());
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let got: Vec<_> = out
        .iter()
        .map(|e| (e.name.as_str(), e.kind, e.ino))
        .collect();
    assert_eq!(
        got,
        [
            ("dir", FileKind::Directory, host_ino(&s.host("dir"))),
            ("file", FileKind::File, host_ino(&s.host("file"))),
            ("link", FileKind::SymbolicLink, host_ino(&s.host("link"))),
        ]
    );
    assert!(out.iter().all(|e| e.next < u64::MAX - 2));
}

#[test]
fn a_listing_continues_from_any_entrys_cookie() {
    let s = share();
    for i in 0..50 {
        std::fs::write(s.host(&format!("f{i:02}")), b"").unwrap();
    }
    let h = s.fs.open(s.root(), RO).unwrap();
    let mut all = Vec::new();
    s.fs.read_dir(h, 0, 1 << 20, &mut all).unwrap();
    assert_eq!(all.len(), 50);
    // Resuming after entry k gives exactly the entries after it.
    for k in [0, 1, 17, 48, 49] {
        let mut rest = Vec::new();
        let mut cookie = all[k].next;
        loop {
            let mut chunk = Vec::new();
            let end = s.fs.read_dir(h, cookie, 1 << 20, &mut chunk).unwrap();
            cookie = chunk.last().map_or(cookie, |e| e.next);
            rest.extend(chunk);
            if end {
                break;
            }
        }
        assert_eq!(rest, all[k + 1..], "after entry {k}");
    }
}

#[test]
fn a_small_byte_budget_pages_a_large_directory_without_loss_or_repeats() {
    let s = share();
    let names: HashSet<String> = (0..1000)
        .map(|i| format!("entry-with-a-longish-name-{i}"))
        .collect();
    for n in &names {
        std::fs::write(s.host(n), b"").unwrap();
    }
    let h = s.fs.open(s.root(), RO).unwrap();
    let (mut cookie, mut seen, mut calls) = (0, Vec::new(), 0);
    loop {
        let mut chunk = Vec::new();
        let end = s.fs.read_dir(h, cookie, 100, &mut chunk).unwrap();
        calls += 1;
        cookie = chunk.last().map_or(cookie, |e| e.next);
        seen.extend(chunk.into_iter().map(|e| e.name));
        if end {
            break;
        }
    }
    assert!(calls > 100, "{calls} calls");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(unique, names);
}

#[test]
fn an_empty_directory_lists_nothing_and_ends() {
    let s = share();
    let d = s.fs.create_dir(s.root(), "d").unwrap();
    let h = s.fs.open(d, RO).unwrap();
    let mut out = Vec::new();
    assert!(s.fs.read_dir(h, 0, 4096, &mut out).unwrap());
    assert!(out.is_empty());
}

/// A deterministic pattern that differs at every offset of a large file.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect()
}

#[test]
fn a_64_mib_file_is_written_and_read_back_in_msize_chunks() {
    let s = share();
    let msize = s.fs.client().msize() as usize;
    assert_eq!(msize, 512 * 1024);
    let data = pattern(64 << 20);
    let (ino, h) = s.fs.create_file(s.root(), "big", RW).unwrap();
    let before = s.server.requests();
    assert_eq!(s.fs.write(h, 0, &data).unwrap(), data.len());
    let writes = s.server.requests() - before;
    let chunk = msize - 24;
    assert_eq!(writes as usize, data.len().div_ceil(chunk));
    assert_eq!(s.fs.stat(ino).unwrap().size, 64 << 20);
    assert!(std::fs::read(s.host("big")).unwrap() == data);
    let mut back = vec![0u8; data.len()];
    let before = s.server.requests();
    assert_eq!(s.fs.read(h, 0, &mut back).unwrap(), data.len());
    assert_eq!(
        (s.server.requests() - before) as usize,
        data.len().div_ceil(chunk)
    );
    assert!(back == data);
    s.fs.close(h);
}

#[test]
fn a_server_with_a_small_msize_still_moves_large_buffers_in_many_chunks() {
    let s = share_with(
        ServerOptions {
            max_msize: 4096,
            ..ServerOptions::default()
        },
        MountOptions::default(),
    );
    assert_eq!(s.fs.client().msize(), 4096);
    let data = pattern(300_000);
    let (_, h) = s.fs.create_file(s.root(), "f", RW).unwrap();
    assert_eq!(s.fs.write(h, 10, &data).unwrap(), data.len());
    let mut back = vec![0u8; data.len() + 100];
    assert_eq!(s.fs.read(h, 10, &mut back).unwrap(), data.len());
    assert!(back[..data.len()] == data);
    // A listing of long names pages within the small msize too.
    for i in 0..200 {
        std::fs::write(s.host(&format!("{i:0>200}")), b"").unwrap();
    }
    assert_eq!(s.list(s.root()).len(), 201);
}
