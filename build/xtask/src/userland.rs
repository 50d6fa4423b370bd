//! The userland initrd: `user/build.sh` builds the programs, and this packs
//! them as `/bin/<name>.wasm` with `user/rootfs/` (`/etc/motd`, test data)
//! into a cpio archive the kernel mounts read-only at `/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::aot::Target;
use crate::util::run;

/// Programs built by `user/build.sh`, as `(name, bytes)`.
pub struct Userland {
    pub programs: Vec<(String, Vec<u8>)>,
    /// `(path in the image, bytes)` from `user/rootfs/`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Runs `user/build.sh`: every user program into `user/target/wasm/` and the differential-test
/// corpus into `user/target/corpus/` (incremental, quick when nothing changed).
pub fn run_build_script(root: &Path) -> Result<(), String> {
    let mut cmd = Command::new("sh");
    cmd.arg(root.join("user/build.sh"))
        .current_dir(root)
        // The user workspace has its own target dir (user/target).
        .env_remove("CARGO_TARGET_DIR");
    if crate::util::quiet() {
        cmd.env("ATOLL_QUIET", "1");
    }
    run(&mut cmd)
}

/// Builds `user/` (incremental, quick when nothing changed) and reads the results.
pub fn build(root: &Path) -> Result<Userland, String> {
    run_build_script(root)?;
    let wasm_dir = root.join("user/target/wasm");
    let mut programs = Vec::new();
    for path in sorted_entries(&wasm_dir)? {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wasm"))
        else {
            continue;
        };
        programs.push((name.to_string(), read(&path)?));
    }
    for needed in ["init", "shell"] {
        if !programs.iter().any(|(n, _)| n == needed) {
            return Err(format!(
                "user/build.sh did not produce {needed}.wasm in {}",
                wasm_dir.display()
            ));
        }
    }
    let mut files = Vec::new();
    collect_tree(&root.join("user/rootfs"), "", &mut files)?;
    Ok(Userland { programs, files })
}

impl Userland {
    /// A builder holding `/bin/*.wasm` with their artifacts for `target`
    /// (`/bin/*.cwasm`, see `aot`), the rootfs files and an empty `/tmp` (where the
    /// kernel mounts its RAM file system); add more, then `finish`.
    pub fn builder(&self, target: &Target) -> initrd::Builder {
        let mut b = initrd::Builder::new();
        let modules: Vec<(String, &[u8])> = self
            .programs
            .iter()
            .map(|(name, bytes)| (format!("/bin/{name}.wasm"), bytes.as_slice()))
            .collect();
        for (path, bytes) in &modules {
            b.file(path, bytes);
        }
        for (path, artifact) in crate::aot::precompile_all(target, &modules) {
            b.file(&path, &artifact);
        }
        for (path, bytes) in &self.files {
            b.file(path, bytes);
        }
        b.dir("/tmp");
        // Where `just run` mounts its home share.
        b.dir("/home");
        b
    }

    /// The initrd `just run` boots with, precompiled for `target`.
    pub fn initrd(&self, target: &Target) -> Vec<u8> {
        self.builder(target).finish()
    }
}

/// Adds every regular file under `dir` (recursively, following symlinks) as
/// `prefix/<relative path>`. Other kinds of files are skipped, and empty
/// directories are not kept (the archive adds each file's parents).
pub fn collect_tree(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    for path in sorted_entries(dir)? {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: file names must be UTF-8", path.display()))?;
        let inner = format!("{prefix}/{name}");
        let meta =
            std::fs::metadata(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if meta.is_dir() {
            collect_tree(&path, &inner, out)?;
        } else if meta.is_file() {
            out.push((inner, read(&path)?));
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}
