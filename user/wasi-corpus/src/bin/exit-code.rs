//! `exit-code MODE [N]`: ends in the way MODE names, after a line on stdout and stderr.
//! `exit N` (`std::process::exit`), `return N` (main returns `ExitCode::from(N)`),
//! `proc-exit N` (the raw call), `err` (main returns `Err`), `panic`, `abort`, `unreachable`,
//! `unflushed N` (`print!` without a newline, then `exit`: std does not flush it),
//! `flushed N` (the same with a flush first).

use std::io::Write;
use std::process::ExitCode;

fn main() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("return", String::as_str);
    let n: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    println!("mode {mode} {n}");
    eprintln!("to stderr before exiting");
    match mode {
        "exit" => std::process::exit(n as i32),
        "return" => Ok(ExitCode::from(n as u8)),
        "proc-exit" => corpus::sys::proc_exit(n as u32),
        "err" => Err(format!("main returned an error ({n})")),
        "panic" => panic!("panicking on purpose ({n})"),
        "abort" => std::process::abort(),
        "unreachable" => core::arch::wasm32::unreachable(),
        "unflushed" | "flushed" => {
            print!("partial line ");
            if mode == "flushed" {
                let _ = std::io::stdout().flush();
            }
            std::process::exit(n as i32)
        }
        other => Err(format!("unknown mode {other}")),
    }
}
