//! Host functions: the shim compiled trampolines enter, error and status handling,
//! the calling context ([`Caller`]), and Rust closures as host functions (dynamic and
//! typed, with the native fast path).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{
    HostFn, HostFunc, HostFuncCtx, NativeArg, NativeHostFn, WasmParams, WasmResults, WasmRet,
    WasmTy, val_from_raw, val_matches, val_to_raw,
};
use crate::Error;
use crate::runtime::instance::Extern;
use crate::runtime::store::{StoreInner, StoreOpaque};
use crate::runtime::vmcontext::{VMCTX_INSTANCE, VMCTX_STORE};
use crate::trap::Activation;
use crate::types::{FuncType, Val};

/// The entry point compiled trampolines call for host functions.
pub(super) unsafe extern "C" fn host_shim(
    ctx: *const HostFuncCtx,
    caller_vmctx: *const u8,
    values: *mut u128,
    len: usize,
) -> u32 {
    // SAFETY: the trampoline passes the HostFuncCtx it loaded the shim from, the calling
    // instance's vmctx (whose slots hold the store pointer and instance index) and a
    // buffer of `len` values on its stack.
    unsafe {
        let ctx = &*ctx;
        let (store, instance) = caller_of(caller_vmctx);
        let vals = core::slice::from_raw_parts_mut(values, len);
        host_status(store, (ctx.func)(store, Some(instance), vals))
    }
}

/// A host function's outcome as its trampoline wants it: 0, or 1 after the error has
/// been left in the current activation (the trampoline then traps with `HOST_ERROR`).
///
/// # Safety
/// `store` must be the live store of the calling Wasm code.
#[inline(always)]
unsafe fn host_status(store: *mut StoreOpaque, result: Result<(), Error>) -> u32 {
    match result {
        Ok(()) => 0,
        // SAFETY: per the contract.
        Err(e) => unsafe { host_failed(store, e) },
    }
}

/// The error path of [`host_status`], kept out of the native functions' fast path.
///
/// # Safety
/// As [`host_status`].
#[cold]
#[inline(never)]
unsafe fn host_failed(store: *mut StoreOpaque, e: Error) -> u32 {
    // SAFETY: per the contract, `store` is live.
    let act = unsafe { (*store).engine.platform().activation() } as *mut Activation;
    if !act.is_null() {
        // SAFETY: the platform's current activation is live on this thread.
        unsafe { (*act).host_error = Some(e) };
    }
    1
}

/// The store and instance index of a calling instance's vmctx.
///
/// # Safety
/// `caller_vmctx` must be the vmctx of a live instance.
#[inline(always)]
unsafe fn caller_of(caller_vmctx: *const u8) -> (*mut StoreOpaque, usize) {
    // SAFETY: slots 0 and 2 of every vmctx hold the store pointer and instance index.
    unsafe {
        (
            *(caller_vmctx.add(VMCTX_STORE as usize) as *const *mut StoreOpaque),
            *(caller_vmctx.add(VMCTX_INSTANCE as usize) as *const u64) as usize,
        )
    }
}

pub(crate) fn dynamic_host_fn<T: 'static>(
    ty: FuncType,
    f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
) -> HostFn {
    Arc::new(move |store, instance, vals| {
        // SAFETY: the store pointer comes from a live `Store<T>` (VMContext slot 0 or the
        // caller of `call_raw`), and `StoreInner<T>` starts with its `StoreOpaque`.
        let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
        let params: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| val_from_raw(&inner.opaque, *t, vals[i]))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f(
            Caller {
                store: inner,
                instance,
            },
            &params,
            &mut results,
        )?;
        // SAFETY: as above; the caller's borrow has ended.
        let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if !val_matches(&inner.opaque, r, *t) {
                return Err(Error::Host(alloc::format!(
                    "host function returned {} for a {t} result",
                    r.ty()
                )));
            }
            vals[i] = val_to_raw(&inner.opaque, r)?;
        }
        Ok(())
    })
}

/// The calling context of a host function: the store's data and the calling instance.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    pub(crate) instance: Option<usize>,
}

impl<T> Caller<'_, T> {
    pub fn data(&self) -> &T {
        &self.store.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }
    /// An export of the calling instance (e.g. its memory).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let i = self.instance?;
        self.store.opaque.instances.get(i)?.export_named(name)
    }
    pub fn engine(&self) -> &crate::Engine {
        &self.store.opaque.engine
    }
}

/// Rust closures usable as host functions (see [`Func::wrap`]).
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host_fn(self) -> HostFunc;
}

/// A typed host function: closure `f` of type `ty`, with the native entry `code`
/// (reading `f`) used when `native` says the types allow it, and `array` (which must
/// own `f`, keeping it alive) for every other call.
fn typed_host_func<F>(
    ty: FuncType,
    f: &Arc<F>,
    native: bool,
    code: usize,
    array: HostFn,
) -> HostFunc {
    let native = native.then_some(NativeHostFn {
        code,
        data: Arc::as_ptr(f) as *const (),
    });
    HostFunc { ty, array, native }
}

/// `out` as the result slice of a native host call (null when there are no results).
///
/// # Safety
/// A non-null `out` must be the trampoline's 16-byte result slot.
#[inline(always)]
unsafe fn native_results<'a>(out: *mut u128) -> &'a mut [u128] {
    if out.is_null() {
        &mut []
    } else {
        // SAFETY: per the contract.
        unsafe { core::slice::from_raw_parts_mut(out, 1) }
    }
}

macro_rules! into_func {
    ($( ($($t:ident $i:tt),*) )*) => {$(
        impl<T: 'static, Fun, $($t: WasmTy,)* R: WasmRet> IntoFunc<T, ($($t,)*), R> for Fun
        where
            Fun: Fn($($t),*) -> R + Send + Sync + 'static,
        {
            fn into_host_fn(self) -> HostFunc {
                // The `Caller` form, ignoring its caller.
                let with_caller = move |_: Caller<'_, T>, $($t: $t),*| self($($t),*);
                IntoFunc::<T, (Caller<'static, T>, $($t,)*), R>::into_host_fn(with_caller)
            }
        }

        impl<T: 'static, Fun, $($t: WasmTy,)* R: WasmRet> IntoFunc<T, (Caller<'static, T>, $($t,)*), R> for Fun
        where
            Fun: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
        {
            fn into_host_fn(self) -> HostFunc {
                /// The native form, called by `compile::native_host_trampoline`.
                unsafe extern "C" fn native<T: 'static, Fun, $($t: WasmTy,)* R: WasmRet>(
                    ctx: *const HostFuncCtx,
                    caller_vmctx: *const u8,
                    out: *mut u128,
                    $($t: $t::Native,)*
                ) -> u32
                where
                    Fun: Fn(Caller<'_, T>, $($t),*) -> R,
                {
                    // SAFETY: the trampoline passes the context holding this function
                    // (whose `data` is the closure), the live caller's vmctx and its
                    // result slot; the store is the `StoreOpaque` at the start of a live
                    // `StoreInner<T>` (host functions only run in their own store).
                    unsafe {
                        let f = &*((*ctx).data as *const Fun);
                        let (store, instance) = caller_of(caller_vmctx);
                        let inner = &mut *(store as *mut StoreInner<T>);
                        $( let $t = $t::from_raw(&inner.opaque, NativeArg::to_raw($t)); )*
                        let r = f(Caller { store: inner, instance: Some(instance) }, $($t),*)
                            .into_result();
                        // The `Caller` borrow has ended.
                        let s = &*store;
                        host_status(store, r.and_then(|r| r.store_raw(s, native_results(out))))
                    }
                }
                let f = Arc::new(self);
                let g = f.clone();
                let ty = FuncType::new(alloc::vec![$($t::valtype()),*], <R::Results as WasmResults>::types());
                let native_ok = crate::code::native_host_callable(&ty);
                typed_host_func(
                    ty,
                    &f,
                    native_ok,
                    native::<T, Fun, $($t,)* R> as *const () as usize,
                    Arc::new(move |store, instance, vals| {
                        // SAFETY: `store` is the `StoreOpaque` at the start of a live
                        // `StoreInner<T>` (host functions only run in their own store).
                        let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
                        $( let $t = $t::from_raw(&inner.opaque, vals[$i]); )*
                        let r = (g)(Caller { store: inner, instance }, $($t),*).into_result()?;
                        // SAFETY: as above; the `Caller` borrow has ended.
                        let s = unsafe { &*store };
                        r.store_raw(s, vals)
                    }),
                )
            }
        }
    )*};
}
#[allow(non_snake_case)]
mod into_func_impls {
    use super::*;
    into_func! {
        ()
        (A1 0)
        (A1 0, A2 1)
        (A1 0, A2 1, A3 2)
        (A1 0, A2 1, A3 2, A4 3)
        (A1 0, A2 1, A3 2, A4 3, A5 4)
        (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5)
        (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6)
        (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7)
    }
}
