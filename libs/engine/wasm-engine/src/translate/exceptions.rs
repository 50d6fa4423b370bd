//! Exception handling: `try_table`, `throw` and `throw_ref` (see `runtime::exception`
//! for how exceptions travel).
//!
//! Inside a `try_table`, a call goes through the runtime's `invoke_catching`, which
//! calls the callee in an activation of its own and hands back the `exnref` of an
//! exception it threw; a `throw` or `throw_ref` there needs no runtime at all. Both
//! continue at the innermost `try_table`'s dispatch block, which tries its catch
//! clauses in order and branches to the first that matches, or passes the exception
//! on to the next `try_table` out, or throws it out of the function. Calls outside
//! any `try_table` are plain calls and cost nothing more.

use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, InstBuilder, StackSlot, StackSlotData, StackSlotKind, Type, Value, types,
};
use wasmparser::{Catch, TryTable};

use super::control::{Kind, block_args};
use super::{Translator, clif_type, codes};
use crate::runtime::libcalls::Libcall;

/// A `try_table` of the function being translated.
pub(super) struct Handler {
    /// Takes the `exnref` of an exception from its body.
    dispatch: Block,
    used: bool,
    clauses: Vec<Clause>,
    /// Its frame's index in the control stack.
    frame: usize,
}

struct Clause {
    /// The tag it matches; `None` for `catch_all`.
    tag: Option<u32>,
    /// Whether the branch also takes the `exnref`.
    with_ref: bool,
    target: Block,
}

/// Raw values in a buffer of 16-byte slots (the array-call form of arguments).
const SLOT: u32 = 16;

impl Translator<'_, '_> {
    /// Whether code here is inside a `try_table` of this function.
    pub(super) fn in_try(&self) -> bool {
        !self.handlers.is_empty()
    }

    /// `try_table`: a block whose calls and throws go to its dispatch block.
    pub(super) fn try_table(&mut self, t: &TryTable) {
        self.flush_fuel();
        // Catch labels count from outside the try_table itself.
        let clauses = t
            .catches
            .iter()
            .map(|c| {
                let (label, tag, with_ref) = match *c {
                    Catch::One { tag, label } => (label, Some(tag), false),
                    Catch::OneRef { tag, label } => (label, Some(tag), true),
                    Catch::All { label } => (label, None, false),
                    Catch::AllRef { label } => (label, None, true),
                };
                let (target, _) = self.br_target(label);
                self.mark_br(label);
                Clause {
                    tag,
                    with_ref,
                    target,
                }
            })
            .collect();
        let (params, results) = self.block_sig(t.ty);
        let dest = self.new_block_with(&results);
        let height = self.stack.len() - params.len();
        self.push_control(Kind::TryTable, dest, None, height, &params, &results);
        let dispatch = self.new_block_with(&[types::I64]);
        self.b.set_cold_block(dispatch);
        self.handlers.push(Handler {
            dispatch,
            used: false,
            clauses,
            frame: self.controls.len() - 1,
        });
    }

    /// The end of the `try_table` whose frame was at control-stack index `frame`:
    /// emits its dispatch block, if anything can reach it.
    pub(super) fn end_try_table(&mut self, frame: usize) {
        if self.handlers.last().is_none_or(|h| h.frame != frame) {
            return;
        }
        let h = self.handlers.pop().expect("checked above");
        if !h.used {
            return;
        }
        self.b.switch_to_block(h.dispatch);
        let exn = self.b.block_params(h.dispatch)[0];
        for c in &h.clauses {
            let Some(tag) = c.tag else {
                let keep = self.b.ins().iconst(types::I64, i64::from(c.with_ref));
                let null = self.b.ins().iconst(types::I64, 0);
                self.libcall(
                    Libcall::ExceptionTake,
                    &[self.vmctx, exn, null, keep],
                    false,
                );
                let args = if c.with_ref {
                    alloc::vec![exn]
                } else {
                    Vec::new()
                };
                self.b.ins().jump(c.target, &block_args(&args));
                return;
            };
            let t = self.b.ins().iconst(types::I64, i64::from(tag));
            let hit = self
                .libcall(Libcall::ExceptionMatches, &[self.vmctx, exn, t], true)
                .expect("returns");
            let (then, next) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(hit, then, &[], next, &[]);
            self.b.switch_to_block(then);
            let tys: Vec<Type> = self.tag_params(tag).collect();
            let slot = self.value_slot(tys.len());
            let buf = self.b.ins().stack_addr(types::I64, slot, 0);
            let keep = self.b.ins().iconst(types::I64, i64::from(c.with_ref));
            self.libcall(Libcall::ExceptionTake, &[self.vmctx, exn, buf, keep], false);
            let mut args: Vec<Value> = tys
                .iter()
                .enumerate()
                .map(|(i, ty)| {
                    let off = (i as u32 * SLOT) as i32;
                    self.b.ins().stack_load(types::I64, *ty, slot, off)
                })
                .collect();
            if c.with_ref {
                args.push(exn);
            }
            self.b.ins().jump(c.target, &block_args(&args));
            self.b.switch_to_block(next);
        }
        self.throw_exn(exn);
    }

    /// `throw tag`.
    pub(super) fn throw(&mut self, tag: u32) {
        self.flush_fuel();
        let n = self.tag_params(tag).count();
        let slot = self.value_slot(n);
        self.spill(slot, n);
        let buf = self.b.ins().stack_addr(types::I64, slot, 0);
        let t = self.b.ins().iconst(types::I64, i64::from(tag));
        let exn = self
            .libcall(Libcall::ExceptionNew, &[self.vmctx, t, buf], true)
            .expect("returns");
        self.stack.truncate(self.stack.len() - n);
        self.throw_exn(exn);
    }

    /// `throw_ref`.
    pub(super) fn throw_ref(&mut self) {
        self.flush_fuel();
        let exn = self.pop();
        let null = self.b.ins().icmp_imm_s(IntCC::Equal, exn, 0);
        self.trap_if(null, codes::NULL_REFERENCE);
        self.throw_exn(exn);
    }

    /// Throws `exn`: to the innermost `try_table`'s dispatch, or out of the function.
    fn throw_exn(&mut self, exn: Value) {
        if let Some(h) = self.handlers.last_mut() {
            h.used = true;
            let dispatch = h.dispatch;
            self.b.ins().jump(dispatch, &block_args(&[exn]));
        } else {
            self.libcall(Libcall::ExceptionThrow, &[self.vmctx, exn], true);
            self.raise(codes::HOST_ERROR);
        }
        self.reachable = false;
    }

    /// A non-tail call of the non-null funcref `fref` (of type `type_index`) inside a
    /// `try_table`: through `invoke_catching`, with the arguments and results in a
    /// buffer.
    pub(super) fn catching_call(&mut self, fref: Value, type_index: u32) {
        let ty = self.info.types[type_index as usize].clone();
        let (n, results) = (ty.params().len(), ty.results());
        let slot = self.value_slot(n.max(results.len()));
        self.spill(slot, n);
        self.stack.truncate(self.stack.len() - n);
        let buf = self.b.ins().stack_addr(types::I64, slot, 0);
        let r = self
            .libcall(Libcall::InvokeCatching, &[self.vmctx, fref, buf], true)
            .expect("returns");
        // All ones: a failure other than an exception, left for us to raise.
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, -1);
        self.trap_if(failed, codes::HOST_ERROR);
        let h = self.handlers.last_mut().expect("inside a try_table");
        h.used = true;
        let dispatch = h.dispatch;
        let next = self.b.create_block();
        self.b.ins().brif(r, dispatch, &block_args(&[r]), next, &[]);
        self.b.switch_to_block(next);
        for (i, t) in results.iter().enumerate() {
            let v =
                self.b
                    .ins()
                    .stack_load(types::I64, clif_type(*t), slot, (i as u32 * SLOT) as i32);
            self.push(v);
        }
    }

    /// The CLIF types of tag `tag`'s values.
    fn tag_params(&self, tag: u32) -> impl Iterator<Item = Type> + '_ {
        let ty = &self.info.types[self.info.tags[tag as usize] as usize];
        ty.params().iter().map(|t| clif_type(*t))
    }

    /// A buffer of `n` value slots (at least one) in this function's frame.
    fn value_slot(&mut self, n: usize) -> StackSlot {
        let size = SLOT * n.max(1) as u32;
        self.b
            .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 4))
    }

    /// Stores the top `n` operands in `slot`, in order (they stay on the stack).
    fn spill(&mut self, slot: StackSlot, n: usize) {
        let vals = self.peekn(n).to_vec();
        for (i, v) in vals.into_iter().enumerate() {
            let off = (i as u32 * SLOT) as i32;
            self.b.ins().stack_store(types::I64, v, slot, off);
        }
    }
}
