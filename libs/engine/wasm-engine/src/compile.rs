//! Cranelift: ISA construction from a target triple, compiling translated functions and
//! the per-signature trampolines, and collecting relocations, trap tables and source
//! locations.

use alloc::format;
use alloc::vec::Vec;
use core::str::FromStr;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    self, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, types,
};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::Error;
use crate::code::{CompiledFunction, FuncReloc, RelocKind, RelocTarget, trap_kind};
use crate::module::{FunctionBody, ModuleInfo};
use crate::runtime::config::Config;
use crate::runtime::engine::{Engine, TrampolineKind};
use crate::translate::{self, TranslateOptions, clif_type, codes, wasm_signature};
use crate::types::{FuncType, ValType};

/// Builds the Cranelift ISA for `triple` (e.g. `x86_64-unknown-linux-gnu`,
/// `riscv64gc-unknown-none-elf`), without riscv64 vectors or host-detected extensions.
pub fn build_isa(triple: &str) -> Result<OwnedTargetIsa, Error> {
    build_isa_with(triple, false, false)
}

/// [`build_isa`], plus: `vector` enables the riscv64 V extension (VLEN >= 128, needed
/// for SIMD); `host` adds the running CPU's x86_64 extensions (AVX, ...) when the
/// code will run on this very machine (Linux backend, no explicit target).
pub fn build_isa_with(triple: &str, vector: bool, host: bool) -> Result<OwnedTargetIsa, Error> {
    build_isa_flags(triple, vector, host, &[])
}

/// [`build_isa_with`], plus boolean Cranelift settings to enable by name (see
/// [`Config::cranelift_flag_enable`]): ISA settings first, then shared ones.
pub fn build_isa_flags(
    triple: &str,
    vector: bool,
    host: bool,
    extra: &[alloc::string::String],
) -> Result<OwnedTargetIsa, Error> {
    let triple = target_lexicon::Triple::from_str(triple)
        .map_err(|e| Error::compile(None, format!("bad target triple {triple}: {e}")))?;
    let arch = triple.architecture;
    let mut b =
        isa::lookup(triple).map_err(|e| Error::compile(None, format!("ISA lookup: {e}")))?;
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags
            .set(k, v)
            .map_err(|e| Error::compile(None, format!("setting {k}: {e}")))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "unwind_info", "false")?;
    // Results that do not fit the return registers (riscv64 returns no vectors in
    // registers) go through a hidden return area instead of failing to compile.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    if matches!(arch, target_lexicon::Architecture::X86_64) {
        // Round/floor/ceil inline instead of libcalls.
        for f in [
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
        ] {
            b.enable(f)
                .map_err(|e| Error::compile(None, format!("{f}: {e}")))?;
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if host {
            for (f, present) in [
                ("has_avx", std::is_x86_feature_detected!("avx")),
                ("has_avx2", std::is_x86_feature_detected!("avx2")),
                ("has_fma", std::is_x86_feature_detected!("fma")),
                ("has_bmi1", std::is_x86_feature_detected!("bmi1")),
                ("has_bmi2", std::is_x86_feature_detected!("bmi2")),
                ("has_lzcnt", std::is_x86_feature_detected!("lzcnt")),
            ] {
                if present {
                    b.enable(f)
                        .map_err(|e| Error::compile(None, format!("{f}: {e}")))?;
                }
            }
        }
    }
    if vector && matches!(arch, target_lexicon::Architecture::Riscv64(_)) {
        for f in ["has_v", "has_zvl128b"] {
            b.enable(f)
                .map_err(|e| Error::compile(None, format!("{f}: {e}")))?;
        }
    }
    let _ = host;
    for f in extra {
        match b.enable(f) {
            Ok(()) => {}
            Err(settings::SetError::BadName(_)) => set(&mut flags, f, "true")?,
            Err(e) => return Err(Error::compile(None, format!("{f}: {e}"))),
        }
    }
    b.finish(settings::Flags::new(flags))
        .map_err(|e| Error::compile(None, format!("ISA: {e}")))
}

pub(crate) fn translate_options(config: &Config, isa: &dyn isa::TargetIsa) -> TranslateOptions {
    TranslateOptions {
        guard_size: config.guard_size,
        explicit_bounds: config.bounds_checks == crate::BoundsChecks::Explicit,
        fuel: config.fuel,
        epoch: config.epoch_interruption,
        libcall_conv: isa.default_call_conv(),
        simd: supports_simd(isa),
        frontend: isa.frontend_config(),
    }
}

/// Whether `isa` can compile v128 code: x86_64 always (`build_isa` enables SSE4.1),
/// riscv64 only with the V extension enabled.
fn supports_simd(isa: &dyn isa::TargetIsa) -> bool {
    match isa.triple().architecture {
        target_lexicon::Architecture::X86_64 => true,
        target_lexicon::Architecture::Riscv64(_) => isa
            .isa_flags()
            .iter()
            .any(|f| f.name == "has_v" && f.as_bool() == Some(true)),
        _ => false,
    }
}

/// The engine's name for a relocation Cranelift emitted (None: one it never places).
fn reloc_kind(r: Reloc) -> Option<RelocKind> {
    Some(match r {
        Reloc::X86CallPCRel4 => RelocKind::X86CallPCRel4,
        Reloc::X86PCRel4 => RelocKind::X86PCRel4,
        Reloc::Abs8 => RelocKind::Abs8,
        Reloc::RiscvCallPlt => RelocKind::RiscvCallPlt,
        _ => return None,
    })
}

fn finish(
    isa: &dyn isa::TargetIsa,
    func: Function,
    offset: Option<usize>,
) -> Result<CompiledFunction, Error> {
    let names = func.params.user_named_funcs().clone();
    let mut ctx = Context::for_function(func);
    let code = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| Error::compile(offset, format!("code generation failed: {:?}", e.inner)))?;
    let mut relocs = Vec::new();
    for r in code.buffer.relocs() {
        match &r.target {
            FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => {
                let name = &names[*name];
                let target = match name.namespace {
                    translate::FUNC_NAMESPACE => RelocTarget::Func(name.index),
                    translate::LIBCALL_NAMESPACE => RelocTarget::Libcall(name.index),
                    translate::SIG_ID_NAMESPACE => RelocTarget::SigId(name.index),
                    n => {
                        return Err(Error::compile(
                            offset,
                            format!("relocation to unknown namespace {n}"),
                        ));
                    }
                };
                relocs.push(FuncReloc {
                    offset: r.offset,
                    kind: reloc_kind(r.kind).ok_or_else(|| {
                        Error::compile(offset, format!("unsupported relocation {:?}", r.kind))
                    })?,
                    target,
                    addend: r.addend,
                });
            }
            other => {
                return Err(Error::compile(
                    offset,
                    format!("unsupported relocation to {other:?}"),
                ));
            }
        }
    }
    let mut traps = Vec::new();
    for t in code.buffer.traps() {
        let raw = t.code.as_raw().get();
        if trap_kind(raw).is_some() {
            traps.push((t.offset, raw));
        }
    }
    let srclocs = code
        .buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default())
        .map(|s| (s.start, s.end, s.loc.bits()))
        .collect();
    Ok(CompiledFunction {
        code: code.code_buffer().to_vec(),
        relocs,
        traps,
        srclocs,
    })
}

/// Translates and compiles one function body. Independent of every other function, so
/// bodies can be compiled in any order or in parallel.
pub(crate) fn compile_function(
    engine: &Engine,
    info: &ModuleInfo,
    body: &FunctionBody<'_>,
) -> Result<CompiledFunction, Error> {
    let isa = engine.isa();
    let opts = translate_options(engine.config(), isa);
    let mut fctx = FunctionBuilderContext::new();
    let func = translate::translate_function(info, opts, body, &mut fctx)?;
    finish(isa, func, Some(body.body.range().start as usize))
}

/// Compiles a trampoline with signature `sig`: `body` gets a builder positioned in the
/// entry block and the function's parameters, and emits everything up to the return.
fn trampoline(
    isa: &dyn isa::TargetIsa,
    name: u32,
    sig: Signature,
    body: impl FnOnce(&mut FunctionBuilder<'_>, &[ir::Value]),
) -> Result<CompiledFunction, Error> {
    let mut func = Function::with_name_signature(UserFuncName::user(name, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let params = b.block_params(block).to_vec();
    body(&mut b, &params);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    finish(isa, func, None)
}

/// A platform C ABI signature with `n` 64-bit integer parameters and optional `returns`.
fn c_signature(isa: &dyn isa::TargetIsa, n: usize, returns: Option<types::Type>) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.resize(n, AbiParam::new(types::I64));
    sig.returns.extend(returns.map(AbiParam::new));
    sig
}

/// A 16-byte-aligned stack slot of `bytes` and its address.
fn stack_buffer(b: &mut FunctionBuilder<'_>, bytes: usize) -> ir::Value {
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        bytes as u32,
        4,
    ));
    b.ins().stack_addr(types::I64, slot, 0)
}

/// Calls a host function through `call` (which returns non-zero for an error), traps
/// with `HOST_ERROR` on error, and returns `ty`'s results read from `values`.
fn call_host_and_return(
    b: &mut FunctionBuilder<'_>,
    call: ir::Inst,
    ty: &FuncType,
    values: ir::Value,
) {
    let failed = b.inst_results(call)[0];
    b.ins().trapnz(failed, codes::HOST_ERROR);
    let results: Vec<_> = ty
        .results()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            b.ins().load(
                clif_type(*t),
                MemFlagsData::trusted(),
                values,
                (i * 16) as i32,
            )
        })
        .collect();
    b.ins().return_(&results);
}

/// The trampoline of `kind` for functions of type `ty`.
pub(crate) fn trampoline_of(
    isa: &dyn isa::TargetIsa,
    kind: TrampolineKind,
    ty: &FuncType,
) -> Result<CompiledFunction, Error> {
    match kind {
        TrampolineKind::Entry => entry_trampoline(isa, ty),
        TrampolineKind::HostArray => host_trampoline(isa, ty),
        TrampolineKind::HostNative => native_host_trampoline(isa, ty),
    }
}

/// Array → Wasm trampoline for `ty`, with the platform C ABI:
/// `(callee_code, callee_vmctx, caller_vmctx, values: *mut u128)`. Arguments are read from
/// `values` and results written back to it.
pub(crate) fn entry_trampoline(
    isa: &dyn isa::TargetIsa,
    ty: &FuncType,
) -> Result<CompiledFunction, Error> {
    trampoline(isa, 1, c_signature(isa, 4, None), |b, p| {
        let (code, callee_vmctx, caller_vmctx, values) = (p[0], p[1], p[2], p[3]);
        let mut args = alloc::vec![callee_vmctx, caller_vmctx];
        let flags = MemFlagsData::trusted();
        for (i, t) in ty.params().iter().enumerate() {
            args.push(b.ins().load(clif_type(*t), flags, values, (i * 16) as i32));
        }
        let wsig = b.import_signature(wasm_signature(ty));
        let call = b.ins().call_indirect(wsig, code, &args);
        let results = b.inst_results(call).to_vec();
        for (i, r) in results.iter().enumerate() {
            b.ins().store(flags, *r, values, (i * 16) as i32);
        }
        b.ins().return_(&[]);
    })
}

/// Wasm → array trampoline for host functions of type `ty`. Its callee vmctx is a host
/// function context whose first word is the shim
/// `extern "C" fn(ctx, caller_vmctx, values: *mut u128, len) -> u32` (non-zero = error).
pub(crate) fn host_trampoline(
    isa: &dyn isa::TargetIsa,
    ty: &FuncType,
) -> Result<CompiledFunction, Error> {
    trampoline(isa, 2, wasm_signature(ty), |b, p| {
        let len = ty.params().len().max(ty.results().len()).max(1);
        let values = stack_buffer(b, len * 16);
        let flags = MemFlagsData::trusted();
        for (i, v) in p[2..].iter().enumerate() {
            b.ins().store(flags, *v, values, (i * 16) as i32);
        }
        let hsig = b.import_signature(c_signature(isa, 4, Some(types::I32)));
        let shim = b.ins().load(types::I64, flags, p[0], 0);
        let n = b.ins().iconst(types::I64, len as i64);
        let call = b.ins().call_indirect(hsig, shim, &[p[0], p[1], values, n]);
        call_host_and_return(b, call, ty, values);
    })
}

/// Wasm → native trampoline for typed host functions of type `ty` (no `v128`, at most
/// one result; see `func::NativeHostFn`). Its callee vmctx is a host function context
/// whose second word is the function
/// `extern "C" fn(ctx, caller_vmctx, out: *mut u128, params..) -> u32` (non-zero = error).
/// Integer-like parameters travel as 64-bit values (`i32` zero-extended), so the callee
/// never depends on how the platform ABI extends narrow integers; the result comes back
/// through `out` (null when there is none).
pub(crate) fn native_host_trampoline(
    isa: &dyn isa::TargetIsa,
    ty: &FuncType,
) -> Result<CompiledFunction, Error> {
    trampoline(isa, 3, wasm_signature(ty), |b, p| {
        let out = if ty.results().is_empty() {
            b.ins().iconst(types::I64, 0)
        } else {
            stack_buffer(b, 16)
        };
        let mut hsig = c_signature(isa, 3, Some(types::I32));
        let mut args = alloc::vec![p[0], p[1], out];
        for (v, t) in p[2..].iter().zip(ty.params()) {
            let native = native_type(*t);
            hsig.params.push(AbiParam::new(native));
            args.push(if clif_type(*t) == native {
                *v
            } else {
                b.ins().uextend(native, *v)
            });
        }
        let hsig = b.import_signature(hsig);
        let target = b.ins().load(types::I64, MemFlagsData::trusted(), p[0], 8);
        let call = b.ins().call_indirect(hsig, target, &args);
        call_host_and_return(b, call, ty, out);
    })
}

/// How a value of type `t` is passed to a native host function.
fn native_type(t: ValType) -> types::Type {
    match t {
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        _ => types::I64,
    }
}
