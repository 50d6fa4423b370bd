//! Linear memories. In guard mode every 32-bit memory reserves 4 GiB + guard of address
//! space (whatever its declared maximum, because compiled code assumes exactly that), and
//! only the current size is accessible; the rest faults. A 64-bit memory (memory64) is
//! always bounds-checked by compiled code and reserves only what it may grow to.

use alloc::boxed::Box;
use alloc::sync::Arc;

use crate::Error;
use crate::platform::Platform;
use crate::runtime::config::BoundsChecks;
use crate::runtime::store::{
    AsContext, AsContextMut, StoreContext, StoreContextMut, StoreOpaque, limit_error, opaque,
    opaque_mut,
};
use crate::runtime::vmcontext::VMMemoryDefinition;
use crate::types::MemoryType;

pub(crate) const PAGE: u64 = 65536;
const MAX_PAGES: u64 = 65536;
/// The most pages a 64-bit memory can declare: 2^64 bytes.
const MAX_PAGES_64: u64 = 1 << 48;

pub(crate) struct MemoryData {
    pub ty: MemoryType,
    pub def: Box<VMMemoryDefinition>,
    reserved: usize,
    /// Whether exactly `[base, base + length)` is committed, so that the platform may
    /// keep the reservation for reuse. False after a failed commit, which may have
    /// committed part of its range.
    exact: bool,
    /// Pages this memory may grow to (declared max, store limit, reservation).
    max_pages: u64,
    platform: Arc<dyn Platform>,
}

// SAFETY: the memory is only accessed through its store, which is not shared.
unsafe impl Send for MemoryData {}

impl Drop for MemoryData {
    fn drop(&mut self) {
        // SAFETY: the reservation is ours; the store (and so all code using it) is gone.
        // Unless a commit failed, exactly `[base, base + length)` is committed.
        unsafe {
            if self.exact {
                (self.platform).release_memory(self.def.base, self.reserved, self.def.length)
            } else {
                self.platform.release(self.def.base, self.reserved)
            }
        }
    }
}

impl MemoryData {
    pub fn new(store: &StoreOpaque, ty: MemoryType) -> Result<MemoryData, Error> {
        let engine = &store.engine;
        let config = engine.config();
        let (max, what) = if ty.is_64() {
            (
                MAX_PAGES_64,
                "memory size must be at most 2^48 pages (2^64 bytes)",
            )
        } else {
            (MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")
        };
        if ty.minimum() > max || ty.maximum().is_some_and(|m| m > max) {
            return Err(Error::Instantiation(what.into()));
        }
        let limit = store.store_limits.memory_pages.min(max);
        if ty.minimum() > limit {
            return Err(limit_error("memory minimum size exceeds the store's limit"));
        }
        if store.memories.len() >= store.store_limits.memories {
            return Err(limit_error("too many memories"));
        }
        let max_pages = ty.maximum().unwrap_or(max).min(limit);
        let platform = engine.platform().clone();
        let reserved = match config.bounds_checks {
            BoundsChecks::Guard if !ty.is_64() => (4u64 << 30) + config.guard_size,
            _ => (max_pages * PAGE).max(platform.page_size() as u64),
        } as usize;
        let len = (ty.minimum() * PAGE) as usize;
        let base = platform.reserve_memory(reserved, len)?;
        Ok(MemoryData {
            ty,
            def: Box::new(VMMemoryDefinition { base, length: len }),
            reserved,
            exact: true,
            max_pages,
            platform,
        })
    }

    pub fn pages(&self) -> u64 {
        self.def.length as u64 / PAGE
    }

    /// Grows by `delta` pages; returns the old size, or `None` if it cannot.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta > 0 {
            // SAFETY: `old * PAGE` is inside the reservation (new <= max_pages).
            let at = unsafe { self.def.base.add(self.def.length) };
            if self.platform.commit(at, (delta * PAGE) as usize).is_err() {
                self.exact = false;
                return None;
            }
            self.def.length = (new * PAGE) as usize;
        }
        Some(old)
    }

    pub fn bytes(&self) -> &[u8] {
        if self.def.length == 0 {
            return &[];
        }
        // SAFETY: `[base, base + length)` is committed RW memory owned by this object.
        unsafe { core::slice::from_raw_parts(self.def.base, self.def.length) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        if self.def.length == 0 {
            return &mut [];
        }
        // SAFETY: as in `bytes`, and we have exclusive access.
        unsafe { core::slice::from_raw_parts_mut(self.def.base, self.def.length) }
    }
}

fn out_of_bounds(offset: usize, len: usize, size: usize) -> Error {
    Error::MemoryAccess { offset, len, size }
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

impl Memory {
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory, Error> {
        let s = opaque_mut(&mut store);
        let data = MemoryData::new(s, ty)?;
        s.memories.push(data);
        Ok(Memory {
            store: s.id,
            index: s.memories.len() - 1,
        })
    }

    pub(crate) fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a MemoryData {
        assert_eq!(s.id, self.store, "memory used with a foreign store");
        &s.memories[self.index]
    }

    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let s = opaque(&store);
        let m = self.data_of(s);
        m.ty.with_minimum(m.pages())
    }

    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_of(opaque(&store)).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.data_of(opaque(&store)).def.length
    }

    /// Grows by `delta` pages, returning the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64, Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        s.memories[self.index]
            .grow(delta)
            .ok_or_else(|| limit_error("failed to grow memory"))
    }

    /// Copies `buf.len()` bytes at `offset` out of the memory; a range not wholly inside it
    /// is [`Error::MemoryAccess`].
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let bytes = self.data_of(opaque(&store)).bytes();
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| bytes.get(offset..end))
            .ok_or_else(|| out_of_bounds(offset, buf.len(), bytes.len()))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`; a range not wholly inside it is
    /// [`Error::MemoryAccess`] and writes nothing.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buf: &[u8],
    ) -> Result<(), Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        let bytes = s.memories[self.index].bytes_mut();
        let size = bytes.len();
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| bytes.get_mut(offset..end))
            .ok_or_else(|| out_of_bounds(offset, buf.len(), size))?;
        dst.copy_from_slice(buf);
        Ok(())
    }

    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let s: StoreContext<'a, T> = store.into();
        self.data_of(&s.0.opaque).bytes()
    }

    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let s: StoreContextMut<'a, T> = store.into();
        let s = &mut s.0.opaque;
        assert_eq!(s.id, self.store, "memory used with a foreign store");
        s.memories[self.index].bytes_mut()
    }
}
