//! Architecture support. Shared code uses only what this module re-exports,
//! and every architecture provides the same names (in `arch/<isa>/mod.rs`
//! and its modules), in the manner of Hubris's `arch.rs`:
//!
//! - **Modules:** `counter` (the measurement counter: `probe`), `exit_code`
//!   (`power_off_with_code`), `ext_state_test` (`clobber`), `interrupts`
//!   (`enable`, `disable`, `restore`, `are_enabled`), `machine` (what the
//!   firmware says the machine is: the device tree on riscv64, ACPI on x86_64;
//!   `init`, `get`, `console_uart`, `init_interrupts`, `enable_irq`,
//!   `on_external_interrupt`, `virtio_transports`, `wall_clock_ns`,
//!   `CPU_SOURCE`), `paging` (`init_zeroing`, `zero_pages`),
//!   `switch` (`init_stack`, `atoll_switch`, `idle_wait`), `trap`
//!   (`TrapFrame` with `cause`, `pc`, `fp`, `fault_addr`, `redirect`; `Cause`;
//!   `LOAD_PAGE_FAULT`, `STORE_PAGE_FAULT`), `wasm` (`configure`, `simd_supported`,
//!   `sync_icache_all_harts`, `sync_icache_this_hart`, `SIMD_MISSING`).
//! - **Harts:** `init_hart`, `start_secondary_harts`, `local_ptr`, `send_ipi`,
//!   `clear_ipi`, `park`, `wait_for_interrupt`, `relax`, `halt`, `power_off`.
//! - **Time:** `read_time`, `set_timer`.
//! - **Memory:** `flush_tlb_local`, `flush_tlb_all_local`, `flush_tlb_harts`,
//!   `MMU_SETS_DIRTY_BITS`.
//! - **Stacks and frames:** `stack_pointer`, `frame_pointer`,
//!   `frame_record_addr`, `unwind_step`, `call_on_stack`.
//! - **Console:** `early_putc`; **vector state:** `has_vector`;
//!   `enable_external_interrupts`.
//!
//! Shared here, over what the arches provide: [`table::KernelTable`] (the
//! kernel's page table in each arch's formats), [`call_on_stack`] and
//! [`run_on_stack`].

pub mod table;

#[cfg(target_arch = "riscv64")]
pub mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv64::*;

#[cfg(target_arch = "x86_64")]
pub mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

// Each arch's assembly provides it (see `call_on_stack`).
unsafe extern "C" {
    fn atoll_call_on_stack(top: usize, f: extern "C" fn(*mut u8), data: *mut u8);
}

/// Calls `f(data)` on the stack whose top is `top`; the frame record at the
/// new stack's top lets frame-pointer walks continue into the caller's stack.
///
/// # Safety
/// `top` must be the 16-byte aligned top of a mapped stack that nothing else
/// uses, big enough for `f`.
pub unsafe fn call_on_stack(top: usize, f: extern "C" fn(*mut u8), data: *mut u8) {
    // SAFETY: see the caller's contract; each arch's assembly follows its C ABI.
    unsafe { atoll_call_on_stack(top, f, data) }
}

/// Runs `f` on the stack whose top is `top` and returns its result: `None`
/// only if `f` did not return (a fault resumed a recovery point outside).
///
/// # Safety
/// As [`call_on_stack`].
pub unsafe fn run_on_stack<F: FnOnce() -> R, R>(top: usize, f: F) -> Option<R> {
    struct Call<F, R> {
        f: Option<F>,
        result: Option<R>,
    }
    extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut u8) {
        // SAFETY: `data` is the `Call` below, exclusively ours during the call.
        let call = unsafe { &mut *(data as *mut Call<F, R>) };
        if let Some(f) = call.f.take() {
            call.result = Some(f());
        }
    }
    let mut call = Call {
        f: Some(f),
        result: None,
    };
    // SAFETY: the caller's contract; `call` outlives the call.
    unsafe {
        call_on_stack(
            top,
            trampoline::<F, R>,
            &mut call as *mut Call<F, R> as *mut u8,
        )
    };
    call.result
}
