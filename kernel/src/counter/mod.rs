//! The measurement counter of each architecture: instructions retired on
//! riscv64 (when S-mode may read them), the TSC on x86_64. The benchmarks
//! (`--features bench`) and the boot milestones ([`crate::boot_marks`])
//! read it.

#[cfg(target_arch = "riscv64")]
#[path = "arch/riscv64.rs"]
mod arch;
#[cfg(target_arch = "x86_64")]
#[path = "arch/x86_64.rs"]
mod arch;

pub use arch::probe;
