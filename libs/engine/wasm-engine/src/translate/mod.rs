//! Wasm function bodies → Cranelift IR, with `cranelift-frontend`.
//!
//! Split by job, as wasmtime splits `code_translator` from `func_environ`: this file
//! sets up a function and dispatches each operator; [`control`] handles structured
//! control flow and calls, [`operators`] the plain operators on values, [`environ`] the
//! environment (globals, heaps, tables, libcalls, traps, fuel, epochs), [`exceptions`]
//! exception handling, [`simd`] the vector operators and [`relaxed_simd`] the relaxed
//! ones.
//!
//! Calling convention of every Wasm function (CallConv::Tail):
//! `(callee_vmctx, caller_vmctx, params...) -> results`.
//!
//! Fuel cost model: every operator executed costs one unit, and entering a function one
//! more; an `end` is executed only when control falls through it (a branch past it
//! does not pay for it). Consumed fuel is charged to the store
//! (and checked) at function entry, at every control-flow operator (`block`, `loop`, `if`,
//! `else`, `end`, `br*`, `return`) and before every call. Epoch deadlines are checked at
//! function entry and at every loop header.

mod control;
mod environ;
mod exceptions;
mod operators;
mod relaxed_simd;
pub(crate) mod simd;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Function, GlobalValueData, InstBuilder, MemFlagsData,
    Signature, SourceLoc, TrapCode, Type, UserFuncName, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::Operator;

use crate::Error;
use crate::module::{FunctionBody, ModuleInfo};
use crate::runtime::vmcontext::*;
use crate::types::{FuncType, ValType};
use control::{Control, Kind};

/// Wasm trap codes that Cranelift does not define.
pub(crate) mod codes {
    use crate::code::trap_codes as raw;
    use cranelift_codegen::ir::TrapCode;
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(raw::UNREACHABLE);
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(raw::TABLE_OUT_OF_BOUNDS);
    pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(raw::INDIRECT_CALL_TO_NULL);
    pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(raw::BAD_SIGNATURE);
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(raw::NULL_REFERENCE);
    pub const UNDEFINED_ELEMENT: TrapCode = TrapCode::unwrap_user(raw::UNDEFINED_ELEMENT);
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(raw::OUT_OF_FUEL);
    pub const INTERRUPTED: TrapCode = TrapCode::unwrap_user(raw::INTERRUPTED);
    pub const HOST_ERROR: TrapCode = TrapCode::unwrap_user(raw::HOST_ERROR);

    #[cfg(test)]
    mod tests {
        use super::raw;
        use cranelift_codegen::ir::TrapCode;

        #[test]
        fn the_engines_trap_code_bytes_are_cranelifts() {
            for (ours, theirs) in [
                (raw::STACK_OVERFLOW, TrapCode::STACK_OVERFLOW),
                (raw::INTEGER_OVERFLOW, TrapCode::INTEGER_OVERFLOW),
                (raw::HEAP_OUT_OF_BOUNDS, TrapCode::HEAP_OUT_OF_BOUNDS),
                (
                    raw::INTEGER_DIVISION_BY_ZERO,
                    TrapCode::INTEGER_DIVISION_BY_ZERO,
                ),
                (
                    raw::BAD_CONVERSION_TO_INTEGER,
                    TrapCode::BAD_CONVERSION_TO_INTEGER,
                ),
                (raw::HOST_ERROR, super::HOST_ERROR),
            ] {
                assert_eq!(ours, theirs.as_raw().get(), "{theirs:?}");
            }
        }
    }
}

/// Relocation namespaces of compiled code: functions of the module (by index),
/// runtime functions (by [`Libcall`](crate::runtime::libcalls::Libcall) index), and engine-wide signature ids (by type index).
pub(crate) const FUNC_NAMESPACE: u32 = 0;
pub(crate) const LIBCALL_NAMESPACE: u32 = 1;
pub(crate) const SIG_ID_NAMESPACE: u32 = 2;

/// Code-generation options that affect translation.
#[derive(Clone, Copy)]
pub(crate) struct TranslateOptions {
    /// Bytes of inaccessible guard after the 4 GiB reservation; 0 = explicit bounds checks.
    pub guard_size: u64,
    pub explicit_bounds: bool,
    pub fuel: bool,
    pub epoch: bool,
    /// The platform C calling convention, for libcalls.
    pub libcall_conv: CallConv,
    /// The target can run v128 code (x86_64 with SSE4.1, riscv64 with V).
    pub simd: bool,
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
}

pub(crate) fn clif_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The CLIF signature of a Wasm function type.
pub(crate) fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Trusted loads from VM structures.
fn vmflags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Loads of VM fields that never change while the instance lives: the definition
/// pointers in the vmctx, a memory's base (memories never move: `runtime::memory`
/// reserves their maximum up front and grows in place) and imported functions' code and
/// vmctx. Pure for the e-graph, so GVN merges them and loop-invariant code motion hoists
/// them out of loops.
fn constflags() -> MemFlagsData {
    vmflags().with_readonly().with_can_move()
}

fn heap_flags() -> MemFlagsData {
    MemFlagsData::new().with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

struct Translator<'a, 'f> {
    b: FunctionBuilder<'f>,
    info: &'a ModuleInfo,
    opts: TranslateOptions,
    stack: Vec<Value>,
    controls: Vec<Control>,
    locals: Vec<Variable>,
    reachable: bool,
    unreachable_depth: u32,
    vmctx: Value,
    limits: Value,
    fuel_pending: i64,
    sigs: BTreeMap<u32, ir::SigRef>,
    libcalls: BTreeMap<u32, ir::FuncRef>,
    sig_id_values: BTreeMap<u32, ir::GlobalValue>,
    funcs: BTreeMap<u32, ir::FuncRef>,
    /// The enclosing `try_table`s, innermost last.
    handlers: Vec<exceptions::Handler>,
}

/// Translates one function body into CLIF.
pub(crate) fn translate_function(
    info: &ModuleInfo,
    opts: TranslateOptions,
    body: &FunctionBody<'_>,
    ctx: &mut FunctionBuilderContext,
) -> Result<Function, Error> {
    let ty = info.func_type(body.index);
    let sig = wasm_signature(ty);
    let mut func = Function::with_name_signature(UserFuncName::user(0, body.index), sig);
    let base = body.body.range().start as usize;

    // Stack limit: vmctx -> limits -> stack_limit.
    let gv_flags = func.dfg.mem_flags.insert_unchecked(vmflags());
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let limits_gv = func.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: VMCTX_LIMITS.into(),
        global_type: types::I64,
        flags: gv_flags,
    });
    let stack_limit_gv = func.create_global_value(GlobalValueData::Load {
        base: limits_gv,
        offset: LIMITS_STACK_LIMIT.into(),
        global_type: types::I64,
        flags: gv_flags,
    });
    func.stack_limit = Some(stack_limit_gv);

    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.set_srcloc(SourceLoc::new(base as u32));
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];
    let limits = b.ins().load(types::I64, vmflags(), vmctx, VMCTX_LIMITS);

    let mut locals = Vec::new();
    for (i, p) in ty.params().iter().enumerate() {
        if *p == ValType::V128 && !opts.simd {
            return Err(simd::reject_v128(base));
        }
        let var = b.declare_var(clif_type(*p));
        b.def_var(var, params[i + 2]);
        locals.push(var);
    }
    let mut reader = body.body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let offset = reader.original_position() as usize;
        let (count, ty) = reader.read()?;
        let ty = ValType::from_wasm(ty, &|i| info.sig_ids[i as usize])
            .ok_or_else(|| Error::compile(Some(offset), "unsupported local type"))?;
        if ty == ValType::V128 && !opts.simd {
            return Err(simd::reject_v128(offset));
        }
        let cty = clif_type(ty);
        for _ in 0..count {
            let var = b.declare_var(cty);
            let zero = match ty {
                ValType::F32 => b.ins().f32const(0.0),
                ValType::F64 => b.ins().f64const(0.0),
                ValType::V128 => simd::zero_v128(&mut b),
                _ => b.ins().iconst(cty, 0),
            };
            b.def_var(var, zero);
            locals.push(var);
        }
    }

    let exit = b.create_block();
    for r in ty.results() {
        if *r == ValType::V128 && !opts.simd {
            return Err(simd::reject_v128(base));
        }
        b.append_block_param(exit, clif_type(*r));
    }

    let mut t = Translator {
        b,
        info,
        opts,
        stack: Vec::new(),
        controls: Vec::new(),
        locals,
        reachable: true,
        unreachable_depth: 0,
        vmctx,
        limits,
        fuel_pending: 0,
        sigs: BTreeMap::new(),
        libcalls: BTreeMap::new(),
        sig_id_values: BTreeMap::new(),
        funcs: BTreeMap::new(),
        handlers: Vec::new(),
    };
    t.controls.push(Control {
        kind: Kind::Function,
        dest: exit,
        header: None,
        height: 0,
        nparams: 0,
        nresults: ty.results().len(),
        dest_reachable: false,
    });
    t.fuel_pending = 1;
    t.flush_fuel();
    t.check_epoch();

    let mut ops = body.body.get_operators_reader()?;
    while !ops.eof() {
        let offset = ops.original_position() as usize;
        let op = ops.read()?;
        t.b.set_srcloc(SourceLoc::new(offset as u32));
        t.operator(&op, offset)?;
    }
    t.b.seal_all_blocks();
    t.b.finalize(opts.frontend);
    Ok(func)
}

impl Translator<'_, '_> {
    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }
    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// One operator, by job: control flow ([`control`]), plain operators on values
    /// ([`operators`]), the environment's globals, heaps and tables ([`environ`]), SIMD
    /// ([`simd`]).
    fn operator(&mut self, op: &Operator<'_>, offset: usize) -> Result<(), Error> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        self.fuel_pending += 1;
        if self.control_operator(op, offset)?
            || self.plain_operator(op)?
            || self.environ_operator(op)?
        {
            return Ok(());
        }
        self.simd_operator(op, offset)
    }
}
