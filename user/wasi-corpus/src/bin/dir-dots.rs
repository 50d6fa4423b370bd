//! `dir-dots`: paths with `.` and `..` inside the preopen `/data` (which holds `sub/note.txt`):
//! stats and opens through `./`, `sub/..`, `sub/./note.txt`, `sub/../sub/note.txt`, the
//! entries `.` and `..` in a listing, and `..` at the top (refused: it leaves the preopen).

use corpus::*;

fn main() {
    let d = preopen("/data");
    for p in [
        ".",
        "./",
        "sub/..",
        "sub/.",
        "./sub/./note.txt",
        "sub/../sub/note.txt",
        "sub//note.txt",
        "sub/note.txt/.",
        "sub/note.txt/..",
        "..",
        "sub/../..",
    ] {
        show(
            &format!("stat {p}"),
            sys::path_filestat_get(d, LOOKUP_FOLLOW, p).map(|s| describe(&s)),
        );
    }
    for p in [
        "sub/../sub/note.txt",
        "./sub/note.txt",
        "sub/./../sub/note.txt",
    ] {
        show(
            &format!("read {p}"),
            open_ro(d, p).and_then(read_to_end).map(|b| esc(&b)),
        );
    }
    if let Ok(fd) = open_dir(d, "sub/..") {
        show("listing of sub/..", listing(fd, "."));
        let kinds = sys::read_dir_all(fd).map(|v| {
            let mut dots: Vec<String> = v
                .iter()
                .filter(|e| e.name == b"." || e.name == b"..")
                .map(|e| format!("{}:{}", esc(&e.name), filetype_name(e.kind)))
                .collect();
            dots.sort();
            dots.join(" ")
        });
        show("dot entries", kinds);
    }
    step(
        "mkdir sub/../made",
        sys::path_create_directory(d, "sub/../made"),
    );
    step("mkdir sub/..", sys::path_create_directory(d, "sub/.."));
    step("create ./made/./f", open_rw(d, "./made/./f", O_CREAT));
    println!(
        "listing: {}",
        listing(d, ".").unwrap_or_else(|e| e.to_string())
    );
}
