//! `stdio-binary`: writes every byte value 0..=255 to stdout and the reverse to stderr, then
//! NUL inside a line, invalid UTF-8 (a lone continuation byte, a cut sequence, an overlong
//! form), CR LF and a final partial line.

use std::io::Write;

fn main() {
    let all: Vec<u8> = (0..=255u8).collect();
    let rev: Vec<u8> = all.iter().rev().copied().collect();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let _ = out.write_all(&all);
    let _ = err.write_all(&rev);
    let _ = out.write_all(b"\nnul:\0:inside\n");
    let _ = out.write_all(b"lone continuation \x80, cut \xe2\x82, overlong \xc0\xaf\r\n");
    let _ = err.write_all(b"\n\xff\xfe stderr \0 too\n");
    let _ = out.write_all("UTF-8: \u{e9}\u{2713}\u{1f600}\n".as_bytes());
    let _ = out.write_all(b"tail\x00");
    let _ = out.flush();
}
