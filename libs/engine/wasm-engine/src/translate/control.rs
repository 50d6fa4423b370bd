//! Control flow: blocks, loops, `if`/`else`, branches, returns and calls, in reachable
//! and unreachable code, with the control stack that maps Wasm's structured control
//! onto Cranelift blocks.

use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type, Value, types};
use wasmparser::{BlockType, Operator};

use super::{Translator, clif_type, codes};
use crate::Error;
use crate::types::ValType;

pub(super) fn block_args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|v| BlockArg::Value(*v)).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Function,
    Block,
    Loop,
    If {
        else_block: Block,
        else_seen: bool,
    },
    /// A `try_table` (see `exceptions`); otherwise a block.
    TryTable,
}

pub(super) struct Control {
    pub(super) kind: Kind,
    /// Continuation (takes the results).
    pub(super) dest: Block,
    /// Loop header (takes the params); branch target for loops.
    pub(super) header: Option<Block>,
    pub(super) height: usize,
    pub(super) nparams: usize,
    pub(super) nresults: usize,
    pub(super) dest_reachable: bool,
}

impl Translator<'_, '_> {
    /// Control-flow and call operators, `drop` and `select`.
    /// Returns whether `op` was one of them.
    pub(super) fn control_operator(
        &mut self,
        op: &Operator<'_>,
        offset: usize,
    ) -> Result<bool, Error> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.raise(codes::UNREACHABLE);
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                self.flush_fuel();
                let (params, results) = self.block_sig(blockty);
                let dest = self.new_block_with(&results);
                let height = self.stack.len() - params.len();
                self.push_control(Kind::Block, dest, None, height, &params, &results);
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
                self.push_control(Kind::Loop, dest, Some(header), height, &params, &results);
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
                let height = self.stack.len() - params.len();
                let kind = Kind::If {
                    else_block,
                    else_seen: false,
                };
                self.push_control(kind, dest, None, height, &params, &results);
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
            // A `return_call*` is the same call as a tail call.
            Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                self.flush_fuel();
                let tail = matches!(op, Operator::ReturnCall { .. });
                self.call(function_index, tail)?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            }
            | Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                self.flush_fuel();
                let tail = matches!(op, Operator::ReturnCallIndirect { .. });
                self.call_indirect(type_index, table_index, tail);
            }
            Operator::CallRef { type_index } | Operator::ReturnCallRef { type_index } => {
                self.flush_fuel();
                self.call_ref(type_index, matches!(op, Operator::ReturnCallRef { .. }));
            }
            Operator::RefAsNonNull => {
                let v = self.pop();
                let null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                self.trap_if(null, codes::NULL_REFERENCE);
                self.push(v);
            }
            Operator::BrOnNull { relative_depth } => {
                // Null: branch with the operands under it; else go on with it.
                let v = self.pop();
                self.flush_fuel();
                let (block, n) = self.br_target(relative_depth);
                let args = block_args(self.peekn(n));
                let null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let next = self.b.create_block();
                self.b.ins().brif(null, block, &args, next, &[]);
                self.mark_br(relative_depth);
                self.b.switch_to_block(next);
                self.push(v);
            }
            Operator::BrOnNonNull { relative_depth } => {
                // Not null: branch with it (the last operand); else drop it.
                self.flush_fuel();
                let v = *self.stack.last().expect("validated: a reference");
                let (block, n) = self.br_target(relative_depth);
                let args = block_args(self.peekn(n));
                let next = self.b.create_block();
                self.b.ins().brif(v, block, &args, next, &[]);
                self.mark_br(relative_depth);
                self.b.switch_to_block(next);
                self.pop();
            }
            Operator::TryTable { ref try_table } => self.try_table(try_table),
            Operator::Throw { tag_index } => self.throw(tag_index),
            Operator::ThrowRef => self.throw_ref(),
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Opens a control frame whose operands start at stack `height`.
    pub(super) fn push_control(
        &mut self,
        kind: Kind,
        dest: Block,
        header: Option<Block>,
        height: usize,
        params: &[Type],
        results: &[Type],
    ) {
        self.controls.push(Control {
            kind,
            dest,
            header,
            height,
            nparams: params.len(),
            nresults: results.len(),
            dest_reachable: false,
        });
    }

    pub(super) fn block_sig(&self, ty: BlockType) -> (Vec<Type>, Vec<Type>) {
        match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (
                Vec::new(),
                alloc::vec![
                    ValType::from_wasm(t, &|i| self.info.sig_ids[i as usize])
                        .map_or(types::I64, clif_type)
                ],
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

    pub(super) fn new_block_with(&mut self, tys: &[Type]) -> Block {
        let block = self.b.create_block();
        for t in tys {
            self.b.append_block_param(block, *t);
        }
        block
    }

    /// Branch target of the frame `depth` levels out: (block, arity).
    pub(super) fn br_target(&self, depth: u32) -> (Block, usize) {
        let c = &self.controls[self.controls.len() - 1 - depth as usize];
        match c.header {
            Some(h) => (h, c.nparams),
            None => (c.dest, c.nresults),
        }
    }

    pub(super) fn mark_br(&mut self, depth: u32) {
        let n = self.controls.len() - 1 - depth as usize;
        if self.controls[n].header.is_none() {
            self.controls[n].dest_reachable = true;
        }
    }

    pub(super) fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.do_else(),
            Operator::End if self.unreachable_depth == 0 => self.do_end(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    pub(super) fn do_else(&mut self) {
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

    pub(super) fn do_end(&mut self) {
        let mut c = self.controls.pop().expect("validated: end without frame");
        if self.reachable {
            let args = block_args(self.peekn(c.nresults));
            self.b.ins().jump(c.dest, &args);
            c.dest_reachable = true;
        }
        if c.kind == Kind::TryTable {
            self.end_try_table(self.controls.len());
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
}
