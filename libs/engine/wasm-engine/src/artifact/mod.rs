//! Precompiled modules: [`Engine::precompile`] compiles a Wasm module to an artifact
//! (bytes), and [`Module::deserialize`] places its code without compiling.
//!
//! Layout: `MAGIC`, the body, and the checksum (XXH3-128) of everything before it. The body is the
//! [`Header`] (engine version, target, every Cranelift setting that shapes code, fuel,
//! epochs, bounds-check mode, guard size, the source Wasm's SHA-256), the module's
//! metadata as a Wasm binary (every section of the source except the code and custom
//! sections, plus its `name` section: types, imports, functions, tables, memories,
//! globals, exports, start, elements and data, parsed again by the same parser), then
//! each defined function: its machine code, the relocations still to apply (other
//! functions, runtime functions, signature ids), its trap table and source locations;
//! then the trampolines its instances need (see `trampolines_needed`), so that loading
//! and instantiating compile nothing.
//!
//! **Trust.** Loading checks integrity (the checksum) and compatibility (the header),
//! not safety: the code is not validated again. Load only artifacts from a source you
//! trust as much as the engine itself (the kernel takes them only from its boot image).

mod codec;
mod header;
#[cfg(all(test, feature = "linux"))]
mod tests;

use alloc::sync::Arc;
use alloc::vec::Vec;

use codec::{Reader, Writer, refused};
use header::Header;
#[cfg(feature = "compiler")]
use header::Source;

use crate::code::{self, CompiledFunction, FuncReloc, RelocKind, RelocTarget, trap_kind};
#[cfg(feature = "compiler")]
use crate::compile;
use crate::module::{self, Module, ModuleInfo, ModuleInner};
use crate::runtime::engine::{Engine, TrampolineKind};
#[cfg(feature = "compiler")]
use crate::validate;
use crate::{Error, link};

const MAGIC: &[u8; 8] = b"ATOLLCW\0";

#[cfg(feature = "compiler")]
impl Engine {
    /// Compiles `wasm` (validated first) for this engine's target and settings, and
    /// returns the artifact [`Module::deserialize`] loads. The engine may be configured
    /// for another target ([`crate::Config::target`]): nothing is placed or run.
    pub fn precompile(&self, wasm: &[u8]) -> Result<Vec<u8>, Error> {
        validate::validate(self.config().features, wasm)?;
        let (info, bodies) = module::parse(self, wasm)?;
        let compiled = module::compile_all(self, &info, &bodies)?;
        let header = Header::of(self, Source::of(wasm));
        let mut w = Writer::default();
        w.raw(MAGIC);
        header.write(&mut w);
        w.bytes(&metadata_wasm(wasm)?);
        w.u32(compiled.len() as u32);
        for f in &compiled {
            write_function(&mut w, f)?;
        }
        let trampolines = trampolines_needed(&info, &bodies)?;
        w.u32(trampolines.len() as u32);
        for (kind, ty) in trampolines {
            let f = compile::trampoline_of(self.isa(), kind, &info.types[ty as usize])?;
            w.u8(kind as u8);
            w.u32(ty);
            write_function(&mut w, &f)?;
        }
        let sum = checksum(&w.bytes);
        w.raw(&sum);
        Ok(w.bytes)
    }
}

impl Module {
    /// Loads an artifact of [`Engine::precompile`]: checks its checksum and that its
    /// header matches this engine (the error names the first difference), then places
    /// the code. When `wasm_sha256` is given, the artifact must have been compiled from
    /// the Wasm module with that SHA-256 (the caller has usually hashed it already, to
    /// find the artifact).
    ///
    /// The artifact is **trusted input**: its code runs without validation. A corrupt
    /// artifact is refused, a deliberately forged one is not detected.
    pub fn deserialize(
        engine: &Engine,
        bytes: &[u8],
        wasm_sha256: Option<&[u8; 32]>,
    ) -> Result<Module, Error> {
        let mut r = Reader::new(body(bytes)?);
        let header = Header::read(&mut r)?;
        header.check(engine)?;
        if wasm_sha256.is_some_and(|sum| *sum != header.source.sha256) {
            return Err(refused(
                "compiled from another Wasm module (its SHA-256 differs)",
            ));
        }
        let (info, bodies) = module::parse(engine, r.bytes()?)?;
        let defined = info.funcs.len() - info.imported_funcs as usize;
        let n = r.count(16)?;
        if bodies.len() != defined || n != defined {
            return Err(refused("its code does not match its function list"));
        }
        let compiled = (0..n)
            .map(|_| read_function(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut trampolines = Vec::new();
        for _ in 0..r.count(6)? {
            let kind = *TRAMPOLINES
                .get(r.u8()? as usize)
                .ok_or_else(|| refused("unknown trampoline kind"))?;
            let sig = *info
                .sig_ids
                .get(r.u32()? as usize)
                .ok_or_else(|| refused("a trampoline for an unknown type"))?;
            trampolines.push((kind, sig, read_function(&mut r)?));
        }
        if !r.is_empty() {
            return Err(refused("trailing bytes after its code"));
        }
        let code = link::link(engine, &info, compiled)?;
        engine.adopt_trampolines(trampolines)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                code,
            }),
        })
    }

    /// The SHA-256 of the Wasm module an artifact was compiled from (read from its
    /// header; nothing else is checked), to find the artifact for a module.
    pub fn precompiled_source_sha256(bytes: &[u8]) -> Result<[u8; 32], Error> {
        Ok(read_header(bytes)?.source.sha256)
    }

    /// The SHA-256 of `wasm` as the artifact's header records it, once the header's
    /// XXH3-128 of its source says `wasm` is exactly that module (else an error): for
    /// a caller that has an artifact beside a module and needs the module's identity
    /// without hashing it with SHA-256. Nothing else of the artifact is checked.
    pub fn precompiled_source_of(bytes: &[u8], wasm: &[u8]) -> Result<[u8; 32], Error> {
        let source = read_header(bytes)?.source;
        if checksum(wasm) != source.xxh3 {
            return Err(refused(
                "compiled from another Wasm module (its XXH3-128 differs)",
            ));
        }
        Ok(source.sha256)
    }
}

/// The header of the artifact `bytes` (its checksum is not checked).
fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| refused("not a precompiled module (bad magic)"))?;
    Header::read(&mut Reader::new(rest))
}

/// Bytes of the checksum at the end of an artifact.
const CHECKSUM_LEN: usize = 16;

/// The artifact checksum: XXH3-128, against corruption (a flipped bit on a disk or in
/// a download). It is not an authenticity check (see Trust above), so it need not be
/// cryptographic; SHA-256 over a boot image's artifacts cost a riscv64 boot about 90M
/// instructions, XXH3 a few hundred thousand.
fn checksum(data: &[u8]) -> [u8; CHECKSUM_LEN] {
    xxhash_rust::xxh3::xxh3_128(data).to_le_bytes()
}

/// The body of `bytes` after its magic, once the checksum matches.
fn body(bytes: &[u8]) -> Result<&[u8], Error> {
    if !bytes.starts_with(MAGIC) {
        return Err(refused("not a precompiled module (bad magic)"));
    }
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .filter(|s| *s >= MAGIC.len())
        .ok_or_else(|| refused("truncated"))?;
    let (data, sum) = bytes.split_at(split);
    if checksum(data) != sum {
        return Err(refused("corrupt (checksum mismatch)"));
    }
    Ok(&data[MAGIC.len()..])
}

/// Trampoline kinds by their artifact byte (`kind as u8`).
const TRAMPOLINES: [TrampolineKind; 3] = [
    TrampolineKind::Entry,
    TrampolineKind::HostArray,
    TrampolineKind::HostNative,
];

/// The trampolines a module's instances need, compiled ahead of time so that
/// instantiating compiles nothing: entries for the types of its exported functions,
/// and the host-call trampolines (array, and native where the type allows) for the
/// types of its imported functions, and if any function has a `try_table`, entries
/// for every type (calls there enter their callee through one: see
/// `runtime::exception`). Others (a function reached only through a table, say) are
/// still compiled on first use. `(kind, type index)`, without repeats.
fn trampolines_needed(
    info: &ModuleInfo,
    bodies: &[module::FunctionBody<'_>],
) -> Result<Vec<(TrampolineKind, u32)>, Error> {
    let mut out = alloc::collections::BTreeSet::new();
    for b in bodies {
        let mut ops = b.body.get_operators_reader()?;
        let mut found = false;
        while !ops.eof() && !found {
            found = matches!(ops.read()?, wasmparser::Operator::TryTable { .. });
        }
        if found {
            out.extend((0..info.types.len() as u32).map(|t| (TrampolineKind::Entry, t)));
            break;
        }
    }
    for (_, kind, index) in &info.exports {
        if *kind == wasmparser::ExternalKind::Func {
            out.insert((TrampolineKind::Entry, info.funcs[*index as usize]));
        }
    }
    for f in 0..info.imported_funcs {
        let ty = info.funcs[f as usize];
        out.insert((TrampolineKind::HostArray, ty));
        if code::native_host_callable(&info.types[ty as usize]) {
            out.insert((TrampolineKind::HostNative, ty));
        }
    }
    Ok(out.into_iter().collect())
}

/// `wasm` with an empty body (`end`) for every function instead of its code, and
/// without custom sections except `name`.
fn metadata_wasm(wasm: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(wasm);
    let mut out = r.raw(8)?.to_vec();
    let mut funcs = 0;
    while !r.is_empty() {
        let start = r.pos();
        let id = r.u8()?;
        let len = leb_u32(&mut r)? as usize;
        let contents = r.raw(len)?;
        let keep = match id {
            3 => {
                funcs = leb_u32(&mut Reader::new(contents))?;
                true
            }
            10 => {
                let mut code = Writer::default();
                leb(&mut code, funcs);
                for _ in 0..funcs {
                    code.raw(&[2, 0, 0x0b]);
                }
                out.push(10);
                let mut size = Writer::default();
                leb(&mut size, code.bytes.len() as u32);
                out.extend_from_slice(&size.bytes);
                out.extend_from_slice(&code.bytes);
                false
            }
            0 => {
                let mut c = Reader::new(contents);
                let n = leb_u32(&mut c)? as usize;
                c.raw(n)? == b"name"
            }
            _ => true,
        };
        if keep {
            out.extend_from_slice(&wasm[start..r.pos()]);
        }
    }
    Ok(out)
}

fn leb(w: &mut Writer, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            w.u8(b);
            return;
        }
        w.u8(b | 0x80);
    }
}

fn leb_u32(r: &mut Reader<'_>) -> Result<u32, Error> {
    let mut v = 0u32;
    for shift in (0..35).step_by(7) {
        let b = r.u8()?;
        v |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(refused("bad LEB128 in its metadata"))
}

fn write_function(w: &mut Writer, f: &CompiledFunction) -> Result<(), Error> {
    w.bytes(&f.code);
    w.u32(f.relocs.len() as u32);
    for r in &f.relocs {
        let kind = RelocKind::ALL
            .iter()
            .position(|k| *k == r.kind)
            .expect("ALL lists every kind");
        let (target, index) = match r.target {
            RelocTarget::Func(i) => (0, i),
            RelocTarget::Libcall(i) => (1, i),
            RelocTarget::SigId(i) => (2, i),
        };
        w.u32(r.offset);
        w.u8(kind as u8);
        w.u8(target);
        w.u32(index);
        w.u64(r.addend as u64);
    }
    w.u32(f.traps.len() as u32);
    for (offset, code) in &f.traps {
        w.u32(*offset);
        w.u8(*code);
    }
    w.u32(f.srclocs.len() as u32);
    for (start, end, loc) in &f.srclocs {
        w.u32(*start);
        w.u32(*end);
        w.u32(*loc);
    }
    Ok(())
}

fn read_function(r: &mut Reader<'_>) -> Result<CompiledFunction, Error> {
    let code = r.bytes()?.to_vec();
    let n = r.count(18)?;
    let mut relocs = Vec::with_capacity(n);
    for _ in 0..n {
        let offset = r.u32()?;
        let kind = *RelocKind::ALL
            .get(r.u8()? as usize)
            .ok_or_else(|| refused("unknown relocation kind"))?;
        let target = match (r.u8()?, r.u32()?) {
            (0, i) => RelocTarget::Func(i),
            (1, i) => RelocTarget::Libcall(i),
            (2, i) => RelocTarget::SigId(i),
            _ => return Err(refused("unknown relocation target")),
        };
        let addend = r.u64()? as i64;
        relocs.push(FuncReloc {
            offset,
            kind,
            target,
            addend,
        });
    }
    let n = r.count(5)?;
    let mut traps = Vec::with_capacity(n);
    for _ in 0..n {
        let offset = r.u32()?;
        let trap = Some(r.u8()?)
            .filter(|c| trap_kind(*c).is_some())
            .ok_or_else(|| refused("unknown trap code"))?;
        if offset as usize >= code.len() {
            return Err(refused("a trap outside its function"));
        }
        traps.push((offset, trap));
    }
    let n = r.count(12)?;
    let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let srclocs = r
        .raw(n * 12)?
        .chunks_exact(12)
        .map(|b| (word(b, 0), word(b, 4), word(b, 8)))
        .collect();
    Ok(CompiledFunction {
        code,
        relocs,
        traps,
        srclocs,
    })
}
