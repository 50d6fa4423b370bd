//! The packed entries of an `Rreaddir`.

use alloc::vec::Vec;

use crate::wire::{QID_LEN, Qid, Reader, WireError, Writer};

/// One entry of an `Rreaddir`: `qid[13] offset[8] type[1] name[s]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawDirEntry<'a> {
    pub qid: Qid,
    /// Where the listing continues after this entry.
    pub offset: u64,
    /// Linux `d_type` (`DT_*`).
    pub dtype: u8,
    pub name: &'a [u8],
}

/// Linux `d_type` values.
pub mod dt {
    pub const UNKNOWN: u8 = 0;
    pub const FIFO: u8 = 1;
    pub const CHR: u8 = 2;
    pub const DIR: u8 = 4;
    pub const BLK: u8 = 6;
    pub const REG: u8 = 8;
    pub const LNK: u8 = 10;
    pub const SOCK: u8 = 12;
}

impl RawDirEntry<'_> {
    /// Bytes this entry takes in an `Rreaddir`.
    pub fn encoded_len(name_len: usize) -> usize {
        QID_LEN + 8 + 1 + 2 + name_len
    }

    /// Appends the entry (server side).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let mut w = Writer::new(out);
        w.qid(&self.qid);
        w.u64(self.offset);
        w.u8(self.dtype);
        w.str(self.name)
    }
}

/// Iterates the packed entries of an `Rreaddir`; a malformed entry yields one error and
/// ends the iteration.
pub struct DirEntries<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> DirEntries<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        DirEntries {
            r: Reader::new(data),
            failed: false,
        }
    }
}

impl<'a> Iterator for DirEntries<'a> {
    type Item = Result<RawDirEntry<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.remaining() == 0 {
            return None;
        }
        let mut entry = || -> Result<RawDirEntry<'a>, WireError> {
            Ok(RawDirEntry {
                qid: self.r.qid()?,
                offset: self.r.u64()?,
                dtype: self.r.u8()?,
                name: self.r.str()?,
            })
        };
        let e = entry();
        self.failed = e.is_err();
        Some(e)
    }
}
