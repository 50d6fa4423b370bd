//! Wasm SIMD on atoll: a dot product over 128-bit lanes (`i32x4`), checked
//! against the same sum in scalar code. On a machine whose harts lack the
//! RISC-V vector extension the kernel refuses the whole module at load time
//! with a clear error, so this program either prints the right answer or
//! never starts: it can never print a wrong one.

use core::arch::wasm32::{i32x4, i32x4_add, i32x4_extract_lane, i32x4_mul, i32x4_splat, v128};

/// `a · b` four lanes at a time; `a` and `b` have the same length, a multiple of 4.
#[target_feature(enable = "simd128")]
fn dot_simd(a: &[i32], b: &[i32]) -> i32 {
    let mut acc: v128 = i32x4_splat(0);
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        let x = i32x4(x[0], x[1], x[2], x[3]);
        let y = i32x4(y[0], y[1], y[2], y[3]);
        acc = i32x4_add(acc, i32x4_mul(x, y));
    }
    i32x4_extract_lane::<0>(acc)
        + i32x4_extract_lane::<1>(acc)
        + i32x4_extract_lane::<2>(acc)
        + i32x4_extract_lane::<3>(acc)
}

fn main() {
    let a: Vec<i32> = (1..=64).collect();
    let b: Vec<i32> = (0..64).map(|i| 64 - 2 * i).collect();
    // Safe to call on wasm: a module whose engine lacks SIMD is refused whole.
    let simd = dot_simd(&a, &b);
    let scalar: i32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    println!("simd: dot product over i32x4 lanes = {simd}, scalar = {scalar}");
    if simd != scalar {
        println!("simd: MISMATCH");
        std::process::exit(1);
    }
    println!("simd: ok");
}
