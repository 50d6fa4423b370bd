//! `file-sync`: `fd_sync` and `fd_datasync` on a file opened to write, one opened to read only,
//! a directory, stdout, and a closed fd; and std's `sync_all`/`sync_data`.

use corpus::*;

fn main() {
    let d = preopen("/data");
    if let Some(fd) = step("create", open_rw(d, "s.txt", O_CREAT | O_TRUNC)) {
        let _ = write_all(fd, b"synced");
        step("sync rw", sys::fd_sync(fd));
        step("datasync rw", sys::fd_datasync(fd));
        let _ = sys::fd_close(fd);
        step("sync closed", sys::fd_sync(fd));
    }
    if let Ok(fd) = open_ro(d, "s.txt") {
        step("sync read-only", sys::fd_sync(fd));
        step("datasync read-only", sys::fd_datasync(fd));
    }
    if let Ok(fd) = open_dir(d, ".") {
        step("sync a directory", sys::fd_sync(fd));
        step("datasync a directory", sys::fd_datasync(fd));
    }
    step("sync the preopen", sys::fd_sync(d));
    step("sync stdout", sys::fd_sync(1));
    let f = std::fs::OpenOptions::new().append(true).open("/data/s.txt");
    if let Some(f) = step_io("std open", f) {
        step_io("std sync_all", f.sync_all());
        step_io("std sync_data", f.sync_data());
    }
}
