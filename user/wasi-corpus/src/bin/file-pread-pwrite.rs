//! `file-pread-pwrite`: positional reads and writes leave the offset alone, `pwrite` past the
//! end extends the file, `pread` past the end reads nothing, several iovecs, and the errors
//! on fds opened without the right.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create", open_rw(d, "p.bin", O_CREAT | O_TRUNC)) else {
        return;
    };
    show("write head", sys::fd_write(fd, &[b"head"]));
    show("pwrite at 100", sys::fd_pwrite(fd, &[b"tail"], 100));
    show("tell", sys::fd_tell(fd));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    let mut buf = [0u8; 10];
    show(
        "pread 10 at 98",
        sys::fd_pread(fd, &mut [&mut buf], 98).map(|n| esc(&buf[..n])),
    );
    show("pread at 104", sys::fd_pread(fd, &mut [&mut buf], 104));
    show("pread at 1000", sys::fd_pread(fd, &mut [&mut buf], 1000));
    show(
        "pwrite 2 iovecs at 2",
        sys::fd_pwrite(fd, &[b"AB", b"", b"CD"], 2),
    );
    let (mut a, mut b) = ([0u8; 3], [0u8; 4]);
    let r = sys::fd_pread(fd, &mut [&mut a, &mut b], 0);
    show(
        "pread 2 iovecs at 0",
        r.map(|n| format!("{n} \"{}\" \"{}\"", esc(&a), esc(&b))),
    );
    show("tell still", sys::fd_tell(fd));
    show(
        "pwrite at offset -1 as u64",
        sys::fd_pwrite(fd, &[b"x"], u64::MAX),
    );
    let _ = sys::fd_close(fd);
    if let Some(ro) = step("open read-only", open_ro(d, "p.bin")) {
        show("pwrite on read-only", sys::fd_pwrite(ro, &[b"no"], 0));
        show("write on read-only", sys::fd_write(ro, &[b"no"]));
        let _ = sys::fd_close(ro);
    }
    let wo = sys::path_open(d, LOOKUP_FOLLOW, "p.bin", 0, FD_WRITE, 0, 0);
    if let Some(wo) = step("open write-only", wo) {
        show("pread on write-only", sys::fd_pread(wo, &mut [&mut buf], 0));
        show("read on write-only", sys::fd_read(wo, &mut [&mut buf]));
        show("pwrite on write-only", sys::fd_pwrite(wo, &[b"W"], 0));
        let _ = sys::fd_close(wo);
    }
    if let Ok(dir) = open_dir(d, ".") {
        show(
            "pread on a directory",
            sys::fd_pread(dir, &mut [&mut buf], 0),
        );
        show("pwrite on a directory", sys::fd_pwrite(dir, &[b"x"], 0));
    }
    show(
        "final",
        open_ro(d, "p.bin").and_then(read_to_end).map(|b| esc(&b)),
    );
}
