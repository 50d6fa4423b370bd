//! Instruction-set features every CPU has: what generated (Wasm JIT) code
//! may use. Each CPU adds its CPUID view at start-up; AVX, AVX2 and FMA
//! count only when the OS state for them is on (XCR0 bits SSE and AVX).

use core::sync::atomic::{AtomicU32, Ordering};

use super::{cpuid, cpuid_count};

/// A set of features (one bit each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features(u32);

impl Features {
    pub const SSE3: Self = Self(1 << 0);
    pub const SSSE3: Self = Self(1 << 1);
    pub const SSE41: Self = Self(1 << 2);
    pub const SSE42: Self = Self(1 << 3);
    pub const POPCNT: Self = Self(1 << 4);
    pub const CMPXCHG16B: Self = Self(1 << 5);
    /// LZCNT (AMD's ABM).
    pub const LZCNT: Self = Self(1 << 6);
    pub const BMI1: Self = Self(1 << 7);
    pub const BMI2: Self = Self(1 << 8);
    pub const AVX: Self = Self(1 << 9);
    pub const AVX2: Self = Self(1 << 10);
    pub const FMA: Self = Self(1 << 11);

    pub const fn empty() -> Self {
        Self(0)
    }

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    const fn with(self, other: Self, present: bool) -> Self {
        if present {
            Self(self.0 | other.0)
        } else {
            self
        }
    }
}

/// The intersection over the CPUs that ran [`note_this_cpu`].
static EVERY_CPU: AtomicU32 = AtomicU32::new(u32::MAX);

/// What this CPU has, as CPUID and XCR0 report it now.
pub fn detect() -> Features {
    let max_leaf = cpuid(0).0;
    let (_, _, ecx1, _) = cpuid(1);
    let bit = |reg: u32, n: u32| reg & (1 << n) != 0;
    // AVX-encoded instructions #UD unless XCR0 enables SSE and AVX state;
    // XGETBV exists once the OS set CR4.OSXSAVE (mirrored in CPUID.1:ECX[27]).
    let avx_state = bit(ecx1, 27) && {
        let (lo, _hi): (u32, u32);
        // SAFETY: XGETBV(0) only reads XCR0; OSXSAVE is set, so it is allowed.
        unsafe {
            core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") _hi,
                options(nomem, nostack, preserves_flags))
        };
        lo & 0b110 == 0b110
    };
    let avx = avx_state && bit(ecx1, 28);
    let ebx7 = if max_leaf >= 7 {
        cpuid_count(7, 0).1
    } else {
        0
    };
    let ecx_ext = if cpuid(0x8000_0000).0 >= 0x8000_0001 {
        cpuid(0x8000_0001).2
    } else {
        0
    };
    Features::empty()
        .with(Features::SSE3, bit(ecx1, 0))
        .with(Features::SSSE3, bit(ecx1, 9))
        .with(Features::FMA, avx && bit(ecx1, 12))
        .with(Features::CMPXCHG16B, bit(ecx1, 13))
        .with(Features::SSE41, bit(ecx1, 19))
        .with(Features::SSE42, bit(ecx1, 20))
        .with(Features::POPCNT, bit(ecx1, 23))
        .with(Features::AVX, avx)
        .with(Features::BMI1, bit(ebx7, 3))
        .with(Features::AVX2, avx && bit(ebx7, 5))
        .with(Features::BMI2, bit(ebx7, 8))
        .with(Features::LZCNT, bit(ecx_ext, 5))
}

/// Adds this CPU's view (at start-up, once XCR0 is set).
pub(super) fn note_this_cpu() {
    EVERY_CPU.fetch_and(detect().0, Ordering::Relaxed);
}

/// What every CPU started so far has.
pub fn every_cpu() -> Features {
    Features(EVERY_CPU.load(Ordering::Relaxed))
}
