//! `bad-fd`: every fd call on an fd that is not open (EBADF), and the fd calls that do not
//! apply on a directory and on stdio.

use corpus::*;

fn all(label: &str, fd: u32) {
    let mut b = [0u8; 8];
    show(&format!("{label} read"), sys::fd_read(fd, &mut [&mut b]));
    show(&format!("{label} write"), sys::fd_write(fd, &[b"x"]));
    show(
        &format!("{label} pread"),
        sys::fd_pread(fd, &mut [&mut b], 0),
    );
    show(&format!("{label} pwrite"), sys::fd_pwrite(fd, &[b"x"], 0));
    show(&format!("{label} seek"), sys::fd_seek(fd, 0, WHENCE_CUR));
    show(&format!("{label} tell"), sys::fd_tell(fd));
    step(&format!("{label} sync"), sys::fd_sync(fd));
    step(&format!("{label} datasync"), sys::fd_datasync(fd));
    step(&format!("{label} advise"), sys::fd_advise(fd, 0, 1, 0));
    step(&format!("{label} allocate"), sys::fd_allocate(fd, 0, 1));
    show(
        &format!("{label} fdstat"),
        sys::fd_fdstat_get(fd).map(|s| filetype_name(s.filetype)),
    );
    step(
        &format!("{label} set_flags"),
        sys::fd_fdstat_set_flags(fd, 0),
    );
    show(
        &format!("{label} filestat"),
        sys::fd_filestat_get(fd).map(|s| filetype_name(s.filetype)),
    );
    step(
        &format!("{label} set_size"),
        sys::fd_filestat_set_size(fd, 0),
    );
    step(
        &format!("{label} set_times"),
        sys::fd_filestat_set_times(fd, 0, 0, 0),
    );
    step(
        &format!("{label} readdir"),
        sys::fd_readdir(fd, &mut [0u8; 64], 0),
    );
    show(&format!("{label} path_open"), open_ro(fd, "x"));
    step(
        &format!("{label} mkdir"),
        sys::path_create_directory(fd, "x"),
    );
    show(
        &format!("{label} path_filestat"),
        sys::path_filestat_get(fd, 0, "x").map(|s| describe(&s)),
    );
}

fn main() {
    all("fd 42", 42);
    all("fd u32::MAX", u32::MAX);
    let d = preopen("/data");
    all("directory", d);
    all("stdin", 0);
    if let Ok(f) = open_rw(d, "file", O_CREAT) {
        show("file readdir", sys::fd_readdir(f, &mut [0u8; 64], 0));
        show("file path_open", open_ro(f, "x"));
        step("file mkdir", sys::path_create_directory(f, "x"));
        step("file unlink", sys::path_unlink_file(f, "x"));
        step("file symlink", sys::path_symlink("a", f, "x"));
    }
}
