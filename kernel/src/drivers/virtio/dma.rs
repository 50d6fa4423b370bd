//! Physically contiguous buffers for devices to read and write (bounce buffers).

use crate::mem::{PAGE_SIZE, frames, phys_to_virt};

/// Zeroed, physically contiguous frames in the phys map, freed on drop.
pub struct DmaBuf {
    phys: u64,
    len: usize,
}

impl DmaBuf {
    /// At least `len` bytes (whole pages); `None` if no contiguous run of frames is free.
    pub fn new(len: usize) -> Option<DmaBuf> {
        let pages = (len as u64).div_ceil(PAGE_SIZE).max(1);
        let phys = frames::alloc_contiguous_zeroed(pages, PAGE_SIZE)?;
        Some(DmaBuf {
            phys,
            len: (pages * PAGE_SIZE) as usize,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `phys..phys + len` are frames this buffer owns, mapped through the phys map;
        // the device writes them only while a request holding `&mut` to them is in flight.
        unsafe { core::slice::from_raw_parts(phys_to_virt(self.phys) as *const u8, self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(self.phys) as *mut u8, self.len) }
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        let pages = self.len as u64 / PAGE_SIZE;
        if let Err(e) = frames::free(self.phys, pages) {
            crate::warn!("virtio: freeing a DMA buffer at {:#x}: {e:?}", self.phys);
        }
    }
}
