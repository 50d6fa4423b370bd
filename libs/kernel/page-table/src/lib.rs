//! Multi-level page tables over caller-supplied frames.
//!
//! [`PageTable`] maps, unmaps, re-protects and translates virtual ranges in
//! one address space. It is generic over the entry format ([`Sv39`],
//! [`Sv48`], [`X86Level4`]) and reaches table frames through [`PhysAccess`]
//! (identity in a loader, the phys-map offset in the kernel). New tables come
//! from a [`FrameAllocator`]. The crate never flushes TLBs or writes `satp`/
//! `cr3`: that is the caller's job, and so is locking.
//!
//! Nothing here panics on bad input: misaligned or non-canonical addresses,
//! overlaps and allocation failure are [`MapError`]s.
#![cfg_attr(not(test), no_std)]

mod format;
#[cfg(test)]
mod tests;

use core::marker::PhantomData;
use core::ops::{BitOr, BitOrAssign};

pub use format::{Entry, PteFormat, Sv39, Sv39XTheadMae, Sv48, X86Level4, xthead};

/// 4 KiB, the smallest page and the size of every table.
pub const PAGE_SIZE: u64 = 4096;
const ENTRIES: usize = 512;

/// Bytes covered by one entry at `level` (0 = 4 KiB).
pub(crate) const fn level_bytes(level: usize) -> u64 {
    PAGE_SIZE << (9 * level as u32)
}

/// Access permissions and attributes of a mapping.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(u8);

impl Flags {
    pub const READ: Self = Self(1 << 0);
    pub const WRITE: Self = Self(1 << 1);
    pub const EXEC: Self = Self(1 << 2);
    /// Present in every address space (kernel mappings); not flushed by ASID changes.
    pub const GLOBAL: Self = Self(1 << 3);
    /// Only ever reported by [`PageTable::translate`] for foreign entries: this
    /// crate never creates user-accessible mappings.
    pub const USER: Self = Self(1 << 4);
    /// Device memory (MMIO): uncached and strongly ordered. Standard RISC-V
    /// harts take memory types from the platform's PMAs and ignore it; T-Head
    /// C9xx harts with XTheadMae encode it in the entry ([`Sv39XTheadMae`]).
    pub const DEVICE: Self = Self(1 << 5);
    /// Mapped with its dirty bit clear, so that the first write sets it:
    /// the MMU does, or on harts that fault instead (RISC-V without Svadu)
    /// the caller's fault handler through [`PageTable::mark_written`]. From
    /// then on [`PageTable::for_each_written`] reports the page. Without
    /// this flag every writable leaf counts as written from the start.
    /// Decoding never reports it.
    pub const TRACK_WRITES: Self = Self(1 << 6);

    pub const RW: Self = Self(Self::READ.0 | Self::WRITE.0);
    pub const RX: Self = Self(Self::READ.0 | Self::EXEC.0);

    pub const fn empty() -> Self {
        Self(0)
    }
    pub const fn bits(self) -> u8 {
        self.0
    }
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl BitOr for Flags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl core::fmt::Debug for Flags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = [
            (Self::READ, 'R'),
            (Self::WRITE, 'W'),
            (Self::EXEC, 'X'),
            (Self::GLOBAL, 'G'),
            (Self::USER, 'U'),
            (Self::DEVICE, 'D'),
            (Self::TRACK_WRITES, 'T'),
        ];
        for (flag, c) in names {
            write!(f, "{}", if self.contains(flag) { c } else { '-' })?;
        }
        Ok(())
    }
}

/// A page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageSize {
    Size4K,
    Size2M,
    Size1G,
}

impl PageSize {
    pub const fn bytes(self) -> u64 {
        level_bytes(self.level())
    }
    /// The table level whose leaves have this size.
    pub const fn level(self) -> usize {
        match self {
            Self::Size4K => 0,
            Self::Size2M => 1,
            Self::Size1G => 2,
        }
    }
    const fn from_level(level: usize) -> Option<Self> {
        match level {
            0 => Some(Self::Size4K),
            1 => Some(Self::Size2M),
            2 => Some(Self::Size1G),
            _ => None,
        }
    }
}

/// Hands out 4 KiB frames for page tables. The mapper zeroes them itself.
pub trait FrameAllocator {
    /// Physical address of a free 4 KiB-aligned frame, or `None` when out of memory.
    fn allocate_frame(&mut self) -> Option<u64>;
}

/// Reaches a page-table frame by its physical address.
///
/// # Safety
/// For every frame the mapper is given (the root and every frame from the
/// [`FrameAllocator`]), `table(phys)` must return a pointer valid for reads
/// and writes of 512 `u64`s, aligned to 8, and not aliased by Rust references
/// while the [`PageTable`] is used.
pub unsafe trait PhysAccess {
    fn table(&self, phys: u64) -> *mut u64;
}

/// Physical addresses are usable as pointers (paging off, or identity-mapped).
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

// SAFETY: the caller of `PageTable::new`/`from_root` vouches that table
// frames are identity-mapped (see the trait's contract).
unsafe impl PhysAccess for Identity {
    fn table(&self, phys: u64) -> *mut u64 {
        phys as *mut u64
    }
}

/// All physical memory is mapped at a fixed virtual offset.
#[derive(Debug, Clone, Copy)]
pub struct Offset(pub u64);

// SAFETY: the caller vouches that physical memory holding the tables is
// mapped at this offset (see the trait's contract).
unsafe impl PhysAccess for Offset {
    fn table(&self, phys: u64) -> *mut u64 {
        self.0.wrapping_add(phys) as *mut u64
    }
}

/// What [`PageTable::mark_written`] found at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// A writable leaf whose dirty bit was clear: it is set now.
    Now,
    /// A writable leaf already marked written (by another hart, say).
    Already,
    /// Nothing mapped, or not writable: the fault is real.
    No,
}

/// One leaf mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// Start of the page (aligned to `size`).
    pub virt: u64,
    pub phys: u64,
    pub size: PageSize,
    pub flags: Flags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// An address or length is not a multiple of the page size.
    Misaligned(u64),
    /// Zero length, or the range wraps around the address space.
    BadRange { virt: u64, len: u64 },
    /// A virtual address outside the paging mode's (sign-extended) range.
    NonCanonical(u64),
    /// A physical address wider than the paging mode supports.
    PhysTooLarge(u64),
    /// Something is already mapped at this address.
    AlreadyMapped(u64),
    /// Nothing is mapped at this address.
    NotMapped(u64),
    /// A huge page only partly covered by the range; the crate does not split pages.
    HugePageSplit(u64),
    /// The frame allocator ran dry.
    OutOfMemory,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Misaligned(a) => write!(f, "{a:#x} is not page-aligned"),
            Self::BadRange { virt, len } => write!(f, "bad range {virt:#x}+{len:#x}"),
            Self::NonCanonical(a) => write!(f, "{a:#x} is not a canonical virtual address"),
            Self::PhysTooLarge(a) => write!(f, "physical address {a:#x} is too wide"),
            Self::AlreadyMapped(a) => write!(f, "{a:#x} is already mapped"),
            Self::NotMapped(a) => write!(f, "{a:#x} is not mapped"),
            Self::HugePageSplit(a) => write!(f, "range edge {a:#x} splits a huge page"),
            Self::OutOfMemory => write!(f, "out of memory for page tables"),
        }
    }
}

/// One address space: a root table and the way to reach its frames.
pub struct PageTable<F: PteFormat, A: PhysAccess> {
    root: u64,
    access: A,
    _format: PhantomData<F>,
}

impl<F: PteFormat, A: PhysAccess> PageTable<F, A> {
    /// Allocates and zeroes a new, empty root table.
    pub fn new(access: A, alloc: &mut impl FrameAllocator) -> Result<Self, MapError> {
        let mut pt = Self {
            root: 0,
            access,
            _format: PhantomData,
        };
        pt.root = pt.new_table(alloc)?;
        Ok(pt)
    }

    /// Wraps an existing root table.
    ///
    /// # Safety
    /// `root` and every table reachable from it must satisfy `access`'s
    /// [`PhysAccess`] contract, and nothing else may modify them while the
    /// returned value is used.
    pub unsafe fn from_root(root: u64, access: A) -> Self {
        Self {
            root,
            access,
            _format: PhantomData,
        }
    }

    /// Physical address of the root table (for `satp`/`cr3`).
    pub fn root(&self) -> u64 {
        self.root
    }

    pub fn access(&self) -> &A {
        &self.access
    }

    /// Maps `virt..virt + len` to `phys..phys + len` with `flags`, using pages
    /// up to `max_size` wherever both addresses and the remaining length are
    /// aligned to them. Fails without changing any mapping if part of the range
    /// is already mapped (empty intermediate tables may remain).
    pub fn map(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        flags: Flags,
        max_size: PageSize,
        alloc: &mut impl FrameAllocator,
    ) -> Result<(), MapError> {
        self.check_range(virt, len)?;
        if !phys.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Misaligned(phys));
        }
        let phys_end = phys.checked_add(len).ok_or(MapError::PhysTooLarge(phys))?;
        if F::PA_BITS < 64 && phys_end > 1 << F::PA_BITS {
            return Err(MapError::PhysTooLarge(phys_end - 1));
        }
        let flags = flags.without(Flags::USER);
        let mut off = 0;
        while off < len {
            let (v, p, rest) = (virt + off, phys + off, len - off);
            let size = [PageSize::Size1G, PageSize::Size2M, PageSize::Size4K]
                .into_iter()
                .find(|&s| {
                    s <= max_size
                        && F::leaf_allowed(s.level())
                        && v % s.bytes() == 0
                        && p % s.bytes() == 0
                        && rest >= s.bytes()
                })
                .unwrap_or(PageSize::Size4K);
            match self.map_one(v, p, size, flags, alloc) {
                Ok(size) => off += size.bytes(),
                Err(e) => {
                    // Roll back what this call mapped; unmapping never allocates.
                    self.unmap_mapped_prefix(virt, off);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Removes the mapping that starts at `virt` and returns it (its frame is
    /// the caller's again). `virt` must be the start of the page.
    pub fn unmap(&mut self, virt: u64) -> Result<Mapping, MapError> {
        self.check_range(virt, PAGE_SIZE)?;
        let (slot, level) = self.find_leaf(virt).ok_or(MapError::NotMapped(virt))?;
        let size = PageSize::from_level(level).ok_or(MapError::NotMapped(virt))?;
        if !virt.is_multiple_of(size.bytes()) {
            return Err(MapError::HugePageSplit(virt));
        }
        let Entry::Leaf { phys, flags } = F::decode(self.read(slot), level) else {
            return Err(MapError::NotMapped(virt));
        };
        self.write(slot, 0);
        Ok(Mapping {
            virt,
            phys,
            size,
            flags,
        })
    }

    /// Unmaps every page in `virt..virt + len`, skipping holes, and calls
    /// `f` for each removed mapping. Fails without changes if a huge page
    /// straddles either end of the range.
    pub fn unmap_range(
        &mut self,
        virt: u64,
        len: u64,
        mut f: impl FnMut(Mapping),
    ) -> Result<(), MapError> {
        self.check_range(virt, len)?;
        self.check_edges(virt, len)?;
        self.for_each_leaf_in(virt, len, |slot, m| {
            // SAFETY: `&mut self` keeps this table's writers exclusive; the
            // slot is this table's.
            unsafe { Self::store(slot, 0) };
            f(m);
        });
        Ok(())
    }

    /// Gives every page in `virt..virt + len` new `flags`. Every page must be
    /// mapped and no huge page may straddle either end; otherwise nothing changes.
    pub fn protect(&mut self, virt: u64, len: u64, flags: Flags) -> Result<(), MapError> {
        self.check_range(virt, len)?;
        self.check_edges(virt, len)?;
        // First pass: the whole range must be mapped.
        // `covered`: first address not yet seen mapped; `None` once past the top.
        let mut covered = Some(virt);
        let mut hole = None;
        self.for_each_leaf_in(virt, len, |_, m| {
            if covered != Some(m.virt) && hole.is_none() {
                hole = covered;
            }
            covered = m.virt.checked_add(m.size.bytes());
        });
        if let Some(h) = hole {
            return Err(MapError::NotMapped(h));
        }
        if let Some(c) = covered
            && c <= virt + (len - 1)
        {
            return Err(MapError::NotMapped(c));
        }
        let flags = flags.without(Flags::USER);
        self.for_each_leaf_in(virt, len, |slot, m| {
            // SAFETY: as in `unmap_range`.
            unsafe { Self::store(slot, F::leaf(m.phys, flags, m.size.level())) };
        });
        Ok(())
    }

    /// The mapping containing `virt`, if any.
    pub fn translate(&self, virt: u64) -> Option<Mapping> {
        if !Self::canonical(virt) {
            return None;
        }
        let (slot, level) = self.find_leaf(virt)?;
        let Entry::Leaf { phys, flags } = F::decode(self.read(slot), level) else {
            return None;
        };
        let size = PageSize::from_level(level)?;
        Some(Mapping {
            virt: virt & !(size.bytes() - 1),
            phys,
            size,
            flags,
        })
    }

    /// The physical address `virt` maps to, if any.
    pub fn translate_addr(&self, virt: u64) -> Option<u64> {
        let m = self.translate(virt)?;
        Some(m.phys + (virt - m.virt))
    }

    /// Calls `f(page, size)` for each leaf starting in `virt..virt + len` that was written
    /// since it was mapped (its dirty bit is set: by the MMU, by
    /// [`mark_written`](Self::mark_written), or from the start unless mapped
    /// with [`Flags::TRACK_WRITES`]). Holes are skipped.
    pub fn for_each_written(&self, virt: u64, len: u64, mut f: impl FnMut(u64, PageSize)) {
        if self.check_range(virt, len).is_err() {
            return;
        }
        let end = virt + (len - 1);
        let span1 = level_bytes(1);
        let mut cur = virt;
        loop {
            let mut step = PAGE_SIZE;
            let mut table = self.root;
            for level in (0..F::LEVELS).rev() {
                let span = level_bytes(level);
                let raw = self.read(self.slot(table, Self::index(cur, level)));
                match F::decode(raw, level) {
                    Entry::Invalid => {
                        step = span - (cur & (span - 1));
                        break;
                    }
                    Entry::Leaf { .. } => {
                        let page = cur & !(span - 1);
                        step = span - (cur - page);
                        if let Some(size) = PageSize::from_level(level)
                            && page >= virt
                            && F::written_leaf(raw)
                        {
                            f(page, size);
                        }
                        break;
                    }
                    // A last-level table: scan its entries in the range
                    // (most are not written: one test each).
                    Entry::Table(next) if level == 1 => {
                        let region = cur & !(span1 - 1);
                        let last = if end - region < span1 {
                            Self::index(end, 0)
                        } else {
                            ENTRIES - 1
                        };
                        let mut i = Self::index(cur, 0);
                        while i <= last {
                            // Every valid entry of a last-level table is a leaf.
                            if F::written_leaf(self.read(self.slot(next, i))) {
                                f(region + i as u64 * PAGE_SIZE, PageSize::Size4K);
                            }
                            i += 1;
                        }
                        step = span1 - (cur - region);
                        break;
                    }
                    Entry::Table(next) if level > 0 => table = next,
                    Entry::Table(_) => break,
                }
            }
            match cur.checked_add(step) {
                Some(next) if next <= end && next > cur => cur = next,
                _ => break,
            }
        }
    }

    /// Sets the dirty bit of the writable leaf containing `virt` where it is
    /// clear: what a store that faulted on a [`Flags::TRACK_WRITES`] page
    /// needs, on harts that fault rather than set the bit. One atomic update
    /// of the entry, so it takes `&self`: it runs in trap handlers, where the
    /// caller's lock on the table may be taken, and races only with the MMU
    /// and with other harts doing the same. If the entry changes meanwhile
    /// it reports [`Marked::Already`] and the store, retried, decides.
    pub fn mark_written(&self, virt: u64) -> Marked {
        if !Self::canonical(virt) {
            return Marked::No;
        }
        let Some((slot, level)) = self.find_leaf(virt) else {
            return Marked::No;
        };
        // SAFETY: `slot` is an 8-aligned entry of a live table (the
        // `PhysAccess` contract); tables are never freed while mapped, and
        // every other writer of a leaf either holds the table exclusively
        // (and then this update is lost at worst, to a value without the
        // page) or is the MMU, which updates entries atomically too.
        let entry = unsafe { core::sync::atomic::AtomicU64::from_ptr(slot) };
        let raw = entry.load(core::sync::atomic::Ordering::Acquire);
        match F::decode(raw, level) {
            Entry::Leaf { flags, .. } if flags.contains(Flags::WRITE) => {
                if F::written_leaf(raw) {
                    return Marked::Already;
                }
                match entry.compare_exchange(
                    raw,
                    F::mark_written(raw),
                    core::sync::atomic::Ordering::AcqRel,
                    core::sync::atomic::Ordering::Acquire,
                ) {
                    Ok(_) => Marked::Now,
                    Err(_) => Marked::Already,
                }
            }
            _ => Marked::No,
        }
    }

    /// Calls `f` for every leaf mapping in address order.
    pub fn for_each_mapping(&self, mut f: impl FnMut(Mapping)) {
        self.walk(self.root, F::LEVELS - 1, 0, &mut |_, m| f(m));
    }

    // ---- internals ----

    fn canonical(virt: u64) -> bool {
        let shift = 64 - F::VA_BITS;
        (((virt << shift) as i64) >> shift) as u64 == virt
    }

    fn check_range(&self, virt: u64, len: u64) -> Result<(), MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Misaligned(virt));
        }
        if !len.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Misaligned(len));
        }
        if len == 0 {
            return Err(MapError::BadRange { virt, len });
        }
        let last = virt
            .checked_add(len - 1)
            .ok_or(MapError::BadRange { virt, len })?;
        if !Self::canonical(virt) {
            return Err(MapError::NonCanonical(virt));
        }
        if !Self::canonical(last) {
            return Err(MapError::NonCanonical(last & !(PAGE_SIZE - 1)));
        }
        // Both ends canonical but on opposite halves: the range spans the hole.
        if (virt as i64) < 0 && (last as i64) >= 0 || (virt as i64) >= 0 && (last as i64) < 0 {
            return Err(MapError::BadRange { virt, len });
        }
        Ok(())
    }

    /// Fails if a huge page crosses the start or the end of the range.
    fn check_edges(&self, virt: u64, len: u64) -> Result<(), MapError> {
        let end = virt.wrapping_add(len);
        for edge in [virt, end] {
            // The end may be just past the top of a half: nothing can straddle it.
            if edge == end && (end == 0 || !Self::canonical(end)) {
                continue;
            }
            if let Some(m) = self.translate(edge)
                && m.virt != edge
            {
                return Err(MapError::HugePageSplit(edge));
            }
        }
        Ok(())
    }

    fn index(virt: u64, level: usize) -> usize {
        ((virt >> (12 + 9 * level)) & (ENTRIES as u64 - 1)) as usize
    }

    fn slot(&self, table: u64, index: usize) -> *mut u64 {
        // `index < 512`, within the table the PhysAccess contract vouches for.
        self.access.table(table).wrapping_add(index)
    }

    fn read(&self, slot: *mut u64) -> u64 {
        // SAFETY: every slot comes from `slot()` on a table frame covered by the
        // `PhysAccess` contract; volatile because the MMU reads it too.
        unsafe { slot.read_volatile() }
    }

    fn write(&mut self, slot: *mut u64, value: u64) {
        // SAFETY: as in `read`; `&mut self` keeps this table's writers exclusive.
        unsafe { Self::store(slot, value) }
    }

    /// Writes an entry.
    ///
    /// # Safety
    /// `slot` comes from `slot()` on this table, and the caller holds the
    /// table exclusively (`&mut self` somewhere up the call).
    unsafe fn store(slot: *mut u64, value: u64) {
        // SAFETY: the caller's contract; volatile because the MMU reads it too.
        unsafe { slot.write_volatile(value) }
    }

    fn new_table(&mut self, alloc: &mut impl FrameAllocator) -> Result<u64, MapError> {
        let frame = alloc.allocate_frame().ok_or(MapError::OutOfMemory)?;
        if frame % PAGE_SIZE != 0 {
            return Err(MapError::Misaligned(frame));
        }
        for i in 0..ENTRIES {
            let slot = self.slot(frame, i);
            self.write(slot, 0);
        }
        Ok(frame)
    }

    /// Walks to the leaf covering `virt`: its slot and level.
    fn find_leaf(&self, virt: u64) -> Option<(*mut u64, usize)> {
        let mut table = self.root;
        for level in (0..F::LEVELS).rev() {
            let slot = self.slot(table, Self::index(virt, level));
            match F::decode(self.read(slot), level) {
                Entry::Invalid => return None,
                Entry::Leaf { .. } => return Some((slot, level)),
                Entry::Table(next) if level > 0 => table = next,
                Entry::Table(_) => return None,
            }
        }
        None
    }

    fn map_one(
        &mut self,
        virt: u64,
        phys: u64,
        size: PageSize,
        flags: Flags,
        alloc: &mut impl FrameAllocator,
    ) -> Result<PageSize, MapError> {
        let mut table = self.root;
        for level in (0..F::LEVELS).rev() {
            let slot = self.slot(table, Self::index(virt, level));
            let entry = F::decode(self.read(slot), level);
            if level == size.level() {
                return match entry {
                    Entry::Invalid => {
                        self.write(slot, F::leaf(phys, flags, level));
                        Ok(size)
                    }
                    Entry::Leaf { .. } => Err(MapError::AlreadyMapped(virt)),
                    // Something finer-grained is mapped below: use smaller pages.
                    Entry::Table(_) => match level.checked_sub(1).and_then(PageSize::from_level) {
                        Some(smaller) => self.map_one(virt, phys, smaller, flags, alloc),
                        None => Err(MapError::AlreadyMapped(virt)),
                    },
                };
            }
            table = match entry {
                Entry::Table(next) => next,
                Entry::Leaf { .. } => return Err(MapError::AlreadyMapped(virt)),
                Entry::Invalid => {
                    let next = self.new_table(alloc)?;
                    self.write(slot, F::table(next));
                    next
                }
            };
        }
        Err(MapError::AlreadyMapped(virt))
    }

    /// Undoes a partly-done `map`: `virt..virt + len` was entirely mapped by it.
    fn unmap_mapped_prefix(&mut self, virt: u64, len: u64) {
        if len > 0 {
            self.for_each_leaf_in(virt, len, |slot, _| {
                // SAFETY: as in `unmap_range`.
                unsafe { Self::store(slot, 0) }
            });
        }
    }

    /// Calls `f` for each leaf whose page starts inside `virt..virt + len`
    /// (its slot and mapping). Consecutive pages of one last-level table
    /// are found from that table, not from the root.
    fn for_each_leaf_in(&self, virt: u64, len: u64, mut f: impl FnMut(*mut u64, Mapping)) {
        let end = virt + (len - 1);
        let mut cur = virt;
        // The last-level table last walked through, and the span it covers.
        let mut last: Option<(u64, u64)> = None;
        let span1 = level_bytes(1);
        // Step leaf by leaf; holes are skipped a table entry at a time.
        loop {
            let mut found = None;
            let mut step = PAGE_SIZE;
            let (mut table, top) = match last {
                Some((base, t)) if cur & !(span1 - 1) == base => (t, 0),
                _ => (self.root, F::LEVELS - 1),
            };
            for level in (0..=top).rev() {
                let slot = self.slot(table, Self::index(cur, level));
                let span = level_bytes(level);
                match F::decode(self.read(slot), level) {
                    Entry::Invalid => {
                        step = span - (cur & (span - 1));
                        break;
                    }
                    Entry::Leaf { phys, flags } => {
                        let page = cur & !(span - 1);
                        step = span - (cur - page);
                        if let Some(size) = PageSize::from_level(level)
                            && page >= virt
                        {
                            found = Some((
                                slot,
                                Mapping {
                                    virt: page,
                                    phys,
                                    size,
                                    flags,
                                },
                            ));
                        }
                        break;
                    }
                    Entry::Table(next) if level > 0 => {
                        if level == 1 {
                            last = Some((cur & !(span1 - 1), next));
                        }
                        table = next;
                    }
                    Entry::Table(_) => break,
                }
            }
            if let Some((slot, m)) = found {
                f(slot, m);
            }
            match cur.checked_add(step) {
                Some(next) if next <= end && next > cur => cur = next,
                _ => break,
            }
        }
    }

    fn walk(&self, table: u64, level: usize, base: u64, f: &mut impl FnMut(*mut u64, Mapping)) {
        for i in 0..ENTRIES {
            let mut virt = base | ((i as u64) << (12 + 9 * level));
            if level == F::LEVELS - 1 {
                // Sign-extend the top index into a canonical address.
                let shift = 64 - F::VA_BITS;
                virt = (((virt << shift) as i64) >> shift) as u64;
            }
            let slot = self.slot(table, i);
            match F::decode(self.read(slot), level) {
                Entry::Invalid => {}
                Entry::Leaf { phys, flags } => {
                    if let Some(size) = PageSize::from_level(level) {
                        f(
                            slot,
                            Mapping {
                                virt,
                                phys,
                                size,
                                flags,
                            },
                        );
                    }
                }
                Entry::Table(next) if level > 0 => self.walk(next, level - 1, virt, f),
                Entry::Table(_) => {}
            }
        }
    }
}
