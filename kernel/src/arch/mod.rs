//! Architecture support. Shared code uses only what this module re-exports.

#[cfg(target_arch = "riscv64")]
pub mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv_hooks::*;
#[cfg(target_arch = "riscv64")]
pub use riscv64::*;

#[cfg(target_arch = "x86_64")]
pub mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

/// The riscv64 side of the hooks the x86_64 port added to the shared code;
/// each is a line or two over the riscv64 module.
#[cfg(target_arch = "riscv64")]
mod riscv_hooks {
    use super::riscv64::trap::{Cause, TrapFrame};

    impl TrapFrame {
        pub fn cause(&self) -> Cause {
            Cause::of(self.scause)
        }
    }

    /// Where the frame record of the frame at `fp` starts (riscv: ra at
    /// `fp - 8`, the caller's fp at `fp - 16`).
    pub fn frame_record_addr(fp: usize) -> usize {
        fp.wrapping_sub(16)
    }

    /// The loader started every hart already (SBI HSM).
    pub fn start_secondary_harts(_bi: &boot_info::BootInfo) {}

    /// Powers off through the QEMU test device when the FDT has one (exit
    /// status 0 on success, 1 on failure), else SBI system reset. Boot
    /// argument `shutdown=sbi` forces the SBI path. Returns if neither works.
    pub fn power_off(success: bool) {
        let bi = crate::boot_info_opt();
        let force_sbi =
            bi.is_some_and(|bi| bi.cmdline().split_whitespace().any(|w| w == "shutdown=sbi"));
        if let (Some(p), Some(bi), false) = (crate::platform::get(), bi, force_sbi)
            && let Some(dev) = p.test_device
        {
            let code: u32 = if success { 0x5555 } else { 0x3333 | (1 << 16) };
            // SAFETY: the test device is MMIO inside the phys map; writing
            // the finisher register ends the machine.
            unsafe { core::ptr::write_volatile((bi.phys_offset + dev) as *mut u32, code) };
        }
        super::riscv64::sbi_shutdown(success);
    }
}
