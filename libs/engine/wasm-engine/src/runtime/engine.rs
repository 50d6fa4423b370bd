//! The engine: configuration, ISA (with the `compiler` feature), platform, the
//! engine-wide signature registry and the per-signature trampolines shared by all
//! modules and stores.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

#[cfg(feature = "compiler")]
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};

use crate::Error;
use crate::code::{self, CompiledFunction};
#[cfg(feature = "compiler")]
use crate::compile;
use crate::link;
use crate::platform::Platform;
use crate::runtime::config::Config;
use crate::runtime::type_registry::{KeyFunc, TypeRegistry};
use crate::trap;
use crate::types::FuncType;

/// The kinds of per-signature trampoline (see `compile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TrampolineKind {
    /// Host → Wasm, arguments in an array.
    Entry,
    /// Wasm → host function in array-call form.
    HostArray,
    /// Wasm → host function in native form (typed closures).
    HostNative,
}

#[derive(Default)]
struct Trampolines {
    map: BTreeMap<(TrampolineKind, u32), usize>,
    regions: Vec<(usize, usize)>,
}

pub(crate) struct EngineInner {
    config: Config,
    platform: Arc<dyn Platform>,
    #[cfg(feature = "compiler")]
    isa: OwnedTargetIsa,
    pub(crate) epoch: AtomicU64,
    sigs: spin::Mutex<TypeRegistry>,
    trampolines: spin::Mutex<Trampolines>,
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        for (base, size) in self.trampolines.get_mut().regions.drain(..) {
            trap::unregister(base);
            // SAFETY: modules and stores hold an Engine clone, so nothing uses these
            // trampolines any more.
            unsafe { self.platform.release(base as *mut u8, size) };
        }
    }
}

/// Compilation and runtime settings shared by modules and stores. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

impl Engine {
    /// An engine for `config` on `platform`. Without the `compiler` feature it can only
    /// load precompiled modules ([`crate::Module::deserialize`]), for the machine it
    /// runs on: `config`'s target, if any, must be that machine's.
    pub fn new(config: &Config, platform: Arc<dyn Platform>) -> Result<Engine, Error> {
        let triple = config.target.as_deref().unwrap_or(code::host_triple());
        #[cfg(feature = "compiler")]
        let isa = compile::build_isa_flags(
            triple,
            config.simd,
            config.target.is_none(),
            &config.cranelift_flags,
        )?;
        #[cfg(not(feature = "compiler"))]
        if triple != code::host_triple() {
            return Err(Error::compile(
                None,
                alloc::format!(
                    "target {triple}: an engine without the compiler runs code only for {}",
                    code::host_triple()
                ),
            ));
        }
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                platform,
                #[cfg(feature = "compiler")]
                isa,
                epoch: AtomicU64::new(0),
                sigs: spin::Mutex::new(TypeRegistry::default()),
                trampolines: spin::Mutex::new(Trampolines::default()),
            }),
        })
    }

    /// Advances the epoch; Wasm running past its store's deadline is interrupted at the
    /// next function entry or loop header. Callable from any thread.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Release);
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn platform(&self) -> &Arc<dyn Platform> {
        &self.inner.platform
    }

    #[cfg(feature = "compiler")]
    pub(crate) fn isa(&self) -> &dyn TargetIsa {
        &*self.inner.isa
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Engine-wide id of a signature given on its own (equal types get equal ids,
    /// across modules).
    pub(crate) fn intern(&self, ty: &FuncType) -> u32 {
        self.inner.sigs.lock().intern(ty)
    }

    /// Engine-wide id of the first type of a recursion group (see [`TypeRegistry`]).
    pub(crate) fn intern_group(&self, group: &[KeyFunc]) -> u32 {
        self.inner.sigs.lock().intern_group(group)
    }

    pub(crate) fn sig_type(&self, id: u32) -> FuncType {
        self.inner.sigs.lock().get(id).clone()
    }

    /// The trampoline of `kind` for signature `sig`, compiled on first use.
    pub(crate) fn trampoline(&self, kind: TrampolineKind, sig: u32) -> Result<usize, Error> {
        if let Some(addr) = self.inner.trampolines.lock().map.get(&(kind, sig)) {
            return Ok(*addr);
        }
        let f = self.compile_trampoline(kind, &self.sig_type(sig))?;
        self.adopt_trampolines(alloc::vec![(kind, sig, f)])?;
        Ok(self.inner.trampolines.lock().map[&(kind, sig)])
    }

    #[cfg(feature = "compiler")]
    fn compile_trampoline(
        &self,
        kind: TrampolineKind,
        ty: &FuncType,
    ) -> Result<CompiledFunction, Error> {
        compile::trampoline_of(self.isa(), kind, ty)
    }

    /// Without a compiler, a trampoline no precompiled module brought is an error.
    #[cfg(not(feature = "compiler"))]
    fn compile_trampoline(
        &self,
        kind: TrampolineKind,
        ty: &FuncType,
    ) -> Result<CompiledFunction, Error> {
        Err(Error::compile(
            None,
            alloc::format!(
                "no {kind:?} trampoline for {ty:?}: {}",
                crate::module::NO_COMPILER
            ),
        ))
    }

    /// Whether the engine has the trampoline of `kind` for `sig` (tests).
    #[cfg(test)]
    pub(crate) fn has_trampoline(&self, kind: TrampolineKind, sig: u32) -> bool {
        self.inner.trampolines.lock().map.contains_key(&(kind, sig))
    }

    /// Places compiled trampolines (from [`Engine::trampoline`], or compiled ahead of
    /// time in a precompiled module) that the engine does not have yet, all in one
    /// region, and makes them the engine's for the engine's lifetime.
    pub(crate) fn adopt_trampolines(
        &self,
        list: Vec<(TrampolineKind, u32, CompiledFunction)>,
    ) -> Result<(), Error> {
        let missing: Vec<_> = {
            let t = self.inner.trampolines.lock();
            list.into_iter()
                .filter(|(kind, sig, _)| !t.map.contains_key(&(*kind, *sig)))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut image = Vec::new();
        let mut traps = Vec::new();
        let mut offsets = Vec::with_capacity(missing.len());
        for (_, _, f) in &missing {
            if !f.relocs.is_empty() {
                return Err(Error::compile(None, "a trampoline needs relocations"));
            }
            let off = image.len().next_multiple_of(16);
            image.resize(off, 0);
            image.extend_from_slice(&f.code);
            traps.extend(
                f.traps
                    .iter()
                    .filter_map(|(o, c)| Some((off as u32 + *o, code::trap_kind(*c)?))),
            );
            offsets.push(off);
        }
        let (base, size) = link::publish(
            self.platform(),
            &image,
            traps,
            Vec::new(),
            Arc::new(BTreeMap::new()),
        )?;
        let mut t = self.inner.trampolines.lock();
        t.regions.push((base, size));
        for ((kind, sig, _), off) in missing.iter().zip(offsets) {
            t.map.entry((*kind, *sig)).or_insert(base + off);
        }
        Ok(())
    }
}

#[cfg(feature = "linux")]
impl Default for Engine {
    /// The Linux platform with the default configuration.
    fn default() -> Engine {
        Engine::new(&Config::new(), Arc::new(crate::linux::LinuxPlatform::new()))
            .expect("the host ISA is supported")
    }
}
