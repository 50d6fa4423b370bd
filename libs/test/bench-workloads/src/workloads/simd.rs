//! A SIMD kernel: a 4-lane u32 multiply-add-xorshift over two 16 KiB
//! arrays, `n` rounds. Built with `simd128` for Wasm it uses
//! `core::arch::wasm32` v128; elsewhere the same lanes are computed in
//! scalar code (which the compiler may vectorize for the native baseline).

/// Elements per array.
pub const LEN: usize = 4096;

pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
    let mem = &mut super::cast::<u32>(scratch)[..2 * LEN];
    let mut rng = super::Rng::new(21);
    for x in mem.iter_mut() {
        *x = rng.next() as u32;
    }
    let (a, b) = mem.split_at_mut(LEN);
    let mut acc = [0u32; 4];
    for r in 0..n as usize {
        acc = round(a, b, acc);
        b[r % LEN] ^= acc[0];
    }
    acc.iter().map(|&x| x as u64).sum()
}

/// Scalar lanes: `v = a·b + acc; acc = v ^ (v >> 7)` per group of four.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn round(a: &[u32], b: &[u32], mut acc: [u32; 4]) -> [u32; 4] {
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for l in 0..4 {
            let v = x[l].wrapping_mul(y[l]).wrapping_add(acc[l]);
            acc[l] = v ^ (v >> 7);
        }
    }
    acc
}

/// The same lanes in v128 registers.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn round(a: &[u32], b: &[u32], acc: [u32; 4]) -> [u32; 4] {
    use core::arch::wasm32::*;
    let mut v_acc = u32x4(acc[0], acc[1], acc[2], acc[3]);
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        let vx = u32x4(x[0], x[1], x[2], x[3]);
        let vy = u32x4(y[0], y[1], y[2], y[3]);
        let v = i32x4_add(i32x4_mul(vx, vy), v_acc);
        v_acc = v128_xor(v, u32x4_shr(v, 7));
    }
    [
        u32x4_extract_lane::<0>(v_acc),
        u32x4_extract_lane::<1>(v_acc),
        u32x4_extract_lane::<2>(v_acc),
        u32x4_extract_lane::<3>(v_acc),
    ]
}
