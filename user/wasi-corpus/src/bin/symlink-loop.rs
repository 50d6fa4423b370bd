//! `symlink-loop`: opening through symlink loops (a pair, a link to itself, a long chain) gives
//! ELOOP; O_NOFOLLOW-style opens (no SYMLINK_FOLLOW) of a symlink; a symlink in the middle of
//! a path; O_DIRECTORY through a link to a file; and creating through a chain.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let _ = open_rw(d, "file", O_CREAT);
    let _ = sys::path_create_directory(d, "dir");
    let _ = sys::path_symlink("b", d, "a");
    let _ = sys::path_symlink("a", d, "b");
    let _ = sys::path_symlink("self", d, "self");
    for i in 0..50 {
        let _ = sys::path_symlink(&format!("chain{}", i + 1), d, &format!("chain{i}"));
    }
    let _ = sys::path_symlink("file", d, "chain50");
    let _ = sys::path_symlink("file", d, "to-file");
    let _ = sys::path_symlink("dir", d, "to-dir");
    for p in [
        "a", "self", "chain0", "chain45", "a/x", "to-file", "to-dir", "to-dir/",
    ] {
        show(
            &format!("open {p} (follow)"),
            open_ro(d, p).map(|_| "opened"),
        );
        show(
            &format!("open {p} (nofollow)"),
            sys::path_open(d, LOOKUP_NOFOLLOW, p, 0, FD_READ, 0, 0).map(|_| "opened"),
        );
        show(
            &format!("stat {p} (follow)"),
            sys::path_filestat_get(d, LOOKUP_FOLLOW, p).map(|s| describe(&s)),
        );
    }
    show("open to-file as a directory", open_dir(d, "to-file"));
    show(
        "open to-dir as a directory (nofollow)",
        sys::path_open(d, 0, "to-dir", O_DIRECTORY, FD_READDIR, 0, 0),
    );
    show("create through a loop", open_rw(d, "a", O_CREAT));
    show(
        "create|excl on a symlink to a file",
        open_rw(d, "to-file", O_CREAT | O_EXCL),
    );
    show(
        "mkdir at a symlink",
        sys::path_create_directory(d, "to-dir").map(|_| "made"),
    );
    show(
        "std read loop",
        std::fs::read("/data/a")
            .map(|v| v.len())
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(0) as u16)),
    );
    show(
        "std metadata self",
        std::fs::metadata("/data/self")
            .map(|m| m.is_file())
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(0) as u16)),
    );
}
