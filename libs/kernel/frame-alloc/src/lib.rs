//! A bitmap allocator for 4 KiB physical frames.
//!
//! One bit per frame over the span `[base, base + frames * 4096)`; a set bit
//! means "not free" (allocated, or never handed to the allocator). Free memory
//! is added with [`FrameAllocator::add_free`], so holes in the physical map
//! simply stay marked. Single frames come from a rotating hint (O(1) in the
//! common case); contiguous, aligned runs (stacks, DMA buffers) from a scan.
//!
//! The bitmap lives in caller-provided storage, so the crate needs no heap and
//! the kernel can carve the storage out of the memory it manages.
#![cfg_attr(not(test), no_std)]

/// Size of a frame.
pub const FRAME_SIZE: u64 = 4096;

/// Why an operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// An address is not frame-aligned.
    Misaligned(u64),
    /// A range lies (partly) outside the managed span.
    OutOfRange { addr: u64, frames: u64 },
    /// Freeing a frame that is already free.
    DoubleFree(u64),
    /// Zero frames requested, or an alignment that is not a power of two.
    BadRequest,
    /// The bitmap storage is too small for the span.
    StorageTooSmall { needed_words: usize },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Misaligned(a) => write!(f, "{a:#x} is not frame-aligned"),
            Self::OutOfRange { addr, frames } => {
                write!(
                    f,
                    "{frames} frames at {addr:#x} lie outside the managed memory"
                )
            }
            Self::DoubleFree(a) => write!(f, "frame {a:#x} is already free"),
            Self::BadRequest => write!(f, "zero frames or a non-power-of-two alignment"),
            Self::StorageTooSmall { needed_words } => {
                write!(f, "bitmap storage needs {needed_words} words")
            }
        }
    }
}

/// Number of `u64` bitmap words needed to manage `frames` frames.
pub const fn words_for(frames: u64) -> usize {
    frames.div_ceil(64) as usize
}

/// The allocator. `'a` is the lifetime of the bitmap storage.
#[derive(Debug)]
pub struct FrameAllocator<'a> {
    base: u64,
    frames: u64,
    bits: &'a mut [u64],
    free: u64,
    /// Frames ever added as free (the allocator's capacity).
    managed: u64,
    /// Where the next single-frame search starts.
    hint: u64,
}

impl<'a> FrameAllocator<'a> {
    /// An allocator for `frames` frames starting at `base`, with nothing free yet.
    pub fn new(base: u64, frames: u64, storage: &'a mut [u64]) -> Result<Self, Error> {
        if !base.is_multiple_of(FRAME_SIZE) {
            return Err(Error::Misaligned(base));
        }
        if base
            .checked_add(frames.saturating_mul(FRAME_SIZE))
            .is_none()
        {
            return Err(Error::OutOfRange { addr: base, frames });
        }
        let needed = words_for(frames);
        if storage.len() < needed {
            return Err(Error::StorageTooSmall {
                needed_words: needed,
            });
        }
        let bits = &mut storage[..needed];
        bits.fill(u64::MAX);
        Ok(Self {
            base,
            frames,
            bits,
            free: 0,
            managed: 0,
            hint: 0,
        })
    }

    /// Lowest managed address.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// One past the highest managed address.
    pub fn end(&self) -> u64 {
        self.base + self.frames * FRAME_SIZE
    }

    /// Frames currently free.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames handed to the allocator as free memory so far (free + allocated).
    pub fn managed_frames(&self) -> u64 {
        self.managed
    }

    /// Frames currently allocated.
    pub fn used_frames(&self) -> u64 {
        self.managed - self.free
    }

    /// Makes `[start, end)` free memory, shrunk inward to frame boundaries and
    /// clipped to the managed span. Frames already free stay free. Returns the
    /// number of frames added.
    pub fn add_free(&mut self, start: u64, end: u64) -> u64 {
        let start = start.max(self.base).next_multiple_of(FRAME_SIZE);
        let end = end.min(self.end()) & !(FRAME_SIZE - 1);
        let mut added = 0;
        let mut addr = start;
        while addr < end {
            let i = self.index(addr);
            if self.is_set(i) {
                self.clear(i);
                added += 1;
            }
            addr += FRAME_SIZE;
        }
        self.free += added;
        self.managed += added;
        added
    }

    /// Allocates one frame.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bits.len() as u64;
        let start = self.hint / 64;
        for k in 0..words {
            let w = ((start + k) % words) as usize;
            if self.bits[w] != u64::MAX {
                let bit = (!self.bits[w]).trailing_zeros() as u64;
                let i = w as u64 * 64 + bit;
                if i >= self.frames {
                    continue;
                }
                self.set(i);
                self.free -= 1;
                self.hint = i + 1;
                return Some(self.addr(i));
            }
        }
        None
    }

    /// Allocates `count` physically contiguous frames whose first address is a
    /// multiple of `align` bytes (a power of two; at least one frame).
    pub fn alloc_contiguous(&mut self, count: u64, align: u64) -> Result<Option<u64>, Error> {
        if count == 0 || !align.is_power_of_two() {
            return Err(Error::BadRequest);
        }
        if count > self.free {
            return Ok(None);
        }
        let align = align.max(FRAME_SIZE);
        // Candidates are absolute addresses aligned to `align`.
        let Some(mut addr) = self.base.checked_next_multiple_of(align) else {
            return Ok(None);
        };
        while let Some(end) = count
            .checked_mul(FRAME_SIZE)
            .and_then(|len| addr.checked_add(len))
        {
            if end > self.end() {
                break;
            }
            let i = self.index(addr);
            match (i..i + count).find(|&j| self.is_set(j)) {
                None => {
                    for j in i..i + count {
                        self.set(j);
                    }
                    self.free -= count;
                    return Ok(Some(addr));
                }
                // Skip past the used frame, staying aligned.
                Some(used) => match self.addr(used + 1).checked_next_multiple_of(align) {
                    Some(next) => addr = next,
                    None => break,
                },
            }
        }
        Ok(None)
    }

    /// Frees `count` frames starting at `addr`. Nothing changes on error.
    pub fn free(&mut self, addr: u64, count: u64) -> Result<(), Error> {
        if !addr.is_multiple_of(FRAME_SIZE) {
            return Err(Error::Misaligned(addr));
        }
        let in_range = addr >= self.base
            && count
                .checked_mul(FRAME_SIZE)
                .and_then(|len| addr.checked_add(len))
                .is_some_and(|end| end <= self.end());
        if !in_range {
            return Err(Error::OutOfRange {
                addr,
                frames: count,
            });
        }
        let first = self.index(addr);
        if let Some(j) = (first..first + count).find(|&j| !self.is_set(j)) {
            return Err(Error::DoubleFree(self.addr(j)));
        }
        for j in first..first + count {
            self.clear(j);
        }
        self.free += count;
        Ok(())
    }

    /// Whether the frame at `addr` is free.
    pub fn is_free(&self, addr: u64) -> bool {
        addr >= self.base && addr < self.end() && !self.is_set(self.index(addr))
    }

    fn index(&self, addr: u64) -> u64 {
        (addr - self.base) / FRAME_SIZE
    }

    fn addr(&self, i: u64) -> u64 {
        self.base + i * FRAME_SIZE
    }

    fn is_set(&self, i: u64) -> bool {
        self.bits[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: u64) {
        self.bits[(i / 64) as usize] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: u64) {
        self.bits[(i / 64) as usize] &= !(1 << (i % 64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x8000_0000;

    fn alloc_with(storage: &mut Vec<u64>, frames: u64) -> FrameAllocator<'_> {
        storage.resize(words_for(frames), 0);
        FrameAllocator::new(BASE, frames, storage).unwrap()
    }

    #[test]
    fn starts_empty_and_counts_added_memory() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 100);
        assert_eq!(a.alloc(), None);
        // Unaligned edges shrink inward: 10 whole frames.
        assert_eq!(a.add_free(BASE + 1, BASE + 11 * FRAME_SIZE + 5), 10);
        assert_eq!(a.free_frames(), 10);
        // Adding overlapping memory again does not double count.
        assert_eq!(a.add_free(BASE, BASE + 12 * FRAME_SIZE), 2);
        assert_eq!(a.managed_frames(), 12);
    }

    #[test]
    fn single_frames_are_unique_and_come_from_free_memory() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 200);
        a.add_free(BASE + 50 * FRAME_SIZE, BASE + 150 * FRAME_SIZE);
        let mut got = std::collections::BTreeSet::new();
        while let Some(f) = a.alloc() {
            assert!((BASE + 50 * FRAME_SIZE..BASE + 150 * FRAME_SIZE).contains(&f));
            assert_eq!(f % FRAME_SIZE, 0);
            assert!(got.insert(f), "{f:#x} handed out twice");
        }
        assert_eq!(got.len(), 100);
        assert_eq!(a.free_frames(), 0);
        assert_eq!(a.used_frames(), 100);
    }

    #[test]
    fn free_and_reuse_and_double_free() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 64);
        a.add_free(BASE, BASE + 64 * FRAME_SIZE);
        let f = a.alloc().unwrap();
        assert!(!a.is_free(f));
        a.free(f, 1).unwrap();
        assert!(a.is_free(f));
        assert_eq!(a.free(f, 1), Err(Error::DoubleFree(f)));
        assert_eq!(a.free(f + 1, 1), Err(Error::Misaligned(f + 1)));
        assert!(matches!(
            a.free(BASE + 64 * FRAME_SIZE, 1),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            a.free(BASE - FRAME_SIZE, 1),
            Err(Error::OutOfRange { .. })
        ));
        assert_eq!(a.free_frames(), 64);
    }

    #[test]
    fn partial_double_free_changes_nothing() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 8);
        a.add_free(BASE, BASE + 8 * FRAME_SIZE);
        let run = a.alloc_contiguous(4, FRAME_SIZE).unwrap().unwrap();
        a.free(run + FRAME_SIZE, 1).unwrap();
        assert_eq!(a.free(run, 4), Err(Error::DoubleFree(run + FRAME_SIZE)));
        assert!(!a.is_free(run));
        assert_eq!(a.free_frames(), 5);
    }

    #[test]
    fn contiguous_runs_respect_holes_and_alignment() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 256);
        // Two islands: 3 frames, then 40 frames.
        a.add_free(BASE + FRAME_SIZE, BASE + 4 * FRAME_SIZE);
        a.add_free(BASE + 10 * FRAME_SIZE, BASE + 50 * FRAME_SIZE);
        let run = a.alloc_contiguous(8, 16 * FRAME_SIZE).unwrap().unwrap();
        assert_eq!(run, BASE + 16 * FRAME_SIZE);
        for i in 0..8 {
            assert!(!a.is_free(run + i * FRAME_SIZE));
        }
        // 3 frames fit the first island.
        assert_eq!(
            a.alloc_contiguous(3, FRAME_SIZE).unwrap(),
            Some(BASE + FRAME_SIZE)
        );
        // No 30-frame run is left.
        assert_eq!(a.alloc_contiguous(30, FRAME_SIZE).unwrap(), None);
        assert_eq!(a.alloc_contiguous(0, FRAME_SIZE), Err(Error::BadRequest));
        assert_eq!(
            a.alloc_contiguous(1, 3 * FRAME_SIZE),
            Err(Error::BadRequest)
        );
        a.free(run, 8).unwrap();
        assert_eq!(a.free_frames(), 40);
    }

    #[test]
    fn contiguous_alignment_is_absolute_even_with_unaligned_base() {
        let base = BASE + 3 * FRAME_SIZE;
        let mut s = vec![0; words_for(256)];
        let mut a = FrameAllocator::new(base, 256, &mut s).unwrap();
        a.add_free(base, base + 256 * FRAME_SIZE);
        let align = 16 * FRAME_SIZE;
        let first = a.alloc_contiguous(4, align).unwrap().unwrap();
        assert_eq!(first % align, 0);
        // A used frame inside the next aligned window forces a skip.
        let second = a.alloc_contiguous(20, align).unwrap().unwrap();
        assert_eq!(second % align, 0);
        assert!(second >= first + 4 * FRAME_SIZE);
        // Nothing aligned fits past the end.
        assert_eq!(a.alloc_contiguous(250, align).unwrap(), None);
    }

    #[test]
    fn rejects_bad_construction() {
        let mut small = [0u64; 1];
        assert_eq!(
            FrameAllocator::new(BASE, 65, &mut small).unwrap_err(),
            Error::StorageTooSmall { needed_words: 2 }
        );
        assert_eq!(
            FrameAllocator::new(BASE + 1, 1, &mut small).unwrap_err(),
            Error::Misaligned(BASE + 1)
        );
    }

    #[test]
    fn span_not_multiple_of_64_never_hands_out_tail_bits() {
        let mut s = Vec::new();
        let mut a = alloc_with(&mut s, 70);
        a.add_free(BASE, u64::MAX);
        let mut n = 0;
        while let Some(f) = a.alloc() {
            assert!(f < BASE + 70 * FRAME_SIZE);
            n += 1;
        }
        assert_eq!(n, 70);
    }
}
