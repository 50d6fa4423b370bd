//! `symlink-escape`: symlinks (from the fixture `links/`) that point out of the preopen, with
//! absolute targets (`/etc`, `/`, `/data/target.txt`) or through `..`, must not be followed
//! out; links whose `..` stays inside work. Also creating such links, and `..` after a link.

use corpus::*;

fn main() {
    let d = preopen("/data");
    for p in [
        "abs-etc",
        "abs-root",
        "abs-inside",
        "up",
        "up-file",
        "inner-ok",
        "inner/up-one",
        "inner/up-two",
        "chain1",
        "dir-link/up-one",
        "dir-link/../target.txt",
        "abs-etc/passwd",
        "up/etc/passwd",
    ] {
        show(
            &format!("read {p}"),
            open_ro(d, p).and_then(read_to_end).map(|b| esc(&b)),
        );
        show(
            &format!("stat {p}"),
            sys::path_filestat_get(d, LOOKUP_FOLLOW, p).map(|s| describe(&s)),
        );
        show(
            &format!("lstat {p}"),
            sys::path_filestat_get(d, 0, p).map(|s| describe(&s)),
        );
    }
    show("list abs-root", listing(d, "abs-root"));
    show("list up", listing(d, "up"));
    show("list dir-link", listing(d, "dir-link"));
    step(
        "create a link to /etc/passwd",
        sys::path_symlink("/etc/passwd", d, "new-abs"),
    );
    step(
        "create a link to ../..",
        sys::path_symlink("../..", d, "new-up"),
    );
    step(
        "create a link at ../x",
        sys::path_symlink("target.txt", d, "../x"),
    );
    show(
        "write through up-file",
        open_rw(d, "up-file", O_CREAT).map(|_| "opened"),
    );
    show(
        "mkdir through up",
        sys::path_create_directory(d, "up/made").map(|_| "made"),
    );
    show(
        "std read of the absolute link",
        std::fs::read("/data/abs-inside")
            .map(|b| esc(&b))
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(0) as u16)),
    );
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
