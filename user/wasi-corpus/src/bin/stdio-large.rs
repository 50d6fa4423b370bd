//! `stdio-large MODE [BYTES]` (default 1 MiB): large output. MODE `lines`: numbered lines
//! through `println!`; `one`: a single raw `fd_write` of BYTES (stderr gets the count the host
//! returned); `chunks`: writes of 1, 7, 4096 and 65536 bytes in turn; `stderr`: the lines to
//! stderr.

use corpus::{pattern, sys};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("lines", String::as_str);
    let total: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1 << 20);
    match mode {
        "one" => {
            let data = pattern(7, total);
            let r = sys::fd_write(1, &[&data]);
            eprintln!("fd_write of {total} bytes: {r:?}");
        }
        "chunks" => {
            let data = pattern(11, total);
            let mut out = std::io::stdout().lock();
            let (mut at, mut calls) = (0, 0);
            for size in [1usize, 7, 4096, 65536].iter().cycle() {
                if at >= total {
                    break;
                }
                let end = (at + size).min(total);
                if out.write_all(&data[at..end]).is_err() {
                    break;
                }
                at = end;
                calls += 1;
            }
            let _ = out.flush();
            eprintln!("wrote {at} bytes in {calls} writes");
        }
        "lines" | "stderr" => {
            let mut written = 0;
            let mut n = 0;
            let mut sink: Box<dyn Write> = if mode == "lines" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(std::io::stderr().lock())
            };
            while written < total {
                let line = format!("line {n:07} {}\n", "abcdefghij".repeat(n % 12));
                if sink.write_all(line.as_bytes()).is_err() {
                    break;
                }
                written += line.len();
                n += 1;
            }
            let _ = sink.flush();
            drop(sink);
            if mode == "lines" {
                eprintln!("{n} lines, {written} bytes");
            } else {
                println!("{n} lines, {written} bytes");
            }
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
