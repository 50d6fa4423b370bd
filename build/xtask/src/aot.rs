//! Precompiling the boot image's Wasm modules: every `.wasm` put in an initrd gets
//! its artifact beside it (`name.cwasm`), compiled for the config's kernel target and
//! its `[aot] features`, with the engine settings of the kernel's process engine
//! (`kernel/src/proc/cache.rs`: epoch interruption on, the rest default; the CPU
//! features as `kernel/src/arch/*/wasm.rs` turns them into Cranelift settings). The
//! kernel uses an artifact only when its header matches its own engine, so a
//! difference here costs a JIT compile, never wrong code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config as EngineConfig, Engine};

use crate::config::{Arch, Config};

pub use initrd::artifact_path;

/// What precompiled code is for: an architecture and the CPU features it may use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub arch: Arch,
    pub features: Vec<String>,
}

impl Target {
    /// `config`'s kernel target with its `[aot] features`.
    pub fn of(config: &Config) -> Target {
        Target {
            arch: config.arch,
            features: config.aot.features.clone(),
        }
    }

    /// Only what every CPU of `arch` the kernel runs on has (for board images).
    pub fn baseline(arch: Arch) -> Target {
        Target {
            arch,
            features: Vec::new(),
        }
    }
}

/// The engine configuration the kernel's process engine has on `target`.
fn engine_config(target: &Target) -> EngineConfig {
    let mut c = EngineConfig::new();
    c.target(target.arch.kernel_target())
        .epoch_interruption(true);
    c.simd(target.arch == Arch::X86_64);
    for f in &target.features {
        if target.arch == Arch::Riscv64 && f == "v" {
            c.simd(true);
            continue;
        }
        // SAFETY: nothing compiled here runs on this machine; the kernel checks the
        // features against its own CPUs before it uses the code.
        unsafe { c.cranelift_flag_enable(&format!("has_{f}")) };
    }
    c
}

/// Artifacts made so far in this run, by target and module bytes.
type Cache = Mutex<HashMap<(Target, Vec<u8>), Option<Arc<Vec<u8>>>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The artifact of `wasm` for `target`, or `None` (with the reason on
/// stderr unless quiet) when it cannot be precompiled: the kernel then reports the
/// module's error, or compiles it itself.
pub fn precompile(target: &Target, path: &str, wasm: &[u8]) -> Option<Arc<Vec<u8>>> {
    let key = (target.clone(), wasm.to_vec());
    if let Some(a) = cache().lock().unwrap().get(&key) {
        return a.clone();
    }
    let made = Engine::new(&engine_config(target), Arc::new(LinuxPlatform::new()))
        .and_then(|e| e.precompile(wasm));
    let artifact = match made {
        Ok(a) => Some(Arc::new(a)),
        Err(e) => {
            if !crate::util::quiet() {
                eprintln!("xtask: {path} is not precompiled ({e}); the kernel compiles it");
            }
            None
        }
    };
    cache().lock().unwrap().insert(key, artifact.clone());
    artifact
}

/// Precompiles `modules` (`(initrd path, bytes)`) in parallel: `(artifact path, bytes)`.
pub fn precompile_all(target: &Target, modules: &[(String, &[u8])]) -> Vec<(String, Arc<Vec<u8>>)> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = Mutex::new(0usize);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(modules.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some((path, wasm)) = modules.get(i) else {
                        break;
                    };
                    if let (Some(to), Some(a)) =
                        (artifact_path(path), precompile(target, path, wasm))
                    {
                        out.lock().unwrap().push((i, to, a));
                    }
                }
            });
        }
    });
    let mut out = out.into_inner().unwrap();
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, p, a)| (p, a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifact_sits_beside_its_module() {
        assert_eq!(
            artifact_path("/bin/sh.wasm").as_deref(),
            Some("/bin/sh.cwasm")
        );
        assert_eq!(artifact_path("/etc/motd"), None);
    }

    #[test]
    fn a_precompiled_module_names_the_configs_target_and_features() {
        let root = crate::util::workspace_root();
        let config = Target::of(&Config::load(&root, "qemu-riscv64").expect("config"));
        let wasm = b"\0asm\x01\0\0\0";
        let a = precompile(&config, "/x.wasm", wasm).expect("precompiled");
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("riscv64gc-unknown-none-elf"), "target");
        assert!(text.contains("has_v"), "the V extension is a setting");
        let bad = precompile(&config, "/bad.wasm", b"not wasm");
        assert!(bad.is_none(), "bad input is left to the kernel");
    }
}
