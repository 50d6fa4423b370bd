//! Virtual space for Wasm: a first-fit allocator of address ranges with
//! reuse (freed ranges coalesce), so that creating and dropping memories
//! and modules forever never runs out of address space.

use alloc::collections::BTreeMap;

/// Free ranges of one region, keyed by start.
pub struct RangeAllocator {
    free: BTreeMap<u64, u64>,
    base: u64,
    end: u64,
}

impl RangeAllocator {
    pub const fn empty() -> Self {
        Self {
            free: BTreeMap::new(),
            base: 0,
            end: 0,
        }
    }

    /// Manages `[base, end)` (forgetting any earlier state).
    pub fn reset(&mut self, base: u64, end: u64) {
        self.free.clear();
        if end > base {
            self.free.insert(base, end - base);
        }
        self.base = base;
        self.end = end;
    }

    pub fn contains(&self, addr: u64) -> bool {
        (self.base..self.end).contains(&addr)
    }

    /// A range of `len` bytes aligned to `align` (a power of two).
    pub fn alloc(&mut self, len: u64, align: u64) -> Option<u64> {
        let (start, flen, at) = self.free.iter().find_map(|(&s, &l)| {
            let at = s.checked_next_multiple_of(align)?;
            (at.checked_add(len)? <= s + l).then_some((s, l, at))
        })?;
        self.free.remove(&start);
        if at > start {
            self.free.insert(start, at - start);
        }
        let tail = start + flen - (at + len);
        if tail > 0 {
            self.free.insert(at + len, tail);
        }
        Some(at)
    }

    /// Returns `[start, start + len)`, merging it with free neighbours.
    pub fn free(&mut self, mut start: u64, mut len: u64) {
        if let Some((&s, &l)) = self.free.range(..start).next_back()
            && s + l == start
        {
            self.free.remove(&s);
            start = s;
            len += l;
        }
        if let Some(l) = self.free.remove(&(start + len)) {
            len += l;
        }
        self.free.insert(start, len);
    }

    #[cfg(any(feature = "ktest", feature = "bench"))]
    /// Free bytes in the region.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }

    #[cfg(any(feature = "ktest", feature = "bench"))]
    /// Number of free fragments (1 when nothing is allocated).
    pub fn fragments(&self) -> usize {
        self.free.len()
    }
}
