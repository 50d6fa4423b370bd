//! riscv64 thread context switch (used by `sched::thread`).
//!
//! A switch is an ordinary call, so only the callee-saved state of the
//! psABI is saved: `ra`, `s0`-`s11` and `fs0`-`fs11`. Everything else
//! (caller-saved integer, FP and all vector registers) is dead across the
//! call by the ABI. `tp` is the hart's pointer and must not follow a thread
//! to another hart, so it is not saved.

use core::arch::{asm, global_asm};

/// Bytes the switch pushes: ra, s0-s11, fs0-fs11 (25 words), rounded to 16.
const SWITCH_FRAME: usize = 208;

global_asm!(
    r#"
    .section .text
    .option push
    .option arch, +d
    .globl atoll_switch
atoll_switch:
    addi sp, sp, -{frame}
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    fsd fs0, 104(sp)
    fsd fs1, 112(sp)
    fsd fs2, 120(sp)
    fsd fs3, 128(sp)
    fsd fs4, 136(sp)
    fsd fs5, 144(sp)
    fsd fs6, 152(sp)
    fsd fs7, 160(sp)
    fsd fs8, 168(sp)
    fsd fs9, 176(sp)
    fsd fs10, 184(sp)
    fsd fs11, 192(sp)
    sd sp, 0(a0)
    mv sp, a1
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    fld fs0, 104(sp)
    fld fs1, 112(sp)
    fld fs2, 120(sp)
    fld fs3, 128(sp)
    fld fs4, 136(sp)
    fld fs5, 144(sp)
    fld fs6, 152(sp)
    fld fs7, 160(sp)
    fld fs8, 168(sp)
    fld fs9, 176(sp)
    fld fs10, 184(sp)
    fld fs11, 192(sp)
    addi sp, sp, {frame}
    ret
    .option pop
"#,
    frame = const SWITCH_FRAME,
);

unsafe extern "C" {
    /// Saves the callee-saved state on the current stack, stores `sp` in
    /// `*save_sp`, loads `next_sp` and restores the state saved there.
    pub fn atoll_switch(save_sp: *mut usize, next_sp: usize);
}

/// Prepares a new stack whose first switch-in "returns" into `entry` with
/// `sp == top` and a null frame pointer (ending backtraces); returns its sp.
///
/// # Safety
/// `top` must be the 16-byte aligned top of a mapped, unused stack.
pub unsafe fn init_stack(top: usize, entry: extern "C" fn() -> !) -> usize {
    let sp = top - SWITCH_FRAME;
    // SAFETY: the frame lies inside the stack (caller's contract); every
    // slot starts zeroed (s0 = 0 ends frame-pointer walks), ra = entry.
    unsafe {
        core::ptr::write_bytes(sp as *mut u8, 0, SWITCH_FRAME);
        (sp as *mut usize).write(entry as usize);
    }
    sp
}

/// Waits for an interrupt with interrupts disabled, then lets a pending
/// one be taken. `wfi` wakes on a pending enabled source even while
/// `sstatus.SIE` is clear, so a wake-up between the caller's check and
/// here is not lost.
pub fn idle_wait() {
    // SAFETY: wfi only pauses the hart; SIE is set then cleared again so a
    // pending interrupt is taken here, on this (idle) stack.
    unsafe {
        asm!("wfi", options(nomem, nostack));
        asm!(
            "csrsi sstatus, 2",
            "nop",
            "csrci sstatus, 2",
            options(nostack)
        );
    }
}
