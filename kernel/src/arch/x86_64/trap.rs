//! The IDT, trap entry and exit, and the assembly half of fault recovery.
//!
//! # Stacks
//! Interrupts and most exceptions run on the interrupted stack (the kernel
//! never runs user code, so there is no privilege change). Double faults and
//! NMIs have IST stacks of their own; page faults run on the hart's trap
//! stack (IST 3), so that a kernel stack overflow into a guard page is still
//! reported. While a page fault is handled its IST slot is moved down by
//! [`PF_NEST`], so a page fault inside the handler (or in code it runs under
//! recovery) gets fresh stack below the outer one instead of overwriting it.
//!
//! # State saved
//! [`TrapFrame`]: the 15 general registers, CR2, the vector, the error code
//! and the CPU's interrupt frame. Below it the entry saves the SSE/AVX state
//! with XSAVE (x87, SSE, AVX as enabled in XCR0), or FXSAVE without XSAVE:
//! Wasm JIT code uses the vector registers and an interrupt must not change
//! them. Kernel Rust code itself is soft-float on this target.

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;

use super::gdt::{IST_DOUBLE_FAULT, IST_NMI, IST_PAGE_FAULT, KERNEL_CS};

/// The local APIC timer.
pub const TIMER_VECTOR: u8 = 0x20;
/// Cross-hart calls (`sched::smp`).
pub const IPI_VECTOR: u8 = 0x21;
/// TLB shootdown, handled here in the arch code.
pub const TLB_VECTOR: u8 = 0x22;
/// IOAPIC inputs (GSI n at `IRQ_BASE + n`).
pub const IRQ_BASE: u8 = 0x30;
pub const IRQ_COUNT: u8 = 24;
/// The local APIC's spurious vector (no EOI).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Bytes reserved for the XSAVE/FXSAVE area (x87+SSE+AVX need 832).
pub const XSAVE_AREA: usize = 1024;
/// How far a page fault moves its IST slot down (see the module docs).
const PF_NEST: usize = 6 * 1024;
const FRAME_SIZE: usize = 184;

/// Exception codes as the shared code sees them (`Fault::Trap::cause`):
/// the vector, and for page faults the kind of access in bits 8 and 9.
pub const PAGE_FAULT_VECTOR: usize = 14;
pub const LOAD_PAGE_FAULT: usize = PAGE_FAULT_VECTOR;
pub const STORE_PAGE_FAULT: usize = PAGE_FAULT_VECTOR | 1 << 8;
pub const INSTRUCTION_PAGE_FAULT: usize = PAGE_FAULT_VECTOR | 1 << 9;

static USE_XSAVE: AtomicBool = AtomicBool::new(false);

/// Switches the trap entry from FXSAVE to XSAVE (once XCR0 is set).
pub(super) fn use_xsave() {
    USE_XSAVE.store(true, Ordering::Relaxed);
}

/// Registers of the interrupted context, in push order (lowest first).
#[repr(C)]
#[derive(Debug, Clone)]
pub struct TrapFrame {
    pub cr2: u64,
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == FRAME_SIZE);

impl TrapFrame {
    pub fn pc(&self) -> usize {
        self.rip as usize
    }
    pub fn fp(&self) -> usize {
        self.rbp as usize
    }
    /// CR2 for page faults, else the error code.
    pub fn fault_addr(&self) -> usize {
        if self.vector as usize == PAGE_FAULT_VECTOR {
            self.cr2 as usize
        } else {
            self.error_code as usize
        }
    }

    pub fn cause(&self) -> Cause {
        Cause::of(self.vector as u8, self.error_code)
    }

    pub fn dump(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        let regs = [
            ("rax", self.rax),
            ("rbx", self.rbx),
            ("rcx", self.rcx),
            ("rdx", self.rdx),
            ("rsi", self.rsi),
            ("rdi", self.rdi),
            ("rbp", self.rbp),
            ("rsp", self.rsp),
            ("r8", self.r8),
            ("r9", self.r9),
            ("r10", self.r10),
            ("r11", self.r11),
            ("r12", self.r12),
            ("r13", self.r13),
            ("r14", self.r14),
            ("r15", self.r15),
        ];
        for (i, (name, value)) in regs.iter().enumerate() {
            write!(out, "  {name:>3}={value:016x}")?;
            if i % 4 == 3 {
                writeln!(out)?;
            }
        }
        writeln!(
            out,
            "  rip={:016x} rflags={:08x} cs={:x} ss={:x} vector={} error={:#x} cr2={:#x}",
            self.rip, self.rflags, self.cs, self.ss, self.vector, self.error_code, self.cr2
        )
    }

    /// Makes `iretq` continue at `pc` with `rdi = arg`.
    pub fn redirect(&mut self, pc: usize, arg: usize) {
        self.rip = pc as u64;
        self.rdi = arg as u64;
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
    pub fn of(vector: u8, error_code: u64) -> Self {
        match vector {
            0..=31 if vector as usize == PAGE_FAULT_VECTOR => {
                let mut code = PAGE_FAULT_VECTOR;
                if error_code & (1 << 4) != 0 {
                    code = INSTRUCTION_PAGE_FAULT;
                } else if error_code & (1 << 1) != 0 {
                    code = STORE_PAGE_FAULT;
                }
                Self::Exception(code)
            }
            0..=31 => Self::Exception(vector as usize),
            TIMER_VECTOR => Self::TimerInterrupt,
            IPI_VECTOR => Self::SoftwareInterrupt,
            v if (IRQ_BASE..IRQ_BASE + IRQ_COUNT).contains(&v) => Self::ExternalInterrupt,
            v => Self::OtherInterrupt(v as usize),
        }
    }
}

/// A readable name for an exception code.
pub fn exception_name(code: usize) -> &'static str {
    match code {
        LOAD_PAGE_FAULT => "load page fault",
        STORE_PAGE_FAULT => "store page fault",
        INSTRUCTION_PAGE_FAULT => "instruction page fault",
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point exception",
        21 => "control protection",
        _ => "unknown exception",
    }
}

/// Whether an exception code is a fault of the instruction at `rip`: what
/// a Wasm trap site raises (`ud2` #UD, division #DE, memory access #PF,
/// #GP, #SS, #AC, FP #MF/#XM, #BR). Not #DB, NMI, #BP, #DF or #MC, which
/// may arrive anywhere or leave `rip` after the instruction.
pub fn is_instruction_fault(code: usize) -> bool {
    matches!(code & 0xff, 0 | 5 | 6 | 7 | 12 | 13 | 14 | 16 | 17 | 19)
}

/// Whether an exception code is a page fault (the address is in CR2).
pub fn is_page_fault(code: usize) -> bool {
    code & 0xff == PAGE_FAULT_VECTOR
}

// 256 entry stubs, 16 bytes apart: each pushes a zero error code where the
// CPU pushes none, then its vector, and joins the common entry.
global_asm!(
    r#"
    .section .text
    .balign 16
    .globl atoll_idt_stubs
atoll_idt_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp atoll_trap_common
    .set vec, vec + 1
    .endr

atoll_trap_common:
    push %r15
    push %r14
    push %r13
    push %r12
    push %r11
    push %r10
    push %r9
    push %r8
    push %rbp
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %rbx
    push %rax
    mov %cr2, %rax
    push %rax
    cld
    // rbx (callee-saved) keeps the frame across the handler call.
    mov %rsp, %rbx
    cmpq ${pf}, 128(%rbx)
    jne 1f
    mov %gs:{pf_slot}, %rax
    subq ${pf_nest}, (%rax)
1:
    sub ${xsave_area}, %rsp
    and $-64, %rsp
    // XRSTOR faults unless the XSAVE header's reserved bytes are zero.
    xor %eax, %eax
    mov %rax, 512(%rsp)
    mov %rax, 520(%rsp)
    mov %rax, 528(%rsp)
    mov %rax, 536(%rsp)
    mov %rax, 544(%rsp)
    mov %rax, 552(%rsp)
    mov %rax, 560(%rsp)
    mov %rax, 568(%rsp)
    cmpb $0, {use_xsave}(%rip)
    je 2f
    mov $-1, %eax
    mov $-1, %edx
    xsave64 (%rsp)
    jmp 3f
2:
    fxsave64 (%rsp)
3:
    // A frame record pointing into the interrupted code lets backtraces
    // continue through the trap.
    pushq 144(%rbx)
    push %rbp
    mov %rsp, %rbp
    mov %rbx, %rdi
    call {dispatch}
    add $16, %rsp
    cmpb $0, {use_xsave}(%rip)
    je 4f
    mov $-1, %eax
    mov $-1, %edx
    xrstor64 (%rsp)
    jmp 5f
4:
    fxrstor64 (%rsp)
5:
    mov %rbx, %rsp
    cmpq ${pf}, 128(%rsp)
    jne 6f
    mov %gs:{pf_slot}, %rax
    addq ${pf_nest}, (%rax)
6:
    add $8, %rsp
    pop %rax
    pop %rbx
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    pop %rbp
    pop %r8
    pop %r9
    pop %r10
    pop %r11
    pop %r12
    pop %r13
    pop %r14
    pop %r15
    add $16, %rsp
    iretq
"#,
    pf = const PAGE_FAULT_VECTOR,
    pf_slot = const super::PF_IST_SLOT,
    pf_nest = const PF_NEST,
    xsave_area = const XSAVE_AREA,
    use_xsave = sym USE_XSAVE,
    dispatch = sym dispatch,
    options(att_syntax),
);

/// Called by the entry with interrupts off: the arch-only vectors here,
/// everything else through the shared handler, then the APIC's EOI.
extern "C" fn dispatch(frame: &mut TrapFrame) {
    match frame.vector as u8 {
        TLB_VECTOR => {
            super::smp::on_shootdown();
            super::apic::eoi();
        }
        SPURIOUS_VECTOR => {}
        v => {
            crate::trap::handle_trap(frame);
            if v >= 32 {
                super::apic::eoi();
            }
        }
    }
}

#[repr(C, align(16))]
struct Idt([u64; 512]);

static IDT: Once<usize> = Once::new();
static mut IDT_TABLE: Idt = Idt([0; 512]);

unsafe extern "C" {
    fn atoll_idt_stubs();
}

/// Fills the IDT (once) and loads it on this CPU.
pub(super) fn load_idt() {
    let base = *IDT.call_once(|| {
        let stubs = atoll_idt_stubs as *const () as u64;
        let table = &raw mut IDT_TABLE;
        // SAFETY: filled once, before any CPU loads it.
        let table = unsafe { &mut *table };
        for v in 0..256u64 {
            let handler = stubs + 16 * v;
            let ist = match v {
                8 => IST_DOUBLE_FAULT,
                2 => IST_NMI,
                14 => IST_PAGE_FAULT,
                _ => 0,
            };
            table.0[2 * v as usize] = (handler & 0xffff)
                | u64::from(KERNEL_CS) << 16
                | u64::from(ist) << 32
                | 0x8e << 40 // present, DPL 0, 64-bit interrupt gate
                | ((handler >> 16) & 0xffff) << 48;
            table.0[2 * v as usize + 1] = handler >> 32;
        }
        table.0.as_ptr() as usize
    });
    #[repr(C, packed)]
    struct Pointer {
        limit: u16,
        base: u64,
    }
    let ptr = Pointer {
        limit: 256 * 16 - 1,
        base: base as u64,
    };
    // SAFETY: the IDT lives forever and every gate points at a stub.
    unsafe { core::arch::asm!("lidt [{0}]", in(reg) &ptr, options(readonly, nostack)) };
}

// Recovery: `atoll_recovery_call(ctx, f, data)` saves the callee-saved state
// (SysV: rbx, rbp, r12-r15, rsp, MXCSR and the x87 control word) in `ctx` and
// calls `f(data)`; it returns 0 when `f` returns. A fault (or panic) under an
// active context makes the trap handler `iretq` into
// `atoll_recovery_landing` with rdi = ctx, which restores that state and
// returns 1 from the same `atoll_recovery_call`.
global_asm!(
    r#"
    .section .text
    .globl atoll_recovery_call
atoll_recovery_call:
    mov rax, [rsp]
    mov [rdi], rax
    lea rax, [rsp + 8]
    mov [rdi + 8], rax
    mov [rdi + 16], rbx
    mov [rdi + 24], rbp
    mov [rdi + 32], r12
    mov [rdi + 40], r13
    mov [rdi + 48], r14
    mov [rdi + 56], r15
    stmxcsr [rdi + 64]
    fnstcw [rdi + 68]
    push rbx
    mov rbx, rdi
    mov rdi, rdx
    call rsi
    mov rdi, rbx
    pop rbx
    xor eax, eax
    ret

    .globl atoll_recovery_landing
atoll_recovery_landing:
    mov rbx, [rdi + 16]
    mov rbp, [rdi + 24]
    mov r12, [rdi + 32]
    mov r13, [rdi + 40]
    mov r14, [rdi + 48]
    mov r15, [rdi + 56]
    ldmxcsr [rdi + 64]
    fldcw [rdi + 68]
    mov rsp, [rdi + 8]
    mov eax, 1
    jmp qword ptr [rdi]
"#
);

/// The registers a recovery point restores; the start of a recovery
/// context (see `crate::recover::RecoveryCtx`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SavedRegs {
    pub rip: usize,
    pub rsp: usize,
    pub rbx: usize,
    pub rbp: usize,
    pub r12_r15: [usize; 4],
    pub mxcsr: u32,
    pub fpu_cw: u32,
}

const _: () = assert!(core::mem::size_of::<SavedRegs>() == 72);
