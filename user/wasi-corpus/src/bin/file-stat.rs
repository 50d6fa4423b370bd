//! `file-stat`: `fd_filestat_get` and `path_filestat_get` (following symlinks and not) on a
//! file, a directory, a symlink, an empty file and missing paths, and std's metadata; printing
//! kind, size and link count only, and that the three times are set.

use corpus::*;

fn stat(d: u32, flags: u32, path: &str) {
    match sys::path_filestat_get(d, flags, path) {
        Ok(st) => println!(
            "stat {path} (follow={flags}): {} times-set={}",
            describe(&st),
            st.atim > 0 && st.mtim > 0 && st.ctim > 0
        ),
        Err(e) => println!("stat {path} (follow={flags}): {e}"),
    }
}

fn main() {
    let d = preopen("/data");
    if let Ok(fd) = open_rw(d, "file.txt", O_CREAT | O_TRUNC) {
        let _ = write_all(fd, b"twelve bytes");
        show(
            "fd_filestat_get",
            sys::fd_filestat_get(fd).map(|s| describe(&s)),
        );
        let _ = sys::fd_close(fd);
    }
    let _ = open_rw(d, "empty.txt", O_CREAT | O_TRUNC);
    let _ = sys::path_create_directory(d, "dir");
    let _ = sys::path_symlink("file.txt", d, "link");
    let _ = sys::path_symlink("missing", d, "dangling");
    for path in [
        "file.txt",
        "empty.txt",
        "dir",
        "link",
        "dangling",
        "missing",
        "file.txt/x",
        "dir/",
    ] {
        stat(d, LOOKUP_FOLLOW, path);
        stat(d, LOOKUP_NOFOLLOW, path);
    }
    show(
        "filestat of the preopen",
        sys::fd_filestat_get(d).map(|s| describe(&s)),
    );
    let meta = |p: &str| match std::fs::metadata(p) {
        Ok(m) => format!(
            "file={} dir={} symlink={} len={}",
            m.is_file(),
            m.is_dir(),
            m.is_symlink(),
            if m.is_dir() { 0 } else { m.len() }
        ),
        Err(e) => io_errno(&e),
    };
    let lmeta = |p: &str| match std::fs::symlink_metadata(p) {
        Ok(m) => format!("symlink={} len={}", m.file_type().is_symlink(), m.len()),
        Err(e) => io_errno(&e),
    };
    println!("std metadata link: {}", meta("/data/link"));
    println!("std symlink_metadata link: {}", lmeta("/data/link"));
    println!("std metadata dangling: {}", meta("/data/dangling"));
    println!("std symlink_metadata dangling: {}", lmeta("/data/dangling"));
    println!("std metadata dir: {}", meta("/data/dir"));
}
