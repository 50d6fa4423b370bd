//! `many-files [N]` (default 300): creates N small files in `many/`, lists them (count and
//! first and last names), removes every third, creates 10 directories with a file each, and
//! lists again.

use corpus::*;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let d = preopen("/data");
    step("mkdir many", sys::path_create_directory(d, "many"));
    let mut failed = 0;
    for i in 0..n {
        let r = open_rw(d, &format!("many/f{i:04}"), O_CREAT | O_EXCL).and_then(|fd| {
            write_all(fd, format!("file {i}\n").repeat(i % 5).as_bytes())?;
            sys::fd_close(fd)
        });
        if r.is_err() {
            failed += 1;
        }
    }
    println!("created {} files, {failed} failed", n - failed);
    let show_list = |label: &str| match listing(d, "many") {
        Ok(l) => {
            let names: Vec<&str> = l.split(' ').filter(|s| !s.is_empty()).collect();
            println!(
                "{label}: {} entries, first {:?}, last {:?}",
                names.len(),
                names.first(),
                names.last()
            );
        }
        Err(e) => println!("{label}: {e}"),
    };
    show_list("listing");
    let removed = (0..n)
        .step_by(3)
        .filter(|i| sys::path_unlink_file(d, &format!("many/f{i:04}")).is_ok())
        .count();
    println!("removed {removed}");
    for i in 0..10 {
        let dir = format!("many/d{i}");
        let _ = sys::path_create_directory(d, &dir);
        if let Ok(fd) = open_rw(d, &format!("{dir}/inside"), O_CREAT) {
            let _ = write_all(fd, dir.as_bytes());
            let _ = sys::fd_close(fd);
        }
    }
    show_list("listing after");
    show(
        "size of f0001",
        sys::path_filestat_get(d, 0, "many/f0001").map(|s| describe(&s)),
    );
}
