//! `path-errors`: malformed paths given to `path_open` and friends: empty, a NUL byte inside,
//! invalid UTF-8, a very long component (ENAMETOOLONG), a very long path of short components,
//! only slashes, and a trailing slash on a file.

use corpus::*;

fn main() {
    let d = preopen("/data");
    let _ = open_rw(d, "file", O_CREAT);
    let long_name = "n".repeat(300);
    let deep = "d/".repeat(2100);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("NUL inside", b"fi\0le".to_vec()),
        ("invalid UTF-8", b"\xff\xfe".to_vec()),
        ("300-byte name", long_name.as_bytes().to_vec()),
        ("4200-byte path", deep.as_bytes().to_vec()),
        ("only slashes", b"///".to_vec()),
        ("file/", b"file/".to_vec()),
        ("file/.", b"file/.".to_vec()),
        ("a space", b" ".to_vec()),
        ("backslash", b"fi\\le".to_vec()),
    ];
    for (label, path) in &cases {
        show(
            &format!("open {label}"),
            sys::path_open_bytes(d, 1, path, 0, FD_READ, 0, 0).map(|_| "opened"),
        );
        show(
            &format!("create {label}"),
            sys::path_open_bytes(d, 1, path, O_CREAT, FD_READ | FD_WRITE, 0, 0).map(|_| "created"),
        );
    }
    step(
        "mkdir of a 255-byte name",
        sys::path_create_directory(d, &"m".repeat(255)),
    );
    step(
        "mkdir of a 256-byte name",
        sys::path_create_directory(d, &"m".repeat(256)),
    );
    step(
        "unlink a 300-byte name",
        sys::path_unlink_file(d, &long_name),
    );
    println!("listing: {}", listing(d, ".").map(|l| l.len()).unwrap_or(0));
    show_io(
        "std open with a NUL",
        std::fs::File::open("/data/a\0b").map(|_| "opened"),
    );
}
