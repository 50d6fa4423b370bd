//! Bounds-checked access to a guest's linear memory.
//!
//! Every pointer and length that comes from the guest goes through here; anything that does
//! not lie wholly inside the memory is [`Errno::Fault`], never a panic. Wasm is little-endian
//! and allows unaligned access, so alignment is not checked.

use crate::errno::Errno;

/// A guest's linear memory for the duration of one host call.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a linear memory (empty if the module exports none).
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { bytes }
    }

    /// Size of the memory in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn range(&self, ptr: u32, len: u32) -> Result<core::ops::Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    /// The guest bytes `[ptr, ptr + len)`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The guest bytes `[ptr, ptr + len)`, writable.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// Checks that `[ptr, ptr + len)` is inside the memory without touching it.
    pub fn check(&self, ptr: u32, len: u32) -> Result<(), Errno> {
        self.range(ptr, len).map(|_| ())
    }

    /// Reads a guest string; invalid UTF-8 is [`Errno::Ilseq`].
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        core::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        self.array(ptr).map(u16::from_le_bytes)
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        self.array(ptr).map(u32::from_le_bytes)
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        self.array(ptr).map(u64::from_le_bytes)
    }

    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write_bytes(ptr, &[v])
    }

    pub fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Errno> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// Reads an `$iovec` array and checks every buffer it names.
    /// Returns `(buf, buf_len)` pairs.
    pub fn iovecs(&self, iovs: u32, count: u32) -> Result<alloc::vec::Vec<(u32, u32)>, Errno> {
        let bytes = count
            .checked_mul(crate::abi::layout::IOVEC_SIZE)
            .ok_or(Errno::Fault)?;
        self.check(iovs, bytes)?;
        let mut out = alloc::vec::Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = iovs + i * crate::abi::layout::IOVEC_SIZE;
            let buf = self.read_u32(at)?;
            let len = self.read_u32(at + 4)?;
            self.check(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let mut bytes = [0u8; 16];
        let mut m = GuestMemory::new(&mut bytes);
        assert!(m.write_u64(8, 0x0102_0304_0506_0708).is_ok());
        assert_eq!(m.read_u64(8), Ok(0x0102_0304_0506_0708));
        assert_eq!(m.read_u8(8), Ok(8));
        assert_eq!(m.write_u64(9, 1), Err(Errno::Fault));
        assert_eq!(m.read_u32(u32::MAX), Err(Errno::Fault));
        assert_eq!(m.slice(16, 0).map(|s| s.len()), Ok(0));
        assert_eq!(m.slice(17, 0).map(|s| s.len()), Err(Errno::Fault));
        assert_eq!(
            m.slice(u32::MAX, u32::MAX).map(|s| s.len()),
            Err(Errno::Fault)
        );
    }

    #[test]
    fn iovecs_checked() {
        let mut bytes = [0u8; 32];
        let mut m = GuestMemory::new(&mut bytes);
        m.write_u32(0, 16).unwrap();
        m.write_u32(4, 16).unwrap();
        assert_eq!(m.iovecs(0, 1), Ok(alloc::vec![(16, 16)]));
        m.write_u32(4, 17).unwrap();
        assert_eq!(m.iovecs(0, 1), Err(Errno::Fault));
        // The array itself must fit, even if its count is absurd.
        assert_eq!(m.iovecs(0, u32::MAX), Err(Errno::Fault));
    }
}
