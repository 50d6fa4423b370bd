//! What the firmware tells the loader about the machine, arch-neutral.

use crate::LoaderError;

/// A half-open physical address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    pub const fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }
    /// Shrunk to whole pages.
    pub const fn pages_inside(&self) -> Self {
        let start = self.start.div_ceil(PAGE) * PAGE;
        let end = self.end / PAGE * PAGE;
        Self { start, end }
    }
    /// Grown to whole pages.
    pub const fn pages_around(&self) -> Self {
        Self {
            start: self.start / PAGE * PAGE,
            end: self.end.div_ceil(PAGE) * PAGE,
        }
    }
}

const PAGE: u64 = boot_info::layout::PAGE_SIZE;
pub const MAX_RANGES: usize = 32;

/// A fixed-capacity list of ranges (no allocator in the loader).
#[derive(Debug, Clone, Copy)]
pub struct RangeList {
    items: [Range; MAX_RANGES],
    len: usize,
}

impl RangeList {
    pub const fn new() -> Self {
        Self {
            items: [Range::new(0, 0); MAX_RANGES],
            len: 0,
        }
    }
    /// Adds a non-empty range; empty ones are ignored.
    pub fn push(&mut self, r: Range) -> Result<(), LoaderError> {
        if r.is_empty() {
            return Ok(());
        }
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(LoaderError::TooManyRanges)?;
        *slot = r;
        self.len += 1;
        Ok(())
    }
    pub fn as_slice(&self) -> &[Range] {
        &self.items[..self.len]
    }
    pub fn iter(&self) -> impl Iterator<Item = Range> + '_ {
        self.as_slice().iter().copied()
    }
    pub fn sort(&mut self) {
        self.items[..self.len].sort_unstable_by_key(|r| r.start);
    }
}

impl Default for RangeList {
    fn default() -> Self {
        Self::new()
    }
}

/// The machine as the firmware describes it.
#[derive(Debug, Default)]
pub struct Platform<'a> {
    /// RAM, sorted.
    pub ram: RangeList,
    /// Firmware-owned memory (OpenSBI, memreserve entries, ...).
    pub reserved: RangeList,
    /// Harts that may be started (bit per hart id).
    pub harts: u64,
    /// Harts the firmware describes that atoll never starts: disabled, or
    /// without an MMU (monitor cores). Device trees only (not UEFI's MADT).
    #[cfg_attr(target_os = "uefi", allow(dead_code))]
    pub skipped_harts: u64,
    pub timer_hz: u64,
    pub cmdline: &'a str,
    /// Firmware-provided entropy (FDT `rng-seed`).
    pub rng_seed: Option<&'a [u8]>,
    pub initrd: Option<Range>,
    /// The original device tree blob, copied into kernel-owned frames.
    pub fdt: Option<&'a [u8]>,
    /// The phys map covers at least `0..phys_map_end` besides RAM (x86 MMIO
    /// such as the local APIC, I/O APIC and HPET sits above RAM).
    pub phys_map_end: u64,
}
