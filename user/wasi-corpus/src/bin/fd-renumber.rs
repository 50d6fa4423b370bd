//! `fd-renumber`: `fd_renumber` of one file over another (the target now reads the source's
//! file, the source number is closed), onto itself, from and to fds that are not open, and
//! over stderr (later stderr writes land in the file).

use corpus::*;

fn read_all(fd: u32) -> String {
    let _ = sys::fd_seek(fd, 0, WHENCE_SET);
    match read_to_end(fd) {
        Ok(b) => format!("\"{}\"", esc(&b)),
        Err(e) => e.to_string(),
    }
}

fn main() {
    let d = preopen("/data");
    let (Ok(a), Ok(b)) = (
        open_rw(d, "a.txt", O_CREAT | O_TRUNC),
        open_rw(d, "b.txt", O_CREAT | O_TRUNC),
    ) else {
        println!("cannot create the files");
        return;
    };
    let _ = write_all(a, b"contents of a");
    let _ = write_all(b, b"contents of b");
    println!("a is fd {a}, b is fd {b}");
    step("renumber a over b", sys::fd_renumber(a, b));
    println!("b reads {}", read_all(b));
    show(
        "a after renumber",
        sys::fd_fdstat_get(a).map(|s| filetype_name(s.filetype)),
    );
    step("renumber b onto itself", sys::fd_renumber(b, b));
    println!("b reads {}", read_all(b));
    step("renumber a closed fd", sys::fd_renumber(a, b));
    step("renumber onto a closed fd", sys::fd_renumber(b, 200));
    step("renumber an unused fd", sys::fd_renumber(300, b));
    let c = open_rw(d, "c.txt", O_CREAT | O_TRUNC).unwrap_or(u32::MAX);
    println!("next open got fd {c} (a was fd {a})");
    if let Ok(log) = open_rw(d, "stderr.txt", O_CREAT | O_TRUNC) {
        step("renumber a file over stderr", sys::fd_renumber(log, 2));
        eprintln!("this line goes to stderr.txt");
        show(
            "stderr fdstat",
            sys::fd_fdstat_get(2).map(|s| filetype_name(s.filetype)),
        );
    }
    step("renumber a preopen over b", sys::fd_renumber(d, b));
    show(
        "b is now a directory?",
        sys::fd_fdstat_get(b).map(|s| filetype_name(s.filetype)),
    );
    show("prestat of b", sys::fd_prestat_get(b).map(|(_, n)| n));
    show("old preopen fd", sys::fd_prestat_get(d).map(|(_, n)| n));
    show("listing through b", listing(b, "."));
}
