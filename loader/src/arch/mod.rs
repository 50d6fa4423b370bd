//! Architecture-specific entry, firmware calls and the jump into the kernel.

#[cfg(all(target_arch = "riscv64", not(test)))]
mod riscv64;
#[cfg(all(target_arch = "riscv64", not(test)))]
pub use riscv64::console_write;

#[cfg(any(test, target_os = "uefi"))]
mod x86_64;
#[cfg(all(target_os = "uefi", not(test)))]
pub use x86_64::console_write;

/// Host builds (unit tests) print to stdout.
#[cfg(any(test, not(any(target_arch = "riscv64", target_os = "uefi"))))]
#[allow(dead_code)]
pub fn console_write(s: &str) {
    #[cfg(test)]
    std::print!("{s}");
    #[cfg(not(test))]
    let _ = s;
}
