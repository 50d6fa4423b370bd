//! Assembly for the kernel test that FP and vector state survive interrupts:
//! one routine fills every register and spins across timer ticks, one
//! clobbers them from the tick hook.

use core::arch::{asm, global_asm};

// atoll_test_ext_state(deadline, use_v, vbuf) -> mismatches
// f{i} = 0x12345678_00000000 + i, frm = RTZ; with V: every byte of v{i} is
// i + 1, then vl = 3 with e32/m1/ta/ma. Spins until `time` reaches
// `deadline`, then counts FP/CSR mismatches and stores v0-v31 to `vbuf`.
global_asm!(
    r#"
    .section .text
    .globl atoll_test_ext_state
atoll_test_ext_state:
    .option push
    .option arch, +d, +v
    // fs0-fs11 are callee-saved: keep the caller's.
    addi sp, sp, -96
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
    fsd fs\i, \i*8(sp)
    .endr
    li t0, 0x12345678
    slli t0, t0, 32
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    addi t1, t0, \i
    fmv.d.x f\i, t1
    .endr
    li t1, 1
    fsrm t1
    beqz a1, 1f
    vsetvli t1, zero, e8, m1, ta, ma
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li t2, \i + 1
    vmv.v.x v\i, t2
    .endr
    li t1, 3
    vsetvli t1, t1, e32, m1, ta, ma
1:
    rdtime t1
    bltu t1, a0, 1b
    li a3, 0
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    addi t1, t0, \i
    fmv.x.d t2, f\i
    beq t1, t2, 2f
    addi a3, a3, 1
2:
    .endr
    frrm t1
    li t2, 1
    beq t1, t2, 3f
    addi a3, a3, 1
3:
    beqz a1, 5f
    csrr t1, vl
    li t2, 3
    beq t1, t2, 4f
    addi a3, a3, 1
4:
    csrr t1, vtype
    li t2, 0xd0
    beq t1, t2, 6f
    addi a3, a3, 1
6:
    csrr t1, vlenb
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    vs1r.v v\i, (a2)
    add a2, a2, t1
    .endr
5:
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
    fld fs\i, \i*8(sp)
    .endr
    addi sp, sp, 96
    mv a0, a3
    ret

    // Clobbers the caller-saved FP registers, frm, vl, vtype and every
    // vector register (all are caller-saved in the lp64d ABI).
    .globl atoll_test_clobber_ext_state
atoll_test_clobber_ext_state:
    .irp r,ft0,ft1,ft2,ft3,ft4,ft5,ft6,ft7,ft8,ft9,ft10,ft11,fa0,fa1,fa2,fa3,fa4,fa5,fa6,fa7
    fmv.d.x \r, zero
    .endr
    li t1, 3
    fsrm t1
    beqz a0, 1f
    vsetvli t1, zero, e64, m1, tu, mu
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    vmv.v.i v\i, 0
    .endr
1:
    ret
    .option pop
"#
);

unsafe extern "C" {
    fn atoll_test_ext_state(deadline: u64, use_v: usize, vbuf: *mut u8) -> usize;
    fn atoll_test_clobber_ext_state(use_v: usize);
}

/// Fills f0-f31, frm and (with `vbuf`) v0-v31, vl and vtype with known
/// values, spins until `time` reaches `deadline`, and returns how many FP
/// registers or CSRs changed. The vector registers end up in `vbuf`.
pub fn fill_and_spin(deadline: u64, vbuf: Option<&mut [u8]>) -> usize {
    let (use_v, ptr) = match vbuf {
        Some(b) => {
            assert!(b.len() >= 32 * vlenb(), "vector buffer too small");
            (1, b.as_mut_ptr())
        }
        None => (0, core::ptr::null_mut()),
    };
    // SAFETY: the routine follows the C ABI (it restores fs0-fs11) and
    // writes at most 32 * vlenb bytes to the checked buffer; V code runs
    // only when `vbuf` was given, which `has_vector` gates in the caller.
    unsafe { atoll_test_ext_state(deadline, use_v, ptr) }
}

/// Overwrites the caller-saved FP registers, frm and (if `vector`) all
/// vector registers, vl and vtype: a tick hook that proves the trap path
/// restores them.
pub fn clobber(vector: bool) {
    // SAFETY: the routine follows the C ABI and touches only caller-saved
    // registers; V instructions run only if the caller says V is present.
    unsafe { atoll_test_clobber_ext_state(vector as usize) }
}

/// Bytes per vector register (0 without V).
pub fn vlenb() -> usize {
    if !super::has_vector() {
        return 0;
    }
    let v: usize;
    // SAFETY: reading vlenb has no side effects; V is present and enabled.
    unsafe {
        asm!(".option push", ".option arch, +v", "csrr {0}, vlenb", ".option pop", out(reg) v)
    };
    v
}
