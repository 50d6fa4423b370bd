//! Module: parse the sections we need into [`ModuleInfo`], compile every function body,
//! link and publish the code.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, Name, Parser, Payload, TableInit, TypeRef,
};

#[cfg(feature = "compiler")]
use crate::compile;
use crate::const_expr::ConstExpr;
use crate::runtime::engine::Engine;
use crate::runtime::type_registry::{KeyFunc, KeyType};
use crate::runtime::vmcontext::VMOffsets;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType, TagType, ValType};
use crate::{Error, link, validate};

pub(crate) enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

pub(crate) struct ElemSegment {
    pub mode: SegmentMode,
    pub items: Vec<ConstExpr>,
}

pub(crate) struct DataSegment {
    pub mode: SegmentMode,
    pub bytes: Vec<u8>,
}

pub(crate) struct ImportInfo {
    pub module: String,
    pub name: String,
    pub ty: ExternType,
    /// For a function or tag: the engine-wide id of its type, which the import must
    /// have exactly (equal structure is not enough in Wasm 3.0: see
    /// `runtime::type_registry`).
    pub sig: Option<u32>,
}

/// Everything about a module except its code.
#[derive(Default)]
pub(crate) struct ModuleInfo {
    pub types: Vec<FuncType>,
    /// Engine-wide signature id for each type index.
    pub sig_ids: Vec<u32>,
    /// Type index of every function (imports first).
    pub funcs: Vec<u32>,
    pub tables: Vec<(TableType, Option<ConstExpr>)>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<(GlobalType, Option<ConstExpr>)>,
    /// Type index of every tag (imports first).
    pub tags: Vec<u32>,
    pub imported_funcs: u32,
    pub imported_tables: u32,
    pub imported_memories: u32,
    pub imported_globals: u32,
    pub imported_tags: u32,
    pub imports: Vec<ImportInfo>,
    pub exports: Vec<(String, ExternalKind, u32)>,
    /// Indices into `exports` in name order (instances look exports up here; they
    /// keep no map of their own).
    pub exports_by_name: Vec<u32>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    pub names: Arc<BTreeMap<u32, String>>,
    pub offsets: Option<VMOffsets>,
}

impl ModuleInfo {
    pub fn offsets(&self) -> &VMOffsets {
        self.offsets
            .as_ref()
            .expect("offsets are computed before translation")
    }
    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize] as usize]
    }
    pub fn func_sig_id(&self, func: u32) -> u32 {
        self.sig_ids[self.funcs[func as usize] as usize]
    }
    pub fn is_imported_func(&self, func: u32) -> bool {
        func < self.imported_funcs
    }
}

fn unsupported(offset: usize, what: &str) -> Error {
    Error::compile(Some(offset), alloc::format!("unsupported: {what}"))
}

/// What a module's types refuse: GC's heap types.
const GC_TYPES: &str = "garbage collection types (any, eq, i31, struct, array)";

/// The engine's type for `ty`, with the module's type indices as engine-wide ids.
fn val_type(info: &ModuleInfo, ty: wasmparser::ValType, offset: usize) -> Result<ValType, Error> {
    ValType::from_wasm(ty, &|i| info.sig_ids[i as usize])
        .ok_or_else(|| unsupported(offset, GC_TYPES))
}

fn table_type(
    info: &ModuleInfo,
    t: &wasmparser::TableType,
    offset: usize,
) -> Result<TableType, Error> {
    if t.table64 || t.shared {
        return Err(unsupported(offset, "table64/shared tables"));
    }
    let elem = val_type(info, wasmparser::ValType::Ref(t.element_type), offset)?;
    Ok(TableType::new(elem, t.initial, t.maximum))
}

/// Registers one recursion group of the type section with the engine (see
/// `runtime::type_registry`) and adds its types to `info`.
fn rec_group(
    engine: &Engine,
    info: &mut ModuleInfo,
    rec: wasmparser::RecGroup,
    offset: usize,
) -> Result<(), Error> {
    let start = info.sig_ids.len() as u32;
    let subs: Vec<wasmparser::SubType> = rec.into_types().collect();
    let end = start + subs.len() as u32;
    let mut group = Vec::with_capacity(subs.len());
    for sub in &subs {
        if !sub.supertype_idxs.is_empty() || sub.composite_type.shared {
            return Err(unsupported(
                offset,
                "declared supertypes and shared types (GC's)",
            ));
        }
        let wasmparser::CompositeInnerType::Func(f) = &sub.composite_type.inner else {
            return Err(unsupported(offset, GC_TYPES));
        };
        let key = |t: &wasmparser::ValType| -> Result<KeyType, Error> {
            if let wasmparser::ValType::Ref(r) = t
                && let wasmparser::HeapType::Concrete(i) = r.heap_type()
                && let Some(i) = i.as_module_index()
                && (start..end).contains(&i)
            {
                return Ok(KeyType::Member {
                    nullable: r.is_nullable(),
                    index: i - start,
                });
            }
            Ok(KeyType::Val(val_type(info, *t, offset)?))
        };
        group.push(KeyFunc {
            params: f.params().iter().map(key).collect::<Result<_, _>>()?,
            results: f.results().iter().map(key).collect::<Result<_, _>>()?,
            is_final: sub.is_final,
        });
    }
    let first = engine.intern_group(&group);
    for id in first..first + group.len() as u32 {
        info.sig_ids.push(id);
        info.types.push(engine.sig_type(id));
    }
    Ok(())
}

fn memory_type(m: &wasmparser::MemoryType, offset: usize) -> Result<MemoryType, Error> {
    if m.shared || m.page_size_log2.is_some() {
        return Err(unsupported(offset, "shared/custom-page memories"));
    }
    Ok(if m.memory64 {
        MemoryType::new64(m.initial, m.maximum)
    } else {
        MemoryType::new(m.initial, m.maximum)
    })
}

fn global_type(
    info: &ModuleInfo,
    g: &wasmparser::GlobalType,
    offset: usize,
) -> Result<GlobalType, Error> {
    Ok(GlobalType::new(
        val_type(info, g.content_type, offset)?,
        g.mutable,
    ))
}

pub(crate) struct FunctionBody<'a> {
    pub index: u32,
    pub body: wasmparser::FunctionBody<'a>,
}

/// Parses a validated module.
pub(crate) fn parse<'a>(
    engine: &Engine,
    bytes: &'a [u8],
) -> Result<(ModuleInfo, Vec<FunctionBody<'a>>), Error> {
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();
    let mut names = BTreeMap::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                let offset = reader.range().start;
                for rec in reader {
                    rec_group(engine, &mut info, rec?, offset as usize)?;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports_with_offsets() {
                    let (offset, import) = import?;
                    let offset = offset as usize;
                    let sig = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => Some(info.sig_ids[t as usize]),
                        TypeRef::Tag(t) => Some(info.sig_ids[t.func_type_idx as usize]),
                        _ => None,
                    };
                    let ty = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            info.funcs.push(t);
                            info.imported_funcs += 1;
                            ExternType::Func(info.types[t as usize].clone())
                        }
                        TypeRef::Table(t) => {
                            let t = table_type(&info, &t, offset)?;
                            info.tables.push((t, None));
                            info.imported_tables += 1;
                            ExternType::Table(t)
                        }
                        TypeRef::Memory(m) => {
                            let m = memory_type(&m, offset)?;
                            info.memories.push(m);
                            info.imported_memories += 1;
                            ExternType::Memory(m)
                        }
                        TypeRef::Global(g) => {
                            let g = global_type(&info, &g, offset)?;
                            info.globals.push((g, None));
                            info.imported_globals += 1;
                            ExternType::Global(g)
                        }
                        TypeRef::Tag(t) => {
                            info.tags.push(t.func_type_idx);
                            info.imported_tags += 1;
                            ExternType::Tag(TagType::new(
                                info.types[t.func_type_idx as usize].clone(),
                            ))
                        }
                    };
                    info.imports.push(ImportInfo {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        ty,
                        sig,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    info.funcs.push(t?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    let ty = table_type(&info, &table.ty, 0)?;
                    let init = match &table.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(e) => Some(ConstExpr::parse(e)?),
                    };
                    info.tables.push((ty, init));
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader {
                    info.memories.push(memory_type(&m?, 0)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    info.globals.push((
                        global_type(&info, &g.ty, 0)?,
                        Some(ConstExpr::parse(&g.init_expr)?),
                    ));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    info.exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::TagSection(reader) => {
                for t in reader {
                    info.tags.push(t?.func_type_idx);
                }
            }
            Payload::ElementSection(reader) => {
                for elem in reader {
                    let elem = elem?;
                    let mode = match elem.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: ConstExpr::parse(&offset_expr)?,
                        },
                    };
                    let mut items = Vec::new();
                    match elem.items {
                        ElementItems::Functions(r) => {
                            for f in r {
                                items.push(ConstExpr::func(f?));
                            }
                        }
                        ElementItems::Expressions(_, r) => {
                            for e in r {
                                items.push(ConstExpr::parse(&e?)?);
                            }
                        }
                    }
                    info.elems.push(ElemSegment { mode, items });
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d?;
                    let mode = match d.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: ConstExpr::parse(&offset_expr)?,
                        },
                    };
                    info.data.push(DataSegment {
                        mode,
                        bytes: d.data.to_vec(),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = info.imported_funcs + bodies.len() as u32;
                bodies.push(FunctionBody { index, body });
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    // The name section is advisory: ignore it if it is malformed.
                    for name in reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for n in map.into_iter().flatten() {
                                names.insert(n.index, n.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    info.names = Arc::new(names);
    let mut by_name: Vec<u32> = (0..info.exports.len() as u32).collect();
    by_name.sort_by(|a, b| {
        info.exports[*a as usize]
            .0
            .cmp(&info.exports[*b as usize].0)
    });
    info.exports_by_name = by_name;
    info.offsets = Some(VMOffsets::new(
        info.memories.len() as u32,
        info.globals.len() as u32,
        info.tables.len() as u32,
        info.funcs.len() as u32,
    ));
    Ok((info, bodies))
}

/// Why an engine without the `compiler` feature refuses Wasm it has no precompiled
/// code for.
#[cfg(not(feature = "compiler"))]
pub(crate) const NO_COMPILER: &str =
    "not precompiled, and this engine has no compiler (a runtime-only build)";

/// Bodies per compile job, and the module size below which compiling on the calling
/// thread is cheaper than handing work out.
const BODIES_PER_JOB: usize = 16;

/// Compiles every body; functions are independent, so big modules are split into jobs
/// that the platform may run in parallel.
#[cfg(feature = "compiler")]
pub(crate) fn compile_all(
    engine: &Engine,
    info: &ModuleInfo,
    bodies: &[FunctionBody<'_>],
) -> Result<Vec<crate::code::CompiledFunction>, Error> {
    if bodies.len() < 2 * BODIES_PER_JOB {
        return bodies
            .iter()
            .map(|b| compile::compile_function(engine, info, b))
            .collect();
    }
    let chunks: Vec<&[FunctionBody<'_>]> = bodies.chunks(BODIES_PER_JOB).collect();
    let mut results: Vec<Option<Result<Vec<crate::code::CompiledFunction>, Error>>> =
        chunks.iter().map(|_| None).collect();
    {
        let mut closures: Vec<_> = chunks
            .iter()
            .zip(results.iter_mut())
            .map(|(chunk, out)| {
                move || {
                    *out = Some(
                        chunk
                            .iter()
                            .map(|b| compile::compile_function(engine, info, b))
                            .collect(),
                    );
                }
            })
            .collect();
        let mut jobs: Vec<&mut (dyn FnMut() + Send)> = closures
            .iter_mut()
            .map(|c| c as &mut (dyn FnMut() + Send))
            .collect();
        engine.platform().run_jobs(&mut jobs);
    }
    let mut compiled = Vec::with_capacity(bodies.len());
    for r in results {
        compiled.extend(r.ok_or_else(|| Error::compile(None, "a compile job did not run"))??);
    }
    Ok(compiled)
}

pub(crate) struct ModuleInner {
    pub engine: Engine,
    pub info: ModuleInfo,
    pub code: link::LinkedCode,
}

/// A compiled module. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl Module {
    /// Validates `bytes` and refuses them: this engine has no compiler.
    #[cfg(not(feature = "compiler"))]
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        validate::validate(engine.config().features, bytes)?;
        Err(Error::compile(None, NO_COMPILER))
    }

    /// Validates, translates, compiles, links and publishes `bytes`.
    #[cfg(feature = "compiler")]
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        validate::validate(engine.config().features, bytes)?;
        let (info, bodies) = parse(engine, bytes)?;
        let compiled = compile_all(engine, &info, &bodies)?;
        let code = link::link(engine, &info, compiled)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                code,
            }),
        })
    }

    /// Validates `bytes` without compiling.
    pub fn validate(engine: &Engine, bytes: &[u8]) -> Result<(), Error> {
        validate::validate(engine.config().features, bytes)
    }

    pub fn imports(&self) -> impl Iterator<Item = ImportType<'_>> {
        self.inner.info.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: &i.ty,
        })
    }

    pub fn exports(&self) -> impl Iterator<Item = ExportType<'_>> {
        let info = &self.inner.info;
        info.exports
            .iter()
            .map(move |(name, kind, index)| ExportType {
                name,
                ty: info.extern_type(*kind, *index),
            })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

impl ModuleInfo {
    /// The export named `name`: its kind and index.
    pub(crate) fn export(&self, name: &str) -> Option<(ExternalKind, u32)> {
        let i = self
            .exports_by_name
            .binary_search_by(|i| self.exports[*i as usize].0.as_str().cmp(name))
            .ok()?;
        let (_, kind, index) = &self.exports[self.exports_by_name[i] as usize];
        Some((*kind, *index))
    }

    pub(crate) fn extern_type(&self, kind: ExternalKind, index: u32) -> ExternType {
        let i = index as usize;
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => {
                ExternType::Func(self.func_type(index).clone())
            }
            ExternalKind::Table => ExternType::Table(self.tables[i].0),
            ExternalKind::Memory => ExternType::Memory(self.memories[i]),
            ExternalKind::Global => ExternType::Global(self.globals[i].0),
            ExternalKind::Tag => {
                ExternType::Tag(TagType::new(self.types[self.tags[i] as usize].clone()))
            }
        }
    }
}

/// An import of a module.
pub struct ImportType<'a> {
    module: &'a str,
    name: &'a str,
    ty: &'a ExternType,
}

impl<'a> ImportType<'a> {
    pub fn module(&self) -> &'a str {
        self.module
    }
    pub fn name(&self) -> &'a str {
        self.name
    }
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// An export of a module.
pub struct ExportType<'a> {
    name: &'a str,
    ty: ExternType,
}

impl<'a> ExportType<'a> {
    pub fn name(&self) -> &'a str {
        self.name
    }
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
