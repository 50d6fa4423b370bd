//! Wasm function bodies → Cranelift IR, with `cranelift-frontend`.
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

pub(crate) mod simd;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Block, BlockArg, ExtFuncData, ExternalName, Function,
    GlobalValueData, InstBuilder, JumpTableData, MemFlagsData, Signature, SourceLoc, TrapCode,
    Type, UserExternalName, UserFuncName, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{BlockType, Operator};

use crate::Error;
use crate::module::{FunctionBody, ModuleInfo};
use crate::runtime::libcalls::Libcall;
use crate::runtime::vmcontext::*;
use crate::types::{FuncType, ValType};

/// Wasm trap codes that Cranelift does not define.
pub(crate) mod codes {
    use cranelift_codegen::ir::TrapCode;
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
    pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(3);
    pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(4);
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(5);
    pub const UNDEFINED_ELEMENT: TrapCode = TrapCode::unwrap_user(6);
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(7);
    pub const INTERRUPTED: TrapCode = TrapCode::unwrap_user(8);
    pub const HOST_ERROR: TrapCode = TrapCode::unwrap_user(9);
}

/// Relocation namespaces of compiled code: functions of the module (by index),
/// runtime functions (by [`Libcall`] index), and engine-wide signature ids (by type index).
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
        ValType::FuncRef | ValType::ExternRef => types::I64,
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

fn block_args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|v| BlockArg::Value(*v)).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Function,
    Block,
    Loop,
    If { else_block: Block, else_seen: bool },
}

struct Control {
    kind: Kind,
    /// Continuation (takes the results).
    dest: Block,
    /// Loop header (takes the params); branch target for loops.
    header: Option<Block>,
    height: usize,
    nparams: usize,
    nresults: usize,
    dest_reachable: bool,
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
        let ty = ValType::from_wasm(ty)
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

    fn block_sig(&self, ty: BlockType) -> (Vec<Type>, Vec<Type>) {
        match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (
                Vec::new(),
                alloc::vec![ValType::from_wasm(t).map_or(types::I64, clif_type)],
            ),
            BlockType::FuncType(i) => {
                let f = &self.info.types[i as usize];
                (
                    f.params().iter().map(|t| clif_type(*t)).collect(),
                    f.results().iter().map(|t| clif_type(*t)).collect(),
                )
            }
        }
    }

    fn new_block_with(&mut self, tys: &[Type]) -> Block {
        let block = self.b.create_block();
        for t in tys {
            self.b.append_block_param(block, *t);
        }
        block
    }

    fn flush_fuel(&mut self) {
        if !self.opts.fuel || self.fuel_pending == 0 {
            return;
        }
        let pending = core::mem::take(&mut self.fuel_pending);
        let fuel = self
            .b
            .ins()
            .load(types::I64, vmflags(), self.limits, LIMITS_FUEL);
        let fuel = self.b.ins().iadd_imm_s(fuel, -pending);
        self.b
            .ins()
            .store(vmflags(), fuel, self.limits, LIMITS_FUEL);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, fuel, 0);
        self.b.ins().trapnz(neg, codes::OUT_OF_FUEL);
    }

    fn check_epoch(&mut self) {
        if !self.opts.epoch {
            return;
        }
        let ptr = self
            .b
            .ins()
            .load(types::I64, vmflags(), self.limits, LIMITS_EPOCH_PTR);
        // Atomic, so that the load is never merged with an earlier one (the epoch
        // changes under our feet, from another thread).
        let now = self
            .b
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), ptr);
        let deadline = self
            .b
            .ins()
            .load(types::I64, vmflags(), self.limits, LIMITS_EPOCH_DEADLINE);
        let past = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, now, deadline);
        // Past the deadline, the store's epoch callback decides: continue with a new
        // deadline (after yielding, say) or interrupt.
        let expired = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(expired);
        self.b.ins().brif(past, expired, &[], cont, &[]);
        self.b.switch_to_block(expired);
        let vmctx = self.vmctx;
        self.trapping_libcall(Libcall::EpochExpired, &[vmctx], codes::INTERRUPTED);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Branch target of the frame `depth` levels out: (block, arity).
    fn br_target(&self, depth: u32) -> (Block, usize) {
        let c = &self.controls[self.controls.len() - 1 - depth as usize];
        match c.header {
            Some(h) => (h, c.nparams),
            None => (c.dest, c.nresults),
        }
    }

    fn mark_br(&mut self, depth: u32) {
        let n = self.controls.len() - 1 - depth as usize;
        if self.controls[n].header.is_none() {
            self.controls[n].dest_reachable = true;
        }
    }

    fn operator(&mut self, op: &Operator<'_>, offset: usize) -> Result<(), Error> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        self.fuel_pending += 1;
        match *op {
            // ---- control ----
            Operator::Nop => {}
            Operator::Unreachable => {
                self.raise(codes::UNREACHABLE);
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                self.flush_fuel();
                let (params, results) = self.block_sig(blockty);
                let dest = self.new_block_with(&results);
                self.controls.push(Control {
                    kind: Kind::Block,
                    dest,
                    header: None,
                    height: self.stack.len() - params.len(),
                    nparams: params.len(),
                    nresults: results.len(),
                    dest_reachable: false,
                });
            }
            Operator::Loop { blockty } => {
                self.flush_fuel();
                let (params, results) = self.block_sig(blockty);
                let header = self.new_block_with(&params);
                let dest = self.new_block_with(&results);
                let args = block_args(self.peekn(params.len()));
                self.b.ins().jump(header, &args);
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                self.b.switch_to_block(header);
                self.stack.extend_from_slice(self.b.block_params(header));
                self.controls.push(Control {
                    kind: Kind::Loop,
                    dest,
                    header: Some(header),
                    height,
                    nparams: params.len(),
                    nresults: results.len(),
                    dest_reachable: false,
                });
                self.check_epoch();
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                self.flush_fuel();
                let (params, results) = self.block_sig(blockty);
                let then_block = self.b.create_block();
                let else_block = self.new_block_with(&params);
                let dest = self.new_block_with(&results);
                let args = block_args(self.peekn(params.len()));
                self.b.ins().brif(cond, then_block, &[], else_block, &args);
                self.b.switch_to_block(then_block);
                self.controls.push(Control {
                    kind: Kind::If {
                        else_block,
                        else_seen: false,
                    },
                    dest,
                    header: None,
                    height: self.stack.len() - params.len(),
                    nparams: params.len(),
                    nresults: results.len(),
                    dest_reachable: false,
                });
            }
            Operator::Else => {
                self.flush_fuel();
                self.do_else();
            }
            Operator::End => {
                self.flush_fuel();
                self.do_end();
            }
            Operator::Br { relative_depth } => {
                self.flush_fuel();
                let (block, n) = self.br_target(relative_depth);
                let args = block_args(self.peekn(n));
                self.b.ins().jump(block, &args);
                self.mark_br(relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                self.flush_fuel();
                let (block, n) = self.br_target(relative_depth);
                let args = block_args(self.peekn(n));
                let next = self.b.create_block();
                self.b.ins().brif(cond, block, &args, next, &[]);
                self.mark_br(relative_depth);
                self.b.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                self.flush_fuel();
                let default = targets.default();
                let (_, n) = self.br_target(default);
                let args = block_args(self.peekn(n));
                let mut calls = Vec::new();
                for depth in targets.targets() {
                    let depth = depth?;
                    let (block, _) = self.br_target(depth);
                    calls.push(self.b.func.dfg.block_call(block, &args));
                    self.mark_br(depth);
                }
                let (dblock, _) = self.br_target(default);
                let dcall = self.b.func.dfg.block_call(dblock, &args);
                self.mark_br(default);
                let jt = self.b.create_jump_table(JumpTableData::new(dcall, &calls));
                self.b.ins().br_table(index, jt);
                self.reachable = false;
            }
            Operator::Return => {
                self.flush_fuel();
                let n = self.controls[0].nresults;
                let vals = self.peekn(n).to_vec();
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
            Operator::Call { function_index } => {
                self.flush_fuel();
                self.call(function_index)?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                self.flush_fuel();
                self.call_indirect(type_index, table_index);
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let (x, y, c) = self.pop3();
                let v = self.b.ins().select(c, x, y);
                self.push(v);
            }
            Operator::TypedSelectMulti { .. } => {
                return Err(Error::compile(
                    Some(offset),
                    "unsupported: multi-value select",
                ));
            }

            // ---- variables ----
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize], v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.b.def_var(self.locals[local_index as usize], v);
            }
            Operator::GlobalGet { global_index } => {
                let ty = clif_type(self.info.globals[global_index as usize].0.content());
                let off = self.info.offsets().global(global_index);
                let ptr = self.b.ins().load(types::I64, vmflags(), self.vmctx, off);
                let v = self.b.ins().load(ty, vmflags(), ptr, 0);
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop();
                let off = self.info.offsets().global(global_index);
                let ptr = self.b.ins().load(types::I64, vmflags(), self.vmctx, off);
                self.b.ins().store(vmflags(), v, ptr, 0);
            }

            // ---- memory ----
            Operator::I32Load { memarg } => self.load(types::I32, LoadKind::Plain, &memarg, 4),
            Operator::I64Load { memarg } => self.load(types::I64, LoadKind::Plain, &memarg, 8),
            Operator::F32Load { memarg } => self.load(types::F32, LoadKind::Plain, &memarg, 4),
            Operator::F64Load { memarg } => self.load(types::F64, LoadKind::Plain, &memarg, 8),
            Operator::I32Load8S { memarg } => self.load(types::I32, LoadKind::S8, &memarg, 1),
            Operator::I32Load8U { memarg } => self.load(types::I32, LoadKind::U8, &memarg, 1),
            Operator::I32Load16S { memarg } => self.load(types::I32, LoadKind::S16, &memarg, 2),
            Operator::I32Load16U { memarg } => self.load(types::I32, LoadKind::U16, &memarg, 2),
            Operator::I64Load8S { memarg } => self.load(types::I64, LoadKind::S8, &memarg, 1),
            Operator::I64Load8U { memarg } => self.load(types::I64, LoadKind::U8, &memarg, 1),
            Operator::I64Load16S { memarg } => self.load(types::I64, LoadKind::S16, &memarg, 2),
            Operator::I64Load16U { memarg } => self.load(types::I64, LoadKind::U16, &memarg, 2),
            Operator::I64Load32S { memarg } => self.load(types::I64, LoadKind::S32, &memarg, 4),
            Operator::I64Load32U { memarg } => self.load(types::I64, LoadKind::U32, &memarg, 4),
            Operator::I32Store { memarg }
            | Operator::I64Store { memarg }
            | Operator::F32Store { memarg }
            | Operator::F64Store { memarg } => {
                let v = self.pop();
                let size = self.b.func.dfg.value_type(v).bytes();
                self.store(v, StoreKind::Plain, &memarg, size);
            }
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                let v = self.pop();
                self.store(v, StoreKind::S8, &memarg, 1);
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                let v = self.pop();
                self.store(v, StoreKind::S16, &memarg, 2);
            }
            Operator::I64Store32 { memarg } => {
                let v = self.pop();
                self.store(v, StoreKind::S32, &memarg, 4);
            }
            Operator::MemorySize { mem } => {
                let def = self.memory_def(mem);
                let len = self.b.ins().load(types::I64, vmflags(), def, MEMORY_LENGTH);
                let pages = self.b.ins().ushr_imm_u(len, 16);
                let v = self.b.ins().ireduce(types::I32, pages);
                self.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let m = self.b.ins().iconst(types::I64, i64::from(mem));
                let delta = self.b.ins().uextend(types::I64, delta);
                let r = self.libcall(Libcall::MemoryGrow, &[self.vmctx, m, delta], true);
                let v = self.b.ins().ireduce(types::I32, r.expect("returns"));
                self.push(v);
            }
            Operator::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let args = self.ext_args(&[mem], &[dst, val, len]);
                self.trapping_libcall(Libcall::MemoryFill, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let args = self.ext_args(&[dst_mem, src_mem], &[dst, src, len]);
                self.trapping_libcall(Libcall::MemoryCopy, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
            }
            Operator::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let args = self.ext_args(&[mem, data_index], &[dst, src, len]);
                self.trapping_libcall(Libcall::MemoryInit, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
            }
            Operator::DataDrop { data_index } => {
                let args = self.ext_args(&[data_index], &[]);
                self.libcall(Libcall::DataDrop, &args, false);
            }

            // ---- tables and references ----
            Operator::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_addr(table, index, codes::TABLE_OUT_OF_BOUNDS);
                let v = self.b.ins().load(types::I64, vmflags(), addr, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let (index, val) = self.pop2();
                let addr = self.table_addr(table, index, codes::TABLE_OUT_OF_BOUNDS);
                self.b.ins().store(vmflags(), val, addr, 0);
            }
            Operator::TableSize { table } => {
                let def = self.table_def(table);
                let len = self.b.ins().load(types::I64, vmflags(), def, TABLE_LENGTH);
                let v = self.b.ins().ireduce(types::I32, len);
                self.push(v);
            }
            Operator::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.b.ins().iconst(types::I64, i64::from(table));
                let delta = self.b.ins().uextend(types::I64, delta);
                let r = self.libcall(Libcall::TableGrow, &[self.vmctx, t, init, delta], true);
                let v = self.b.ins().ireduce(types::I32, r.expect("returns"));
                self.push(v);
            }
            Operator::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let t = self.b.ins().iconst(types::I64, i64::from(table));
                let dst = self.b.ins().uextend(types::I64, dst);
                let len = self.b.ins().uextend(types::I64, len);
                self.trapping_libcall(
                    Libcall::TableFill,
                    &[self.vmctx, t, dst, val, len],
                    codes::TABLE_OUT_OF_BOUNDS,
                );
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let args = self.ext_args(&[dst_table, src_table], &[dst, src, len]);
                self.trapping_libcall(Libcall::TableCopy, &args, codes::TABLE_OUT_OF_BOUNDS);
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let args = self.ext_args(&[table, elem_index], &[dst, src, len]);
                self.trapping_libcall(Libcall::TableInit, &args, codes::TABLE_OUT_OF_BOUNDS);
            }
            Operator::ElemDrop { elem_index } => {
                let args = self.ext_args(&[elem_index], &[]);
                self.libcall(Libcall::ElemDrop, &args, false);
            }
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let v = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::RefFunc { function_index } => {
                let off = self.info.offsets().funcref(function_index);
                let v = self.b.ins().load(types::I64, vmflags(), self.vmctx, off);
                self.push(v);
            }

            // ---- constants ----
            Operator::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(value));
                self.push(v);
            }
            Operator::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            Operator::F32Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            Operator::F64Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // ---- integer ----
            Operator::I32Eqz | Operator::I64Eqz => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::I32Eq | Operator::I64Eq => self.icmp(IntCC::Equal),
            Operator::I32Ne | Operator::I64Ne => self.icmp(IntCC::NotEqual),
            Operator::I32LtS | Operator::I64LtS => self.icmp(IntCC::SignedLessThan),
            Operator::I32LtU | Operator::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            Operator::I32GtS | Operator::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            Operator::I32GtU | Operator::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            Operator::I32LeS | Operator::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            Operator::I32LeU | Operator::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            Operator::I32GeS | Operator::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            Operator::I32GeU | Operator::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            Operator::I32Clz | Operator::I64Clz => self.unop(|b, a| b.ins().clz(a)),
            Operator::I32Ctz | Operator::I64Ctz => self.unop(|b, a| b.ins().ctz(a)),
            Operator::I32Popcnt | Operator::I64Popcnt => self.unop(|b, a| b.ins().popcnt(a)),
            Operator::I32Add | Operator::I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            Operator::I32Sub | Operator::I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            Operator::I32Mul | Operator::I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            Operator::I32DivS | Operator::I64DivS => self.binop(|b, x, y| b.ins().sdiv(x, y)),
            Operator::I32DivU | Operator::I64DivU => self.binop(|b, x, y| b.ins().udiv(x, y)),
            Operator::I32RemS | Operator::I64RemS => self.binop(|b, x, y| b.ins().srem(x, y)),
            Operator::I32RemU | Operator::I64RemU => self.binop(|b, x, y| b.ins().urem(x, y)),
            Operator::I32And | Operator::I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            Operator::I32Or | Operator::I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            Operator::I32Xor | Operator::I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            Operator::I32Shl | Operator::I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            Operator::I32ShrS | Operator::I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            Operator::I32ShrU | Operator::I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            Operator::I32Rotl | Operator::I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            Operator::I32Rotr | Operator::I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),
            Operator::I32WrapI64 => self.unop(|b, a| b.ins().ireduce(types::I32, a)),
            Operator::I64ExtendI32S => self.unop(|b, a| b.ins().sextend(types::I64, a)),
            Operator::I64ExtendI32U => self.unop(|b, a| b.ins().uextend(types::I64, a)),
            Operator::I32Extend8S => self.sext_in(types::I8),
            Operator::I32Extend16S => self.sext_in(types::I16),
            Operator::I64Extend8S => self.sext_in(types::I8),
            Operator::I64Extend16S => self.sext_in(types::I16),
            Operator::I64Extend32S => self.sext_in(types::I32),

            // ---- float ----
            Operator::F32Eq | Operator::F64Eq => self.fcmp(FloatCC::Equal),
            Operator::F32Ne | Operator::F64Ne => self.fcmp(FloatCC::NotEqual),
            Operator::F32Lt | Operator::F64Lt => self.fcmp(FloatCC::LessThan),
            Operator::F32Gt | Operator::F64Gt => self.fcmp(FloatCC::GreaterThan),
            Operator::F32Le | Operator::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            Operator::F32Ge | Operator::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            Operator::F32Abs | Operator::F64Abs => self.unop(|b, a| b.ins().fabs(a)),
            Operator::F32Neg | Operator::F64Neg => self.unop(|b, a| b.ins().fneg(a)),
            Operator::F32Ceil | Operator::F64Ceil => self.unop(|b, a| b.ins().ceil(a)),
            Operator::F32Floor | Operator::F64Floor => self.unop(|b, a| b.ins().floor(a)),
            Operator::F32Trunc | Operator::F64Trunc => self.unop(|b, a| b.ins().trunc(a)),
            Operator::F32Nearest | Operator::F64Nearest => self.unop(|b, a| b.ins().nearest(a)),
            Operator::F32Sqrt | Operator::F64Sqrt => self.unop(|b, a| b.ins().sqrt(a)),
            Operator::F32Add | Operator::F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            Operator::F32Sub | Operator::F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            Operator::F32Mul | Operator::F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            Operator::F32Div | Operator::F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            Operator::F32Min | Operator::F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            Operator::F32Max | Operator::F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            Operator::F32Copysign | Operator::F64Copysign => {
                self.binop(|b, x, y| b.ins().fcopysign(x, y))
            }
            Operator::I32TruncF32S | Operator::I32TruncF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint(types::I32, a))
            }
            Operator::I32TruncF32U | Operator::I32TruncF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint(types::I32, a))
            }
            Operator::I64TruncF32S | Operator::I64TruncF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint(types::I64, a))
            }
            Operator::I64TruncF32U | Operator::I64TruncF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint(types::I64, a))
            }
            Operator::I32TruncSatF32S | Operator::I32TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a))
            }
            Operator::I32TruncSatF32U | Operator::I32TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a))
            }
            Operator::I64TruncSatF32S | Operator::I64TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a))
            }
            Operator::I64TruncSatF32U | Operator::I64TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a))
            }
            Operator::F32ConvertI32S | Operator::F32ConvertI64S => {
                self.unop(|b, a| b.ins().fcvt_from_sint(types::F32, a))
            }
            Operator::F32ConvertI32U | Operator::F32ConvertI64U => {
                self.unop(|b, a| b.ins().fcvt_from_uint(types::F32, a))
            }
            Operator::F64ConvertI32S | Operator::F64ConvertI64S => {
                self.unop(|b, a| b.ins().fcvt_from_sint(types::F64, a))
            }
            Operator::F64ConvertI32U | Operator::F64ConvertI64U => {
                self.unop(|b, a| b.ins().fcvt_from_uint(types::F64, a))
            }
            Operator::F32DemoteF64 => self.unop(|b, a| b.ins().fdemote(types::F32, a)),
            Operator::F64PromoteF32 => self.unop(|b, a| b.ins().fpromote(types::F64, a)),
            Operator::I32ReinterpretF32 => {
                self.unop(|b, a| b.ins().bitcast(types::I32, MemFlagsData::new(), a))
            }
            Operator::I64ReinterpretF64 => {
                self.unop(|b, a| b.ins().bitcast(types::I64, MemFlagsData::new(), a))
            }
            Operator::F32ReinterpretI32 => {
                self.unop(|b, a| b.ins().bitcast(types::F32, MemFlagsData::new(), a))
            }
            Operator::F64ReinterpretI64 => {
                self.unop(|b, a| b.ins().bitcast(types::F64, MemFlagsData::new(), a))
            }
            ref other => return self.simd_operator(other, offset),
        }
        Ok(())
    }

    fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.do_else(),
            Operator::End if self.unreachable_depth == 0 => self.do_end(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn do_else(&mut self) {
        let top = self.controls.len() - 1;
        let c = &self.controls[top];
        let Kind::If { else_block, .. } = c.kind else {
            unreachable!("validated: else without if")
        };
        let (dest, height, nresults) = (c.dest, c.height, c.nresults);
        if self.reachable {
            let args = block_args(self.peekn(nresults));
            self.b.ins().jump(dest, &args);
            self.controls[top].dest_reachable = true;
        }
        self.controls[top].kind = Kind::If {
            else_block,
            else_seen: true,
        };
        self.stack.truncate(height);
        self.b.switch_to_block(else_block);
        self.stack
            .extend_from_slice(self.b.block_params(else_block));
        self.reachable = true;
    }

    fn do_end(&mut self) {
        let mut c = self.controls.pop().expect("validated: end without frame");
        if self.reachable {
            let args = block_args(self.peekn(c.nresults));
            self.b.ins().jump(c.dest, &args);
            c.dest_reachable = true;
        }
        if let Kind::If {
            else_block,
            else_seen: false,
        } = c.kind
        {
            // No else: the params flow straight to the results.
            self.b.switch_to_block(else_block);
            let params = block_args(self.b.block_params(else_block));
            self.b.ins().jump(c.dest, &params);
            c.dest_reachable = true;
        }
        self.stack.truncate(c.height);
        self.reachable = c.dest_reachable;
        if c.dest_reachable {
            self.b.switch_to_block(c.dest);
            self.stack.extend_from_slice(self.b.block_params(c.dest));
        }
        if c.kind == Kind::Function && c.dest_reachable {
            let vals = self.stack.split_off(c.height);
            self.b.ins().return_(&vals);
            self.reachable = false;
        }
    }

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value) {
        let (x, y) = self.pop2();
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().icmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().fcmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn sext_in(&mut self, narrow: Type) {
        let a = self.pop();
        let ty = self.b.func.dfg.value_type(a);
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(ty, n);
        self.push(v);
    }

    fn memory_def(&mut self, mem: u32) -> Value {
        let off = self.info.offsets().memory(mem);
        self.b.ins().load(types::I64, constflags(), self.vmctx, off)
    }

    /// Native address of a `size`-byte access at `addr + offset`, with a bounds check
    /// unless the guard region covers it.
    fn heap_addr(&mut self, mem: u32, addr: Value, offset: u64, size: u32) -> Value {
        let def = self.memory_def(mem);
        let base = self
            .b
            .ins()
            .load(types::I64, constflags(), def, MEMORY_BASE);
        let addr = self.b.ins().uextend(types::I64, addr);
        let end = offset + u64::from(size);
        if self.opts.explicit_bounds || end > self.opts.guard_size {
            let len = self.b.ins().load(types::I64, vmflags(), def, MEMORY_LENGTH);
            let last = self.b.ins().iadd_imm_s(addr, end as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
            self.trap_if(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let p = self.b.ins().iadd(base, addr);
        if offset == 0 {
            p
        } else {
            self.b.ins().iadd_imm_s(p, offset as i64)
        }
    }

    fn load(&mut self, ty: Type, kind: LoadKind, memarg: &wasmparser::MemArg, size: u32) {
        let addr = self.pop();
        let p = self.heap_addr(mem_index(memarg), addr, memarg.offset, size);
        let f = heap_flags();
        let ins = self.b.ins();
        let v = match kind {
            LoadKind::Plain => ins.load(ty, f, p, 0),
            LoadKind::S8 => ins.sload8(ty, f, p, 0),
            LoadKind::U8 => ins.uload8(ty, f, p, 0),
            LoadKind::S16 => ins.sload16(ty, f, p, 0),
            LoadKind::U16 => ins.uload16(ty, f, p, 0),
            LoadKind::S32 => ins.sload32(f, p, 0),
            LoadKind::U32 => ins.uload32(f, p, 0),
        };
        self.push(v);
    }

    fn store(&mut self, v: Value, kind: StoreKind, memarg: &wasmparser::MemArg, size: u32) {
        let addr = self.pop();
        let p = self.heap_addr(mem_index(memarg), addr, memarg.offset, size);
        let f = heap_flags();
        let ins = self.b.ins();
        match kind {
            StoreKind::Plain => ins.store(f, v, p, 0),
            StoreKind::S8 => ins.istore8(f, v, p, 0),
            StoreKind::S16 => ins.istore16(f, v, p, 0),
            StoreKind::S32 => ins.istore32(f, v, p, 0),
        };
    }

    fn table_def(&mut self, table: u32) -> Value {
        let off = self.info.offsets().table(table);
        self.b.ins().load(types::I64, constflags(), self.vmctx, off)
    }

    /// Address of element `index` (i32) of `table`, trapping with `code` when out of bounds.
    fn table_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let def = self.table_def(table);
        let len = self.b.ins().load(types::I64, vmflags(), def, TABLE_LENGTH);
        let index = self.b.ins().uextend(types::I64, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, code);
        let base = self.b.ins().load(types::I64, vmflags(), def, TABLE_BASE);
        let off = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(base, off)
    }

    /// `[vmctx, consts as i64.., vals zero-extended to i64..]`.
    fn ext_args(&mut self, consts: &[u32], vals: &[Value]) -> Vec<Value> {
        let mut args = alloc::vec![self.vmctx];
        for c in consts {
            args.push(self.b.ins().iconst(types::I64, i64::from(*c)));
        }
        for v in vals {
            let v = if self.b.func.dfg.value_type(*v) == types::I64 {
                *v
            } else {
                self.b.ins().uextend(types::I64, *v)
            };
            args.push(v);
        }
        args
    }

    /// Calls a runtime function (C ABI, all i64), named by a relocation.
    fn libcall(&mut self, lc: Libcall, args: &[Value], ret: bool) -> Option<Value> {
        let fref = match self.libcalls.get(&lc.index()) {
            Some(f) => *f,
            None => {
                let mut sig = Signature::new(self.opts.libcall_conv);
                sig.params
                    .extend(args.iter().map(|_| AbiParam::new(types::I64)));
                if ret {
                    sig.returns.push(AbiParam::new(types::I64));
                }
                let signature = self.b.import_signature(sig);
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName {
                        namespace: LIBCALL_NAMESPACE,
                        index: lc.index(),
                    });
                let f = self.b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature,
                    // Not colocated: the call goes through an absolute address, which
                    // may be anywhere relative to the code.
                    colocated: false,
                    patchable: false,
                });
                self.libcalls.insert(lc.index(), f);
                f
            }
        };
        let call = self.b.ins().call(fref, args);
        self.b.inst_results(call).first().copied()
    }

    /// The engine-wide signature id of type `type_index`, as an i64: a relocation
    /// filled in at link time, because ids differ between engines.
    fn sig_id(&mut self, type_index: u32) -> Value {
        let gv = match self.sig_id_values.get(&type_index) {
            Some(g) => *g,
            None => {
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName {
                        namespace: SIG_ID_NAMESPACE,
                        index: type_index,
                    });
                let g = self.b.create_global_value(GlobalValueData::Symbol {
                    name: ExternalName::user(name),
                    offset: 0.into(),
                    colocated: false,
                    tls: false,
                });
                self.sig_id_values.insert(type_index, g);
                g
            }
        };
        self.b.ins().symbol_value(types::I64, gv)
    }

    fn trapping_libcall(&mut self, lc: Libcall, args: &[Value], code: TrapCode) {
        let r = self.libcall(lc, args, true).expect("returns");
        self.trap_if(r, code);
    }

    /// Traps with `code`: raised by a call (see `arch`: no fault, which costs a signal
    /// on Linux and a trap frame in a kernel), then the trap instruction, which is
    /// only the fallback when there is no activation to resume.
    fn raise(&mut self, code: TrapCode) {
        let raw = i64::from(code.as_raw().get());
        let raw = self.b.ins().iconst(types::I64, raw);
        self.libcall(Libcall::Raise, &[self.vmctx, raw], false);
        self.b.ins().trap(code);
    }

    /// Traps with `code` when `cond` is non-zero, through a cold block that raises it.
    fn trap_if(&mut self, cond: Value, code: TrapCode) {
        let trap = self.b.create_block();
        let next = self.b.create_block();
        self.b.set_cold_block(trap);
        self.b.ins().brif(cond, trap, &[], next, &[]);
        self.b.seal_block(trap);
        self.b.seal_block(next);
        self.b.switch_to_block(trap);
        self.raise(code);
        self.b.switch_to_block(next);
    }

    fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sigs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(&self.info.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        s
    }

    fn call(&mut self, func: u32) -> Result<(), Error> {
        let ty = self.info.func_type(func);
        let n = ty.params().len();
        let mut args = alloc::vec![self.vmctx, self.vmctx];
        args.extend_from_slice(self.peekn(n));
        let call = if self.info.is_imported_func(func) {
            let sig = self.sig_ref(self.info.funcs[func as usize]);
            let off = self.info.offsets().funcref(func);
            let fref = self.b.ins().load(types::I64, constflags(), self.vmctx, off);
            let code = self
                .b
                .ins()
                .load(types::I64, constflags(), fref, FUNCREF_WASM_CALL);
            args[0] = self
                .b
                .ins()
                .load(types::I64, constflags(), fref, FUNCREF_VMCTX);
            self.b.ins().call_indirect(sig, code, &args)
        } else {
            let fref = match self.funcs.get(&func) {
                Some(f) => *f,
                None => {
                    let sig = self.sig_ref(self.info.funcs[func as usize]);
                    let name = self
                        .b
                        .func
                        .declare_imported_user_function(UserExternalName {
                            namespace: FUNC_NAMESPACE,
                            index: func,
                        });
                    let f = self.b.import_function(ExtFuncData {
                        name: ExternalName::user(name),
                        signature: sig,
                        colocated: true,
                        patchable: false,
                    });
                    self.funcs.insert(func, f);
                    f
                }
            };
            self.b.ins().call(fref, &args)
        };
        self.stack.truncate(self.stack.len() - n);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
        Ok(())
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) {
        let index = self.pop();
        let addr = self.table_addr(table, index, codes::UNDEFINED_ELEMENT);
        let fref = self.b.ins().load(types::I64, vmflags(), addr, 0);
        let null = self.b.ins().icmp_imm_s(IntCC::Equal, fref, 0);
        self.trap_if(null, codes::INDIRECT_CALL_TO_NULL);
        let ty_id = self
            .b
            .ins()
            .load(types::I64, vmflags(), fref, FUNCREF_TYPE_ID);
        let expected = self.sig_id(type_index);
        let bad = self.b.ins().icmp(IntCC::NotEqual, ty_id, expected);
        self.trap_if(bad, codes::BAD_SIGNATURE);
        let code = self
            .b
            .ins()
            .load(types::I64, vmflags(), fref, FUNCREF_WASM_CALL);
        let callee_vmctx = self
            .b
            .ins()
            .load(types::I64, vmflags(), fref, FUNCREF_VMCTX);
        let n = self.info.types[type_index as usize].params().len();
        let mut args = alloc::vec![callee_vmctx, self.vmctx];
        args.extend_from_slice(self.peekn(n));
        let sig = self.sig_ref(type_index);
        let call = self.b.ins().call_indirect(sig, code, &args);
        self.stack.truncate(self.stack.len() - n);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
    }
}

#[derive(Clone, Copy)]
enum LoadKind {
    Plain,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

#[derive(Clone, Copy)]
enum StoreKind {
    Plain,
    S8,
    S16,
    S32,
}

fn mem_index(memarg: &wasmparser::MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(i) | wasmparser::MemArgTarget::Array(i) => i,
    }
}
