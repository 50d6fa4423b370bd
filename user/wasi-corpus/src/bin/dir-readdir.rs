//! `dir-readdir [DIR]` (default `.` of `/data`): raw `fd_readdir`. Lists the entries sorted
//! with their types (inodes left out; `.` and `..` included if the host reports them), checks
//! that resuming at each entry's cookie gives the rest of the listing, reads with small
//! buffers (entries cut at the buffer's end), reads past the last cookie, and readdir on a file.

use corpus::sys::{Dirent, fd_readdir, parse_dirents};
use corpus::*;

fn names(v: &[Dirent]) -> Vec<String> {
    v.iter()
        .map(|e| format!("{}:{}", esc(&e.name), filetype_name(e.kind)))
        .collect()
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let d = preopen("/data");
    let Some(fd) = step(&format!("open {path}"), open_dir(d, &path)) else {
        return;
    };
    let all = match sys::read_dir_all(fd) {
        Ok(a) => a,
        Err(e) => {
            println!("readdir: {e}");
            return;
        }
    };
    let mut sorted = names(&all);
    sorted.sort();
    println!("{} entries", all.len());
    for n in &sorted {
        println!("  {n}");
    }
    let mut consistent = true;
    for (k, e) in all.iter().enumerate() {
        let mut buf = vec![0u8; 65536];
        let rest = fd_readdir(fd, &mut buf, e.next).map(|u| parse_dirents(&buf[..u]).0);
        if rest.as_deref() != Ok(&all[k + 1..]) {
            consistent = false;
            println!(
                "resume after entry {k} differs: {:?}",
                rest.map(|r| names(&r))
            );
        }
    }
    println!("resuming at every cookie gives the rest: {consistent}");
    let mut buf = vec![0u8; 65536];
    let first = fd_readdir(fd, &mut buf, 0).map(|u| parse_dirents(&buf[..u]).0);
    println!(
        "cookie 0 again gives everything: {}",
        first.as_deref() == Ok(&all[..])
    );
    for size in [1usize, 23, 24, 30, 100] {
        let mut small = vec![0u8; size];
        let (mut cookie, mut got, mut calls) = (0u64, Vec::new(), 0);
        let mut stuck = false;
        loop {
            calls += 1;
            let Ok(used) = fd_readdir(fd, &mut small, cookie) else {
                break;
            };
            let (entries, cut) = parse_dirents(&small[..used]);
            if used < size && !cut {
                got.extend(entries);
                break;
            }
            match entries.last() {
                Some(last) => cookie = last.next,
                None => {
                    // Not even one entry fits: read it whole with a buffer of its size.
                    let mut big = vec![0u8; 4096];
                    let Ok(u) = fd_readdir(fd, &mut big, cookie) else {
                        break;
                    };
                    let one = parse_dirents(&big[..u]).0;
                    let Some(e) = one.into_iter().next() else {
                        break;
                    };
                    cookie = e.next;
                    got.push(e);
                    if calls > 10_000 {
                        stuck = true;
                        break;
                    }
                    continue;
                }
            }
            got.extend(entries);
            if calls > 10_000 {
                stuck = true;
                break;
            }
        }
        println!(
            "buffer of {size} bytes: same entries: {}{}",
            got == all,
            if stuck { " (stuck)" } else { "" }
        );
    }
    let last = all.last().map_or(0, |e| e.next);
    show("read at the last cookie", fd_readdir(fd, &mut buf, last));
    show(
        "read at a cookie far past the end",
        fd_readdir(fd, &mut buf, last + 1000),
    );
    show("zero-length buffer", fd_readdir(fd, &mut [], 0));
    if let Ok(f) = open_rw(d, "readdir-file", O_CREAT) {
        show("readdir on a file", fd_readdir(f, &mut buf, 0));
        let _ = sys::fd_close(f);
        let _ = sys::path_unlink_file(d, "readdir-file");
    }
    show("readdir on stdout", fd_readdir(1, &mut buf, 0));
}
