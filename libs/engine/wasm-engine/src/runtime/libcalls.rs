//! Runtime functions called from compiled code (C ABI, all arguments as 64-bit
//! integers). Trapping ones return non-zero to make the caller trap. Code names them
//! by [`Libcall`] through relocations, resolved when the module is linked, so compiled
//! code holds no address of this kernel or process (precompiled modules stay valid).

use core::sync::atomic::Ordering;

use crate::runtime::exception;
use crate::runtime::store::{EpochAction, StoreOpaque};
use crate::runtime::vmcontext::{VMCTX_INSTANCE, VMCTX_STORE};

/// Declares the runtime functions once: the [`Libcall`] enum that compiled code names
/// in relocations, its index order, and each one's address in this program.
macro_rules! libcalls {
    ($($(#[$doc:meta])* $name:ident => $addr:expr,)*) => {
        /// A runtime function compiled code calls: relocation target
        /// `(LIBCALL_NAMESPACE, index)`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Libcall {
            $($(#[$doc])* $name,)*
        }

        impl Libcall {
            const ALL: &[Libcall] = &[$(Libcall::$name,)*];

            /// Its address in this program.
            pub fn addr(self) -> usize {
                match self {
                    $(Libcall::$name => $addr,)*
                }
            }
        }
    };
}

libcalls! {
    /// The arch stub that raises a trap (see `arch`).
    Raise => crate::arch::raise_stub(),
    EpochExpired => epoch_expired as *const () as usize,
    MemoryGrow => memory_grow as *const () as usize,
    MemoryFill => memory_fill as *const () as usize,
    MemoryCopy => memory_copy as *const () as usize,
    MemoryInit => memory_init as *const () as usize,
    DataDrop => data_drop as *const () as usize,
    TableGrow => table_grow as *const () as usize,
    TableFill => table_fill as *const () as usize,
    TableCopy => table_copy as *const () as usize,
    TableInit => table_init as *const () as usize,
    ElemDrop => elem_drop as *const () as usize,
    ExceptionNew => exception::exception_new as *const () as usize,
    ExceptionMatches => exception::exception_matches as *const () as usize,
    ExceptionTake => exception::exception_take as *const () as usize,
    ExceptionThrow => exception::exception_throw as *const () as usize,
    InvokeCatching => exception::invoke_catching as *const () as usize,
}

impl Libcall {
    /// Its index in relocations.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// The libcall with relocation index `i`, if any.
    pub fn from_index(i: u32) -> Option<Libcall> {
        Libcall::ALL.get(i as usize).copied()
    }
}

/// The store and instance index behind a VMContext.
///
/// # Safety
/// `vmctx` must be the VMContext of a live instance.
pub(crate) unsafe fn context<'a>(vmctx: *const u64) -> (&'a mut StoreOpaque, usize) {
    // SAFETY: slot 0 is the store pointer, slot 2 the instance index (see vmcontext).
    unsafe {
        let store = *vmctx.add(VMCTX_STORE as usize / 8) as *mut StoreOpaque;
        let instance = *vmctx.add(VMCTX_INSTANCE as usize / 8) as usize;
        (&mut *store, instance)
    }
}

fn range(start: u64, len: u64, size: usize) -> Option<core::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        None
    } else {
        Some(start as usize..end as usize)
    }
}

pub(crate) unsafe extern "C" fn memory_grow(vmctx: *const u64, mem: u64, delta: u64) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let m = s.instances[i].memories()[mem as usize];
    let limit_ok = s.memories[m.index].pages().saturating_add(delta) <= s.store_limits.memory_pages;
    // -1 on failure: all ones, which compiled code narrows to an i32 -1 for a
    // 32-bit memory.
    s.memories[m.index]
        .grow(if limit_ok { delta } else { u64::MAX })
        .unwrap_or(u64::MAX)
}

pub(crate) unsafe extern "C" fn memory_fill(
    vmctx: *const u64,
    mem: u64,
    dst: u64,
    val: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let m = s.instances[i].memories()[mem as usize];
    let bytes = s.memories[m.index].bytes_mut();
    match range(dst, len, bytes.len()) {
        Some(r) => {
            bytes[r].fill(val as u8);
            0
        }
        None => 1,
    }
}

pub(crate) unsafe extern "C" fn memory_copy(
    vmctx: *const u64,
    dst_mem: u64,
    src_mem: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let dm = s.instances[i].memories()[dst_mem as usize].index;
    let sm = s.instances[i].memories()[src_mem as usize].index;
    let (Some(dr), Some(sr)) = (
        range(dst, len, s.memories[dm].bytes().len()),
        range(src, len, s.memories[sm].bytes().len()),
    ) else {
        return 1;
    };
    if dm == sm {
        s.memories[dm].bytes_mut().copy_within(sr, dr.start);
    } else {
        let (d, sref) = (s.memories[dm].def.base, s.memories[sm].def.base);
        // SAFETY: both ranges were checked against their memories; distinct memories
        // never overlap.
        unsafe { core::ptr::copy_nonoverlapping(sref.add(sr.start), d.add(dr.start), dr.len()) };
    }
    0
}

pub(crate) unsafe extern "C" fn memory_init(
    vmctx: *const u64,
    mem: u64,
    seg: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let inst = &s.instances[i];
    let data: &[u8] = if inst.data_dropped[seg as usize] {
        &[]
    } else {
        // A running instance is live, so it has its module.
        &inst.module.as_ref().expect("live").inner.info.data[seg as usize].bytes
    };
    let m = inst.memories()[mem as usize].index;
    let Some(sr) = range(src, len, data.len()) else {
        return 1;
    };
    let bytes = s.memories[m].bytes_mut();
    let Some(dr) = range(dst, len, bytes.len()) else {
        return 1;
    };
    bytes[dr].copy_from_slice(&data[sr]);
    0
}

pub(crate) unsafe extern "C" fn data_drop(vmctx: *const u64, seg: u64) {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    s.instances[i].data_dropped[seg as usize] = true;
}

pub(crate) unsafe extern "C" fn table_grow(
    vmctx: *const u64,
    table: u64,
    init: u64,
    delta: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let t = s.instances[i].tables()[table as usize].index;
    match s.tables[t].grow(delta, init) {
        Some(old) => old,
        None => u64::from(u32::MAX),
    }
}

pub(crate) unsafe extern "C" fn table_fill(
    vmctx: *const u64,
    table: u64,
    dst: u64,
    val: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let t = s.instances[i].tables()[table as usize].index;
    let elems = &mut s.tables[t].elements;
    match range(dst, len, elems.len()) {
        Some(r) => {
            elems[r].fill(val);
            0
        }
        None => 1,
    }
}

pub(crate) unsafe extern "C" fn table_copy(
    vmctx: *const u64,
    dst_table: u64,
    src_table: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let dt = s.instances[i].tables()[dst_table as usize].index;
    let st = s.instances[i].tables()[src_table as usize].index;
    let (Some(dr), Some(sr)) = (
        range(dst, len, s.tables[dt].elements.len()),
        range(src, len, s.tables[st].elements.len()),
    ) else {
        return 1;
    };
    if dt == st {
        s.tables[dt].elements.copy_within(sr, dr.start);
    } else {
        let tmp: alloc::vec::Vec<u64> = s.tables[st].elements[sr].to_vec();
        s.tables[dt].elements[dr].copy_from_slice(&tmp);
    }
    0
}

pub(crate) unsafe extern "C" fn table_init(
    vmctx: *const u64,
    table: u64,
    seg: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    let inst = &s.instances[i];
    let items = &inst.elems[seg as usize];
    let t = inst.tables()[table as usize].index;
    let Some(sr) = range(src, len, items.len()) else {
        return 1;
    };
    let Some(dr) = range(dst, len, s.tables[t].elements.len()) else {
        return 1;
    };
    let items: alloc::vec::Vec<u64> = s.instances[i].elems[seg as usize][sr].to_vec();
    s.tables[t].elements[dr].copy_from_slice(&items);
    0
}

pub(crate) unsafe extern "C" fn elem_drop(vmctx: *const u64, seg: u64) {
    // SAFETY: called from compiled code with its own vmctx.
    let (s, i) = unsafe { context(vmctx) };
    s.instances[i].elems[seg as usize] = alloc::vec::Vec::new();
}

/// The epoch deadline has passed: the store's callback, if any, decides whether to go
/// on. Returns non-zero to interrupt.
pub(crate) unsafe extern "C" fn epoch_expired(vmctx: *const u64) -> u64 {
    // SAFETY: slot 0 of a live instance's VMContext is its store; compiled code is
    // running on behalf of that store, which nothing else touches meanwhile.
    let store = unsafe { *vmctx.add(VMCTX_STORE as usize / 8) as *mut StoreOpaque };
    // SAFETY: as above. The callback is taken out while it runs, so it never aliases
    // itself; it sees only the store's host data.
    let Some(mut callback) = (unsafe { (*store).epoch_callback.take() }) else {
        return 1;
    };
    let action = callback(store);
    // SAFETY: as above; `epoch_ptr` points at the engine's counter, kept alive by the store.
    unsafe {
        (*store).epoch_callback = Some(callback);
        match action {
            EpochAction::Continue(ticks) => {
                let now = (*(*store).limits.epoch_ptr).load(Ordering::Acquire);
                (*store).limits.epoch_deadline = now.saturating_add(ticks);
                0
            }
            EpochAction::Interrupt => 1,
        }
    }
}
