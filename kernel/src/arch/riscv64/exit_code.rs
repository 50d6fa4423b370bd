//! Powering off with an exit code (riscv64): the SiFive test device's FAIL
//! command carries `code << 16`, which QEMU turns into its exit status;
//! PASS is code 0. Without the device, SBI system reset (success or
//! failure only).

/// Powers off so that QEMU exits with `code` where the machine allows it.
pub fn power_off_with_code(code: u32) {
    if let (Some(p), Some(bi)) = (crate::arch::machine::get(), crate::boot_info_opt())
        && let Some(dev) = p.test_device
    {
        let cmd: u32 = if code == 0 {
            0x5555
        } else {
            0x3333 | ((code & 0xffff) << 16)
        };
        // SAFETY: the test device is MMIO inside the phys map; writing the
        // finisher register ends the machine.
        unsafe { core::ptr::write_volatile((bi.phys_offset + dev) as *mut u32, cmd) };
    }
    crate::arch::power_off(code == 0);
}
