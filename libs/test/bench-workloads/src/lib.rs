//! The workloads of `just bench`, written once in `no_std` Rust and built
//! twice: natively (into the kernel and the host bench binary: the
//! baseline) and for `wasm32-unknown-unknown` (run by atoll's engine and by
//! wasmtime). Each is a [`Workload`]: `run(n, scratch) -> checksum`, with
//! `n` sized so that the default runs about 10⁸ instructions.
//!
//! Results must not depend on the build: integer code wraps, floating-point
//! code uses only `+ - * /` (IEEE-exact, and Rust never fuses them), so
//! native and Wasm checksums match bit for bit.
//!
//! With feature `wasm-exports` (only meaningful for wasm32), [`wasm`]
//! exports `bench_<name>(n: i32) -> i64` for each workload, plus the
//! host-call and trap entry points the harness times.
#![no_std]

pub mod modules;
#[cfg(all(feature = "wasm-exports", target_arch = "wasm32"))]
mod wasm;
mod workloads;

pub use workloads::sha256::sha256;
pub use workloads::*;

/// Bytes of scratch memory every workload may use (16-byte aligned).
pub const SCRATCH_BYTES: usize = 16 << 20;

/// One benchmark kernel.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub name: &'static str,
    /// The size that runs about 10⁸ instructions.
    pub default_n: u32,
    /// A small size for tests.
    pub test_n: u32,
    /// `run(n, scratch)`: `scratch` holds at least [`SCRATCH_BYTES`] bytes,
    /// 16-byte aligned; its contents on entry do not matter.
    pub run: fn(u32, &mut [u8]) -> u64,
}

/// Every workload, in report order.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "fib",
        default_n: 32,
        test_n: 20,
        run: fib::run,
    },
    Workload {
        name: "sieve",
        default_n: 8_000_000,
        test_n: 100_000,
        run: sieve::run,
    },
    Workload {
        name: "matmul",
        default_n: 200,
        test_n: 16,
        run: matmul::run,
    },
    Workload {
        name: "sha256",
        default_n: 4 << 20,
        test_n: 4096,
        run: sha256::run,
    },
    Workload {
        name: "nbody",
        default_n: 250_000,
        test_n: 1000,
        run: nbody::run,
    },
    Workload {
        name: "quicksort",
        default_n: 1 << 20,
        test_n: 1000,
        run: quicksort::run,
    },
    Workload {
        name: "hashmap",
        default_n: 400_000,
        test_n: 1000,
        run: hashmap::run,
    },
    Workload {
        name: "memcpy",
        default_n: 64,
        test_n: 2,
        run: memcpy::run,
    },
    Workload {
        name: "crc32",
        default_n: 12 << 20,
        test_n: 4096,
        run: crc32::run,
    },
    Workload {
        name: "simd",
        default_n: 4_000,
        test_n: 2,
        run: simd::run,
    },
];

/// The workload called `name`.
pub fn workload(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}
