//! Readable descriptions of where two byte strings (a stream, a file) first differ: the byte
//! offset, its line and column, and that line from both sides, escaped.

/// How much of a differing line is shown: up to this many bytes before the difference...
const BEFORE: usize = 60;
/// ...and up to this many from it on.
const AFTER: usize = 100;

/// `None` when `a == b`; otherwise a few lines naming the first difference between side `la`'s
/// bytes `a` and side `lb`'s bytes `b`.
pub fn describe(a: &[u8], b: &[u8], la: &str, lb: &str) -> Option<String> {
    if a == b {
        return None;
    }
    let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let line = a[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = a[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let width = la.len().max(lb.len());
    let mut out = format!(
        "first difference at byte {at} (line {line}, column {}); {la} has {} bytes, {lb} has {}",
        at - line_start + 1,
        a.len(),
        b.len()
    );
    let from = line_start.max(at.saturating_sub(BEFORE));
    for (label, side) in [(la, a), (lb, b)] {
        let shown = if at >= side.len() {
            "(ends here)".to_string()
        } else {
            let cut = if from > line_start { "..." } else { "" };
            format!("{cut}\"{}\"", escape_line(&side[from..], at - from + AFTER))
        };
        out.push_str(&format!("\n  {label:>width$}: {shown}"));
    }
    Some(out)
}

/// The line at the start of `rest`, escaped (with its newline shown as `\n`), cut to `max`.
fn escape_line(rest: &[u8], max: usize) -> String {
    let end = rest
        .iter()
        .position(|&c| c == b'\n')
        .map_or(rest.len(), |p| p + 1);
    let mut s = escape(&rest[..end.min(max)]);
    if end > max {
        s.push_str("...");
    }
    s
}

/// Bytes as text: printable ASCII as is, `\n`, `\t`, `\r`, `\\`, `\"`, and `\xNN` for the rest.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &c in bytes {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_have_no_difference() {
        assert_eq!(describe(b"same\n", b"same\n", "a", "b"), None);
    }

    #[test]
    fn the_first_differing_line_and_byte_are_named_with_both_sides() {
        let d = describe(
            b"one\ntwo\nthree\n",
            b"one\ntwX\nthree\n",
            "wasmtime",
            "atoll",
        )
        .unwrap();
        assert!(
            d.starts_with("first difference at byte 6 (line 2, column 3)"),
            "{d}"
        );
        assert!(d.contains("wasmtime: \"two\\n\""), "{d}");
        assert!(d.contains("   atoll: \"twX\\n\""), "{d}");
    }

    #[test]
    fn a_side_that_stops_early_is_shown_as_ending() {
        let d = describe(b"abc\ndef", b"abc\n", "ref", "test").unwrap();
        assert!(d.contains("byte 4 (line 2, column 1)"), "{d}");
        assert!(d.contains("ref has 7 bytes, test has 4"), "{d}");
        assert!(d.contains(" ref: \"def\""), "{d}");
        assert!(d.contains("test: (ends here)"), "{d}");
    }

    #[test]
    fn binary_bytes_are_escaped_and_long_lines_cut() {
        let d = describe(b"\x00\xff", b"\x00\xfe", "a", "b").unwrap();
        assert!(d.contains("a: \"\\x00\\xff\""), "{d}");
        let long = vec![b'x'; 1000];
        let mut other = long.clone();
        other[999] = b'y';
        let d = describe(&long, &other, "a", "b").unwrap();
        assert!(d.contains("column 1000"), "{d}");
        assert!(d.contains("a: ...\"xxx") && d.ends_with("xy\""), "{d}");
    }
}
