//! The `user` test stage: boots atoll with the userland initrd and runs the
//! programs under `user/` the way `just exec` does (init's `exec=` boot
//! argument), checking their output and exit codes. One QEMU boot per case.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::build::{self, Flavor};
use crate::config::{Arch, Config};
use crate::exec::{self, Io, Request};
use crate::qemu::{Launch, Serial};
use crate::userland::{self, Userland};

const TIMEOUT: Duration = Duration::from_secs(240);

/// A check on a run's output lines.
pub(crate) type Check = fn(&[String]) -> Result<(), String>;

/// One boot: what to run and what must come out.
pub(crate) struct Case {
    pub name: &'static str,
    pub request: Request,
    pub code: u32,
    /// Each must be (a substring of) some output line, in this order.
    pub lines: Vec<&'static str>,
    /// Further checks on the output.
    pub check: Option<Check>,
}

pub(crate) fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A program from `user/target/wasm`, packed as `/run/<name>.wasm` like `just exec` does.
pub(crate) fn packed(userland: &Userland, name: &str, args: &[&str]) -> Result<Request, String> {
    let module = userland
        .programs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, bytes)| bytes.clone())
        .ok_or_else(|| format!("user/build.sh did not build {name}"))?;
    Ok(Request {
        module,
        name: name.into(),
        args: strings(args),
        ..Request::default()
    })
}

/// A program already in the image's `/bin`, with `/` and `/tmp` preopened.
pub(crate) fn installed(name: &str, args: &[&str]) -> Request {
    Request {
        name: format!("/bin/{name}.wasm"),
        args: strings(args),
        guest_dirs: strings(&["/", "/tmp"]),
        ..Request::default()
    }
}

fn cases(root: &Path, userland: &Userland) -> Result<Vec<Case>, String> {
    let mut hello = packed(userland, "hello", &["one", "two words", "a,b%c"])?;
    hello.env = strings(&["GREETING=hi there", "K=V"]);

    let host_dir = crate::util::target_dir(root).join("user-test-dir");
    std::fs::create_dir_all(host_dir.join("sub"))
        .map_err(|e| format!("creating {}: {e}", host_dir.display()))?;
    std::fs::write(host_dir.join("greeting.txt"), "hello from the host\n")
        .and_then(|()| std::fs::write(host_dir.join("sub/deep.txt"), "deep\n"))
        .map_err(|e| format!("writing into {}: {e}", host_dir.display()))?;
    let mut dir = packed(
        userland,
        "shell",
        &["-c", "cat /data/greeting.txt /data/sub/deep.txt; ls /data"],
    )?;
    dir.dirs = vec![exec::Share {
        host: host_dir,
        guest: "/data".into(),
        read_only: false,
    }];

    let mut conformance = installed("wasi-conformance", &["a", "b"]);
    conformance.env = strings(&["ATOLL_TEST=1"]);

    let mut cases = vec![
        Case {
            name: "hello: args and env through exec=",
            request: hello,
            code: 0,
            lines: vec![
                "Hello from atoll! I am /run/hello.wasm.",
                "arg[1] = one",
                "arg[2] = two words",
                "arg[3] = a,b%c",
                "env GREETING=hi there",
                "env K=V",
            ],
            check: None,
        },
        Case {
            name: "hello --exit 3: the exit code passes through",
            request: packed(userland, "hello", &["--exit", "3"])?,
            code: 3,
            lines: vec!["exiting with status 3"],
            check: None,
        },
        Case {
            name: "hello-c (wasi-libc)",
            request: Request {
                guest_dirs: strings(&["/tmp"]),
                ..packed(userland, "hello-c", &["x"])?
            },
            code: 0,
            lines: vec![
                "Hello from C on atoll! I am /run/hello-c.wasm, argc=2.",
                "arg[1] = x",
                "read back from /tmp: written by hello-c",
                "monotonic clock ok",
            ],
            check: None,
        },
        Case {
            name: "trap: code 134 and a backtrace naming the function",
            request: packed(userland, "trap", &[])?,
            code: 134,
            lines: vec![
                "about to execute `unreachable`",
                "Error: failed to run main module `/run/trap.wasm`",
                "wasm trap: unreachable",
            ],
            check: Some(|out| {
                // The frame names `trap::main`, mangled (`_ZN4trap4main17h...E`) or not.
                if out
                    .iter()
                    .any(|l| l.contains("trap::main") || l.contains("4trap4main"))
                {
                    Ok(())
                } else {
                    Err("no backtrace frame names trap::main".into())
                }
            }),
        },
        Case {
            name: "--dir: a host directory preopened as /data",
            request: dir,
            code: 0,
            lines: vec!["hello from the host", "deep", "greeting.txt", "sub/"],
            check: None,
        },
        Case {
            name: "wasi-conformance",
            request: conformance,
            code: 0,
            lines: vec![" passed, 0 failed"],
            check: None,
        },
        Case {
            name: "shell script: builtins, ping/pong, isolation, trap and OOM survived, kill",
            request: installed("shell", &["/etc/tests/system.sh"]),
            code: 0,
            lines: vec![
                "system test starting",
                "hello.wasm",
                "line two",
                "written by the shell",
                "hello: exit code 5",
                "ping: sent `ping 3`, got `pong 3`",
                "pong: peer closed after 3 messages",
                "ping: 3 round trips, pong exited cleanly",
                "isolation: all checks passed",
                "trap: trapped: unreachable executed",
                "oom: trapped",
                "Hello from atoll! I am hello.",
                "arg[1] = after-oom",
                "PID  PPID STATE",
                "cpu-burn: killed",
                "arg[1] = timed",
                "real ",
                "system test done",
            ],
            check: None,
        },
    ];
    cases.extend(invoke_cases());
    cases.extend(wasm3_cases());
    // Two CPU-bound programs must both make progress. On one hart (riscv64's
    // single config, see `run`) that takes preemption.
    cases.push(Case {
        name: "preemption: two cpu-burns both progress",
        request: installed(
            "shell",
            &["-c", "cpu-burn 6 3000000 A & cpu-burn 6 3000000 B & wait"],
        ),
        code: 0,
        // Both finish, in either order (on several harts B may end first).
        lines: vec![],
        check: Some(interleaved),
    });
    Ok(cases)
}

/// A reactor: `_initialize` (which prints `reactor initialized`) and exports, no `_start`.
const REACTOR: &str = include_str!("../../../libs/engine/wasm-engine/examples/guests/reactor.wat");

/// `just exec reactor.wasm --invoke scale ARGS...`, as a request.
fn invoke_request(args: &[&str]) -> Request {
    Request {
        module: wat::parse_str(REACTOR).expect("the reactor is valid text"),
        name: "reactor".into(),
        args: strings(args),
        argv0: Some("reactor.wasm".into()),
        invoke: Some("scale".into()),
        ..Request::default()
    }
}

/// `--invoke`: a reactor is initialized and serves the call; a bad argument is an error.
fn invoke_cases() -> Vec<Case> {
    vec![
        Case {
            name: "a reactor without --invoke runs its _initialize and exits 0, as under wasmtime",
            request: Request {
                invoke: None,
                ..invoke_request(&[])
            },
            code: 0,
            lines: vec!["reactor initialized"],
            check: None,
        },
        Case {
            name: "--invoke: a reactor's _initialize, then an export with typed arguments",
            request: invoke_request(&["7", "-2.5"]),
            code: 0,
            lines: vec!["reactor initialized", "-17.5", "8"],
            check: None,
        },
        Case {
            name: "--invoke: an argument that is not of its parameter's type",
            request: invoke_request(&["seven", "1"]),
            code: 1,
            lines: vec!["argument 1 of `scale`: `seven` is not an i32"],
            check: None,
        },
    ]
}

/// A Wasm 3.0 program of `user/wasm3/`, as `just exec` sends it.
fn wasm3_request(name: &str, text: &str) -> Request {
    Request {
        module: wat::parse_str(text).expect("user/wasm3 programs are valid text"),
        name: name.into(),
        ..Request::default()
    }
}

/// Programs using Wasm 3.0 features, written as text (see `user/README.md`): the
/// same output and exit code as under wasmtime 51.
fn wasm3_cases() -> Vec<Case> {
    vec![
        Case {
            name: "exception handling: a payload caught two calls up, a rethrown exnref caught again, and an uncaught exception ends the run like a trap",
            request: wasm3_request(
                "exceptions",
                include_str!("../../../user/wasm3/exceptions.wat"),
            ),
            code: 134,
            lines: vec![
                "caught oops 42",
                "rethrown and caught again",
                "about to throw past main",
                "thrown Wasm exception",
            ],
            check: None,
        },
        Case {
            name: "memory64: an i64 memory grows, is written and read past 64 KiB, and traps out of bounds",
            request: wasm3_request("memory64", include_str!("../../../user/wasm3/memory64.wat")),
            code: 134,
            lines: vec![
                "memory64: grown from 1 to 3 pages",
                "memory64: read back 0x0123456789abcdef at 0x1fff8",
                "memory64: 2^40 is out of bounds (trap)",
                "out of bounds memory access",
            ],
            check: None,
        },
        Case {
            name: "multi-memory: text copied from a second memory into the one WASI reads",
            request: wasm3_request(
                "multi-memory",
                include_str!("../../../user/wasm3/multi-memory.wat"),
            ),
            code: 0,
            lines: vec!["multi-memory: copied from memory 1"],
            check: None,
        },
    ]
}

/// A and B both ran all 6 rounds, and each printed a round before the
/// other finished.
fn interleaved(out: &[String]) -> Result<(), String> {
    for tag in ["A", "B"] {
        let last = format!("cpu-burn {tag}: round 6/6");
        if !out.iter().any(|l| l.contains(&last)) {
            return Err(format!("missing output line `{last}`"));
        }
    }
    let pos = |tag: &str, last: bool| {
        let mut it = out
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(&format!("cpu-burn {tag}: round")));
        if last { it.next_back() } else { it.next() }.map(|(i, _)| i)
    };
    match (
        pos("A", false),
        pos("A", true),
        pos("B", false),
        pos("B", true),
    ) {
        (Some(a0), Some(a1), Some(b0), Some(b1)) if a0 < b1 && b0 < a1 => Ok(()),
        _ => Err("the two cpu-burns did not interleave (one ran to its end first)".into()),
    }
}

/// Checks one run's output: every expected line in order, then the extra check.
fn verify(case: &Case, outcome: &exec::Outcome) -> Result<(), String> {
    if outcome.timed_out {
        return Err(format!("timed out after {} s", TIMEOUT.as_secs()));
    }
    let lines = outcome.lines();
    let mut from = 0;
    for want in &case.lines {
        match lines[from..].iter().position(|l| l.contains(want)) {
            Some(i) => from += i + 1,
            None => return Err(format!("missing (in order) output line `{want}`")),
        }
    }
    match outcome.code {
        Some(code) if code == case.code => {}
        Some(code) => return Err(format!("exit code {code}, expected {}", case.code)),
        None => return Err("no exit code (atoll stopped before the program ended)".into()),
    }
    case.check.map_or(Ok(()), |check| check(&lines))
}

/// Booting as `just run` does (no `exec=`): init starts the shell, which
/// runs what is typed; `exit` ends the shell and init starts it again.
/// Each step waits for a console line containing its first string, then
/// types the second.
const INTERACTIVE: [(&str, &str); 4] = [
    ("Welcome to atoll", "hello typed at the console\n"),
    ("arg[4] = console", "ps\n"),
    ("PID  PPID STATE", "exit\n"),
    ("Welcome to atoll", ""),
];

/// With `aot=off`: the shell comes up.
const JIT_BOOT: [(&str, &str); 1] = [("Welcome to atoll", "")];

/// The runtime-only kernel with `aot=off`: init cannot start, and the kernel says why
/// before its own shell comes up.
const NO_COMPILER_BOOT: [(&str, &str); 2] = [
    ("this engine has no compiler", ""),
    ("type `help` for commands", ""),
];

/// The runtime-only kernel's configuration (see `configs/`), booted on riscv64 runs.
const RUNTIME_ONLY: &str = "qemu-riscv64-runtime";

/// What the kernel logs (at warning level) when it cannot use a precompiled module.
const AOT_FALLBACK: &str = "compiling the module instead";

/// Booting with the precompiled initrd and `extra` boot arguments, `script` is typed at
/// the console; with `aot`, every module must have come from its artifact (no
/// fallback to the JIT was logged).
fn interactive(
    root: &Path,
    config: &Config,
    userland: &Userland,
    extra: &str,
    script: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    let args = format!("{} {extra}", config.test.args).trim().to_string();
    let image = userland.initrd(&crate::aot::Target::of(config));
    let artifacts = build::build(root, config, Flavor::Normal, false, &args, Some(&image))?;
    let launch = Launch {
        config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdio,
        devices: Vec::new(),
    };
    let (lines, result) = type_at_console(&launch, script, TIMEOUT)?;
    for l in &lines {
        println!("{l}");
    }
    result?;
    match lines.iter().find(|l| l.contains(AOT_FALLBACK)) {
        Some(l) if extra.is_empty() => Err(format!("a precompiled module was not used: {l}")),
        _ => Ok(lines),
    }
}

/// What is typed at the kernel's own shell (init could not start): pasted
/// lines, Ctrl-U erasing a line, Ctrl-C cancelling one.
const KERNEL_SHELL: [(&str, &str); 5] = [
    ("type `help` for commands", "echo p1\necho p2\n"),
    ("p2", "echo left\x15echo right\n"),
    ("right", "partial\x03"),
    ("^C", "echo after\n"),
    ("after", ""),
];

/// A console line without the prompts in front of it (typed-ahead input is
/// echoed before the shell prints its prompt and the output after it).
fn without_prompts(line: &str) -> &str {
    let mut l = line.trim();
    while let Some(rest) = l.strip_prefix("atoll> ") {
        l = rest.trim_start();
    }
    l
}

/// Boots with an init that is not a Wasm module, so the kernel starts its
/// own shell, and checks that it reads lines through the line discipline.
fn kernel_shell(root: &Path, config: &Config, userland: &Userland) -> Result<(), String> {
    let mut programs = userland.programs.clone();
    for (name, bytes) in &mut programs {
        if name == "init" {
            *bytes = b"not a wasm module".to_vec();
        }
    }
    let broken = Userland {
        programs,
        files: userland.files.clone(),
    };
    let args = config.test.args.clone();
    let image = broken.initrd(&crate::aot::Target::of(config));
    let artifacts = build::build(root, config, Flavor::Normal, false, &args, Some(&image))?;
    let launch = Launch {
        config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdio,
        devices: Vec::new(),
    };
    let (lines, result) = type_at_console(&launch, &KERNEL_SHELL, TIMEOUT)?;
    let outputs: Vec<&str> = lines.iter().map(|l| without_prompts(l)).collect();
    let check = result.and_then(|()| {
        // Input that arrives while a command runs is echoed at once, as a tty does, so
        // the second pasted line's echo may come before the first one's output
        // (`echo p2p1`): an output may end a line instead of being one.
        for want in ["p1", "p2", "right", "after"] {
            if !outputs.iter().any(|l| l.ends_with(want)) {
                return Err(format!("no output line `{want}`"));
            }
        }
        match outputs
            .iter()
            .find(|l| l.contains("left") && !l.contains('\x08'))
        {
            Some(l) => Err(format!("Ctrl-U did not erase the line: `{l}`")),
            None if outputs.contains(&"partial") => Err("Ctrl-C did not cancel `partial`".into()),
            None => Ok(()),
        }
    });
    if check.is_err() {
        for l in &lines {
            println!("{l}");
        }
    }
    check
}

/// Boots `launch` with its console on pipes and follows `steps`: for each,
/// waits for a console line containing its first string, then (half a
/// second later, so the shell reaches its prompt) types the second. Returns
/// every console line read and whether all steps ran within `timeout`.
pub fn type_at_console(
    launch: &Launch<'_>,
    steps: &[(&str, &str)],
    timeout: Duration,
) -> Result<(Vec<String>, Result<(), String>), String> {
    let mut cmd = launch.command()?;
    eprintln!("+ {}", crate::util::describe(&cmd));
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", launch.config.qemu.binary))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let rx = crate::qemu::console_lines(stdout, false);
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut result = Ok(());
    'steps: for (wait_for, send) in steps {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(wait_for);
                    lines.push(line);
                    if hit {
                        break;
                    }
                }
                Err(_) => {
                    result = Err(format!("never saw `{wait_for}`"));
                    break 'steps;
                }
            }
        }
        // Let the shell reach its prompt before typing.
        std::thread::sleep(Duration::from_millis(500));
        if !send.is_empty()
            && stdin
                .write_all(send.as_bytes())
                .and_then(|()| stdin.flush())
                .is_err()
        {
            result = Err("QEMU closed its input".into());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines.extend(rx.try_iter());
    Ok((lines, result))
}

/// Runs every case on each configuration; returns (passed, failed).
pub fn run(root: &Path, configs: &[String]) -> Result<(u64, u64), String> {
    let userland = userland::build(root)?;
    let (mut passed, mut failed) = (0, 0);
    for name in configs {
        let config = Config::load(root, name)?;
        // Runs one boot case, timed, and counts it.
        let mut report = |what: &str, case: &dyn Fn() -> Result<(), String>| {
            let start = Instant::now();
            match case() {
                Ok(()) => {
                    passed += 1;
                    let secs = start.elapsed().as_secs_f64();
                    println!("user {} {what} ... ok ({secs:.1} s)", config.name);
                }
                Err(e) => {
                    failed += 1;
                    println!("user {} {what} ... FAILED: {e}", config.name);
                }
            }
        };
        report(
            "boot to the shell from precompiled modules, run typed commands, restart the shell",
            &|| interactive(root, &config, &userland, "", &INTERACTIVE).map(drop),
        );
        report(
            "boot to the shell with aot=off (every module JIT-compiled)",
            &|| interactive(root, &config, &userland, "aot=off", &JIT_BOOT).map(drop),
        );
        if config.arch == Arch::Riscv64 {
            let runtime = Config::load(root, RUNTIME_ONLY)?;
            report(
                "the runtime-only kernel (no Cranelift, 64 MiB) boots to the shell and runs typed commands",
                &|| interactive(root, &runtime, &userland, "", &INTERACTIVE).map(drop),
            );
            report(
                "the runtime-only kernel with aot=off says it cannot compile init",
                &|| interactive(root, &runtime, &userland, "aot=off", &NO_COMPILER_BOOT).map(drop),
            );
        }
        report(
            "init cannot start: the kernel shell reads pasted lines, Ctrl-U and Ctrl-C",
            &|| kernel_shell(root, &config, &userland),
        );
        for case in cases(root, &userland)? {
            // Preemption needs a single hart where there is a config for one.
            let single;
            let config = if case.name.starts_with("preemption") && config.arch == Arch::Riscv64 {
                single = Config::load(root, "qemu-riscv64-single")?;
                &single
            } else {
                &config
            };
            if run_case(root, config, &userland, &case) {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    Ok((passed, failed))
}

/// Boots `config` for one case and checks it, printing `user CONFIG NAME ... ok` or the
/// output and why it failed. True if it passed.
pub(crate) fn run_case(root: &Path, config: &Config, userland: &Userland, case: &Case) -> bool {
    let start = Instant::now();
    let boot = exec::Boot {
        config,
        userland,
        release: false,
        timeout: Some(TIMEOUT),
        log: None,
    };
    let outcome = exec::session(
        root,
        &boot,
        std::slice::from_ref(&case.request),
        Io::Capture {
            stdin: vec![Vec::new()],
        },
    )
    .and_then(|mut o| o.pop().ok_or_else(|| "no outcome".to_string()));
    let secs = start.elapsed().as_secs_f64();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            println!(
                "user {} {} ... FAILED ({secs:.1} s): {e}",
                config.name, case.name
            );
            return false;
        }
    };
    match verify(case, &outcome) {
        Ok(()) => {
            println!("user {} {} ... ok ({secs:.1} s)", config.name, case.name);
            true
        }
        Err(e) => {
            println!("---- serial console ----");
            for l in &outcome.serial {
                println!("{l}");
            }
            println!("---- output ----");
            for l in outcome.lines() {
                println!("{l}");
            }
            println!("----------------");
            println!(
                "user {} {} ... FAILED ({secs:.1} s): {e}",
                config.name, case.name
            );
            false
        }
    }
}
