//! Public Wasm types and values.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::runtime::func::Func;

/// A Wasm value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

impl ValType {
    pub(crate) fn from_wasm(ty: wasmparser::ValType) -> Option<ValType> {
        Some(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::from_ref(r)?,
        })
    }

    pub(crate) fn from_ref(r: wasmparser::RefType) -> Option<ValType> {
        if r == wasmparser::RefType::FUNCREF {
            Some(ValType::FuncRef)
        } else if r == wasmparser::RefType::EXTERNREF {
            Some(ValType::ExternRef)
        } else {
            None
        }
    }

    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A function signature. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Arc<[ValType]>,
    results: Arc<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect::<Vec<_>>().into(),
            results: results.into_iter().collect::<Vec<_>>().into(),
        }
    }
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(func (param")?;
        for p in self.params.iter() {
            write!(f, " {p}")?;
        }
        write!(f, ") (result")?;
        for r in self.results.iter() {
            write!(f, " {r}")?;
        }
        write!(f, "))")
    }
}

/// A linear memory type, in 64 KiB pages, with 32-bit or (memory64) 64-bit addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
    memory64: bool,
}

impl MemoryType {
    /// A memory addressed with `i32`.
    pub fn new(minimum_pages: u64, maximum: Option<u64>) -> MemoryType {
        MemoryType {
            minimum: minimum_pages,
            maximum,
            memory64: false,
        }
    }
    /// A memory addressed with `i64` (memory64).
    pub fn new64(minimum_pages: u64, maximum: Option<u64>) -> MemoryType {
        MemoryType {
            memory64: true,
            ..MemoryType::new(minimum_pages, maximum)
        }
    }
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
    /// Whether addresses are `i64`.
    pub fn is_64(&self) -> bool {
        self.memory64
    }
    /// The same type with another minimum (a memory's type at its current size).
    pub fn with_minimum(self, minimum_pages: u64) -> MemoryType {
        MemoryType {
            minimum: minimum_pages,
            ..self
        }
    }
}

/// A table type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    element: ValType,
    minimum: u64,
    maximum: Option<u64>,
}

impl TableType {
    pub fn new(element: ValType, minimum: u64, maximum: Option<u64>) -> TableType {
        TableType {
            element,
            minimum,
            maximum,
        }
    }
    pub fn element(&self) -> ValType {
        self.element
    }
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
}

/// Whether a global can be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    Const,
    Var,
}

/// A global type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    content: ValType,
    mutable: bool,
}

impl GlobalType {
    pub fn new(content: ValType, mutable: bool) -> GlobalType {
        GlobalType { content, mutable }
    }
    pub fn content(&self) -> ValType {
        self.content
    }
    pub fn mutability(&self) -> Mutability {
        if self.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        }
    }
    pub fn is_mutable(&self) -> bool {
        self.mutable
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    Func(FuncType),
    Memory(MemoryType),
    Table(TableType),
    Global(GlobalType),
}

/// An opaque host reference. Stored in Wasm as `value + 1` so that 0 stays null.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(u32);

impl ExternRef {
    pub fn new(value: u32) -> ExternRef {
        ExternRef(value)
    }
    pub fn value(&self) -> u32 {
        self.0
    }
    pub(crate) fn to_raw(r: Option<ExternRef>) -> u64 {
        r.map_or(0, |r| u64::from(r.0) + 1)
    }
    pub(crate) fn from_raw(raw: u64) -> Option<ExternRef> {
        if raw == 0 {
            None
        } else {
            Some(ExternRef((raw - 1) as u32))
        }
    }
}

/// A Wasm value. Floats are kept as bits so NaN payloads survive.
#[derive(Clone, Copy, Debug)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The default (zero / null) value of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
