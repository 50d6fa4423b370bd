//! `oom [LIMIT_MIB]`: allocates (and touches) memory 1 MiB at a time until an
//! allocation fails, which aborts the program (a trap), or until LIMIT_MIB
//! (default: no limit). The kernel must end only this process.

fn main() {
    let limit: Option<usize> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        if limit.is_some_and(|l| blocks.len() >= l) {
            println!("oom: reached {} MiB without running out", blocks.len());
            return;
        }
        // Touch every page so the memory is really committed.
        blocks.push(vec![0xA5; 1 << 20]);
        if blocks.len().is_multiple_of(64) {
            println!("oom: {} MiB allocated", blocks.len());
        }
    }
}
