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
}

pub struct Artifacts {
    pub kernel: PathBuf,
    pub loader: PathBuf,
    /// The bootable disk (x86_64: GPT with an EFI system partition).
    pub disk: Option<PathBuf>,
}

/// Builds kernel and loader; `cmdline` goes where the loader reads it from
/// a disk (riscv64 gets it from QEMU's `-append` instead).
pub fn build(
    root: &Path,
    config: &Config,
    flavor: Flavor,
    release: bool,
    cmdline: &str,
) -> Result<Artifacts, String> {
    let profile_dir = if release { "release" } else { "debug" };
    let target = config.arch.kernel_target();

    let mut kernel = cargo(root, "build", release);
    kernel.args(["-p", "kernel", "--target", target]);
    if flavor == Flavor::Test {
        kernel.args(["--features", "ktest"]);
    }
    run(&mut kernel)?;
    let kernel_elf = target_dir(root)
        .join(target)
        .join(profile_dir)
        .join("kernel");

    let loader_target = config.arch.loader_target();
    let mut loader = cargo(root, "build", release);
    loader
        .args(["-p", "loader", "--target", loader_target])
        .env("ATOLL_KERNEL_ELF", &kernel_elf);
    run(&mut loader)?;
    let loader_name = match config.arch {
        Arch::Riscv64 => "loader",
        Arch::X86_64 => "loader.efi",
    };
    let loader = target_dir(root)
        .join(loader_target)
        .join(profile_dir)
        .join(loader_name);

    let disk = match config.arch {
        Arch::Riscv64 => None,
        Arch::X86_64 => Some(esp_disk(root, config, &loader, &kernel_elf, cmdline)?),
    };
    Ok(Artifacts {
        kernel: kernel_elf,
        loader,
        disk,
    })
}

/// The UEFI loader reads the kernel and its command line from the ESP.
fn esp_disk(
    root: &Path,
    config: &Config,
    loader: &Path,
    kernel: &Path,
    cmdline: &str,
) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let dir = target_dir(root).join("images").join(&config.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let disk = dir.join("disk.img");
    esp_image::EspImage::new(read(loader)?, read(kernel)?)
        .cmdline(cmdline)
        .write_to(&disk)
        .map_err(|e| format!("building {}: {e}", disk.display()))?;
    Ok(disk)
}

/// `cargo <verb>` in the workspace root.
pub fn cargo(root: &Path, verb: &str, release: bool) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root).arg(verb);
    if release {
        cmd.arg("--release");
    }
    cmd
}
