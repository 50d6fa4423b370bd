//! Relaxed SIMD, made deterministic: every relaxed operator computes what one fixed
//! Wasm 2.0 sequence computes, the same on every target, so a program gives the same
//! results on x86_64 and riscv64 (and under the spec's every-choice tests):
//!
//! - `relaxed_swizzle` is `swizzle` (an index past 15 gives 0);
//! - `relaxed_trunc*` are the saturating truncations (NaN gives 0);
//! - `relaxed_madd`/`relaxed_nmadd` are unfused: `a * b` rounded, then `± c`;
//! - `relaxed_laneselect` is `bitselect` (every bit of the mask counts);
//! - `relaxed_min`/`relaxed_max` are `min`/`max` (NaN propagates, -0 < +0);
//! - `relaxed_q15mulr_s` is `q15mulr_sat_s`;
//! - `relaxed_dot_i8x16_i7x16_s` multiplies the lanes as signed bytes and adds pairs
//!   with wrapping, and `..._add_s` widens that pairwise (signed) and adds `c`.

use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::I8X16;
use wasmparser::Operator;

use super::Translator;
use crate::Error;

impl Translator<'_, '_> {
    /// Translates `op` if it is a relaxed SIMD operator; `None` if it is not one.
    pub(super) fn relaxed_simd_operator(
        &mut self,
        op: &Operator<'_>,
        offset: usize,
    ) -> Option<Result<(), Error>> {
        use Operator as O;
        let same = match op {
            O::I8x16RelaxedSwizzle => O::I8x16Swizzle,
            O::I32x4RelaxedTruncF32x4S => O::I32x4TruncSatF32x4S,
            O::I32x4RelaxedTruncF32x4U => O::I32x4TruncSatF32x4U,
            O::I32x4RelaxedTruncF64x2SZero => O::I32x4TruncSatF64x2SZero,
            O::I32x4RelaxedTruncF64x2UZero => O::I32x4TruncSatF64x2UZero,
            O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => O::V128Bitselect,
            O::F32x4RelaxedMin => O::F32x4Min,
            O::F32x4RelaxedMax => O::F32x4Max,
            O::F64x2RelaxedMin => O::F64x2Min,
            O::F64x2RelaxedMax => O::F64x2Max,
            O::I16x8RelaxedQ15mulrS => O::I16x8Q15MulrSatS,
            O::F32x4RelaxedMadd | O::F32x4RelaxedNmadd => {
                let negate = matches!(op, O::F32x4RelaxedNmadd);
                return Some(self.madd([O::F32x4Mul, O::F32x4Neg, O::F32x4Add], negate, offset));
            }
            O::F64x2RelaxedMadd | O::F64x2RelaxedNmadd => {
                let negate = matches!(op, O::F64x2RelaxedNmadd);
                return Some(self.madd([O::F64x2Mul, O::F64x2Neg, O::F64x2Add], negate, offset));
            }
            O::I16x8RelaxedDotI8x16I7x16S => {
                self.dot_i8x16();
                return Some(Ok(()));
            }
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop();
                self.dot_i8x16();
                let r = self
                    .simd_operator(&O::I32x4ExtAddPairwiseI16x8S, offset)
                    .and_then(|()| {
                        self.push(c);
                        self.simd_operator(&O::I32x4Add, offset)
                    });
                return Some(r);
            }
            _ => return None,
        };
        Some(self.simd_operator(&same, offset))
    }

    /// `a * b + c`, or with `negate` `-(a * b) + c`, unfused: `ops` are the lane
    /// type's mul, neg and add.
    fn madd(
        &mut self,
        ops: [Operator<'static>; 3],
        negate: bool,
        offset: usize,
    ) -> Result<(), Error> {
        let [mul, neg, add] = ops;
        let c = self.pop();
        self.simd_operator(&mul, offset)?;
        if negate {
            self.simd_operator(&neg, offset)?;
        }
        self.push(c);
        self.simd_operator(&add, offset)
    }

    /// The i16x8 pairwise sums of the signed byte products of the top two operands.
    fn dot_i8x16(&mut self) {
        self.vbinop(I8X16, |b, x, y| {
            let (xl, yl) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
            let lo = b.ins().imul(xl, yl);
            let (xh, yh) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
            let hi = b.ins().imul(xh, yh);
            b.ins().iadd_pairwise(lo, hi)
        });
    }
}
