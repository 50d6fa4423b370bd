//! Mutations of Wasm binaries: byte-wise (flips, overwrites with boundary values,
//! insertions, deletions, truncation, splices) and structural (on the section list: drop,
//! duplicate, swap and rewrite sections, corrupt section sizes and ids, plant huge LEB128
//! counts).

use crate::rng::Rng;

/// One section of a binary: its id and the byte range of its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    pub id: u8,
    /// Where the section starts (its id byte).
    pub start: usize,
    /// Where its contents start (after the size).
    pub body: usize,
    pub end: usize,
}

/// Reads an unsigned LEB128 u32 at `at`: the value and its length.
pub fn read_leb(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let b = *bytes.get(at + i)?;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

/// The unsigned LEB128 encoding of `value`.
pub fn leb(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// The sections of a binary, as far as they can be told apart.
pub fn sections(bytes: &[u8]) -> Vec<Section> {
    let mut out = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        let Some((size, n)) = read_leb(bytes, at + 1) else {
            break;
        };
        let body = at + 1 + n;
        let Some(end) = body
            .checked_add(size as usize)
            .filter(|e| *e <= bytes.len())
        else {
            break;
        };
        out.push(Section {
            id,
            start: at,
            body,
            end,
        });
        at = end;
    }
    out
}

const BOUNDARY: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0xfd];

/// Applies one random mutation to `wasm`, returning its name.
pub fn mutate(rng: &mut Rng, wasm: &mut Vec<u8>) -> &'static str {
    let secs = sections(wasm);
    // Structural mutations need sections; fall back to byte-wise ones.
    let choice = if secs.is_empty() {
        rng.below(7)
    } else {
        rng.below(15)
    };
    let len = wasm.len().max(1) as u64;
    match choice {
        0 => {
            let i = rng.below(len) as usize;
            if let Some(b) = wasm.get_mut(i) {
                *b ^= 1 << rng.below(8);
            }
            "flip a bit"
        }
        1 => {
            let i = rng.below(len) as usize;
            let v = if rng.one_in(2) {
                *rng.pick(&BOUNDARY)
            } else {
                rng.next_u64() as u8
            };
            if let Some(b) = wasm.get_mut(i) {
                *b = v;
            }
            "overwrite a byte"
        }
        2 => {
            let i = rng.below(len + 1) as usize;
            let n = 1 + rng.below(16) as usize;
            let bytes = rng.bytes(n);
            let i = i.min(wasm.len());
            wasm.splice(i..i, bytes);
            "insert bytes"
        }
        3 => {
            let i = rng.below(len) as usize;
            let n = 1 + rng.below(16) as usize;
            let end = (i + n).min(wasm.len());
            if i < end {
                wasm.drain(i..end);
            }
            "delete bytes"
        }
        4 => {
            wasm.truncate(rng.below(len) as usize);
            "truncate"
        }
        5 => {
            // Copy a range of the module over another place.
            let from = rng.below(len) as usize;
            let n = (1 + rng.below(64) as usize).min(wasm.len().saturating_sub(from));
            let piece = wasm[from..from + n].to_vec();
            let to = (rng.below(len) as usize).min(wasm.len());
            wasm.splice(to..to, piece);
            "splice a range"
        }
        6 => {
            // A huge LEB128 (a count or a size) planted anywhere.
            let i = (rng.below(len) as usize).min(wasm.len());
            let big = *rng.pick(&[u32::MAX, 0x1000_0000, 0xffff, 65537]);
            let end = (i + 1).min(wasm.len());
            wasm.splice(i..end, leb(big));
            "plant a huge LEB128"
        }
        7 => {
            let s = *rng.pick(&secs);
            wasm.drain(s.start..s.end);
            "drop a section"
        }
        8 => {
            let s = *rng.pick(&secs);
            let copy = wasm[s.start..s.end].to_vec();
            let at = rng.pick(&secs).end;
            wasm.splice(at..at, copy);
            "duplicate a section"
        }
        9 => {
            let a = *rng.pick(&secs);
            let b = *rng.pick(&secs);
            if a.start < b.start {
                let (x, y) = (wasm[a.start..a.end].to_vec(), wasm[b.start..b.end].to_vec());
                let mut out = wasm[..a.start].to_vec();
                out.extend_from_slice(&y);
                out.extend_from_slice(&wasm[a.end..b.start]);
                out.extend_from_slice(&x);
                out.extend_from_slice(&wasm[b.end..]);
                *wasm = out;
            }
            "swap two sections"
        }
        10 => {
            // The size of a section off by a little or a lot.
            let s = *rng.pick(&secs);
            let size = (s.end - s.body) as u32;
            let new = match rng.below(4) {
                0 => size.wrapping_add(1),
                1 => size.wrapping_sub(1),
                2 => u32::MAX,
                _ => rng.next_u64() as u32,
            };
            wasm.splice(s.start + 1..s.body, leb(new));
            "corrupt a section size"
        }
        11 => {
            let s = *rng.pick(&secs);
            wasm[s.start] = rng.below(16) as u8;
            "change a section id"
        }
        12 => {
            // Fresh random contents, the size kept right.
            let s = *rng.pick(&secs);
            let n = rng.below(64) as usize;
            let mut section = vec![s.id];
            section.extend(leb(n as u32));
            section.extend(rng.bytes(n));
            wasm.splice(s.start..s.end, section);
            "replace a section's contents"
        }
        13 => {
            // Mutate inside one section only (most likely the code section's bodies).
            let s = *rng.pick(&secs);
            if s.end > s.body {
                let i = s.body + rng.below((s.end - s.body) as u64) as usize;
                wasm[i] = if rng.one_in(2) {
                    *rng.pick(&BOUNDARY)
                } else {
                    rng.next_u64() as u8
                };
            }
            "overwrite a byte inside a section"
        }
        _ => {
            // The first count inside a section (number of entries) made huge or off by one.
            let s = *rng.pick(&secs);
            if let Some((count, n)) = read_leb(wasm, s.body).filter(|_| s.end > s.body) {
                let new = match rng.below(3) {
                    0 => count.wrapping_add(1),
                    1 => count.wrapping_sub(1),
                    _ => u32::MAX / 2,
                };
                wasm.splice(s.body..s.body + n, leb(new));
            }
            "corrupt an entry count"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips_through_encode_and_read() {
        for v in [0, 1, 127, 128, 300, 65536, u32::MAX] {
            let e = leb(v);
            assert_eq!(read_leb(&e, 0), Some((v, e.len())));
        }
        assert_eq!(read_leb(&[0x80, 0x80], 0), None);
    }

    #[test]
    fn sections_of_a_small_module_are_found_in_order() {
        let wasm =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
        let ids: Vec<u8> = sections(&wasm).iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![1, 3, 7, 10]);
    }

    #[test]
    fn mutations_never_panic_even_on_tiny_inputs() {
        let mut rng = Rng::new(3);
        for len in 0..16 {
            for _ in 0..200 {
                let mut w = rng.bytes(len);
                mutate(&mut rng, &mut w);
            }
        }
    }
}
