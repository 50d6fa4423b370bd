//! Machine configurations: data in `configs/*.toml`, never hard-coded in recipes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// File stem under `configs/`, filled in after parsing.
    #[serde(skip)]
    pub name: String,
    pub description: String,
    pub arch: Arch,
    pub qemu: Qemu,
    #[serde(default)]
    pub boot: Boot,
    #[serde(default)]
    pub test: Test,
    #[serde(default)]
    pub run: Run,
    #[serde(default)]
    pub aot: Aot,
    #[serde(default)]
    pub kernel: Kernel,
}

/// How the kernel is built.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    /// With Cranelift (the default): Wasm without a precompiled artifact is JIT-compiled.
    /// `false` builds the runtime-only kernel, which runs only the boot image's
    /// precompiled modules (for machines with little memory).
    #[serde(default = "yes")]
    pub compiler: bool,
}

impl Default for Kernel {
    fn default() -> Kernel {
        Kernel { compiler: true }
    }
}

fn yes() -> bool {
    true
}

/// Precompiled modules in the boot image (see `aot.rs`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aot {
    /// CPU features the precompiled code may use, named as the kernel names them:
    /// RISC-V extensions (`v`, `zba`, `zbb`, `zbs`, `zicond`, `zfa`) or x86_64
    /// features beyond the engine's baseline (`avx`, `avx2`, `fma`, `bmi1`, `bmi2`,
    /// `lzcnt`, `cmpxchg16b`). A machine without one of them runs the JIT instead.
    #[serde(default)]
    pub features: Vec<String>,
}

/// What `just run` adds to a boot.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// A host directory (relative to the repository) shared read-write over virtio-9p and
    /// mounted at `/home`, so files there outlive the machine.
    pub home: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    Riscv64,
    X86_64,
}

impl Arch {
    /// The target triple the kernel and the loader are built for.
    pub fn kernel_target(self) -> &'static str {
        match self {
            Arch::Riscv64 => "riscv64gc-unknown-none-elf",
            Arch::X86_64 => "x86_64-unknown-none",
        }
    }

    pub fn loader_target(self) -> &'static str {
        match self {
            Arch::Riscv64 => "riscv64gc-unknown-none-elf",
            Arch::X86_64 => "x86_64-unknown-uefi",
        }
    }

    /// The register holding the first argument, for the gdb script.
    pub fn first_arg_register(self) -> &'static str {
        match self {
            Arch::Riscv64 => "$a0",
            Arch::X86_64 => "$rdi",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qemu {
    pub binary: String,
    pub machine: String,
    pub cpu: Option<String>,
    pub smp: u32,
    pub memory: String,
    /// `-bios` argument (`default` = QEMU's bundled OpenSBI on riscv64).
    pub bios: Option<String>,
    /// UEFI firmware code (read-only pflash), for x86_64.
    pub firmware_code: Option<String>,
    /// UEFI variable store template; each run gets a fresh writable copy.
    pub firmware_vars: Option<String>,
    /// `-accel` argument, e.g. `tcg` or `kvm`.
    pub accel: Option<String>,
    /// What OpenSBI starts instead of atoll's loader (QEMU's `-kernel`): a
    /// firmware stage such as U-Boot, which then finds atoll on `board`'s disk.
    pub payload: Option<String>,
    /// A board under `configs/boards/` whose disk image (`just image`) is
    /// attached as a virtio-blk disk: how `payload` finds atoll.
    pub board: Option<String>,
    /// How virtio devices attach: `mmio` (riscv64 `virt`) or `pci` (q35).
    pub virtio: Virtio,
    #[serde(default)]
    pub extra: Vec<String>,
}

/// A machine's virtio transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Virtio {
    Mmio,
    Pci,
}

impl Virtio {
    /// The QEMU device name of a virtio device `kind` (`serial`, `9p`, `blk`, ...).
    pub fn device(self, kind: &str) -> String {
        match self {
            Virtio::Mmio => format!("virtio-{kind}-device"),
            Virtio::Pci => format!("virtio-{kind}-pci"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boot {
    #[serde(default)]
    pub args: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    #[serde(default)]
    pub args: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// QEMU's exit status when every test passed (x86_64's isa-debug-exit
    /// cannot exit with 0).
    #[serde(default)]
    pub success_status: i32,
}

impl Default for Test {
    fn default() -> Self {
        Self {
            args: String::new(),
            timeout_secs: default_timeout(),
            success_status: 0,
        }
    }
}

fn default_timeout() -> u64 {
    300
}

impl Config {
    /// Loads `configs/<name>.toml`, or the file itself when `name` is a path.
    /// `name` is a config under `configs/`, a path to a `.toml`, or (as
    /// `just run arch=x86_64` passes it) `arch=ARCH` / `config=NAME`, where
    /// an arch means its default config `qemu-ARCH`.
    pub fn load(root: &Path, name: &str) -> Result<Config, String> {
        let owned;
        let name = if let Some(arch) = name.strip_prefix("arch=") {
            owned = format!("qemu-{arch}");
            owned.as_str()
        } else if let Some(config) = name.strip_prefix("config=") {
            config
        } else if name == "riscv64" || name == "x86_64" {
            owned = format!("qemu-{name}");
            owned.as_str()
        } else {
            name
        };
        let path = if name.ends_with(".toml") || name.contains('/') {
            PathBuf::from(name)
        } else {
            root.join("configs").join(format!("{name}.toml"))
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read config {}: {e} (see `ls configs/` for the choices)",
                path.display()
            )
        })?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config.name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        Ok(config)
    }
}
