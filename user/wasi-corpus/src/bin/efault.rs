//! `efault MODE`: one pointer outside linear memory passed to a raw call, after a line on
//! stdout. wasmtime does not answer EFAULT: it ends the program with a host error (exit code 1),
//! so each MODE is its own case: `path` (path_open's path), `iovec` (fd_write's iovec array),
//! `buffer` (a buffer an iovec names), `result` (fd_write's result pointer), `read` (fd_read
//! into a buffer outside memory), `none` (fd_write with no iovecs, whose bad array is never
//! read: this one succeeds).

use corpus::*;

/// An address past the end of linear memory (memories are far smaller than 4 GiB here).
const BAD: usize = 0xFFFF_FF00;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    println!("mode {mode}");
    let d = find_preopen("/data").unwrap_or(3);
    let p = BAD as *const u8;
    let iov = [BAD, 16usize];
    let mut used = 0usize;
    let mut fd = 0u32;
    // SAFETY: the host checks every guest pointer against linear memory and must refuse the
    // bad ones without touching memory of ours; the other pointers are live for their use.
    let e = unsafe {
        match mode.as_str() {
            "path" => raw::path_open(d, 1, p, 10, 0, FD_READ, 0, 0, &mut fd),
            "iovec" => raw::fd_write(1, p, 1, &mut used),
            "buffer" => raw::fd_write(1, iov.as_ptr().cast(), 1, &mut used),
            "result" => raw::fd_write(
                1,
                [b"x".as_ptr() as usize, 1].as_ptr().cast(),
                1,
                BAD as *mut usize,
            ),
            "read" => raw::fd_read(0, iov.as_ptr().cast(), 1, &mut used),
            "none" => raw::fd_write(1, p, 0, &mut used),
            other => {
                eprintln!("unknown mode {other}");
                std::process::exit(2);
            }
        }
    };
    println!("\nerrno {} used {used}", Errno(e));
}
