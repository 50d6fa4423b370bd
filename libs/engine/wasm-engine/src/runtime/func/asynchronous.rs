//! Async calls and async host functions: [`TypedFunc::call_async`] runs the Wasm call on a
//! [`Fiber`] and returns a future; an async host function ([`Func::wrap_async`],
//! [`crate::Linker::func_wrap_async`]) polls its own future with the caller's task context
//! and, while it is pending, suspends the fiber, so the call's future returns `Pending` and
//! the host thread is free. Polling the call again resumes the fiber where it waited.
//! `no_std`: no executor, no threads; any executor (or a hand-written loop) drives it.
//!
//! Dropping a call's future while it waits cancels it: the fiber is resumed once more, the
//! waiting host function returns [`Error::Host`] without polling its future again, and the
//! Wasm call ends with that error, so nothing stays on the fiber's stack.

use alloc::boxed::Box;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::{Caller, Func, HostFunc, TypedFunc, WasmParams, WasmResults};
use crate::Error;
use crate::runtime::fiber::{Fiber, Suspend, suspend_handle};
use crate::runtime::store::{AsContextMut, Store, StoreInner, StoreOpaque, opaque_mut};
use crate::types::FuncType;

/// Host stack a fiber has beyond the engine's Wasm stack limit (host functions, traps).
const FIBER_HOST_STACK: usize = 1 << 20;

/// What an async host function needs from the call it runs in; the store points at it
/// while the call's fiber runs.
pub(crate) struct AsyncCx {
    suspend: Option<Suspend>,
    task: *mut Context<'static>,
    cancelled: bool,
}

/// The future of an async host function.
pub type HostFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

/// Runs `fut` to completion on the current call's fiber, suspending it while `fut` is
/// pending.
///
/// # Safety
/// `cx` must be the live `AsyncCx` of the call whose fiber we are running on.
unsafe fn block_on<O>(
    cx: *mut AsyncCx,
    fut: impl Future<Output = Result<O, Error>>,
) -> Result<O, Error> {
    let mut fut = core::pin::pin!(fut);
    loop {
        // SAFETY: per the contract; the poller refreshes `task` and `suspend` on each resume.
        unsafe {
            if (*cx).cancelled {
                return Err(Error::Host("the async call was cancelled".into()));
            }
            if let Poll::Ready(r) = fut.as_mut().poll(&mut *(*cx).task) {
                return r;
            }
            match (*cx).suspend {
                Some(s) => s.suspend(),
                None => return Err(Error::Usage("no fiber to suspend".into())),
            }
        }
    }
}

impl Func {
    /// A host function that returns a future: called from a [`TypedFunc::call_async`], it
    /// suspends the Wasm call while the future is pending. Called outside one (a plain
    /// `call`), it is an [`Error::Usage`].
    pub fn wrap_async<T: 'static, P, R, F>(
        mut store: impl AsContextMut<Data = T>,
        f: F,
    ) -> Result<Func, Error>
    where
        P: WasmParams + WasmResults,
        R: WasmParams + WasmResults,
        F: for<'a> Fn(Caller<'a, T>, P) -> HostFuture<'a, R> + Send + Sync + 'static,
    {
        Func::register_host(opaque_mut(&mut store), async_host_fn(f))
    }
}

/// An async host function as a [`HostFunc`] (array form: its params are loaded from the
/// values, its results stored back).
pub(crate) fn async_host_fn<T: 'static, P, R, F>(f: F) -> HostFunc
where
    P: WasmParams + WasmResults,
    R: WasmParams + WasmResults,
    F: for<'a> Fn(Caller<'a, T>, P) -> HostFuture<'a, R> + Send + Sync + 'static,
{
    let ty = FuncType::new(<P as WasmParams>::types(), <R as WasmResults>::types());
    HostFunc::array(
        ty,
        alloc::sync::Arc::new(move |store, instance, vals| {
            // SAFETY: the store pointer comes from a live `Store<T>`, which starts with its
            // `StoreOpaque`.
            let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
            let cx = inner.opaque.async_cx;
            if cx.is_null() {
                return Err(Error::Usage(
                    "an async host function needs an async call (call_async)".into(),
                ));
            }
            let params = P::load_raw(&inner.opaque, vals);
            let fut = f(
                Caller {
                    store: inner,
                    instance,
                },
                params,
            );
            // SAFETY: `cx` is set by the call whose fiber runs this function.
            let results = unsafe { block_on(cx, fut)? };
            // SAFETY: as above; the future and its borrow of the store are gone.
            let inner = unsafe { &*(store as *mut StoreInner<T>) };
            results.store_raw(&inner.opaque, vals)
        }),
    )
}

/// A raw pointer the fiber's body may carry to another thread: the call's future owns
/// what it points at and outlives the body.
struct SendPtr<P>(*mut P);
// SAFETY: see the type's docs; only the body, while resumed, dereferences it.
unsafe impl<P> Send for SendPtr<P> {}

/// The future of [`TypedFunc::call_async`].
pub struct CallAsync<'a, T, R> {
    store: *mut Store<T>,
    fiber: Result<Fiber, Error>,
    cx: Box<AsyncCx>,
    result: Box<Option<Result<R, Error>>>,
    started: bool,
    _borrow: PhantomData<&'a mut Store<T>>,
}

// SAFETY: the future owns the call (fiber, results) and a unique borrow of a store that is
// `Send` when `T` is.
unsafe impl<T: Send, R: Send> Send for CallAsync<'_, T, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    /// Calls the function on a fiber of its own; the future is ready when the call ends.
    /// Async host functions it calls suspend it instead of blocking the thread.
    pub fn call_async<'a, T: 'static>(
        &self,
        store: &'a mut Store<T>,
        params: P,
    ) -> CallAsync<'a, T, R> {
        let mut result = Box::new(None);
        let (slot, at) = (
            SendPtr(&mut *result as *mut Option<_>),
            SendPtr(store as *mut _),
        );
        let func = *self;
        let body = Box::new(move || {
            let (slot, at) = (slot, at);
            // SAFETY: the future holds the store's unique borrow and the result slot for as
            // long as the fiber can run.
            unsafe { *slot.0 = Some(func.call(&mut *at.0, params)) };
        });
        let engine = store.engine();
        let size = engine.config().max_wasm_stack + FIBER_HOST_STACK;
        let fiber = Fiber::new(engine.platform(), size, body);
        CallAsync {
            store,
            fiber,
            cx: Box::new(AsyncCx {
                suspend: None,
                task: core::ptr::null_mut(),
                cancelled: false,
            }),
            result,
            started: false,
            _borrow: PhantomData,
        }
    }
}

impl<T, R> CallAsync<'_, T, R> {
    /// Resumes the fiber with `task` as the context async host functions poll with.
    fn resume(&mut self, task: *mut Context<'static>) -> Result<bool, Error> {
        let fiber = self.fiber.as_mut().map_err(|e| e.clone())?;
        self.started = true;
        self.cx.task = task;
        self.cx.suspend = Some(suspend_handle(fiber));
        // SAFETY: the store is uniquely borrowed by this future.
        let s: &mut StoreOpaque = unsafe { &mut (*self.store).inner.opaque };
        let outer = core::mem::replace(&mut s.async_cx, &mut *self.cx);
        let done = fiber.resume();
        // SAFETY: as above.
        unsafe { (*self.store).inner.opaque.async_cx = outer };
        self.cx.task = core::ptr::null_mut();
        Ok(done)
    }
}

impl<T, R> Future for CallAsync<'_, T, R> {
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let task: *mut Context<'static> = (task as *mut Context<'_>).cast();
        match this.resume(task) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(false) => Poll::Pending,
            Ok(true) => Poll::Ready(this.result.take().unwrap_or_else(|| {
                Err(Error::Usage(
                    "the async call was already polled to its end".into(),
                ))
            })),
        }
    }
}

impl<T, R> Drop for CallAsync<'_, T, R> {
    fn drop(&mut self) {
        if !self.started {
            return;
        }
        self.cx.cancelled = true;
        while let Ok(fiber) = &self.fiber
            && !fiber.is_done()
        {
            if self.resume(core::ptr::null_mut()).is_err() {
                break;
            }
        }
    }
}
