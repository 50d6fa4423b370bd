//! `wc`: counts the lines, words and bytes of stdin (like `wc`), and prints a digest of it and
//! whether it is valid UTF-8.

use std::io::Read;

fn main() {
    let mut data = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut data) {
        eprintln!("read: {}", corpus::io_errno(&e));
        std::process::exit(1);
    }
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    let words = data
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    println!("{lines} {words} {}", data.len());
    println!("fnv1a {:016x}", corpus::fnv(&data));
    println!("utf-8: {}", std::str::from_utf8(&data).is_ok());
}
