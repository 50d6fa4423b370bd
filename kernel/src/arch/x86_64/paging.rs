//! The kernel's page table: x86_64 4-level paging, as the loader built it.

use page_table::{Flags, MapError, Mapping, Offset, PageSize, PageTable, X86Level4};

/// Zeroes `bytes` at `p` (pages): `rep stosb` through `write_bytes`.
///
/// # Safety
/// `p..p + bytes` must be writable and not aliased by references.
pub unsafe fn zero_pages(p: *mut u8, bytes: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { core::ptr::write_bytes(p, 0, bytes) };
}

/// Nothing to set up: `rep stosb` needs no feature check.
pub fn init_zeroing() {}

/// The root table the kernel runs on.
pub struct KernelTable(PageTable<X86Level4, Offset>);

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
        match mode {
            // SAFETY: forwarded from the caller.
            boot_info::PagingMode::X86Level4 => Some(Self(unsafe {
                PageTable::from_root(root, Offset(phys_offset))
            })),
            _ => None,
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
        self.0
            .map(virt, phys, len, flags | Flags::GLOBAL, max_size, alloc)
    }

    pub fn unmap_range(
        &mut self,
        virt: u64,
        len: u64,
        f: impl FnMut(Mapping),
    ) -> Result<(), MapError> {
        self.0.unmap_range(virt, len, f)
    }

    pub fn protect(&mut self, virt: u64, len: u64, flags: Flags) -> Result<(), MapError> {
        self.0.protect(virt, len, flags | Flags::GLOBAL)
    }

    pub fn translate(&self, virt: u64) -> Option<Mapping> {
        self.0.translate(virt)
    }

    pub fn root(&self) -> u64 {
        self.0.root()
    }

    /// Root entries of the lower half (user/identity) of the address space.
    pub fn lower_half_entries() -> usize {
        256
    }
}
