//! The engine all processes share (epoch interruption on, driven by the
//! timer), the linker with every host function, and compiled modules
//! cached by the SHA-256 of their bytes: loaded from the boot image's
//! precompiled artifact when there is a matching one (`precompiled`),
//! else compiled. A boot-image program with its artifact beside it is not
//! hashed with SHA-256 (7.4M riscv64 instructions for init, 13.6M for the
//! shell): the artifact's header names the module's SHA-256, once its
//! XXH3-128 of the source matches the program's bytes.

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use spin::Once;
use wasm_engine::{Config, Engine, Error, Linker, Module};

use super::{ProcState, precompiled};

static ENGINE: Once<Engine> = Once::new();
static LINKER: Once<Linker<ProcState>> = Once::new();
static MODULES: spin::Mutex<BTreeMap<[u8; 32], Module>> = spin::Mutex::new(BTreeMap::new());
/// Modules compiled (cache misses without a usable artifact), for tests and diagnostics.
static COMPILES: AtomicU64 = AtomicU64::new(0);
/// Modules loaded from precompiled artifacts.
static PRECOMPILED: AtomicU64 = AtomicU64::new(0);

/// The process engine.
pub fn engine() -> &'static Engine {
    ENGINE.call_once(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine =
            crate::wasm::new_engine(&config).unwrap_or_else(|e| panic!("process engine: {e}"));
        // Timer ticks drive its epoch for as long as the kernel runs.
        core::mem::forget(crate::wasm::register_epoch(&engine));
        engine
    })
}

/// The linker with WASI and the `atoll` module.
pub fn linker() -> &'static Linker<ProcState> {
    LINKER.call_once(|| {
        let mut l = Linker::new(engine());
        wasi_p1::add_to_linker(&mut l, |s: &mut ProcState| &mut s.wasi)
            .unwrap_or_else(|e| panic!("WASI host functions: {e}"));
        super::abi::add_to_linker(&mut l).unwrap_or_else(|e| panic!("atoll host functions: {e}"));
        l
    })
}

/// The compiled module for `wasm` (the boot image's file at `image_path`, if
/// it is one): cached, else loaded from the boot image's artifact for it, else
/// compiled.
pub fn get_or_compile(wasm: &[u8], image_path: Option<&str>) -> Result<Module, Error> {
    let (key, artifact) = identify(wasm, image_path);
    if let Some(m) = MODULES.lock().get(&key) {
        return Ok(m.clone());
    }
    let module = load(wasm, &key, artifact)?;
    // Two spawns may race to compile the same bytes: keep the first.
    Ok(MODULES.lock().entry(key).or_insert(module).clone())
}

/// The cache key of `wasm` (its SHA-256) and the boot image's artifact for it: for a
/// boot-image file with an artifact beside it, the SHA-256 the artifact records once
/// its XXH3-128 of the source matches `wasm`; otherwise the bytes hashed and the
/// artifact of that hash, if any.
fn identify(
    wasm: &[u8],
    image_path: Option<&str>,
) -> ([u8; 32], Option<(&'static str, &'static [u8])>) {
    if let Some((path, artifact)) = image_path.and_then(precompiled::beside) {
        match Module::precompiled_source_of(artifact, wasm) {
            Ok(key) => return (key, Some((path, artifact))),
            Err(e) => crate::warn!("wasm: /{path}: {e}; not used"),
        }
    }
    let key: [u8; 32] = Sha256::digest(wasm).into();
    (key, precompiled::find(&key))
}

/// The module for `wasm` (SHA-256 `key`) from `artifact` (`(path, bytes)`)
/// when it matches the process engine, else compiled; counted in
/// [`precompiled_loads`] or [`compiles`].
pub fn load(wasm: &[u8], key: &[u8; 32], artifact: Option<(&str, &[u8])>) -> Result<Module, Error> {
    let engine = engine();
    let (module, used) = precompiled::load_or_compile(engine, key, artifact, || {
        crate::wasm::on_wasm_stack(|| Module::new(engine, wasm))
            .map_err(|e| Error::ResourceLimit(alloc::format!("Wasm stack: {e}")))?
    })?;
    if used {
        PRECOMPILED.fetch_add(1, Ordering::Relaxed);
        return Ok(module);
    }
    COMPILES.fetch_add(1, Ordering::Relaxed);
    Ok(module)
}

/// Caches `module` as the one for `wasm` (tests: a module loaded by [`load`]).
#[cfg(feature = "ktest")]
pub fn insert(wasm: &[u8], module: Module) {
    let key: [u8; 32] = Sha256::digest(wasm).into();
    MODULES.lock().insert(key, module);
}

/// How many modules were loaded from precompiled artifacts so far.
#[cfg_attr(not(feature = "ktest"), allow(dead_code))]
pub fn precompiled_loads() -> u64 {
    PRECOMPILED.load(Ordering::Relaxed)
}

/// How many modules were compiled (cache misses without a usable artifact) so far.
#[cfg_attr(not(feature = "ktest"), allow(dead_code))]
pub fn compiles() -> u64 {
    COMPILES.load(Ordering::Relaxed)
}
