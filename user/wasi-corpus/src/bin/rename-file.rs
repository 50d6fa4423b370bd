//! `rename-file`: `path_rename` of files: to a new name, over an existing file (replaced),
//! onto itself, over a directory (EISDIR), from a missing name (ENOENT), into a missing
//! directory, through a file, with trailing slashes on either side, and std's `fs::rename`.

use corpus::*;

fn put(d: u32, path: &str, text: &str) {
    if let Ok(fd) = open_rw(d, path, O_CREAT | O_TRUNC) {
        let _ = write_all(fd, text.as_bytes());
        let _ = sys::fd_close(fd);
    }
}

fn cat(d: u32, path: &str) -> String {
    open_ro(d, path)
        .and_then(read_to_end)
        .map_or_else(|e| e.to_string(), |b| format!("\"{}\"", esc(&b)))
}

fn main() {
    let d = preopen("/data");
    put(d, "a", "A");
    put(d, "b", "B");
    let _ = sys::path_create_directory(d, "dir");
    let _ = sys::path_create_directory(d, "empty");
    step("a -> c", sys::path_rename(d, "a", d, "c"));
    println!("a: {}, c: {}", cat(d, "a"), cat(d, "c"));
    step("c -> b (replaces b)", sys::path_rename(d, "c", d, "b"));
    println!("b: {}, c: {}", cat(d, "b"), cat(d, "c"));
    step("b -> b", sys::path_rename(d, "b", d, "b"));
    println!("b: {}", cat(d, "b"));
    step("b -> dir (a directory)", sys::path_rename(d, "b", d, "dir"));
    step(
        "b -> empty (an empty directory)",
        sys::path_rename(d, "b", d, "empty"),
    );
    step("missing -> x", sys::path_rename(d, "missing", d, "x"));
    step("b -> nodir/x", sys::path_rename(d, "b", d, "nodir/x"));
    step(
        "b -> b/x (through a file)",
        sys::path_rename(d, "b", d, "b/x"),
    );
    step(
        "b/ -> x (trailing slash on a file)",
        sys::path_rename(d, "b/", d, "x"),
    );
    step(
        "b -> x/ (trailing slash on the target)",
        sys::path_rename(d, "b", d, "x/"),
    );
    step("b -> dir/b", sys::path_rename(d, "b", d, "dir/b"));
    step(
        "dir/b -> dir/../b2",
        sys::path_rename(d, "dir/b", d, "dir/../b2"),
    );
    step(
        "b2 -> ../b2 (out of the preopen)",
        sys::path_rename(d, "b2", d, "../b2"),
    );
    step("empty source path", sys::path_rename(d, "", d, "x"));
    step("empty target path", sys::path_rename(d, "b2", d, ""));
    put(d, "h1", "hard");
    let _ = sys::path_link(d, 0, "h1", d, "h2");
    step(
        "h1 -> h2 (hard links to one file)",
        sys::path_rename(d, "h1", d, "h2"),
    );
    println!("h1: {}, h2: {}", cat(d, "h1"), cat(d, "h2"));
    step_io(
        "std rename b2 -> std",
        std::fs::rename("/data/b2", "/data/std"),
    );
    step_io(
        "std rename missing",
        std::fs::rename("/data/nothing", "/data/std2"),
    );
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
