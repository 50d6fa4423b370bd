//! The primitive 9P encoding: little-endian integers, `u16`-length-prefixed strings and
//! 13-byte qids, written into a `Vec` and read from a slice with bounds checks. A read past
//! the end, a length that runs off the buffer or bytes left over are errors, never panics.

use alloc::vec::Vec;
use core::fmt;

/// Why a message could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The message ended before a field it must have.
    Truncated,
    /// Bytes were left after the last field.
    TrailingBytes,
    /// The size field disagrees with the bytes received.
    BadSize,
    /// A message type this side does not know (or not valid in this direction).
    UnknownType(u8),
    /// A string or data field longer than its length prefix can express.
    TooLong,
    /// A count field larger than the message allows.
    BadCount,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("9P message truncated"),
            WireError::TrailingBytes => f.write_str("9P message has trailing bytes"),
            WireError::BadSize => f.write_str("9P size field does not match the message"),
            WireError::UnknownType(t) => write!(f, "unknown 9P message type {t}"),
            WireError::TooLong => f.write_str("9P field too long for its length prefix"),
            WireError::BadCount => f.write_str("9P count field out of range"),
        }
    }
}

impl core::error::Error for WireError {}

/// The server-unique identity of a file: `type[1] version[4] path[8]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Qid {
    /// `QT_*` bits ([`QT_DIR`], [`QT_SYMLINK`], ...).
    pub ty: u8,
    pub version: u32,
    /// Unique per file on the server (QEMU: the host inode number).
    pub path: u64,
}

/// Qid type bit: a directory.
pub const QT_DIR: u8 = 0x80;
/// Qid type bit: a symbolic link.
pub const QT_SYMLINK: u8 = 0x02;
/// Qid type of a plain file.
pub const QT_FILE: u8 = 0x00;

/// Bytes of an encoded [`Qid`].
pub const QID_LEN: usize = 13;

/// Appends 9P fields to a buffer.
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Writer { buf }
    }
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A string: `len[2]` then the bytes (9P strings are not NUL-terminated).
    pub fn str(&mut self, s: &[u8]) -> Result<(), WireError> {
        let len = u16::try_from(s.len()).map_err(|_| WireError::TooLong)?;
        self.u16(len);
        self.buf.extend_from_slice(s);
        Ok(())
    }
    /// Data with a `count[4]` prefix.
    pub fn data(&mut self, d: &[u8]) -> Result<(), WireError> {
        let len = u32::try_from(d.len()).map_err(|_| WireError::TooLong)?;
        self.u32(len);
        self.buf.extend_from_slice(d);
        Ok(())
    }
    pub fn qid(&mut self, q: &Qid) {
        self.u8(q.ty);
        self.u32(q.version);
        self.u64(q.path);
    }
}

/// Reads 9P fields from a slice, front to back.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let b = self.bytes(N)?;
        let mut a = [0; N];
        a.copy_from_slice(b);
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u16(&mut self) -> Result<u16, WireError> {
        self.array().map(u16::from_le_bytes)
    }
    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.array().map(u32::from_le_bytes)
    }
    pub fn u64(&mut self) -> Result<u64, WireError> {
        self.array().map(u64::from_le_bytes)
    }
    /// A `len[2]`-prefixed string, as raw bytes (host names need not be UTF-8).
    pub fn str(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }
    /// `count[4]`-prefixed data.
    pub fn data(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u32()?;
        let n = usize::try_from(n).map_err(|_| WireError::BadCount)?;
        if n > self.buf.len() {
            return Err(WireError::BadCount);
        }
        self.bytes(n)
    }
    pub fn qid(&mut self) -> Result<Qid, WireError> {
        Ok(Qid {
            ty: self.u8()?,
            version: self.u32()?,
            path: self.u64()?,
        })
    }
    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes)
        }
    }
}
