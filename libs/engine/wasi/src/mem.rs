//! Checked access to a guest's linear memory, as wasmtime 51's (wiggle's) checks go.
//!
//! Every pointer and length from the guest goes through here, and is checked only when it is
//! used, as wasmtime checks it: a value outside the memory, or a typed value (`u16`, `u32`,
//! `u64` and the records built of them) at an address not aligned to it, ends the program
//! with a host error ([`Fail::HostError`], never a panic and never `EFAULT`). A byte write of
//! nothing is not checked at all; a string of length 0 must still start inside the memory.
//!
//! Each call also has wasmtime's "host-call fuel": the bytes the host may copy for one call
//! (buffers and arrays it takes from the guest), [`HOSTCALL_FUEL`]; asking for more is
//! [`Errno::Nomem`].

use alloc::string::String;

use crate::abi::layout::IOVEC_SIZE;
use crate::calls::Fail;
use crate::errno::Errno;

/// The bytes one call may take from the guest (wasmtime's default host-call fuel, 128 MiB).
pub const HOSTCALL_FUEL: usize = 128 << 20;

/// The host error for an address range outside the memory.
const OUT_OF_BOUNDS: Fail = Fail::HostError("pointer out of bounds");
/// The host error for a typed value at an address not aligned to it.
const NOT_ALIGNED: Fail = Fail::HostError("pointer not aligned");

/// A guest's linear memory for the duration of one host call.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
    fuel: usize,
}

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a linear memory (empty if the module exports none), with a full
    /// call's fuel.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory {
            bytes,
            fuel: HOSTCALL_FUEL,
        }
    }

    /// Size of the memory in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Takes `bytes` of this call's fuel; [`Errno::Nomem`] if that is more than is left.
    pub fn consume(&mut self, bytes: usize) -> Result<(), Fail> {
        self.fuel = self.fuel.checked_sub(bytes).ok_or(Errno::Nomem)?;
        Ok(())
    }

    fn range(&self, ptr: u32, len: u32) -> Result<core::ops::Range<usize>, Fail> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(OUT_OF_BOUNDS)?;
        if end > self.bytes.len() {
            return Err(OUT_OF_BOUNDS);
        }
        Ok(start..end)
    }

    /// Checks that `[ptr, ptr + len)` is inside the memory without touching it.
    pub fn check(&self, ptr: u32, len: u32) -> Result<(), Fail> {
        self.range(ptr, len).map(|_| ())
    }

    /// Checks that a record of `len` bytes whose widest field is `align` bytes fits at `ptr`.
    pub fn check_aligned(&self, ptr: u32, len: u32, align: u32) -> Result<(), Fail> {
        self.check(ptr, len)?;
        if !ptr.is_multiple_of(align) {
            return Err(NOT_ALIGNED);
        }
        Ok(())
    }

    /// The guest bytes `[ptr, ptr + len)`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Fail> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The guest bytes `[ptr, ptr + len)`, writable.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Fail> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// Reads a guest string; invalid UTF-8 is [`Errno::Ilseq`].
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, Fail> {
        Ok(core::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::Ilseq)?)
    }

    /// Copies a path argument out of the guest, paying its length in fuel first (wasmtime's
    /// `read_string`).
    pub fn path(&mut self, ptr: u32, len: u32) -> Result<String, Fail> {
        self.consume(len as usize)?;
        Ok(String::from(self.str(ptr, len)?))
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Fail> {
        if !ptr.is_multiple_of(N as u32) {
            self.check(ptr, N as u32)?;
            return Err(NOT_ALIGNED);
        }
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Fail> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Fail> {
        self.array(ptr).map(u16::from_le_bytes)
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Fail> {
        self.array(ptr).map(u32::from_le_bytes)
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, Fail> {
        self.array(ptr).map(u64::from_le_bytes)
    }

    /// Writes bytes; writing nothing checks nothing (as wasmtime's `copy_from_slice`).
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), Fail> {
        if data.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(data.len()).map_err(|_| OUT_OF_BOUNDS)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    fn write_array<const N: usize>(&mut self, ptr: u32, v: [u8; N]) -> Result<(), Fail> {
        self.check_aligned(ptr, N as u32, N as u32)?;
        self.write_bytes(ptr, &v)
    }

    pub fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Fail> {
        self.write_array(ptr, v.to_le_bytes())
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Fail> {
        self.write_array(ptr, v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Fail> {
        self.write_array(ptr, v.to_le_bytes())
    }

    /// Writes a record of `align`-aligned fields (`$filestat`, `$fdstat`, `$event`, ...).
    pub fn write_record(&mut self, ptr: u32, rec: &[u8], align: u32) -> Result<(), Fail> {
        let len = u32::try_from(rec.len()).map_err(|_| OUT_OF_BOUNDS)?;
        self.check_aligned(ptr, len, align)?;
        self.write_bytes(ptr, rec)
    }

    /// The first non-empty buffer of an `$iovec` array, or `(0, 0)` if all are empty
    /// (wasmtime's `first_non_empty_iovec`): the array costs its size in fuel, the records are
    /// read one by one up to that buffer, whose length is paid in fuel too. The buffer itself
    /// is not checked here: the caller touches only what it reads or writes.
    pub fn first_iovec(&mut self, iovs: u32, count: u32) -> Result<(u32, u32), Fail> {
        self.consume(count as usize * IOVEC_SIZE as usize)?;
        for i in 0..count {
            let at = i
                .checked_mul(IOVEC_SIZE)
                .and_then(|o| iovs.checked_add(o))
                .ok_or(OUT_OF_BOUNDS)?;
            let buf = self.read_u32(at)?;
            let len = self.read_u32(at.checked_add(4).ok_or(OUT_OF_BOUNDS)?)?;
            if len > 0 {
                self.consume(len as usize)?;
                return Ok((buf, len));
            }
        }
        Ok((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_outside_memory_is_a_host_error_never_a_panic() {
        let mut bytes = [0u8; 16];
        let mut m = GuestMemory::new(&mut bytes);
        assert!(m.write_u64(8, 0x0102_0304_0506_0708).is_ok());
        assert_eq!(m.read_u64(8), Ok(0x0102_0304_0506_0708));
        assert_eq!(m.read_u8(8), Ok(8));
        assert_eq!(m.write_u64(16, 1), Err(OUT_OF_BOUNDS));
        assert_eq!(m.read_u32(u32::MAX - 3), Err(OUT_OF_BOUNDS));
        assert_eq!(m.slice(16, 0).map(|s| s.len()), Ok(0));
        assert_eq!(m.slice(17, 0).map(|s| s.len()), Err(OUT_OF_BOUNDS));
        assert_eq!(
            m.slice(u32::MAX, u32::MAX).map(|s| s.len()),
            Err(OUT_OF_BOUNDS)
        );
    }

    #[test]
    fn typed_values_must_be_aligned_to_their_size() {
        let mut bytes = [0u8; 32];
        let mut m = GuestMemory::new(&mut bytes);
        assert_eq!(m.write_u32(2, 1), Err(NOT_ALIGNED));
        assert_eq!(m.write_u64(4, 1), Err(NOT_ALIGNED));
        assert_eq!(m.read_u16(1), Err(NOT_ALIGNED));
        assert_eq!(m.write_record(4, &[0; 8], 8), Err(NOT_ALIGNED));
        assert!(m.write_record(8, &[0; 8], 8).is_ok());
        // Outside the memory wins over misalignment.
        assert_eq!(m.read_u32(33), Err(OUT_OF_BOUNDS));
    }

    #[test]
    fn writing_nothing_checks_nothing_but_an_empty_string_must_start_inside() {
        let mut bytes = [0u8; 16];
        let mut m = GuestMemory::new(&mut bytes);
        assert_eq!(m.write_bytes(u32::MAX, &[]), Ok(()));
        assert_eq!(m.str(16, 0), Ok(""));
        assert_eq!(m.str(17, 0), Err(OUT_OF_BOUNDS));
        m.write_bytes(0, &[0xff]).unwrap();
        assert_eq!(m.str(0, 1), Err(Fail::Errno(Errno::Ilseq)));
    }

    #[test]
    fn the_first_non_empty_iovec_is_found_without_checking_its_buffer() {
        let mut bytes = [0u8; 32];
        let mut m = GuestMemory::new(&mut bytes);
        // [{0x1000, 0}, {0xFFFF_FF00, 16}]: the second names a buffer outside memory.
        m.write_u32(0, 0x1000).unwrap();
        m.write_u32(8, 0xFFFF_FF00).unwrap();
        m.write_u32(12, 16).unwrap();
        assert_eq!(m.first_iovec(0, 2), Ok((0xFFFF_FF00, 16)));
        assert_eq!(m.first_iovec(0, 1), Ok((0, 0)));
        // No records: the array is never read, wherever it is.
        assert_eq!(m.first_iovec(u32::MAX, 0), Ok((0, 0)));
        assert_eq!(m.first_iovec(24, 2), Err(OUT_OF_BOUNDS));
        assert_eq!(m.first_iovec(2, 1), Err(NOT_ALIGNED));
    }

    #[test]
    fn one_call_may_take_at_most_128_mib_from_the_guest() {
        let mut bytes = [0u8; 16];
        let mut m = GuestMemory::new(&mut bytes);
        // An iovec array of 2^24 records is 128 MiB: all the fuel, before any is read.
        assert_eq!(
            m.first_iovec(0, 1 << 24 | 1),
            Err(Fail::Errno(Errno::Nomem))
        );
        let mut m = GuestMemory::new(&mut bytes);
        m.write_u32(4, 0x0800_0001).unwrap();
        assert_eq!(m.first_iovec(0, 1), Err(Fail::Errno(Errno::Nomem)));
        let mut m = GuestMemory::new(&mut bytes);
        assert!(m.consume(HOSTCALL_FUEL).is_ok());
        assert_eq!(m.path(0, 1), Err(Fail::Errno(Errno::Nomem)));
    }
}
