//! `big-module FILE.wat`: prints the size of the binary module. Built for
//! wasm32-wasip1 only to be compiled by the benchmarks (the `wat` parser
//! makes a module of about a megabyte).
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: big-module FILE.wat");
        return ExitCode::from(2);
    };
    match wat::parse_file(&path) {
        Ok(bytes) => {
            println!("{} bytes", bytes.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
