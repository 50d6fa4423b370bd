//! The local APIC: the per-CPU timer, IPIs, INIT/SIPI and end-of-interrupt.
//! x2APIC (MSRs) where the CPU has it, else xAPIC (MMIO through the phys
//! map): firmware may hand over in x2APIC mode, which has no MMIO window.
//!
//! The timer runs in one-shot mode and is armed for TSC deadlines: the BSP
//! measures the APIC timer against the TSC once, and every arming converts
//! the remaining TSC ticks into APIC timer counts.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use boot_info::MAX_HARTS;

use super::trap::{SPURIOUS_VECTOR, TIMER_VECTOR};

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2: u64 = 1 << 10;
/// x2APIC register `r` (xAPIC offset) is MSR `X2_MSR_BASE + r / 16`.
const X2_MSR_BASE: u32 = 0x800;

const TPR: usize = 0x80;
const EOI: usize = 0xb0;
const SVR: usize = 0xf0;
const ICR_LOW: usize = 0x300;
const ICR_HIGH: usize = 0x310;
const LVT_TIMER: usize = 0x320;
const TIMER_INIT: usize = 0x380;
const TIMER_CURRENT: usize = 0x390;
const TIMER_DIVIDE: usize = 0x3e0;

const ICR_PENDING: u32 = 1 << 12;
const ICR_ASSERT: u32 = 1 << 14;
const ICR_INIT: u32 = 5 << 8;
const ICR_STARTUP: u32 = 6 << 8;
const LVT_MASKED: u32 = 1 << 16;
/// Divide the bus clock by 16.
const DIVIDE_16: u32 = 0b0011;

/// Virtual address of the xAPIC registers (the same for every CPU).
static BASE: AtomicUsize = AtomicUsize::new(0);
/// Every CPU runs its local APIC in x2APIC mode.
static X2APIC: AtomicBool = AtomicBool::new(false);
/// APIC timer counts per TSC tick, 32.32 fixed point.
static COUNTS_PER_TSC: AtomicU64 = AtomicU64::new(0);
static READY: [AtomicBool; MAX_HARTS] = [const { AtomicBool::new(false) }; MAX_HARTS];

fn base() -> usize {
    let b = BASE.load(Ordering::Relaxed);
    if b != 0 {
        return b;
    }
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let phys = unsafe { super::rdmsr(IA32_APIC_BASE) } & 0x000f_ffff_ffff_f000;
    let b = crate::mem::phys_to_virt(phys) as usize;
    BASE.store(b, Ordering::Relaxed);
    b
}

fn x2() -> bool {
    X2APIC.load(Ordering::Relaxed)
}

fn read(reg: usize) -> u32 {
    if x2() {
        // SAFETY: the x2APIC MSR of a readable register (x2APIC mode is on).
        return unsafe { super::rdmsr(X2_MSR_BASE + (reg >> 4) as u32) } as u32;
    }
    // SAFETY: a register of the local APIC, mapped through the phys map.
    unsafe { read_volatile((base() + reg) as *const u32) }
}

fn write(reg: usize, v: u32) {
    if x2() {
        // SAFETY: the x2APIC MSR of a writable register (x2APIC mode is on).
        unsafe { super::wrmsr(X2_MSR_BASE + (reg >> 4) as u32, u64::from(v)) };
        return;
    }
    // SAFETY: a register of the local APIC, mapped through the phys map.
    unsafe { write_volatile((base() + reg) as *mut u32, v) }
}

/// Picks the mode on the first CPU (x2APIC if the CPU has it) and puts
/// this CPU's local APIC in it.
fn enter_mode(first: bool) {
    if first {
        X2APIC.store(super::cpuid(1).2 & (1 << 21) != 0, Ordering::Relaxed);
    }
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let msr = unsafe { super::rdmsr(IA32_APIC_BASE) };
    let want = if x2() {
        msr | APIC_BASE_ENABLE | APIC_BASE_X2
    } else {
        msr | APIC_BASE_ENABLE
    };
    if x2() || msr & APIC_BASE_X2 == 0 {
        // SAFETY: enabling the APIC, or xAPIC -> x2APIC, are valid transitions
        // (x2APIC -> xAPIC would not be; then the CPU stays in x2APIC).
        unsafe { super::wrmsr(IA32_APIC_BASE, want) };
    }
}

/// Enables this CPU's local APIC (first use on each CPU); the first CPU
/// also measures the timer against the TSC.
fn ensure_ready() {
    let id = crate::sched::percpu::current().id();
    if READY[id].load(Ordering::Relaxed) {
        return;
    }
    enter_mode(COUNTS_PER_TSC.load(Ordering::Relaxed) == 0);
    write(TPR, 0);
    write(SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
    write(TIMER_DIVIDE, DIVIDE_16);
    if COUNTS_PER_TSC.load(Ordering::Relaxed) == 0 {
        calibrate();
    }
    READY[id].store(true, Ordering::Relaxed);
}

/// Counts APIC timer ticks over 10 ms of TSC.
fn calibrate() {
    let tsc_hz = crate::sched::timer::timer_hz().max(1_000_000);
    write(LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    write(TIMER_INIT, u32::MAX);
    let t0 = super::read_time();
    let wait = tsc_hz / 100;
    while super::read_time() - t0 < wait {
        super::relax();
    }
    let counted = u64::from(u32::MAX - read(TIMER_CURRENT));
    let tsc = super::read_time() - t0;
    write(TIMER_INIT, 0);
    let ratio = ((u128::from(counted) << 32) / u128::from(tsc.max(1))) as u64;
    COUNTS_PER_TSC.store(ratio.max(1), Ordering::Relaxed);
    crate::debug!(
        "local APIC ({}) timer: {} kHz (divided by 16)",
        if x2() { "x2APIC" } else { "xAPIC" },
        (u128::from(ratio) * u128::from(tsc_hz)) >> 42
    );
}

/// Arms this CPU's one-shot timer to fire at TSC value `deadline`.
pub fn set_timer(deadline: u64) {
    ensure_ready();
    let delta = deadline.saturating_sub(super::read_time());
    let ratio = COUNTS_PER_TSC.load(Ordering::Relaxed);
    let count = ((u128::from(delta) * u128::from(ratio)) >> 32).clamp(1, u128::from(u32::MAX));
    write(LVT_TIMER, u32::from(TIMER_VECTOR));
    write(TIMER_INIT, count as u32);
}

/// Signals the end of the interrupt being handled.
pub fn eoi() {
    write(EOI, 0);
}

fn send(apic_id: u32, low: u32) {
    if x2() {
        // One 64-bit ICR write, destination in the high half; no busy bit.
        // SAFETY: writing the x2APIC ICR only sends the interrupt.
        unsafe {
            super::wrmsr(
                X2_MSR_BASE + (ICR_LOW >> 4) as u32,
                u64::from(apic_id) << 32 | u64::from(low),
            )
        };
        return;
    }
    let were = super::interrupts::disable();
    while read(ICR_LOW) & ICR_PENDING != 0 {
        super::relax();
    }
    write(ICR_HIGH, apic_id << 24);
    write(ICR_LOW, low);
    while read(ICR_LOW) & ICR_PENDING != 0 {
        super::relax();
    }
    super::interrupts::restore(were);
}

/// Sends fixed interrupt `vector` to every CPU in `mask` (bit i = APIC id i).
pub fn send_ipi(mask: u64, vector: u8) {
    ensure_ready();
    for id in 0..64 {
        if mask & (1 << id) != 0 {
            send(id, ICR_ASSERT | u32::from(vector));
        }
    }
}

/// INIT to `apic_id` (the start of INIT-SIPI-SIPI).
pub fn send_init(apic_id: u32) {
    ensure_ready();
    send(apic_id, ICR_INIT | ICR_ASSERT);
}

/// A start-up IPI: `apic_id` starts in real mode at `page << 12`.
pub fn send_startup(apic_id: u32, page: u8) {
    send(apic_id, ICR_STARTUP | ICR_ASSERT | u32::from(page));
}
