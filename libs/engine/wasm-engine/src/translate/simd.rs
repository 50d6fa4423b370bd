//! Fixed-width SIMD (v128) translation.
//!
//! Every v128 value lives on the operand stack, in locals, globals and block parameters
//! as `I8X16`. Each operator bitcasts its inputs to the lane type it works on and its
//! result back to `I8X16`; these bitcasts cost nothing (same register class) and keep
//! block parameter types uniform. Lane order is little-endian, as Wasm defines it.

use alloc::format;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

use super::environ::mem_index;
use super::{Translator, heap_flags};
use crate::Error;

use types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};

/// Flags of lane-type bitcasts: explicit little-endian lane order.
fn lane_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Flags of v128 memory accesses.
fn vheap_flags() -> MemFlagsData {
    heap_flags().with_endianness(Endianness::Little)
}

/// `bitcast` to `ty` unless `v` already has that type.
fn cast(b: &mut FunctionBuilder<'_>, ty: Type, v: Value) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lane_flags(), v)
    }
}

/// The all-zero v128 (initial value of v128 locals).
pub(crate) fn zero_v128(b: &mut FunctionBuilder<'_>) -> Value {
    vconst(b, I8X16, &[0; 16])
}

fn vconst(b: &mut FunctionBuilder<'_>, ty: Type, bytes: &[u8]) -> Value {
    let c = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from(bytes.to_vec()));
    b.ins().vconst(ty, c)
}

/// How a lane of a memory access is loaded into a vector.
#[derive(Clone, Copy)]
enum VLoad {
    /// The whole 16 bytes.
    Full,
    /// 8 bytes, each lane sign- (`true`) or zero-extended to the doubled width.
    Extend(Type, bool),
    /// One scalar replicated into every lane.
    Splat(Type),
    /// One scalar into lane 0, the other lanes zero.
    Zero(Type),
}

impl Translator<'_, '_> {
    fn vpop(&mut self, ty: Type) -> Value {
        let v = self.pop();
        cast(&mut self.b, ty, v)
    }

    fn vpop2(&mut self, ty: Type) -> (Value, Value) {
        let y = self.vpop(ty);
        let x = self.vpop(ty);
        (x, y)
    }

    fn vpush(&mut self, v: Value) {
        let v = cast(&mut self.b, I8X16, v);
        self.push(v);
    }

    fn vunop(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.vpop(ty);
        let v = f(&mut self.b, a);
        self.vpush(v);
    }

    pub(super) fn vbinop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let (x, y) = self.vpop2(ty);
        let v = f(&mut self.b, x, y);
        self.vpush(v);
    }

    fn vicmp(&mut self, ty: Type, cc: IntCC) {
        self.vbinop(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    fn vfcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vbinop(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// Shift by a scalar; Wasm takes the amount modulo the lane width.
    fn vshift(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let amount = self.pop();
        let amount = self
            .b
            .ins()
            .band_imm_s(amount, i64::from(ty.lane_bits() - 1));
        let x = self.vpop(ty);
        let v = f(&mut self.b, x, amount);
        self.vpush(v);
    }

    /// Pushes an i8 (`vall_true`, `vany_true`) as the i32 Wasm boolean.
    fn push_bool(&mut self, v: Value) {
        let v = self.b.ins().uextend(types::I32, v);
        self.push(v);
    }

    /// Native address of a v128-related access of `size` bytes; pops the i32 address.
    fn vaddr(&mut self, memarg: &MemArg, size: u32) -> Value {
        let addr = self.pop();
        self.heap_addr(mem_index(memarg), addr, memarg.offset, size)
    }

    fn vload(&mut self, memarg: &MemArg, kind: VLoad) {
        let f = vheap_flags();
        let v = match kind {
            VLoad::Full => {
                let p = self.vaddr(memarg, 16);
                self.b.ins().load(I8X16, f, p, 0)
            }
            VLoad::Extend(lane, signed) => {
                let p = self.vaddr(memarg, 8);
                let ins = self.b.ins();
                match (lane.bits(), signed) {
                    (8, true) => ins.sload8x8(f, p, 0),
                    (8, false) => ins.uload8x8(f, p, 0),
                    (16, true) => ins.sload16x4(f, p, 0),
                    (16, false) => ins.uload16x4(f, p, 0),
                    (_, true) => ins.sload32x2(f, p, 0),
                    (_, false) => ins.uload32x2(f, p, 0),
                }
            }
            VLoad::Splat(lane) => {
                let p = self.vaddr(memarg, lane.bytes());
                let s = self.b.ins().load(lane, f, p, 0);
                let vty = lane.by(128 / lane.bits()).expect("valid lane count");
                self.b.ins().splat(vty, s)
            }
            VLoad::Zero(lane) => {
                let p = self.vaddr(memarg, lane.bytes());
                let s = self.b.ins().load(lane, f, p, 0);
                let vty = lane.by(128 / lane.bits()).expect("valid lane count");
                self.b.ins().scalar_to_vector(vty, s)
            }
        };
        self.vpush(v);
    }

    fn vload_lane(&mut self, memarg: &MemArg, vty: Type, lane: u8) {
        let vec = self.vpop(vty);
        let p = self.vaddr(memarg, vty.lane_type().bytes());
        let s = self.b.ins().load(vty.lane_type(), vheap_flags(), p, 0);
        let v = self.b.ins().insertlane(vec, s, lane);
        self.vpush(v);
    }

    fn vstore_lane(&mut self, memarg: &MemArg, vty: Type, lane: u8) {
        let vec = self.vpop(vty);
        let p = self.vaddr(memarg, vty.lane_type().bytes());
        let s = self.b.ins().extractlane(vec, lane);
        self.b.ins().store(vheap_flags(), s, p, 0);
    }

    /// `extract_lane`; `signed` is `Some` for the narrow integer lanes that widen to i32.
    fn vextract(&mut self, vty: Type, lane: u8, signed: Option<bool>) {
        let vec = self.vpop(vty);
        let s = self.b.ins().extractlane(vec, lane);
        let s = match signed {
            Some(true) => self.b.ins().sextend(types::I32, s),
            Some(false) => self.b.ins().uextend(types::I32, s),
            None => s,
        };
        self.push(s);
    }

    fn vreplace(&mut self, vty: Type, lane: u8) {
        let mut s = self.pop();
        if vty.lane_bits() < 32 {
            s = self.b.ins().ireduce(vty.lane_type(), s);
        }
        let vec = self.vpop(vty);
        let v = self.b.ins().insertlane(vec, s, lane);
        self.vpush(v);
    }

    fn vsplat(&mut self, vty: Type) {
        let mut s = self.pop();
        if vty.lane_bits() < 32 {
            s = self.b.ins().ireduce(vty.lane_type(), s);
        }
        let v = self.b.ins().splat(vty, s);
        self.vpush(v);
    }

    /// Sign- (`true`) or zero-extends the low or high half of the lanes of `narrow`.
    fn widen(b: &mut FunctionBuilder<'_>, x: Value, signed: bool, high: bool) -> Value {
        match (signed, high) {
            (true, false) => b.ins().swiden_low(x),
            (true, true) => b.ins().swiden_high(x),
            (false, false) => b.ins().uwiden_low(x),
            (false, true) => b.ins().uwiden_high(x),
        }
    }

    fn vextend(&mut self, narrow: Type, signed: bool, high: bool) {
        self.vunop(narrow, |b, x| Self::widen(b, x, signed, high));
    }

    fn vextmul(&mut self, narrow: Type, signed: bool, high: bool) {
        self.vbinop(narrow, |b, x, y| {
            let x = Self::widen(b, x, signed, high);
            let y = Self::widen(b, y, signed, high);
            b.ins().imul(x, y)
        });
    }

    fn vextadd_pairwise(&mut self, narrow: Type, signed: bool) {
        self.vunop(narrow, |b, x| {
            let lo = Self::widen(b, x, signed, false);
            let hi = Self::widen(b, x, signed, true);
            b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `pmin` (`b < a ? b : a`) and `pmax` (`a < b ? b : a`): no NaN or signed-zero
    /// special cases, unlike `fmin`/`fmax`.
    fn vpminmax(&mut self, ty: Type, max: bool) {
        self.vbinop(ty, |b, x, y| {
            let cmp = if max {
                b.ins().fcmp(FloatCC::LessThan, x, y)
            } else {
                b.ins().fcmp(FloatCC::LessThan, y, x)
            };
            let cmp = cast(b, ty, cmp);
            b.ins().bitselect(cmp, y, x)
        });
    }

    /// Translates one SIMD operator (or rejects an operator nobody handles).
    pub(super) fn simd_operator(&mut self, op: &Operator<'_>, offset: usize) -> Result<(), Error> {
        use FloatCC as F;
        use IntCC as I;
        if !self.opts.simd {
            return Err(unsupported(
                op,
                offset,
                "SIMD is not supported by the target",
            ));
        }
        match *op {
            // ---- memory ----
            Operator::V128Load { memarg } => self.vload(&memarg, VLoad::Full),
            Operator::V128Load8x8S { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I8, true))
            }
            Operator::V128Load8x8U { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I8, false))
            }
            Operator::V128Load16x4S { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I16, true))
            }
            Operator::V128Load16x4U { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I16, false))
            }
            Operator::V128Load32x2S { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I32, true))
            }
            Operator::V128Load32x2U { memarg } => {
                self.vload(&memarg, VLoad::Extend(types::I32, false))
            }
            Operator::V128Load8Splat { memarg } => self.vload(&memarg, VLoad::Splat(types::I8)),
            Operator::V128Load16Splat { memarg } => self.vload(&memarg, VLoad::Splat(types::I16)),
            Operator::V128Load32Splat { memarg } => self.vload(&memarg, VLoad::Splat(types::I32)),
            Operator::V128Load64Splat { memarg } => self.vload(&memarg, VLoad::Splat(types::I64)),
            Operator::V128Load32Zero { memarg } => self.vload(&memarg, VLoad::Zero(types::I32)),
            Operator::V128Load64Zero { memarg } => self.vload(&memarg, VLoad::Zero(types::I64)),
            Operator::V128Store { memarg } => {
                let v = self.vpop(I8X16);
                let p = self.vaddr(&memarg, 16);
                self.b.ins().store(vheap_flags(), v, p, 0);
            }
            Operator::V128Load8Lane { memarg, lane } => self.vload_lane(&memarg, I8X16, lane),
            Operator::V128Load16Lane { memarg, lane } => self.vload_lane(&memarg, I16X8, lane),
            Operator::V128Load32Lane { memarg, lane } => self.vload_lane(&memarg, I32X4, lane),
            Operator::V128Load64Lane { memarg, lane } => self.vload_lane(&memarg, I64X2, lane),
            Operator::V128Store8Lane { memarg, lane } => self.vstore_lane(&memarg, I8X16, lane),
            Operator::V128Store16Lane { memarg, lane } => self.vstore_lane(&memarg, I16X8, lane),
            Operator::V128Store32Lane { memarg, lane } => self.vstore_lane(&memarg, I32X4, lane),
            Operator::V128Store64Lane { memarg, lane } => self.vstore_lane(&memarg, I64X2, lane),

            // ---- constants, lanes, shuffles ----
            Operator::V128Const { ref value } => {
                let v = vconst(&mut self.b, I8X16, value.bytes());
                self.push(v);
            }
            Operator::I8x16Shuffle { lanes } => {
                let (x, y) = self.vpop2(I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(lanes.to_vec()));
                let v = self.b.ins().shuffle(x, y, mask);
                self.vpush(v);
            }
            Operator::I8x16Swizzle => self.vbinop(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            Operator::I8x16ExtractLaneS { lane } => self.vextract(I8X16, lane, Some(true)),
            Operator::I8x16ExtractLaneU { lane } => self.vextract(I8X16, lane, Some(false)),
            Operator::I16x8ExtractLaneS { lane } => self.vextract(I16X8, lane, Some(true)),
            Operator::I16x8ExtractLaneU { lane } => self.vextract(I16X8, lane, Some(false)),
            Operator::I32x4ExtractLane { lane } => self.vextract(I32X4, lane, None),
            Operator::I64x2ExtractLane { lane } => self.vextract(I64X2, lane, None),
            Operator::F32x4ExtractLane { lane } => self.vextract(F32X4, lane, None),
            Operator::F64x2ExtractLane { lane } => self.vextract(F64X2, lane, None),
            Operator::I8x16ReplaceLane { lane } => self.vreplace(I8X16, lane),
            Operator::I16x8ReplaceLane { lane } => self.vreplace(I16X8, lane),
            Operator::I32x4ReplaceLane { lane } => self.vreplace(I32X4, lane),
            Operator::I64x2ReplaceLane { lane } => self.vreplace(I64X2, lane),
            Operator::F32x4ReplaceLane { lane } => self.vreplace(F32X4, lane),
            Operator::F64x2ReplaceLane { lane } => self.vreplace(F64X2, lane),
            Operator::I8x16Splat => self.vsplat(I8X16),
            Operator::I16x8Splat => self.vsplat(I16X8),
            Operator::I32x4Splat => self.vsplat(I32X4),
            Operator::I64x2Splat => self.vsplat(I64X2),
            Operator::F32x4Splat => self.vsplat(F32X4),
            Operator::F64x2Splat => self.vsplat(F64X2),

            // ---- comparisons ----
            Operator::I8x16Eq => self.vicmp(I8X16, I::Equal),
            Operator::I8x16Ne => self.vicmp(I8X16, I::NotEqual),
            Operator::I8x16LtS => self.vicmp(I8X16, I::SignedLessThan),
            Operator::I8x16LtU => self.vicmp(I8X16, I::UnsignedLessThan),
            Operator::I8x16GtS => self.vicmp(I8X16, I::SignedGreaterThan),
            Operator::I8x16GtU => self.vicmp(I8X16, I::UnsignedGreaterThan),
            Operator::I8x16LeS => self.vicmp(I8X16, I::SignedLessThanOrEqual),
            Operator::I8x16LeU => self.vicmp(I8X16, I::UnsignedLessThanOrEqual),
            Operator::I8x16GeS => self.vicmp(I8X16, I::SignedGreaterThanOrEqual),
            Operator::I8x16GeU => self.vicmp(I8X16, I::UnsignedGreaterThanOrEqual),
            Operator::I16x8Eq => self.vicmp(I16X8, I::Equal),
            Operator::I16x8Ne => self.vicmp(I16X8, I::NotEqual),
            Operator::I16x8LtS => self.vicmp(I16X8, I::SignedLessThan),
            Operator::I16x8LtU => self.vicmp(I16X8, I::UnsignedLessThan),
            Operator::I16x8GtS => self.vicmp(I16X8, I::SignedGreaterThan),
            Operator::I16x8GtU => self.vicmp(I16X8, I::UnsignedGreaterThan),
            Operator::I16x8LeS => self.vicmp(I16X8, I::SignedLessThanOrEqual),
            Operator::I16x8LeU => self.vicmp(I16X8, I::UnsignedLessThanOrEqual),
            Operator::I16x8GeS => self.vicmp(I16X8, I::SignedGreaterThanOrEqual),
            Operator::I16x8GeU => self.vicmp(I16X8, I::UnsignedGreaterThanOrEqual),
            Operator::I32x4Eq => self.vicmp(I32X4, I::Equal),
            Operator::I32x4Ne => self.vicmp(I32X4, I::NotEqual),
            Operator::I32x4LtS => self.vicmp(I32X4, I::SignedLessThan),
            Operator::I32x4LtU => self.vicmp(I32X4, I::UnsignedLessThan),
            Operator::I32x4GtS => self.vicmp(I32X4, I::SignedGreaterThan),
            Operator::I32x4GtU => self.vicmp(I32X4, I::UnsignedGreaterThan),
            Operator::I32x4LeS => self.vicmp(I32X4, I::SignedLessThanOrEqual),
            Operator::I32x4LeU => self.vicmp(I32X4, I::UnsignedLessThanOrEqual),
            Operator::I32x4GeS => self.vicmp(I32X4, I::SignedGreaterThanOrEqual),
            Operator::I32x4GeU => self.vicmp(I32X4, I::UnsignedGreaterThanOrEqual),
            Operator::I64x2Eq => self.vicmp(I64X2, I::Equal),
            Operator::I64x2Ne => self.vicmp(I64X2, I::NotEqual),
            Operator::I64x2LtS => self.vicmp(I64X2, I::SignedLessThan),
            Operator::I64x2GtS => self.vicmp(I64X2, I::SignedGreaterThan),
            Operator::I64x2LeS => self.vicmp(I64X2, I::SignedLessThanOrEqual),
            Operator::I64x2GeS => self.vicmp(I64X2, I::SignedGreaterThanOrEqual),
            Operator::F32x4Eq => self.vfcmp(F32X4, F::Equal),
            Operator::F32x4Ne => self.vfcmp(F32X4, F::NotEqual),
            Operator::F32x4Lt => self.vfcmp(F32X4, F::LessThan),
            Operator::F32x4Gt => self.vfcmp(F32X4, F::GreaterThan),
            Operator::F32x4Le => self.vfcmp(F32X4, F::LessThanOrEqual),
            Operator::F32x4Ge => self.vfcmp(F32X4, F::GreaterThanOrEqual),
            Operator::F64x2Eq => self.vfcmp(F64X2, F::Equal),
            Operator::F64x2Ne => self.vfcmp(F64X2, F::NotEqual),
            Operator::F64x2Lt => self.vfcmp(F64X2, F::LessThan),
            Operator::F64x2Gt => self.vfcmp(F64X2, F::GreaterThan),
            Operator::F64x2Le => self.vfcmp(F64X2, F::LessThanOrEqual),
            Operator::F64x2Ge => self.vfcmp(F64X2, F::GreaterThanOrEqual),

            // ---- bitwise ----
            Operator::V128Not => self.vunop(I8X16, |b, x| b.ins().bnot(x)),
            Operator::V128And => self.vbinop(I8X16, |b, x, y| b.ins().band(x, y)),
            Operator::V128AndNot => self.vbinop(I8X16, |b, x, y| b.ins().band_not(x, y)),
            Operator::V128Or => self.vbinop(I8X16, |b, x, y| b.ins().bor(x, y)),
            Operator::V128Xor => self.vbinop(I8X16, |b, x, y| b.ins().bxor(x, y)),
            Operator::V128Bitselect => {
                let c = self.vpop(I8X16);
                let (x, y) = self.vpop2(I8X16);
                let v = self.b.ins().bitselect(c, x, y);
                self.vpush(v);
            }
            Operator::V128AnyTrue => {
                let x = self.vpop(I8X16);
                let v = self.b.ins().vany_true(x);
                self.push_bool(v);
            }
            Operator::I8x16AllTrue
            | Operator::I16x8AllTrue
            | Operator::I32x4AllTrue
            | Operator::I64x2AllTrue => {
                let ty = match *op {
                    Operator::I8x16AllTrue => I8X16,
                    Operator::I16x8AllTrue => I16X8,
                    Operator::I32x4AllTrue => I32X4,
                    _ => I64X2,
                };
                let x = self.vpop(ty);
                let v = self.b.ins().vall_true(x);
                self.push_bool(v);
            }
            Operator::I8x16Bitmask
            | Operator::I16x8Bitmask
            | Operator::I32x4Bitmask
            | Operator::I64x2Bitmask => {
                let ty = match *op {
                    Operator::I8x16Bitmask => I8X16,
                    Operator::I16x8Bitmask => I16X8,
                    Operator::I32x4Bitmask => I32X4,
                    _ => I64X2,
                };
                let x = self.vpop(ty);
                let v = self.b.ins().vhigh_bits(types::I32, x);
                self.push(v);
            }

            // ---- integer arithmetic ----
            Operator::I8x16Abs => self.vunop(I8X16, |b, x| b.ins().iabs(x)),
            Operator::I16x8Abs => self.vunop(I16X8, |b, x| b.ins().iabs(x)),
            Operator::I32x4Abs => self.vunop(I32X4, |b, x| b.ins().iabs(x)),
            Operator::I64x2Abs => self.vunop(I64X2, |b, x| b.ins().iabs(x)),
            Operator::I8x16Neg => self.vunop(I8X16, |b, x| b.ins().ineg(x)),
            Operator::I16x8Neg => self.vunop(I16X8, |b, x| b.ins().ineg(x)),
            Operator::I32x4Neg => self.vunop(I32X4, |b, x| b.ins().ineg(x)),
            Operator::I64x2Neg => self.vunop(I64X2, |b, x| b.ins().ineg(x)),
            Operator::I8x16Popcnt => self.vunop(I8X16, |b, x| b.ins().popcnt(x)),
            Operator::I8x16Shl => self.vshift(I8X16, |b, x, y| b.ins().ishl(x, y)),
            Operator::I16x8Shl => self.vshift(I16X8, |b, x, y| b.ins().ishl(x, y)),
            Operator::I32x4Shl => self.vshift(I32X4, |b, x, y| b.ins().ishl(x, y)),
            Operator::I64x2Shl => self.vshift(I64X2, |b, x, y| b.ins().ishl(x, y)),
            Operator::I8x16ShrS => self.vshift(I8X16, |b, x, y| b.ins().sshr(x, y)),
            Operator::I16x8ShrS => self.vshift(I16X8, |b, x, y| b.ins().sshr(x, y)),
            Operator::I32x4ShrS => self.vshift(I32X4, |b, x, y| b.ins().sshr(x, y)),
            Operator::I64x2ShrS => self.vshift(I64X2, |b, x, y| b.ins().sshr(x, y)),
            Operator::I8x16ShrU => self.vshift(I8X16, |b, x, y| b.ins().ushr(x, y)),
            Operator::I16x8ShrU => self.vshift(I16X8, |b, x, y| b.ins().ushr(x, y)),
            Operator::I32x4ShrU => self.vshift(I32X4, |b, x, y| b.ins().ushr(x, y)),
            Operator::I64x2ShrU => self.vshift(I64X2, |b, x, y| b.ins().ushr(x, y)),
            Operator::I8x16Add => self.vbinop(I8X16, |b, x, y| b.ins().iadd(x, y)),
            Operator::I16x8Add => self.vbinop(I16X8, |b, x, y| b.ins().iadd(x, y)),
            Operator::I32x4Add => self.vbinop(I32X4, |b, x, y| b.ins().iadd(x, y)),
            Operator::I64x2Add => self.vbinop(I64X2, |b, x, y| b.ins().iadd(x, y)),
            Operator::I8x16Sub => self.vbinop(I8X16, |b, x, y| b.ins().isub(x, y)),
            Operator::I16x8Sub => self.vbinop(I16X8, |b, x, y| b.ins().isub(x, y)),
            Operator::I32x4Sub => self.vbinop(I32X4, |b, x, y| b.ins().isub(x, y)),
            Operator::I64x2Sub => self.vbinop(I64X2, |b, x, y| b.ins().isub(x, y)),
            Operator::I16x8Mul => self.vbinop(I16X8, |b, x, y| b.ins().imul(x, y)),
            Operator::I32x4Mul => self.vbinop(I32X4, |b, x, y| b.ins().imul(x, y)),
            Operator::I64x2Mul => self.vbinop(I64X2, |b, x, y| b.ins().imul(x, y)),
            Operator::I8x16AddSatS => self.vbinop(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            Operator::I16x8AddSatS => self.vbinop(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            Operator::I8x16AddSatU => self.vbinop(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            Operator::I16x8AddSatU => self.vbinop(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            Operator::I8x16SubSatS => self.vbinop(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            Operator::I16x8SubSatS => self.vbinop(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            Operator::I8x16SubSatU => self.vbinop(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            Operator::I16x8SubSatU => self.vbinop(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            Operator::I8x16MinS => self.vbinop(I8X16, |b, x, y| b.ins().smin(x, y)),
            Operator::I16x8MinS => self.vbinop(I16X8, |b, x, y| b.ins().smin(x, y)),
            Operator::I32x4MinS => self.vbinop(I32X4, |b, x, y| b.ins().smin(x, y)),
            Operator::I8x16MinU => self.vbinop(I8X16, |b, x, y| b.ins().umin(x, y)),
            Operator::I16x8MinU => self.vbinop(I16X8, |b, x, y| b.ins().umin(x, y)),
            Operator::I32x4MinU => self.vbinop(I32X4, |b, x, y| b.ins().umin(x, y)),
            Operator::I8x16MaxS => self.vbinop(I8X16, |b, x, y| b.ins().smax(x, y)),
            Operator::I16x8MaxS => self.vbinop(I16X8, |b, x, y| b.ins().smax(x, y)),
            Operator::I32x4MaxS => self.vbinop(I32X4, |b, x, y| b.ins().smax(x, y)),
            Operator::I8x16MaxU => self.vbinop(I8X16, |b, x, y| b.ins().umax(x, y)),
            Operator::I16x8MaxU => self.vbinop(I16X8, |b, x, y| b.ins().umax(x, y)),
            Operator::I32x4MaxU => self.vbinop(I32X4, |b, x, y| b.ins().umax(x, y)),
            Operator::I8x16AvgrU => self.vbinop(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            Operator::I16x8AvgrU => self.vbinop(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            Operator::I16x8Q15MulrSatS => {
                self.vbinop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }
            Operator::I32x4DotI16x8S => self.vbinop(I16X8, |b, x, y| {
                let (xl, yl) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
                let lo = b.ins().imul(xl, yl);
                let (xh, yh) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
                let hi = b.ins().imul(xh, yh);
                b.ins().iadd_pairwise(lo, hi)
            }),

            // ---- narrowing, widening ----
            Operator::I8x16NarrowI16x8S => self.vbinop(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            Operator::I8x16NarrowI16x8U => self.vbinop(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            Operator::I16x8NarrowI32x4S => self.vbinop(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            Operator::I16x8NarrowI32x4U => self.vbinop(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            Operator::I16x8ExtendLowI8x16S => self.vextend(I8X16, true, false),
            Operator::I16x8ExtendHighI8x16S => self.vextend(I8X16, true, true),
            Operator::I16x8ExtendLowI8x16U => self.vextend(I8X16, false, false),
            Operator::I16x8ExtendHighI8x16U => self.vextend(I8X16, false, true),
            Operator::I32x4ExtendLowI16x8S => self.vextend(I16X8, true, false),
            Operator::I32x4ExtendHighI16x8S => self.vextend(I16X8, true, true),
            Operator::I32x4ExtendLowI16x8U => self.vextend(I16X8, false, false),
            Operator::I32x4ExtendHighI16x8U => self.vextend(I16X8, false, true),
            Operator::I64x2ExtendLowI32x4S => self.vextend(I32X4, true, false),
            Operator::I64x2ExtendHighI32x4S => self.vextend(I32X4, true, true),
            Operator::I64x2ExtendLowI32x4U => self.vextend(I32X4, false, false),
            Operator::I64x2ExtendHighI32x4U => self.vextend(I32X4, false, true),
            Operator::I16x8ExtMulLowI8x16S => self.vextmul(I8X16, true, false),
            Operator::I16x8ExtMulHighI8x16S => self.vextmul(I8X16, true, true),
            Operator::I16x8ExtMulLowI8x16U => self.vextmul(I8X16, false, false),
            Operator::I16x8ExtMulHighI8x16U => self.vextmul(I8X16, false, true),
            Operator::I32x4ExtMulLowI16x8S => self.vextmul(I16X8, true, false),
            Operator::I32x4ExtMulHighI16x8S => self.vextmul(I16X8, true, true),
            Operator::I32x4ExtMulLowI16x8U => self.vextmul(I16X8, false, false),
            Operator::I32x4ExtMulHighI16x8U => self.vextmul(I16X8, false, true),
            Operator::I64x2ExtMulLowI32x4S => self.vextmul(I32X4, true, false),
            Operator::I64x2ExtMulHighI32x4S => self.vextmul(I32X4, true, true),
            Operator::I64x2ExtMulLowI32x4U => self.vextmul(I32X4, false, false),
            Operator::I64x2ExtMulHighI32x4U => self.vextmul(I32X4, false, true),
            Operator::I16x8ExtAddPairwiseI8x16S => self.vextadd_pairwise(I8X16, true),
            Operator::I16x8ExtAddPairwiseI8x16U => self.vextadd_pairwise(I8X16, false),
            Operator::I32x4ExtAddPairwiseI16x8S => self.vextadd_pairwise(I16X8, true),
            Operator::I32x4ExtAddPairwiseI16x8U => self.vextadd_pairwise(I16X8, false),

            // ---- floating point ----
            Operator::F32x4Ceil => self.vunop(F32X4, |b, x| b.ins().ceil(x)),
            Operator::F64x2Ceil => self.vunop(F64X2, |b, x| b.ins().ceil(x)),
            Operator::F32x4Floor => self.vunop(F32X4, |b, x| b.ins().floor(x)),
            Operator::F64x2Floor => self.vunop(F64X2, |b, x| b.ins().floor(x)),
            Operator::F32x4Trunc => self.vunop(F32X4, |b, x| b.ins().trunc(x)),
            Operator::F64x2Trunc => self.vunop(F64X2, |b, x| b.ins().trunc(x)),
            Operator::F32x4Nearest => self.vunop(F32X4, |b, x| b.ins().nearest(x)),
            Operator::F64x2Nearest => self.vunop(F64X2, |b, x| b.ins().nearest(x)),
            Operator::F32x4Abs => self.vunop(F32X4, |b, x| b.ins().fabs(x)),
            Operator::F64x2Abs => self.vunop(F64X2, |b, x| b.ins().fabs(x)),
            Operator::F32x4Neg => self.vunop(F32X4, |b, x| b.ins().fneg(x)),
            Operator::F64x2Neg => self.vunop(F64X2, |b, x| b.ins().fneg(x)),
            Operator::F32x4Sqrt => self.vunop(F32X4, |b, x| b.ins().sqrt(x)),
            Operator::F64x2Sqrt => self.vunop(F64X2, |b, x| b.ins().sqrt(x)),
            Operator::F32x4Add => self.vbinop(F32X4, |b, x, y| b.ins().fadd(x, y)),
            Operator::F64x2Add => self.vbinop(F64X2, |b, x, y| b.ins().fadd(x, y)),
            Operator::F32x4Sub => self.vbinop(F32X4, |b, x, y| b.ins().fsub(x, y)),
            Operator::F64x2Sub => self.vbinop(F64X2, |b, x, y| b.ins().fsub(x, y)),
            Operator::F32x4Mul => self.vbinop(F32X4, |b, x, y| b.ins().fmul(x, y)),
            Operator::F64x2Mul => self.vbinop(F64X2, |b, x, y| b.ins().fmul(x, y)),
            Operator::F32x4Div => self.vbinop(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            Operator::F64x2Div => self.vbinop(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            // CLIF fmin/fmax have the Wasm semantics (NaN propagation, -0 < +0).
            Operator::F32x4Min => self.vbinop(F32X4, |b, x, y| b.ins().fmin(x, y)),
            Operator::F64x2Min => self.vbinop(F64X2, |b, x, y| b.ins().fmin(x, y)),
            Operator::F32x4Max => self.vbinop(F32X4, |b, x, y| b.ins().fmax(x, y)),
            Operator::F64x2Max => self.vbinop(F64X2, |b, x, y| b.ins().fmax(x, y)),
            Operator::F32x4PMin => self.vpminmax(F32X4, false),
            Operator::F64x2PMin => self.vpminmax(F64X2, false),
            Operator::F32x4PMax => self.vpminmax(F32X4, true),
            Operator::F64x2PMax => self.vpminmax(F64X2, true),

            // ---- conversions ----
            Operator::I32x4TruncSatF32x4S => {
                self.vunop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
            }
            Operator::I32x4TruncSatF32x4U => {
                self.vunop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
            }
            Operator::I32x4TruncSatF64x2SZero => self.vunop(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
                let zero = vconst(b, I64X2, &[0; 16]);
                b.ins().snarrow(wide, zero)
            }),
            Operator::I32x4TruncSatF64x2UZero => self.vunop(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
                let zero = vconst(b, I64X2, &[0; 16]);
                b.ins().uunarrow(wide, zero)
            }),
            Operator::F32x4ConvertI32x4S => {
                self.vunop(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x))
            }
            Operator::F32x4ConvertI32x4U => {
                self.vunop(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x))
            }
            Operator::F64x2ConvertLowI32x4S => self.vunop(I32X4, |b, x| {
                let wide = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            Operator::F64x2ConvertLowI32x4U => self.vunop(I32X4, |b, x| {
                let wide = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            Operator::F32x4DemoteF64x2Zero => self.vunop(F64X2, |b, x| b.ins().fvdemote(x)),
            Operator::F64x2PromoteLowF32x4 => self.vunop(F32X4, |b, x| b.ins().fvpromote_low(x)),

            ref other => {
                return self
                    .relaxed_simd_operator(other, offset)
                    .unwrap_or_else(|| Err(unsupported(other, offset, "unsupported operator")));
            }
        }
        Ok(())
    }
}

/// A compile error naming the operator (without its immediates).
fn unsupported(op: &Operator<'_>, offset: usize, why: &str) -> Error {
    let name = format!("{op:?}");
    let name = name.split([' ', '{', '(']).next().unwrap_or_default();
    Error::compile(Some(offset), format!("{why}: {name}"))
}

/// v128 locals, params or results on a target without SIMD.
pub(crate) fn reject_v128(offset: usize) -> Error {
    Error::compile(
        Some(offset),
        "SIMD is not supported by the target (v128 value; riscv64 needs the V extension)",
    )
}
