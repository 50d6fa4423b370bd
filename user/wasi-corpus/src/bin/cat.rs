//! `cat [--raw SIZE]`: copies stdin to stdout, bytes as they are. With `--raw SIZE` it reads
//! with raw `fd_read` calls into two iovecs totalling SIZE bytes and reports the reads on
//! stderr; otherwise through `std::io::copy`, reporting the byte count on stderr.

use corpus::sys;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--raw") {
        let size: usize = args
            .get(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(4096)
            .max(2);
        let (mut a, mut b) = (vec![0u8; size / 2], vec![0u8; size - size / 2]);
        let (mut reads, mut total) = (0, 0);
        loop {
            match sys::fd_read(0, &mut [&mut a, &mut b]) {
                Ok(0) => break,
                Ok(n) => {
                    reads += 1;
                    total += n;
                    let first = n.min(a.len());
                    let _ = corpus::write_all(1, &a[..first]);
                    let _ = corpus::write_all(1, &b[..n - first]);
                }
                Err(e) => {
                    eprintln!("fd_read: {e}");
                    std::process::exit(1);
                }
            }
        }
        eprintln!(
            "{total} bytes in {} reads",
            if reads > 0 { "some" } else { "no" }
        );
    } else {
        let n = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::stdout().lock());
        let _ = std::io::stdout().flush();
        match n {
            Ok(n) => eprintln!("copied {n} bytes"),
            Err(e) => eprintln!("copy failed: {}", corpus::io_errno(&e)),
        }
    }
}
