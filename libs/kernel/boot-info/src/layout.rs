//! The kernel's virtual address layout, shared by every loader and the kernel.
//!
//! Everything kernel-owned lives in the top 256 GiB, which is canonical in
//! Sv39, Sv48 and x86_64 4-level paging alike, so one layout serves all.
//! The lower half is left to the kernel for Wasm linear memories; its size
//! depends on the paging mode.

/// All physical memory is mapped here (up to [`PHYS_MAP_SIZE`]).
pub const PHYS_MAP_BASE: u64 = 0xffff_ffc0_0000_0000;
pub const PHYS_MAP_SIZE: u64 = 128 << 30;

/// Kernel heap, grown on demand by the kernel.
pub const HEAP_BASE: u64 = 0xffff_ffe0_0000_0000;
pub const HEAP_SIZE: u64 = 32 << 30;

/// General kernel mappings (vmalloc-style: code memory, MMIO, ...).
pub const VMAP_BASE: u64 = 0xffff_ffe8_0000_0000;
pub const VMAP_SIZE: u64 = 32 << 30;

/// Kernel stacks, each below an unmapped guard page. The loader places the
/// boot stacks at the start; the kernel allocates further ones above them.
pub const STACKS_BASE: u64 = 0xffff_fff0_0000_0000;
pub const STACKS_SIZE: u64 = 16 << 30;

/// The window in which the loader places the kernel image (KASLR).
pub const KERNEL_WINDOW_BASE: u64 = 0xffff_fff8_0000_0000;
pub const KERNEL_WINDOW_SIZE: u64 = 30 << 30;
/// KASLR slides are multiples of this.
pub const KERNEL_ALIGN: u64 = 2 << 20;

/// Lower-half region the kernel may use for Wasm linear memories under Sv39.
/// (Sv48 and x86_64 offer 128 TiB; the kernel asks the paging mode.)
pub const LOWER_HALF_BASE: u64 = 0x0000_0001_0000_0000;

pub const PAGE_SIZE: u64 = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_disjoint_and_in_order() {
        let regions = [
            (PHYS_MAP_BASE, PHYS_MAP_SIZE),
            (HEAP_BASE, HEAP_SIZE),
            (VMAP_BASE, VMAP_SIZE),
            (STACKS_BASE, STACKS_SIZE),
            (KERNEL_WINDOW_BASE, KERNEL_WINDOW_SIZE),
        ];
        for w in regions.windows(2) {
            assert!(
                w[0].0 + w[0].1 <= w[1].0,
                "{:#x} overlaps {:#x}",
                w[0].0,
                w[1].0
            );
        }
        let (last, size) = regions[regions.len() - 1];
        assert!(last.checked_add(size).is_some());
    }

    #[test]
    fn kernel_half_is_canonical_in_sv39() {
        // Sv39 canonical upper half: bits 63..=38 all ones.
        for addr in [
            PHYS_MAP_BASE,
            HEAP_BASE,
            VMAP_BASE,
            STACKS_BASE,
            KERNEL_WINDOW_BASE,
        ] {
            assert_eq!(addr >> 38, (1 << 26) - 1, "{addr:#x}");
        }
    }
}
