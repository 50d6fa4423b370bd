//! Instances: import checking, VMContext construction, segment initialization, start.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use wasmparser::ExternalKind;

use crate::Error;
use crate::const_expr::{ConstExpr, Leaf};
use crate::error::{Trap, TrapCode};
use crate::module::{Module, SegmentMode};
use crate::runtime::func::{Func, FuncData, FuncKind, TypedFunc, WasmParams, WasmResults};
use crate::runtime::global::Global;
use crate::runtime::memory::{Memory, MemoryData};
use crate::runtime::store::{
    AsContext, AsContextMut, StoreOpaque, limit_error, opaque, opaque_mut,
};
use crate::runtime::table::{Table, TableData};
use crate::runtime::tag::Tag;
use crate::runtime::vmcontext::{
    VMCTX_INSTANCE, VMCTX_LIMITS, VMCTX_STORE, VMContextBlock, VMFuncRef,
};
use crate::types::{ExternType, GlobalType, MemoryType, TableType, TagType};

/// Anything that can be imported or exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
    Tag(Tag),
}

impl Extern {
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
    pub fn into_tag(self) -> Option<Tag> {
        if let Extern::Tag(t) = self {
            Some(t)
        } else {
            None
        }
    }
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        match self {
            Extern::Tag(t) => ExternType::Tag(t.ty(&store)),
            Extern::Func(f) => ExternType::Func(f.ty(&store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(&store)),
            Extern::Table(t) => ExternType::Table(t.ty(&store)),
            Extern::Global(g) => ExternType::Global(g.ty(&store)),
        }
    }
    pub(crate) fn ty_in(&self, s: &StoreOpaque) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.data_of(s).ty.clone()),
            Extern::Memory(m) => {
                let d = m.data_of(s);
                ExternType::Memory(d.ty.with_minimum(d.pages()))
            }
            Extern::Table(t) => {
                let d = t.data_of(s);
                ExternType::Table(TableType::new(
                    d.ty.element(),
                    d.elements.len() as u64,
                    d.ty.maximum(),
                ))
            }
            Extern::Global(g) => ExternType::Global(g.data_of(s).ty),
            Extern::Tag(t) => ExternType::Tag(t.data_of(s).ty.clone()),
        }
    }
    fn store_id(&self) -> u64 {
        match self {
            Extern::Func(f) => f.store,
            Extern::Memory(m) => m.store,
            Extern::Table(t) => t.store,
            Extern::Global(g) => g.store,
            Extern::Tag(t) => t.store,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

pub(crate) struct InstanceData {
    /// Bumped when the instance is disposed, so that handles to it stop working.
    pub generation: u32,
    /// `None` once disposed.
    pub module: Option<Module>,
    /// The VMContext, the funcrefs of the functions the instance defines and the
    /// handles of its functions, memories, tables and globals: owned here; compiled
    /// code, funcrefs and the store's functions point into it.
    pub vmctx: VMContextBlock,
    /// Its exception tags (empty, without an allocation, in most modules).
    pub tags: Vec<Tag>,
    /// Passive element segments as raw references (emptied by `elem.drop`).
    pub elems: Vec<Vec<u64>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

impl InstanceData {
    pub(crate) fn funcs(&self) -> &[Func] {
        self.vmctx.funcs()
    }
    pub(crate) fn memories(&self) -> &[Memory] {
        self.vmctx.memories()
    }
    pub(crate) fn tables(&self) -> &[Table] {
        self.vmctx.tables()
    }
    pub(crate) fn globals(&self) -> &[Global] {
        self.vmctx.globals()
    }

    /// The export named `name`.
    pub(crate) fn export_named(&self, name: &str) -> Option<Extern> {
        let (kind, index) = self.module.as_ref()?.inner.info.export(name)?;
        self.export(kind, index)
    }

    /// The instance's item of `kind` at `index` (an export's target).
    fn export(&self, kind: ExternalKind, index: u32) -> Option<Extern> {
        let i = index as usize;
        Some(match kind {
            ExternalKind::Func | ExternalKind::FuncExact => Extern::Func(self.funcs()[i]),
            ExternalKind::Memory => Extern::Memory(self.memories()[i]),
            ExternalKind::Table => Extern::Table(self.tables()[i]),
            ExternalKind::Global => Extern::Global(self.globals()[i]),
            ExternalKind::Tag => Extern::Tag(self.tags[i]),
        })
    }
}

/// An instance in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store: u64,
    pub(crate) index: usize,
    pub(crate) generation: u32,
}

fn memory_matches(actual: MemoryType, want: MemoryType) -> bool {
    actual.is_64() == want.is_64()
        && actual.minimum() >= want.minimum()
        && match want.maximum() {
            None => true,
            Some(wm) => actual.maximum().is_some_and(|am| am <= wm),
        }
}

/// A mutable global's type must be the import's; an immutable one's content may be
/// a subtype.
fn global_matches(actual: GlobalType, want: GlobalType) -> bool {
    actual.is_mutable() == want.is_mutable()
        && if want.is_mutable() {
            actual.content() == want.content()
        } else {
            actual.content().matches(want.content())
        }
}

fn table_matches(actual: TableType, want: TableType) -> bool {
    actual.element() == want.element()
        && actual.minimum() >= want.minimum()
        && match want.maximum() {
            None => true,
            Some(wm) => actual.maximum().is_some_and(|am| am <= wm),
        }
}

fn trap(code: TrapCode) -> Error {
    Error::Trap(Trap {
        code,
        backtrace: Vec::new(),
    })
}

impl Instance {
    /// Instantiates `module` with `imports` in module import order.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        let s = opaque_mut(&mut store);
        Instance::instantiate(s, module, imports)
    }

    pub(crate) fn instantiate(
        s: &mut StoreOpaque,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        if !module.engine().same(&s.engine) {
            return Err(Error::usage("module and store belong to different engines"));
        }
        let info = &module.inner.info;
        if s.instance_count() >= s.store_limits.instances {
            return Err(limit_error("too many instances"));
        }
        if imports.len() != info.imports.len() {
            return Err(Error::Instantiation(format!(
                "expected {} imports, got {}",
                info.imports.len(),
                imports.len()
            )));
        }
        // The VMContext, funcrefs and handles in one allocation; the store's vectors
        // at their final size at once (no regrowth).
        let offsets = info.offsets();
        let mut tags = Vec::with_capacity(info.tags.len());
        let defined_funcs = info.funcs.len() - info.imported_funcs as usize;
        let counts = [
            info.funcs.len(),
            info.memories.len(),
            info.tables.len(),
            info.globals.len(),
        ];
        let mut vmctx = VMContextBlock::new(offsets, defined_funcs, counts)
            .ok_or_else(|| limit_error("cannot allocate the instance's VMContext"))?;
        let vmctx_addr = vmctx.addr();
        s.funcs.reserve(defined_funcs);
        s.memories
            .reserve(info.memories.len() - info.imported_memories as usize);
        s.tables
            .reserve(info.tables.len() - info.imported_tables as usize);
        for (imp, ext) in info.imports.iter().zip(imports) {
            if ext.store_id() != s.id {
                return Err(Error::usage("import belongs to another store"));
            }
            let unlinkable = |reason: &str| Error::Unlinkable {
                module: imp.module.clone(),
                name: imp.name.clone(),
                reason: String::from(reason),
            };
            if let Extern::Func(f) = ext
                && f.check_live(s).is_err()
            {
                return Err(unlinkable("a function of a disposed instance"));
            }
            // Functions and tags by type id, the rest by their types' rules.
            let ok = match (&imp.ty, ext) {
                (ExternType::Func(_), Extern::Func(f)) => imp.sig == Some(f.data_of(s).sig),
                (ExternType::Tag(_), Extern::Tag(t)) => imp.sig == Some(t.data_of(s).sig),
                (want, ext) => match (want, ext.ty_in(s)) {
                    (ExternType::Memory(w), ExternType::Memory(a)) => memory_matches(a, *w),
                    (ExternType::Table(w), ExternType::Table(a)) => table_matches(a, *w),
                    (ExternType::Global(w), ExternType::Global(a)) => global_matches(a, *w),
                    _ => false,
                },
            };
            if !ok {
                return Err(unlinkable("incompatible import type"));
            }
            match *ext {
                Extern::Func(f) => vmctx.push(f),
                Extern::Memory(m) => vmctx.push(m),
                Extern::Table(t) => vmctx.push(t),
                Extern::Global(g) => vmctx.push(g),
                Extern::Tag(t) => tags.push(t),
            }
        }
        for ty in &info.tags[info.imported_tags as usize..] {
            let tag = TagType::new(info.types[*ty as usize].clone());
            tags.push(s.add_tag(tag, info.sig_ids[*ty as usize]));
        }

        let (index, generation) = match s.free_instances.last() {
            Some(&i) => (i, s.instances[i].generation),
            None => (s.instances.len(), 0),
        };

        for ty in &info.memories[info.imported_memories as usize..] {
            let m = MemoryData::new(s, *ty)?;
            s.memories.push(m);
            vmctx.push(Memory {
                store: s.id,
                index: s.memories.len() - 1,
            });
        }
        for (ty, _) in &info.tables[info.imported_tables as usize..] {
            let t = TableData::new(s, *ty, 0)?;
            s.tables.push(t);
            vmctx.push(Table {
                store: s.id,
                index: s.tables.len() - 1,
            });
        }
        for (i, _) in info
            .funcs
            .iter()
            .enumerate()
            .skip(info.imported_funcs as usize)
        {
            let def = i - info.imported_funcs as usize;
            let sig = info.func_sig_id(i as u32);
            let funcref = vmctx.funcref(offsets, def);
            let f = s.add_func(|id, generation| {
                // SAFETY: the slot is in the block, which nothing else uses yet.
                unsafe {
                    funcref.write(VMFuncRef {
                        array_call: 0,
                        wasm_call: module.inner.code.func_addr(def),
                        type_id: u64::from(sig),
                        vmctx: vmctx_addr,
                        func_id: id as u64,
                    })
                };
                FuncData {
                    generation,
                    ty: info.func_type(i as u32).clone(),
                    sig,
                    funcref,
                    kind: FuncKind::Wasm,
                }
            });
            vmctx.push(f);
        }
        let funcref_raw =
            |s: &StoreOpaque, funcs: &[Func], i: u32| funcs[i as usize].funcref_addr(s) as u64;
        let eval = |s: &StoreOpaque, globals: &[Global], funcs: &[Func], e: &ConstExpr| {
            e.eval(|leaf| match leaf {
                Leaf::Func(i) => u128::from(funcref_raw(s, funcs, i)),
                Leaf::Global(g) => globals[g as usize].data_of(s).cell.bits,
            })
        };
        for (ty, init) in &info.globals[info.imported_globals as usize..] {
            let bits = init
                .as_ref()
                .map_or(0, |e| eval(s, vmctx.globals(), vmctx.funcs(), e));
            let g = Global::from_raw(s, *ty, bits);
            vmctx.push(g);
        }
        // Tables with an init expression.
        for (i, (_, init)) in info
            .tables
            .iter()
            .enumerate()
            .skip(info.imported_tables as usize)
        {
            if let Some(op) = init {
                let raw = eval(s, vmctx.globals(), vmctx.funcs(), op) as u64;
                let t = &mut s.tables[vmctx.tables()[i].index];
                t.elements.iter_mut().for_each(|e| *e = raw);
            }
        }

        // Fill the VMContext.
        let limits = &s.limits as *const _ as u64;
        let store_ptr = s as *mut StoreOpaque as u64;
        vmctx.set(VMCTX_STORE, store_ptr);
        vmctx.set(VMCTX_LIMITS, limits);
        vmctx.set(VMCTX_INSTANCE, index as u64);
        vmctx.fill(
            VMContextBlock::memories,
            |i| offsets.memory(i),
            |m| &*s.memories[m.index].def as *const _ as u64,
        );
        vmctx.fill(
            VMContextBlock::globals,
            |i| offsets.global(i),
            |g| &*s.globals[g.index].cell as *const _ as u64,
        );
        vmctx.fill(
            VMContextBlock::tables,
            |i| offsets.table(i),
            |t| &*s.tables[t.index].def as *const _ as u64,
        );
        vmctx.fill(
            VMContextBlock::funcs,
            |i| offsets.funcref(i),
            |f| f.funcref_addr(s) as u64,
        );

        // Element segments: resolve items now; passive ones are kept for table.init.
        let mut elems = Vec::with_capacity(info.elems.len());
        let mut pending_elems = Vec::new();
        for (i, seg) in info.elems.iter().enumerate() {
            let items: Vec<u64> = seg
                .items
                .iter()
                .map(|e| eval(s, vmctx.globals(), vmctx.funcs(), e) as u64)
                .collect();
            match &seg.mode {
                SegmentMode::Passive => elems.push(items),
                SegmentMode::Declared => elems.push(Vec::new()),
                SegmentMode::Active { index, offset } => {
                    let off = eval(s, vmctx.globals(), vmctx.funcs(), offset) as u32;
                    pending_elems.push((i, *index, off, items));
                    elems.push(Vec::new());
                }
            }
        }

        let data = InstanceData {
            generation,
            module: Some(module.clone()),
            vmctx,
            tags,
            elems,
            data_dropped: alloc::vec![false; info.data.len()],
        };
        if index == s.instances.len() {
            s.instances.push(data);
        } else {
            s.free_instances.pop();
            s.instances[index] = data;
        }

        // Active segments, in order; a failure traps but earlier writes stay.
        // (Skipped when there are none: the loop's iterator is not free.)
        if !pending_elems.is_empty() {
            for (_, table, off, items) in pending_elems {
                let t = s.instances[index].tables()[table as usize];
                let data = &mut s.tables[t.index];
                let off = off as usize;
                if off
                    .checked_add(items.len())
                    .is_none_or(|end| end > data.elements.len())
                {
                    return Err(trap(TrapCode::TableOutOfBounds));
                }
                data.elements[off..off + items.len()].copy_from_slice(&items);
            }
        }
        for (i, seg) in info.data.iter().enumerate() {
            if let SegmentMode::Active { index: mem, offset } = &seg.mode {
                let globals = s.instances[index].globals();
                let funcs = s.instances[index].funcs();
                let off = eval(s, globals, funcs, offset) as u64;
                let m = s.instances[index].memories()[*mem as usize];
                // An i32 offset's cell may hold anything above its low 32 bits.
                let off = if info.memories[*mem as usize].is_64() {
                    off as usize
                } else {
                    off as u32 as usize
                };
                let bytes = s.memories[m.index].bytes_mut();
                if off
                    .checked_add(seg.bytes.len())
                    .is_none_or(|end| end > bytes.len())
                {
                    return Err(trap(TrapCode::MemoryOutOfBounds));
                }
                bytes[off..off + seg.bytes.len()].copy_from_slice(&seg.bytes);
                s.instances[index].data_dropped[i] = true;
            }
        }

        if let Some(start) = info.start {
            let f = s.instances[index].funcs()[start as usize];
            let mut vals = [0u128; 1];
            // SAFETY: the start function has type [] -> [].
            unsafe { crate::runtime::func::call_from_host(s, f.index, &mut vals)? };
        }
        Ok(Instance {
            store: s.id,
            index,
            generation,
        })
    }

    fn data<'a>(&self, s: &'a StoreOpaque) -> &'a InstanceData {
        assert_eq!(s.id, self.store, "instance used with a foreign store");
        let d = &s.instances[self.index];
        assert_eq!(d.generation, self.generation, "disposed instance used");
        d
    }

    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        self.data(opaque(&store)).export_named(name)
    }

    /// All exports, in name order.
    pub fn exports(&self, store: impl AsContext) -> impl Iterator<Item = (String, Extern)> {
        let d = self.data(opaque(&store));
        let info = &d
            .module
            .as_ref()
            .expect("a live instance has its module")
            .inner
            .info;
        let list: Vec<(String, Extern)> = info
            .exports_by_name
            .iter()
            .filter_map(|i| {
                let (name, kind, index) = &info.exports[*i as usize];
                Some((name.clone(), d.export(*kind, *index)?))
            })
            .collect();
        list.into_iter()
    }

    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<P, R>, Error> {
        let f = self
            .get_func(&store, name)
            .ok_or_else(|| Error::usage(format!("no exported function named `{name}`")))?;
        f.typed(&store)
    }
}
