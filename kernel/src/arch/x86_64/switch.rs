//! x86_64 thread context switch (used by `sched::thread`).
//!
//! A switch is an ordinary call, so only the SysV callee-saved registers
//! are saved: rbx, rbp, r12-r15 (the return address is already on the
//! stack). The kernel is built without SSE and Wasm code's XMM registers
//! are all caller-saved, so no vector state is live across the call. The
//! per-hart GS base stays with the hart.

use core::arch::{asm, global_asm};

global_asm!(
    r#"
    .section .text
    .globl atoll_switch
atoll_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
"#
);

unsafe extern "C" {
    /// Saves the callee-saved state on the current stack, stores `rsp` in
    /// `*save_sp`, loads `next_sp` and restores the state saved there.
    pub fn atoll_switch(save_sp: *mut usize, next_sp: usize);
}

/// Prepares a new stack whose first switch-in "returns" into `entry` as if
/// called (rsp ≡ 8 mod 16) with rbp = 0 (ending backtraces); returns its sp.
///
/// # Safety
/// `top` must be the 16-byte aligned top of a mapped, unused stack.
pub unsafe fn init_stack(top: usize, entry: extern "C" fn() -> !) -> usize {
    // [r15 r14 r13 r12 rbx rbp] [entry] [0: fake return address of entry]
    let sp = top - 64;
    // SAFETY: the 64 bytes lie inside the stack (caller's contract).
    unsafe {
        core::ptr::write_bytes(sp as *mut u8, 0, 64);
        ((sp + 48) as *mut usize).write(entry as usize);
    }
    sp
}

/// Waits for an interrupt with interrupts disabled, then takes it: `sti`
/// delays interrupts by one instruction, so `sti; hlt` cannot miss a
/// wake-up that arrived after the caller's check.
pub fn idle_wait() {
    // SAFETY: halts until an interrupt, which is taken on this (idle)
    // stack; interrupts are disabled again afterwards.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}
