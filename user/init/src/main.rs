//! atoll's init, pid 1 (user/ABI.md, "Boot and init").
//!
//! The kernel starts it with the console, the preopens `/` and `/tmp`, and
//! `argv = ["init", <boot args>...]`. With `exec=...` it runs that one
//! program and powers off with its exit code (`atoll::Status::code`: 1 when a
//! host function failed, as `wasmtime run` exits on a WASI call that refuses
//! its arguments, 134 for another trap, 137 for a kill); otherwise it runs
//! `/bin/shell.wasm`, again whenever it ends.

mod bootargs;

use std::time::Duration;

use atoll::{Exit, Process, SpawnOptions};
use bootargs::ExecRequest;

const SHELL: &str = "/bin/shell.wasm";

/// Exit codes when the program cannot start (as shells use them).
const NOT_FOUND: u32 = 127;
const CANNOT_RUN: u32 = 126;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(file) = bootargs::exec_file(&args) {
        match std::fs::read_to_string(file) {
            Ok(text) => args.extend(text.split_whitespace().map(String::from)),
            Err(e) => {
                eprintln!("init: cannot read {file}: {e}");
                power_off(2);
            }
        }
    }
    match bootargs::parse(&args) {
        Ok(requests) if requests.is_empty() => shell_loop(),
        Ok(requests) => {
            // A session of runs (`just exec` asks for one), each marked on the host link.
            let mut code = 0;
            for (i, request) in requests.iter().enumerate() {
                let _ = atoll::exec_begin(i as u32);
                code = exec(request);
                let _ = atoll::exec_end(code);
            }
            power_off(code);
        }
        Err(e) => {
            eprintln!("init: bad boot arguments: {e}");
            power_off(2);
        }
    }
}

fn power_off(code: u32) -> ! {
    let e = atoll::shutdown(code);
    eprintln!("init: shutdown({code}) failed: {e}");
    // pid 1 must not end; nothing else is left to do.
    loop {
        let _ = atoll::sleep(Duration::from_secs(3600));
    }
}

/// Runs the `exec=` program to its end and returns init's exit code.
fn exec(request: &ExecRequest) -> u32 {
    let path = &request.argv[0];
    let mut options = SpawnOptions::new(path.as_str()).args(request.argv[1..].iter().cloned());
    if let Some(name) = &request.argv0 {
        options = options.argv0(name.as_str());
    }
    for e in &request.env {
        options = options.env_entry(e.as_str());
    }
    for d in &request.dirs {
        options = options.preopen(d.as_str());
    }
    if let Some(name) = &request.invoke {
        options = options.invoke(name.as_str());
    }
    let child = match Process::spawn(options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("init: cannot run {path}: {e}");
            return match e {
                atoll::Error::NotFound => NOT_FOUND,
                _ => CANNOT_RUN,
            };
        }
    };
    if let Some(pid) = child.pid() {
        // Ctrl-C on the console ends the program (and so the run).
        let _ = atoll::set_foreground(pid);
    }
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("init: waiting for {path}: {e}");
            return CANNOT_RUN;
        }
    };
    let _ = atoll::set_foreground(0);
    report(path, &child, status.exit);
    status.code()
}

/// Prints how a program ended abnormally, laid out as `wasmtime run` reports
/// it (`Error: failed to run main module ...`, then the cause): a trap or a
/// failed host call with its message, or a kill.
fn report(path: &str, child: &Process, exit: Exit) {
    match exit {
        Exit::Exited(_) => {}
        Exit::Trapped(trap) => {
            let message = match child.trap_message() {
                Ok(text) => text.trim_end().to_string(),
                Err(e) => format!("(no trap message: {e})"),
            };
            eprintln!(
                "Error: failed to run main module `{path}`\n\nCaused by:\n    0: {trap}\n    1: {message}"
            );
        }
        Exit::Killed => eprintln!("{path}: killed"),
    }
}

/// Runs the shell forever, restarting it when it ends.
fn shell_loop() -> ! {
    // `just run` mounts a host directory at /home (else it is the initrd's empty /home); an
    // image without one starts the shell without it.
    let mut home = true;
    loop {
        let mut shell = SpawnOptions::new(SHELL)
            .argv0("shell")
            .preopen("/")
            .preopen("/tmp");
        if home {
            shell = shell.preopen("/home");
        }
        match Process::spawn(shell) {
            Ok(child) => match child.wait() {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    report(SHELL, &child, status.exit);
                    eprintln!("init: the shell {status}; starting it again");
                }
                Err(e) => eprintln!("init: waiting for the shell: {e}"),
            },
            Err(atoll::Error::NotFound) if home => home = false,
            Err(e) => {
                eprintln!("init: cannot start {SHELL}: {e}; retrying in 1 s");
                let _ = atoll::sleep(Duration::from_secs(1));
            }
        }
    }
}
