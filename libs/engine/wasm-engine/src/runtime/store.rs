//! The store: owns every instance, function, memory, table and global created in it,
//! plus the host's data `T`. Handles (`Func`, `Memory`, ...) are indices into a store.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::Error;
use crate::runtime::engine::Engine;
use crate::runtime::exception::StoreExceptions;
use crate::runtime::func::{AsyncCx, Caller, Func, FuncData};
use crate::runtime::global::GlobalData;
use crate::runtime::instance::InstanceData;
use crate::runtime::memory::MemoryData;
use crate::runtime::table::TableData;
use crate::runtime::vmcontext::VMRuntimeLimits;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Limits on what a store may create. Defaults: 4096 pages per memory (or the engine's
/// `max_memory_pages`), 10 million table elements, 10 000 instances, memories and tables.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    pub memory_pages: u64,
    pub table_elements: u64,
    pub instances: usize,
    pub memories: usize,
    pub tables: usize,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_pages: 4096,
            table_elements: 10_000_000,
            instances: 10_000,
            memories: 10_000,
            tables: 10_000,
        }
    }
}

/// Builder for [`StoreLimits`].
#[derive(Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    pub fn new() -> Self {
        StoreLimitsBuilder(StoreLimits::default())
    }
    /// Maximum size of each linear memory, in bytes.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_pages = (bytes as u64) / 65536;
        self
    }
    pub fn table_elements(mut self, n: u64) -> Self {
        self.0.table_elements = n;
        self
    }
    pub fn instances(mut self, n: usize) -> Self {
        self.0.instances = n;
        self
    }
    pub fn memories(mut self, n: usize) -> Self {
        self.0.memories = n;
        self
    }
    pub fn tables(mut self, n: usize) -> Self {
        self.0.tables = n;
        self
    }
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// A limiter consulted when memories and tables grow. [`StoreLimits`] is one.
pub trait ResourceLimiter {
    fn memory_growing(&self, desired_pages: u64) -> bool;
    fn table_growing(&self, desired_elements: u64) -> bool;
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&self, desired_pages: u64) -> bool {
        desired_pages <= self.memory_pages
    }
    fn table_growing(&self, desired_elements: u64) -> bool {
        desired_elements <= self.table_elements
    }
}

/// What to do when a store's epoch deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochAction {
    /// Go on running, with a new deadline this many ticks beyond the current epoch.
    /// The callback may have yielded the CPU first: that is how a kernel preempts.
    Continue(u64),
    /// Stop: the call returns [`Error::Interrupted`].
    Interrupt,
}

/// A store's epoch callback, erased over `T`; it gets the store it belongs to.
pub(crate) type EpochCallback = Box<dyn FnMut(*mut StoreOpaque) -> EpochAction + Send>;

/// The untyped part of a store. Compiled code reaches it through VMContext slot 0.
#[doc(hidden)]
pub struct StoreOpaque {
    pub(crate) engine: Engine,
    pub(crate) id: u64,
    /// In place: the store is boxed (see [`Store`]), so its address is stable.
    pub(crate) limits: VMRuntimeLimits,
    pub(crate) store_limits: StoreLimits,
    pub(crate) funcs: Vec<FuncData>,
    pub(crate) memories: Vec<MemoryData>,
    pub(crate) tables: Vec<TableData>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) instances: Vec<InstanceData>,
    /// Tags and exceptions (see `exception`), from the first tag on.
    pub(crate) eh: Option<Box<StoreExceptions>>,
    /// Slots of `funcs` and `instances` freed by [`crate::Instance::dispose`], for reuse.
    pub(crate) free_funcs: Vec<usize>,
    pub(crate) free_instances: Vec<usize>,
    /// Host → Wasm nesting depth.
    pub(crate) depth: u32,
    /// The async call whose fiber runs this store's Wasm (null outside one).
    pub(crate) async_cx: *mut AsyncCx,
    /// Consulted when the epoch deadline passes; `None` interrupts.
    pub(crate) epoch_callback: Option<EpochCallback>,
}

impl StoreOpaque {
    /// A store with nothing in it (not generic, so that every `Store<T>` shares it).
    fn new(engine: &Engine) -> StoreOpaque {
        StoreOpaque {
            engine: engine.clone(),
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            limits: VMRuntimeLimits {
                stack_limit: 0,
                fuel: 0,
                epoch_deadline: u64::MAX,
                epoch_ptr: &engine.inner.epoch as *const AtomicU64,
            },
            store_limits: StoreLimits {
                memory_pages: engine.config().max_memory_pages,
                ..StoreLimits::default()
            },
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            eh: None,
            free_funcs: Vec::new(),
            free_instances: Vec::new(),
            depth: 0,
            async_cx: core::ptr::null_mut(),
            epoch_callback: None,
        }
    }

    /// Adds the function `make(index, generation)` builds, in a freed slot if there is one.
    pub(crate) fn add_func(&mut self, make: impl FnOnce(usize, u32) -> FuncData) -> Func {
        let (index, generation) = match self.free_funcs.pop() {
            Some(i) => (i, self.funcs[i].generation),
            None => (self.funcs.len(), 0),
        };
        let data = make(index, generation);
        if index == self.funcs.len() {
            self.funcs.push(data);
        } else {
            self.funcs[index] = data;
        }
        Func {
            store: self.id,
            index,
            generation,
        }
    }

    /// Live instances (not disposed).
    pub(crate) fn instance_count(&self) -> usize {
        self.instances.len() - self.free_instances.len()
    }

    pub fn check(&self, store_id: u64) -> Result<(), Error> {
        if store_id == self.id {
            Ok(())
        } else {
            Err(Error::usage(
                "object used with a store it does not belong to",
            ))
        }
    }
}

#[repr(C)]
pub(crate) struct StoreInner<T> {
    /// Must stay first: `*mut StoreOpaque` is cast back to `*mut StoreInner<T>`.
    pub opaque: StoreOpaque,
    pub data: T,
}

/// A collection of Wasm instances and host state `T`.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

// SAFETY: a store owns everything its raw pointers point to (memories, tables, VM
// structures) except the engine's epoch counter, which is an atomic in an `Arc` the store
// keeps alive. Nothing is tied to the creating thread: the activation chain lives on the
// stack of whichever thread is calling into Wasm, and `&mut Store` is needed to call.
unsafe impl<T: Send> Send for Store<T> {}

impl<T> Store<T> {
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque::new(engine),
                data,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
    pub fn data(&self) -> &T {
        &self.inner.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }
    pub fn into_data(self) -> T
    where
        T: Default,
    {
        let mut inner = self.inner;
        core::mem::take(&mut inner.data)
    }

    /// Sets the remaining fuel. Fails unless the engine was configured with fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), Error> {
        if !self.inner.opaque.engine.config().fuel {
            return Err(Error::usage("fuel is not enabled in this engine's Config"));
        }
        self.inner.opaque.limits.fuel = fuel.min(i64::MAX as u64) as i64;
        Ok(())
    }

    /// Remaining fuel.
    pub fn get_fuel(&self) -> Result<u64, Error> {
        if !self.inner.opaque.engine.config().fuel {
            return Err(Error::usage("fuel is not enabled in this engine's Config"));
        }
        Ok(self.inner.opaque.limits.fuel.max(0) as u64)
    }

    /// Interrupt Wasm once the engine's epoch reaches `current + ticks`.
    /// Until this is called, the deadline is "never".
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        let now = self.inner.opaque.engine.inner.epoch.load(Ordering::Acquire);
        self.inner.opaque.limits.epoch_deadline = now.saturating_add(ticks_beyond_current);
    }

    /// Calls `f` whenever the epoch deadline passes, instead of interrupting: it returns
    /// whether to go on (with a new deadline) or to interrupt the call.
    pub fn epoch_deadline_callback(
        &mut self,
        mut f: impl FnMut(&mut T) -> EpochAction + Send + 'static,
    ) where
        T: 'static,
    {
        self.inner.opaque.epoch_callback = Some(Box::new(move |opaque: *mut StoreOpaque| {
            // SAFETY: `opaque` is the first field of this store's `#[repr(C)]
            // StoreInner<T>` (the callback never leaves its store), and only `data` is
            // touched, which compiled code never reaches.
            let data = unsafe { &mut (*opaque.cast::<StoreInner<T>>()).data };
            f(data)
        }));
    }

    /// Interrupt on the deadline again (the default).
    pub fn epoch_deadline_interrupt(&mut self) {
        self.inner.opaque.epoch_callback = None;
    }

    /// Replaces the store's resource limits.
    pub fn limiter(&mut self, limits: StoreLimits) {
        self.inner.opaque.store_limits = limits;
    }
}

/// Read access to a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);
/// Write access to a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContextMut<'_, T> {
    pub fn data(&self) -> &T {
        &self.0.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
}

/// Anything that gives read access to a store: `&Store`, `&mut Store`, `Caller`, ...
pub trait AsContext {
    type Data;
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that gives write access to a store.
pub trait AsContextMut: AsContext {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}
impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}
impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}
impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}
impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}
impl<S: AsContext + ?Sized> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        (**self).as_context()
    }
}
impl<S: AsContext + ?Sized> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        (**self).as_context()
    }
}
impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        (**self).as_context_mut()
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut s.inner)
    }
}
impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(c.store)
    }
}
impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(c: StoreContextMut<'a, T>) -> Self {
        StoreContext(c.0)
    }
}

/// Shorthand for the untyped store behind a context.
pub(crate) fn opaque<S: AsContext>(s: &S) -> &StoreOpaque {
    &s.as_context().0.opaque
}

pub(crate) fn opaque_mut<S: AsContextMut>(s: &mut S) -> &mut StoreOpaque {
    &mut s.as_context_mut().0.opaque
}

/// Default message for resource-limit errors.
pub(crate) fn limit_error(what: &str) -> Error {
    Error::ResourceLimit(String::from(what))
}
