//! `wasi-run [--dir HOST::GUEST[::readonly]]... [--env K=V]... [--] PROG.wasm [ARGS...]`: runs a
//! wasm32-wasip1 program on the host as `wasmtime run` does, through atoll's own code: the
//! engine (`wasm-engine`, Linux platform), the WASI layer (`wasi-p1`) and, for each `--dir`, the
//! kernel's 9P client (`ninep::NinepFs`) over an in-process `ninep::server` on that directory.
//! The program gets this process's stdin, stdout and stderr (a terminal exactly when the real
//! fd is one), the host's clocks, randomness from the OS, exactly the `--env` environment, and
//! argv[0] = the module's file name.
//!
//! The exit code is the one atoll's init gives (`user/init`, `atoll::Status::code`): returning
//! from `_start` is 0 and `proc_exit(n)` is n; a Wasm trap (or running out of memory) is 134;
//! a WASI host error (a pointer outside memory, a value outside a witx type, `proc_exit(n)` with
//! n >= 126: the kernel's trap code `HOST`) is 1, as in wasmtime; a program that cannot be read
//! is 127 and one that cannot be compiled, linked or started is 126. Errors go to stderr as
//! `Error: ...`. A malformed command line is exit code 2.

mod console;
mod options;
mod preopens;

use std::process::ExitCode;

use wasi_p1::std_host::{HostClock, OsRandom};
use wasi_p1::{WasiCtx, exit_status};
use wasm_engine::{Engine, Error, Linker, Module, Store};

use options::{Options, USAGE};

/// The program could not be read (init's "not found").
const NOT_FOUND: u8 = 127;
/// The program could not be compiled, linked or started (init's "cannot run").
const CANNOT_RUN: u8 = 126;
/// A Wasm trap (init: 128 + SIGABRT).
const TRAPPED: u8 = 134;
/// A host function failed (wasmtime's and init's exit code for a host error).
const HOST_ERROR: u8 = 1;

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let parsed = args
        .map_err(|a| format!("an argument is not UTF-8: {a:?}"))
        .and_then(|a| options::parse(&a));
    match parsed {
        Ok(opts) => ExitCode::from(run(&opts)),
        Err(e) => {
            eprintln!("wasi-run: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// What the store holds: the process's WASI state.
struct Proc {
    wasi: WasiCtx,
}

/// Runs the program to its end; returns the exit code.
fn run(opts: &Options) -> u8 {
    let prog = opts.program.display();
    let bytes = match std::fs::read(&opts.program) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("Error: failed to read input file: {prog}\n\nCaused by:\n    {e}");
            return NOT_FOUND;
        }
    };
    let cannot_run = |what: &str, e: &dyn std::fmt::Display| {
        eprintln!("Error: failed to run main module `{prog}`\n\nCaused by:\n    {what}: {e}");
        CANNOT_RUN
    };
    let wasi = match build_ctx(opts) {
        Ok(w) => w,
        Err(e) => return cannot_run("preparing WASI", &e),
    };
    let engine = Engine::default();
    let module = match Module::new(&engine, &bytes) {
        Ok(m) => m,
        Err(e) => return cannot_run("compiling", &e),
    };
    let mut store = Store::new(&engine, Proc { wasi });
    let mut linker = Linker::new(&engine);
    if let Err(e) = wasi_p1::add_to_linker(&mut linker, |p: &mut Proc| &mut p.wasi) {
        return cannot_run("defining WASI", &e);
    }
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return cannot_run("instantiating", &e),
    };
    let start = match instance.get_typed_func::<(), ()>(&mut store, "_start") {
        Ok(f) => f,
        Err(e) => return cannot_run("no `_start` function", &e),
    };
    let result = start.call(&mut store, ());
    let (code, message) = exit_code(result, store.data().wasi.exit_code());
    if let Some(m) = message {
        eprintln!(
            "Error: failed to run main module `{prog}`\n\nCaused by:\n    0: failed to invoke \
             command default\n    1: {m}"
        );
    }
    code
}

/// The WASI context: the real stdio, host clocks, OS randomness, the arguments, the
/// environment and the preopens.
fn build_ctx(opts: &Options) -> Result<WasiCtx, String> {
    let console = console::StdioConsole::new().map_err(|e| format!("stdio: {e}"))?;
    let clock = HostClock::new();
    let mut b = WasiCtx::builder(
        Box::new(console),
        Box::new(clock),
        Box::new(OsRandom::new()),
        Box::new(clock.scheduler()),
    )
    .arg(&opts.argv0())
    .args(opts.args.iter().map(String::as_str));
    for (k, v) in &opts.env {
        b = b.env(k, v);
    }
    for (fs, d) in preopens::mount_all(&opts.dirs)?.into_iter().zip(&opts.dirs) {
        b = b.preopen_dir(fs, &d.guest);
    }
    Ok(b.build())
}

/// The exit code of a run that ended with `result` (and `proc_exit`'s code, if it was called),
/// and the error to report, as the kernel classifies the end and init turns it into a code.
fn exit_code(result: Result<(), Error>, exit: Option<u32>) -> (u8, Option<String>) {
    if let Some(code) = exit {
        return (code as u8, None);
    }
    match result {
        Ok(()) => (0, None),
        Err(e) => {
            if let Some(code) = exit_status(&e) {
                return (code as u8, None);
            }
            let code = match &e {
                Error::Trap(_)
                | Error::Interrupted
                | Error::OutOfFuel
                | Error::ResourceLimit(_)
                | Error::Platform(_) => TRAPPED,
                _ => HOST_ERROR,
            };
            (code, Some(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_engine::{Trap, TrapCode};

    #[test]
    fn returning_is_0_and_proc_exit_gives_its_code() {
        assert_eq!(exit_code(Ok(()), None), (0, None));
        let exited = Err(Error::Host(format!("{}7", wasi_p1::PROC_EXIT_PREFIX)));
        assert_eq!(exit_code(exited, Some(7)).0, 7);
    }

    #[test]
    fn a_wasm_trap_is_134_and_a_host_error_is_1() {
        let trap = Error::Trap(Trap {
            code: TrapCode::Unreachable,
            backtrace: Vec::new(),
        });
        assert_eq!(exit_code(Err(trap), None).0, TRAPPED);
        let host = Error::Host("fd_seek: invalid enum value whence".into());
        let (code, message) = exit_code(Err(host), None);
        assert_eq!(code, HOST_ERROR);
        assert!(message.unwrap().contains("whence"));
    }
}
