//! Memory: physical frames, the kernel address space and the heap.

pub mod frames;
pub mod heap;
pub mod report;
mod small;
#[cfg(feature = "ktest")]
mod tests;
pub mod vm;

use core::sync::atomic::{AtomicU64, Ordering};

static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);
static PHYS_MAP_SIZE: AtomicU64 = AtomicU64::new(0);

/// Where the loader mapped physical memory, and how much of it.
pub fn set_phys_map(offset: u64, size: u64) {
    PHYS_OFFSET.store(offset, Ordering::Relaxed);
    PHYS_MAP_SIZE.store(size, Ordering::Relaxed);
}

/// Whether `phys..phys + len` lies in the phys map.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))] // x86_64's MMIO is all in the phys map.
pub fn in_phys_map(phys: u64, len: u64) -> bool {
    phys.checked_add(len)
        .is_some_and(|end| end <= PHYS_MAP_SIZE.load(Ordering::Relaxed))
}

/// The virtual address at which physical address `phys` is mapped.
pub fn phys_to_virt(phys: u64) -> u64 {
    PHYS_OFFSET.load(Ordering::Relaxed) + phys
}

pub const PAGE_SIZE: u64 = boot_info::layout::PAGE_SIZE;

/// Formats a byte count as B/KiB/MiB/GiB.
pub struct Size(pub u64);

impl core::fmt::Display for Size {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.0;
        if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
            write!(f, "{} GiB", b >> 30)
        } else if b >= 1 << 20 {
            write!(f, "{}.{:02} MiB", b >> 20, ((b % (1 << 20)) * 100) >> 20)
        } else if b >= 1 << 10 {
            write!(f, "{} KiB", b >> 10)
        } else {
            write!(f, "{b} B")
        }
    }
}
