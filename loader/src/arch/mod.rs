//! Architecture-specific entry, firmware calls and the jump into the kernel.

#[cfg(all(target_arch = "riscv64", not(test)))]
mod riscv64;
#[cfg(all(target_arch = "riscv64", not(test)))]
pub use riscv64::console_write;

/// Host builds (unit tests) print to stdout.
#[cfg(any(test, not(target_arch = "riscv64")))]
#[allow(dead_code)]
pub fn console_write(s: &str) {
    #[cfg(test)]
    std::print!("{s}");
    #[cfg(not(test))]
    let _ = s;
}
