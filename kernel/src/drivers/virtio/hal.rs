//! `virtio_drivers::Hal` for the kernel: DMA memory from the frame allocator, seen through the
//! phys map, and device registers through the phys map (or a fresh kernel mapping where a
//! device sits above it, like 64-bit PCI BARs).
//!
//! There is no IOMMU and DMA is cache-coherent on the machines atoll runs on (QEMU `virt` and
//! q35), so sharing a buffer is translating its address: every buffer handed to a device is
//! physically contiguous memory in the phys map (a [`virtio_drivers::Hal::dma_alloc`] area or
//! frames from [`crate::mem::frames`]). Drivers copy through such bounce buffers; nothing
//! passes a heap or stack buffer to a device.

use core::ptr::NonNull;

use boot_info::layout::{PHYS_MAP_BASE, PHYS_MAP_SIZE};
use page_table::Flags;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use crate::mem::{PAGE_SIZE, frames, phys_to_virt, vm};

pub struct KernelHal;

/// The physical address of `virt`, which must lie in the phys map.
pub fn virt_to_phys(virt: usize) -> PhysAddr {
    let v = virt as u64;
    assert!(
        (PHYS_MAP_BASE..PHYS_MAP_BASE + PHYS_MAP_SIZE).contains(&v),
        "virtio: a DMA buffer outside the phys map ({v:#x})"
    );
    v - PHYS_MAP_BASE
}

// SAFETY: `dma_alloc` returns zeroed, contiguous frames that nothing else owns until
// `dma_dealloc`; `share` returns the physical address of memory that stays put (phys-map
// memory never moves); MMIO mappings stay for the kernel's life.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match frames::alloc_contiguous_zeroed(pages as u64, PAGE_SIZE) {
            Some(phys) => {
                let virt = phys_to_virt(phys) as *mut u8;
                (phys, NonNull::new(virt).unwrap_or(NonNull::dangling()))
            }
            // virtio-drivers reads a zero physical address as failure.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        match frames::free(paddr, pages as u64) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let end = paddr.saturating_add(size as u64);
        let virt = if end <= PHYS_MAP_SIZE && crate::mem::vm::is_mapped(phys_to_virt(paddr)) {
            phys_to_virt(paddr)
        } else {
            map_mmio(paddr, size as u64)
        };
        NonNull::new(virt as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let virt = buffer.as_ptr() as *mut u8 as u64;
        if direction != BufferDirection::DriverToDevice {
            // The device writes it without the MMU: mark its pages written
            // first, or a kept Wasm memory would not be zeroed there.
            crate::mem::vm::mark_written(virt, buffer.len() as u64);
        }
        virt_to_phys(virt as usize)
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {
        // Coherent DMA without bounce buffers of our own: nothing to copy back.
    }
}

/// Maps device registers at `phys..phys + len` somewhere in the kernel's vmap region.
fn map_mmio(phys: u64, len: u64) -> u64 {
    let start = phys & !(PAGE_SIZE - 1);
    let span = (phys + len).next_multiple_of(PAGE_SIZE) - start;
    let virt = vm::alloc_vrange(span)
        .unwrap_or_else(|e| panic!("virtio: no virtual space for MMIO at {phys:#x}: {e}"));
    vm::map_phys(virt, start, span, Flags::RW.union(Flags::GLOBAL))
        .unwrap_or_else(|e| panic!("virtio: cannot map MMIO at {phys:#x}: {e}"));
    virt + (phys - start)
}
