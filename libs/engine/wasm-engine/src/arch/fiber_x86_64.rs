//! x86_64 System V stack switch for fibers ([`crate::runtime::fiber`]).
//!
//! `atoll_fiber_switch(save: *mut usize, to: usize)` pushes the callee-saved registers
//! (rbp, rbx, r12-r15) and its return address on the current stack, stores the stack
//! pointer in `*save`, loads `to` and pops the same frame from there, so it returns
//! where the other side last switched away. A new fiber's first frame
//! ([`super::fiber_init`]) returns into `atoll_fiber_start`, which calls the entry in r13
//! with the argument in r12.
core::arch::global_asm!(
    ".text",
    ".globl atoll_fiber_switch",
    ".p2align 4",
    "atoll_fiber_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".globl atoll_fiber_start",
    ".p2align 4",
    "atoll_fiber_start:",
    "mov rdi, r12",
    "call r13",
    "ud2",
);

/// Words of a switch frame: r15, r14, r13, r12, rbx, rbp, return address, and two of
/// padding, so that `atoll_fiber_start` runs with the stack 16-byte aligned (`top - 16`).
pub const FRAME_WORDS: usize = 9;

/// The first frame of a fiber: returns the frame's words, lowest address first.
pub fn first_frame(start: usize, entry: usize, arg: usize) -> [usize; FRAME_WORDS] {
    // r15, r14, r13 = entry, r12 = arg, rbx, rbp = 0 (ends frame-pointer walks), ret, pad.
    [0, 0, entry, arg, 0, 0, start, 0, 0]
}
