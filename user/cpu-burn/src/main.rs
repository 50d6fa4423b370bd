//! A CPU-bound loop that prints progress, to show preemption: two of these share the CPU.
//! Usage: `cpu-burn [ROUNDS] [WORK]` (defaults 10 rounds of 2,000,000 steps).

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let work: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 1..=rounds {
        for _ in 0..work {
            // xorshift64: cheap, and the result depends on every step, so nothing is folded away.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        println!("cpu-burn: round {round}/{rounds} checksum {x:016x}");
    }
}
