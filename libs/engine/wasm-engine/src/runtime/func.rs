//! Functions: Wasm and host, calls from the host into Wasm, typed calls, and the host
//! function machinery (array-call shim, `Caller`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::marker::PhantomData;

use crate::Error;
use crate::arch;
use crate::runtime::engine::TrampolineKind;
use crate::runtime::instance::Extern;
use crate::runtime::store::{AsContext, AsContextMut, StoreInner, StoreOpaque, opaque, opaque_mut};
use crate::runtime::vmcontext::{VMCTX_INSTANCE, VMCTX_STORE, VMFuncRef};
use crate::trap::Activation;
use crate::types::{ExternRef, FuncType, Val, ValType};

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
    func: HostFn,
}

pub(crate) enum FuncKind {
    Wasm,
    Host(Box<HostFuncCtx>),
}

pub(crate) struct FuncData {
    pub ty: FuncType,
    pub sig: u32,
    pub funcref: Box<VMFuncRef>,
    pub kind: FuncKind,
}

// SAFETY: function data is only used through its store, which is not shared.
unsafe impl Send for FuncData {}

/// A function in a store (Wasm or host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

/// The entry point compiled trampolines call for host functions.
unsafe extern "C" fn host_shim(
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
        let index = s.funcs.len();
        let funcref = Box::new(VMFuncRef {
            array_call: host_shim as *const () as usize,
            wasm_call: tramp,
            type_id: u64::from(sig),
            vmctx: &*ctx as *const HostFuncCtx as usize,
            func_id: index as u64,
        });
        s.funcs.push(FuncData {
            ty,
            sig,
            funcref,
            kind: FuncKind::Host(ctx),
        });
        Ok(Func { store: s.id, index })
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
        &s.funcs[self.index]
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
        s.check(self.store)?;
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
            if p.ty() != *t {
                return Err(Error::usage(alloc::format!(
                    "argument {i} should be {t}, got {}",
                    p.ty()
                )));
            }
            vals[i] = val_to_raw(s, p)?;
        }
        // SAFETY: `s` is this function's store, and `vals` is big enough for its type.
        unsafe { call_raw(s, self.index, &mut vals)? };
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
        &*self.data_of(s).funcref as *const VMFuncRef as usize
    }
}

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
    let (sig, code, vmctx) = (f.sig, f.funcref.wasm_call, f.funcref.vmctx);
    // A Wasm function's `array_call` caches its entry trampoline, which saves the
    // engine's lock and map lookup on every later call.
    let tramp = match f.funcref.array_call {
        0 => {
            let t = s.engine.trampoline(TrampolineKind::Entry, sig)?;
            s.funcs[index].funcref.array_call = t;
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
            if r.ty() != *t {
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
            s.check(f.store)?;
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
                }))
            }
        }
    }
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
        self.store
            .opaque
            .instances
            .get(i)?
            .exports
            .get(name)
            .copied()
    }
    pub fn engine(&self) -> &crate::Engine {
        &self.store.opaque.engine
    }
}

/// A Rust type that maps to a Wasm value type.
pub trait WasmTy: Sized + Send + 'static {
    /// How the native host-call path passes a parameter of this type (see
    /// `compile::native_host_trampoline`).
    #[doc(hidden)]
    type Native: NativeArg;
    /// Whether host functions may take and return this type natively (not `v128`).
    #[doc(hidden)]
    const NATIVE: bool = true;
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn into_raw(self, s: &StoreOpaque) -> Result<u128, Error>;
    #[doc(hidden)]
    fn from_raw(s: &StoreOpaque, raw: u128) -> Self;
}

/// A native host-call argument: a 64-bit integer or a float.
#[doc(hidden)]
pub trait NativeArg: Copy {
    fn to_raw(self) -> u128;
}
impl NativeArg for u64 {
    #[inline(always)]
    fn to_raw(self) -> u128 {
        u128::from(self)
    }
}
impl NativeArg for f32 {
    #[inline(always)]
    fn to_raw(self) -> u128 {
        u128::from(self.to_bits())
    }
}
impl NativeArg for f64 {
    #[inline(always)]
    fn to_raw(self) -> u128 {
        u128::from(self.to_bits())
    }
}

/// Numbers: `$bits` is the unsigned type of the same width, whose value is the raw form;
/// `$to_bits`/`$from_bits` convert to and from it.
macro_rules! wasm_ty_num {
    ($($t:ty: $vt:ident, $native:ty, $bits:ty, $to_bits:expr, $from_bits:expr;)*) => {$(
        impl WasmTy for $t {
            type Native = $native;
            fn valtype() -> ValType {
                ValType::$vt
            }
            #[inline(always)]
            fn into_raw(self, _: &StoreOpaque) -> Result<u128, Error> {
                let to_bits: fn($t) -> $bits = $to_bits;
                Ok(u128::from(to_bits(self)))
            }
            #[inline(always)]
            fn from_raw(_: &StoreOpaque, raw: u128) -> Self {
                let from_bits: fn($bits) -> $t = $from_bits;
                from_bits(raw as $bits)
            }
        }
    )*};
}
wasm_ty_num! {
    i32: I32, u64, u32, |x| x as u32, |b| b as i32;
    u32: I32, u64, u32, |x| x, |b| b;
    i64: I64, u64, u64, |x| x as u64, |b| b as i64;
    u64: I64, u64, u64, |x| x, |b| b;
    f32: F32, f32, u32, f32::to_bits, f32::from_bits;
    f64: F64, f64, u64, f64::to_bits, f64::from_bits;
}
impl WasmTy for u128 {
    /// Unused: `v128` functions take the array path.
    type Native = u64;
    const NATIVE: bool = false;
    fn valtype() -> ValType {
        ValType::V128
    }
    #[inline(always)]
    fn into_raw(self, _: &StoreOpaque) -> Result<u128, Error> {
        Ok(self)
    }
    #[inline(always)]
    fn from_raw(_: &StoreOpaque, raw: u128) -> Self {
        raw
    }
}

impl WasmTy for Option<ExternRef> {
    type Native = u64;
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    #[inline(always)]
    fn into_raw(self, _: &StoreOpaque) -> Result<u128, Error> {
        Ok(u128::from(ExternRef::to_raw(self)))
    }
    #[inline(always)]
    fn from_raw(_: &StoreOpaque, raw: u128) -> Self {
        ExternRef::from_raw(raw as u64)
    }
}

impl WasmTy for Option<Func> {
    type Native = u64;
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn into_raw(self, s: &StoreOpaque) -> Result<u128, Error> {
        val_to_raw(s, &Val::FuncRef(self))
    }
    fn from_raw(s: &StoreOpaque, raw: u128) -> Self {
        match val_from_raw(s, ValType::FuncRef, raw) {
            Val::FuncRef(f) => f,
            _ => None,
        }
    }
}

/// Parameter lists of typed functions: `()`, a single `WasmTy`, or tuples of them.
pub trait WasmParams: Send + 'static {
    fn types() -> Vec<ValType>;
    #[doc(hidden)]
    fn store_raw(self, s: &StoreOpaque, vals: &mut [u128]) -> Result<(), Error>;
}

/// Result lists of typed functions.
pub trait WasmResults: Send + 'static {
    /// Whether a host function may return these natively: at most one value, not `v128`.
    #[doc(hidden)]
    const NATIVE: bool;
    fn types() -> Vec<ValType>;
    #[doc(hidden)]
    fn load_raw(s: &StoreOpaque, vals: &[u128]) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    fn types() -> Vec<ValType> {
        alloc::vec![A::valtype()]
    }
    #[inline(always)]
    fn store_raw(self, s: &StoreOpaque, vals: &mut [u128]) -> Result<(), Error> {
        vals[0] = self.into_raw(s)?;
        Ok(())
    }
}

impl<A: WasmTy> WasmResults for A {
    const NATIVE: bool = A::NATIVE;
    fn types() -> Vec<ValType> {
        alloc::vec![A::valtype()]
    }
    fn load_raw(s: &StoreOpaque, vals: &[u128]) -> Self {
        A::from_raw(s, vals[0])
    }
}

macro_rules! tuples {
    ($( ($($t:ident $i:tt),*) )*) => {$(
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn types() -> Vec<ValType> {
                alloc::vec![$($t::valtype()),*]
            }
            #[allow(unused_variables)]
            #[inline(always)]
            fn store_raw(self, s: &StoreOpaque, vals: &mut [u128]) -> Result<(), Error> {
                $( vals[$i] = self.$i.into_raw(s)?; )*
                Ok(())
            }
        }
        impl<$($t: WasmTy),*> WasmResults for ($($t,)*) {
            const NATIVE: bool = { let names: &[&str] = &[$(stringify!($t)),*]; names.len() <= 1 $(&& $t::NATIVE)* };
            fn types() -> Vec<ValType> {
                alloc::vec![$($t::valtype()),*]
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn load_raw(s: &StoreOpaque, vals: &[u128]) -> Self {
                ($( $t::from_raw(s, vals[$i]), )*)
            }
        }
    )*};
}
tuples! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// What a host closure may return: results, or `Result<results, Error>`.
pub trait WasmRet: Send + 'static {
    type Results: WasmResults + WasmParams;
    fn into_result(self) -> Result<Self::Results, Error>;
}

impl<R: WasmResults + WasmParams> WasmRet for R {
    type Results = R;
    #[inline(always)]
    fn into_result(self) -> Result<R, Error> {
        Ok(self)
    }
}

impl<R: WasmResults + WasmParams> WasmRet for Result<R, Error> {
    type Results = R;
    #[inline(always)]
    fn into_result(self) -> Result<R, Error> {
        self
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
                typed_host_func(
                    FuncType::new(alloc::vec![$($t::valtype()),*], <R::Results as WasmResults>::types()),
                    &f,
                    true $(&& $t::NATIVE)* && R::Results::NATIVE,
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

/// A function with a statically known signature.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R, Error> {
        let s = opaque_mut(&mut store);
        s.check(self.func.store)?;
        // Parameter and result lists have at most 8 values (the tuple impls).
        let mut vals = [0u128; 8];
        params.store_raw(s, &mut vals)?;
        // SAFETY: types were checked when this TypedFunc was created.
        unsafe { call_raw(s, self.func.index, &mut vals)? };
        Ok(R::load_raw(s, &vals))
    }

    pub fn func(&self) -> &Func {
        &self.func
    }
}
