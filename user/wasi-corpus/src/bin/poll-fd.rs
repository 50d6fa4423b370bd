//! `poll-fd`: `poll_oneoff` on fds: stdin readable (with input, or at its end), stdout
//! writable, a regular file readable and writable (one poll each), a bad fd, a directory,
//! each with a 5 s clock as a bound; prints each event's userdata, type and error (not
//! nbytes, which depends on the host).

use corpus::sys::{Sub, poll_oneoff};
use corpus::*;

fn poll(label: &str, subs: &[Sub]) {
    match poll_oneoff(subs) {
        Ok(mut evs) => {
            evs.sort_by_key(|e| e.userdata);
            let list: Vec<String> = evs
                .iter()
                .map(|e| {
                    format!(
                        "(userdata {} type {} error {})",
                        e.userdata,
                        e.kind,
                        Errno(e.error)
                    )
                })
                .collect();
            println!("{label}: {}", list.join(" "));
        }
        Err(e) => println!("{label}: {e}"),
    }
}

fn main() {
    let clock = Sub::Clock(99, CLOCK_MONOTONIC, 5_000_000_000, 0, 0);
    poll("stdin read", &[Sub::Read(1, 0), clock]);
    poll("stdout write", &[Sub::Write(2, 1), clock]);
    poll("stderr write", &[Sub::Write(3, 2), clock]);
    let d = preopen("/data");
    if let Ok(fd) = open_rw(d, "p.txt", O_CREAT) {
        let _ = write_all(fd, b"some bytes");
        // One poll each: with both in one poll, wasmtime reports the write readiness alone or
        // both, depending on how soon its background read of the file completes.
        poll("file read", &[Sub::Read(4, fd), clock]);
        poll("file write", &[Sub::Write(5, fd), clock]);
    }
    poll("bad fd", &[Sub::Read(6, 77), clock]);
    poll("directory", &[Sub::Read(7, d), clock]);
    poll("stdin write", &[Sub::Write(8, 0), clock]);
    poll("stdout read", &[Sub::Read(9, 1), clock]);
    let mut b = [0u8; 64];
    show(
        "then read stdin",
        sys::fd_read(0, &mut [&mut b]).map(|n| esc(&b[..n])),
    );
}
