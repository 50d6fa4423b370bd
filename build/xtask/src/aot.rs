//! Precompiling the boot image's Wasm modules: every `.wasm` put in an initrd gets
//! its artifact beside it (`name.cwasm`), compiled for the config's kernel target and
//! its `[aot] features`, with the engine settings of the kernel's process engine
//! (`kernel/src/proc/cache.rs`: epoch interruption on, the rest default; the CPU
//! features as `kernel/src/arch/*/wasm.rs` turns them into Cranelift settings). The
//! kernel uses an artifact only when its header matches its own engine, so a
//! difference here costs a JIT compile, never wrong code. Artifacts are kept on
//! disk beside the xtask binary for later runs of the same build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
    let stored = disk_cache().map(|dir| dir.join(stored_name(target, wasm)));
    if let Some(a) = stored.as_ref().and_then(|p| std::fs::read(p).ok()) {
        let a = Some(Arc::new(a));
        cache().lock().unwrap().insert(key, a.clone());
        return a;
    }
    let made = Engine::new(&engine_config(target), Arc::new(LinuxPlatform::new()))
        .and_then(|e| e.precompile(wasm));
    let artifact = match made {
        Ok(a) => {
            if let Some(p) = &stored {
                store(p, &a);
            }
            Some(Arc::new(a))
        }
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

/// Where artifacts made by earlier runs of this xtask binary are kept: beside
/// the binary (`target/debug/aot-cache`), so a warm `just exec` or `just run`
/// compiles only what changed. Artifacts of other builds of xtask are removed
/// when it is first used, so it holds one build's. `None` if there is no such
/// directory.
fn disk_cache() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?.join("aot-cache");
        std::fs::create_dir_all(&dir).ok()?;
        let mine = format!("{}-", build_tag());
        for e in std::fs::read_dir(&dir).ok()?.flatten() {
            if !e.file_name().to_string_lossy().starts_with(&mine) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Some(dir)
    })
    .as_deref()
}

/// This xtask build, from its binary's size and modification time: the
/// binary changes whenever the engine does, which shapes the code.
fn build_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map_or((0, None), |m| (m.len(), m.modified().ok()));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        exe.hash(&mut h);
        format!("{:016x}", h.finish())
    })
}

/// The file name of `wasm`'s artifact for `target` in [`disk_cache`]: the
/// build's tag and a hash of the target and the module's bytes. A collision
/// could only hand the kernel an artifact of other bytes, and the kernel
/// checks an artifact's recorded hashes of its source against the program's
/// before it uses it (and compiles the program instead).
fn stored_name(target: &Target, wasm: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (target, wasm).hash(&mut h);
    let a = h.finish();
    // More bits from the same state, for a 128-bit name.
    "atoll-aot".hash(&mut h);
    format!(
        "{}-{a:016x}{:016x}-{}.cwasm",
        build_tag(),
        h.finish(),
        wasm.len()
    )
}

/// Writes an artifact to the disk cache (best effort: a failure costs a
/// compile next time). Through a temporary file, so a reader never sees half.
fn store(path: &Path, artifact: &[u8]) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, artifact).is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
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

    #[test]
    fn stored_artifacts_are_named_by_build_target_and_bytes() {
        let rv = Target {
            arch: Arch::Riscv64,
            features: vec!["v".into()],
        };
        let base = Target::baseline(Arch::Riscv64);
        let a = stored_name(&rv, b"\0asm\x01\0\0\0");
        assert_eq!(
            a,
            stored_name(&rv, b"\0asm\x01\0\0\0"),
            "the same inputs, the same name"
        );
        assert!(a.starts_with(&format!("{}-", build_tag())));
        assert_ne!(a, stored_name(&base, b"\0asm\x01\0\0\0"), "another target");
        assert_ne!(a, stored_name(&rv, b"\0asm\x01\0\0\0\0"), "other bytes");
    }

    #[test]
    fn a_precompiled_module_is_read_back_from_the_disk_cache() {
        let wasm =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 7))").unwrap();
        let target = Target::baseline(Arch::Riscv64);
        let made = precompile(&target, "/bin/f.wasm", &wasm).expect("precompiled");
        let path = disk_cache()
            .expect("a cache directory")
            .join(stored_name(&target, &wasm));
        assert_eq!(std::fs::read(&path).unwrap(), *made, "stored as made");
        // A new run (an empty memory cache) reads the stored one.
        cache().lock().unwrap().clear();
        assert_eq!(precompile(&target, "/bin/f.wasm", &wasm).unwrap(), made);
    }
}
