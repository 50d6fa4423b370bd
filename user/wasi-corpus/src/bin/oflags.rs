//! `oflags`: `path_open` with fdflags (append, dsync, nonblock, rsync, sync) and oflag
//! combinations, printing whether each opens and the fdflags the new fd reports; and
//! `fd_fdstat_set_flags` with each flag on an open file.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let _ = open_rw(d, "f", O_CREAT);
    for (flags, name) in [
        (0, "none"),
        (FDFLAGS_APPEND, "append"),
        (FDFLAGS_DSYNC, "dsync"),
        (FDFLAGS_NONBLOCK, "nonblock"),
        (FDFLAGS_RSYNC, "rsync"),
        (FDFLAGS_SYNC, "sync"),
        (FDFLAGS_APPEND | FDFLAGS_NONBLOCK, "append|nonblock"),
    ] {
        let r = sys::path_open(d, 1, "f", 0, FILE_RW, 0, flags)
            .and_then(|fd| sys::fd_fdstat_get(fd).map(|s| fdflags_names(s.flags)));
        show(&format!("open with {name}, reports"), r);
    }
    for (o, name) in [
        (O_CREAT, "creat"),
        (O_TRUNC, "trunc"),
        (O_EXCL, "excl"),
        (O_DIRECTORY, "directory"),
        (O_CREAT | O_TRUNC, "creat|trunc"),
        (O_DIRECTORY | O_TRUNC, "directory|trunc"),
        (O_CREAT | O_DIRECTORY | O_EXCL, "creat|directory|excl"),
    ] {
        show(
            &format!("open f with {name}"),
            sys::path_open(d, 1, "f", o, FILE_RW, 0, 0).map(|_| "opened"),
        );
        show(
            &format!("open . with {name}"),
            sys::path_open(d, 1, ".", o, FD_READDIR, 0, 0).map(|_| "opened"),
        );
    }
    show(
        "trunc with read rights only",
        sys::path_open(d, 1, "f", O_TRUNC, FD_READ, 0, 0).map(|_| "opened"),
    );
    show(
        "creat with no rights",
        sys::path_open(d, 1, "g", O_CREAT, 0, 0, 0).map(|_| "opened"),
    );
    if let Ok(fd) = open_rw(d, "f", 0) {
        for (flags, name) in [
            (FDFLAGS_APPEND, "append"),
            (FDFLAGS_DSYNC, "dsync"),
            (FDFLAGS_NONBLOCK, "nonblock"),
            (FDFLAGS_RSYNC, "rsync"),
            (FDFLAGS_SYNC, "sync"),
            (0, "none"),
        ] {
            let r = sys::fd_fdstat_set_flags(fd, flags)
                .and_then(|_| sys::fd_fdstat_get(fd))
                .map(|s| fdflags_names(s.flags));
            show(&format!("set_flags {name}, reports"), r);
        }
    }
    if let Ok(dir) = open_dir(d, ".") {
        step(
            "set_flags nonblock on a directory",
            sys::fd_fdstat_set_flags(dir, FDFLAGS_NONBLOCK),
        );
        step(
            "set_flags append on a directory",
            sys::fd_fdstat_set_flags(dir, FDFLAGS_APPEND),
        );
    }
}
