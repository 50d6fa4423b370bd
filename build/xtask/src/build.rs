//! Building the kernel and the loader for a configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::Config;
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
}

pub fn build(
    root: &Path,
    config: &Config,
    flavor: Flavor,
    release: bool,
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
    let loader = target_dir(root)
        .join(loader_target)
        .join(profile_dir)
        .join("loader");

    Ok(Artifacts {
        kernel: kernel_elf,
        loader,
    })
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
