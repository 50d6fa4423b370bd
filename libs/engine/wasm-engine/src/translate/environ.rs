//! The environment compiled code runs in: globals, linear memories (addressing and
//! bounds checks), tables and references, calls through the VM context, runtime
//! functions (libcalls), traps, fuel and epochs. Layout comes from `runtime::vmcontext`.

use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, GlobalValueData, InstBuilder, MemFlagsData,
    Signature, TrapCode, Type, UserExternalName, Value, types,
};
use wasmparser::Operator;

use super::{
    FUNC_NAMESPACE, LIBCALL_NAMESPACE, SIG_ID_NAMESPACE, Translator, clif_type, codes, constflags,
    heap_flags, vmflags, wasm_signature,
};
use crate::Error;
use crate::runtime::libcalls::Libcall;
use crate::runtime::vmcontext::*;

impl Translator<'_, '_> {
    /// Globals, memory, table and reference operators.
    /// Returns whether `op` was one of them.
    pub(super) fn environ_operator(&mut self, op: &Operator<'_>) -> Result<bool, Error> {
        match *op {
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
                let v = self.narrow_index(mem, pages);
                self.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let args = self.ext_args(&[mem], &[delta]);
                let r = self.libcall(Libcall::MemoryGrow, &args, true);
                let v = self.narrow_index(mem, r.expect("returns"));
                self.push(v);
            }
            Operator::MemoryFill { mem } => {
                self.bulk(Libcall::MemoryFill, &[mem], TrapCode::HEAP_OUT_OF_BOUNDS)
            }
            Operator::MemoryCopy { dst_mem, src_mem } => self.bulk(
                Libcall::MemoryCopy,
                &[dst_mem, src_mem],
                TrapCode::HEAP_OUT_OF_BOUNDS,
            ),
            Operator::MemoryInit { data_index, mem } => self.bulk(
                Libcall::MemoryInit,
                &[mem, data_index],
                TrapCode::HEAP_OUT_OF_BOUNDS,
            ),
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
            } => self.bulk(
                Libcall::TableCopy,
                &[dst_table, src_table],
                codes::TABLE_OUT_OF_BOUNDS,
            ),
            Operator::TableInit { elem_index, table } => self.bulk(
                Libcall::TableInit,
                &[table, elem_index],
                codes::TABLE_OUT_OF_BOUNDS,
            ),
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn flush_fuel(&mut self) {
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

    pub(super) fn check_epoch(&mut self) {
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

    pub(super) fn memory_def(&mut self, mem: u32) -> Value {
        let off = self.info.offsets().memory(mem);
        self.b.ins().load(types::I64, constflags(), self.vmctx, off)
    }

    /// An i64 size or index of memory `mem` as its index type: i32 for a 32-bit memory.
    fn narrow_index(&mut self, mem: u32, v: Value) -> Value {
        if self.info.memories[mem as usize].is_64() {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }

    /// Native address of a `size`-byte access at `addr + offset`, with a bounds check
    /// unless the guard region covers it (it never covers a 64-bit memory).
    pub(super) fn heap_addr(&mut self, mem: u32, addr: Value, offset: u64, size: u32) -> Value {
        let def = self.memory_def(mem);
        let base = self
            .b
            .ins()
            .load(types::I64, constflags(), def, MEMORY_BASE);
        let memory64 = self.info.memories[mem as usize].is_64();
        if memory64 {
            let len = self.b.ins().load(types::I64, vmflags(), def, MEMORY_LENGTH);
            // `addr + offset + size` in 65 bits: past 2^64 is out of bounds too.
            let oob = match offset.checked_add(u64::from(size)) {
                Some(end) => {
                    let end = self.b.ins().iconst(types::I64, end as i64);
                    let (last, carry) = self.b.ins().uadd_overflow(addr, end);
                    let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
                    self.b.ins().bor(past, carry)
                }
                None => self.b.ins().iconst(types::I8, 1),
            };
            self.trap_if(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let addr = if memory64 {
            addr
        } else {
            self.b.ins().uextend(types::I64, addr)
        };
        // A 32-bit memory's offset is below 2^32: no overflow.
        let end = offset.wrapping_add(u64::from(size));
        if !memory64 && (self.opts.explicit_bounds || end > self.opts.guard_size) {
            let len = self.b.ins().load(types::I64, vmflags(), def, MEMORY_LENGTH);
            let last = self.b.ins().iadd_imm_s(addr, end as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
            self.trap_if(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let p = self.b.ins().iadd(base, addr);
        if offset == 0 {
            p
        } else {
            // Wraps as the bounds check allows: only in-bounds addresses get here.
            self.b.ins().iadd_imm_s(p, offset as i64)
        }
    }

    pub(super) fn load(
        &mut self,
        ty: Type,
        kind: LoadKind,
        memarg: &wasmparser::MemArg,
        size: u32,
    ) {
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

    pub(super) fn store(
        &mut self,
        v: Value,
        kind: StoreKind,
        memarg: &wasmparser::MemArg,
        size: u32,
    ) {
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

    pub(super) fn table_def(&mut self, table: u32) -> Value {
        let off = self.info.offsets().table(table);
        self.b.ins().load(types::I64, constflags(), self.vmctx, off)
    }

    /// Address of element `index` (i32) of `table`, trapping with `code` when out of bounds.
    pub(super) fn table_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
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
    pub(super) fn ext_args(&mut self, consts: &[u32], vals: &[Value]) -> Vec<Value> {
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
    pub(super) fn libcall(&mut self, lc: Libcall, args: &[Value], ret: bool) -> Option<Value> {
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
    pub(super) fn sig_id(&mut self, type_index: u32) -> Value {
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

    /// A bulk memory or table operator: pops its three operands and calls runtime
    /// function `lc` with the immediates `consts` first; traps with `code` on failure.
    fn bulk(&mut self, lc: Libcall, consts: &[u32], code: TrapCode) {
        let (a, b, c) = self.pop3();
        let args = self.ext_args(consts, &[a, b, c]);
        self.trapping_libcall(lc, &args, code);
    }

    pub(super) fn trapping_libcall(&mut self, lc: Libcall, args: &[Value], code: TrapCode) {
        let r = self.libcall(lc, args, true).expect("returns");
        self.trap_if(r, code);
    }

    /// Traps with `code`: raised by a call (see `arch`: no fault, which costs a signal
    /// on Linux and a trap frame in a kernel), then the trap instruction, which is
    /// only the fallback when there is no activation to resume.
    pub(super) fn raise(&mut self, code: TrapCode) {
        let raw = i64::from(code.as_raw().get());
        let raw = self.b.ins().iconst(types::I64, raw);
        self.libcall(Libcall::Raise, &[self.vmctx, raw], false);
        self.b.ins().trap(code);
    }

    /// Traps with `code` when `cond` is non-zero, through a cold block that raises it.
    pub(super) fn trap_if(&mut self, cond: Value, code: TrapCode) {
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

    pub(super) fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sigs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(&self.info.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        s
    }

    /// `call` (or with `tail`, `return_call`) of function `func`.
    pub(super) fn call(&mut self, func: u32, tail: bool) -> Result<(), Error> {
        let ty = self.info.func_type(func);
        let n = ty.params().len();
        let mut args = alloc::vec![self.vmctx, self.vmctx];
        args.extend_from_slice(self.peekn(n));
        if !tail && self.in_try() {
            let off = self.info.offsets().funcref(func);
            let fref = self.b.ins().load(types::I64, constflags(), self.vmctx, off);
            self.catching_call(fref, self.info.funcs[func as usize]);
            return Ok(());
        }
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
            if tail {
                self.b.ins().return_call_indirect(sig, code, &args);
                self.end_tail_call(n);
                return Ok(());
            }
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
            if tail {
                self.b.ins().return_call(fref, &args);
                self.end_tail_call(n);
                return Ok(());
            }
            self.b.ins().call(fref, &args)
        };
        self.stack.truncate(self.stack.len() - n);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
        Ok(())
    }

    /// After a tail call: its `n` arguments are consumed and nothing after it runs.
    fn end_tail_call(&mut self, n: usize) {
        self.stack.truncate(self.stack.len() - n);
        self.reachable = false;
    }

    /// `call_indirect` (or with `tail`, `return_call_indirect`) through `table`.
    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
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
        self.call_funcref(fref, type_index, tail);
    }

    /// `call_ref` (or with `tail`, `return_call_ref`) of the reference on top of the
    /// stack, of type `type_index` (validation checked it; only null traps).
    pub(super) fn call_ref(&mut self, type_index: u32, tail: bool) {
        let fref = self.pop();
        let null = self.b.ins().icmp_imm_s(IntCC::Equal, fref, 0);
        self.trap_if(null, codes::NULL_REFERENCE);
        self.call_funcref(fref, type_index, tail);
    }

    /// Calls the non-null `fref`, of type `type_index`, with the arguments on the stack.
    fn call_funcref(&mut self, fref: Value, type_index: u32, tail: bool) {
        if !tail && self.in_try() {
            return self.catching_call(fref, type_index);
        }
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
        if tail {
            self.b.ins().return_call_indirect(sig, code, &args);
            return self.end_tail_call(n);
        }
        let call = self.b.ins().call_indirect(sig, code, &args);
        self.stack.truncate(self.stack.len() - n);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
    }
}

#[derive(Clone, Copy)]
pub(super) enum LoadKind {
    Plain,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

#[derive(Clone, Copy)]
pub(super) enum StoreKind {
    Plain,
    S8,
    S16,
    S32,
}

pub(super) fn mem_index(memarg: &wasmparser::MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(i) | wasmparser::MemArgTarget::Array(i) => i,
    }
}
