//! Functions: [`Func`] (Wasm and host functions in a store) and its calls. Split by
//! job: [`raw`] calls into Wasm and value encoding, [`host`] the host-function machinery
//! (array-call shim, [`Caller`], closures as host functions), [`typed`] the typed-call
//! traits and [`TypedFunc`].

mod asynchronous;
mod host;
mod raw;
mod typed;

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::Error;
use crate::runtime::engine::TrampolineKind;
use crate::runtime::store::{AsContext, AsContextMut, StoreOpaque, opaque, opaque_mut};
use crate::runtime::vmcontext::VMFuncRef;
use crate::types::{FuncType, Val};

pub(crate) use asynchronous::AsyncCx;
pub(crate) use asynchronous::async_host_fn;
pub use asynchronous::{CallAsync, HostFuture};
pub(crate) use host::dynamic_host_fn;
use host::host_shim;
pub use host::{Caller, IntoFunc};
pub(crate) use raw::{call_from_host, call_raw, val_from_raw, val_matches, val_to_raw};
pub use typed::{NativeArg, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};

/// A host function body in array-call form: `(store, calling instance, values)`.
#[doc(hidden)]
pub type HostFn =
    Arc<dyn Fn(*mut StoreOpaque, Option<usize>, &mut [u128]) -> Result<(), Error> + Send + Sync>;

/// A host function in native form: `code` is an
/// `extern "C" fn(ctx: *const HostFuncCtx, caller_vmctx, out: *mut u64, params..) -> u32`
/// (see `compile::native_host_trampoline`) reading its closure from `data`.
#[derive(Clone, Copy)]
pub(crate) struct NativeHostFn {
    code: usize,
    data: *const (),
}

/// A host function as definitions hold it: always callable through arrays, and through
/// the native trampoline when its type allows (typed closures without `v128`, at most
/// one result).
#[doc(hidden)]
#[derive(Clone)]
pub struct HostFunc {
    pub(crate) ty: FuncType,
    array: HostFn,
    /// Its `data` points into `array`'s closure, which keeps it alive.
    native: Option<NativeHostFn>,
}

// SAFETY: `native.data` points at a `Send + Sync` closure owned by `array`.
unsafe impl Send for HostFunc {}
// SAFETY: as above.
unsafe impl Sync for HostFunc {}

impl HostFunc {
    pub(crate) fn array(ty: FuncType, array: HostFn) -> HostFunc {
        HostFunc {
            ty,
            array,
            native: None,
        }
    }
}

/// What compiled code sees as the callee vmctx of a host function.
#[repr(C)]
pub(crate) struct HostFuncCtx {
    /// Must stay first: the array trampoline loads it from offset 0.
    shim: usize,
    /// Must stay second: the native trampoline loads it from offset 8.
    native: usize,
    /// The closure `native` reads.
    data: *const (),
    pub(crate) func: HostFn,
}

pub(crate) enum FuncKind {
    Wasm,
    Host(Box<HostFuncCtx>),
}

pub(crate) struct FuncData {
    /// Bumped when the function is freed (its instance disposed), so that handles to it
    /// stop working; a new function in the slot takes the new value.
    pub generation: u32,
    pub ty: FuncType,
    pub sig: u32,
    /// A Wasm function's is in its instance's [`VMContextBlock`] (valid while the
    /// function is live); a host function's is its own allocation, freed on drop.
    ///
    /// [`VMContextBlock`]: crate::runtime::vmcontext::VMContextBlock
    pub funcref: NonNull<VMFuncRef>,
    pub kind: FuncKind,
}

impl FuncData {
    /// The function's funcref (the function must be live).
    pub fn funcref(&self) -> &VMFuncRef {
        // SAFETY: a live function's funcref is valid (see the field), and only written
        // through `set_array_call`, which needs `&mut self`.
        unsafe { self.funcref.as_ref() }
    }

    /// Caches a Wasm function's entry trampoline in its funcref.
    pub fn set_array_call(&mut self, tramp: usize) {
        // SAFETY: as in `funcref`, with exclusive access to the function.
        unsafe { (*self.funcref.as_ptr()).array_call = tramp };
    }
}

impl Drop for FuncData {
    fn drop(&mut self) {
        if let FuncKind::Host(_) = self.kind {
            // SAFETY: a host function's funcref came from `Box::into_raw` in
            // `register_host` and is freed only here.
            drop(unsafe { Box::from_raw(self.funcref.as_ptr()) });
        }
    }
}

// SAFETY: function data is only used through its store, which is not shared.
unsafe impl Send for FuncData {}

/// A function in a store (Wasm or host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) index: usize,
    pub(crate) generation: u32,
}

impl Func {
    pub(crate) fn register_host(s: &mut StoreOpaque, host: HostFunc) -> Result<Func, Error> {
        let HostFunc { ty, array, native } = host;
        let sig = s.engine.intern(&ty);
        let kind = match native {
            Some(_) => TrampolineKind::HostNative,
            None => TrampolineKind::HostArray,
        };
        let tramp = s.engine.trampoline(kind, sig)?;
        let ctx = Box::new(HostFuncCtx {
            shim: host_shim as *const () as usize,
            native: native.map_or(0, |n| n.code),
            data: native.map_or(core::ptr::null(), |n| n.data),
            func: array,
        });
        let vmctx = &*ctx as *const HostFuncCtx as usize;
        Ok(s.add_func(|index, generation| FuncData {
            generation,
            ty,
            sig,
            funcref: NonNull::from(Box::leak(Box::new(VMFuncRef {
                array_call: host_shim as *const () as usize,
                wasm_call: tramp,
                type_id: u64::from(sig),
                vmctx,
                func_id: index as u64,
            }))),
            kind: FuncKind::Host(ctx),
        }))
    }

    /// A host function taking and returning `Val`s.
    ///
    /// # Panics
    /// If the platform cannot map the function's trampoline (out of code
    /// memory); [`Func::try_new`] returns that error instead.
    pub fn new<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Func {
        Func::try_new(store, ty, f).expect("host trampoline compilation failed")
    }

    /// [`Func::new`], failing with the platform's error when the trampoline
    /// cannot be mapped.
    pub fn try_new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Result<Func, Error> {
        let s = opaque_mut(&mut store);
        Func::register_host(s, HostFunc::array(ty.clone(), dynamic_host_fn(ty, f)))
    }

    /// A host function from a Rust closure, with or without a leading `Caller`.
    ///
    /// # Panics
    /// As [`Func::new`]; [`Func::try_wrap`] returns the error instead.
    pub fn wrap<T: 'static, Params, Results>(
        store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        Func::try_wrap(store, f).expect("host trampoline compilation failed")
    }

    /// [`Func::wrap`], failing with the platform's error when the trampoline
    /// cannot be mapped.
    pub fn try_wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Result<Func, Error> {
        let host = f.into_host_fn();
        let s = opaque_mut(&mut store);
        Func::register_host(s, host)
    }

    pub(crate) fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a FuncData {
        assert_eq!(s.id, self.store, "function used with a foreign store");
        let f = &s.funcs[self.index];
        assert_eq!(
            f.generation, self.generation,
            "function of a disposed instance used"
        );
        f
    }

    /// An error unless this function belongs to `s` and its instance was not disposed.
    pub(crate) fn check_live(&self, s: &StoreOpaque) -> Result<(), Error> {
        s.check(self.store)?;
        if s.funcs[self.index].generation != self.generation {
            return Err(Error::usage("function of a disposed instance used"));
        }
        Ok(())
    }

    pub fn ty(&self, store: impl AsContext) -> FuncType {
        self.data_of(opaque(&store)).ty.clone()
    }

    /// Calls the function; checks argument count and types and the result count.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let s = opaque_mut(&mut store);
        self.check_live(s)?;
        let ty = s.funcs[self.index].ty.clone();
        if params.len() != ty.params().len() || results.len() != ty.results().len() {
            return Err(Error::usage(alloc::format!(
                "function {ty:?} called with {} params and {} result slots",
                params.len(),
                results.len()
            )));
        }
        let mut vals = alloc::vec![0u128; params.len().max(results.len()).max(1)];
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if !val_matches(s, p, *t) {
                return Err(Error::usage(alloc::format!(
                    "argument {i} should be {t}, got {}",
                    p.ty()
                )));
            }
            vals[i] = val_to_raw(s, p)?;
        }
        // SAFETY: `s` is this function's store, and `vals` is big enough for its type.
        unsafe { call_from_host(s, self.index, &mut vals)? };
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = val_from_raw(s, *t, vals[i]);
        }
        Ok(())
    }

    /// A typed view; fails if `P`/`R` do not match the function's type.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>, Error> {
        let ty = self.ty(&store);
        if ty.params() != P::types().as_slice() || ty.results() != R::types().as_slice() {
            return Err(Error::usage(alloc::format!(
                "type mismatch: function is {ty:?}"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }

    /// Whether Wasm calls this host function through the native trampoline (typed
    /// closures whose types allow it) rather than through an array of values.
    #[doc(hidden)]
    pub fn is_native_host_fn(&self, store: impl AsContext) -> bool {
        matches!(&self.data_of(opaque(&store)).kind, FuncKind::Host(ctx) if ctx.native != 0)
    }

    pub(crate) fn funcref_addr(&self, s: &StoreOpaque) -> usize {
        self.data_of(s).funcref.as_ptr() as usize
    }
}
