//! Application processors: INIT-SIPI-SIPI through a real-mode trampoline
//! page below 1 MiB; and TLB shootdown by IPI (x86 has no remote flush).
//!
//! The trampoline switches straight from real mode to long mode on the
//! kernel's page table (so the table root must lie below 4 GiB), with the
//! trampoline page identity-mapped for the switch, then jumps to `_start`
//! with the AP's APIC id, the BootInfo and the stack the loader made for it
//! (`BootInfo::hart_stack_top[apic_id]`). APs are started one at a time,
//! sharing the trampoline's mailbox.

use core::sync::atomic::{AtomicU64, Ordering};

use boot_info::BootInfo;

use crate::mem::vm::{self, Flags};
use crate::mem::{PAGE_SIZE, frames};
use crate::sched::{percpu, timer};

global_asm!(
    r#"
    .section .text
    .balign 16
    .globl atoll_ap_trampoline
    .globl atoll_ap_trampoline_end
    .globl atoll_ap_tr_gdt
    .globl atoll_ap_tr_gdtr
    .globl atoll_ap_tr_far
    .globl atoll_ap_tr_long
    .globl atoll_ap_tr_mailbox
    .code16
atoll_ap_trampoline:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    // CR4.PAE | CR4.PGE
    mov $0xa0, %eax
    mov %eax, %cr4
    mov (atoll_ap_tr_mailbox - atoll_ap_trampoline), %eax
    mov %eax, %cr3
    // EFER.LME | EFER.NXE
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    lgdtl (atoll_ap_tr_gdtr - atoll_ap_trampoline)
    // PG | WP | NE | ET | MP | PE: real mode straight to long mode.
    mov $0x80010033, %eax
    mov %eax, %cr0
    ljmpl *(atoll_ap_tr_far - atoll_ap_trampoline)
    .code64
atoll_ap_tr_long:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov atoll_ap_tr_mailbox+8(%rip), %rsp
    mov atoll_ap_tr_mailbox+16(%rip), %rdi
    mov atoll_ap_tr_mailbox+24(%rip), %rsi
    mov atoll_ap_tr_mailbox+32(%rip), %rax
    // Everything is read: the BSP may reuse the mailbox.
    movq $1, atoll_ap_tr_mailbox+40(%rip)
    pushq $0
    xor %ebp, %ebp
    jmp *%rax
    .balign 8
atoll_ap_tr_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
atoll_ap_tr_gdtr:
    .word 23
    .long 0
atoll_ap_tr_far:
    .long 0
    .word 0x08
    .balign 8
atoll_ap_tr_mailbox:
    .quad 0, 0, 0, 0, 0, 0
atoll_ap_trampoline_end:
"#,
    options(att_syntax),
);

use core::arch::global_asm;

/// The trampoline's data: the kernel fills it for each AP.
#[repr(C)]
struct Mailbox {
    cr3: u64,
    stack_top: u64,
    apic_id: u64,
    boot_info: u64,
    entry: u64,
    started: u64,
}

unsafe extern "C" {
    static atoll_ap_trampoline: u8;
    static atoll_ap_trampoline_end: u8;
    static atoll_ap_tr_gdt: u8;
    static atoll_ap_tr_gdtr: u8;
    static atoll_ap_tr_far: u8;
    static atoll_ap_tr_long: u8;
    static atoll_ap_tr_mailbox: u8;
    fn _start();
}

/// Offset of a trampoline label from the trampoline's start.
fn offset(label: *const u8) -> u64 {
    label as u64 - (&raw const atoll_ap_trampoline) as u64
}

/// Starts every CPU of `bi.hart_mask` but this one; failures are logged
/// (the shared code reports CPUs that never came online).
pub fn start_aps(bi: &BootInfo) {
    let me = percpu::current().id();
    let aps = bi.hart_mask & !(1 << me);
    if aps != 0
        && let Err(e) = try_start_aps(bi, aps)
    {
        crate::warn!("application processors not started: {e}");
    }
}

fn try_start_aps(bi: &BootInfo, aps: u64) -> Result<(), &'static str> {
    if bi.page_table_root >= 1 << 32 {
        return Err("the kernel page table lies above 4 GiB");
    }
    // The allocator hands out its lowest free frame first: below 1 MiB if
    // any usable memory is there (the firmware leaves some on PCs).
    let page = frames::alloc_contiguous_zeroed(1, PAGE_SIZE).ok_or("out of memory")?;
    if page >= 0x10_0000 || page == 0 {
        let _ = frames::free(page, 1);
        return Err("no usable page below 1 MiB for the trampoline");
    }
    let (start, end) = (
        &raw const atoll_ap_trampoline,
        &raw const atoll_ap_trampoline_end,
    );
    let len = end as usize - start as usize;
    if len > PAGE_SIZE as usize - 64 {
        return Err("trampoline larger than a page");
    }
    vm::map_phys(page, page, PAGE_SIZE, Flags::RW.union(Flags::EXEC))
        .map_err(|_| "cannot identity-map the trampoline page")?;
    let virt = crate::mem::phys_to_virt(page);
    // SAFETY: the page is ours (just allocated) and mapped at `virt`; the
    // trampoline is `len` bytes of kernel text.
    unsafe { core::ptr::copy_nonoverlapping(start, virt as *mut u8, len) };
    let (gdt, gdtr, far, long, mailbox) = (
        offset(&raw const atoll_ap_tr_gdt),
        offset(&raw const atoll_ap_tr_gdtr),
        offset(&raw const atoll_ap_tr_far),
        offset(&raw const atoll_ap_tr_long),
        offset(&raw const atoll_ap_tr_mailbox),
    );
    // SAFETY: patches inside the copied trampoline, at its labels (the GDT
    // base and the far pointer are linear addresses below 1 MiB).
    unsafe {
        core::ptr::write_unaligned((virt + gdtr + 2) as *mut u32, (page + gdt) as u32);
        core::ptr::write_unaligned((virt + far) as *mut u32, (page + long) as u32);
    }
    let mb = (virt + mailbox) as *mut Mailbox;
    let mut all_started = true;
    for id in (0..64u32).filter(|i| aps & (1 << i) != 0) {
        // SAFETY: the mailbox lies in the trampoline page; no AP reads it
        // until the SIPI below, and the previous AP has set `started`.
        unsafe {
            mb.write_volatile(Mailbox {
                cr3: bi.page_table_root,
                stack_top: bi.hart_stack_top[id as usize],
                apic_id: u64::from(id),
                boot_info: crate::boot_info() as *const BootInfo as u64,
                entry: _start as *const () as u64,
                started: 0,
            });
        }
        let started = || {
            // SAFETY: the AP writes `started` once it has read the mailbox.
            unsafe { (&raw const (*mb).started).read_volatile() != 0 }
        };
        super::apic::send_init(id);
        timer::spin_for_ns(10_000_000);
        for _ in 0..2 {
            super::apic::send_startup(id, (page >> 12) as u8);
            timer::spin_for_ns(200_000);
            if started() {
                break;
            }
        }
        let deadline = timer::now_ns() + 1_000_000_000;
        while !started() && timer::now_ns() < deadline {
            super::relax();
        }
        if !started() {
            crate::warn!("CPU {id} did not start");
            all_started = false;
        }
    }
    // A CPU that did not start might still run the trampoline later: then
    // the page stays mapped and allocated.
    if all_started {
        let _ = vm::unmap(page, PAGE_SIZE, false);
        let _ = frames::free(page, 1);
    }
    Ok(())
}

static SHOOT_LOCK: spin::Mutex<()> = spin::Mutex::new(());
static SHOOT_START: AtomicU64 = AtomicU64::new(0);
static SHOOT_LEN: AtomicU64 = AtomicU64::new(0);
/// CPUs that have yet to flush the current request.
static SHOOT_PENDING: AtomicU64 = AtomicU64::new(0);

/// Flushes `virt..virt + len` on the CPUs in `mask` and waits for them.
/// A CPU that spins with interrupts off on a lock the caller holds cannot
/// answer: after a second the caller goes on and says so.
pub fn shootdown(mask: u64, virt: u64, len: u64) {
    let _guard = SHOOT_LOCK.lock();
    SHOOT_START.store(virt, Ordering::Relaxed);
    SHOOT_LEN.store(len, Ordering::Relaxed);
    SHOOT_PENDING.store(mask, Ordering::Release);
    super::apic::send_ipi(mask, super::trap::TLB_VECTOR);
    let deadline = timer::now_ns() + 1_000_000_000;
    while SHOOT_PENDING.load(Ordering::Acquire) & mask != 0 {
        if timer::now_ns() > deadline {
            crate::warn!(
                "TLB shootdown: CPUs {:#x} did not answer",
                SHOOT_PENDING.load(Ordering::Relaxed)
            );
            return;
        }
        super::relax();
    }
}

/// The shootdown IPI handler.
pub fn on_shootdown() {
    let me = percpu::current().id();
    super::flush_tlb_local(
        SHOOT_START.load(Ordering::Relaxed),
        SHOOT_LEN.load(Ordering::Relaxed),
    );
    SHOOT_PENDING.fetch_and(!(1 << me), Ordering::Release);
}
