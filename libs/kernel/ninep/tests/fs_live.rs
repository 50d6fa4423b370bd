//! `NinepFs` over the in-process server while the host changes the directory behind the
//! client's back (the share is live), unlink-while-open, and the bounds on fids: what the
//! server's fid table holds after long runs, and many threads at once.

mod common;

use std::sync::Arc;

use common::{RO, RW, host_ino, share, share_with};
use ninep::fs::Limits;
use ninep::server::ServerOptions;
use ninep::{MountOptions, NinepFs};
use wasi_p1::Errno;
use wasi_p1::fs::FileSystem;

#[test]
fn a_file_the_host_creates_during_the_session_is_found_and_listed() {
    let s = share();
    assert_eq!(s.fs.lookup(s.root(), "late"), Err(Errno::Noent));
    assert!(s.list(s.root()).is_empty());
    std::fs::write(s.host("late"), b"hi").unwrap();
    let ino = s.path("late").unwrap();
    assert_eq!(ino, host_ino(&s.host("late")));
    assert_eq!(s.list(s.root()), ["late"]);
    let h = s.fs.open(ino, RO).unwrap();
    assert_eq!(s.read_all(h), b"hi");
}

#[test]
fn a_file_the_host_deletes_is_gone_for_the_program_too() {
    let s = share();
    std::fs::write(s.host("f"), b"x").unwrap();
    let f = s.path("f").unwrap();
    assert_eq!(s.fs.stat(f).unwrap().size, 1);
    std::fs::remove_file(s.host("f")).unwrap();
    assert_eq!(s.fs.stat(f), Err(Errno::Noent));
    assert_eq!(s.fs.open(f, RO), Err(Errno::Noent));
    assert_eq!(s.fs.lookup(s.root(), "f"), Err(Errno::Noent));
}

#[test]
fn a_file_the_host_replaces_never_answers_for_the_old_inode() {
    let s = share();
    std::fs::write(s.host("f"), b"old").unwrap();
    let old = s.path("f").unwrap();
    // Keep the old inode alive on the host so its number is not reused.
    let keep = s.host("kept");
    std::fs::hard_link(s.host("f"), &keep).unwrap();
    std::fs::remove_file(s.host("f")).unwrap();
    std::fs::write(s.host("f"), b"brand new").unwrap();
    let new = host_ino(&s.host("f"));
    assert_ne!(old, new);
    // The cached fid for `f` now names the new file: it must not be taken for the old one.
    assert_eq!(s.fs.stat(old), Err(Errno::Noent));
    assert_eq!(s.fs.open(old, RO), Err(Errno::Noent));
    assert_eq!(
        s.fs.set_times(old, wasi_p1::fs::SetTime::Now, wasi_p1::fs::SetTime::Now),
        Err(Errno::Noent)
    );
    assert_eq!(s.path("f").unwrap(), new);
    assert_eq!(s.fs.stat(new).unwrap().size, 9);
    // Found again under its other name, the old inode answers as itself.
    assert_eq!(s.path("kept").unwrap(), old);
    assert_eq!(s.fs.stat(old).unwrap().size, 3);
}

#[test]
fn a_lookup_in_a_directory_the_host_replaced_does_not_find_the_new_directorys_entries() {
    let s = share();
    std::fs::create_dir(s.host("d")).unwrap();
    std::fs::write(s.host("d/x"), b"old").unwrap();
    let d = s.path("d").unwrap();
    let x = s.fs.lookup(d, "x").unwrap();
    std::fs::rename(s.host("d"), s.host("moved")).unwrap();
    std::fs::create_dir(s.host("d")).unwrap();
    std::fs::write(s.host("d/x"), b"impostor").unwrap();
    std::fs::write(s.host("d/y"), b"impostor").unwrap();
    assert_eq!(s.fs.lookup(d, "y"), Err(Errno::Noent));
    assert_eq!(s.fs.lookup(d, "x"), Err(Errno::Noent));
    assert_eq!(s.fs.create_file(d, "z", RW).err(), Some(Errno::Noent));
    assert!(!s.host("d/z").exists() && !s.host("moved/z").exists());
    // Through its new name the directory is found again, with its own entries.
    let moved = s.path("moved").unwrap();
    assert_eq!(moved, d);
    assert_eq!(s.fs.lookup(d, "x"), Ok(x));
    assert_eq!(s.fs.stat(x).unwrap().size, 3);
}

#[test]
fn a_file_the_host_renames_is_found_under_its_new_name_with_the_same_inode() {
    let s = share();
    std::fs::write(s.host("a"), b"x").unwrap();
    let a = s.path("a").unwrap();
    std::fs::rename(s.host("a"), s.host("b")).unwrap();
    assert_eq!(s.fs.lookup(s.root(), "a"), Err(Errno::Noent));
    assert_eq!(s.path("b").unwrap(), a);
    assert_eq!(s.fs.stat(a).unwrap().size, 1);
}

#[test]
fn an_unlinked_open_file_keeps_its_data_until_closed() {
    let s = share();
    let (ino, h) = s.create("f", b"still here");
    s.fs.unlink(s.root(), "f").unwrap();
    assert!(!s.host("f").exists());
    assert_eq!(s.fs.lookup(s.root(), "f"), Err(Errno::Noent));
    assert_eq!(s.read_all(h), b"still here");
    assert_eq!(s.fs.write(h, 10, b"!").unwrap(), 1);
    let st = s.fs.fstat(h).unwrap();
    assert_eq!((st.size, st.nlink), (11, 0));
    // `stat` by inode finds it through the open handle.
    assert_eq!(s.fs.stat(ino).unwrap().size, 11);
    s.fs.set_len(h, 5).unwrap();
    assert_eq!(s.read_all(h), b"still");
    s.fs.close(h);
    assert_eq!(s.fs.stat(ino), Err(Errno::Noent));
}

#[test]
fn a_file_the_host_unlinks_while_it_is_open_stays_readable_and_writable() {
    let s = share();
    std::fs::write(s.host("f"), b"abc").unwrap();
    let h = s.fs.open(s.path("f").unwrap(), RW).unwrap();
    std::fs::remove_file(s.host("f")).unwrap();
    assert_eq!(s.fs.write(h, 3, b"def").unwrap(), 3);
    assert_eq!(s.read_all(h), b"abcdef");
    s.fs.close(h);
}

#[test]
fn opening_and_closing_many_times_leaves_the_servers_fid_table_as_it_was() {
    let s = share();
    std::fs::write(s.host("f"), b"x").unwrap();
    let f = s.path("f").unwrap();
    let baseline = s.server.fid_count();
    for _ in 0..5000 {
        let h = s.fs.open(f, RO).unwrap();
        let mut b = [0u8; 1];
        assert_eq!(s.fs.read(h, 0, &mut b).unwrap(), 1);
        s.fs.close(h);
    }
    for i in 0..500 {
        let (_, h) = s.fs.create_file(s.root(), &format!("n{i}"), RW).unwrap();
        s.fs.close(h);
    }
    assert_eq!(s.server.fid_count(), baseline);
}

#[test]
fn looking_up_thousands_of_names_keeps_the_fid_table_bounded() {
    let s = share();
    std::fs::create_dir(s.host("d")).unwrap();
    for i in 0..3000 {
        std::fs::write(s.host(&format!("d/{i}")), b"").unwrap();
    }
    let d = s.path("d").unwrap();
    let mut inos = Vec::new();
    for round in 0..2 {
        for i in 0..3000 {
            let ino = s.fs.lookup(d, &i.to_string()).unwrap();
            assert!(s.fs.stat(ino).is_ok());
            if round == 0 {
                inos.push(ino);
            } else {
                assert_eq!(inos[i], ino);
            }
        }
    }
    let limit = Limits::default().cached_fids;
    assert!(s.fs.cached_fids() <= limit);
    // The root's fid and the cached walk fids: nothing else.
    assert!(
        s.server.fid_count() <= limit + 1,
        "{} fids",
        s.server.fid_count()
    );
    assert_eq!(s.server.fid_count(), s.fs.client().fids_in_use());
}

#[test]
fn forgotten_inodes_are_found_again_by_name_and_open_ones_are_never_forgotten() {
    let s = share_with(
        ServerOptions::default(),
        MountOptions {
            limits: Limits {
                nodes: 64,
                cached_fids: 8,
            },
            ..MountOptions::default()
        },
    );
    std::fs::create_dir(s.host("keep")).unwrap();
    std::fs::write(s.host("keep/inside"), b"in").unwrap();
    std::fs::write(s.host("open"), b"open").unwrap();
    let keep = s.path("keep").unwrap();
    let dh = s.fs.open(keep, RO).unwrap();
    let open = s.path("open").unwrap();
    let fh = s.fs.open(open, RO).unwrap();
    for i in 0..500 {
        std::fs::write(s.host(&format!("f{i}")), b"").unwrap();
        s.fs.lookup(s.root(), &format!("f{i}")).unwrap();
    }
    assert!(s.fs.remembered_inodes() <= 65);
    assert!(s.server.fid_count() <= 8 + 1 + 2);
    // Pinned by their handles.
    assert!(s.fs.lookup(keep, "inside").is_ok());
    assert_eq!(s.fs.stat(open).unwrap().size, 4);
    assert_eq!(s.read_all(fh), b"open");
    s.fs.close(dh);
    s.fs.close(fh);
}

#[test]
fn unmounting_clunks_every_fid() {
    let s = share();
    std::fs::write(s.host("f"), b"x").unwrap();
    let f = s.path("f").unwrap();
    let _h = s.fs.open(f, RO).unwrap();
    assert!(s.server.fid_count() >= 3);
    let common::Share { dir, server, fs } = s;
    drop(fs);
    assert_eq!(server.fid_count(), 0);
    drop(dir);
}

#[test]
fn many_threads_at_once_see_their_own_files_while_the_host_renames_others() {
    // Few cached fids: evictions (and fid number reuse) race with requests in flight.
    let limits = Limits {
        nodes: 1024,
        cached_fids: 4,
    };
    let s = Arc::new(share_with(
        ServerOptions::default(),
        MountOptions {
            limits,
            ..MountOptions::default()
        },
    ));
    for t in 0..8 {
        std::fs::create_dir(s.host(&format!("t{t}"))).unwrap();
        for i in 0..20 {
            std::fs::write(s.host(&format!("t{t}/{i}")), format!("t{t}/{i}")).unwrap();
        }
    }
    std::fs::write(s.host("churn"), b"").unwrap();
    let churn_ino = host_ino(&s.host("churn"));
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let fs: &NinepFs<_> = &s.fs;
                for round in 0..30 {
                    let dir = fs.lookup(fs.root(), &format!("t{t}")).unwrap();
                    for i in 0..20 {
                        let name = format!("t{t}/{i}");
                        let ino = fs.lookup(dir, &i.to_string()).unwrap();
                        assert_eq!(fs.stat(ino).unwrap().size, name.len() as u64);
                        let h = fs.open(ino, RO).unwrap();
                        let mut buf = vec![0u8; 64];
                        let n = fs.read(h, 0, &mut buf).unwrap();
                        assert_eq!(&buf[..n], name.as_bytes(), "round {round}");
                        fs.close(h);
                    }
                }
            })
        })
        .collect();
    // The host moves a file back and forth meanwhile.
    let churn = {
        let s = s.clone();
        std::thread::spawn(move || {
            for i in 0..2000 {
                let (a, b) = if i % 2 == 0 {
                    ("churn", "churned")
                } else {
                    ("churned", "churn")
                };
                std::fs::rename(s.host(a), s.host(b)).unwrap();
                match s.fs.lookup(s.fs.root(), "churn") {
                    Ok(ino) => assert_eq!(ino, churn_ino),
                    Err(e) => assert_eq!(e, Errno::Noent),
                }
            }
        })
    };
    for w in workers {
        w.join().unwrap();
    }
    churn.join().unwrap();
    assert!(s.server.fid_count() <= limits.cached_fids + 1);
    assert_eq!(s.server.fid_count(), s.fs.client().fids_in_use());
}
