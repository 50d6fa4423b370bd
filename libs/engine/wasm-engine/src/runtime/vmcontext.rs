//! Raw structures shared between compiled code and the runtime, and the per-module
//! VMContext layout.
//!
//! A VMContext is an array of 8-byte slots:
//! `[store, limits, instance index, memories.., globals.., tables.., funcrefs..]`,
//! where each memory/global/table/funcref slot points at the definition (owned by the
//! store, so imported and defined items look the same to compiled code).

use core::sync::atomic::AtomicU64;

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

pub const LIMITS_STACK_LIMIT: i32 = 0;
pub const LIMITS_FUEL: i32 = 8;
pub const LIMITS_EPOCH_DEADLINE: i32 = 16;
pub const LIMITS_EPOCH_PTR: i32 = 24;

/// A linear memory as compiled code sees it.
#[repr(C)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    /// Current length in bytes.
    pub length: usize,
}

pub const MEMORY_BASE: i32 = 0;
pub const MEMORY_LENGTH: i32 = 8;

/// A table as compiled code sees it: elements are raw 8-byte references
/// (`*const VMFuncRef` or `ExternRef` raw value; 0 is null).
#[repr(C)]
pub struct VMTableDefinition {
    pub base: *mut u64,
    pub length: usize,
}

pub const TABLE_BASE: i32 = 0;
pub const TABLE_LENGTH: i32 = 8;

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

pub const FUNCREF_WASM_CALL: i32 = 8;
pub const FUNCREF_TYPE_ID: i32 = 16;
pub const FUNCREF_VMCTX: i32 = 24;

pub const VMCTX_STORE: i32 = 0;
pub const VMCTX_LIMITS: i32 = 8;
pub const VMCTX_INSTANCE: i32 = 16;

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
        let m = 24;
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
