//! Plain operators on values: locals, constants, integer and float arithmetic,
//! comparisons and conversions (nothing that touches the VM context).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

use super::Translator;
use crate::Error;

impl Translator<'_, '_> {
    /// Locals, constants, numeric operators and conversions.
    /// Returns whether `op` was one of them.
    pub(super) fn plain_operator(&mut self, op: &Operator<'_>) -> Result<bool, Error> {
        match *op {
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    pub(super) fn binop(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let (x, y) = self.pop2();
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    pub(super) fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().icmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    pub(super) fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().fcmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    pub(super) fn sext_in(&mut self, narrow: Type) {
        let a = self.pop();
        let ty = self.b.func.dfg.value_type(a);
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(ty, n);
        self.push(v);
    }
}
