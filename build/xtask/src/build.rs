//! Building the kernel and the loader for a configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::{Arch, Config};
use crate::util::{run, target_dir};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// The interactive kernel.
    Normal,
    /// The kernel that runs its own tests and exits QEMU with the result.
    Test,
    /// The interactive kernel without Cranelift (`[kernel] compiler = false`): it runs
    /// only the boot image's precompiled modules.
    RuntimeOnly,
}

pub struct Artifacts {
    /// The kernel ELF with its debug info (for gdb).
    pub kernel: PathBuf,
    /// The loader ELF (for gdb; riscv64's is linked at 0, see `image`).
    pub loader: PathBuf,
    /// riscv64: the loader as a flat RISC-V Linux `Image` (what OpenSBI's
    /// `-kernel` and U-Boot's `booti` start).
    pub image: Option<PathBuf>,
    /// The bootable disk (x86_64: GPT with an EFI system partition).
    pub disk: Option<PathBuf>,
    /// The initrd as a file (riscv64 passes it to QEMU's `-initrd`; x86_64
    /// also has it on the ESP).
    pub initrd: Option<PathBuf>,
}

/// The kernel and the loader for one arch, flavor and profile.
pub struct Binaries {
    /// The kernel ELF with its debug info (for gdb).
    pub kernel: PathBuf,
    /// The same without debug info: what the loader embeds.
    pub boot_kernel: PathBuf,
    pub loader: PathBuf,
    /// riscv64: the loader as a flat `Image`.
    pub image: Option<PathBuf>,
}

/// Builds the kernel (with `flavor`'s features) and the loader embedding it.
pub fn binaries(
    root: &Path,
    arch: Arch,
    flavor: Flavor,
    release: bool,
) -> Result<Binaries, String> {
    let profile_dir = if release { "release" } else { "debug" };
    let features: &[&str] = match flavor {
        Flavor::Normal | Flavor::RuntimeOnly => &[],
        Flavor::Test => &["ktest"],
    };
    let compiler = flavor != Flavor::RuntimeOnly;
    let kernel = build_kernel(root, arch.kernel_target(), features, compiler, release)?;
    let boot_kernel = strip_debug_info(&kernel)?;

    let loader_target = arch.loader_target();
    let mut cmd = cargo(root, "build", release);
    cmd.args(["-p", "loader", "--target", loader_target])
        .env("ATOLL_KERNEL_ELF", &boot_kernel);
    run(&mut cmd)?;
    let loader_name = match arch {
        Arch::Riscv64 => "loader",
        Arch::X86_64 => "loader.efi",
    };
    let loader = target_dir(root)
        .join(loader_target)
        .join(profile_dir)
        .join(loader_name);
    let image = match arch {
        Arch::Riscv64 => Some(linux_image(&loader)?),
        Arch::X86_64 => None,
    };
    Ok(Binaries {
        kernel,
        boot_kernel,
        loader,
        image,
    })
}

/// Builds kernel and loader; `cmdline` goes where the loader reads it from
/// a disk (riscv64 gets it from QEMU's `-append`, or from the board disk's
/// boot configuration), and so does the `initrd` archive (riscv64: QEMU's
/// `-initrd`, or the board disk).
pub fn build(
    root: &Path,
    config: &Config,
    flavor: Flavor,
    release: bool,
    cmdline: &str,
    initrd: Option<&[u8]>,
) -> Result<Artifacts, String> {
    let flavor = match (flavor, config.kernel.compiler) {
        (Flavor::Normal, false) => Flavor::RuntimeOnly,
        (Flavor::Test, false) => {
            return Err(format!(
                "{}: the kernel tests need the compiler ([kernel] compiler = false)",
                config.name
            ));
        }
        (f, _) => f,
    };
    let b = binaries(root, config.arch, flavor, release)?;
    let dir = image_dir(root, config)?;
    let initrd_file = match initrd {
        Some(bytes) => {
            let path = dir.join("initrd.cpio");
            std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    let disk = match (config.arch, &config.qemu.board) {
        (Arch::X86_64, _) => Some(esp_disk(&dir, &b.loader, &b.boot_kernel, cmdline, initrd)?),
        (Arch::Riscv64, Some(name)) => {
            let board = crate::board::Board::load(root, name)?;
            let image = b.image.as_ref().ok_or("riscv64 builds an Image")?;
            let out = dir.join("disk.img");
            let contents = crate::board::Contents {
                image: std::fs::read(image)
                    .map_err(|e| format!("reading {}: {e}", image.display()))?,
                initrd: initrd.map(<[u8]>::to_vec).unwrap_or_default(),
                args: cmdline.to_string(),
                dtb: None,
            };
            board.write_image(&contents, &out)?;
            Some(out)
        }
        (Arch::Riscv64, None) => None,
    };
    Ok(Artifacts {
        kernel: b.kernel,
        loader: b.loader,
        image: b.image,
        disk,
        initrd: initrd_file,
    })
}

/// Writes `<loader>.img`, the loader ELF as a flat RISC-V Linux `Image`,
/// after checking its header and relocations (see `linux_image`).
pub fn linux_image(loader: &Path) -> Result<PathBuf, String> {
    let elf = std::fs::read(loader).map_err(|e| format!("reading {}: {e}", loader.display()))?;
    let (flat, _) =
        crate::linux_image::from_elf(&elf).map_err(|e| format!("{}: {e}", loader.display()))?;
    let out = loader.with_extension("img");
    if std::fs::read(&out).ok().as_deref() != Some(flat.as_slice()) {
        std::fs::write(&out, &flat).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    Ok(out)
}

/// A copy of the kernel ELF without its debug sections (`<name>.boot.elf`):
/// what the loader embeds and boots. The kernel needs only its loadable
/// segments and `.symtab` (for backtraces); dropping DWARF takes the debug
/// build from about 37 MB to about 11 MB, which is what lets a 64 MiB board
/// boot it. gdb reads the full ELF.
pub fn strip_debug_info(elf: &Path) -> Result<PathBuf, String> {
    let out = elf.with_extension("boot.elf");
    let fresh = |o: &Path| -> Option<bool> {
        let built = std::fs::metadata(elf).ok()?.modified().ok()?;
        Some(std::fs::metadata(o).ok()?.modified().ok()? >= built)
    };
    if fresh(&out) == Some(true) {
        return Ok(out);
    }
    let objcopy = crate::util::llvm_tool("llvm-objcopy")?;
    run(Command::new(&objcopy)
        .arg("--strip-debug")
        .arg(elf)
        .arg(&out))?;
    Ok(out)
}

/// `target/images/<config>/`, where a configuration's images go.
pub fn image_dir(root: &Path, config: &Config) -> Result<PathBuf, String> {
    let dir = target_dir(root).join("images").join(&config.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The UEFI loader reads the kernel, its command line and the initrd from the ESP.
fn esp_disk(
    dir: &Path,
    loader: &Path,
    kernel: &Path,
    cmdline: &str,
    initrd: Option<&[u8]>,
) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let disk = dir.join("disk.img");
    let mut image = esp_image::EspImage::new(read(loader)?, read(kernel)?).cmdline(cmdline);
    if let Some(bytes) = initrd {
        image = image.initrd(bytes.to_vec());
    }
    image
        .write_to(&disk)
        .map_err(|e| format!("building {}: {e}", disk.display()))?;
    Ok(disk)
}

/// Builds the kernel with `features` and returns its ELF, copied to a path
/// of its own per feature set (`kernel.<features>.elf`). cargo's
/// `debug/kernel` is swapped between feature sets by a hard link that keeps
/// the older file's mtime, so a loader embedding it could miss the change
/// and boot the other flavor; a copy per flavor changes path and mtime.
/// Builds the kernel for `target` with `features`, and with Cranelift unless
/// `compiler` is false (the runtime-only kernel: `--no-default-features`).
pub fn build_kernel(
    root: &Path,
    target: &str,
    features: &[&str],
    compiler: bool,
    release: bool,
) -> Result<PathBuf, String> {
    let mut cmd = cargo(root, "build", release);
    cmd.args(["-p", "kernel", "--target", target])
        .arg("--message-format=json-render-diagnostics")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    if !compiler {
        cmd.arg("--no-default-features");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", crate::util::describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({})",
            crate::util::describe(&cmd),
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let built = stdout
        .lines()
        .filter(|l| {
            l.contains(r#""reason":"compiler-artifact""#) && l.contains(r#""name":"kernel""#)
        })
        .find_map(json_executable)
        .map(PathBuf::from)
        .ok_or_else(|| "cargo reported no kernel executable".to_string())?;
    let flavor = match (features.is_empty(), compiler) {
        (true, true) => "default".to_string(),
        (true, false) => "runtime".to_string(),
        (false, true) => features.join("+"),
        (false, false) => format!("{}+runtime", features.join("+")),
    };
    let copy = built.with_file_name(format!("kernel.{flavor}.elf"));
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let elf = read(&built)?;
    if read(&copy).ok().as_deref() != Some(elf.as_slice()) {
        std::fs::write(&copy, &elf).map_err(|e| format!("writing {}: {e}", copy.display()))?;
    }
    Ok(copy)
}

/// The `"executable"` path of one cargo JSON message, if it has one.
fn json_executable(line: &str) -> Option<&str> {
    let rest = line.split(r#""executable":""#).nth(1)?;
    rest.split('"').next().filter(|p| !p.is_empty())
}

/// `cargo <verb>` in the workspace root.
pub fn cargo(root: &Path, verb: &str, release: bool) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root).arg(verb);
    if crate::util::quiet() {
        cmd.arg("--quiet");
    }
    if release {
        cmd.arg("--release");
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::json_executable;

    #[test]
    fn executable_comes_from_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"kernel"},"filenames":["/t/deps/kernel-1b94"],"executable":"/t/deps/kernel-1b94","fresh":true}"#;
        assert_eq!(json_executable(line), Some("/t/deps/kernel-1b94"));
        assert_eq!(json_executable(r#"{"executable":null}"#), None);
    }
}
