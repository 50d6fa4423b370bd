//! share-io: throughput of a directory, usually a host share: `share-io DIR [MIB]` writes
//! `DIR/share-io.bin` (MIB mebibytes, default 256) in 1 MiB writes, syncs it, reads it back
//! in 1 MiB reads checking every byte, removes it, and prints one line:
//! `share-io: N MiB write W MiB/s read R MiB/s`. Exit code 1 on any error or mismatch.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::time::Instant;

const CHUNK: usize = 1 << 20;

/// The byte at `offset`: a pattern that differs between chunks and within them.
fn pattern(offset: u64) -> u8 {
    (offset ^ (offset >> 20).wrapping_mul(31)) as u8
}

fn fill(buf: &mut [u8], chunk: u64) {
    let base = chunk * CHUNK as u64;
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern(base + i as u64);
    }
}

fn run(dir: &str, mib: u64) -> Result<(f64, f64), String> {
    let path = format!("{dir}/share-io.bin");
    let err = |what: &str, e: std::io::Error| format!("{what} {path}: {e}");
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| err("creating", e))?;
    for chunk in 0..mib {
        fill(&mut buf, chunk);
        f.write_all(&buf).map_err(|e| err("writing", e))?;
    }
    f.sync_all().map_err(|e| err("syncing", e))?;
    drop(f);
    let write = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut f = File::open(&path).map_err(|e| err("opening", e))?;
    let mut want = vec![0u8; CHUNK];
    for chunk in 0..mib {
        f.read_exact(&mut buf).map_err(|e| err("reading", e))?;
        fill(&mut want, chunk);
        if buf != want {
            return Err(format!("{path}: MiB {chunk} reads back different bytes"));
        }
    }
    let mut rest = [0u8; 1];
    if f.read(&mut rest).map_err(|e| err("reading", e))? != 0 {
        return Err(format!("{path}: longer than {mib} MiB"));
    }
    let read = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path).map_err(|e| err("removing", e))?;
    Ok((mib as f64 / write, mib as f64 / read))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: share-io DIR [MIB]");
        std::process::exit(2);
    };
    let mib = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 256,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("share-io: MIB must be a positive number");
            std::process::exit(2);
        }
    };
    match run(dir, mib) {
        Ok((w, r)) => println!("share-io: {mib} MiB write {w:.1} MiB/s read {r:.1} MiB/s"),
        Err(e) => {
            eprintln!("share-io: {e}");
            std::process::exit(1);
        }
    }
}
