//! Quicksort (median of three, insertion sort below 16) of `n` random u32.

/// Largest `n` that fits the scratch memory.
pub const MAX_N: usize = crate::SCRATCH_BYTES / 4;

pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
    let n = (n as usize).min(MAX_N);
    let v = &mut super::cast::<u32>(scratch)[..n];
    let mut rng = super::Rng::new(5);
    for x in v.iter_mut() {
        *x = rng.next() as u32;
    }
    sort(v);
    checksum(v)
}

/// A position-sensitive hash of `v`.
pub fn checksum(v: &[u32]) -> u64 {
    v.iter().fold(0u64, |h, &x| {
        h.wrapping_mul(0x100_0000_01b3).wrapping_add(x as u64)
    })
}

/// Sorts `v` ascending.
pub fn sort(mut v: &mut [u32]) {
    // Recurse into the smaller part, loop on the larger: O(log n) stack.
    while v.len() > 16 {
        let p = partition(v);
        let (lo, hi) = v.split_at_mut(p);
        if lo.len() < hi.len() {
            sort(lo);
            v = hi;
        } else {
            sort(hi);
            v = lo;
        }
    }
    insertion_sort(v);
}

/// Hoare partition around the median of three; returns `p` with
/// `v[..p] <= v[p..]` elementwise, `0 < p < len`.
fn partition(v: &mut [u32]) -> usize {
    // The lower middle: Hoare needs a pivot that is not the last element.
    let last = v.len() - 1;
    let mid = last / 2;
    if v[mid] < v[0] {
        v.swap(mid, 0);
    }
    if v[last] < v[0] {
        v.swap(last, 0);
    }
    if v[last] < v[mid] {
        v.swap(last, mid);
    }
    let pivot = v[mid];
    let (mut i, mut j) = (0usize, last);
    loop {
        while v[i] < pivot {
            i += 1;
        }
        while v[j] > pivot {
            j -= 1;
        }
        if i >= j {
            return j + 1;
        }
        v.swap(i, j);
        i += 1;
        j -= 1;
    }
}

fn insertion_sort(v: &mut [u32]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}
