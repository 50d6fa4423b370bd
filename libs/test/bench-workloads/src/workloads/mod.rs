//! The workloads; each `run(n, scratch) -> checksum` (see [`crate::Workload`]).

pub mod crc32;
pub mod hashmap;
pub mod matmul;
pub mod nbody;
pub mod quicksort;
pub mod sha256;
pub mod simd;

/// A deterministic xorshift64 generator (never yields 0).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Element types any bit pattern of which is a valid value.
pub(crate) trait Plain: Copy {}
impl Plain for u32 {}
impl Plain for u64 {}
impl Plain for f64 {}

/// The aligned middle of `bytes` as a slice of `T`.
pub(crate) fn cast<T: Plain>(bytes: &mut [u8]) -> &mut [T] {
    // SAFETY: `T: Plain` accepts every bit pattern, and `align_to_mut`
    // returns only the properly aligned middle part.
    unsafe { bytes.align_to_mut::<T>().1 }
}

/// Fills `bytes` from a generator seeded with `seed`.
pub(crate) fn fill(bytes: &mut [u8], seed: u64) {
    let mut rng = Rng::new(seed);
    let mut chunks = bytes.chunks_exact_mut(8);
    for c in &mut chunks {
        c.copy_from_slice(&rng.next().to_le_bytes());
    }
    let rest = chunks.into_remainder();
    let last = rng.next().to_le_bytes();
    rest.copy_from_slice(&last[..rest.len()]);
}

/// Recursive Fibonacci: calls and returns.
pub mod fib {
    pub fn run(n: u32, _scratch: &mut [u8]) -> u64 {
        fib(n as u64)
    }

    #[inline(never)]
    fn fib(n: u64) -> u64 {
        if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
    }
}

/// Sieve of Eratosthenes over bytes: the number of primes below `n`.
pub mod sieve {
    pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
        let n = (n as usize).min(scratch.len());
        let flags = &mut scratch[..n];
        flags.fill(1);
        for f in flags.iter_mut().take(2) {
            *f = 0;
        }
        let mut i = 2;
        while i * i < n {
            if flags[i] != 0 {
                let mut j = i * i;
                while j < n {
                    flags[j] = 0;
                    j += i;
                }
            }
            i += 1;
        }
        flags.iter().map(|&f| f as u64).sum()
    }
}

/// Bulk copies: a buffer copied back and forth `n` times, one byte changed
/// after each copy so that no copy is redundant.
pub mod memcpy {
    /// Bytes per copy.
    pub const LEN: usize = 4 << 20;

    pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
        let (a, rest) = scratch.split_at_mut(LEN);
        let b = &mut rest[..LEN];
        super::fill(a, 7);
        for i in 0..n as usize {
            let (src, dst) = if i % 2 == 0 {
                (&mut *a, &mut *b)
            } else {
                (&mut *b, &mut *a)
            };
            dst.copy_from_slice(src);
            dst[(i * 4099) % LEN] ^= i as u8 | 1;
        }
        let last = if n % 2 == 1 { &*b } else { &*a };
        last.iter()
            .step_by(4093)
            .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(x as u64))
    }
}
