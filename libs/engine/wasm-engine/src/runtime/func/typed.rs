//! Typed calls: Rust types that map to Wasm values ([`WasmTy`]), parameter and result
//! tuples, and [`TypedFunc`].

use alloc::vec::Vec;
use core::marker::PhantomData;

use super::{Func, call_from_host, val_from_raw, val_to_raw};
use crate::Error;
use crate::runtime::store::{AsContextMut, StoreOpaque, opaque_mut};
use crate::types::{ExternRef, Val, ValType};

/// A Rust type that maps to a Wasm value type.
pub trait WasmTy: Sized + Send + 'static {
    /// How the native host-call path passes a parameter of this type (see
    /// `compile::native_host_trampoline`).
    #[doc(hidden)]
    type Native: NativeArg;
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
        ValType::EXTERNREF
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
        ValType::FUNCREF
    }
    fn into_raw(self, s: &StoreOpaque) -> Result<u128, Error> {
        val_to_raw(s, &Val::FuncRef(self))
    }
    fn from_raw(s: &StoreOpaque, raw: u128) -> Self {
        match val_from_raw(s, ValType::FUNCREF, raw) {
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

/// A function with a statically known signature.
pub struct TypedFunc<P, R> {
    pub(super) func: Func,
    pub(super) _marker: PhantomData<fn(P) -> R>,
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
        self.func.check_live(s)?;
        // Parameter and result lists have at most 8 values (the tuple impls).
        let mut vals = [0u128; 8];
        params.store_raw(s, &mut vals)?;
        // SAFETY: types were checked when this TypedFunc was created.
        unsafe { call_from_host(s, self.func.index, &mut vals)? };
        Ok(R::load_raw(s, &vals))
    }

    pub fn func(&self) -> &Func {
        &self.func
    }
}
