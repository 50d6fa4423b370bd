//! `stdin-eof`: reads stdin to the end with raw `fd_read` (a zero-length iovec first, then
//! one and two iovecs), then reads three more times after end of input, printing each count.

use corpus::sys;

fn main() {
    let mut empty: [u8; 0] = [];
    match sys::fd_read(0, &mut [&mut empty]) {
        Ok(n) => println!("zero-length read: {n}"),
        Err(e) => println!("zero-length read: {e}"),
    }
    let (mut a, mut b) = ([0u8; 3], [0u8; 5]);
    let mut total = Vec::new();
    loop {
        match sys::fd_read(0, &mut [&mut a, &mut b]) {
            Ok(0) => break,
            Ok(n) => {
                let mut both = a.to_vec();
                both.extend_from_slice(&b);
                total.extend_from_slice(&both[..n]);
            }
            Err(e) => {
                println!("read: {e}");
                break;
            }
        }
    }
    println!("read {} bytes: \"{}\"", total.len(), corpus::esc(&total));
    for i in 1..=3 {
        let mut buf = [0u8; 16];
        match sys::fd_read(0, &mut [&mut buf]) {
            Ok(n) => println!("read after EOF #{i}: {n}"),
            Err(e) => println!("read after EOF #{i}: {e}"),
        }
    }
}
