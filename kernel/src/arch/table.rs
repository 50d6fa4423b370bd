//! The kernel's page table as the loader built it: one type over the paging
//! formats each arch has (the formats themselves are `page_table`'s). It picks
//! the format at boot and adds the kernel's one rule: every mapping is global.

use page_table::{Flags, MapError, Mapping, Marked, Offset, PageSize, PageTable};

/// The root table the kernel runs on, in the format the loader chose (on
/// riscv64, Sv39 or Sv48, or Sv39 with T-Head's memory attributes in every
/// leaf, as the loader found the harts).
pub enum KernelTable {
    #[cfg(target_arch = "riscv64")]
    Sv39(PageTable<page_table::Sv39, Offset>),
    #[cfg(target_arch = "riscv64")]
    Sv48(PageTable<page_table::Sv48, Offset>),
    #[cfg(target_arch = "riscv64")]
    Sv39XTheadMae(PageTable<page_table::Sv39XTheadMae, Offset>),
    #[cfg(target_arch = "x86_64")]
    X86Level4(PageTable<page_table::X86Level4, Offset>),
}

/// Evaluates `$e` with `$pt` bound to the table, whatever its format.
macro_rules! each {
    ($self:ident, $pt:ident => $e:expr) => {
        match $self {
            #[cfg(target_arch = "riscv64")]
            KernelTable::Sv39($pt) => $e,
            #[cfg(target_arch = "riscv64")]
            KernelTable::Sv48($pt) => $e,
            #[cfg(target_arch = "riscv64")]
            KernelTable::Sv39XTheadMae($pt) => $e,
            #[cfg(target_arch = "x86_64")]
            KernelTable::X86Level4($pt) => $e,
        }
    };
}

impl KernelTable {
    /// Root entries of the lower half (user/identity) of the address space:
    /// half of the 512 in every format.
    pub const LOWER_HALF_ENTRIES: usize = 256;

    /// Wraps the active root table; `None` if this arch has no such format.
    ///
    /// # Safety
    /// `root` must be the live root table, all of physical memory must be
    /// mapped at `phys_offset`, and the caller serializes all use.
    pub unsafe fn from_boot(
        mode: boot_info::PagingMode,
        root: u64,
        phys_offset: u64,
    ) -> Option<Self> {
        use boot_info::PagingMode as M;
        let offset = Offset(phys_offset);
        // SAFETY: forwarded from the caller.
        unsafe {
            Some(match mode {
                #[cfg(target_arch = "riscv64")]
                M::Sv39 => Self::Sv39(PageTable::from_root(root, offset)),
                #[cfg(target_arch = "riscv64")]
                M::Sv48 => Self::Sv48(PageTable::from_root(root, offset)),
                #[cfg(target_arch = "riscv64")]
                M::Sv39XTheadMae => Self::Sv39XTheadMae(PageTable::from_root(root, offset)),
                #[cfg(target_arch = "x86_64")]
                M::X86Level4 => Self::X86Level4(PageTable::from_root(root, offset)),
                _ => return None,
            })
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

    pub fn for_each_written(&self, virt: u64, len: u64, f: impl FnMut(u64, PageSize)) {
        each!(self, pt => pt.for_each_written(virt, len, f))
    }

    /// Lock-free (one atomic update of the entry): see
    /// [`PageTable::mark_written`].
    pub fn mark_written(&self, virt: u64) -> Marked {
        each!(self, pt => pt.mark_written(virt))
    }

    pub fn root(&self) -> u64 {
        each!(self, pt => pt.root())
    }
}
