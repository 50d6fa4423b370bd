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
//! `scause` and `stval`. Below it, the entry saves the extended state of the
//! interrupted code when that code has written it since it was last saved
//! (`sstatus.FS`/`VS` Dirty): f0-f31 and fcsr, then v0-v31 with vstart, vtype,
//! vl and vcsr. Kernel Rust code (lp64d), the handler and Wasm JIT code may
//! all use FP registers, and JIT SIMD code uses the vector registers, so an
//! interrupt must never change them. After saving, the live FS/VS become
//! Clean: a nested trap saves again only if the handler wrote them. Exit
//! restores what entry saved, then `sstatus` (with FS/VS Dirty again).

use core::arch::global_asm;

/// Size of [`TrapFrame`] in bytes; a multiple of 16 for the ABI.
const FRAME_SIZE: usize = 288;
/// Bytes of the FP save area: f0-f31, fcsr, padding to 16.
const FP_AREA: usize = 272;
/// Bytes before the vector registers in the vector save area: vstart,
/// vtype, vl, vcsr, the area's total size, padding to 16.
const V_HEADER: usize = 48;
/// `sstatus` fields.
pub const SSTATUS_FS_SHIFT: usize = 13;
pub const SSTATUS_VS_SHIFT: usize = 9;

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
    pub fn cause(&self) -> Cause {
        Cause::of(self.scause)
    }
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

/// Page-fault exception codes (`scause`), as the shared code sees them.
pub const INSTRUCTION_PAGE_FAULT: usize = 12;
pub const LOAD_PAGE_FAULT: usize = 13;
pub const STORE_PAGE_FAULT: usize = 15;

/// Whether an exception code is a fault of the instruction at `sepc`
/// (misaligned access, access fault, illegal instruction, breakpoint, page
/// fault): what a Wasm trap site raises.
pub fn is_instruction_fault(code: usize) -> bool {
    matches!(code, 0..=7 | 12 | 13 | 15)
}

/// Whether an exception code is a page fault (the address is in `stval`).
pub fn is_page_fault(code: usize) -> bool {
    matches!(
        code,
        INSTRUCTION_PAGE_FAULT | LOAD_PAGE_FAULT | STORE_PAGE_FAULT
    )
}

// Trap entry. tp holds the per-hart data: offset 8 is the trap stack top.
global_asm!(
    r#"
    .section .text
    .option push
    // Module-level assembly does not inherit the target's FP features.
    .option arch, +d
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
    // s1 keeps the frame across the handler call (saved above, callee-saved).
    mv s1, sp

    // FP state, if the interrupted code dirtied it.
    ld t0, 32*8(s1)
    srli t1, t0, {fs_shift}
    andi t1, t1, 3
    li t2, 3
    bne t1, t2, 4f
    addi sp, sp, -{fp_area}
    fsd f0, 0*8(sp)
    fsd f1, 1*8(sp)
    fsd f2, 2*8(sp)
    fsd f3, 3*8(sp)
    fsd f4, 4*8(sp)
    fsd f5, 5*8(sp)
    fsd f6, 6*8(sp)
    fsd f7, 7*8(sp)
    fsd f8, 8*8(sp)
    fsd f9, 9*8(sp)
    fsd f10, 10*8(sp)
    fsd f11, 11*8(sp)
    fsd f12, 12*8(sp)
    fsd f13, 13*8(sp)
    fsd f14, 14*8(sp)
    fsd f15, 15*8(sp)
    fsd f16, 16*8(sp)
    fsd f17, 17*8(sp)
    fsd f18, 18*8(sp)
    fsd f19, 19*8(sp)
    fsd f20, 20*8(sp)
    fsd f21, 21*8(sp)
    fsd f22, 22*8(sp)
    fsd f23, 23*8(sp)
    fsd f24, 24*8(sp)
    fsd f25, 25*8(sp)
    fsd f26, 26*8(sp)
    fsd f27, 27*8(sp)
    fsd f28, 28*8(sp)
    fsd f29, 29*8(sp)
    fsd f30, 30*8(sp)
    fsd f31, 31*8(sp)
    frcsr t1
    sd t1, 32*8(sp)
    // Dirty -> Clean.
    li t1, 1 << {fs_shift}
    csrc sstatus, t1
4:
    // Vector state, likewise (VS is never Dirty on harts without V).
    srli t1, t0, {vs_shift}
    andi t1, t1, 3
    li t2, 3
    bne t1, t2, 5f
    .option push
    .option arch, +v
    csrr t1, vlenb
    slli t1, t1, 5
    addi t1, t1, {v_header}
    sub sp, sp, t1
    sd t1, 32(sp)
    csrr t2, vstart
    sd t2, 0(sp)
    csrr t2, vtype
    sd t2, 8(sp)
    csrr t2, vl
    sd t2, 16(sp)
    csrr t2, vcsr
    sd t2, 24(sp)
    // Whole-register stores ignore vtype/vl but start at vstart.
    csrw vstart, zero
    csrr t1, vlenb
    slli t1, t1, 3
    addi t2, sp, {v_header}
    vs8r.v v0, (t2)
    add t2, t2, t1
    vs8r.v v8, (t2)
    add t2, t2, t1
    vs8r.v v16, (t2)
    add t2, t2, t1
    vs8r.v v24, (t2)
    .option pop
    li t1, 1 << {vs_shift}
    csrc sstatus, t1
5:
    mv a0, s1
    // A frame record pointing into the interrupted code lets backtraces
    // continue through the trap.
    addi sp, sp, -16
    ld t0, 33*8(s1)
    sd t0, 8(sp)
    sd s0, 0(sp)
    addi s0, sp, 16
    call {handler}
    addi sp, sp, 16

    // Restore in reverse: vector area (lowest), then FP, then the frame.
    ld t0, 32*8(s1)
    srli t1, t0, {vs_shift}
    andi t1, t1, 3
    li t2, 3
    bne t1, t2, 6f
    .option push
    .option arch, +v
    csrr t1, vlenb
    slli t1, t1, 3
    addi t2, sp, {v_header}
    vl8re8.v v0, (t2)
    add t2, t2, t1
    vl8re8.v v8, (t2)
    add t2, t2, t1
    vl8re8.v v16, (t2)
    add t2, t2, t1
    vl8re8.v v24, (t2)
    ld t1, 16(sp)
    ld t2, 8(sp)
    vsetvl zero, t1, t2
    ld t1, 24(sp)
    csrw vcsr, t1
    ld t1, 0(sp)
    csrw vstart, t1
    ld t1, 32(sp)
    add sp, sp, t1
    .option pop
6:
    srli t1, t0, {fs_shift}
    andi t1, t1, 3
    li t2, 3
    bne t1, t2, 7f
    ld t1, 32*8(sp)
    fscsr t1
    fld f0, 0*8(sp)
    fld f1, 1*8(sp)
    fld f2, 2*8(sp)
    fld f3, 3*8(sp)
    fld f4, 4*8(sp)
    fld f5, 5*8(sp)
    fld f6, 6*8(sp)
    fld f7, 7*8(sp)
    fld f8, 8*8(sp)
    fld f9, 9*8(sp)
    fld f10, 10*8(sp)
    fld f11, 11*8(sp)
    fld f12, 12*8(sp)
    fld f13, 13*8(sp)
    fld f14, 14*8(sp)
    fld f15, 15*8(sp)
    fld f16, 16*8(sp)
    fld f17, 17*8(sp)
    fld f18, 18*8(sp)
    fld f19, 19*8(sp)
    fld f20, 20*8(sp)
    fld f21, 21*8(sp)
    fld f22, 22*8(sp)
    fld f23, 23*8(sp)
    fld f24, 24*8(sp)
    fld f25, 25*8(sp)
    fld f26, 26*8(sp)
    fld f27, 27*8(sp)
    fld f28, 28*8(sp)
    fld f29, 29*8(sp)
    fld f30, 30*8(sp)
    fld f31, 31*8(sp)
    addi sp, sp, {fp_area}
7:
    // sp is back at the frame.
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
    .option pop
"#,
    frame = const FRAME_SIZE,
    fp_area = const FP_AREA,
    v_header = const V_HEADER,
    fs_shift = const SSTATUS_FS_SHIFT,
    vs_shift = const SSTATUS_VS_SHIFT,
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
    .option push
    .option arch, +d
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
    fsd fs0, 112(a0)
    fsd fs1, 120(a0)
    fsd fs2, 128(a0)
    fsd fs3, 136(a0)
    fsd fs4, 144(a0)
    fsd fs5, 152(a0)
    fsd fs6, 160(a0)
    fsd fs7, 168(a0)
    fsd fs8, 176(a0)
    fsd fs9, 184(a0)
    fsd fs10, 192(a0)
    fsd fs11, 200(a0)
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
    fld fs0, 112(a0)
    fld fs1, 120(a0)
    fld fs2, 128(a0)
    fld fs3, 136(a0)
    fld fs4, 144(a0)
    fld fs5, 152(a0)
    fld fs6, 160(a0)
    fld fs7, 168(a0)
    fld fs8, 176(a0)
    fld fs9, 184(a0)
    fld fs10, 192(a0)
    fld fs11, 200(a0)
    li a0, 1
    ret
    .option pop
"#
);

/// The registers a recovery point restores (the callee-saved ones of the
/// lp64d ABI); the start of a recovery context (see `crate::recover::RecoveryCtx`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SavedRegs {
    pub ra: usize,
    pub sp: usize,
    pub s: [usize; 12],
    pub fs: [u64; 12],
}

const _: () = assert!(core::mem::size_of::<SavedRegs>() == 208);

unsafe extern "C" {
    fn atoll_trap_entry();
}

pub(super) fn trap_entry_addr() -> usize {
    atoll_trap_entry as *const () as usize
}
