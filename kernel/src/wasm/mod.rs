//! Running Wasm in the kernel: the engine's platform (virtual space, code
//! publishing, activations), turning faults in JIT code into Wasm traps,
//! epoch ticks and a big stack for Wasm calls. The arch parts (the ISA JIT
//! code may use, instruction-cache sync) are in `arch::wasm`.
//!
//! Use: [`new_engine`] builds an engine on the kernel platform, and every
//! call into Wasm goes through [`on_wasm_stack`] so that the engine's stack
//! limit (the entry `sp` minus `max_wasm_stack`) lies inside a stack that
//! really has that much room.

pub mod engine;
#[cfg(feature = "ktest")]
mod engine_tests;
#[cfg(feature = "ktest")]
mod fiber_tests;
#[cfg(feature = "ktest")]
mod nested_tests;
pub mod platform;
pub mod space;
#[cfg(feature = "ktest")]
mod tests;

use core::sync::atomic::{AtomicU64, Ordering};

use boot_info::MAX_HARTS;

use crate::mem::vm;
use crate::sched::percpu;

#[cfg_attr(not(feature = "ktest"), allow(unused_imports))]
pub use engine::{new_engine, register_epoch};

/// Bytes of each hart's Wasm stack: room for the engine's default 512 KiB
/// limit plus 1 MiB for the host code around and below it.
pub const WASM_STACK_SIZE: u64 = (1 << 20) + (512 << 10);

/// Top of each hart's Wasm stack (0: not allocated yet).
static WASM_STACK_TOP: [AtomicU64; MAX_HARTS] = [const { AtomicU64::new(0) }; MAX_HARTS];

/// Sets up the Wasm address space (at boot, once the page table is ours).
pub fn init() {
    platform::init();
}

/// This hart's Wasm stack, allocated on first use.
fn wasm_stack_top() -> Result<u64, vm::VmError> {
    let slot = &WASM_STACK_TOP[percpu::current().id()];
    let top = slot.load(Ordering::Relaxed);
    if top != 0 {
        return Ok(top);
    }
    let stack = vm::alloc_stack(WASM_STACK_SIZE)?;
    slot.store(stack.top, Ordering::Relaxed);
    Ok(stack.top)
}

/// Runs `f` on this hart's Wasm stack (directly if already on it). Calls
/// into Wasm must run here: the engine lets Wasm use `max_wasm_stack` bytes
/// below its entry, which the boot stacks do not have.
pub fn on_wasm_stack<F: FnOnce() -> R, R>(f: F) -> Result<R, vm::VmError> {
    // Code published on another hart since this one last ran fence.i.
    crate::arch::wasm::sync_icache_this_hart();
    let sp = crate::arch::stack_pointer() as u64;
    // Process threads own a stack of this size: Wasm runs on it directly
    // (and may block there, which the per-hart stack must never do).
    if let Some(stack) = crate::sched::thread::current_stack()
        && stack.end - stack.start >= WASM_STACK_SIZE
        && stack.contains(&sp)
    {
        return Ok(f());
    }
    let top = wasm_stack_top()?;
    if (top - WASM_STACK_SIZE..top).contains(&sp) {
        return Ok(f());
    }
    // SAFETY: `top` is the top of this hart's Wasm stack, which nothing else
    // uses (we are not on it, and only this hart runs on it).
    let result = unsafe { crate::arch::run_on_stack(top as usize, f) };
    // A fault that abandons `f` resumes a recovery point outside this call,
    // so reaching here means `f` returned.
    Ok(result.expect("the function ran on the Wasm stack"))
}
