//! Raw calls into Wasm (through the entry trampoline, with trap handling) and the
//! raw encoding of values in argument buffers, tables and globals.

use super::{Func, FuncKind};
use crate::Error;
use crate::arch;
use crate::runtime::engine::TrampolineKind;
use crate::runtime::store::StoreOpaque;
use crate::runtime::vmcontext::VMFuncRef;
use crate::trap::Activation;
use crate::types::{ExternRef, Val, ValType};

/// Calls function `index` of store `s` with `vals` as the argument/result buffer.
///
/// # Safety
/// `vals` must hold at least max(params, results) slots encoded for the function's type.
pub(crate) unsafe fn call_raw(
    s: &mut StoreOpaque,
    index: usize,
    vals: &mut [u128],
) -> Result<(), Error> {
    let f = &s.funcs[index];
    if let FuncKind::Host(ctx) = &f.kind {
        let func = ctx.func.clone();
        return func(s as *mut StoreOpaque, None, vals);
    }
    let funcref = f.funcref();
    let (sig, code, vmctx) = (f.sig, funcref.wasm_call, funcref.vmctx);
    // A Wasm function's `array_call` caches its entry trampoline, which saves the
    // engine's lock and map lookup on every later call.
    let tramp = match funcref.array_call {
        0 => {
            let t = s.engine.trampoline(TrampolineKind::Entry, sig)?;
            s.funcs[index].set_array_call(t);
            t
        }
        t => t,
    };
    if s.depth == 0 {
        // Approximate the current stack pointer with a local's address.
        let here = 0u8;
        let sp = &here as *const u8 as usize;
        s.limits.stack_limit = sp.saturating_sub(s.engine.config().max_wasm_stack);
    }
    s.depth += 1;
    let platform = s.engine.platform();
    let mut act = Activation::new(platform.activation() as *mut Activation);
    let act_ptr: *mut Activation = &mut act;
    platform.set_activation(act_ptr as *mut u8);
    // SAFETY: `act_ptr` is a live activation whose first field is the register save
    // area; the trampoline matches `sig`, and `code`/`vmctx` belong to a live instance
    // of this store. Traps resume inside `atoll_wasm_enter`, which then returns 1.
    let trapped = unsafe {
        arch::atoll_wasm_enter(
            act_ptr as *mut usize,
            tramp,
            code,
            vmctx,
            vmctx,
            vals.as_mut_ptr() as usize,
        )
    };
    // SAFETY: the activation is still ours; reading through the escaped pointer.
    let prev = unsafe { (*act_ptr).prev };
    platform.set_activation(prev as *mut u8);
    s.depth -= 1;
    if trapped != 0 {
        // SAFETY: as above.
        return Err(unsafe { (*act_ptr).take_error() });
    }
    Ok(())
}

/// Encodes a value in its raw (array-call / table / global) form.
pub(crate) fn val_to_raw(s: &StoreOpaque, v: &Val) -> Result<u128, Error> {
    Ok(match *v {
        Val::I32(x) => u128::from(x as u32),
        Val::I64(x) => u128::from(x as u64),
        Val::F32(x) => u128::from(x),
        Val::F64(x) => u128::from(x),
        Val::V128(x) => x,
        Val::ExternRef(r) => u128::from(ExternRef::to_raw(r)),
        Val::FuncRef(None) => 0,
        Val::FuncRef(Some(f)) => {
            f.check_live(s)?;
            f.funcref_addr(s) as u128
        }
    })
}

/// Decodes a raw value of type `ty`.
pub(crate) fn val_from_raw(s: &StoreOpaque, ty: ValType, raw: u128) -> Val {
    match ty {
        ValType::I32 => Val::I32(raw as u32 as i32),
        ValType::I64 => Val::I64(raw as u64 as i64),
        ValType::F32 => Val::F32(raw as u32),
        ValType::F64 => Val::F64(raw as u64),
        ValType::V128 => Val::V128(raw),
        ValType::ExternRef => Val::ExternRef(ExternRef::from_raw(raw as u64)),
        ValType::FuncRef => {
            let ptr = raw as u64 as usize as *const VMFuncRef;
            if ptr.is_null() {
                Val::FuncRef(None)
            } else {
                // SAFETY: non-null funcref values always point at a VMFuncRef owned by
                // this store (tables/globals only hold funcrefs of their own store).
                let id = unsafe { (*ptr).func_id } as usize;
                Val::FuncRef(Some(Func {
                    store: s.id,
                    index: id,
                    generation: s.funcs[id].generation,
                }))
            }
        }
    }
}
