//! Linker: resolves a module's imports by (module, name), including host functions that
//! are defined once and instantiated in each store that uses them.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::Error;
use crate::module::Module;
use crate::runtime::engine::Engine;
use crate::runtime::func::{
    Caller, Func, HostFunc, HostFuture, IntoFunc, WasmParams, WasmResults, async_host_fn,
};
use crate::runtime::instance::{Extern, Instance};
use crate::runtime::store::{AsContextMut, opaque_mut};
use crate::types::{FuncType, Val};

enum Definition {
    Extern(Extern),
    Host(HostFunc),
}

/// Named definitions used to instantiate modules.
pub struct Linker<T> {
    engine: Engine,
    defs: BTreeMap<(String, String), Definition>,
    _marker: core::marker::PhantomData<fn(T)>,
}

impl<T: 'static> Linker<T> {
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: BTreeMap::new(),
            _marker: core::marker::PhantomData,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition) -> Result<&mut Self, Error> {
        self.defs
            .insert((String::from(module), String::from(name)), def);
        Ok(self)
    }

    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self, Error> {
        self.insert(module, name, Definition::Extern(item.into()))
    }

    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self, Error> {
        self.insert(module, name, Definition::Host(f.into_host_fn()))
    }

    /// An async host function ([`Func::wrap_async`]) for calls made with `call_async`.
    pub fn func_wrap_async<P, R, F>(
        &mut self,
        module: &str,
        name: &str,
        f: F,
    ) -> Result<&mut Self, Error>
    where
        P: WasmParams + WasmResults,
        R: WasmParams + WasmResults,
        F: for<'a> Fn(Caller<'a, T>, P) -> HostFuture<'a, R> + Send + Sync + 'static,
    {
        self.insert(module, name, Definition::Host(async_host_fn(f)))
    }

    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Result<&mut Self, Error> {
        let host = crate::runtime::func::dynamic_host_fn(ty.clone(), f);
        self.insert(module, name, Definition::Host(HostFunc::array(ty, host)))
    }

    /// Defines every export of `instance` under `module_name`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self, Error> {
        let exports: alloc::vec::Vec<_> = instance.exports(&mut store).collect();
        for (name, ext) in exports {
            self.define(module_name, &name, ext)?;
        }
        Ok(self)
    }

    /// Looks up one definition, instantiating host functions in `store`.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        match self.defs.get(&(String::from(module), String::from(name)))? {
            Definition::Extern(e) => Some(*e),
            Definition::Host(host) => {
                let s = opaque_mut(&mut store);
                Func::register_host(s, host.clone()).ok().map(Extern::Func)
            }
        }
    }

    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance, Error> {
        let mut imports = alloc::vec::Vec::new();
        for imp in module.imports() {
            let ext = self
                .get(&mut store, imp.module(), imp.name())
                .ok_or_else(|| Error::Unlinkable {
                    module: String::from(imp.module()),
                    name: String::from(imp.name()),
                    reason: String::from("unknown import"),
                })?;
            imports.push(ext);
        }
        Instance::new(store, module, &imports)
    }
}
