//! `file-large [MIB]` (default 32): writes MIB MiB of a pattern in 1 MiB writes, checks the
//! size, reads it back with 3 different read sizes and compares digests, reads at 1 byte
//! before the end and at the middle, then truncates it to half.

use corpus::*;

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(32);
    let d = preopen("/data");
    let Some(fd) = step("create big.bin", open_rw(d, "big.bin", O_CREAT | O_TRUNC)) else {
        return;
    };
    let chunk = pattern(99, 1 << 20);
    let mut digest_in = 0u64;
    for i in 0..mib {
        let mut c = chunk.clone();
        c[0] = i as u8;
        if let Err(e) = write_all(fd, &c) {
            println!("write {i}: {e}");
            return;
        }
        digest_in = digest_in.rotate_left(5) ^ fnv(&c);
    }
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    for size in [4096usize, 65536 + 17, 3 << 20] {
        let _ = sys::fd_seek(fd, 0, WHENCE_SET);
        let mut buf = vec![0u8; size];
        let mut all = Vec::with_capacity(mib << 20);
        loop {
            match sys::fd_read(fd, &mut [&mut buf]) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) => {
                    println!("read: {e}");
                    break;
                }
            }
        }
        let digest = all
            .chunks(1 << 20)
            .fold(0u64, |acc, c| acc.rotate_left(5) ^ fnv(c));
        println!(
            "read with {size}-byte buffers: {} bytes, digest matches: {}",
            all.len(),
            digest == digest_in
        );
    }
    let total = (mib as u64) << 20;
    let mut b = [0u8; 4];
    show(
        "pread at end-1",
        sys::fd_pread(fd, &mut [&mut b], total - 1).map(|n| esc(&b[..n])),
    );
    show(
        "pread at the middle",
        sys::fd_pread(fd, &mut [&mut b], total / 2).map(|n| esc(&b[..n])),
    );
    step("truncate to half", sys::fd_filestat_set_size(fd, total / 2));
    show("size", sys::fd_filestat_get(fd).map(|s| s.size));
    let _ = sys::fd_close(fd);
}
