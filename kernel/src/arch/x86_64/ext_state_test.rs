//! Assembly for the kernel test that SSE/AVX state survives interrupts: one
//! routine fills every vector register and MXCSR and spins across timer
//! ticks, one clobbers them from the tick hook. (Kernel Rust code is
//! soft-float on this target, so only the trap path's XSAVE keeps them.)

use core::arch::global_asm;

/// Vector registers (xmm0-15 / ymm0-15).
pub const VECTOR_REGS: usize = 16;
/// MXCSR with round-toward-zero: not the default, so a reset shows.
const TEST_MXCSR: u32 = 0x7f80;

// atoll_test_ext_state(deadline, use_avx, vbuf) -> mismatches
// Every byte of xmm{i} (ymm{i} with AVX) is i + 1 and MXCSR is TEST_MXCSR;
// spins until the TSC reaches `deadline`, then counts a changed MXCSR and
// stores the registers to `vbuf` (16 or 32 bytes each).
global_asm!(
    r#"
    .section .text
    .globl atoll_test_ext_state
atoll_test_ext_state:
    mov r8, rdx
    sub rsp, 8
    stmxcsr [rsp]
    mov dword ptr [rsp + 4], {mxcsr}
    ldmxcsr [rsp + 4]
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    mov eax, (\i + 1) * 0x01010101
    movd xmm\i, eax
    pshufd xmm\i, xmm\i, 0
    .endr
    test rsi, rsi
    jz 1f
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vinsertf128 ymm\i, ymm\i, xmm\i, 1
    .endr
1:
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, rdi
    jb 1b
    xor eax, eax
    stmxcsr [rsp + 4]
    cmp dword ptr [rsp + 4], {mxcsr}
    je 2f
    inc eax
2:
    test rsi, rsi
    jz 3f
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vmovdqu [r8 + \i * 32], ymm\i
    .endr
    vzeroupper
    jmp 4f
3:
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu [r8 + \i * 16], xmm\i
    .endr
4:
    ldmxcsr [rsp]
    add rsp, 8
    ret

    .globl atoll_test_clobber_ext_state
atoll_test_clobber_ext_state:
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    pcmpeqb xmm\i, xmm\i
    .endr
    test rdi, rdi
    jz 1f
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vcmpps ymm\i, ymm\i, ymm\i, 15
    .endr
1:
    sub rsp, 8
    mov dword ptr [rsp], 0x1f80
    ldmxcsr [rsp]
    add rsp, 8
    ret
"#,
    mxcsr = const TEST_MXCSR,
);

unsafe extern "C" {
    fn atoll_test_ext_state(deadline: u64, use_avx: usize, vbuf: *mut u8) -> usize;
    fn atoll_test_clobber_ext_state(use_avx: usize);
}

/// Fills the vector registers and MXCSR with known values, spins until the
/// TSC reaches `deadline`, and returns how many control registers changed
/// (MXCSR). The vector registers end up in `vbuf`.
pub fn fill_and_spin(deadline: u64, vbuf: Option<&mut [u8]>) -> usize {
    let (avx, ptr) = match vbuf {
        Some(b) => {
            assert!(b.len() >= VECTOR_REGS * vlenb(), "vector buffer too small");
            (super::has_vector() as usize, b.as_mut_ptr())
        }
        None => (0, core::ptr::null_mut()),
    };
    assert!(!ptr.is_null(), "SSE is always present: pass a buffer");
    // SAFETY: the routine follows the SysV ABI (it restores MXCSR's control
    // bits) and writes at most 16 * vlenb bytes to the checked buffer; AVX
    // instructions run only if `has_vector` says AVX is enabled.
    unsafe { atoll_test_ext_state(deadline, avx, ptr) }
}

/// Overwrites every vector register (all of ymm with AVX) and resets MXCSR:
/// a tick hook that proves the trap path restores them.
pub fn clobber(vector: bool) {
    // SAFETY: the routine touches only caller-saved state; AVX instructions
    // run only if the caller says AVX is enabled.
    unsafe { atoll_test_clobber_ext_state(vector as usize) }
}

/// Bytes per vector register: 32 with AVX, else 16 (SSE).
pub fn vlenb() -> usize {
    if super::has_vector() { 32 } else { 16 }
}
