//! `file-readv-writev`: `fd_write` and `fd_read` with several iovecs (some empty), with no
//! iovecs at all, and std's vectored I/O.

use corpus::*;
use std::io::{IoSlice, Write};

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create", open_rw(d, "v.txt", O_CREAT | O_TRUNC)) else {
        return;
    };
    show(
        "writev 4 iovecs",
        sys::fd_write(fd, &[b"one ", b"", b"two ", b"three\n"]),
    );
    show("writev no iovecs", sys::fd_write(fd, &[]));
    show("writev only empty", sys::fd_write(fd, &[b"", b""]));
    let _ = sys::fd_seek(fd, 0, WHENCE_SET);
    let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 0], [0u8; 5]);
    show(
        "readv 3 iovecs",
        sys::fd_read(fd, &mut [&mut a, &mut b, &mut c])
            .map(|n| format!("{n} \"{}\" \"{}\"", esc(&a), esc(&c))),
    );
    show("readv no iovecs", sys::fd_read(fd, &mut []));
    let mut rest = [0u8; 64];
    show(
        "read the rest",
        sys::fd_read(fd, &mut [&mut rest]).map(|n| esc(&rest[..n])),
    );
    let _ = sys::fd_close(fd);
    let r = std::fs::OpenOptions::new()
        .append(true)
        .open("/data/v.txt")
        .and_then(|mut f| f.write_vectored(&[IoSlice::new(b"std "), IoSlice::new(b"vectored\n")]));
    show_io("std write_vectored", r);
    show(
        "final",
        open_ro(d, "v.txt").and_then(read_to_end).map(|b| esc(&b)),
    );
}
