//! `stdio-interleave`: alternates lines on stdout and stderr, writes partial lines flushed
//! by hand, and ends both streams with a line that has no newline.

use std::io::Write;

fn main() {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    for i in 0..6 {
        println!("stdout line {i}");
        eprintln!("stderr line {i}");
    }
    let _ = write!(out, "stdout partial ");
    let _ = out.flush();
    let _ = write!(err, "stderr partial ");
    let _ = writeln!(out, "completed");
    let _ = writeln!(err, "completed");
    let _ = out.write_all(b"");
    let _ = err.write_all(b"");
    let _ = write!(out, "last stdout line without a newline");
    let _ = write!(err, "last stderr line without a newline");
}
