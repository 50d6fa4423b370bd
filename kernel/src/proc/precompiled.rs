//! Precompiled modules from the boot image. `build/xtask` puts each module's
//! artifact beside it in the initrd (`name.cwasm`); the module cache uses
//! the artifact whose header names the module's SHA-256 and matches this
//! kernel's engine, and compiles with the JIT otherwise (one log line says
//! why).
//!
//! Trust: an artifact is native code that skips validation, so it is taken
//! only from the initrd, which the loader handed over with the kernel (the
//! boot image is as trusted as the kernel itself). Nothing a process writes
//! (`/tmp`, a host share over 9P) is ever looked at: a process can only
//! spawn Wasm, which is validated and compiled here, and artifact bytes
//! given as a program are refused as not being Wasm. The boot argument
//! `aot=off` ignores the artifacts too (every module is JIT-compiled).

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;
use wasm_engine::{Engine, Error, Module};

static DISABLED: AtomicBool = AtomicBool::new(false);

/// An artifact in the initrd: its path and bytes.
type Artifact = (&'static str, &'static [u8]);

/// Artifacts in the initrd by the SHA-256 of their source module.
static INDEX: Once<BTreeMap<[u8; 32], Artifact>> = Once::new();

/// Applies `aot=off` from the boot arguments, and says so when this kernel is
/// runtime-only (built without the `compiler` feature).
pub fn configure(cmdline: &str) {
    let compiler = cfg!(feature = "compiler");
    if !compiler {
        crate::info!(
            "wasm: runtime-only kernel (no compiler): only the boot image's precompiled modules run"
        );
    }
    if cmdline.split_whitespace().any(|w| w == "aot=off") {
        DISABLED.store(true, Ordering::Relaxed);
        if compiler {
            crate::info!(
                "wasm: aot=off: precompiled modules are ignored, every module is compiled"
            );
        } else {
            crate::warn!(
                "wasm: aot=off: precompiled modules are ignored, and this kernel cannot compile"
            );
        }
    }
}

/// The boot image's artifact for the module with SHA-256 `key`, if any and
/// not disabled.
pub fn find(key: &[u8; 32]) -> Option<Artifact> {
    if DISABLED.load(Ordering::Relaxed) {
        return None;
    }
    INDEX
        .call_once(|| {
            let mut index = BTreeMap::new();
            for e in crate::initrd::entries() {
                if !e.is_file() || !e.path().ends_with(".cwasm") {
                    continue;
                }
                match Module::precompiled_source_sha256(e.data) {
                    Ok(source) => {
                        index.insert(source, (e.path(), e.data));
                    }
                    Err(err) => crate::warn!("wasm: /{}: {err}", e.path()),
                }
            }
            index
        })
        .get(key)
        .copied()
}

/// The artifact beside the boot image's module at `path` (`bin/sh.wasm` ->
/// `bin/sh.cwasm`), if there is one and artifacts are not disabled.
pub fn beside(path: &str) -> Option<Artifact> {
    if DISABLED.load(Ordering::Relaxed) {
        return None;
    }
    let e = crate::initrd::file(&initrd::artifact_path(path)?)?;
    Some((e.path(), e.data))
}

/// The module whose Wasm has SHA-256 `wasm_sha256` from `artifact` (`(path,
/// bytes)`) when that was compiled from it and matches `engine`, else
/// compiled by `compile`; whether the artifact was used. The source is
/// checked against the header's hash, so the Wasm is not hashed again.
pub fn load_or_compile(
    engine: &Engine,
    wasm_sha256: &[u8; 32],
    artifact: Option<(&str, &[u8])>,
    compile: impl FnOnce() -> Result<Module, Error>,
) -> Result<(Module, bool), Error> {
    if let Some((path, bytes)) = artifact {
        match Module::deserialize(engine, bytes, Some(wasm_sha256)) {
            Ok(m) => return Ok((m, true)),
            Err(e) => crate::warn!("wasm: /{path}: {e}; compiling the module instead"),
        }
    }
    compile().map(|m| (m, false))
}
