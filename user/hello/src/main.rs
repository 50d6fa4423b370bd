//! The first atoll program: greets, then prints its arguments and environment.
//! `hello --exit N` exits with status N after printing.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let name = args.first().map(String::as_str).unwrap_or("?");
    println!("Hello from atoll! I am {name}.");
    for (i, arg) in args.iter().enumerate().skip(1) {
        println!("arg[{i}] = {arg}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (key, value) in &vars {
        println!("env {key}={value}");
    }
    match args.iter().position(|a| a == "--exit") {
        Some(i) => {
            let code = args
                .get(i + 1)
                .and_then(|c| c.parse::<u8>().ok())
                .unwrap_or(1);
            eprintln!("exiting with status {code}");
            ExitCode::from(code)
        }
        None => ExitCode::SUCCESS,
    }
}
