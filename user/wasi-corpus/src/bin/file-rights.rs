//! `file-rights`: the rights `fd_fdstat_get` reports for files opened with different rights,
//! for a directory and a preopen; reads and writes without the right; and
//! `fd_fdstat_set_rights` (shrink, then try to grow back).

use corpus::*;

fn rights(label: &str, fd: u32) {
    match sys::fd_fdstat_get(fd) {
        Ok(st) => println!(
            "{label}: {} base={} inheriting={}",
            filetype_name(st.filetype),
            rights_names(st.rights_base),
            rights_names(st.rights_inheriting)
        ),
        Err(e) => println!("{label}: {e}"),
    }
}

fn main() {
    let d = preopen("/data");
    rights("preopen", d);
    let _ = sys::path_create_directory(d, "sub");
    if let Ok(fd) = open_rw(d, "r.txt", O_CREAT | O_TRUNC) {
        let _ = write_all(fd, b"data");
        rights("file rw", fd);
        let _ = sys::fd_close(fd);
    }
    let mut b = [0u8; 8];
    if let Some(fd) = step(
        "open FD_READ only",
        sys::path_open(d, 1, "r.txt", 0, FD_READ, 0, 0),
    ) {
        rights("file read-only", fd);
        show("write", sys::fd_write(fd, &[b"x"]));
        show(
            "read",
            sys::fd_read(fd, &mut [&mut b]).map(|n| esc(&b[..n])),
        );
        show("seek (not granted)", sys::fd_seek(fd, 0, WHENCE_SET));
        show(
            "filestat (not granted)",
            sys::fd_filestat_get(fd).map(|s| s.size),
        );
        let _ = sys::fd_close(fd);
    }
    if let Some(fd) = step(
        "open FD_WRITE only",
        sys::path_open(d, 1, "r.txt", 0, FD_WRITE, 0, 0),
    ) {
        rights("file write-only", fd);
        show("read", sys::fd_read(fd, &mut [&mut b]));
        show("write", sys::fd_write(fd, &[b"W"]));
        let _ = sys::fd_close(fd);
    }
    if let Some(fd) = step(
        "open with no rights",
        sys::path_open(d, 1, "r.txt", 0, 0, 0, 0),
    ) {
        rights("file no rights", fd);
        show("read", sys::fd_read(fd, &mut [&mut b]));
        let _ = sys::fd_close(fd);
    }
    if let Some(fd) = step(
        "open with every right",
        sys::path_open(d, 1, "r.txt", 0, ALL_RIGHTS, ALL_RIGHTS, 0),
    ) {
        rights("file all rights", fd);
        step(
            "set_rights to read",
            sys::fd_fdstat_set_rights(fd, FD_READ, 0),
        );
        rights("after set_rights", fd);
        show("write after dropping it", sys::fd_write(fd, &[b"x"]));
        step(
            "set_rights back to all",
            sys::fd_fdstat_set_rights(fd, ALL_RIGHTS, 0),
        );
        rights("after growing", fd);
        let _ = sys::fd_close(fd);
    }
    if let Ok(dir) = open_dir(d, "sub") {
        rights("directory", dir);
        show("read a directory", sys::fd_read(dir, &mut [&mut b]));
        show("write a directory", sys::fd_write(dir, &[b"x"]));
        let _ = sys::fd_close(dir);
    }
    show(
        "open a dir with read rights only",
        sys::path_open(d, 1, "sub", O_DIRECTORY, FD_READ, 0, 0).map(|_| "opened"),
    );
    show(
        "final",
        open_ro(d, "r.txt").and_then(read_to_end).map(|b| esc(&b)),
    );
}
