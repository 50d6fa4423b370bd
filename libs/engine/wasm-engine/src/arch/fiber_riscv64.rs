//! riscv64 (LP64D) stack switch for fibers ([`crate::runtime::fiber`]).
//!
//! `atoll_fiber_switch(save: *mut usize, to: usize)` saves ra, s0-s11 and fs0-fs11 in a
//! frame on the current stack, stores the stack pointer in `*save`, loads `to` and
//! restores the same frame from there, so it returns where the other side last switched
//! away. A new fiber's first frame ([`super::fiber_init`]) returns into
//! `atoll_fiber_start`, which calls the entry in s2 with the argument in s1.
core::arch::global_asm!(
    ".option push",
    ".option arch, +d",
    ".text",
    ".globl atoll_fiber_switch",
    ".p2align 2",
    "atoll_fiber_switch:",
    "addi sp, sp, -208",
    "sd ra, 0(sp)",
    "sd s0, 8(sp)",
    "sd s1, 16(sp)",
    "sd s2, 24(sp)",
    "sd s3, 32(sp)",
    "sd s4, 40(sp)",
    "sd s5, 48(sp)",
    "sd s6, 56(sp)",
    "sd s7, 64(sp)",
    "sd s8, 72(sp)",
    "sd s9, 80(sp)",
    "sd s10, 88(sp)",
    "sd s11, 96(sp)",
    "fsd fs0, 104(sp)",
    "fsd fs1, 112(sp)",
    "fsd fs2, 120(sp)",
    "fsd fs3, 128(sp)",
    "fsd fs4, 136(sp)",
    "fsd fs5, 144(sp)",
    "fsd fs6, 152(sp)",
    "fsd fs7, 160(sp)",
    "fsd fs8, 168(sp)",
    "fsd fs9, 176(sp)",
    "fsd fs10, 184(sp)",
    "fsd fs11, 192(sp)",
    "sd sp, 0(a0)",
    "mv sp, a1",
    "ld ra, 0(sp)",
    "ld s0, 8(sp)",
    "ld s1, 16(sp)",
    "ld s2, 24(sp)",
    "ld s3, 32(sp)",
    "ld s4, 40(sp)",
    "ld s5, 48(sp)",
    "ld s6, 56(sp)",
    "ld s7, 64(sp)",
    "ld s8, 72(sp)",
    "ld s9, 80(sp)",
    "ld s10, 88(sp)",
    "ld s11, 96(sp)",
    "fld fs0, 104(sp)",
    "fld fs1, 112(sp)",
    "fld fs2, 120(sp)",
    "fld fs3, 128(sp)",
    "fld fs4, 136(sp)",
    "fld fs5, 144(sp)",
    "fld fs6, 152(sp)",
    "fld fs7, 160(sp)",
    "fld fs8, 168(sp)",
    "fld fs9, 176(sp)",
    "fld fs10, 184(sp)",
    "fld fs11, 192(sp)",
    "addi sp, sp, 208",
    "ret",
    ".globl atoll_fiber_start",
    ".p2align 2",
    "atoll_fiber_start:",
    "mv a0, s1",
    "jalr s2",
    "unimp",
    ".option pop",
);

/// Words of a switch frame: ra, s0-s11, fs0-fs11 and one of padding (208 bytes).
pub const FRAME_WORDS: usize = 26;

/// The first frame of a fiber: returns the frame's words, lowest address first.
pub fn first_frame(start: usize, entry: usize, arg: usize) -> [usize; FRAME_WORDS] {
    let mut frame = [0; FRAME_WORDS];
    frame[0] = start; // ra
    frame[2] = arg; // s1
    frame[3] = entry; // s2 (s0 = 0 ends frame-pointer walks)
    frame
}
