//! Builds the kernel's memory map: RAM split by owner, sorted, non-overlapping.

use crate::LoaderError;
use crate::platform::Range;
use boot_info::{BootInfo, MemoryKind, MemoryRegion};

/// Inputs: at most this many typed ranges.
pub const MAX_INPUTS: usize = 160;

/// Which owner wins where ranges overlap: firmware, then the loader's
/// allocations and hand-overs, then the loader image, then free RAM.
fn rank(kind: MemoryKind) -> u8 {
    match kind {
        MemoryKind::Usable => 0,
        MemoryKind::Loader | MemoryKind::AcpiReclaimable => 1,
        MemoryKind::Reserved => 3,
        _ => 2,
    }
}

pub struct MemoryMap {
    inputs: [MemoryRegion; MAX_INPUTS],
    count: usize,
}

impl MemoryMap {
    pub const fn new() -> Self {
        Self {
            inputs: [MemoryRegion::EMPTY; MAX_INPUTS],
            count: 0,
        }
    }

    /// Adds a typed range; empty ranges are ignored.
    pub fn add(&mut self, range: Range, kind: MemoryKind) -> Result<(), LoaderError> {
        if range.is_empty() {
            return Ok(());
        }
        let slot = self
            .inputs
            .get_mut(self.count)
            .ok_or(LoaderError::TooManyRanges)?;
        *slot = MemoryRegion {
            start: range.start,
            len: range.len(),
            kind,
        };
        self.count += 1;
        Ok(())
    }

    /// Writes the map into `bi`: only addresses inside some `Usable` input
    /// (RAM) appear, each with the highest-ranked kind covering it.
    pub fn write_to(&self, bi: &mut BootInfo) -> Result<(), LoaderError> {
        let inputs = &self.inputs[..self.count];
        let mut points = [0u64; 2 * MAX_INPUTS];
        let mut n = 0;
        for r in inputs {
            points[n] = r.start;
            points[n + 1] = r.end();
            n += 2;
        }
        let points = &mut points[..n];
        points.sort_unstable();
        bi.memory_region_count = 0;
        for w in points.windows(2) {
            let (start, end) = (w[0], w[1]);
            if start == end {
                continue;
            }
            let covering = inputs.iter().filter(|r| r.start <= start && end <= r.end());
            let in_ram = covering.clone().any(|r| r.kind == MemoryKind::Usable);
            let Some(kind) = covering.map(|r| r.kind).max_by_key(|&k| rank(k)) else {
                continue;
            };
            if !in_ram {
                continue;
            }
            let n = bi.memory_region_count as usize;
            if let Some(last) = bi.memory_regions[..n].last_mut()
                && last.kind == kind
                && last.end() == start
            {
                last.len += end - start;
                continue;
            }
            bi.push_region(MemoryRegion {
                start,
                len: end - start,
                kind,
            })
            .map_err(|_| LoaderError::TooManyRanges)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_ram_by_owner_and_drops_non_ram() {
        let mut m = MemoryMap::new();
        let ram = Range::new(0x8000_0000, 0x9000_0000);
        m.add(ram, MemoryKind::Usable).unwrap();
        m.add(Range::new(0x8000_0000, 0x8004_0000), MemoryKind::Reserved)
            .unwrap();
        m.add(Range::new(0x8020_0000, 0x8080_0000), MemoryKind::Loader)
            .unwrap();
        m.add(Range::new(0x8030_0000, 0x8050_0000), MemoryKind::KernelElf)
            .unwrap();
        m.add(Range::new(0x8080_0000, 0x8081_0000), MemoryKind::PageTables)
            .unwrap();
        m.add(Range::new(0x8081_0000, 0x8082_0000), MemoryKind::PageTables)
            .unwrap();
        // MMIO outside RAM never shows up.
        m.add(Range::new(0x1000_0000, 0x1000_1000), MemoryKind::Reserved)
            .unwrap();
        // Overlapping the end of RAM: clipped.
        m.add(Range::new(0x8ff0_0000, 0x9100_0000), MemoryKind::Initrd)
            .unwrap();
        let mut bi = BootInfo::new();
        m.write_to(&mut bi).unwrap();
        let got: Vec<_> = bi
            .memory_regions()
            .iter()
            .map(|r| (r.start, r.end(), r.kind))
            .collect();
        assert_eq!(
            got,
            [
                (0x8000_0000, 0x8004_0000, MemoryKind::Reserved),
                (0x8004_0000, 0x8020_0000, MemoryKind::Usable),
                (0x8020_0000, 0x8030_0000, MemoryKind::Loader),
                (0x8030_0000, 0x8050_0000, MemoryKind::KernelElf),
                (0x8050_0000, 0x8080_0000, MemoryKind::Loader),
                (0x8080_0000, 0x8082_0000, MemoryKind::PageTables),
                (0x8082_0000, 0x8ff0_0000, MemoryKind::Usable),
                (0x8ff0_0000, 0x9000_0000, MemoryKind::Initrd),
            ]
        );
    }
}
