//! `file-seek`: `fd_seek` and `fd_tell` with each whence, offsets before the start (EINVAL),
//! a bad whence, seeking past the end and writing there (the gap reads as zeros), and seeking
//! a directory.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create", open_rw(d, "seek.bin", O_CREAT | O_TRUNC)) else {
        return;
    };
    let _ = write_all(fd, b"0123456789");
    show("tell", sys::fd_tell(fd));
    show("set 3", sys::fd_seek(fd, 3, WHENCE_SET));
    let mut two = [0u8; 2];
    show(
        "read 2",
        sys::fd_read(fd, &mut [&mut two]).map(|n| esc(&two[..n])),
    );
    show("cur +2", sys::fd_seek(fd, 2, WHENCE_CUR));
    show("cur -100", sys::fd_seek(fd, -100, WHENCE_CUR));
    show("tell after a failed seek", sys::fd_tell(fd));
    show("set -1", sys::fd_seek(fd, -1, WHENCE_SET));
    show("end -1", sys::fd_seek(fd, -1, WHENCE_END));
    show(
        "read 2 at end-1",
        sys::fd_read(fd, &mut [&mut two]).map(|n| esc(&two[..n])),
    );
    show("end 0", sys::fd_seek(fd, 0, WHENCE_END));
    show("read at end", sys::fd_read(fd, &mut [&mut two]));
    show("end +5", sys::fd_seek(fd, 5, WHENCE_END));
    show("write Z past the end", sys::fd_write(fd, &[b"Z"]));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    show("set 0", sys::fd_seek(fd, 0, WHENCE_SET));
    show("whole file", read_to_end(fd).map(|b| esc(&b)));
    show(
        "set to a huge offset",
        sys::fd_seek(fd, i64::MAX, WHENCE_SET),
    );
    show("cur +1 from there", sys::fd_seek(fd, 1, WHENCE_CUR));
    let _ = sys::fd_close(fd);
    if let Ok(dir) = open_dir(d, ".") {
        show("seek a directory", sys::fd_seek(dir, 0, WHENCE_SET));
        show("tell a directory", sys::fd_tell(dir));
        let _ = sys::fd_close(dir);
    }
    show("seek a preopen", sys::fd_seek(d, 0, WHENCE_CUR));
    use std::io::{Read, Seek, SeekFrom};
    let r = std::fs::File::open("/data/seek.bin").and_then(|mut f| {
        let end = f.seek(SeekFrom::End(-3))?;
        let mut s = String::new();
        f.read_to_string(&mut s)
            .map(|_| format!("at {end}: \"{}\"", esc(s.as_bytes())))
    });
    show_io("std seek from end", r);
}
