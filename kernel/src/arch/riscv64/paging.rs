//! The kernel's page table in the paging mode the loader chose.

use page_table::{Flags, MapError, Mapping, Offset, PageSize, PageTable, Sv39, Sv48};

/// The root table the kernel runs on, in Sv39 or Sv48.
pub enum KernelTable {
    Sv39(PageTable<Sv39, Offset>),
    Sv48(PageTable<Sv48, Offset>),
}

macro_rules! each {
    ($self:ident, $pt:ident => $e:expr) => {
        match $self {
            KernelTable::Sv39($pt) => $e,
            KernelTable::Sv48($pt) => $e,
        }
    };
}

impl KernelTable {
    /// Wraps the active root table.
    ///
    /// # Safety
    /// `root` must be the live root table, all of physical memory must be
    /// mapped at `phys_offset`, and the caller serializes all use.
    pub unsafe fn from_boot(
        mode: boot_info::PagingMode,
        root: u64,
        phys_offset: u64,
    ) -> Option<Self> {
        // SAFETY: forwarded from the caller.
        unsafe {
            match mode {
                boot_info::PagingMode::Sv39 => {
                    Some(Self::Sv39(PageTable::from_root(root, Offset(phys_offset))))
                }
                boot_info::PagingMode::Sv48 => {
                    Some(Self::Sv48(PageTable::from_root(root, Offset(phys_offset))))
                }
                _ => None,
            }
        }
    }

    /// Maps with pages up to `max_size` where addresses and length allow.
    pub fn map(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        flags: Flags,
        max_size: PageSize,
        alloc: &mut impl page_table::FrameAllocator,
    ) -> Result<(), MapError> {
        each!(self, pt => pt.map(virt, phys, len, flags | Flags::GLOBAL, max_size, alloc))
    }

    pub fn unmap_range(
        &mut self,
        virt: u64,
        len: u64,
        f: impl FnMut(Mapping),
    ) -> Result<(), MapError> {
        each!(self, pt => pt.unmap_range(virt, len, f))
    }

    pub fn protect(&mut self, virt: u64, len: u64, flags: Flags) -> Result<(), MapError> {
        each!(self, pt => pt.protect(virt, len, flags | Flags::GLOBAL))
    }

    pub fn translate(&self, virt: u64) -> Option<Mapping> {
        each!(self, pt => pt.translate(virt))
    }

    pub fn root(&self) -> u64 {
        each!(self, pt => pt.root())
    }

    /// Bytes of the lower half (user/identity) of the address space.
    pub fn lower_half_entries() -> usize {
        256
    }
}
