//! The engine all processes share (epoch interruption on, driven by the
//! timer), the linker with every host function, and compiled modules
//! cached by the SHA-256 of their bytes.

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use spin::Once;
use wasm_engine::{Config, Engine, Error, Linker, Module};

use super::ProcState;

static ENGINE: Once<Engine> = Once::new();
static LINKER: Once<Linker<ProcState>> = Once::new();
static MODULES: spin::Mutex<BTreeMap<[u8; 32], Module>> = spin::Mutex::new(BTreeMap::new());
/// Modules compiled (cache misses), for tests and diagnostics.
static COMPILES: AtomicU64 = AtomicU64::new(0);

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

/// The compiled module for `wasm`, compiling it only on a cache miss.
pub fn get_or_compile(wasm: &[u8]) -> Result<Module, Error> {
    let key: [u8; 32] = Sha256::digest(wasm).into();
    if let Some(m) = MODULES.lock().get(&key) {
        return Ok(m.clone());
    }
    let engine = engine();
    let module = crate::wasm::on_wasm_stack(|| Module::new(engine, wasm))
        .map_err(|e| Error::ResourceLimit(alloc::format!("Wasm stack: {e}")))??;
    COMPILES.fetch_add(1, Ordering::Relaxed);
    // Two spawns may race to compile the same bytes: keep the first.
    Ok(MODULES.lock().entry(key).or_insert(module).clone())
}

/// How many modules were compiled (cache misses) so far.
#[cfg_attr(not(feature = "ktest"), allow(dead_code))]
pub fn compiles() -> u64 {
    COMPILES.load(Ordering::Relaxed)
}
