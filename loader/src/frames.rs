//! A bump allocator over usable RAM that records what it handed out, so the
//! memory map can name every loader allocation.

use crate::LoaderError;
use crate::platform::{Range, RangeList};
use boot_info::MemoryKind;
use boot_info::layout::PAGE_SIZE;

pub const MAX_ALLOCATIONS: usize = 48;

#[derive(Debug, Clone, Copy)]
pub struct Allocation {
    pub range: Range,
    pub kind: MemoryKind,
}

pub struct Frames {
    ram: RangeList,
    /// Never handed out: firmware, the loader image, the original FDT, the initrd.
    avoid: RangeList,
    region: usize,
    cursor: u64,
    allocations: [Allocation; MAX_ALLOCATIONS],
    count: usize,
}

impl Frames {
    /// `ram` must be sorted. Only whole pages inside `ram` and outside `avoid` are used.
    pub fn new(ram: &RangeList, avoid: &RangeList) -> Self {
        let mut pages = RangeList::new();
        for r in ram.iter() {
            // Cannot fail: same capacity as `ram`.
            let _ = pages.push(r.pages_inside());
        }
        let first = pages.as_slice().first().map_or(0, |r| r.start);
        Self {
            ram: pages,
            avoid: *avoid,
            region: 0,
            cursor: first,
            allocations: [Allocation {
                range: Range::new(0, 0),
                kind: MemoryKind::Reserved,
            }; MAX_ALLOCATIONS],
            count: 0,
        }
    }

    /// `size` bytes (rounded up to pages) aligned to `align` (a power of two, at least a page).
    pub fn alloc(&mut self, size: u64, align: u64, kind: MemoryKind) -> Result<u64, LoaderError> {
        let size = size.div_ceil(PAGE_SIZE).max(1) * PAGE_SIZE;
        let align = align.max(PAGE_SIZE);
        let oom = LoaderError::OutOfMemory { size };
        while let Some(region) = self.ram.as_slice().get(self.region).copied() {
            let start = self
                .cursor
                .max(region.start)
                .checked_next_multiple_of(align)
                .ok_or(oom)?;
            let end = start.checked_add(size).ok_or(oom)?;
            if end > region.end {
                self.region += 1;
                continue;
            }
            let want = Range::new(start, end);
            if let Some(clash) = self.avoid.iter().find(|a| a.overlaps(&want)) {
                self.cursor = clash.end;
                continue;
            }
            self.record(want, kind)?;
            self.cursor = end;
            return Ok(start);
        }
        Err(oom)
    }

    fn record(&mut self, range: Range, kind: MemoryKind) -> Result<(), LoaderError> {
        if let Some(last) = self.allocations[..self.count].last_mut()
            && last.kind == kind
            && last.range.end == range.start
        {
            last.range.end = range.end;
            return Ok(());
        }
        let slot = self
            .allocations
            .get_mut(self.count)
            .ok_or(LoaderError::TooManyRanges)?;
        *slot = Allocation { range, kind };
        self.count += 1;
        Ok(())
    }

    pub fn allocations(&self) -> &[Allocation] {
        &self.allocations[..self.count]
    }
}

/// Hands page-table frames to the `page-table` crate, recorded as [`MemoryKind::PageTables`].
pub struct TableFrames<'a>(pub &'a mut Frames);

impl page_table::FrameAllocator for TableFrames<'_> {
    fn allocate_frame(&mut self) -> Option<u64> {
        self.0
            .alloc(PAGE_SIZE, PAGE_SIZE, MemoryKind::PageTables)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ranges: &[(u64, u64)]) -> RangeList {
        let mut l = RangeList::new();
        for &(s, e) in ranges {
            l.push(Range::new(s, e)).unwrap();
        }
        l
    }

    #[test]
    fn skips_avoided_ranges_and_merges_records() {
        let ram = list(&[(0x8000_0000, 0x8010_0000), (0x9000_0000, 0x9000_4000)]);
        let avoid = list(&[(0x8000_0000, 0x8002_0000), (0x8003_0800, 0x8004_0000)]);
        let mut f = Frames::new(&ram, &avoid);
        assert_eq!(
            f.alloc(0x1000, 0x1000, MemoryKind::PageTables).unwrap(),
            0x8002_0000
        );
        assert_eq!(
            f.alloc(0x1000, 0x1000, MemoryKind::PageTables).unwrap(),
            0x8002_1000
        );
        // Would touch the partly-avoided page at 0x8003_0000.
        assert_eq!(
            f.alloc(0x10_000, 0x1000, MemoryKind::Stacks).unwrap(),
            0x8004_0000
        );
        // Too big for the rest of the first region: continues in the second.
        assert_eq!(
            f.alloc(0xc_0000, 0x1000, MemoryKind::Kernel).unwrap_err(),
            LoaderError::OutOfMemory { size: 0xc_0000 }
        );
        let kinds: Vec<_> = f
            .allocations()
            .iter()
            .map(|a| (a.range.start, a.range.end, a.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (0x8002_0000, 0x8002_2000, MemoryKind::PageTables),
                (0x8004_0000, 0x8005_0000, MemoryKind::Stacks)
            ]
        );
    }

    #[test]
    fn moves_to_later_regions_and_aligns() {
        let ram = list(&[(0x1000, 0x3000), (0x20_0000, 0x60_0000)]);
        let mut f = Frames::new(&ram, &RangeList::new());
        assert_eq!(
            f.alloc(0x3000, 0x1000, MemoryKind::BootInfo).unwrap(),
            0x20_0000
        );
        assert_eq!(
            f.alloc(1, 0x20_0000, MemoryKind::Kernel).unwrap(),
            0x40_0000
        );
        assert_eq!(f.alloc(1, 0x1000, MemoryKind::Fdt).unwrap(), 0x40_1000);
        assert!(f.alloc(0x20_0000, 0x1000, MemoryKind::Fdt).is_err());
    }
}
