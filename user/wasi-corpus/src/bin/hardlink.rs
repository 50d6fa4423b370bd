//! `hardlink`: `path_link`: the link count goes to 2 and back, both names share contents
//! (a write through one reads through the other), and the errors: linking a directory, onto
//! an existing name, from a missing file, a trailing slash, out of the preopen; linking a
//! symlink with and without following it.

use corpus::*;

fn nlink(d: u32, p: &str) -> String {
    sys::path_filestat_get(d, 0, p).map_or_else(|e| e.to_string(), |s| describe(&s))
}

fn main() {
    let d = preopen("/data");
    if let Ok(fd) = open_rw(d, "orig", O_CREAT | O_TRUNC) {
        let _ = write_all(fd, b"shared");
        let _ = sys::fd_close(fd);
    }
    println!("orig: {}", nlink(d, "orig"));
    step(
        "link orig -> second",
        sys::path_link(d, 0, "orig", d, "second"),
    );
    println!("orig: {}", nlink(d, "orig"));
    println!("second: {}", nlink(d, "second"));
    if let Ok(fd) = open_rw(d, "second", 0) {
        let _ = sys::fd_pwrite(fd, &[b"SH"], 0);
        show("fd nlink", sys::fd_filestat_get(fd).map(|s| s.nlink));
        let _ = sys::fd_close(fd);
    }
    show(
        "orig reads",
        open_ro(d, "orig").and_then(read_to_end).map(|b| esc(&b)),
    );
    let _ = sys::path_create_directory(d, "sub");
    step(
        "link orig -> sub/third",
        sys::path_link(d, 0, "orig", d, "sub/third"),
    );
    println!("orig: {}", nlink(d, "orig"));
    step("unlink orig", sys::path_unlink_file(d, "orig"));
    println!("second: {}", nlink(d, "second"));
    step(
        "link a directory",
        sys::path_link(d, 0, "sub", d, "sublink"),
    );
    step(
        "link onto an existing name",
        sys::path_link(d, 0, "second", d, "sub/third"),
    );
    step(
        "link a missing file",
        sys::path_link(d, 0, "missing", d, "x"),
    );
    step(
        "link with a trailing slash",
        sys::path_link(d, 0, "second/", d, "x"),
    );
    step(
        "link to a trailing slash",
        sys::path_link(d, 0, "second", d, "x/"),
    );
    step(
        "link out of the preopen",
        sys::path_link(d, 0, "second", d, "../x"),
    );
    step(
        "link into a missing dir",
        sys::path_link(d, 0, "second", d, "nodir/x"),
    );
    let _ = sys::path_symlink("second", d, "sym");
    step(
        "link a symlink (nofollow)",
        sys::path_link(d, 0, "sym", d, "sym-hard"),
    );
    println!("sym-hard: {}", nlink(d, "sym-hard"));
    step(
        "link a symlink (follow)",
        sys::path_link(d, LOOKUP_FOLLOW, "sym", d, "sym-followed"),
    );
    println!("sym-followed: {}", nlink(d, "sym-followed"));
    step_io(
        "std hard_link",
        std::fs::hard_link("/data/second", "/data/std-link"),
    );
    println!("second: {}", nlink(d, "second"));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
