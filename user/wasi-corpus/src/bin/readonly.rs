//! `readonly`: in a read-only preopen `/ro` (fixture `ro/`), reading works and every change is
//! refused: opening to write, creating, truncating, mkdir, rmdir, unlink, rename, link,
//! symlink, set_times, set_size, allocate; and the rights the preopen and its files report.

use corpus::*;

fn main() {
    let d = preopen("/ro");
    show(
        "preopen rights",
        sys::fd_fdstat_get(d).map(|s| rights_names(s.rights_base)),
    );
    show(
        "preopen inheriting",
        sys::fd_fdstat_get(d).map(|s| rights_names(s.rights_inheriting)),
    );
    show(
        "read readme.txt",
        open_ro(d, "readme.txt")
            .and_then(read_to_end)
            .map(|b| esc(&b)),
    );
    show(
        "read dir/file.txt",
        open_ro(d, "dir/file.txt")
            .and_then(read_to_end)
            .map(|b| esc(&b)),
    );
    show("listing", listing(d, "."));
    show(
        "stat readme.txt",
        sys::path_filestat_get(d, 1, "readme.txt").map(|s| describe(&s)),
    );
    if let Ok(fd) = open_ro(d, "readme.txt") {
        show(
            "file rights",
            sys::fd_fdstat_get(fd).map(|s| rights_names(s.rights_base)),
        );
        show("write via read-only fd", sys::fd_write(fd, &[b"x"]));
        step(
            "set size via read-only fd",
            sys::fd_filestat_set_size(fd, 0),
        );
        step(
            "set times via read-only fd",
            sys::fd_filestat_set_times(fd, 0, 0, FST_MTIM_NOW),
        );
        step("allocate via read-only fd", sys::fd_allocate(fd, 0, 10));
        step(
            "set append flag",
            sys::fd_fdstat_set_flags(fd, FDFLAGS_APPEND),
        );
    }
    show("open readme.txt read-write", open_rw(d, "readme.txt", 0));
    show(
        "open readme.txt write-only",
        sys::path_open(d, 1, "readme.txt", 0, FD_WRITE, 0, 0),
    );
    show(
        "open readme.txt trunc",
        sys::path_open(d, 1, "readme.txt", O_TRUNC, FD_READ, 0, 0),
    );
    show(
        "open readme.txt append",
        sys::path_open(d, 1, "readme.txt", 0, FD_READ, 0, FDFLAGS_APPEND),
    );
    show("create new.txt", open_rw(d, "new.txt", O_CREAT));
    show(
        "create new.txt, read rights only",
        sys::path_open(d, 1, "new.txt", O_CREAT, FD_READ, 0, 0),
    );
    step("mkdir newdir", sys::path_create_directory(d, "newdir"));
    step("rmdir dir", sys::path_remove_directory(d, "dir"));
    step("unlink readme.txt", sys::path_unlink_file(d, "readme.txt"));
    step(
        "rename readme.txt",
        sys::path_rename(d, "readme.txt", d, "moved.txt"),
    );
    step(
        "link readme.txt",
        sys::path_link(d, 0, "readme.txt", d, "hard.txt"),
    );
    step("symlink", sys::path_symlink("readme.txt", d, "sym"));
    step(
        "set times by path",
        sys::path_filestat_set_times(d, 1, "readme.txt", 0, 0, FST_MTIM_NOW),
    );
    step(
        "set times on the preopen",
        sys::fd_filestat_set_times(d, 0, 0, FST_MTIM_NOW),
    );
    step_io("std write", std::fs::write("/ro/readme.txt", b"changed"));
    step_io("std create", std::fs::File::create("/ro/std.txt"));
    step_io("std remove_file", std::fs::remove_file("/ro/readme.txt"));
    show("listing after", listing(d, "."));
    show(
        "readme.txt after",
        open_ro(d, "readme.txt")
            .and_then(read_to_end)
            .map(|b| esc(&b)),
    );
}
