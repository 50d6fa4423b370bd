//! Public Wasm types and values.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::runtime::exception::Exception;
use crate::runtime::func::Func;

/// A Wasm value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefType),
}

impl ValType {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    /// The engine's type for a parsed one; `id` maps a module's type index to its
    /// engine-wide id. `None` for types the engine does not implement (GC's).
    pub(crate) fn from_wasm(ty: wasmparser::ValType, id: &dyn Fn(u32) -> u32) -> Option<ValType> {
        Some(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(RefType::from_wasm(r, id)?),
        })
    }

    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// Whether a value of this type is also one of type `other` (Wasm subtyping).
    pub fn matches(self, other: ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            (a, b) => a == b,
        }
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
            ValType::Ref(r) => return r.fmt(f),
        })
    }
}

/// A reference type: a heap type, nullable or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap: HeapType,
}

impl RefType {
    pub const FUNCREF: RefType = RefType::new(true, HeapType::Func);
    pub const EXTERNREF: RefType = RefType::new(true, HeapType::Extern);
    pub const EXNREF: RefType = RefType::new(true, HeapType::Exn);

    pub const fn new(nullable: bool, heap: HeapType) -> RefType {
        RefType { nullable, heap }
    }
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    pub fn heap_type(&self) -> HeapType {
        self.heap
    }

    pub(crate) fn from_wasm(r: wasmparser::RefType, id: &dyn Fn(u32) -> u32) -> Option<RefType> {
        use wasmparser::AbstractHeapType as A;
        let heap = match r.heap_type() {
            wasmparser::HeapType::Concrete(i) => HeapType::Concrete(id(i.as_module_index()?)),
            wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                _ => return None,
            },
            _ => return None,
        };
        Some(RefType::new(r.is_nullable(), heap))
    }

    /// Whether a reference of this type is also one of type `other`.
    pub fn matches(self, other: RefType) -> bool {
        (!self.nullable || other.nullable) && self.heap.matches(other.heap)
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (true, h) => write!(f, "(ref null {h})"),
            (false, h) => write!(f, "(ref {h})"),
        }
    }
}

/// What a reference points at. Function types are by engine-wide id: equal types
/// (equal recursion groups, as Wasm 3.0 defines it) have equal ids across modules.
/// GC's heap types (any, eq, i31, struct, array) are not implemented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    Func,
    /// The bottom of the function types: only null.
    NoFunc,
    Extern,
    NoExtern,
    Exn,
    NoExn,
    /// A function type, by engine-wide id.
    Concrete(u32),
}

impl HeapType {
    /// The top of this type's hierarchy: `func`, `extern` or `exn`.
    pub fn top(self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
        }
    }

    /// Whether this is a subtype of `other`. Function types declare no supertypes in
    /// this engine (those are GC's), so a concrete type matches only itself and `func`.
    pub fn matches(self, other: HeapType) -> bool {
        let bottom = matches!(
            self,
            HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn
        );
        self == other || (self.top() == other.top() && (bottom || other == other.top()))
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Concrete(id) => write!(f, "(type {id})"),
        }
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
    Tag(TagType),
}

/// An exception tag's type: the function type of its payload (no results).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// A tag carrying values of `ty`'s parameters; `ty` must have no results.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
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
    /// An exception (exception handling's `exnref`).
    ExnRef(Option<Exception>),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
        }
    }

    /// The default (zero / null) value of a type. A non-nullable reference type has
    /// no default; this gives its null, which type checks refuse.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) => match r.heap_type().top() {
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Exn => Val::ExnRef(None),
                _ => Val::FuncRef(None),
            },
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
