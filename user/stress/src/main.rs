//! `stress CASE [N]`: hostile workloads for the `stress` test stage. Each prints what it did
//! and exits 0 when the system answered as it must (the process alone refused, trapped or
//! killed; nothing else disturbed), 1 otherwise.
//!
//! - `tables [MAX]`: spawns `/etc/tests/table-big.wasm` (a 10,000,000-element table, 80 MB,
//!   then a spin) until a spawn is refused for lack of memory (at most MAX, default 16); then
//!   kills them all and spawns `hello` to show the system still runs.
//! - `spawns N`: spawns and waits for `hello` N times.
//! - `traps N`: spawns `trap` N times; each must trap.
//! - `flood N`: fills a channel until it refuses more (EAGAIN), N times over, closing it
//!   full each time.
//! - `recurse`: recurses without end (the process traps: call stack exhausted).
//! - `hogs N SECS`: spawns N endless `cpu-burn`s, and for SECS seconds sleeps 200 ms at a time,
//!   measuring how late each sleep wakes; then times a spawn and run of `hello`, kills the
//!   hogs (each must still have been running) and prints `stress hogs: ... max-late-ms X
//!   hello-ms Y`.

use std::process::ExitCode;

use atoll::{Channel, Exit, Process, SpawnOptions};

/// `(module (table 10000000 funcref) (func (export "_start") (loop (br 0))))` in the image.
const TABLE_BIG: &str = "/etc/tests/table-big.wasm";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |default: u32| args.get(1).and_then(|a| a.parse().ok()).unwrap_or(default);
    let r = match args.first().map(String::as_str) {
        Some("tables") => tables(n(16)),
        Some("spawns") => spawns(n(100)),
        Some("traps") => traps(n(100)),
        Some("flood") => flood(n(100)),
        Some("hogs") => hogs(n(8), args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10)),
        Some("recurse") => {
            println!("stress recurse: depth {}", recurse(0));
            Err("recursion ended without a trap".into())
        }
        _ => Err("usage: stress tables|spawns|traps|flood|recurse|hogs [N] [SECS]".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stress: {e}");
            ExitCode::FAILURE
        }
    }
}

fn spawn(path: &str) -> atoll::Result<Process> {
    Process::spawn(SpawnOptions::new(path).stdio_null(true))
}

fn tables(max: u32) -> Result<(), String> {
    let mut procs = Vec::new();
    let mut refused = None;
    for _ in 0..max {
        match spawn(TABLE_BIG) {
            Ok(p) => procs.push(p),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    println!(
        "stress tables: {} processes with 80 MB tables started, then {}",
        procs.len(),
        refused.map_or("none refused".to_string(), |e| format!("refused: {e}"))
    );
    for p in &procs {
        p.kill().map_err(|e| format!("kill: {e}"))?;
    }
    for p in &procs {
        let s = p.wait().map_err(|e| format!("wait: {e}"))?;
        if s.exit != Exit::Killed {
            return Err(format!("a table process {s}"));
        }
    }
    if refused.is_none() {
        return Err(format!("{max} processes of 80 MB tables all started"));
    }
    let s = spawn("/bin/hello.wasm")
        .and_then(|p| p.wait())
        .map_err(|e| format!("hello after the tables: {e}"))?;
    println!("stress tables: all killed; hello afterwards {s}");
    if s.success() {
        Ok(())
    } else {
        Err(format!("hello {s}"))
    }
}

fn spawns(n: u32) -> Result<(), String> {
    for i in 0..n {
        let s = spawn("/bin/hello.wasm")
            .and_then(|p| p.wait())
            .map_err(|e| format!("spawn {i}: {e}"))?;
        if !s.success() {
            return Err(format!("spawn {i}: hello {s}"));
        }
    }
    println!("stress spawns: {n} spawn/exit cycles");
    Ok(())
}

fn traps(n: u32) -> Result<(), String> {
    for i in 0..n {
        let s = spawn("/bin/trap.wasm")
            .and_then(|p| p.wait())
            .map_err(|e| format!("trap {i}: {e}"))?;
        if !matches!(s.exit, Exit::Trapped(_)) {
            return Err(format!("trap {i}: {s}"));
        }
    }
    println!("stress traps: {n} processes trapped");
    Ok(())
}

fn flood(n: u32) -> Result<(), String> {
    let msg = vec![0x5a; 60 << 10];
    let mut queued = 0;
    for _ in 0..n {
        let (a, b) = Channel::create().map_err(|e| format!("channel: {e}"))?;
        loop {
            match a.try_send(&msg) {
                Ok(()) => queued += 1,
                Err(atoll::Error::WouldBlock) => break,
                Err(e) => return Err(format!("send: {e}")),
            }
        }
        drop(b);
        drop(a);
    }
    println!(
        "stress flood: {n} channels filled until refused ({queued} messages of 60 KiB queued)"
    );
    Ok(())
}

/// Recurses until the call stack is exhausted (the trap is what the test wants).
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let pad = std::hint::black_box([depth; 16]);
    recurse(depth + 1) + pad[(depth % 16) as usize]
}

fn hogs(n: u32, secs: u64) -> Result<(), String> {
    let mut procs = Vec::new();
    for i in 0..n {
        let p = Process::spawn(
            SpawnOptions::new("/bin/cpu-burn.wasm")
                .args(["1000000", "1000000", &format!("hog{i}")])
                .stdio_null(true),
        )
        .map_err(|e| format!("spawning hog {i}: {e}"))?;
        procs.push(p);
    }
    let start = std::time::Instant::now();
    let mut late = Vec::new();
    while start.elapsed().as_secs() < secs {
        let t = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(200));
        late.push(t.elapsed().as_millis() as u64 - 200);
    }
    let t = std::time::Instant::now();
    let s = spawn("/bin/hello.wasm")
        .and_then(|p| p.wait())
        .map_err(|e| format!("hello under the hogs: {e}"))?;
    let hello_ms = t.elapsed().as_millis();
    if !s.success() {
        return Err(format!("hello under the hogs {s}"));
    }
    for p in &procs {
        if p.try_wait()
            .map_err(|e| format!("try_wait: {e}"))?
            .is_some()
        {
            return Err("a hog ended by itself".into());
        }
        p.kill().map_err(|e| format!("kill: {e}"))?;
    }
    for p in &procs {
        let s = p.wait().map_err(|e| format!("wait: {e}"))?;
        if s.exit != Exit::Killed {
            return Err(format!("a hog {s}"));
        }
    }
    let max = late.iter().copied().max().unwrap_or(0);
    let mean = late.iter().sum::<u64>() / late.len().max(1) as u64;
    println!(
        "stress hogs: {n} CPU hogs for {secs} s, {} sleeps of 200 ms woke late by mean {mean} ms, max-late-ms {max} hello-ms {hello_ms}; all killed",
        late.len()
    );
    Ok(())
}
