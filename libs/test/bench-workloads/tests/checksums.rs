//! Workload results checked against independently computed values (small
//! sizes: this runs in `just test`'s host stage).

use std::collections::HashMap;

use bench_workloads::{
    SCRATCH_BYTES, WORKLOADS, crc32, matmul, modules, nbody, quicksort, sha256, workload,
};

/// Scratch memory with the 16-byte alignment the workloads assume.
struct Scratch(Vec<u128>);

impl Scratch {
    fn new() -> Scratch {
        Scratch(vec![0; SCRATCH_BYTES / 16])
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the same memory as bytes (u8 accepts any bit pattern and
        // has alignment 1); the borrow of `self` keeps it exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), self.0.len() * 16) }
    }
}

fn run(name: &str, n: u32) -> u64 {
    (workload(name).unwrap().run)(n, Scratch::new().bytes())
}

#[test]
fn fib() {
    assert_eq!(run("fib", 20), 6765);
    assert_eq!(run("fib", 32), 2_178_309);
}

#[test]
fn sieve_counts_primes() {
    assert_eq!(run("sieve", 100_000), 9592);
    assert_eq!(run("sieve", 1_000_000), 78_498);
    assert_eq!(run("sieve", 2), 0);
}

#[test]
fn sha256_known_vectors() {
    let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // 56 bytes: the padding needs a second block.
    assert_eq!(
        hex(sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(
        hex(sha256(&[b'a'; 1_000_000])),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn crc32_check_value() {
    assert_eq!(crc32::crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32::crc32(b""), 0);
}

#[test]
fn matmul_matches_integer_arithmetic() {
    for n in [1, 7, 16, 33] {
        let mut want = 0i64;
        for i in 0..n {
            for j in 0..n {
                let c: i64 = (0..n).map(|k| matmul::a(i, k) * matmul::b(k, j)).sum();
                want += c * matmul::weight(i, j);
            }
        }
        assert_eq!(run("matmul", n as u32), want as u64, "n = {n}");
    }
}

#[test]
fn nbody_energy() {
    // The Benchmarks Game's reference output.
    let e0 = nbody::energy_after(0);
    let e1000 = nbody::energy_after(1000);
    assert_eq!(format!("{e0:.9}"), "-0.169075164");
    assert_eq!(format!("{e1000:.9}"), "-0.169087605");
    assert_eq!(run("nbody", 1000), e1000.to_bits());
}

#[test]
fn quicksort_sorts() {
    let mut rng = 5u64;
    for n in [0usize, 1, 2, 3, 17, 100, 1000, 5000] {
        for modulus in [u32::MAX, 3] {
            let mut v: Vec<u32> = (0..n)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (rng as u32) % modulus
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            quicksort::sort(&mut v);
            assert_eq!(v, want, "n = {n}");
        }
    }
    // The workload: the same numbers, sorted by the standard library.
    let mut rng = 5u64 | 1;
    let mut want: Vec<u32> = (0..1000)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as u32
        })
        .collect();
    want.sort_unstable();
    assert_eq!(run("quicksort", 1000), quicksort::checksum(&want));
}

#[test]
fn hashmap_matches_std() {
    let gen_keys = |seed: u64| {
        let mut x = seed | 1;
        std::iter::repeat_with(move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x >> 8 | 1
        })
    };
    for n in [1usize, 10, 1000, 5000] {
        let map: HashMap<u64, u64> = gen_keys(11).take(n).zip(0..).collect();
        let (mut hits, mut misses) = (gen_keys(11), gen_keys(12));
        let mut want = 0u64;
        for i in 0..n {
            let key = if i % 2 == 0 {
                hits.next()
            } else {
                misses.next()
            }
            .unwrap();
            want = want.wrapping_add(map.get(&key).copied().unwrap_or(1 << 32));
        }
        assert_eq!(run("hashmap", n as u32), want, "n = {n}");
    }
}

#[test]
fn memcpy_matches_a_model() {
    // The same copies with Vec clones.
    let mut x = 7u64 | 1;
    let mut a: Vec<u8> = (0..bench_workloads::memcpy::LEN / 8)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect();
    for i in 0..3usize {
        let mut b = a.clone();
        let at = (i * 4099) % b.len();
        b[at] ^= i as u8 | 1;
        a = b;
    }
    let want = a
        .iter()
        .step_by(4093)
        .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(x as u64));
    assert_eq!(run("memcpy", 3), want);
}

#[test]
fn simd_lanes_match_a_model() {
    let mut x = 21u64 | 1;
    let mut v: Vec<u32> = (0..2 * bench_workloads::simd::LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        })
        .collect();
    let (a, b) = v.split_at_mut(bench_workloads::simd::LEN);
    let mut acc = [0u32; 4];
    for r in 0..3 {
        for i in 0..a.len() {
            let v = a[i].wrapping_mul(b[i]).wrapping_add(acc[i % 4]);
            acc[i % 4] = v ^ (v >> 7);
        }
        let at = r % b.len();
        b[at] ^= acc[0];
    }
    assert_eq!(run("simd", 3), acc.iter().map(|&x| x as u64).sum::<u64>());
}

#[test]
fn every_workload_runs_at_its_test_size() {
    let mut s = Scratch::new();
    for w in WORKLOADS {
        let a = (w.run)(w.test_n, s.bytes());
        let b = (w.run)(w.test_n, s.bytes());
        assert_eq!(a, b, "{} is deterministic", w.name);
    }
}

#[test]
fn inv_sqrt_is_accurate() {
    for x in [1e-3f64, 0.5, 1.0, 2.0, 3.0, 10.0, 123.456, 1e6, 1e300] {
        let want = 1.0 / x.sqrt();
        let got = nbody::inv_sqrt(x);
        assert!(((got - want) / want).abs() < 4e-16, "{x}: {got} vs {want}");
    }
}

#[test]
fn tiny_modules_match_their_text() {
    let text = |pages| {
        format!("(module (memory {pages}) (func (export \"run\") (result i32) i32.const 42))")
    };
    assert_eq!(modules::SMALL, wat::parse_str(text(1)).unwrap());
    assert_eq!(modules::BIG, wat::parse_str(text(1024)).unwrap());
    let data = "(module (memory 1) (data (i32.const 0) \"*\") \
                (func (export \"run\") (result i32) i32.const 42))";
    assert_eq!(modules::SMALL_DATA, wat::parse_str(data).unwrap());
}
