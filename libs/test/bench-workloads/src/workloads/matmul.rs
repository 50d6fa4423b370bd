//! `f64` matrix multiply, C = A·B with B transposed first, as dot products
//! (a sequential sum that neither build may reorder). The inputs are small
//! integers, so every result is exact.

/// Largest `n` whose three matrices fit the scratch memory.
pub const MAX_N: usize = 800;

/// A[i][k], exact small integer.
pub fn a(i: usize, k: usize) -> i64 {
    ((i * k + 1) % 7) as i64 - 3
}

/// B[k][j], exact small integer.
pub fn b(k: usize, j: usize) -> i64 {
    ((k + 2 * j) % 5) as i64 - 2
}

/// The weight of C[i][j] in the checksum.
pub fn weight(i: usize, j: usize) -> i64 {
    ((i + j) % 3) as i64 + 1
}

pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
    let n = (n as usize).min(MAX_N);
    let mem = super::cast::<f64>(scratch);
    let (ma, rest) = mem.split_at_mut(n * n);
    let (bt, rest) = rest.split_at_mut(n * n);
    let c = &mut rest[..n * n];
    for i in 0..n {
        for k in 0..n {
            ma[i * n + k] = a(i, k) as f64;
            // Transposed: bt[j][k] = B[k][j].
            bt[k * n + i] = b(i, k) as f64;
        }
    }
    for i in 0..n {
        let row = &ma[i * n..(i + 1) * n];
        for j in 0..n {
            let col = &bt[j * n..(j + 1) * n];
            let mut acc = 0.0;
            for k in 0..n {
                acc += row[k] * col[k];
            }
            c[i * n + j] = acc;
        }
    }
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..n {
            sum += c[i * n + j] * weight(i, j) as f64;
        }
    }
    sum as i64 as u64
}
