//! `rename-dir`: `path_rename` of directories: to a new name (contents follow), over an empty
//! directory (replaced), over a non-empty one (ENOTEMPTY), over a file (ENOTDIR), into itself
//! (EINVAL), with trailing slashes, and `.`/`..` as source or target.

use corpus::*;

fn main() {
    let d = preopen("/data");
    for p in ["d1", "d1/inner", "d2", "full", "full/x", "empty"] {
        let _ = sys::path_create_directory(d, p);
    }
    let _ = open_rw(d, "file", O_CREAT);
    let _ = open_rw(d, "d1/inner/f", O_CREAT);
    step("d1 -> moved", sys::path_rename(d, "d1", d, "moved"));
    show(
        "moved/inner/f",
        sys::path_filestat_get(d, 0, "moved/inner/f").map(|s| describe(&s)),
    );
    step(
        "moved -> empty (replaces it)",
        sys::path_rename(d, "moved", d, "empty"),
    );
    step(
        "empty -> full (not empty)",
        sys::path_rename(d, "empty", d, "full"),
    );
    step("empty -> file", sys::path_rename(d, "empty", d, "file"));
    step(
        "file -> d2 (a file over a dir)",
        sys::path_rename(d, "file", d, "d2"),
    );
    step(
        "empty -> empty/inner/sub (into itself)",
        sys::path_rename(d, "empty", d, "empty/inner/sub"),
    );
    step(
        "empty/ -> d3/ (trailing slashes)",
        sys::path_rename(d, "empty/", d, "d3/"),
    );
    step("d3 -> d4/", sys::path_rename(d, "d3", d, "d4/"));
    step("d4/ -> d5", sys::path_rename(d, "d4/", d, "d5"));
    step(". -> x", sys::path_rename(d, ".", d, "x"));
    step("d5 -> .", sys::path_rename(d, "d5", d, "."));
    step("d5/. -> d6", sys::path_rename(d, "d5/.", d, "d6"));
    step("d5 -> d2/..", sys::path_rename(d, "d5", d, "d2/.."));
    step(
        "d5 -> d2/d5 (into a sibling)",
        sys::path_rename(d, "d5", d, "d2/d5"),
    );
    step(
        "d2/d5 -> d2/d5 (itself)",
        sys::path_rename(d, "d2/d5", d, "d2/d5"),
    );
    step(
        "d2 -> d2/d5 (onto its own child)",
        sys::path_rename(d, "d2", d, "d2/d5"),
    );
    step_io(
        "std rename full -> full2",
        std::fs::rename("/data/full", "/data/full2"),
    );
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
    println!("d2: {}", listing(d, "d2").unwrap_or_else(|e| e.to_string()));
    println!(
        "d2/d5: {}",
        listing(d, "d2/d5").unwrap_or_else(|e| e.to_string())
    );
}
