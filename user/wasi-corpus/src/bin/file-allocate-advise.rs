//! `file-allocate-advise`: `fd_allocate` (growing, inside the file, zero length, on a
//! read-only fd, on a directory) and `fd_advise` with every advice, a bad advice, and bad fds.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create", open_rw(d, "alloc.bin", O_CREAT | O_TRUNC)) else {
        return;
    };
    let _ = write_all(fd, b"0123456789");
    step("allocate 0..100", sys::fd_allocate(fd, 0, 100));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    step("allocate inside", sys::fd_allocate(fd, 2, 3));
    step("allocate zero length", sys::fd_allocate(fd, 0, 0));
    step("allocate past the end", sys::fd_allocate(fd, 4096, 10));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    for (advice, name) in [
        "normal",
        "sequential",
        "random",
        "willneed",
        "dontneed",
        "noreuse",
    ]
    .iter()
    .enumerate()
    {
        step(
            &format!("advise {name}"),
            sys::fd_advise(fd, 0, 10, advice as u8),
        );
    }
    step(
        "advise a huge range",
        sys::fd_advise(fd, u64::MAX - 1, 10, 0),
    );
    let _ = sys::fd_close(fd);
    if let Some(ro) = step("open read-only", open_ro(d, "alloc.bin")) {
        step("allocate on read-only", sys::fd_allocate(ro, 0, 10));
        step("advise on read-only", sys::fd_advise(ro, 0, 10, 0));
        let _ = sys::fd_close(ro);
    }
    step("allocate on a directory", sys::fd_allocate(d, 0, 10));
    step("advise on a directory", sys::fd_advise(d, 0, 10, 0));
    step("allocate on a closed fd", sys::fd_allocate(fd, 0, 10));
    step("advise on stdout", sys::fd_advise(1, 0, 10, 0));
}
