//! `fd-close`: closing twice (EBADF), closing a preopen (path calls through it then fail),
//! which fd numbers new opens get after closes, and closing stdin and stdout (later reads
//! fail; std drops stdout writes to a closed fd).

use corpus::*;

fn main() {
    let d = preopen("/data");
    let mut fds = Vec::new();
    for i in 0..4 {
        if let Ok(fd) = open_rw(d, &format!("f{i}.txt"), O_CREAT) {
            fds.push(fd);
        }
    }
    println!("opened fds {fds:?}");
    step("close the second", sys::fd_close(fds[1]));
    step("close it again", sys::fd_close(fds[1]));
    show("reopen gets fd", open_rw(d, "again.txt", O_CREAT));
    show("and the next", open_rw(d, "again2.txt", O_CREAT));
    step("close fd 1000", sys::fd_close(1000));
    if let Ok(sub) = sys::path_create_directory(d, "sub").and_then(|_| open_dir(d, "sub")) {
        println!("sub is a directory fd: {}", sub > 2);
        show(
            "prestat of a non-preopen dir",
            sys::fd_prestat_get(sub).map(|(t, n)| format!("{t} {n}")),
        );
        step("close sub", sys::fd_close(sub));
    }
    step("close the preopen", sys::fd_close(d));
    show(
        "prestat after close",
        sys::fd_prestat_get(d).map(|(_, n)| n),
    );
    show("open through the closed preopen", open_ro(d, "f0.txt"));
    step(
        "mkdir through the closed preopen",
        sys::path_create_directory(d, "x"),
    );
    step("close stdin", sys::fd_close(0));
    let mut b = [0u8; 4];
    show("read stdin", sys::fd_read(0, &mut [&mut b]));
    println!("stdout still open");
    step("close stdout", sys::fd_close(1));
    println!("this line is lost");
    show(
        "raw write to stdout",
        sys::fd_write(1, &[b"x"]).inspect_err(|e| eprintln!("raw write to stdout: {e}")),
    );
    eprintln!("stderr still works");
}
