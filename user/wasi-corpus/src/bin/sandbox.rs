//! `sandbox`: paths that leave the preopen `/data` must be refused: `..` at the top and
//! deeper (`sub/../..`), absolute paths given to the raw calls, and through std: absolute
//! paths outside every preopen, `/data/../`, and relative paths.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let _ = sys::path_create_directory(d, "sub");
    let paths = [
        "..",
        "../outside.txt",
        "sub/../../outside.txt",
        "sub/../..",
        "/",
        "/etc/passwd",
        "/data",
        "/outside.txt",
        "./../outside.txt",
    ];
    for p in paths {
        show(&format!("open {p}"), open_ro(d, p).map(|_| "opened"));
        show(
            &format!("stat {p}"),
            sys::path_filestat_get(d, 1, p).map(|s| describe(&s)),
        );
    }
    step("create ../new.txt", open_rw(d, "../new.txt", O_CREAT));
    step(
        "mkdir ../newdir",
        sys::path_create_directory(d, "../newdir"),
    );
    step("mkdir /abs", sys::path_create_directory(d, "/abs"));
    step(
        "unlink ../outside.txt",
        sys::path_unlink_file(d, "../outside.txt"),
    );
    step(
        "rename ../outside.txt -> in.txt",
        sys::path_rename(d, "../outside.txt", d, "in.txt"),
    );
    step(
        "link ../outside.txt -> in.txt",
        sys::path_link(d, 0, "../outside.txt", d, "in.txt"),
    );
    step("readlink ..", sys::path_readlink(d, "..", &mut [0u8; 16]));
    step(
        "set times on ..",
        sys::path_filestat_set_times(d, 1, "..", 0, 0, FST_MTIM_NOW),
    );
    for p in [
        "/etc/passwd",
        "/data/../outside.txt",
        "/data/..",
        "/outside.txt",
        "outside.txt",
        "../outside.txt",
        "/datax/file",
        "//data/sub",
    ] {
        show_io(&format!("std read {p}"), std::fs::read(p).map(|b| b.len()));
        show_io(
            &format!("std metadata {p}"),
            std::fs::metadata(p).map(|m| m.is_dir()),
        );
    }
    show_io("std read_dir /", std::fs::read_dir("/").map(|r| r.count()));
    show_io(
        "std current_dir",
        std::env::current_dir().map(|p| p.display().to_string()),
    );
    show_io(
        "std canonicalize /data/sub",
        std::fs::canonicalize("/data/sub").map(|p| p.display().to_string()),
    );
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
