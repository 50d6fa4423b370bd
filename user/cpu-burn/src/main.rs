//! A CPU-bound loop that prints progress, to show preemption: two of these share the CPU.
//! Usage: `cpu-burn [ROUNDS] [WORK] [TAG]` (defaults 10 rounds of 2,000,000 steps). With a
//! TAG, each line says which instance it is from (`cpu-burn A: round ...`), so two in the
//! background (`cpu-burn 10 2000000 A & cpu-burn 10 2000000 B &`) visibly interleave.
//! It imports nothing but WASI, so it runs on any WASI host too.

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let work: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let name = match args.next() {
        Some(tag) => format!("cpu-burn {tag}"),
        None => "cpu-burn".to_string(),
    };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 1..=rounds {
        for _ in 0..work {
            // xorshift64: cheap, and the result depends on every step, so nothing is folded away.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        println!("{name}: round {round}/{rounds} checksum {x:016x}");
    }
}
