//! `random`: `random_get` of 0, 1, 16, 256 and 65536 bytes (shape only: the call works, large
//! draws are not all zero, two draws differ, every byte value turns up in a big one).

use corpus::*;

fn main() {
    for len in [0usize, 1, 16, 256, 65536] {
        let mut buf = vec![0u8; len];
        match sys::random_get(&mut buf) {
            Ok(()) => {
                let nonzero = buf.iter().any(|&b| b != 0);
                println!(
                    "random_get {len}: ok{}",
                    if len >= 16 {
                        format!(", not all zero: {nonzero}")
                    } else {
                        String::new()
                    }
                );
            }
            Err(e) => println!("random_get {len}: {e}"),
        }
    }
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    let _ = sys::random_get(&mut a);
    let _ = sys::random_get(&mut b);
    println!("two 32-byte draws differ: {}", a != b);
    let mut big = vec![0u8; 1 << 20];
    let _ = sys::random_get(&mut big);
    let mut seen = [false; 256];
    for &x in &big {
        seen[x as usize] = true;
    }
    println!("every byte value in 1 MiB: {}", seen.iter().all(|&s| s));
}
