//! The two engines behind one interface, so that both run the same code.

/// One engine configuration.
pub trait Runtime: Sized {
    const NAME: &'static str;
    type Module;
    type Instance: Instance;
    /// An engine; `parallel`: compile on every core (else on one thread).
    fn new(parallel: bool) -> Result<Self, String>;
    fn compile(&self, bytes: &[u8]) -> Result<Self::Module, String>;
    /// The workloads module instantiated in a store of its own, with
    /// `env.noop` defined.
    fn instance(&self, module: &Self::Module) -> Result<Self::Instance, String>;
    /// A fresh store, an instance of `module` (no imports), then both dropped.
    fn instantiate_and_drop(&self, module: &Self::Module) -> Result<(), String>;
}

pub trait Instance {
    /// Calls `export(n) -> i64`.
    fn call(&mut self, export: &str, n: i32) -> Result<i64, String>;
    /// Calls `bench_empty` `n` times.
    fn call_empty(&mut self, n: u32) -> Result<(), String>;
    /// Calls `export` `n` times, each of which must trap.
    fn traps(&mut self, export: &str, n: u32) -> Result<(), String>;
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub use atoll::Atoll;
pub use wasmtime_subject::Wasmtime;

mod atoll {
    use std::sync::Arc;

    use wasm_engine::linux::LinuxPlatform;
    use wasm_engine::{Config, Engine, Error, Instance, Linker, Module, Platform, Store};

    use super::err;

    pub struct Atoll(Engine);

    /// The Linux platform compiling on one thread (the trait's default
    /// `run_jobs`).
    struct Sequential(LinuxPlatform);

    impl Platform for Sequential {
        fn page_size(&self) -> usize {
            self.0.page_size()
        }
        fn reserve(&self, size: usize) -> Result<*mut u8, Error> {
            self.0.reserve(size)
        }
        fn commit(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
            self.0.commit(ptr, len)
        }
        fn publish_code(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
            self.0.publish_code(ptr, len)
        }
        unsafe fn release(&self, ptr: *mut u8, size: usize) {
            // SAFETY: forwarded with the caller's guarantee.
            unsafe { self.0.release(ptr, size) }
        }
        fn reserve_memory(&self, size: usize, committed: usize) -> Result<*mut u8, Error> {
            self.0.reserve_memory(size, committed)
        }
        unsafe fn release_memory(&self, ptr: *mut u8, size: usize, committed: usize) {
            // SAFETY: forwarded with the caller's guarantee.
            unsafe { self.0.release_memory(ptr, size, committed) }
        }
        fn activation(&self) -> *mut u8 {
            self.0.activation()
        }
        fn set_activation(&self, activation: *mut u8) {
            self.0.set_activation(activation)
        }
        fn monotonic_nanos(&self) -> u64 {
            self.0.monotonic_nanos()
        }
    }

    pub struct AtollInstance {
        store: Store<()>,
        instance: Instance,
    }

    impl super::Runtime for Atoll {
        const NAME: &'static str = "atoll";
        type Module = Module;
        type Instance = AtollInstance;

        fn new(parallel: bool) -> Result<Self, String> {
            let mut config = Config::new();
            config.simd(true);
            let platform: Arc<dyn Platform> = if parallel {
                Arc::new(LinuxPlatform::new())
            } else {
                Arc::new(Sequential(LinuxPlatform::new()))
            };
            Ok(Atoll(Engine::new(&config, platform).map_err(err)?))
        }

        fn compile(&self, bytes: &[u8]) -> Result<Module, String> {
            Module::new(&self.0, bytes).map_err(err)
        }

        fn instance(&self, module: &Module) -> Result<AtollInstance, String> {
            let mut store = Store::new(&self.0, ());
            let mut linker = Linker::new(&self.0);
            linker.func_wrap("env", "noop", || {}).map_err(err)?;
            let instance = linker.instantiate(&mut store, module).map_err(err)?;
            Ok(AtollInstance { store, instance })
        }

        fn instantiate_and_drop(&self, module: &Module) -> Result<(), String> {
            let mut store = Store::new(&self.0, ());
            Instance::new(&mut store, module, &[]).map_err(err)?;
            Ok(())
        }
    }

    impl super::Instance for AtollInstance {
        fn call(&mut self, export: &str, n: i32) -> Result<i64, String> {
            let f = self
                .instance
                .get_typed_func::<i32, i64>(&mut self.store, export)
                .map_err(err)?;
            f.call(&mut self.store, n).map_err(err)
        }

        fn call_empty(&mut self, n: u32) -> Result<(), String> {
            let f = self
                .instance
                .get_typed_func::<(), ()>(&mut self.store, "bench_empty")
                .map_err(err)?;
            (0..n).try_for_each(|_| f.call(&mut self.store, ()).map_err(err))
        }

        fn traps(&mut self, export: &str, n: u32) -> Result<(), String> {
            let f = self.instance.get_func(&mut self.store, export);
            let f = f.ok_or_else(|| format!("no export {export}"))?;
            let mut results = [wasm_engine::Val::I32(0)];
            let results = &mut results[..f.ty(&self.store).results().len()];
            for _ in 0..n {
                match f.call(&mut self.store, &[], results) {
                    Err(Error::Trap(_)) => {}
                    other => return Err(format!("{export} did not trap: {other:?}")),
                }
            }
            Ok(())
        }
    }
}

mod wasmtime_subject {
    use wasmtime::{Config, Engine, Instance, Linker, Module, Store, Trap, TypedFunc};

    use super::err;

    pub struct Wasmtime(Engine);

    pub struct WasmtimeInstance {
        store: Store<()>,
        instance: Instance,
    }

    impl super::Runtime for Wasmtime {
        const NAME: &'static str = "wasmtime";
        type Module = Module;
        type Instance = WasmtimeInstance;

        fn new(parallel: bool) -> Result<Self, String> {
            let mut config = Config::new();
            config.parallel_compilation(parallel);
            Ok(Wasmtime(Engine::new(&config).map_err(err)?))
        }

        fn compile(&self, bytes: &[u8]) -> Result<Module, String> {
            Module::new(&self.0, bytes).map_err(err)
        }

        fn instance(&self, module: &Module) -> Result<WasmtimeInstance, String> {
            let mut store = Store::new(&self.0, ());
            let mut linker = Linker::new(&self.0);
            linker.func_wrap("env", "noop", || {}).map_err(err)?;
            let instance = linker.instantiate(&mut store, module).map_err(err)?;
            Ok(WasmtimeInstance { store, instance })
        }

        fn instantiate_and_drop(&self, module: &Module) -> Result<(), String> {
            let mut store = Store::new(&self.0, ());
            Instance::new(&mut store, module, &[]).map_err(err)?;
            Ok(())
        }
    }

    impl super::Instance for WasmtimeInstance {
        fn call(&mut self, export: &str, n: i32) -> Result<i64, String> {
            let f: TypedFunc<i32, i64> = self
                .instance
                .get_typed_func(&mut self.store, export)
                .map_err(err)?;
            f.call(&mut self.store, n).map_err(err)
        }

        fn call_empty(&mut self, n: u32) -> Result<(), String> {
            let f: TypedFunc<(), ()> = self
                .instance
                .get_typed_func(&mut self.store, "bench_empty")
                .map_err(err)?;
            (0..n).try_for_each(|_| f.call(&mut self.store, ()).map_err(err))
        }

        fn traps(&mut self, export: &str, n: u32) -> Result<(), String> {
            let f = self.instance.get_func(&mut self.store, export);
            let f = f.ok_or_else(|| format!("no export {export}"))?;
            let mut results = vec![wasmtime::Val::I32(0); f.ty(&self.store).results().len()];
            for _ in 0..n {
                match f.call(&mut self.store, &[], &mut results) {
                    Err(e) if e.downcast_ref::<Trap>().is_some() => {}
                    other => return Err(format!("{export} did not trap: {other:?}")),
                }
            }
            Ok(())
        }
    }
}
