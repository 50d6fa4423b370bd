//! `symlink`: `path_symlink` and `path_readlink`: create, read back (also into a buffer too
//! small: the target is cut), follow (open and stat through it), a dangling one, a link to a
//! directory traversed, creating over an existing name, readlink of a non-link, unlink of a
//! link (the target stays), and std's `read_link`/`symlink_metadata`.

use corpus::*;

fn readlink(d: u32, p: &str, size: usize) -> String {
    let mut buf = vec![0u8; size];
    match sys::path_readlink(d, p, &mut buf) {
        Ok(n) => format!("{n} \"{}\"", esc(&buf[..n])),
        Err(e) => e.to_string(),
    }
}

fn main() {
    let d = preopen("/data");
    if let Ok(fd) = open_rw(d, "target.txt", O_CREAT | O_TRUNC) {
        let _ = write_all(fd, b"the target");
        let _ = sys::fd_close(fd);
    }
    let _ = sys::path_create_directory(d, "dir");
    let _ = open_rw(d, "dir/in.txt", O_CREAT);
    step(
        "symlink link -> target.txt",
        sys::path_symlink("target.txt", d, "link"),
    );
    println!("readlink link: {}", readlink(d, "link", 64));
    println!("readlink link, 4-byte buffer: {}", readlink(d, "link", 4));
    println!("readlink link, 0-byte buffer: {}", readlink(d, "link", 0));
    show(
        "read through link",
        open_ro(d, "link").and_then(read_to_end).map(|b| esc(&b)),
    );
    show(
        "stat link (follow)",
        sys::path_filestat_get(d, LOOKUP_FOLLOW, "link").map(|s| describe(&s)),
    );
    show(
        "stat link (nofollow)",
        sys::path_filestat_get(d, 0, "link").map(|s| describe(&s)),
    );
    step(
        "symlink dangling -> nothing",
        sys::path_symlink("nothing", d, "dangling"),
    );
    println!("readlink dangling: {}", readlink(d, "dangling", 64));
    show("open dangling", open_ro(d, "dangling"));
    show(
        "create through dangling",
        open_rw(d, "dangling", O_CREAT).map(|_| "created"),
    );
    show(
        "stat nothing",
        sys::path_filestat_get(d, 0, "nothing").map(|s| describe(&s)),
    );
    step("symlink dlink -> dir", sys::path_symlink("dir", d, "dlink"));
    show(
        "stat dlink/in.txt",
        sys::path_filestat_get(d, 0, "dlink/in.txt").map(|s| describe(&s)),
    );
    show("listing through dlink", listing(d, "dlink"));
    step(
        "symlink onto an existing name",
        sys::path_symlink("x", d, "target.txt"),
    );
    step(
        "symlink with an empty target",
        sys::path_symlink("", d, "empty-target"),
    );
    step(
        "symlink with a trailing slash",
        sys::path_symlink("target.txt", d, "slash/"),
    );
    println!(
        "readlink target.txt (a file): {}",
        readlink(d, "target.txt", 64)
    );
    println!("readlink dir: {}", readlink(d, "dir", 64));
    println!("readlink missing: {}", readlink(d, "missing", 64));
    println!("readlink dlink/in.txt: {}", readlink(d, "dlink/in.txt", 64));
    step(
        "symlink in a sub dir to ../target.txt",
        sys::path_symlink("../target.txt", d, "dir/up"),
    );
    show(
        "read dir/up",
        open_ro(d, "dir/up").and_then(read_to_end).map(|b| esc(&b)),
    );
    step("unlink link", sys::path_unlink_file(d, "link"));
    show(
        "target still there",
        sys::path_filestat_get(d, 0, "target.txt").map(|s| describe(&s)),
    );
    step(
        "unlink dlink/ (trailing slash)",
        sys::path_unlink_file(d, "dlink/"),
    );
    step(
        "rmdir dlink (a symlink to a dir)",
        sys::path_remove_directory(d, "dlink"),
    );
    step_io(
        "std read_link dangling",
        std::fs::read_link("/data/dangling").map(|p| p.display().to_string()),
    );
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
