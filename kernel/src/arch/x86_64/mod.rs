//! x86_64: entry, GDT/TSS/IDT, traps, the local APIC and IOAPIC, COM1,
//! page tables, SSE/AVX state, AP start-up and TLB shootdown.
//!
//! Everything here answers "how" for the shared kernel code above it. The
//! hart id is the local APIC id (the loader's `hart_mask` is indexed by it).

pub mod acpi;
pub mod apic;
pub mod cmos;
pub mod counter;
pub mod exit_code;
#[cfg(feature = "ktest")]
pub mod ext_state_test;
pub mod features;
mod gdt;
pub mod paging;
pub mod smp;
pub mod switch;
#[cfg(feature = "ktest")]
mod tests;
pub mod trap;
pub mod wasm;

/// What the machine is made of, as ACPI says.
pub use acpi as machine;

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, Ordering};

// The loader enters here on the BSP, and the AP trampoline on every AP, with
// rdi = APIC id, rsi = &BootInfo and rsp = the CPU's stack top - 8 holding a
// zero return address. rbp = 0 ends backtraces here. Nothing may fault
// before `init_hart` loads the kernel's GDT and IDT.
global_asm!(
    r#"
    .section .text.entry, "ax"
    .globl _start
_start:
    xor ebp, ebp
    jmp {entry}
"#,
    entry = sym crate::kernel_entry,
);

/// Per-CPU data reached through GS. The trap entry reads `pf_ist_slot`.
#[repr(C)]
struct ArchCpu {
    /// The shared per-hart data (`percpu::HartLocal`).
    local: *const u8,
    /// Address of this CPU's TSS slot for the page-fault IST stack.
    pf_ist_slot: *mut u64,
}

/// Offset of `ArchCpu::pf_ist_slot`, for the trap entry.
const PF_IST_SLOT: usize = 8;

static mut ARCH_CPUS: [ArchCpu; boot_info::MAX_HARTS] = [const {
    ArchCpu {
        local: core::ptr::null(),
        pf_ist_slot: core::ptr::null_mut(),
    }
}; boot_info::MAX_HARTS];

const IA32_GS_BASE: u32 = 0xc000_0101;

static HAS_AVX: AtomicBool = AtomicBool::new(false);
static NO_AVX_CPU: AtomicBool = AtomicBool::new(false);

/// Sets up this CPU: GDT with TSS and IST stacks, IDT, GS-based per-CPU
/// data, SSE/AVX. `trap_stack_top` becomes the page-fault IST stack.
///
/// # Safety
/// `local` must point to this CPU's per-hart data and live forever; called
/// once per CPU, first thing, with interrupts off.
pub unsafe fn init_hart(local: *const u8, trap_stack_top: usize) {
    let id = cpuid(1).1 as usize >> 24;
    let cpus = &raw mut ARCH_CPUS;
    // SAFETY: each CPU touches only its own slot, once, before anything reads it.
    let cpu = unsafe { &mut (*cpus)[id] };
    cpu.local = local;
    // SAFETY: called once per CPU with interrupts off (see the contract).
    cpu.pf_ist_slot = unsafe { gdt::init_this_cpu(id, trap_stack_top as u64) };
    // GS before the IDT: the page-fault entry reads its IST slot through GS.
    // (Loading the GDT nulled GS, so the base is set after it.)
    // SAFETY: GS base points at this CPU's `ArchCpu`, which lives forever.
    unsafe { wrmsr(IA32_GS_BASE, cpu as *const ArchCpu as u64) };
    trap::load_idt();
    let avx = enable_simd();
    if !avx {
        NO_AVX_CPU.store(true, Ordering::Relaxed);
    }
    HAS_AVX.store(!NO_AVX_CPU.load(Ordering::Relaxed), Ordering::Relaxed);
    features::note_this_cpu();
}

/// Enables SSE (FXSAVE) and, when the CPU has XSAVE and AVX, XSAVE with
/// x87|SSE|AVX in XCR0. Returns whether AVX is on.
fn enable_simd() -> bool {
    let (_, _, ecx, _) = cpuid(1);
    let xsave = ecx & (1 << 26) != 0;
    let avx = ecx & (1 << 28) != 0;
    // SAFETY: CR0.MP/NE and CR4.OSFXSR/OSXMMEXCPT only enable SSE and native
    // FP error reporting; EM and TS are cleared so SSE does not trap.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "and {t}, ~((1 << 2) | (1 << 3))",
            "or {t}, (1 << 1) | (1 << 5)",
            "mov cr0, {t}",
            "mov {t}, cr4",
            "or {t}, (1 << 9) | (1 << 10)",
            "mov cr4, {t}",
            t = out(reg) _,
            options(nostack),
        );
    }
    // QEMU's TCG hangs on setting CR4.OSXSAVE for CPUs with XSAVE but
    // without XSAVEOPT (e.g. `-cpu qemu64,+xsave`); every real CPU with
    // AVX has XSAVEOPT. Such CPUs stay on FXSAVE, without AVX.
    let xsaveopt = cpuid(0).0 >= 0xd && cpuid_count(0xd, 1).0 & 1 != 0;
    if !xsave || !xsaveopt {
        return false;
    }
    // SAFETY: CPUID says XSAVE exists; OSXSAVE allows XSETBV and XSAVE.
    unsafe {
        asm!("mov {t}, cr4", "or {t}, 1 << 18", "mov cr4, {t}", t = out(reg) _, options(nostack))
    };
    let xcr0: u64 = if avx { 0b111 } else { 0b11 };
    // SAFETY: XCR0 bits for x87, SSE (and AVX when present), all supported.
    unsafe {
        asm!("xsetbv", in("ecx") 0, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nomem, nostack))
    };
    // The trap entry reserves `trap::XSAVE_AREA` bytes.
    let size = cpuid_count(0xd, 0).1 as usize;
    if size > trap::XSAVE_AREA {
        crate::early_fail("XSAVE area larger than the trap entry reserves");
    }
    trap::use_xsave();
    avx
}

#[cfg(feature = "ktest")]
/// Whether every CPU that entered has AVX enabled (the Wasm SIMD baseline).
pub fn has_vector() -> bool {
    HAS_AVX.load(Ordering::Relaxed)
}

/// This CPU's per-hart data pointer (as given to [`init_hart`]).
#[inline(always)]
pub fn local_ptr() -> *const u8 {
    let p: *const u8;
    // SAFETY: GS base points at this CPU's `ArchCpu` after `init_hart`; its
    // first word is the per-hart pointer.
    unsafe { asm!("mov {0}, gs:[0]", out(reg) p, options(nostack, readonly, preserves_flags)) };
    p
}

pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    cpuid_count(leaf, 0)
}

pub fn cpuid_count(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// # Safety
/// Writing `value` to `msr` must be valid and harmless here.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: see the caller's contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack))
    };
}

/// # Safety
/// `msr` must exist.
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: see the caller's contract.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// # Safety
/// Reading `port` must have no side effects the caller does not expect.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: see the caller's contract.
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags))
    };
    v
}

/// # Safety
/// Writing `v` to `port` must be harmless.
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: see the caller's contract.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// # Safety
/// Writing `v` to `port` must be harmless.
pub unsafe fn outw(port: u16, v: u16) {
    // SAFETY: see the caller's contract.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    };
}

pub mod interrupts {
    use core::arch::asm;

    const RFLAGS_IF: u64 = 1 << 9;

    pub fn enable() {
        // SAFETY: enabling interrupts; handlers preserve all state they touch.
        unsafe { asm!("sti", options(nomem, nostack)) };
    }

    /// Disables interrupts and returns whether they were enabled.
    pub fn disable() -> bool {
        let flags: u64;
        // SAFETY: reads RFLAGS, then clears IF.
        unsafe { asm!("pushfq", "pop {0}", "cli", out(reg) flags, options(nomem)) };
        flags & RFLAGS_IF != 0
    }

    pub fn restore(were_enabled: bool) {
        if were_enabled {
            enable();
        }
    }

    #[cfg(feature = "ktest")]
    pub fn are_enabled() -> bool {
        let flags: u64;
        // SAFETY: reading RFLAGS has no side effects.
        unsafe { asm!("pushfq", "pop {0}", out(reg) flags, options(nomem, preserves_flags)) };
        flags & RFLAGS_IF != 0
    }
}

/// Sleeps until the next interrupt (interrupts must be enabled: with them
/// off, `hlt` sleeps until an NMI).
pub fn wait_for_interrupt() {
    // SAFETY: hlt only pauses the CPU.
    unsafe { asm!("hlt", options(nomem, nostack)) };
}

/// A spin-loop hint.
pub fn relax() {
    core::hint::spin_loop();
}

/// Waits on a secondary hart before the kernel lets it in. The application
/// processors start only once it has (`start_secondary_harts`), so this
/// barely runs.
pub fn park() {
    relax();
}

/// The TSC, the monotonic clock (the loader calibrated `timer_hz` for it).
#[inline]
pub fn read_time() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Arms this CPU's timer for the absolute TSC value `deadline`.
pub fn set_timer(deadline: u64) {
    apic::set_timer(deadline);
}

/// Sends the call IPI to every hart in `mask` (bit i = APIC id i).
pub fn send_ipi(mask: u64) {
    apic::send_ipi(mask, trap::IPI_VECTOR);
}

/// The local APIC's EOI for the IPI is sent by the trap dispatch.
pub fn clear_ipi() {}

/// Whether every CPU sets dirty bits itself: always on x86_64.
pub const MMU_SETS_DIRTY_BITS: bool = true;

/// Flushes this CPU's TLB entries for `virt..virt + len`.
pub fn flush_tlb_local(virt: u64, len: u64) {
    if len > 64 * 4096 {
        flush_tlb_all_local();
        return;
    }
    let mut va = virt & !0xfff;
    while va < virt.saturating_add(len) {
        // SAFETY: invlpg only invalidates translation caches.
        unsafe { asm!("invlpg [{0}]", in(reg) va, options(nostack, preserves_flags)) };
        va += 4096;
    }
}

/// Flushes this CPU's whole TLB, global (kernel) entries included.
pub fn flush_tlb_all_local() {
    let were = interrupts::disable();
    // SAFETY: toggling CR4.PGE flushes every TLB entry, global ones too.
    unsafe {
        asm!(
            "mov {t}, cr4",
            "btc {t}, 7",
            "mov cr4, {t}",
            "btc {t}, 7",
            "mov cr4, {t}",
            t = out(reg) _,
            options(nostack),
        )
    };
    interrupts::restore(were);
}

/// Flushes `virt..virt + len` on every CPU in `mask` through the shootdown IPI.
pub fn flush_tlb_harts(mask: u64, virt: u64, len: u64) {
    smp::shootdown(mask, virt, len);
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads rsp.
    unsafe { asm!("mov {0}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

// `atoll_call_on_stack(top, f, data)` (declared in `arch/mod.rs`) calls `f(data)` with `rsp = top`; the
// frame record (return address, caller's rbp) at the new stack's top lets
// frame-pointer walks continue into the caller's stack.
global_asm!(
    r#"
    .section .text
    .globl atoll_call_on_stack
atoll_call_on_stack:
    push rbp
    mov rbp, rsp
    mov rsp, rdi
    push qword ptr [rbp + 8]
    push qword ptr [rbp]
    push rbp
    sub rsp, 8
    lea rbp, [rsp + 16]
    mov rdi, rdx
    call rsi
    mov rsp, [rsp + 8]
    pop rbp
    ret
"#
);

/// Frame pointer of the caller's frame.
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads rbp, the frame pointer (frame pointers are forced on).
    unsafe { asm!("mov {0}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags)) };
    fp
}

/// Where the frame record of the frame at `fp` starts (x86_64: saved rbp at
/// `fp`, return address at `fp + 8`).
pub fn frame_record_addr(fp: usize) -> usize {
    fp
}

/// One step of a frame-pointer walk: the return address and the caller's
/// frame pointer stored by the frame at `fp`.
///
/// # Safety
/// `fp .. fp + 16` must be readable.
pub unsafe fn unwind_step(fp: usize) -> (usize, usize) {
    // SAFETY: the caller guarantees the two words are readable.
    unsafe { (*((fp + 8) as *const usize), *(fp as *const usize)) }
}

/// QEMU's `isa-debug-exit` port: writing `c` exits QEMU with status `(c << 1) | 1`.
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Exit status 33 (`0x10 << 1 | 1`): success.
pub const DEBUG_EXIT_SUCCESS: u8 = 0x10;
/// Exit status 35 (`0x11 << 1 | 1`): failure.
pub const DEBUG_EXIT_FAILURE: u8 = 0x11;

/// Powers off: through QEMU's `isa-debug-exit` (status 33 on success, 35 on
/// failure) when present, else ACPI S5. Returns if neither works.
pub fn power_off(success: bool) {
    let force_acpi = crate::boot_info_opt().is_some_and(|bi| {
        bi.cmdline()
            .split_whitespace()
            .any(|w| w == "shutdown=acpi")
    });
    if !force_acpi {
        let code = if success {
            DEBUG_EXIT_SUCCESS
        } else {
            DEBUG_EXIT_FAILURE
        };
        // SAFETY: port 0xf4 is unused on PCs without the QEMU device; with
        // it, the write ends the machine.
        unsafe { outb(DEBUG_EXIT_PORT, code) };
    }
    acpi::acpi_power_off();
}

/// Stops this CPU for good, with interrupts off.
pub fn halt() -> ! {
    loop {
        // SAFETY: cli; hlt stops the CPU until an NMI, after which it halts again.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

const COM1: u16 = 0x3f8;

/// Writes one byte to COM1 as the firmware left it (for errors before the console).
pub fn early_putc(b: u8) {
    for _ in 0..100_000 {
        // SAFETY: reading the 16550 line status register has no side effects.
        if unsafe { inb(COM1 + 5) } & 0x20 != 0 {
            break;
        }
        relax();
    }
    // SAFETY: writing COM1's transmit register only sends the byte.
    unsafe { outb(COM1, b) };
}

/// Starts the application processors (INIT-SIPI-SIPI); they enter
/// [`crate::kernel_entry`] on their loader-made stacks.
pub fn start_secondary_harts(bi: &boot_info::BootInfo) {
    smp::start_aps(bi);
}
