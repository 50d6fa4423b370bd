//! The artifact's byte encoding: little-endian integers, length-prefixed byte strings,
//! and a reader whose every read is bounds-checked (a short or garbled artifact is an
//! error, never a panic).

use alloc::string::String;
use alloc::vec::Vec;

use crate::Error;

/// An error about an artifact: `precompiled module refused: {why}`.
pub(crate) fn refused(why: impl core::fmt::Display) -> Error {
    Error::Artifact(alloc::format!("{why}"))
}

#[derive(Default)]
pub(crate) struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn raw(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }
    /// A length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.raw(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }
    #[inline(always)]
    pub fn raw(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| refused("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    #[inline(always)]
    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.raw(1)?[0])
    }
    #[inline(always)]
    pub fn u32(&mut self) -> Result<u32, Error> {
        let mut b = [0; 4];
        b.copy_from_slice(self.raw(4)?);
        Ok(u32::from_le_bytes(b))
    }
    #[inline(always)]
    pub fn u64(&mut self) -> Result<u64, Error> {
        let mut b = [0; 8];
        b.copy_from_slice(self.raw(8)?);
        Ok(u64::from_le_bytes(b))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.raw(n)
    }
    pub fn str(&mut self) -> Result<String, Error> {
        let b = self.bytes()?;
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| refused("a name is not UTF-8"))
    }
    /// A count of items that each take at least `min_size` bytes, checked against what
    /// is left (a garbled count cannot make the reader allocate gigabytes).
    pub fn count(&mut self, min_size: usize) -> Result<usize, Error> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.bytes.len() - self.pos {
            return Err(refused("truncated"));
        }
        Ok(n)
    }
}
