//! riscv64: entry, CSRs, SBI calls, traps, the PLIC and page tables.
//!
//! Everything here answers "how" for the shared kernel code above it.

pub mod counter;
pub mod devicetree;
pub mod exit_code;
#[cfg(feature = "ktest")]
pub mod ext_state_test;
pub mod paging;
pub mod plic;
pub mod switch;
#[cfg(feature = "ktest")]
mod tests;
pub mod trap;
pub mod wasm;

/// What the machine is made of, as the device tree says.
pub use devicetree as machine;

use core::arch::{asm, global_asm};

// The loader jumps here on every hart with a0 = hart id, a1 = &BootInfo and
// sp = the hart's stack top. Clearing fp and ra ends backtraces here.
global_asm!(
    r#"
    .section .text.entry, "ax"
    .globl _start
_start:
    mv s0, zero
    mv ra, zero
    tail {entry}
"#,
    entry = sym crate::kernel_entry,
);

const SSTATUS_SIE: usize = 1 << 1;
const SSTATUS_FS_INITIAL: usize = 1 << trap::SSTATUS_FS_SHIFT;
const SSTATUS_VS_MASK: usize = 3 << trap::SSTATUS_VS_SHIFT;
const SSTATUS_VS_INITIAL: usize = 1 << trap::SSTATUS_VS_SHIFT;
const SIE_SSIE: usize = 1 << 1;
const SIE_STIE: usize = 1 << 5;
const SIE_SEIE: usize = 1 << 9;

/// Sets up this hart's trap handling. `local` becomes `tp` for good: the
/// kernel never uses thread-local storage, and neither does JIT code.
///
/// # Safety
/// `local` must point to this hart's per-hart data, which must start with the
/// hart id and the trap stack top (see `trap.rs`), and live forever.
pub unsafe fn init_hart(local: *const u8, trap_stack_top: usize) {
    let status: usize;
    // SAFETY: sets tp, sscratch and stvec as the trap entry expects. FS and
    // VS are enabled so that FP and vector code (Rust, Wasm JIT code) runs;
    // the trap entry preserves both (see `trap`). VS is WARL: it stays 0 on
    // harts without V, which is how V is detected.
    unsafe {
        asm!("mv tp, {0}", in(reg) local);
        asm!("csrw sscratch, {0}", in(reg) trap_stack_top);
        asm!("csrw stvec, {0}", in(reg) trap::trap_entry_addr());
        asm!("csrs sstatus, {0}", in(reg) SSTATUS_FS_INITIAL | SSTATUS_VS_INITIAL);
        asm!("csrs sie, {0}", in(reg) SIE_SSIE | SIE_STIE);
        asm!("csrr {0}, sstatus", out(reg) status);
        // Code published before this hart came online (`wasm::sync_icache_all_harts`).
        asm!("fence.i");
    }
    // Any hart without V makes the whole machine "no V" (Wasm code may run anywhere).
    if status & SSTATUS_VS_MASK == 0 {
        NO_VECTOR_HART.store(true, core::sync::atomic::Ordering::Relaxed);
    }
}

static NO_VECTOR_HART: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether every hart that entered has the vector extension enabled.
pub fn has_vector() -> bool {
    !NO_VECTOR_HART.load(core::sync::atomic::Ordering::Relaxed)
}

/// This hart's per-hart data pointer (as given to [`init_hart`]).
#[inline(always)]
pub fn local_ptr() -> *const u8 {
    let p: *const u8;
    // SAFETY: reads tp, which holds the per-hart pointer after `init_hart`.
    unsafe { asm!("mv {0}, tp", out(reg) p, options(nomem, nostack, preserves_flags)) };
    p
}

/// Enables supervisor external interrupts (the PLIC) on this hart.
pub fn enable_external_interrupts() {
    // SAFETY: setting an interrupt-enable bit has no memory effects.
    unsafe { asm!("csrs sie, {0}", in(reg) SIE_SEIE) };
}

pub mod interrupts {
    use super::*;

    pub fn enable() {
        // SAFETY: enabling interrupts; handlers preserve all state they touch.
        unsafe { asm!("csrs sstatus, {0}", in(reg) SSTATUS_SIE) };
    }

    /// Disables interrupts and returns whether they were enabled.
    pub fn disable() -> bool {
        let old: usize;
        // SAFETY: atomically clears SIE and reads the old sstatus.
        unsafe { asm!("csrrc {0}, sstatus, {1}", out(reg) old, in(reg) SSTATUS_SIE) };
        old & SSTATUS_SIE != 0
    }

    pub fn restore(were_enabled: bool) {
        if were_enabled {
            enable();
        }
    }

    #[cfg(feature = "ktest")]
    pub fn are_enabled() -> bool {
        let s: usize;
        // SAFETY: reading sstatus has no side effects.
        unsafe { asm!("csrr {0}, sstatus", out(reg) s) };
        s & SSTATUS_SIE != 0
    }
}

/// Sleeps until an interrupt is pending (it is taken if enabled).
pub fn wait_for_interrupt() {
    // SAFETY: wfi only pauses the hart.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}

/// A spin-loop hint.
pub fn relax() {
    core::hint::spin_loop();
}

/// The free-running `time` counter.
#[inline]
pub fn read_time() -> u64 {
    let t: u64;
    // SAFETY: reading the time CSR has no side effects.
    unsafe { asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
    t
}

/// Whether the timer is armed through `stimecmp` (Sstc) instead of the SBI.
static SSTC: spin::Once<bool> = spin::Once::new();

/// Sstc: every hart has it in the device tree and `stimecmp` is accessible here
/// (the firmware enabled it for S-mode, `menvcfg.STCE`, or it is an illegal
/// instruction). Decided on the first arming, on the boot hart once trap recovery
/// works. An SBI `set_timer` is an ecall into the firmware (a trap to M-mode and
/// back); the CSR write is one instruction, as Linux does with Sstc.
fn sstc() -> bool {
    *SSTC.call_once(|| {
        machine::every_cpu_has("sstc")
            && crate::recover::catch(|| {
                let t: u64;
                // SAFETY: reads stimecmp, or traps as an illegal instruction,
                // which `catch` turns into an error.
                unsafe { asm!("csrr {0}, 0x14d", out(reg) t, options(nomem, nostack)) };
                t
            })
            .is_ok()
    })
}

/// Arms this hart's timer for the absolute `time` value `deadline`.
pub fn set_timer(deadline: u64) {
    if sstc() {
        // SAFETY: `sstc` found stimecmp accessible; writing it arms this hart's
        // timer and clears a pending timer interrupt until `deadline`.
        unsafe { asm!("csrw 0x14d, {0}", in(reg) deadline, options(nomem, nostack)) };
    } else {
        sbi_rt::set_timer(deadline);
    }
}

/// Sends a software interrupt to every hart in `mask` (bit i = hart i).
pub fn send_ipi(mask: u64) {
    sbi_rt::send_ipi(sbi_rt::HartMask::from_mask_base(mask as usize, 0));
}

/// Acknowledges this hart's software interrupt.
pub fn clear_ipi() {
    // SAFETY: clears the pending software-interrupt bit.
    unsafe { asm!("csrc sip, {0}", in(reg) SIE_SSIE) };
}

/// Whether every hart sets dirty bits itself: not on RISC-V, where harts
/// without Svadu fault on the first store to a clean page instead.
pub const MMU_SETS_DIRTY_BITS: bool = false;

/// Flushes this hart's TLB entries for `virt..virt + len`.
pub fn flush_tlb_local(virt: u64, len: u64) {
    let mut va = virt;
    while va < virt.saturating_add(len) {
        // SAFETY: sfence.vma only invalidates translation caches.
        unsafe { asm!("sfence.vma {0}, zero", in(reg) va) };
        va += 4096;
    }
}

/// Flushes this hart's whole TLB.
pub fn flush_tlb_all_local() {
    // SAFETY: sfence.vma only invalidates translation caches.
    unsafe { asm!("sfence.vma zero, zero") };
}

/// Flushes `virt..virt + len` on every hart in `mask` (including this one)
/// through the SBI remote-fence extension.
pub fn flush_tlb_harts(mask: u64, virt: u64, len: u64) {
    let ret = sbi_rt::remote_sfence_vma(
        sbi_rt::HartMask::from_mask_base(mask as usize, 0),
        virt as usize,
        len as usize,
    );
    if ret.is_err() {
        // Older firmware: fall back to a full local flush; remote harts are
        // then flushed by their next trap (there is no other safe fallback).
        flush_tlb_all_local();
    }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads sp.
    unsafe { asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

// `atoll_call_on_stack(top, f, data)` (declared in `arch/mod.rs`) calls `f(data)` with `sp = top`. Its
// frame record (ra, caller's fp) sits at the new stack's top, so frame
// pointer walks continue into the caller's stack.
global_asm!(
    r#"
    .section .text
    .globl atoll_call_on_stack
atoll_call_on_stack:
    addi a0, a0, -32
    sd ra, 24(a0)
    sd s0, 16(a0)
    sd sp, 8(a0)
    addi s0, a0, 32
    mv sp, a0
    mv a0, a2
    jalr a1
    ld ra, 24(sp)
    ld s0, 16(sp)
    ld t0, 8(sp)
    mv sp, t0
    ret
"#
);

/// Frame pointer of the caller's frame.
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads s0, the frame pointer (frame pointers are forced on).
    unsafe { asm!("mv {0}, s0", out(reg) fp, options(nomem, nostack)) };
    fp
}

/// One step of a frame-pointer walk: the return address and the caller's
/// frame pointer stored by the frame at `fp` (LLVM's riscv layout: ra at
/// fp-8, previous fp at fp-16). The caller checks `fp` is readable.
///
/// # Safety
/// `fp - 16 .. fp` must be readable.
pub unsafe fn unwind_step(fp: usize) -> (usize, usize) {
    // SAFETY: the caller guarantees the two words are readable.
    unsafe { (*((fp - 8) as *const usize), *((fp - 16) as *const usize)) }
}

/// Powers off through SBI System Reset. Returns only if SBI lacks SRST.
pub fn sbi_shutdown(success: bool) {
    if success {
        sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::NoReason);
    } else {
        sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::SystemFailure);
    }
}

/// Stops this hart for good, with interrupts off.
pub fn halt() -> ! {
    interrupts::disable();
    loop {
        wait_for_interrupt();
    }
}

/// Writes one byte through the firmware: SBI's debug console, or the legacy
/// console call on firmware without it. Only a last resort (before the UART
/// is known, or on a machine whose UART atoll cannot drive): output only.
pub fn early_putc(b: u8) {
    use core::sync::atomic::{AtomicU8, Ordering};
    const UNKNOWN: u8 = 0;
    const DBCN: u8 = 1;
    const LEGACY: u8 = 2;
    static HOW: AtomicU8 = AtomicU8::new(UNKNOWN);
    let mut how = HOW.load(Ordering::Relaxed);
    if how == UNKNOWN {
        how = if sbi_rt::probe_extension(sbi_rt::Console).is_available() {
            DBCN
        } else {
            LEGACY
        };
        HOW.store(how, Ordering::Relaxed);
    }
    if how == DBCN {
        let _ = sbi_rt::console_write_byte(b);
    } else {
        #[allow(deprecated)]
        sbi_rt::legacy::console_putchar(b as usize);
    }
}

/// Where the frame record of the frame at `fp` starts (riscv: ra at
/// `fp - 8`, the caller's fp at `fp - 16`).
pub fn frame_record_addr(fp: usize) -> usize {
    fp.wrapping_sub(16)
}

/// The loader started every hart already (SBI HSM); they wait in [`park`]: wakes them.
pub fn start_secondary_harts(bi: &boot_info::BootInfo) {
    let me = crate::percpu::current().id();
    send_ipi(bi.hart_mask & !(1 << me));
}

/// Waits on a secondary hart, before the kernel lets it in, for
/// [`start_secondary_harts`]'s wake-up: `wfi` with software interrupts enabled in
/// `sie` (the pending one is taken once this hart enables interrupts). A hart
/// spinning here instead ran millions of instructions while the boot hart
/// initialized the kernel.
pub fn park() {
    // SAFETY: enables this hart's software interrupt source (`sstatus.SIE` is
    // still off, so nothing traps) and sleeps until one is pending.
    unsafe { asm!("csrs sie, {0}", "wfi", in(reg) SIE_SSIE, options(nomem, nostack)) };
}

/// Powers off through the QEMU test device when the FDT has one (exit
/// status 0 on success, 1 on failure), else SBI system reset. Boot
/// argument `shutdown=sbi` forces the SBI path. Returns if neither works.
pub fn power_off(success: bool) {
    let bi = crate::boot_info_opt();
    let force_sbi =
        bi.is_some_and(|bi| bi.cmdline().split_whitespace().any(|w| w == "shutdown=sbi"));
    if let (Some(m), Some(bi), false) = (machine::get(), bi, force_sbi)
        && let Some(dev) = m.test_device
    {
        let code: u32 = if success { 0x5555 } else { 0x3333 | (1 << 16) };
        // SAFETY: the test device is MMIO inside the phys map; writing
        // the finisher register ends the machine.
        unsafe { core::ptr::write_volatile((bi.phys_offset + dev) as *mut u32, code) };
    }
    sbi_shutdown(success);
}
