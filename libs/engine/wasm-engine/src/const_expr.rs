//! Constant expressions: globals' initial values, segment offsets, table
//! initializers and element items. Wasm 2.0 allows one instruction; Wasm 3.0's
//! extended constants add `i32`/`i64` `add`, `sub` and `mul`, so an expression is
//! a short stack program. The common one-instruction case stays one value.

use alloc::sync::Arc;
use alloc::vec::Vec;

use wasmparser::Operator;

use crate::Error;

/// One instruction of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

/// What only the instance can evaluate: a function's reference or a global's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leaf {
    Func(u32),
    Global(u32),
}

/// A validated constant expression.
#[derive(Clone, Debug)]
pub(crate) enum ConstExpr {
    One(ConstOp),
    Ops(Arc<[ConstOp]>),
}

impl ConstExpr {
    /// The reference to function `index` (an element segment's item).
    pub(crate) fn func(index: u32) -> ConstExpr {
        ConstExpr::One(ConstOp::RefFunc(index))
    }

    /// Reads a validated expression.
    pub(crate) fn parse(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, Error> {
        let mut reader = expr.get_operators_reader();
        let mut ops = Vec::new();
        loop {
            let offset = reader.original_position() as usize;
            let op = match reader.read()? {
                Operator::End => break,
                Operator::I32Const { value } => ConstOp::I32(value),
                Operator::I64Const { value } => ConstOp::I64(value),
                Operator::F32Const { value } => ConstOp::F32(value.bits()),
                Operator::F64Const { value } => ConstOp::F64(value.bits()),
                Operator::V128Const { value } => ConstOp::V128(u128::from_le_bytes(*value.bytes())),
                Operator::RefNull { .. } => ConstOp::RefNull,
                Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                Operator::I32Add => ConstOp::I32Add,
                Operator::I32Sub => ConstOp::I32Sub,
                Operator::I32Mul => ConstOp::I32Mul,
                Operator::I64Add => ConstOp::I64Add,
                Operator::I64Sub => ConstOp::I64Sub,
                Operator::I64Mul => ConstOp::I64Mul,
                // Valid but not implemented: GC's (`ref.i31`, `struct.new`, ...).
                other => {
                    let name = alloc::format!("{other:?}");
                    let name = name.split([' ', '{', '(']).next().unwrap_or_default();
                    return Err(Error::compile(
                        Some(offset),
                        alloc::format!("unsupported: {name} in a constant expression"),
                    ));
                }
            };
            ops.push(op);
        }
        Ok(match ops.as_slice() {
            [op] => ConstExpr::One(*op),
            _ => ConstExpr::Ops(ops.into()),
        })
    }

    /// The value's bits (as a global cell holds them); `leaf` gives function
    /// references and globals' values.
    pub(crate) fn eval(&self, mut leaf: impl FnMut(Leaf) -> u128) -> u128 {
        match self {
            ConstExpr::One(op) => push(&mut Vec::new(), *op, &mut leaf).unwrap_or(0),
            ConstExpr::Ops(ops) => {
                let mut stack = Vec::with_capacity(ops.len());
                let mut top = 0;
                for op in ops.iter() {
                    if let Some(v) = push(&mut stack, *op, &mut leaf) {
                        stack.push(v);
                    }
                    top = stack.last().copied().unwrap_or(0);
                }
                top
            }
        }
    }
}

/// Runs `op` on `stack` (taking its operands from it) and returns the value it
/// produces.
fn push(stack: &mut Vec<u128>, op: ConstOp, leaf: &mut impl FnMut(Leaf) -> u128) -> Option<u128> {
    let mut i32s = |f: fn(i32, i32) -> i32| {
        let b = stack.pop().unwrap_or(0) as u32 as i32;
        let a = stack.pop().unwrap_or(0) as u32 as i32;
        u128::from(f(a, b) as u32)
    };
    Some(match op {
        ConstOp::I32(v) => u128::from(v as u32),
        ConstOp::I64(v) => u128::from(v as u64),
        ConstOp::F32(v) => u128::from(v),
        ConstOp::F64(v) => u128::from(v),
        ConstOp::V128(v) => v,
        ConstOp::RefNull => 0,
        ConstOp::RefFunc(i) => leaf(Leaf::Func(i)),
        ConstOp::GlobalGet(g) => leaf(Leaf::Global(g)),
        ConstOp::I32Add => i32s(i32::wrapping_add),
        ConstOp::I32Sub => i32s(i32::wrapping_sub),
        ConstOp::I32Mul => i32s(i32::wrapping_mul),
        ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
            let b = stack.pop().unwrap_or(0) as u64 as i64;
            let a = stack.pop().unwrap_or(0) as u64 as i64;
            let v = match op {
                ConstOp::I64Add => a.wrapping_add(b),
                ConstOp::I64Sub => a.wrapping_sub(b),
                _ => a.wrapping_mul(b),
            };
            u128::from(v as u64)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(ops: &[ConstOp]) -> ConstExpr {
        ConstExpr::Ops(ops.into())
    }

    #[test]
    fn an_extended_constant_wraps_like_the_instructions_it_is_made_of() {
        use ConstOp::*;
        let e = ops(&[I32(i32::MAX), I32(2), I32Add]);
        assert_eq!(e.eval(|_| 0), u128::from((i32::MIN + 1) as u32));
        let e = ops(&[I64(5), GlobalGet(0), I64Sub, I64(3), I64Mul]);
        assert_eq!(e.eval(|_| 7), u128::from((-6i64) as u64));
        let e = ops(&[I32(3), I32(4), I32Sub]);
        assert_eq!(e.eval(|_| 0), u128::from(u32::MAX));
    }

    #[test]
    fn leaves_come_from_the_instance() {
        let e = ConstExpr::func(4);
        assert_eq!(e.eval(|l| if l == Leaf::Func(4) { 99 } else { 0 }), 99);
        let e = ConstExpr::One(ConstOp::GlobalGet(2));
        assert_eq!(e.eval(|l| if l == Leaf::Global(2) { 7 } else { 0 }), 7);
    }
}
