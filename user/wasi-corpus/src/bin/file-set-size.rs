//! `file-set-size`: `fd_filestat_set_size` (grow: the new bytes read as zeros; shrink; on a
//! read-only fd; on a directory) and std's `File::set_len`.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create", open_rw(d, "size.bin", O_CREAT | O_TRUNC)) else {
        return;
    };
    let _ = write_all(fd, b"abcdef");
    step("grow to 12", sys::fd_filestat_set_size(fd, 12));
    show("offset", sys::fd_tell(fd));
    let mut b = [0u8; 16];
    show(
        "pread",
        sys::fd_pread(fd, &mut [&mut b], 0).map(|n| esc(&b[..n])),
    );
    step("shrink to 3", sys::fd_filestat_set_size(fd, 3));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    show(
        "write at offset 6 (past the end)",
        sys::fd_write(fd, &[b"!"]),
    );
    show(
        "pread",
        sys::fd_pread(fd, &mut [&mut b], 0).map(|n| esc(&b[..n])),
    );
    step("set size 0", sys::fd_filestat_set_size(fd, 0));
    step("set size 2^63", sys::fd_filestat_set_size(fd, 1 << 63));
    let _ = sys::fd_close(fd);
    if let Some(ro) = step("open read-only", open_ro(d, "size.bin")) {
        step("set size on read-only", sys::fd_filestat_set_size(ro, 1));
        let _ = sys::fd_close(ro);
    }
    step("set size on a directory", sys::fd_filestat_set_size(d, 1));
    let r = std::fs::OpenOptions::new()
        .write(true)
        .open("/data/size.bin")
        .and_then(|f| f.set_len(5).and_then(|_| f.metadata()).map(|m| m.len()));
    show_io("std set_len 5", r);
}
