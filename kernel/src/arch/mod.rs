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
//!   `CPU_SOURCE`), `paging` (`KernelTable`, `init_zeroing`, `zero_pages`),
//!   `switch` (`init_stack`, `atoll_switch`, `idle_wait`), `trap`
//!   (`TrapFrame` with `cause`, `pc`, `fp`, `fault_addr`, `redirect`; `Cause`;
//!   `LOAD_PAGE_FAULT`), `wasm` (`configure`, `simd_supported`,
//!   `sync_icache_all_harts`, `SIMD_MISSING`).
//! - **Harts:** `init_hart`, `start_secondary_harts`, `local_ptr`, `send_ipi`,
//!   `clear_ipi`, `wait_for_interrupt`, `relax`, `halt`, `power_off`.
//! - **Time:** `read_time`, `set_timer`.
//! - **Memory:** `flush_tlb_local`, `flush_tlb_all_local`, `flush_tlb_harts`.
//! - **Stacks and frames:** `stack_pointer`, `frame_pointer`,
//!   `frame_record_addr`, `unwind_step`, `call_on_stack`.
//! - **Console:** `early_putc`; **vector state:** `has_vector`;
//!   `enable_external_interrupts`.

#[cfg(target_arch = "riscv64")]
pub mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv64::*;

#[cfg(target_arch = "x86_64")]
pub mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;
