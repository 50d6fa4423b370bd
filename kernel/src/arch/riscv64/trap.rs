//! Trap entry and exit, and the assembly half of fault recovery.
//!
//! # Stacks
//! Every trap runs on the hart's trap stack. While the hart runs ordinary
//! code, `sscratch` holds the trap stack top; entry swaps it with `sp`. Inside
//! the handler `sscratch` is 0, so a nested trap (a fault in the handler, or a
//! fault in code the handler runs under recovery) stays on the current stack.
//! Thus a kernel stack overflow into a guard page is still reported.
//!
//! # State saved
//! [`TrapFrame`] holds all 31 integer registers plus `sstatus`, `sepc`,
//! `scause` and `stval`. FP and vector registers are not saved: kernel code
//! (and the handler) never uses them. Code that does (Wasm JIT code, later
//! threads) is run with its extended state owned by its thread: on a context
//! switch the scheduler saves f0-f31/fcsr and v0-v31/vtype/vl/vstart/vcsr
//! only when `sstatus.FS`/`VS` (kept in the frame) say Dirty, then marks them
//! Clean. Interrupt handlers leave FS/VS untouched, so no save is needed here.

use core::arch::global_asm;

/// Size of [`TrapFrame`] in bytes; a multiple of 16 for the ABI.
const FRAME_SIZE: usize = 288;

/// Registers of the interrupted context.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct TrapFrame {
    /// `regs[i]` is `x{i}`; `regs[0]` is unused, `regs[2]` is the interrupted `sp`.
    pub regs: [usize; 32],
    pub sstatus: usize,
    pub sepc: usize,
    pub scause: usize,
    pub stval: usize,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == FRAME_SIZE);

impl TrapFrame {
    pub fn pc(&self) -> usize {
        self.sepc
    }
    pub fn fp(&self) -> usize {
        self.regs[8]
    }
    pub fn fault_addr(&self) -> usize {
        self.stval
    }

    /// Prints the registers, ABI names first.
    pub fn dump(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        const NAMES: [&str; 32] = [
            "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
            "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
            "t3", "t4", "t5", "t6",
        ];
        for (i, (name, value)) in NAMES.iter().zip(&self.regs).enumerate().skip(1) {
            write!(out, "  {name:>4}={value:016x}")?;
            if i % 4 == 0 || i == 31 {
                writeln!(out)?;
            }
        }
        writeln!(
            out,
            "  sepc={:016x} sstatus={:016x} scause={:016x} stval={:016x}",
            self.sepc, self.sstatus, self.scause, self.stval
        )
    }

    /// Makes `sret` continue at `pc` with `a0 = arg`.
    pub fn redirect(&mut self, pc: usize, arg: usize) {
        self.sepc = pc;
        self.regs[10] = arg;
    }
}

/// What a trap was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    SoftwareInterrupt,
    TimerInterrupt,
    ExternalInterrupt,
    OtherInterrupt(usize),
    Exception(usize),
}

impl Cause {
    pub fn of(scause: usize) -> Self {
        let code = scause & !(1 << 63);
        if scause >> 63 == 1 {
            match code {
                1 => Self::SoftwareInterrupt,
                5 => Self::TimerInterrupt,
                9 => Self::ExternalInterrupt,
                c => Self::OtherInterrupt(c),
            }
        } else {
            Self::Exception(code)
        }
    }
}

/// A readable name for an exception code.
pub fn exception_name(code: usize) -> &'static str {
    match code {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store address misaligned",
        7 => "store access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store page fault",
        18 => "software check",
        19 => "hardware error",
        _ => "unknown exception",
    }
}

/// Whether an exception code is a page fault (the address is in `stval`).
pub fn is_page_fault(code: usize) -> bool {
    matches!(code, 12 | 13 | 15)
}

// Trap entry. tp holds the per-hart data: offset 8 is the trap stack top.
global_asm!(
    r#"
    .section .text
    .balign 4
    .globl atoll_trap_entry
atoll_trap_entry:
    csrrw sp, sscratch, sp
    bnez sp, 1f
    // Nested: sscratch was 0, so we are already on the trap stack. Swap back.
    csrrw sp, sscratch, sp
1:
    addi sp, sp, -{frame}
    sd x1, 1*8(sp)
    sd x3, 3*8(sp)
    sd x4, 4*8(sp)
    sd x5, 5*8(sp)
    sd x6, 6*8(sp)
    sd x7, 7*8(sp)
    sd x8, 8*8(sp)
    sd x9, 9*8(sp)
    sd x10, 10*8(sp)
    sd x11, 11*8(sp)
    sd x12, 12*8(sp)
    sd x13, 13*8(sp)
    sd x14, 14*8(sp)
    sd x15, 15*8(sp)
    sd x16, 16*8(sp)
    sd x17, 17*8(sp)
    sd x18, 18*8(sp)
    sd x19, 19*8(sp)
    sd x20, 20*8(sp)
    sd x21, 21*8(sp)
    sd x22, 22*8(sp)
    sd x23, 23*8(sp)
    sd x24, 24*8(sp)
    sd x25, 25*8(sp)
    sd x26, 26*8(sp)
    sd x27, 27*8(sp)
    sd x28, 28*8(sp)
    sd x29, 29*8(sp)
    sd x30, 30*8(sp)
    sd x31, 31*8(sp)
    // The interrupted sp: in sscratch from the outer case, or just above this
    // frame when nested (sscratch 0). sscratch stays 0 while handling.
    csrrw t0, sscratch, zero
    bnez t0, 2f
    addi t0, sp, {frame}
2:
    sd t0, 2*8(sp)
    csrr t0, sstatus
    sd t0, 32*8(sp)
    csrr t0, sepc
    sd t0, 33*8(sp)
    csrr t0, scause
    sd t0, 34*8(sp)
    csrr t0, stval
    sd t0, 35*8(sp)

    mv a0, sp
    // A frame record pointing into the interrupted code lets backtraces
    // continue through the trap.
    addi sp, sp, -16
    ld t0, 33*8+16(sp)
    sd t0, 8(sp)
    sd s0, 0(sp)
    addi s0, sp, 16
    call {handler}
    addi sp, sp, 16

    ld t0, 32*8(sp)
    csrw sstatus, t0
    ld t0, 33*8(sp)
    csrw sepc, t0
    // Re-arm sscratch only when leaving the outermost trap (frame at the top).
    ld t0, 8(tp)
    addi t1, sp, {frame}
    bne t0, t1, 3f
    csrw sscratch, t0
3:
    ld x1, 1*8(sp)
    ld x3, 3*8(sp)
    ld x4, 4*8(sp)
    ld x5, 5*8(sp)
    ld x6, 6*8(sp)
    ld x7, 7*8(sp)
    ld x8, 8*8(sp)
    ld x9, 9*8(sp)
    ld x10, 10*8(sp)
    ld x11, 11*8(sp)
    ld x12, 12*8(sp)
    ld x13, 13*8(sp)
    ld x14, 14*8(sp)
    ld x15, 15*8(sp)
    ld x16, 16*8(sp)
    ld x17, 17*8(sp)
    ld x18, 18*8(sp)
    ld x19, 19*8(sp)
    ld x20, 20*8(sp)
    ld x21, 21*8(sp)
    ld x22, 22*8(sp)
    ld x23, 23*8(sp)
    ld x24, 24*8(sp)
    ld x25, 25*8(sp)
    ld x26, 26*8(sp)
    ld x27, 27*8(sp)
    ld x28, 28*8(sp)
    ld x29, 29*8(sp)
    ld x30, 30*8(sp)
    ld x31, 31*8(sp)
    ld sp, 2*8(sp)
    sret
"#,
    frame = const FRAME_SIZE,
    handler = sym crate::trap::handle_trap,
);

// Recovery: `atoll_recovery_call(ctx, f, data)` saves the callee-saved state
// in `ctx` and calls `f(data)`; it returns 0 when `f` returns. A fault (or a
// panic) under an active context makes the trap handler `sret` into
// `atoll_recovery_landing` with a0 = ctx, which restores that state and
// returns 1 from the same `atoll_recovery_call`. Both paths return once, as
// an ordinary call, so the compiler's view of the caller stays correct.
global_asm!(
    r#"
    .section .text
    .globl atoll_recovery_call
atoll_recovery_call:
    sd ra, 0(a0)
    sd sp, 8(a0)
    sd s0, 16(a0)
    sd s1, 24(a0)
    sd s2, 32(a0)
    sd s3, 40(a0)
    sd s4, 48(a0)
    sd s5, 56(a0)
    sd s6, 64(a0)
    sd s7, 72(a0)
    sd s8, 80(a0)
    sd s9, 88(a0)
    sd s10, 96(a0)
    sd s11, 104(a0)
    mv s1, a0
    mv a0, a2
    jalr a1
    ld ra, 0(s1)
    ld s0, 16(s1)
    ld s2, 32(s1)
    ld s3, 40(s1)
    ld s4, 48(s1)
    ld s5, 56(s1)
    ld s6, 64(s1)
    ld s7, 72(s1)
    ld s8, 80(s1)
    ld s9, 88(s1)
    ld s10, 96(s1)
    ld s11, 104(s1)
    ld s1, 24(s1)
    li a0, 0
    ret

    .globl atoll_recovery_landing
atoll_recovery_landing:
    ld ra, 0(a0)
    ld sp, 8(a0)
    ld s0, 16(a0)
    ld s1, 24(a0)
    ld s2, 32(a0)
    ld s3, 40(a0)
    ld s4, 48(a0)
    ld s5, 56(a0)
    ld s6, 64(a0)
    ld s7, 72(a0)
    ld s8, 80(a0)
    ld s9, 88(a0)
    ld s10, 96(a0)
    ld s11, 104(a0)
    li a0, 1
    ret
"#
);

/// The registers a recovery point restores; the first 112 bytes of a
/// recovery context (see `crate::recover::RecoveryCtx`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SavedRegs {
    pub ra: usize,
    pub sp: usize,
    pub s: [usize; 12],
}

unsafe extern "C" {
    fn atoll_trap_entry();
    fn atoll_recovery_call(ctx: *mut SavedRegs, f: extern "C" fn(*mut u8), data: *mut u8) -> usize;
    fn atoll_recovery_landing(ctx: *mut SavedRegs) -> !;
}

pub(super) fn trap_entry_addr() -> usize {
    atoll_trap_entry as *const () as usize
}

/// Calls `f(data)` with `regs` as the recovery point; returns `false` if `f`
/// returned, `true` if it faulted and was resumed through the context.
///
/// # Safety
/// `regs` must stay valid until this returns, and may be resumed only while
/// this call is still on the stack.
pub unsafe fn recovery_call(
    regs: *mut SavedRegs,
    f: extern "C" fn(*mut u8),
    data: *mut u8,
) -> bool {
    // SAFETY: the assembly follows the C ABI; see the caller's contract.
    unsafe { atoll_recovery_call(regs, f, data) != 0 }
}

/// Resumes the recovery point `regs` (from a panic: no trap frame involved).
///
/// # Safety
/// The `recovery_call` that filled `regs` must still be active on this stack.
pub unsafe fn recovery_resume(regs: *mut SavedRegs) -> ! {
    // SAFETY: see the caller's contract.
    unsafe { atoll_recovery_landing(regs) }
}

/// Makes `frame` return into the recovery point `regs` instead of the faulting code.
pub fn redirect_to_recovery(frame: &mut TrapFrame, regs: *mut SavedRegs) {
    frame.redirect(atoll_recovery_landing as *const () as usize, regs as usize);
}
