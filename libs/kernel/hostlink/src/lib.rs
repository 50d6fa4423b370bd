//! The host link: how `just exec` (`build/xtask`) and the kernel talk over one virtio-console
//! port, kept apart from the serial console that carries the boot log.
//!
//! Everything travels in frames: a 1-byte [`Kind`], a 4-byte little-endian payload length,
//! then the payload. A session is one or more runs of a program, one after the other (`just
//! exec` asks for one; the differential test asks for many in one boot). For each run the
//! guest sends [`Kind::Begin`] (the run's index), the program's [`Kind::Stdout`] and
//! [`Kind::Stderr`] bytes exactly as written (binary data and a last line without a newline
//! included), then [`Kind::Exit`] with its exit code. The host answers each `Begin` with that
//! run's standard input: [`Kind::Stdin`] bytes, then one [`Kind::StdinEof`]. So the `n`-th
//! `StdinEof` ends the `n`-th run's input, and input a run left unread never reaches the next.
//! Payloads are at most [`MAX_PAYLOAD`] bytes; longer data is split across frames. Both
//! directions are parsed incrementally with [`Decoder`], so a frame may arrive in any number
//! of pieces.
//!
//! Both sides use this crate: there is one definition of the format.

#![no_std]

#[cfg(test)]
extern crate std;

/// Longest payload in one frame.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Bytes before the payload: kind and length.
pub const HEADER_LEN: usize = 5;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Guest to host: bytes the program wrote to fd 1.
    Stdout = 1,
    /// Guest to host: bytes the program wrote to fd 2.
    Stderr = 2,
    /// Guest to host: the run's exit code (4 bytes, little-endian); the run's last frame.
    Exit = 3,
    /// Host to guest: bytes for the program's fd 0.
    Stdin = 4,
    /// Host to guest: the run's standard input ended (no payload).
    StdinEof = 5,
    /// Guest to host: a run starts (its index, 4 bytes, little-endian, counting from 0).
    Begin = 6,
}

impl Kind {
    pub fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Stdout,
            2 => Kind::Stderr,
            3 => Kind::Exit,
            4 => Kind::Stdin,
            5 => Kind::StdinEof,
            6 => Kind::Begin,
            _ => return None,
        })
    }
}

/// The header of a frame carrying `len` payload bytes.
pub fn header(kind: Kind, len: usize) -> [u8; HEADER_LEN] {
    debug_assert!(len <= MAX_PAYLOAD);
    let l = (len as u32).to_le_bytes();
    [kind as u8, l[0], l[1], l[2], l[3]]
}

/// A whole frame carrying one little-endian `u32`: `Exit` (a code) or `Begin` (a run index).
pub fn u32_frame(kind: Kind, value: u32) -> [u8; HEADER_LEN + 4] {
    let mut f = [0u8; HEADER_LEN + 4];
    f[..HEADER_LEN].copy_from_slice(&header(kind, 4));
    f[HEADER_LEN..].copy_from_slice(&value.to_le_bytes());
    f
}

/// A protocol violation: the stream cannot be parsed further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A frame kind this side does not know.
    UnknownKind(u8),
    /// A payload longer than [`MAX_PAYLOAD`], or of the wrong length for its kind.
    BadLength(Kind, u32),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::UnknownKind(b) => write!(f, "host link: unknown frame kind {b}"),
            Error::BadLength(k, n) => write!(f, "host link: {k:?} frame of {n} bytes"),
        }
    }
}

/// A piece of a frame's payload, as it arrives.
#[derive(Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    pub kind: Kind,
    /// Payload bytes (possibly empty, possibly part of the frame).
    pub data: &'a [u8],
    /// This piece ends its frame.
    pub end: bool,
}

/// An incremental frame parser.
#[derive(Debug, Default)]
pub struct Decoder {
    header: [u8; HEADER_LEN],
    have: usize,
    /// Payload bytes still to come in the current frame.
    left: usize,
    kind: Option<Kind>,
}

impl Decoder {
    pub const fn new() -> Self {
        Decoder {
            header: [0; HEADER_LEN],
            have: 0,
            left: 0,
            kind: None,
        }
    }

    /// Consumes bytes from the front of `input`; returns how many it took and the payload
    /// piece they completed, if any. Call again with the rest until it takes nothing.
    pub fn feed<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<Piece<'a>>), Error> {
        if let Some(kind) = self.kind {
            let n = self.left.min(input.len());
            self.left -= n;
            let end = self.left == 0;
            if end {
                self.kind = None;
            }
            if n == 0 && !end {
                return Ok((0, None));
            }
            return Ok((
                n,
                Some(Piece {
                    kind,
                    data: &input[..n],
                    end,
                }),
            ));
        }
        let n = (HEADER_LEN - self.have).min(input.len());
        self.header[self.have..self.have + n].copy_from_slice(&input[..n]);
        self.have += n;
        if self.have < HEADER_LEN {
            return Ok((n, None));
        }
        self.have = 0;
        let kind = Kind::from_byte(self.header[0]).ok_or(Error::UnknownKind(self.header[0]))?;
        let len = u32::from_le_bytes([
            self.header[1],
            self.header[2],
            self.header[3],
            self.header[4],
        ]);
        let fixed = match kind {
            Kind::Exit | Kind::Begin => Some(4),
            Kind::StdinEof => Some(0),
            _ => None,
        };
        if len as usize > MAX_PAYLOAD || fixed.is_some_and(|f| f != len) {
            return Err(Error::BadLength(kind, len));
        }
        if len == 0 {
            return Ok((
                n,
                Some(Piece {
                    kind,
                    data: &[],
                    end: true,
                }),
            ));
        }
        self.kind = Some(kind);
        self.left = len as usize;
        Ok((n, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn frame(kind: Kind, data: &[u8]) -> Vec<u8> {
        let mut v = header(kind, data.len()).to_vec();
        v.extend_from_slice(data);
        v
    }

    /// Decodes `stream` fed in chunks of `chunk` bytes into (kind, payload) frames.
    fn decode(stream: &[u8], chunk: usize) -> Result<Vec<(Kind, Vec<u8>)>, Error> {
        let mut d = Decoder::new();
        let mut out: Vec<(Kind, Vec<u8>)> = Vec::new();
        let mut cur: Option<(Kind, Vec<u8>)> = None;
        for mut part in stream.chunks(chunk) {
            loop {
                let (n, piece) = d.feed(part)?;
                if let Some(p) = piece {
                    let entry = cur.get_or_insert_with(|| (p.kind, Vec::new()));
                    assert_eq!(entry.0, p.kind);
                    entry.1.extend_from_slice(p.data);
                    if p.end {
                        out.extend(cur.take());
                    }
                }
                part = &part[n..];
                if n == 0 || part.is_empty() {
                    break;
                }
            }
        }
        Ok(out)
    }

    #[test]
    fn frames_survive_being_split_at_every_byte() {
        let mut stream = frame(Kind::Stdout, b"hello");
        stream.extend(frame(Kind::Stderr, b"\0\xffbinary"));
        stream.extend(frame(Kind::Stdin, &[]));
        stream.extend(u32_frame(Kind::Begin, 7));
        stream.extend(u32_frame(Kind::Exit, 258));
        for chunk in 1..stream.len() + 1 {
            let frames = decode(&stream, chunk).unwrap();
            assert_eq!(
                frames,
                [
                    (Kind::Stdout, b"hello".to_vec()),
                    (Kind::Stderr, b"\0\xffbinary".to_vec()),
                    (Kind::Stdin, Vec::new()),
                    (Kind::Begin, 7u32.to_le_bytes().to_vec()),
                    (Kind::Exit, 258u32.to_le_bytes().to_vec()),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn an_unknown_kind_is_an_error() {
        assert_eq!(decode(&[9, 0, 0, 0, 0], 5), Err(Error::UnknownKind(9)));
    }

    #[test]
    fn oversized_and_misshapen_frames_are_errors() {
        let big = header(Kind::Stdout, 0);
        let mut too_long = big;
        too_long[1..5].copy_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        assert_eq!(
            decode(&too_long, 5),
            Err(Error::BadLength(Kind::Stdout, MAX_PAYLOAD as u32 + 1))
        );
        assert_eq!(
            decode(&frame(Kind::Exit, &[1, 2]), 7),
            Err(Error::BadLength(Kind::Exit, 2))
        );
        assert_eq!(
            decode(&frame(Kind::StdinEof, b"x"), 6),
            Err(Error::BadLength(Kind::StdinEof, 1))
        );
    }

    #[test]
    fn an_empty_eof_frame_ends_at_once() {
        let mut d = Decoder::new();
        let eof = header(Kind::StdinEof, 0);
        let (n, p) = d.feed(&eof).unwrap();
        assert_eq!(n, HEADER_LEN);
        assert_eq!(
            p,
            Some(Piece {
                kind: Kind::StdinEof,
                data: &[],
                end: true
            })
        );
    }
}
