//! `dir-create-remove`: `path_create_directory` and `path_remove_directory` on the success
//! paths and the errors: EEXIST, a missing parent, removing a non-empty directory (ENOTEMPTY),
//! a file (ENOTDIR), `.`, trailing slashes, and `path_unlink_file` on a directory; then std's
//! `create_dir_all` and `remove_dir_all`.

use corpus::*;

fn main() {
    let d = preopen("/data");
    step("mkdir a", sys::path_create_directory(d, "a"));
    step("mkdir a again", sys::path_create_directory(d, "a"));
    step("mkdir a/b", sys::path_create_directory(d, "a/b"));
    step("mkdir x/y (no x)", sys::path_create_directory(d, "x/y"));
    step(
        "mkdir with trailing slash",
        sys::path_create_directory(d, "t/"),
    );
    step("mkdir empty path", sys::path_create_directory(d, ""));
    step("mkdir .", sys::path_create_directory(d, "."));
    let _ = open_rw(d, "a/file", O_CREAT);
    step("mkdir over a file", sys::path_create_directory(d, "a/file"));
    step(
        "mkdir under a file",
        sys::path_create_directory(d, "a/file/sub"),
    );
    step("rmdir a (not empty)", sys::path_remove_directory(d, "a"));
    step(
        "rmdir a/file (a file)",
        sys::path_remove_directory(d, "a/file"),
    );
    step("unlink a/b (a directory)", sys::path_unlink_file(d, "a/b"));
    step("rmdir missing", sys::path_remove_directory(d, "missing"));
    step("rmdir .", sys::path_remove_directory(d, "."));
    step("rmdir a/b/.", sys::path_remove_directory(d, "a/b/."));
    step("rmdir a/b/..", sys::path_remove_directory(d, "a/b/.."));
    step(
        "rmdir a/b/ (trailing slash)",
        sys::path_remove_directory(d, "a/b/"),
    );
    step("rmdir t", sys::path_remove_directory(d, "t"));
    step("unlink a/file", sys::path_unlink_file(d, "a/file"));
    step("rmdir a (now empty)", sys::path_remove_directory(d, "a"));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
    step_io("std create_dir_all", std::fs::create_dir_all("/data/p/q/r"));
    step_io("std write p/q/r/f", std::fs::write("/data/p/q/r/f", b"x"));
    step_io("std create_dir existing", std::fs::create_dir("/data/p/q"));
    step_io("std remove_dir non-empty", std::fs::remove_dir("/data/p"));
    step_io(
        "std create_dir_all keep",
        std::fs::create_dir_all("/data/keep/me"),
    );
    step_io("std remove_dir_all", std::fs::remove_dir_all("/data/p"));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
