//! Per-architecture entry stubs, written in assembly so that the registers saved on entry
//! to Wasm and restored when a trap resumes are exactly the ones we choose.
//!
//! `atoll_wasm_enter(save, f, a0, a1, a2, a3) -> u32` saves the callee-saved registers and
//! the stack pointer into `save`, calls `f(a0, a1, a2, a3)` and returns 0. A fault handler
//! that resumes at `atoll_wasm_landing` with the first argument register set to `save`
//! makes that same `atoll_wasm_enter` call return 1.
//!
//! `atoll_wasm_raise(vmctx, code)` is how compiled code traps without a fault: it passes
//! its return address and the caller's frame pointer to [`crate::trap::raise`], which
//! records the trap and jumps to the landing pad itself. Signals are expensive on some
//! hosts (a `ud2` costs ~13 µs under KVM, which intercepts #UD), and a kernel saves a
//! whole trap frame; a call costs neither. If `raise` returns (no activation), the stub
//! returns and the caller's own trap instruction follows.

#[cfg(target_arch = "riscv64")]
mod fiber_riscv64;
#[cfg(target_arch = "x86_64")]
mod fiber_x86_64;
#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "riscv64")]
use fiber_riscv64 as fiber;
#[cfg(target_arch = "x86_64")]
use fiber_x86_64 as fiber;

/// Words reserved for saved registers (the biggest user is riscv64: sp, s0-s11, fs0-fs11).
pub const SAVE_WORDS: usize = 26;

unsafe extern "C" {
    /// See the module docs.
    pub fn atoll_wasm_enter(
        save: *mut usize,
        f: usize,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
    ) -> u32;
    /// Landing pad for resumed traps: fault handlers resume here, and `trap::raise`
    /// calls it with the activation's save area.
    pub fn atoll_wasm_landing(save: *mut usize) -> !;
    /// See the module docs. Called only from compiled code.
    pub fn atoll_wasm_raise();
}

unsafe extern "C" {
    /// Saves the current context on the current stack and its stack pointer in `*save`,
    /// then resumes the context saved at stack pointer `to` (see the arch's fiber file).
    pub fn atoll_fiber_switch(save: *mut usize, to: usize);
    fn atoll_fiber_start();
}

/// Writes a new fiber's first switch frame below `top` (16-byte aligned, with room for
/// the frame) so that switching to the returned stack pointer calls `entry(arg)` there.
///
/// # Safety
/// `[top - frame size, top)` must be writable memory that nothing else uses.
pub unsafe fn fiber_init(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> usize {
    let frame = fiber::first_frame(atoll_fiber_start as *const () as usize, entry as usize, arg);
    let sp = top - fiber::FRAME_WORDS * 8;
    // SAFETY: per the contract, the frame's words are ours to write.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), sp as *mut usize, frame.len()) };
    sp
}

/// Address of the trap-raising stub compiled code calls.
pub fn raise_stub() -> usize {
    atoll_wasm_raise as *const () as usize
}

/// Address of the landing pad.
pub fn landing_pad() -> usize {
    atoll_wasm_landing as *const () as usize
}

/// Frame layout used by Cranelift with frame pointers on both supported ISAs:
/// `[fp]` = caller's fp, `[fp + 8]` = return address.
pub const FP_TO_RETURN_ADDR: usize = 8;
