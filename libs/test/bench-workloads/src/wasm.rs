//! The Wasm module's exports (feature `wasm-exports`, wasm32 only).
//!
//! - `bench_<workload>(n: i32) -> i64`: runs a workload on scratch memory
//!   grown on first use (so the module starts small).
//! - `bench_hostcall(n: i32) -> i64`: calls the import `env.noop` `n` times.
//! - `bench_empty()`: does nothing (host → Wasm call cost).
//! - `bench_unreachable()`, `bench_oob() -> i32`: trap.

use core::arch::wasm32;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{SCRATCH_BYTES, WORKLOADS};

/// Byte address of the scratch memory (0: not grown yet).
static SCRATCH: AtomicUsize = AtomicUsize::new(0);

const PAGE: usize = 65536;

fn scratch() -> &'static mut [u8] {
    let mut base = SCRATCH.load(Ordering::Relaxed);
    if base == 0 {
        let old = wasm32::memory_grow(0, SCRATCH_BYTES / PAGE);
        if old == usize::MAX {
            wasm32::unreachable();
        }
        base = old * PAGE;
        SCRATCH.store(base, Ordering::Relaxed);
    }
    // SAFETY: the pages at `base` were grown for this use only; Wasm here
    // is single-threaded and no caller keeps the slice past its call.
    unsafe { core::slice::from_raw_parts_mut(base as *mut u8, SCRATCH_BYTES) }
}

fn run(index: usize, n: i32) -> i64 {
    (WORKLOADS[index].run)(n as u32, scratch()) as i64
}

macro_rules! exports {
    ($($name:ident = $index:expr),* $(,)?) => {
        $(
            #[unsafe(no_mangle)]
            pub extern "C" fn $name(n: i32) -> i64 {
                run($index, n)
            }
        )*
        /// Export order must follow [`WORKLOADS`].
        const EXPORTED: &[&str] = &[$(stringify!($name)),*];
    };
}

exports! {
    bench_fib = 0,
    bench_sieve = 1,
    bench_matmul = 2,
    bench_sha256 = 3,
    bench_nbody = 4,
    bench_quicksort = 5,
    bench_hashmap = 6,
    bench_memcpy = 7,
    bench_crc32 = 8,
    bench_simd = 9,
}

const _: () = assert!(EXPORTED.len() == WORKLOADS.len());

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// A host function that does nothing.
    fn noop();
}

#[unsafe(no_mangle)]
pub extern "C" fn bench_hostcall(n: i32) -> i64 {
    for _ in 0..n {
        // SAFETY: `noop` takes and returns nothing.
        unsafe { noop() };
    }
    n as i64
}

#[unsafe(no_mangle)]
pub extern "C" fn bench_empty() {}

#[unsafe(no_mangle)]
pub extern "C" fn bench_unreachable() {
    wasm32::unreachable()
}

#[unsafe(no_mangle)]
pub extern "C" fn bench_oob() -> i32 {
    // SAFETY: deliberately out of bounds (the memory is far below 4 GiB):
    // Wasm defines this access as a trap, which is what is measured.
    unsafe { core::ptr::read_volatile(0xffff_fff0usize as *const i32) }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    wasm32::unreachable()
}
