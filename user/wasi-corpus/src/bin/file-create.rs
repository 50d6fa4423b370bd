//! `file-create`: creating and opening files in the preopen `/data` (which holds `existing.txt`
//! and the directory `sub/`): O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY and the errors of each,
//! through the raw `path_open` and through `std::fs`.

use corpus::*;
use std::fs::{File, OpenOptions};
use std::io::Write;

fn size(d: u32, path: &str) -> String {
    match sys::path_filestat_get(d, LOOKUP_FOLLOW, path) {
        Ok(st) => describe(&st),
        Err(e) => e.to_string(),
    }
}

fn main() {
    let d = preopen("/data");
    let fd = step("create new.txt", open_rw(d, "new.txt", O_CREAT));
    if let Some(fd) = fd {
        step("write new.txt", write_all(fd, b"fresh\n"));
        step("close new.txt", sys::fd_close(fd));
    }
    println!("new.txt: {}", size(d, "new.txt"));
    show(
        "create|excl existing.txt",
        open_rw(d, "existing.txt", O_CREAT | O_EXCL),
    );
    show(
        "create|excl new2.txt",
        open_rw(d, "new2.txt", O_CREAT | O_EXCL).map(|_| "opened"),
    );
    show(
        "excl without creat",
        open_rw(d, "existing.txt", O_EXCL).map(|_| "opened"),
    );
    show("open missing.txt", open_rw(d, "missing.txt", 0));
    println!("existing.txt before trunc: {}", size(d, "existing.txt"));
    if let Some(fd) = step(
        "open existing.txt trunc",
        open_rw(d, "existing.txt", O_TRUNC),
    ) {
        println!("existing.txt after trunc: {}", size(d, "existing.txt"));
        step("write existing.txt", write_all(fd, b"rewritten\n"));
        let _ = sys::fd_close(fd);
    }
    show("open sub for writing", open_rw(d, "sub", 0));
    show("open sub read-only", open_ro(d, "sub").map(|_| "opened"));
    show("directory flag on a file", open_dir(d, "existing.txt"));
    show(
        "creat|directory",
        sys::path_open(d, 1, "newdir", O_CREAT | O_DIRECTORY, ALL_RIGHTS, 0, 0),
    );
    show(
        "create in a missing dir",
        open_rw(d, "nodir/x.txt", O_CREAT),
    );
    show("create under a file", open_rw(d, "existing.txt/x", O_CREAT));
    show(
        "create with a trailing slash",
        open_rw(d, "slash.txt/", O_CREAT),
    );
    show("open empty path", open_ro(d, ""));
    show(
        "create in sub",
        open_rw(d, "sub/inner.txt", O_CREAT).map(|_| "opened"),
    );
    show(
        "create|trunc|excl",
        open_rw(d, "sub/inner.txt", O_CREAT | O_TRUNC | O_EXCL),
    );
    // The same through std.
    step_io(
        "std create",
        File::create("/data/std.txt").and_then(|mut f| f.write_all(b"std\n")),
    );
    step_io(
        "std create_new existing",
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("/data/std.txt"),
    );
    step_io("std open missing", File::open("/data/none"));
    // Deliberately nonsensical: std refuses truncate without write before any call.
    #[allow(clippy::nonsensical_open_options)]
    step_io(
        "std truncate without write",
        OpenOptions::new()
            .read(true)
            .truncate(true)
            .open("/data/std.txt"),
    );
    step_io("std create on a dir", File::create("/data/sub"));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
