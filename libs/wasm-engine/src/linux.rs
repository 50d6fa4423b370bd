//! Linux host platform: mmap/mprotect for memory and code, a per-thread activation
//! pointer, and SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers (on an alternate signal stack) that
//! turn faults in Wasm code into traps.

use core::cell::Cell;
use std::sync::Once;

use crate::Error;
use crate::platform::Platform;
use crate::trap;

/// The Linux implementation of [`Platform`].
#[derive(Default)]
pub struct LinuxPlatform {
    _private: (),
}

std::thread_local! {
    static ACTIVATION: Cell<*mut u8> = const { Cell::new(core::ptr::null_mut()) };
    static ALT_STACK: Cell<bool> = const { Cell::new(false) };
}

const ALT_STACK_SIZE: usize = 64 * 1024;
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// Previous handlers, to chain to for faults that are not Wasm traps.
static mut PREVIOUS: [core::mem::MaybeUninit<libc::sigaction>; 4] =
    [const { core::mem::MaybeUninit::uninit() }; 4];
static INSTALL: Once = Once::new();

impl LinuxPlatform {
    pub fn new() -> LinuxPlatform {
        install_handlers();
        LinuxPlatform { _private: () }
    }
}

fn os_error(what: &str) -> Error {
    Error::Platform(std::format!("{what}: {}", std::io::Error::last_os_error()))
}

impl Platform for LinuxPlatform {
    fn page_size(&self) -> usize {
        4096
    }

    fn reserve(&self, size: usize) -> Result<*mut u8, Error> {
        // SAFETY: anonymous private mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        Ok(p as *mut u8)
    }

    fn commit(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
        // SAFETY: the range lies inside one of our reservations.
        if unsafe { libc::mprotect(ptr as *mut _, len, libc::PROT_READ | libc::PROT_WRITE) } != 0 {
            return Err(os_error("mprotect"));
        }
        Ok(())
    }

    fn publish_code(&self, ptr: *mut u8, len: usize) -> Result<(), Error> {
        // SAFETY: the range is a code reservation we just filled. x86 keeps the icache
        // coherent, so no flush is needed.
        if unsafe { libc::mprotect(ptr as *mut _, len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            return Err(os_error("mprotect"));
        }
        Ok(())
    }

    unsafe fn release(&self, ptr: *mut u8, size: usize) {
        // SAFETY: the caller guarantees the range is one whole, unused reservation.
        unsafe { libc::munmap(ptr as *mut _, size) };
    }

    fn activation(&self) -> *mut u8 {
        ACTIVATION.with(|a| a.get())
    }

    fn set_activation(&self, activation: *mut u8) {
        if !activation.is_null() {
            ensure_alt_stack();
        }
        ACTIVATION.with(|a| a.set(activation));
    }

    fn run_jobs(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(jobs.len());
        if threads <= 1 {
            jobs.iter_mut().for_each(|job| job());
            return;
        }
        let per_thread = jobs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for chunk in jobs.chunks_mut(per_thread) {
                scope.spawn(move || chunk.iter_mut().for_each(|job| job()));
            }
        });
    }

    fn monotonic_nanos(&self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: valid out pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

/// Each thread that runs Wasm needs its own alternate signal stack, so that a fault
/// near the end of the thread's stack can still be handled.
fn ensure_alt_stack() {
    if ALT_STACK.with(|a| a.get()) {
        return;
    }
    // SAFETY: a fresh anonymous mapping, intentionally leaked for the thread's lifetime
    // (a thread's alternate stack must outlive every signal on it).
    unsafe {
        let mut old: libc::stack_t = core::mem::zeroed();
        libc::sigaltstack(core::ptr::null(), &mut old);
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
            ALT_STACK.with(|a| a.set(true));
            return;
        }
        let p = libc::mmap(
            core::ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let st = libc::stack_t {
            ss_sp: p,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        libc::sigaltstack(&st, core::ptr::null_mut());
    }
    ALT_STACK.with(|a| a.set(true));
}

fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: installing a handler with a zeroed, then filled, sigaction;
            // PREVIOUS is written once here, before any handler can run.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                let prev = &raw mut PREVIOUS;
                libc::sigaction(*sig, &sa, (*prev)[i].as_mut_ptr());
            }
        }
    });
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext for SA_SIGINFO handlers.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let (pc, fp) = regs::get(uc);
        let addr = (*info).si_addr() as usize;
        let act = ACTIVATION.with(|a| a.get());
        if let Some(resume) = trap::handle_fault(pc, addr, fp, act) {
            regs::set(uc, resume.pc, resume.arg);
            return;
        }
        // Not ours: restore the previous disposition and let the fault recur.
        let i = SIGNALS.iter().position(|s| *s == sig).unwrap_or(0);
        let prev = &raw const PREVIOUS;
        libc::sigaction(sig, (*prev)[i].as_ptr(), core::ptr::null_mut());
    }
}

#[cfg(target_arch = "x86_64")]
mod regs {
    pub fn get(uc: &libc::ucontext_t) -> (usize, usize) {
        let g = &uc.uc_mcontext.gregs;
        (
            g[libc::REG_RIP as usize] as usize,
            g[libc::REG_RBP as usize] as usize,
        )
    }
    pub fn set(uc: &mut libc::ucontext_t, pc: usize, arg: usize) {
        let g = &mut uc.uc_mcontext.gregs;
        g[libc::REG_RIP as usize] = pc as i64;
        g[libc::REG_RDI as usize] = arg as i64;
    }
}

#[cfg(target_arch = "riscv64")]
mod regs {
    pub fn get(uc: &libc::ucontext_t) -> (usize, usize) {
        let r = &uc.uc_mcontext.__gregs;
        (r[0] as usize, r[8] as usize)
    }
    pub fn set(uc: &mut libc::ucontext_t, pc: usize, arg: usize) {
        let r = &mut uc.uc_mcontext.__gregs;
        r[0] = pc as _;
        r[10] = arg as _;
    }
}
