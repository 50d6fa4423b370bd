//! `file-append`: O_APPEND through fdflags and through `fd_fdstat_set_flags`: appends land at
//! the end whatever the offset, turning the flag off writes at the offset again, and what
//! `pwrite` does on an append-mode fd.

use corpus::*;

fn contents(d: u32, path: &str) -> String {
    match open_ro(d, path).and_then(read_to_end) {
        Ok(b) => format!("\"{}\"", esc(&b)),
        Err(e) => e.to_string(),
    }
}

fn main() {
    let d = preopen("/data");
    let Some(fd) = step("create log.txt", open_rw(d, "log.txt", O_CREAT | O_TRUNC)) else {
        return;
    };
    let _ = write_all(fd, b"abc");
    let _ = sys::fd_close(fd);
    let Some(fd) = step(
        "open append",
        sys::path_open(d, LOOKUP_FOLLOW, "log.txt", 0, FILE_RW, 0, FDFLAGS_APPEND),
    ) else {
        return;
    };
    show(
        "flags",
        sys::fd_fdstat_get(fd).map(|s| fdflags_names(s.flags)),
    );
    show("offset after open", sys::fd_tell(fd));
    show("seek to 0", sys::fd_seek(fd, 0, WHENCE_SET));
    show("write XYZ", sys::fd_write(fd, &[b"XYZ"]));
    show("offset after append", sys::fd_tell(fd));
    println!("contents: {}", contents(d, "log.txt"));
    show("pwrite at 1", sys::fd_pwrite(fd, &[b"p"], 1));
    println!("contents: {}", contents(d, "log.txt"));
    step("clear append", sys::fd_fdstat_set_flags(fd, 0));
    show(
        "flags",
        sys::fd_fdstat_get(fd).map(|s| fdflags_names(s.flags)),
    );
    show("seek to 1", sys::fd_seek(fd, 1, WHENCE_SET));
    show("write q", sys::fd_write(fd, &[b"q"]));
    println!("contents: {}", contents(d, "log.txt"));
    step(
        "set append again",
        sys::fd_fdstat_set_flags(fd, FDFLAGS_APPEND),
    );
    show("seek to 0", sys::fd_seek(fd, 0, WHENCE_SET));
    show("write END", sys::fd_write(fd, &[b"END"]));
    println!("contents: {}", contents(d, "log.txt"));
    let _ = sys::fd_close(fd);
    // std's append mode.
    use std::io::{Seek, SeekFrom, Write};
    let r = std::fs::OpenOptions::new()
        .append(true)
        .open("/data/log.txt")
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(0))?;
            f.write_all(b"+std")
        });
    step_io("std append", r);
    println!("contents: {}", contents(d, "log.txt"));
}
