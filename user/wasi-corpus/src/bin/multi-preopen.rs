//! `multi-preopen`: several preopens (`/a`, `/b`, and `/a/nested`, a separate host directory
//! under a guest name inside `/a`): which fd each has, copying a file from one to another,
//! renaming and linking across preopens, and which preopen std picks for a path.

use corpus::*;

fn main() {
    let (a, b) = (preopen("/a"), preopen("/b"));
    let nested = find_preopen("/a/nested");
    println!("/a is fd {a}, /b is fd {b}, /a/nested is fd {nested:?}");
    if let Ok(fd) = open_rw(a, "from-a.txt", O_CREAT | O_TRUNC) {
        let _ = write_all(fd, b"made in a\n");
        let _ = sys::fd_close(fd);
    }
    let copy = open_ro(a, "from-a.txt")
        .and_then(read_to_end)
        .and_then(|data| {
            let fd = open_rw(b, "copied.txt", O_CREAT | O_TRUNC)?;
            write_all(fd, &data)?;
            sys::fd_close(fd)
        });
    step("copy a/from-a.txt to b/copied.txt", copy);
    step(
        "rename across preopens",
        sys::path_rename(a, "from-a.txt", b, "renamed.txt"),
    );
    step(
        "link across preopens",
        sys::path_link(b, 0, "copied.txt", a, "linked.txt"),
    );
    step_io(
        "std rename across preopens",
        std::fs::rename("/b/copied.txt", "/a/std-renamed.txt"),
    );
    step_io(
        "std copy across preopens",
        std::fs::copy("/b/renamed.txt", "/a/std-copy.txt"),
    );
    step_io(
        "std write /a/nested/n.txt",
        std::fs::write("/a/nested/n.txt", b"nested"),
    );
    if let Some(n) = nested {
        show("nested listing", listing(n, "."));
    }
    show("/a listing", listing(a, "."));
    show("/b listing", listing(b, "."));
    show_io(
        "std read_dir /a",
        std::fs::read_dir("/a").map(|r| {
            let mut v: Vec<String> = r
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v.join(" ")
        }),
    );
}
