//! Raw calls into Wasm (through the entry trampoline, with trap handling) and the
//! raw encoding of values in argument buffers, tables and globals.

use super::{Func, FuncKind};
use crate::Error;
use crate::arch;
use crate::runtime::engine::TrampolineKind;
use crate::runtime::store::StoreOpaque;
use crate::runtime::vmcontext::VMFuncRef;
use crate::trap::Activation;
use crate::types::{ExternRef, HeapType, Val, ValType};

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

/// [`call_raw`] for a call the host makes: an exception it ends with has been seen by
/// the host, so it is never freed (see `exception`).
///
/// # Safety
/// As [`call_raw`].
pub(crate) unsafe fn call_from_host(
    s: &mut StoreOpaque,
    index: usize,
    vals: &mut [u128],
) -> Result<(), Error> {
    // SAFETY: per the contract.
    unsafe { call_raw(s, index, vals) }.inspect_err(|e| s.escape(e))
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
        Val::FuncRef(None) | Val::ExnRef(None) => 0,
        Val::ExnRef(Some(e)) => {
            let live = s.eh.as_ref().and_then(|eh| eh.objects.get(e.index));
            if e.store != s.id || live.is_none_or(|d| d.is_none()) {
                return Err(Error::usage("exception of another store, or freed"));
            }
            u128::from(e.raw())
        }
        Val::FuncRef(Some(f)) => {
            f.check_live(s)?;
            f.funcref_addr(s) as u128
        }
    })
}

/// Whether `v` is a value of type `ty`. References by Wasm subtyping: a function
/// is of its own type, of `func` and of their nullable forms; null is of every
/// nullable type of its hierarchy.
pub(crate) fn val_matches(s: &StoreOpaque, v: &Val, ty: ValType) -> bool {
    let ValType::Ref(r) = ty else {
        return v.ty() == ty;
    };
    let (top, non_null) = match v {
        Val::FuncRef(None) => (HeapType::Func, None),
        Val::FuncRef(Some(f)) => {
            let Some(data) = s.funcs.get(f.index).filter(|_| f.store == s.id) else {
                return false;
            };
            (HeapType::Func, Some(HeapType::Concrete(data.sig)))
        }
        Val::ExternRef(None) => (HeapType::Extern, None),
        Val::ExternRef(Some(_)) => (HeapType::Extern, Some(HeapType::Extern)),
        Val::ExnRef(None) => (HeapType::Exn, None),
        Val::ExnRef(Some(_)) => (HeapType::Exn, Some(HeapType::Exn)),
        _ => return false,
    };
    match non_null {
        None => r.is_nullable() && r.heap_type().top() == top,
        Some(h) => h.matches(r.heap_type()),
    }
}

/// Decodes a raw value of type `ty`.
pub(crate) fn val_from_raw(s: &StoreOpaque, ty: ValType, raw: u128) -> Val {
    match ty {
        ValType::I32 => Val::I32(raw as u32 as i32),
        ValType::I64 => Val::I64(raw as u64 as i64),
        ValType::F32 => Val::F32(raw as u32),
        ValType::F64 => Val::F64(raw as u64),
        ValType::V128 => Val::V128(raw),
        ValType::Ref(r) if r.heap_type().top() == HeapType::Extern => {
            Val::ExternRef(ExternRef::from_raw(raw as u64))
        }
        ValType::Ref(r) if r.heap_type().top() == HeapType::Exn => {
            Val::ExnRef((raw != 0).then(|| s.exception_of(raw as u64)))
        }
        ValType::Ref(_) => {
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
