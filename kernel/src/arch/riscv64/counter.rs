//! riscv64 counters: `instret` (instructions retired) when S-mode may read
//! it, else `time`. Under QEMU with `-icount shift=0` both are
//! deterministic, and `instret` counts exactly the instructions of this hart.

use core::arch::asm;

/// Reads `instret`; faults if the firmware keeps it from S-mode.
fn instret() -> u64 {
    let v: u64;
    // SAFETY: reading a counter CSR has no side effects (or it faults,
    // which the caller catches).
    unsafe { asm!("rdinstret {0}", out(reg) v, options(nomem, nostack)) };
    v
}

/// The counter to use and its unit.
pub fn probe() -> (fn() -> u64, &'static str) {
    // Two reads must both work and move forward.
    match crate::recover::catch(|| (instret(), instret())) {
        Ok((a, b)) if b > a => (instret, "insn"),
        _ => (crate::arch::read_time, "ticks"),
    }
}
