//! `unlink`: `path_unlink_file`: a file, a missing name, a directory, a trailing slash on a
//! file, a symlink (not its target), a dangling symlink, and a file still open (its fd keeps
//! working); and std's `remove_file`.

use corpus::*;

fn main() {
    let d = preopen("/data");
    for name in ["a", "b", "open"] {
        if let Ok(fd) = open_rw(d, name, O_CREAT) {
            let _ = write_all(fd, name.as_bytes());
            let _ = sys::fd_close(fd);
        }
    }
    let _ = sys::path_create_directory(d, "dir");
    let _ = sys::path_symlink("b", d, "link");
    let _ = sys::path_symlink("gone", d, "dangling");
    step("unlink a", sys::path_unlink_file(d, "a"));
    step("unlink a again", sys::path_unlink_file(d, "a"));
    step("unlink dir", sys::path_unlink_file(d, "dir"));
    step("unlink dir/", sys::path_unlink_file(d, "dir/"));
    step("unlink b/", sys::path_unlink_file(d, "b/"));
    step("unlink link", sys::path_unlink_file(d, "link"));
    show(
        "b still there",
        sys::path_filestat_get(d, 0, "b").map(|s| describe(&s)),
    );
    step("unlink dangling", sys::path_unlink_file(d, "dangling"));
    step("unlink .", sys::path_unlink_file(d, "."));
    step("unlink empty path", sys::path_unlink_file(d, ""));
    if let Ok(fd) = open_rw(d, "open", 0) {
        step("unlink an open file", sys::path_unlink_file(d, "open"));
        show(
            "stat it by path",
            sys::path_filestat_get(d, 0, "open").map(|s| describe(&s)),
        );
        show(
            "its fd still reads",
            sys::fd_pread(fd, &mut [&mut [0u8; 8]], 0),
        );
        show("and writes", sys::fd_write(fd, &[b"more"]));
        show(
            "fd filestat",
            sys::fd_filestat_get(fd).map(|s| format!("size={} nlink={}", s.size, s.nlink)),
        );
        let _ = sys::fd_close(fd);
    }
    step_io("std remove_file b", std::fs::remove_file("/data/b"));
    step_io("std remove_file dir", std::fs::remove_file("/data/dir"));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
