//! Raw structures shared between compiled code and the runtime, and the per-module
//! VMContext layout.
//!
//! A VMContext is an array of 8-byte slots:
//! `[store, limits, instance index, memories.., globals.., tables.., funcrefs..]`,
//! where each memory/global/table/funcref slot points at the definition (owned by the
//! store, so imported and defined items look the same to compiled code).

use core::alloc::Layout;
use core::mem::{offset_of, size_of};
use core::ptr::NonNull;
use core::sync::atomic::AtomicU64;

use crate::runtime::func::Func;
use crate::runtime::global::Global;
use crate::runtime::memory::Memory;
use crate::runtime::table::Table;

/// Per-store limits read by compiled code (via the VMContext `limits` slot).
#[repr(C)]
pub struct VMRuntimeLimits {
    /// Lowest stack address Wasm may use (Cranelift `stack_limit`).
    pub stack_limit: usize,
    /// Remaining fuel; compiled code subtracts and traps when it goes negative.
    pub fuel: i64,
    /// Epoch value at which Wasm is interrupted.
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch_ptr: *const AtomicU64,
}

pub const LIMITS_STACK_LIMIT: i32 = offset(offset_of!(VMRuntimeLimits, stack_limit));
pub const LIMITS_FUEL: i32 = offset(offset_of!(VMRuntimeLimits, fuel));
pub const LIMITS_EPOCH_DEADLINE: i32 = offset(offset_of!(VMRuntimeLimits, epoch_deadline));
pub const LIMITS_EPOCH_PTR: i32 = offset(offset_of!(VMRuntimeLimits, epoch_ptr));

/// A linear memory as compiled code sees it.
#[repr(C)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    /// Current length in bytes.
    pub length: usize,
}

pub const MEMORY_BASE: i32 = offset(offset_of!(VMMemoryDefinition, base));
pub const MEMORY_LENGTH: i32 = offset(offset_of!(VMMemoryDefinition, length));

/// A table as compiled code sees it: elements are raw 8-byte references
/// (`*const VMFuncRef` or `ExternRef` raw value; 0 is null).
#[repr(C)]
pub struct VMTableDefinition {
    pub base: *mut u64,
    pub length: usize,
}

pub const TABLE_BASE: i32 = offset(offset_of!(VMTableDefinition, base));
pub const TABLE_LENGTH: i32 = offset(offset_of!(VMTableDefinition, length));

/// A global's storage: 16 bytes, value at offset 0 in native endianness.
#[repr(C, align(16))]
#[derive(Default)]
pub struct VMGlobal {
    pub bits: u128,
}

/// A function reference. Tables, `ref.func` and imports all use pointers to these.
#[repr(C)]
pub struct VMFuncRef {
    /// For host functions: the array-call shim (informational). For Wasm functions: the
    /// entry trampoline, filled in by the first call from the host (0 until then).
    pub array_call: usize,
    /// Code with the Wasm calling convention `(callee_vmctx, caller_vmctx, params..)`.
    pub wasm_call: usize,
    /// Engine-wide interned signature id.
    pub type_id: u64,
    /// Callee VMContext (or host function context).
    pub vmctx: usize,
    /// Index of the function in its store.
    pub func_id: u64,
}

pub const FUNCREF_WASM_CALL: i32 = offset(offset_of!(VMFuncRef, wasm_call));
pub const FUNCREF_TYPE_ID: i32 = offset(offset_of!(VMFuncRef, type_id));
pub const FUNCREF_VMCTX: i32 = offset(offset_of!(VMFuncRef, vmctx));

/// The fixed slots at the start of every VMContext.
#[repr(C)]
pub struct VMContextHeader {
    /// The store (`*mut StoreOpaque`).
    pub store: usize,
    /// The store's [`VMRuntimeLimits`].
    pub limits: usize,
    /// The instance's index in its store.
    pub instance: u64,
}

pub const VMCTX_STORE: i32 = offset(offset_of!(VMContextHeader, store));
pub const VMCTX_LIMITS: i32 = offset(offset_of!(VMContextHeader, limits));
pub const VMCTX_INSTANCE: i32 = offset(offset_of!(VMContextHeader, instance));

/// A field offset as the `i32` Cranelift loads take (checked at compile time: every
/// use is in a `const`).
const fn offset(o: usize) -> i32 {
    assert!(o <= i32::MAX as usize);
    o as i32
}

// The runtime and compiled code treat the VMContext as 8-byte slots: the header's
// fields, then one pointer per memory, global, table and funcref.
const _: () = assert!(size_of::<VMContextHeader>() == 24);
const _: () = assert!(VMCTX_STORE % 8 == 0 && VMCTX_LIMITS % 8 == 0 && VMCTX_INSTANCE % 8 == 0);
// Globals are 16-byte cells holding any value type (v128 included).
const _: () = assert!(size_of::<VMGlobal>() == 16);

/// One instance's VMContext and, after its slots, the [`VMFuncRef`]s of the functions
/// it defines, then the handles of its functions, memories, tables and globals (imported
/// and defined, in index order): one allocation per instance, not zeroed: instantiation
/// writes every VMContext slot and funcref before compiled code can see the block, and
/// handles are read only once pushed. It is owned through
/// a raw pointer, because compiled code and the store's functions point into it for its
/// whole life.
pub(crate) struct VMContextBlock {
    ptr: NonNull<u64>,
    /// In 8-byte slots.
    len: usize,
    /// Per kind of handle ([`FUNCS`], ...): the first slot of its array, its
    /// capacity and how many were pushed.
    start: [u32; 4],
    cap: [u32; 4],
    pushed: [u32; 4],
}

/// The kinds of handle a [`VMContextBlock`] holds.
const FUNCS: usize = 0;
const MEMORIES: usize = 1;
const TABLES: usize = 2;
const GLOBALS: usize = 3;

/// A handle kept in a [`VMContextBlock`]: plain data in whole 8-byte slots.
///
/// # Safety
/// The type's size is a multiple of 8, its alignment at most 8, and every
/// value written by `push` reads back as itself.
pub(crate) unsafe trait Handle: Copy {
    const KIND: usize;
    const SLOTS: usize = size_of::<Self>() / 8;
}

// SAFETY: each is a `Copy` struct of integers, 16 or 24 bytes, aligned to 8 (below).
unsafe impl Handle for Func {
    const KIND: usize = FUNCS;
}
// SAFETY: as above.
unsafe impl Handle for Memory {
    const KIND: usize = MEMORIES;
}
// SAFETY: as above.
unsafe impl Handle for Table {
    const KIND: usize = TABLES;
}
// SAFETY: as above.
unsafe impl Handle for Global {
    const KIND: usize = GLOBALS;
}

const _: () = {
    assert!(size_of::<Func>().is_multiple_of(8) && core::mem::align_of::<Func>() <= 8);
    assert!(size_of::<Memory>().is_multiple_of(8) && core::mem::align_of::<Memory>() <= 8);
    assert!(size_of::<Table>().is_multiple_of(8) && core::mem::align_of::<Table>() <= 8);
    assert!(size_of::<Global>().is_multiple_of(8) && core::mem::align_of::<Global>() <= 8);
};

// SAFETY: the block is plain memory owned by one instance of one store, and a store is
// only used by one thread at a time (see `Store`'s `Send`).
unsafe impl Send for VMContextBlock {}

/// `VMFuncRef`s are stored as whole 8-byte slots.
const FUNCREF_SLOTS: usize = size_of::<VMFuncRef>() / 8;
const _: () = assert!(size_of::<VMFuncRef>().is_multiple_of(8));
const _: () = assert!(core::mem::align_of::<VMFuncRef>() <= 8);

impl VMContextBlock {
    /// Nothing (a disposed instance's).
    pub fn empty() -> VMContextBlock {
        VMContextBlock {
            ptr: NonNull::dangling(),
            len: 0,
            start: [0; 4],
            cap: [0; 4],
            pushed: [0; 4],
        }
    }

    /// Room for the VMContext of `offsets`, `defined` funcrefs and
    /// `[funcs, memories, tables, globals]` handles; `None` if the heap has no room.
    pub fn new(offsets: &VMOffsets, defined: usize, handles: [usize; 4]) -> Option<VMContextBlock> {
        let mut block = VMContextBlock::empty();
        let mut len = offsets.size as usize / 8 + defined * FUNCREF_SLOTS;
        let slots = [Func::SLOTS, Memory::SLOTS, Table::SLOTS, Global::SLOTS];
        for kind in [FUNCS, MEMORIES, TABLES, GLOBALS] {
            block.start[kind] = u32::try_from(len).ok()?;
            block.cap[kind] = u32::try_from(handles[kind]).ok()?;
            len = len.checked_add(handles[kind].checked_mul(slots[kind])?)?;
        }
        if len == 0 {
            return Some(block);
        }
        let layout = Layout::array::<u64>(len).ok()?;
        // SAFETY: `layout` has a non-zero size.
        block.ptr = NonNull::new(unsafe { alloc::alloc::alloc(layout) }.cast::<u64>())?;
        block.len = len;
        Some(block)
    }

    /// Appends a handle to its kind's array (which must have room).
    pub fn push<H: Handle>(&mut self, h: H) {
        let k = H::KIND;
        assert!(self.pushed[k] < self.cap[k], "no room for another handle");
        let i = self.start[k] as usize + self.pushed[k] as usize * H::SLOTS;
        // SAFETY: `[i, i + SLOTS)` is inside the block (`new` made room for `cap`
        // handles), 8-byte aligned, which is enough for `H`.
        unsafe { self.ptr.as_ptr().add(i).cast::<H>().write(h) };
        self.pushed[k] += 1;
    }

    /// The handles of one kind pushed so far.
    fn handles<H: Handle>(&self) -> &[H] {
        let k = H::KIND;
        if self.pushed[k] == 0 {
            return &[];
        }
        // SAFETY: the first `pushed` handles of the kind were written by `push`,
        // inside the block, which lives as long as `self`.
        unsafe {
            core::slice::from_raw_parts(
                self.ptr.as_ptr().add(self.start[k] as usize).cast::<H>(),
                self.pushed[k] as usize,
            )
        }
    }

    pub fn funcs(&self) -> &[Func] {
        self.handles()
    }
    pub fn memories(&self) -> &[Memory] {
        self.handles()
    }
    pub fn tables(&self) -> &[Table] {
        self.handles()
    }
    pub fn globals(&self) -> &[Global] {
        self.handles()
    }

    /// The VMContext's address, as compiled code gets it.
    pub fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Sets the 8-byte slot at byte `offset` (one of [`VMOffsets`]').
    pub fn set(&mut self, offset: i32, value: u64) {
        let i = offset as usize / 8;
        assert!(i < self.len, "VMContext slot out of range");
        // SAFETY: slot `i` is inside the block, which is ours.
        unsafe { self.ptr.as_ptr().add(i).write(value) };
    }

    /// Sets, for each handle `h` of the kind `handles` returns (the `i`-th of
    /// them), the slot at byte `slot(i)` to `value(h)`.
    pub fn fill<H: Handle>(
        &mut self,
        handles: impl Fn(&Self) -> &[H],
        slot: impl Fn(u32) -> i32,
        value: impl Fn(H) -> u64,
    ) {
        for i in 0..handles(self).len() {
            let h = handles(self)[i];
            self.set(slot(i as u32), value(h));
        }
    }

    /// Where the funcref of the `def`-th defined function goes, after the VMContext
    /// of `offsets`.
    pub fn funcref(&self, offsets: &VMOffsets, def: usize) -> NonNull<VMFuncRef> {
        let i = offsets.size as usize / 8 + def * FUNCREF_SLOTS;
        assert!(i + FUNCREF_SLOTS <= self.len, "funcref out of range");
        // SAFETY: the slots `[i, i + FUNCREF_SLOTS)` are inside the block.
        unsafe { self.ptr.add(i).cast() }
    }
}

impl Drop for VMContextBlock {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        let layout = Layout::array::<u64>(self.len).expect("allocated with this layout");
        // SAFETY: allocated in `new` with this layout, freed only here.
        unsafe { alloc::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
    }
}

/// Slot offsets of one module's VMContext.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    pub memories: u32,
    pub globals: u32,
    pub tables: u32,
    pub funcrefs: u32,
    pub size: u32,
}

impl VMOffsets {
    pub fn new(memories: u32, globals: u32, tables: u32, funcs: u32) -> VMOffsets {
        let m = size_of::<VMContextHeader>() as u32;
        let g = m + 8 * memories;
        let t = g + 8 * globals;
        let f = t + 8 * tables;
        VMOffsets {
            memories: m,
            globals: g,
            tables: t,
            funcrefs: f,
            size: f + 8 * funcs,
        }
    }
    pub fn memory(&self, i: u32) -> i32 {
        (self.memories + 8 * i) as i32
    }
    pub fn global(&self, i: u32) -> i32 {
        (self.globals + 8 * i) as i32
    }
    pub fn table(&self, i: u32) -> i32 {
        (self.tables + 8 * i) as i32
    }
    pub fn funcref(&self, i: u32) -> i32 {
        (self.funcrefs + 8 * i) as i32
    }
}
