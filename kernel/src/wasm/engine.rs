//! The engine's [`Platform`] on the kernel, epoch ticks, and the trap
//! handler's hook that turns faults in JIT code into Wasm traps.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use wasm_engine::{Config, Engine, Error, Platform};

use super::platform::{self, SpaceError};
use crate::arch::trap::{Cause, TrapFrame, is_instruction_fault};
use crate::mem::PAGE_SIZE;
use crate::sched::percpu;
use crate::sync::IrqMutex;

fn error(e: SpaceError) -> Error {
    match e {
        SpaceError::OutOfMemory | SpaceError::OutOfVirtualSpace(_) => {
            Error::ResourceLimit(format!("{e}"))
        }
        e => Error::Platform(format!("{e}")),
    }
}

/// The kernel platform (its state is global and per-hart).
#[derive(Debug, Default, Clone, Copy)]
pub struct KernelPlatform {
    /// Compile on the calling hart only (for measuring one hart's work).
    pub one_hart: bool,
}

impl Platform for KernelPlatform {
    fn page_size(&self) -> usize {
        PAGE_SIZE as usize
    }

    fn reserve(&self, size: usize) -> Result<*mut u8, Error> {
        platform::reserve(size).map(|a| a as *mut u8).map_err(error)
    }

    fn commit(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
        platform::commit(ptr as u64, len as u64).map_err(error)
    }

    fn reserve_memory(&self, size: usize, committed: usize) -> Result<*mut u8, Error> {
        platform::reserve_memory(size, committed as u64)
            .map(|a| a as *mut u8)
            .map_err(error)
    }

    unsafe fn release_memory(&self, ptr: *mut u8, _size: usize, _committed: usize) {
        if let Err(e) = platform::release_memory(ptr as u64) {
            crate::warn!("wasm: releasing memory {ptr:p}: {e}");
        }
    }

    fn publish_code(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
        platform::publish_code(ptr as u64, len as u64).map_err(error)
    }

    unsafe fn release(&self, ptr: *mut u8, _size: usize) {
        if let Err(e) = platform::release(ptr as u64) {
            crate::warn!("wasm: releasing {ptr:p}: {e}");
        }
    }

    fn activation(&self) -> *mut u8 {
        percpu::current().wasm_activation.get()
    }

    fn set_activation(&self, activation: *mut u8) {
        percpu::current().wasm_activation.set(activation);
    }

    fn monotonic_nanos(&self) -> u64 {
        crate::sched::timer::now_ns()
    }

    fn run_jobs(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        if self.one_hart {
            jobs.iter_mut().for_each(|job| job());
        } else {
            crate::sched::parallel::run(jobs);
        }
    }
}

/// An engine on the kernel platform, compiling for the ISA every hart has
/// (see `arch::wasm::configure`: SIMD only with vector hardware, the CPU's
/// extensions as Cranelift settings).
pub fn new_engine(config: &Config) -> Result<Engine, Error> {
    new_engine_on(config, KernelPlatform::default())
}

/// [`new_engine`] on a given kernel platform.
pub fn new_engine_on(config: &Config, platform: KernelPlatform) -> Result<Engine, Error> {
    let mut config = config.clone();
    crate::arch::wasm::configure(&mut config)?;
    Engine::new(&config, Arc::new(platform))
}

/// Engines whose epoch the timer advances, with their registration ids.
static EPOCH_ENGINES: IrqMutex<Vec<(u64, Engine)>> = IrqMutex::new(Vec::new());
static NEXT_EPOCH_ID: AtomicU64 = AtomicU64::new(1);
/// Epoch increments made so far (all engines), for tests and diagnostics.
static EPOCH_TICKS: AtomicU64 = AtomicU64::new(0);

#[cfg(feature = "ktest")]
/// How many times a tick has advanced a registered engine's epoch.
pub fn epoch_ticks() -> u64 {
    EPOCH_TICKS.load(Ordering::Relaxed)
}

/// While alive, timer ticks advance the engine's epoch (100 per second).
pub struct EpochRegistration {
    id: u64,
}

/// Lets the timer drive `engine`'s epoch-based interruption.
pub fn register_epoch(engine: &Engine) -> EpochRegistration {
    let id = NEXT_EPOCH_ID.fetch_add(1, Ordering::Relaxed);
    EPOCH_ENGINES.lock().push((id, engine.clone()));
    EpochRegistration { id }
}

impl Drop for EpochRegistration {
    fn drop(&mut self) {
        let removed = {
            let mut list = EPOCH_ENGINES.lock();
            list.iter()
                .position(|(id, _)| *id == self.id)
                .map(|i| list.swap_remove(i))
        };
        // The engine clone drops here, outside the interrupt-masking lock.
        drop(removed);
    }
}

/// Called on every timer tick, in interrupt context: only the boot hart
/// advances epochs, so they tick at the timer rate whatever the hart count.
pub(crate) fn on_tick() {
    let boot_hart = crate::boot_info_opt().map_or(0, |bi| bi.boot_hart as usize);
    if percpu::current().id() != boot_hart {
        return;
    }
    // Never spin in an interrupt: if the list is being changed, skip a tick.
    if let Some(list) = EPOCH_ENGINES.try_lock() {
        for (_, engine) in list.iter() {
            engine.increment_epoch();
            EPOCH_TICKS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The trap handler's hook for exceptions in code at trap depth 0: if the
/// PC is in published Wasm code at a trap site, records the trap in the
/// hart's innermost activation and makes `frame` resume at the engine's
/// landing pad. Returns whether it did.
pub(crate) fn resume_wasm_trap(frame: &mut TrapFrame) -> bool {
    // Only a fault of the instruction at the PC can be a trap site's: not
    // an NMI, machine check or debug trap that merely arrived there.
    if !matches!(frame.cause(), Cause::Exception(code) if is_instruction_fault(code)) {
        return false;
    }
    let act = percpu::current().wasm_activation.get();
    if act.is_null() {
        return false;
    }
    // SAFETY: `frame` is the faulting context (its fp is the JIT code's
    // frame pointer) and `act` this hart's innermost live activation, set by
    // the engine around every entry into Wasm.
    let resume =
        unsafe { wasm_engine::trap::handle_fault(frame.pc(), frame.fault_addr(), frame.fp(), act) };
    match resume {
        Some(r) => {
            frame.redirect(r.pc, r.arg);
            true
        }
        None => false,
    }
}
