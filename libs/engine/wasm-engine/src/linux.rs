//! Linux host platform: mmap/mprotect for memory and code, a per-thread activation
//! pointer, and SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers (on an alternate signal stack) that
//! turn faults in Wasm code into traps.
//!
//! Linear-memory reservations are kept for reuse: creating a memory is then a lookup
//! instead of an mmap of 4 GiB + guard and its munmap, which cost more than everything
//! else in an instantiation (each splits and merges VMAs and shoots down TLBs).

use core::cell::Cell;
use std::sync::{Mutex, Once};
use std::vec::Vec;

use crate::Error;
use crate::platform::Platform;
use crate::trap;

/// The Linux implementation of [`Platform`].
#[derive(Default)]
pub struct LinuxPlatform {
    /// Released memory reservations kept for reuse (at most [`KEPT_MAX`]).
    kept: Mutex<Vec<Kept>>,
}

/// A released linear-memory reservation: `[base, base + committed)` is read-write and
/// reads as zero, the rest of the `size` bytes is `PROT_NONE`.
struct Kept {
    base: usize,
    size: usize,
    committed: usize,
}

/// Reservations kept for reuse (each is address space, plus its committed bytes
/// when they were zeroed by writing).
const KEPT_MAX: usize = 16;
/// Committed bytes up to this are zeroed by writing them, which keeps the pages
/// resident, so that the next instance takes no page faults; larger memories are
/// given back to the kernel with `MADV_DONTNEED` (reading as zero afterwards).
const ZERO_BY_WRITING: usize = 256 << 10;

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
        LinuxPlatform::default()
    }

    /// Takes a kept reservation of `size` bytes and makes exactly its first `committed`
    /// bytes read-write; `None` if there is none (or adjusting it failed).
    fn take_kept(&self, size: usize, committed: usize) -> Option<*mut u8> {
        let k = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            // Prefer one committed exactly as wanted: it needs no system call.
            let i = kept
                .iter()
                .rposition(|k| k.size == size && k.committed == committed)
                .or_else(|| kept.iter().rposition(|k| k.size == size))?;
            kept.swap_remove(i)
        };
        let base = k.base as *mut u8;
        let adjusted = if k.committed < committed {
            self.commit(base.wrapping_add(k.committed), committed - k.committed)
                .is_ok()
        } else if k.committed > committed {
            let tail = base.wrapping_add(committed);
            let len = k.committed - committed;
            // SAFETY: the tail lies in the kept reservation, which nothing uses.
            unsafe {
                libc::mprotect(tail as *mut _, len, libc::PROT_NONE) == 0
                    && libc::madvise(tail as *mut _, len, libc::MADV_DONTNEED) == 0
            }
        } else {
            true
        };
        if adjusted {
            Some(base)
        } else {
            // SAFETY: the whole reservation is ours and unused.
            unsafe { libc::munmap(base as *mut _, k.size) };
            None
        }
    }
}

impl Drop for LinuxPlatform {
    fn drop(&mut self) {
        let kept = self.kept.get_mut().unwrap_or_else(|e| e.into_inner());
        for k in kept.drain(..) {
            // SAFETY: a kept reservation belongs to the platform alone.
            unsafe { libc::munmap(k.base as *mut _, k.size) };
        }
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

    fn reserve_memory(&self, size: usize, committed: usize) -> Result<*mut u8, Error> {
        match self.take_kept(size, committed) {
            Some(p) => Ok(p),
            None => crate::platform::fresh_memory(self, size, committed),
        }
    }

    unsafe fn release_memory(&self, ptr: *mut u8, size: usize, committed: usize) {
        if !self.kept.lock().is_ok_and(|k| k.len() < KEPT_MAX) {
            // SAFETY: forwarded from the caller.
            return unsafe { self.release(ptr, size) };
        }
        // Whatever the last instance wrote must read as zero for the next one.
        let zeroed = if committed <= ZERO_BY_WRITING {
            // SAFETY: the caller guarantees `[ptr, ptr + committed)` is committed
            // read-write memory that nothing uses any more.
            unsafe { core::ptr::write_bytes(ptr, 0, committed) };
            true
        } else {
            // SAFETY: as above; private anonymous pages read as zero after this.
            unsafe { libc::madvise(ptr as *mut _, committed, libc::MADV_DONTNEED) == 0 }
        };
        if zeroed {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() < KEPT_MAX {
                kept.push(Kept {
                    base: ptr as usize,
                    size,
                    committed,
                });
                return;
            }
        }
        // SAFETY: forwarded from the caller.
        unsafe { self.release(ptr, size) }
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

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 6 << 30;
    const PAGE: usize = 65536;

    /// Whether the byte at `p` is readable, without faulting: the kernel
    /// reports `EFAULT` when it cannot read a `write` buffer.
    fn readable(p: *const u8) -> bool {
        let mut fds = [0; 2];
        // SAFETY: plain system calls on our own pipe.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let n = libc::write(fds[1], p as *const _, 1);
            libc::close(fds[0]);
            libc::close(fds[1]);
            n == 1
        }
    }

    fn all_zero(p: *mut u8, len: usize) -> bool {
        // SAFETY: the caller passes a committed range.
        unsafe { core::slice::from_raw_parts(p, len) }
            .iter()
            .all(|&b| b == 0)
    }

    fn fill(p: *mut u8, len: usize) {
        // SAFETY: the caller passes a committed range.
        unsafe { core::ptr::write_bytes(p, 0xa5, len) };
    }

    #[test]
    fn kept_memories_read_as_zero_and_fault_past_their_length() {
        let pf = LinuxPlatform::new();
        let a = pf.reserve_memory(SIZE, 2 * PAGE).unwrap();
        assert!(readable(a) && !readable(a.wrapping_add(2 * PAGE)));
        fill(a, 2 * PAGE);
        // SAFETY: exactly two pages are committed; nothing uses them any more.
        unsafe { pf.release_memory(a, SIZE, 2 * PAGE) };

        // Same length: the same reservation, zeroed.
        let b = pf.reserve_memory(SIZE, 2 * PAGE).unwrap();
        assert_eq!(a, b, "the released memory was not reused");
        assert!(all_zero(b, 2 * PAGE));
        assert!(!readable(b.wrapping_add(2 * PAGE)));
        fill(b, 2 * PAGE);
        // SAFETY: as above.
        unsafe { pf.release_memory(b, SIZE, 2 * PAGE) };

        // Shorter: the tail faults again.
        let c = pf.reserve_memory(SIZE, PAGE).unwrap();
        assert_eq!(a, c);
        assert!(all_zero(c, PAGE));
        assert!(!readable(c.wrapping_add(PAGE)) && !readable(c.wrapping_add(2 * PAGE - 1)));
        fill(c, PAGE);
        // SAFETY: one page is committed.
        unsafe { pf.release_memory(c, SIZE, PAGE) };

        // Longer: the new part is committed and zero too.
        let d = pf.reserve_memory(SIZE, 3 * PAGE).unwrap();
        assert_eq!(a, d);
        assert!(all_zero(d, 3 * PAGE));
        assert!(!readable(d.wrapping_add(3 * PAGE)));
        // Growing after reuse works as on a fresh reservation.
        pf.commit(d.wrapping_add(3 * PAGE), PAGE).unwrap();
        assert!(all_zero(d, 4 * PAGE));
        fill(d, 4 * PAGE);
        // SAFETY: four pages are committed.
        unsafe { pf.release_memory(d, SIZE, 4 * PAGE) };

        // Zero pages committed: nothing is accessible.
        let e = pf.reserve_memory(SIZE, 0).unwrap();
        assert_eq!(a, e);
        assert!(!readable(e));
        // SAFETY: nothing is committed.
        unsafe { pf.release_memory(e, SIZE, 0) };
    }

    #[test]
    fn big_kept_memories_are_zeroed_by_the_kernel() {
        let pf = LinuxPlatform::new();
        let len = 4 * ZERO_BY_WRITING;
        let a = pf.reserve_memory(SIZE, len).unwrap();
        fill(a, len);
        // SAFETY: `len` bytes are committed; nothing uses them any more.
        unsafe { pf.release_memory(a, SIZE, len) };
        let b = pf.reserve_memory(SIZE, len).unwrap();
        assert_eq!(a, b);
        assert!(all_zero(b, len));
        assert!(!readable(b.wrapping_add(len)));
        // SAFETY: as above.
        unsafe { pf.release_memory(b, SIZE, len) };
    }

    #[test]
    fn at_most_kept_max_memories_are_kept() {
        let pf = LinuxPlatform::new();
        let all: Vec<_> = (0..KEPT_MAX + 4)
            .map(|_| pf.reserve_memory(SIZE, PAGE).unwrap())
            .collect();
        for &p in &all {
            // SAFETY: one page is committed; nothing uses it any more.
            unsafe { pf.release_memory(p, SIZE, PAGE) };
        }
        assert_eq!(pf.kept.lock().unwrap().len(), KEPT_MAX);
    }
}
