//! Exceptions (Wasm 3.0 exception handling).
//!
//! `throw` makes an exception object, held by its store and named in Wasm by an
//! `exnref` (its slot + 1; 0 is null). It travels up the stack as
//! [`Error::Exception`] through the activations that traps use: compiled code leaves
//! it in the current activation and raises, as a failing host function does. A call
//! inside a `try_table` enters its callee through [`invoke_catching`], an activation
//! of its own, so an exception from below stops there and the caller's handlers see
//! it, while a trap goes on up. Code outside `try_table` pays nothing. An exception
//! nothing catches is the `Err(Error::Exception(..))` of the host's call; a host
//! function may return one, which throws it on into the Wasm that called it.
//!
//! Lifetime: an exception caught by `catch`/`catch_all` is freed unless a reference to
//! it escaped (`catch_ref`/`catch_all_ref` made an `exnref`, or the host saw it);
//! those live as long as the store, as there is no collector to tell when the last
//! reference goes.

use alloc::vec::Vec;

use crate::Error;
use crate::runtime::func::{FuncKind, call_raw, val_from_raw, val_matches, val_to_raw};
use crate::runtime::libcalls::context;
use crate::runtime::store::{AsContext, AsContextMut, StoreOpaque, opaque, opaque_mut};
use crate::runtime::tag::{Tag, TagData};
use crate::runtime::vmcontext::VMFuncRef;
use crate::trap::Activation;
use crate::types::Val;

/// A thrown exception, as the host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

/// A store's tags and exception objects, made with its first tag: most stores have
/// none, and their store stays one word bigger, not nine (instantiation is measured).
#[derive(Default)]
pub(crate) struct StoreExceptions {
    pub tags: Vec<TagData>,
    /// Exception objects by `exnref - 1`; `None` once freed.
    pub objects: Vec<Option<ExceptionData>>,
    pub free: Vec<usize>,
}

pub(crate) struct ExceptionData {
    /// The store's index of its tag.
    tag: usize,
    payload: Vec<u128>,
    escaped: bool,
}

impl Exception {
    /// A new exception of `tag` carrying `values` (of the tag's parameter types), for
    /// a host function to throw: it returns `Err(Error::Exception(..))`, and the Wasm
    /// that called it can catch it. It lives as long as the store.
    pub fn new(mut store: impl AsContextMut, tag: Tag, values: &[Val]) -> Result<Exception, Error> {
        let s = opaque_mut(&mut store);
        let ty = tag.data_of(s).ty.ty().clone();
        if values.len() != ty.params().len()
            || !values
                .iter()
                .zip(ty.params())
                .all(|(v, t)| val_matches(s, v, *t))
        {
            return Err(Error::usage("exception values do not match the tag's type"));
        }
        let payload = values
            .iter()
            .map(|v| val_to_raw(s, v))
            .collect::<Result<Vec<_>, _>>()?;
        let e = s.new_exception(tag.index, payload);
        s.escape(&Error::Exception(e));
        Ok(e)
    }

    /// Its tag.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let s = opaque(&store);
        Tag {
            store: s.id,
            index: self.data_of(s).tag,
        }
    }

    /// The values it carries, typed by its tag.
    pub fn payload(&self, store: impl AsContext) -> Vec<Val> {
        let s = opaque(&store);
        let e = self.data_of(s);
        let ty = s.eh().tags[e.tag].ty.ty().clone();
        ty.params()
            .iter()
            .zip(&e.payload)
            .map(|(t, raw)| val_from_raw(s, *t, *raw))
            .collect()
    }

    fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a ExceptionData {
        assert_eq!(s.id, self.store, "exception used with a foreign store");
        s.eh().objects[self.index]
            .as_ref()
            .expect("a live exception: freed ones are never handed out")
    }

    /// Its `exnref`.
    pub(crate) fn raw(&self) -> u64 {
        self.index as u64 + 1
    }
}

impl StoreOpaque {
    /// The store's tags and exceptions (made by its first tag, which any exception
    /// needs).
    pub(crate) fn eh(&self) -> &StoreExceptions {
        self.eh
            .as_deref()
            .expect("a store with tags has their state")
    }

    pub(crate) fn eh_mut(&mut self) -> &mut StoreExceptions {
        self.eh.get_or_insert_with(Default::default)
    }

    /// A new exception of the store's tag `tag` carrying `payload`.
    fn new_exception(&mut self, tag: usize, payload: Vec<u128>) -> Exception {
        let data = Some(ExceptionData {
            tag,
            payload,
            escaped: false,
        });
        let eh = self.eh_mut();
        let index = match eh.free.pop() {
            Some(i) => {
                eh.objects[i] = data;
                i
            }
            None => {
                eh.objects.push(data);
                eh.objects.len() - 1
            }
        };
        Exception {
            store: self.id,
            index,
        }
    }

    /// The exception an `exnref` names (a non-null one, which only compiled code or
    /// [`Exception::raw`] make).
    pub(crate) fn exception_of(&self, raw: u64) -> Exception {
        Exception {
            store: self.id,
            index: raw as usize - 1,
        }
    }

    /// Marks an exception the host has seen: it is never freed.
    pub(crate) fn escape(&mut self, e: &Error) {
        if let Error::Exception(x) = e
            && let Some(Some(d)) = self.eh.as_mut().and_then(|eh| eh.objects.get_mut(x.index))
        {
            d.escaped = true;
        }
    }
}

/// `throw tag`: a new exception of the instance's tag `tag` with the payload in `buf`.
///
/// # Safety
/// Called from compiled code with its own vmctx and a buffer of the tag's values.
pub(crate) unsafe extern "C" fn exception_new(
    vmctx: *const u64,
    tag: u64,
    buf: *const u128,
) -> u64 {
    // SAFETY: per the contract.
    let (s, i) = unsafe { context(vmctx) };
    let tag = s.instances[i].tags[tag as usize].index;
    let n = s.eh().tags[tag].ty.ty().params().len();
    // SAFETY: the buffer holds the tag's `n` values.
    let payload = unsafe { core::slice::from_raw_parts(buf, n) }.to_vec();
    s.new_exception(tag, payload).raw()
}

/// Whether exception `exn` has the instance's tag `tag` (1) or not (0).
///
/// # Safety
/// Called from compiled code with its own vmctx and a live `exnref`.
pub(crate) unsafe extern "C" fn exception_matches(vmctx: *const u64, exn: u64, tag: u64) -> u64 {
    // SAFETY: per the contract.
    let (s, i) = unsafe { context(vmctx) };
    let tag = s.instances[i].tags[tag as usize].index;
    let e = s.exception_of(exn);
    u64::from(e.data_of(s).tag == tag)
}

/// A handler took exception `exn`: copies its payload to `buf` (unless null) and,
/// unless `keep` (the handler made a reference to it) or it escaped before, frees it.
///
/// # Safety
/// Called from compiled code with its own vmctx, a live `exnref`, and a null `buf` or
/// one with room for the exception's values.
pub(crate) unsafe extern "C" fn exception_take(
    vmctx: *const u64,
    exn: u64,
    buf: *mut u128,
    keep: u64,
) {
    // SAFETY: per the contract.
    let (s, _) = unsafe { context(vmctx) };
    let index = s.exception_of(exn).index;
    let eh = s.eh_mut();
    let Some(d) = eh.objects[index].as_mut() else {
        return;
    };
    if !buf.is_null() {
        // SAFETY: per the contract, `buf` has room for the payload.
        unsafe { core::ptr::copy_nonoverlapping(d.payload.as_ptr(), buf, d.payload.len()) };
    }
    if keep != 0 {
        d.escaped = true;
    } else if !d.escaped {
        eh.objects[index] = None;
        eh.free.push(index);
    }
}

/// `throw`/`throw_ref` with no handler in the throwing function: leaves the exception
/// in the current activation as its error and returns 1; compiled code then raises a
/// host-error trap, which ends that activation with it.
///
/// # Safety
/// Called from compiled code with its own vmctx and a live `exnref`.
pub(crate) unsafe extern "C" fn exception_throw(vmctx: *const u64, exn: u64) -> u64 {
    // SAFETY: per the contract.
    let (s, _) = unsafe { context(vmctx) };
    let e = Error::Exception(s.exception_of(exn));
    // SAFETY: the platform's current activation is the one running this Wasm.
    unsafe { leave_in_activation(s, e) };
    1
}

/// A call inside `try_table`: calls the function `fref` with its arguments in `buf`
/// (and its results back there) in an activation of its own. 0 if it returned, the
/// `exnref` of an exception it threw, or `u64::MAX` for any other failure, which is
/// then left in the caller's activation for compiled code to raise.
///
/// # Safety
/// Called from compiled code with its own vmctx, a non-null funcref of this store and
/// a buffer with room for the function's parameters and results.
pub(crate) unsafe extern "C" fn invoke_catching(
    vmctx: *const u64,
    fref: u64,
    buf: *mut u128,
) -> u64 {
    // SAFETY: per the contract.
    let (s, instance) = unsafe { context(vmctx) };
    // SAFETY: `fref` is a live funcref of this store.
    let func = unsafe { (*(fref as *const VMFuncRef)).func_id } as usize;
    let ty = &s.funcs[func].ty;
    let len = ty.params().len().max(ty.results().len()).max(1);
    // SAFETY: per the contract, `buf` has room for `len` values.
    let vals = unsafe { core::slice::from_raw_parts_mut(buf, len) };
    let result = match &s.funcs[func].kind {
        // A host function sees the calling instance, as on a plain call.
        FuncKind::Host(ctx) => {
            let f = ctx.func.clone();
            f(s as *mut StoreOpaque, Some(instance), vals)
        }
        // SAFETY: `vals` is encoded for the function's type, which compiled code checked.
        FuncKind::Wasm => unsafe { call_raw(s, func, vals) },
    };
    match result {
        Ok(()) => 0,
        Err(Error::Exception(e)) => e.raw(),
        Err(e) => {
            // SAFETY: `call_raw` restored the caller's activation.
            unsafe { leave_in_activation(s, e) };
            u64::MAX
        }
    }
}

/// Leaves `e` in the current activation, where a host-error trap finds it.
///
/// # Safety
/// The platform's current activation must be live on this thread.
unsafe fn leave_in_activation(s: &StoreOpaque, e: Error) {
    let act = s.engine.platform().activation() as *mut Activation;
    if !act.is_null() {
        // SAFETY: per the contract.
        unsafe { (*act).host_error = Some(e) };
    }
}
