//! `cargo xtask bench`: builds the benchmark modules and harnesses, runs
//! them on the host (native, atoll's engine, wasmtime: `build/bench-host`)
//! and in the kernel under QEMU (`kernel --features bench`), measures the
//! boot of the normal image (init and the shell) to its milestones, prints
//! one table and writes it as JSON under `target/bench/`. `bench-compare
//! OLD NEW` diffs two such files.
//!
//! Every harness prints `BENCH <measure> <subject> <value> <unit>` lines;
//! this module only collects, derives ratios and formats.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

mod share;

use crate::build::{Artifacts, Flavor, cargo};
use crate::config::{Arch, Config};
use crate::qemu::{Launch, Serial};
use crate::userland::Userland;
use crate::util::{describe, run, target_dir};

/// The table's columns, in order.
const COLUMNS: [&str; 4] = ["riscv64", "x86_64", "host-atoll", "host-wasmtime"];

/// The boot argument that makes the kernel print its boot milestones
/// (`kernel/src/boot_marks.rs`).
const BOOT_SWITCH: &str = "bench.boot";

/// Boot milestones: (name in the kernel's `BENCH boot.<name>` lines, the
/// console line whose arrival is the milestone's wall-clock time, label).
const MILESTONES: [(&str, &str, &str); 3] = [
    ("kernel", "atoll kernel ", "boot kernel line"),
    ("user", "BENCH boot.user ", "boot 1st user insn"),
    ("prompt", "BENCH boot.prompt ", "boot prompt"),
];

/// What the x86_64 in-kernel code ratios are against.
const X86_64_NOTE: &str = "\nnote (x86_64 in-kernel): the native workloads are built for \
x86_64-unknown-none, which is soft-float without SSE (f64 math in software, \
no vector copies), while the Wasm code uses SSE/AVX: the wasm/native ratios \
favour Wasm (matmul, nbody, memcpy, simd most). Under TCG the TSC is the \
host's clock during emulation, not guest cycles.\n";

/// Workload names, in report order (as `bench-workloads` lists them).
const WORKLOADS: [&str; 10] = [
    "fib",
    "sieve",
    "matmul",
    "sha256",
    "nbody",
    "quicksort",
    "hashmap",
    "memcpy",
    "crc32",
    "simd",
];

/// One measured value.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Where it ran: `riscv64`, `x86_64` (in-kernel) or `host`.
    pub column: String,
    pub measure: String,
    /// `native`, `atoll`, `wasmtime`, `linux-getpid`, `qemu`, ...
    pub subject: String,
    pub value: f64,
    pub unit: String,
}

struct Options {
    quick: bool,
    kernel_configs: Vec<String>,
    host: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        kernel_configs: vec!["qemu-riscv64".into(), "qemu-x86_64".into()],
        host: true,
    };
    let mut configs = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-host" => o.host = false,
            "--no-kernel" => o.kernel_configs.clear(),
            "--config" => configs.push(it.next().ok_or("--config needs a value")?.clone()),
            other => return Err(format!("bench: unknown argument `{other}`")),
        }
    }
    if !configs.is_empty() {
        o.kernel_configs = configs;
    }
    Ok(o)
}

/// `cargo xtask bench [--quick] [--no-host] [--no-kernel] [--config C]...`
pub fn main(root: &Path, args: &[String]) -> Result<bool, String> {
    let opts = parse_options(args)?;
    let out = target_dir(root).join("bench");
    let wasm = build_modules(root, &out)?;
    let mut records = Vec::new();
    let mut ok = true;
    let userland = if opts.kernel_configs.is_empty() {
        None
    } else {
        Some(crate::userland::build(root)?)
    };
    if opts.host && !opts.quick {
        match share::native(root) {
            Ok(r) => records.extend(r),
            Err(e) => {
                eprintln!("bench: host share copy: {e}");
                ok = false;
            }
        }
    }
    if opts.host {
        match host(root, &wasm, opts.quick) {
            Ok((r, good)) => {
                records.extend(r);
                ok &= good;
            }
            Err(e) => {
                eprintln!("bench: host: {e}");
                ok = false;
            }
        }
    }
    for name in &opts.kernel_configs {
        let userland = userland
            .as_ref()
            .expect("built when there are kernel configs");
        // A kernel built to run only some measures (`ATOLL_BENCH_ONLY`, see
        // `kernel/src/bench`) is for quick iteration: no boot or exec measures.
        let only = std::env::var_os("ATOLL_BENCH_ONLY").is_some();
        let booted = if only {
            Ok((Vec::new(), true))
        } else {
            boot(root, name, userland)
        };
        match booted {
            Ok((r, good)) => {
                records.extend(r);
                ok &= good;
            }
            Err(e) => {
                eprintln!("bench: {name} boot: {e}");
                ok = false;
            }
        }
        match kernel(root, name, &wasm) {
            Ok((r, good)) => {
                records.extend(r);
                ok &= good;
            }
            Err(e) => {
                eprintln!("bench: {name}: {e}");
                ok = false;
            }
        }
        if only {
            continue;
        }
        match exec_wall(root, name) {
            Ok(r) => records.push(r),
            Err(e) => {
                eprintln!("bench: {name} exec: {e}");
                ok = false;
            }
        }
        if !opts.quick {
            let config = Config::load(root, name)?;
            match share::guest(root, &config, column_of(config.arch), userland) {
                Ok(r) => records.extend(r),
                Err(e) => {
                    eprintln!("bench: {name} share: {e}");
                    ok = false;
                }
            }
        }
    }
    let report = Report::new(records);
    print!("{}", report.table());
    let json = report.json(&commit(root));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let stamp = format!(
        "{}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        commit(root)
    );
    for file in [out.join(format!("{stamp}.json")), out.join("latest.json")] {
        std::fs::write(&file, &json).map_err(|e| format!("{}: {e}", file.display()))?;
        eprintln!("bench: wrote {}", file.display());
    }
    Ok(ok)
}

/// `cargo xtask bench-compare OLD.json NEW.json`
pub fn compare(args: &[String]) -> Result<bool, String> {
    let [old, new] = args else {
        return Err("usage: cargo xtask bench-compare OLD.json NEW.json".into());
    };
    let load = |p: &String| -> Result<Vec<Record>, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
        records_from_json(&text).map_err(|e| format!("{p}: {e}"))
    };
    let (old, new) = (load(old)?, load(new)?);
    let key = |r: &Record| (r.column.clone(), r.measure.clone(), r.subject.clone());
    let old: BTreeMap<_, _> = old.iter().map(|r| (key(r), r.clone())).collect();
    println!(
        "{:<14} {:<34} {:<13} {:>14} {:>14} {:>9}",
        "column", "measure", "subject", "old", "new", "change"
    );
    for r in &new {
        if r.measure.starts_with("checksum.") {
            continue;
        }
        let Some(o) = old.get(&key(r)) else {
            println!(
                "{:<14} {:<34} {:<13} {:>14} {:>14.1} {:>9}",
                r.column, r.measure, r.subject, "-", r.value, "new"
            );
            continue;
        };
        let change = if o.value != 0.0 {
            format!("{:+.1}%", (r.value / o.value - 1.0) * 100.0)
        } else {
            "-".into()
        };
        println!(
            "{:<14} {:<34} {:<13} {:>14.1} {:>14.1} {:>9} {}",
            r.column, r.measure, r.subject, o.value, r.value, change, r.unit
        );
    }
    Ok(true)
}

/// Paths of the Wasm modules the harnesses run.
struct Modules {
    workloads: PathBuf,
    simd: PathBuf,
    big: PathBuf,
}

/// The workloads module twice (plain, and with `simd128` for the SIMD
/// kernel, which needs vector hardware on riscv64), and the big module for
/// compile throughput (`build/bench-host/big-module`, wasm32-wasip1).
///
/// Native and Wasm builds all use opt-level 2 (the kernel's dependencies
/// build at 2 too), so the ratio compares code generators, not LLVM levels.
fn build_modules(root: &Path, out: &Path) -> Result<Modules, String> {
    let dir = out.join("wasm");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let built = target_dir(root).join("wasm32-unknown-unknown/release/bench_workloads.wasm");
    let mut paths = Vec::new();
    for (name, extra) in [
        ("workloads.wasm", None),
        ("workloads-simd.wasm", Some("-Ctarget-feature=+simd128")),
    ] {
        let mut cmd = cargo(root, "rustc", true);
        cmd.args([
            "-p",
            "bench-workloads",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["--features", "wasm-exports", "--crate-type", "cdylib", "--"])
        .args(["-Copt-level=2", "-Cdebuginfo=0", "-Cstrip=debuginfo"])
        .args(extra);
        run(&mut cmd)?;
        let dest = dir.join(name);
        std::fs::copy(&built, &dest).map_err(|e| format!("{}: {e}", built.display()))?;
        paths.push(dest);
    }
    let mut cmd = bench_host_build(root);
    cmd.args(["-p", "big-module", "--target", "wasm32-wasip1"]);
    run(&mut cmd)?;
    let big = dir.join("big.wasm");
    let src = target_dir(root).join("wasm32-wasip1/release/big-module.wasm");
    std::fs::copy(&src, &big).map_err(|e| format!("{}: {e}", src.display()))?;
    let simd = paths.pop().expect("two modules");
    let workloads = paths.pop().expect("two modules");
    Ok(Modules {
        workloads,
        simd,
        big,
    })
}

/// `cargo build --release` in the separate workspace `build/bench-host`, with its
/// outputs under [`target_dir`] where the callers look for them (left to itself,
/// cargo puts them in `build/bench-host/target` when `CARGO_TARGET_DIR` is unset).
fn bench_host_build(root: &Path) -> Command {
    let mut cmd = cargo(root, "build", true);
    cmd.arg("--manifest-path")
        .arg(root.join("build/bench-host/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir(root));
    cmd
}

/// Parses `BENCH measure subject value unit` lines.
fn parse_lines<'a>(column: &str, lines: impl Iterator<Item = &'a str>) -> Vec<Record> {
    lines
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("BENCH ")?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let [measure, subject, value, unit] = f[..] else {
                return None;
            };
            Some(Record {
                column: column.into(),
                measure: measure.into(),
                subject: subject.into(),
                value: value.parse().ok()?,
                unit: unit.into(),
            })
        })
        .collect()
}

/// The host subjects, each in its own process (their fault handlers must
/// not meet).
fn host(root: &Path, m: &Modules, quick: bool) -> Result<(Vec<Record>, bool), String> {
    let mut cmd = bench_host_build(root);
    cmd.args(["-p", "bench-host"]);
    run(&mut cmd)?;
    let exe = target_dir(root).join("release/bench-host");
    let mut records = Vec::new();
    let mut ok = true;
    for subject in ["native", "atoll", "wasmtime"] {
        let mut cmd = Command::new(&exe);
        cmd.arg(subject)
            .arg("--workloads")
            .arg(&m.workloads)
            .arg("--simd")
            .arg(&m.simd)
            .arg("--big")
            .arg(&m.big);
        if quick {
            cmd.arg("--quick");
        }
        eprintln!("+ {}", describe(&cmd));
        let out = cmd
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            eprintln!("bench: host {subject} failed ({})", out.status);
            ok = false;
        }
        records.extend(parse_lines("host", text.lines()));
    }
    Ok((records, ok))
}

/// Builds `kernel --features bench` and its loader, boots it with the
/// modules in the initrd and collects its lines. On riscv64 QEMU counts
/// instructions (`-icount shift=0`), so the results are deterministic.
fn kernel(root: &Path, name: &str, m: &Modules) -> Result<(Vec<Record>, bool), String> {
    let config = kernel_config(root, name)?;
    let column = column_of(config.arch);
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut initrd = initrd::Builder::new();
    initrd.file("/bench/workloads.wasm", &read(&m.workloads)?);
    initrd.file("/bench/workloads-simd.wasm", &read(&m.simd)?);
    initrd.file("/bench/big.wasm", &read(&m.big)?);
    let initrd = initrd.finish();

    let target = config.arch.kernel_target();
    let kernel = crate::build::build_kernel(root, target, &["bench"], true, false)?;
    let boot_kernel = crate::build::strip_debug_info(&kernel)?;
    let loader_target = config.arch.loader_target();
    let mut cmd = cargo(root, "build", false);
    cmd.args(["-p", "loader", "--target", loader_target])
        .env("ATOLL_KERNEL_ELF", &boot_kernel);
    run(&mut cmd)?;
    let loader = target_dir(root)
        .join(loader_target)
        .join("debug")
        .join(match config.arch {
            Arch::Riscv64 => "loader",
            Arch::X86_64 => "loader.efi",
        });
    let dir = target_dir(root).join("bench/images").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let args = config.boot.args.clone();
    let (initrd_file, disk, image) = match config.arch {
        Arch::Riscv64 => {
            let p = dir.join("initrd.cpio");
            std::fs::write(&p, &initrd).map_err(|e| format!("{}: {e}", p.display()))?;
            (Some(p), None, Some(crate::build::linux_image(&loader)?))
        }
        Arch::X86_64 => {
            let disk = dir.join("disk.img");
            esp_image::EspImage::new(read(&loader)?, read(&boot_kernel)?)
                .cmdline(&args)
                .initrd(initrd)
                .write_to(&disk)
                .map_err(|e| format!("{}: {e}", disk.display()))?;
            (None, Some(disk), None)
        }
    };
    let artifacts = Artifacts {
        kernel: kernel.clone(),
        loader,
        image,
        disk,
        initrd: initrd_file,
    };
    let launch = Launch {
        config: &config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdio,
        devices: Vec::new(),
    };
    let mut cmd = launch.command()?;
    let run = run_console(&mut cmd, Duration::from_secs(1200), |_| false)?;
    let lines = run.lines;
    let ok = run.status.is_some();
    let mut records = parse_lines(column, lines.iter().map(|(_, l)| l.as_str()));
    // The bench kernel, and the interactive kernel with and without the compiler
    // (issue 14: the runtime-only kernel's size beside the full one's).
    let full = crate::build::build_kernel(root, target, &[], true, false)?;
    let runtime_only = crate::build::build_kernel(root, target, &[], false, false)?;
    for (measure, path) in [
        ("memory.kernel_image", &kernel),
        ("memory.kernel_image.full", &full),
        ("memory.kernel_image.runtime_only", &runtime_only),
    ] {
        records.push(Record {
            column: column.into(),
            measure: measure.into(),
            subject: "atoll".into(),
            value: loaded_size(&read(path)?).unwrap_or(0) as f64,
            unit: "B".into(),
        });
    }
    let finished = lines.iter().any(|(_, l)| l.starts_with("BENCH-END ok"));
    for (_, l) in lines.iter().filter(|(_, l)| l.starts_with("BENCH-ERROR")) {
        eprintln!("bench: {name}: {l}");
    }
    Ok((records, ok && finished))
}

/// The table column of an architecture's in-kernel results.
/// `just exec hello.wasm` as a user types it (`cargo xtask exec` on the
/// config's arch), warm: one run to build, then the wall clock of a second
/// one from the command to its exit.
fn exec_wall(root: &Path, name: &str) -> Result<Record, String> {
    let config = Config::load(root, name)?;
    let column = column_of(config.arch);
    let hello = root.join("user/target/wasm/hello.wasm");
    let run = || {
        let start = Instant::now();
        let out = Command::new("cargo")
            .args(["xtask", "exec", &format!("arch={column}")])
            .arg(&hello)
            .arg("bench")
            .current_dir(root)
            .output()
            .map_err(|e| format!("cargo xtask exec: {e}"))?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("bench") {
            return Err(format!(
                "hello.wasm: {} (stdout {stdout:?}, stderr {:?})",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(ms)
    };
    run()?;
    Ok(Record {
        column: column.into(),
        measure: "exec.hello.wall".into(),
        subject: "atoll".into(),
        value: run()?,
        unit: "ms".into(),
    })
}

fn column_of(arch: Arch) -> &'static str {
    match arch {
        Arch::Riscv64 => "riscv64",
        Arch::X86_64 => "x86_64",
    }
}

/// A configuration for measuring: on riscv64 QEMU counts instructions
/// (`-icount shift=0`: one instruction per virtual nanosecond), so counts
/// are deterministic.
fn kernel_config(root: &Path, name: &str) -> Result<Config, String> {
    let mut config = Config::load(root, name)?;
    if config.arch == Arch::Riscv64 {
        config
            .qemu
            .extra
            .extend(["-icount".into(), "shift=0".into()]);
    }
    Ok(config)
}

/// Boots the normal image (init and the shell, as `just run` does) with
/// [`BOOT_SWITCH`] and records the kernel's counters at each of
/// [`MILESTONES`] and the wall-clock time from QEMU's start to the console
/// line of each; stops QEMU once the prompt was reached.
fn boot(root: &Path, name: &str, userland: &Userland) -> Result<(Vec<Record>, bool), String> {
    let mut records = Vec::new();
    let mut ok = true;
    for mode in &BOOT_MODES {
        let (r, good) = boot_once(root, name, userland, mode)?;
        records.extend(r);
        ok &= good;
    }
    Ok((records, ok))
}

/// How a boot is measured: with the boot image's precompiled modules, and
/// with `aot=off` (everything JIT-compiled), side by side in one run.
struct BootMode {
    /// Extra boot arguments.
    args: &'static str,
    /// Subject of the kernel's counters and of the wall clock.
    subject: &'static str,
    wall_subject: &'static str,
    /// Row label suffix.
    label: &'static str,
}

const BOOT_MODES: [BootMode; 2] = [
    BootMode {
        args: "",
        subject: "atoll",
        wall_subject: "qemu",
        label: "",
    },
    BootMode {
        args: "aot=off",
        subject: "atoll-jit",
        wall_subject: "qemu-jit",
        label: ", aot=off",
    },
];

fn boot_once(
    root: &Path,
    name: &str,
    userland: &Userland,
    mode: &BootMode,
) -> Result<(Vec<Record>, bool), String> {
    let config = kernel_config(root, name)?;
    let initrd = &userland.initrd(&crate::aot::Target::of(&config));
    let column = column_of(config.arch);
    let args = format!("{} {BOOT_SWITCH} {}", config.boot.args, mode.args)
        .trim()
        .to_string();
    let artifacts = crate::build::build(root, &config, Flavor::Normal, false, &args, Some(initrd))?;
    let launch = Launch {
        config: &config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdio,
        devices: Vec::new(),
    };
    let mut cmd = launch.command()?;
    // The prompt's last line ends the run.
    let run = run_console(&mut cmd, Duration::from_secs(600), |l| {
        l.starts_with("BENCH boot.prompt.hart ")
    })?;
    let lines = || run.lines.iter().map(|(_, l)| l.as_str());
    let mut records: Vec<Record> = parse_lines(column, lines())
        .into_iter()
        .filter(|r| r.measure.starts_with("boot."))
        .map(|r| Record {
            subject: mode.subject.into(),
            ..r
        })
        .collect();
    records.extend(boot_wall_times(column, mode.wall_subject, &run.lines));
    if !run.stopped {
        eprintln!("bench: {name}: the boot did not reach the prompt");
    }
    Ok((records, run.stopped))
}

/// `boot.<milestone>.wall` records: when each milestone's console line arrived.
fn boot_wall_times(column: &str, subject: &str, lines: &[(Duration, String)]) -> Vec<Record> {
    MILESTONES
        .iter()
        .filter_map(|(milestone, marker, _)| {
            let (t, _) = lines.iter().find(|(_, l)| l.contains(marker))?;
            Some(Record {
                column: column.into(),
                measure: format!("boot.{milestone}.wall"),
                subject: subject.into(),
                value: t.as_secs_f64() * 1e3,
                unit: "ms".into(),
            })
        })
        .collect()
}

/// What [`run_console`] saw.
struct ConsoleRun {
    /// Each console line with the time since QEMU was started.
    lines: Vec<(Duration, String)>,
    /// QEMU's exit status; `None` when it was killed (stopped or timed out).
    status: Option<ExitStatus>,
    /// Whether `stop` accepted a line (and QEMU was killed for it).
    stopped: bool,
}

/// Runs QEMU with no input, echoing its console to stderr and timing each
/// line from the spawn; kills it when `stop` accepts a line or after
/// `timeout`.
fn run_console(
    cmd: &mut Command,
    timeout: Duration,
    stop: impl Fn(&str) -> bool,
) -> Result<ConsoleRun, String> {
    eprintln!("+ {}", describe(cmd));
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    let rx = crate::qemu::console_lines(child.stdout.take().expect("stdout is piped"), false);
    let mut lines = Vec::new();
    let mut stopped = false;
    let mut timed_out = false;
    loop {
        let Some(left) = timeout.checked_sub(start.elapsed()) else {
            timed_out = true;
            break;
        };
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                let t = start.elapsed();
                eprintln!("{line}");
                stopped = stop(&line);
                lines.push((t, line));
                if stopped {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The console closed: QEMU is exiting.
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = if stopped || timed_out {
        let _ = child.kill();
        let _ = child.wait();
        None
    } else {
        Some(child.wait().map_err(|e| format!("waiting for QEMU: {e}"))?)
    };
    if timed_out {
        eprintln!("bench: QEMU killed after {timeout:?}");
    }
    Ok(ConsoleRun {
        lines,
        status,
        stopped,
    })
}

/// Bytes of the ELF's loadable segments in memory (PT_LOAD `p_memsz`).
fn loaded_size(elf: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    if elf.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let phoff = u64_at(0x20)? as usize;
    let (phentsize, phnum) = (u16_at(0x36)? as usize, u16_at(0x38)? as usize);
    let mut total = 0;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph)? == 1 {
            total += u64_at(ph + 0x28)?;
        }
    }
    Some(total)
}

fn commit(root: &Path) -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The collected records, looked up by (column, measure, subject).
struct Report {
    records: Vec<Record>,
}

impl Report {
    fn new(records: Vec<Record>) -> Report {
        Report { records }
    }

    fn get(&self, column: &str, measure: &str, subject: &str) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| r.column == column && r.measure == measure && r.subject == subject)
    }

    /// Where a table column's values come from: (record column, subject).
    fn source(col: &str) -> (&'static str, &'static str) {
        match col {
            "riscv64" => ("riscv64", "atoll"),
            "x86_64" => ("x86_64", "atoll"),
            "host-atoll" => ("host", "atoll"),
            _ => ("host", "wasmtime"),
        }
    }

    /// Wasm time / native time of a workload in a table column.
    fn ratio(&self, col: &str, workload: &str) -> Option<f64> {
        let (c, s) = Self::source(col);
        let m = format!("code.{workload}");
        let wasm = self.get(c, &m, s)?.value;
        let native = self.get(c, &m, "native")?.value;
        (native > 0.0).then(|| wasm / native)
    }

    fn geomean(&self, col: &str) -> Option<(f64, usize)> {
        let rs: Vec<f64> = WORKLOADS
            .iter()
            .filter_map(|w| self.ratio(col, w))
            .collect();
        if rs.is_empty() {
            return None;
        }
        let g = (rs.iter().map(|r| r.ln()).sum::<f64>() / rs.len() as f64).exp();
        Some((g, rs.len()))
    }

    fn value(&self, col: &str, measure: &str) -> Option<&Record> {
        let (c, s) = Self::source(col);
        self.get(c, measure, s)
    }

    fn table(&self) -> String {
        let mut t = String::new();
        let row = |t: &mut String, name: &str, cells: &[String], last: String| {
            t.push_str(&format!("{name:<30}"));
            for c in cells {
                t.push_str(&format!(" {c:>16}"));
            }
            t.push_str(&format!(" {last:>16}\n"));
        };
        let head: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        row(&mut t, "measure", &head, "atoll/wasmtime".into());
        t.push_str(&format!("{}\n", "-".repeat(30 + 17 * 5)));
        let fmt = |v: Option<f64>, unit: &str| match v {
            Some(v) if unit.is_empty() => format!("{v:.2}x"),
            Some(v) if v >= 1e5 => format!("{v:.3e} {unit}"),
            Some(v) => format!("{v:.1} {unit}"),
            None => "n/a".into(),
        };
        let ratio_of = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".into(),
        };
        for w in WORKLOADS {
            let cells: Vec<Option<f64>> = COLUMNS.iter().map(|c| self.ratio(c, w)).collect();
            let shown: Vec<String> = cells.iter().map(|v| fmt(*v, "")).collect();
            row(
                &mut t,
                &format!("code {w} (wasm/native)"),
                &shown,
                ratio_of(cells[2], cells[3]),
            );
        }
        let g: Vec<Option<f64>> = COLUMNS
            .iter()
            .map(|c| self.geomean(c).map(|g| g.0))
            .collect();
        let shown: Vec<String> = g.iter().map(|v| fmt(*v, "")).collect();
        row(&mut t, "code geomean", &shown, ratio_of(g[2], g[3]));
        for (label, measure) in [
            ("host call (guest->host)", "hostcall"),
            ("call host->guest", "host2wasm"),
            ("trap unreachable", "trap.unreachable"),
            ("trap out of bounds", "trap.oob"),
            ("instantiate 1-page", "instantiate.1page"),
            ("instantiate 1-page, data", "instantiate.1page_data"),
            ("instantiate 64 MiB", "instantiate.64mib"),
            ("compile workloads 1 thread", "compile.workloads.1"),
            ("compile workloads all", "compile.workloads.all"),
            ("compile big 1 thread", "compile.big.1"),
            ("compile big all", "compile.big.all"),
            ("compile workloads", "compile.workloads.insn_per_byte"),
            ("compile big", "compile.big.insn_per_byte"),
            ("load precompiled module", "load.precompiled"),
            ("just exec hello.wasm (wall)", "exec.hello.wall"),
            ("compile big, 1 hart", "compile.big.ms.1"),
            ("compile big, all harts", "compile.big.ms.all"),
            ("instance heap (idle)", "memory.instance_heap"),
            ("instance frames (idle)", "memory.instance_frames"),
            ("process heap (idle)", "memory.process_heap"),
            ("process frames (idle)", "memory.process_frames"),
            ("kernel image (loaded)", "memory.kernel_image"),
            (
                "kernel image, no bench (loaded)",
                "memory.kernel_image.full",
            ),
            (
                "kernel image, runtime-only (loaded)",
                "memory.kernel_image.runtime_only",
            ),
        ] {
            let recs: Vec<Option<&Record>> =
                COLUMNS.iter().map(|c| self.value(c, measure)).collect();
            if recs.iter().all(Option::is_none) {
                continue;
            }
            let shown: Vec<String> = recs
                .iter()
                .map(|r| r.map_or("n/a".into(), |r| fmt(Some(r.value), &r.unit)))
                .collect();
            let v = |i: usize| recs[i].map(|r| r.value);
            row(&mut t, label, &shown, ratio_of(v(2), v(3)));
        }
        for (mode, (milestone, _, label)) in BOOT_MODES
            .iter()
            .flat_map(|m| MILESTONES.iter().map(move |ms| (m, ms)))
        {
            // The counter (riscv64: instructions of the hart, x86_64: TSC),
            // the time counter since reset, and the host's wall clock.
            for (suffix, subject, scale, unit) in [
                ("", mode.subject, 1.0, None),
                (".time", mode.subject, 1e-6, Some("ms")),
                (".wall", mode.wall_subject, 1.0, None),
            ] {
                let measure = format!("boot.{milestone}{suffix}");
                let shown: Vec<String> = COLUMNS
                    .iter()
                    .map(|c| match self.get(Self::source(c).0, &measure, subject) {
                        Some(r) => fmt(Some(r.value * scale), unit.unwrap_or(&r.unit)),
                        None => "n/a".into(),
                    })
                    .collect();
                if shown.iter().any(|s| s != "n/a") {
                    let what = match suffix {
                        "" => "counter",
                        ".time" => "time",
                        _ => "wall",
                    };
                    let label = format!("{label} ({what}{})", mode.label);
                    row(&mut t, &label, &shown, "-".into());
                }
            }
        }
        for (label, measure) in [
            ("share write 256 MiB (9P)", "share.write"),
            ("share read 256 MiB (9P)", "share.read"),
        ] {
            let cell = |col: &str, subject: &str| {
                self.get(col, measure, subject)
                    .map_or("n/a".into(), |r| fmt(Some(r.value), &r.unit))
            };
            let shown = [
                cell("riscv64", "atoll"),
                cell("x86_64", "atoll"),
                format!("native {}", cell("host", "native")),
                "-".into(),
            ];
            if shown[..2].iter().any(|s| s != "n/a") || shown[2] != "native n/a" {
                row(&mut t, label, &shown, "-".into());
            }
        }
        if let Some(r) = self.get("host", "hostcall", "linux-getpid") {
            t.push_str(&format!(
                "{:<30} {:>16}\n",
                "linux getpid syscall (host)",
                fmt(Some(r.value), &r.unit)
            ));
        }
        t.push_str(&self.goals());
        if self.geomean("x86_64").is_some() {
            t.push_str(X86_64_NOTE);
        }
        t
    }

    /// The goals, each met or missed by how much.
    fn goals(&self) -> String {
        let mut t = String::from("\ngoals:\n");
        let mut line =
            |goal: &str, verdict: String| t.push_str(&format!("  {goal:<52} {verdict}\n"));
        let verdict = |value: f64, limit: f64, unit: &str, lower_is_better: bool| {
            let met = if lower_is_better {
                value <= limit
            } else {
                value >= limit
            };
            if met {
                format!("met ({value:.2} {unit})")
            } else if lower_is_better {
                format!(
                    "MISSED by {:.2}x ({value:.2} {unit} vs {limit:.2})",
                    value / limit
                )
            } else {
                format!(
                    "MISSED by {:.2}x ({value:.2} {unit} vs {limit:.2})",
                    limit / value
                )
            }
        };
        let ga = self.geomean("host-atoll").map(|g| g.0);
        let gw = self.geomean("host-wasmtime").map(|g| g.0);
        if let (Some(a), Some(w)) = (ga, gw) {
            line(
                "code geomean <= wasmtime's (host)",
                verdict(a, w, "x", true),
            );
        }
        for col in ["riscv64", "x86_64", "host-atoll"] {
            if let Some((g, _)) = self.geomean(col) {
                let v = if col == "x86_64" {
                    // See the x86_64 note below the table.
                    format!("not comparable ({g:.2} x against a soft-float baseline)")
                } else {
                    verdict(g, 1.3, "x", true)
                };
                line(&format!("code geomean <= 1.3x native ({col})"), v);
            }
        }
        if let Some(r) = self
            .get("riscv64", "hostcall", "atoll")
            .filter(|r| r.unit == "insn")
        {
            line(
                "host call <= ~20 instructions (riscv64)",
                verdict(r.value, 20.0, "insn", true),
            );
        }
        // Time goals: the host in ns; riscv64 instructions read as ns at 1 GIPS.
        let micros = |col: &str, measure: &str| {
            let r = self.get(col, measure, "atoll")?;
            match r.unit.as_str() {
                "ns" | "insn" => Some(r.value / 1e3),
                _ => None,
            }
        };
        for (col, label) in [("host", "host"), ("riscv64", "riscv64 at 1 GIPS")] {
            let traps = ["trap.unreachable", "trap.oob"].map(|m| micros(col, m));
            if let [Some(a), Some(b)] = traps {
                line(
                    &format!("trap well under 10 us, slowest kind ({label})"),
                    verdict(a.max(b), 10.0, "us", true),
                );
            }
            if let Some(v) = micros(col, "instantiate.1page") {
                line(
                    &format!("instantiate small module <= 5 us ({label})"),
                    verdict(v, 5.0, "us", true),
                );
            }
        }
        // Boot goals (issue 14), for the default boot (precompiled modules).
        for (milestone, limit) in [("user", 60e6), ("prompt", 100e6)] {
            if let Some(r) = self
                .get("riscv64", &format!("boot.{milestone}"), "atoll")
                .filter(|r| r.unit == "insn")
            {
                line(
                    &format!("boot to {milestone} <= {}M insn (riscv64)", limit / 1e6),
                    verdict(r.value / 1e6, limit / 1e6, "M insn", true),
                );
            }
        }
        for col in ["riscv64", "x86_64"] {
            if let (Some(f), Some(r)) = (
                self.get(col, "memory.kernel_image.full", "atoll"),
                self.get(col, "memory.kernel_image.runtime_only", "atoll"),
            ) {
                line(
                    &format!("runtime-only kernel smaller than the full ({col})"),
                    verdict(r.value / 1e6, f.value / 1e6, "MB", true),
                );
            }
        }
        if let (Some(k), Some(p)) = (
            self.get("x86_64", "boot.kernel.time", "atoll"),
            self.get("x86_64", "boot.prompt.time", "atoll"),
        ) {
            line(
                "kernel line to prompt <= 0.5 s (x86_64, TCG)",
                verdict((p.value - k.value) / 1e9, 0.5, "s", true),
            );
        }
        for col in ["riscv64", "x86_64"] {
            if let Some(r) = self.get(col, "exec.hello.wall", "atoll") {
                line(
                    &format!("just exec hello.wasm <= 2.5 s ({col}, wall)"),
                    verdict(r.value / 1e3, 2.5, "s", true),
                );
            }
            if let Some(r) = self.get(col, "boot.prompt.wall", "qemu") {
                line(
                    &format!("QEMU start to prompt <= 2 s ({col}, wall)"),
                    verdict(r.value / 1e3, 2.0, "s", true),
                );
            }
        }
        if let (Some(a), Some(w)) = (
            self.get("host", "compile.big.1", "atoll"),
            self.get("host", "compile.big.1", "wasmtime"),
        ) {
            line(
                "compile throughput >= wasmtime's (host, 1 thread)",
                verdict(a.value, w.value, "KiB/s", false),
            );
        }
        t
    }

    fn json(&self, commit: &str) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut j = format!("{{\n  \"commit\": \"{}\",\n  \"records\": [\n", esc(commit));
        for (i, r) in self.records.iter().enumerate() {
            let value = if r.value.is_finite() {
                format!("{}", r.value)
            } else {
                "null".into()
            };
            j.push_str(&format!(
                "    {{\"column\": \"{}\", \"measure\": \"{}\", \"subject\": \"{}\", \"value\": {}, \"unit\": \"{}\"}}{}\n",
                esc(&r.column),
                esc(&r.measure),
                esc(&r.subject),
                value,
                esc(&r.unit),
                if i + 1 < self.records.len() { "," } else { "" }
            ));
        }
        j.push_str("  ]\n}\n");
        j
    }
}

/// The records of a file written by [`Report::json`] (a JSON subset: flat
/// objects of strings and numbers inside `"records": [...]`).
fn records_from_json(text: &str) -> Result<Vec<Record>, String> {
    let start = text.find("\"records\"").ok_or("no \"records\" array")?;
    let mut out = Vec::new();
    let mut rest = &text[start..];
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("unterminated object")? + open;
        let obj = &rest[open + 1..close];
        let mut fields = BTreeMap::new();
        for pair in split_top(obj) {
            let (k, v) = pair
                .split_once(':')
                .ok_or_else(|| format!("bad field `{pair}`"))?;
            fields.insert(unquote(k.trim()), v.trim().to_string());
        }
        let field = |k: &str| {
            fields
                .get(k)
                .map(|v| unquote(v))
                .ok_or(format!("record without {k}"))
        };
        out.push(Record {
            column: field("column")?,
            measure: field("measure")?,
            subject: field("subject")?,
            value: field("value")?.parse().unwrap_or(f64::NAN),
            unit: field("unit")?,
        });
        rest = &rest[close + 1..];
    }
    Ok(out)
}

/// Splits `a: 1, b: "x, y"` at the commas outside strings.
fn split_top(s: &str) -> Vec<&str> {
    let (mut parts, mut start, mut in_str, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            ',' if !in_str => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_host_outputs_land_in_the_target_dir_they_are_read_from() {
        // A fresh clone: build/bench-host is its own workspace, so only an explicit
        // --target-dir puts big-module.wasm and bench-host under target_dir(root).
        let root = Path::new("/fresh-clone");
        let cmd = bench_host_build(root);
        let args: Vec<&std::ffi::OsStr> = cmd.get_args().collect();
        let at = args
            .iter()
            .position(|a| *a == "--target-dir")
            .expect("bench-host builds name their target dir");
        assert_eq!(Path::new(args[at + 1]), target_dir(root));
        assert_eq!(cmd.get_current_dir(), Some(root));
    }

    fn rec(column: &str, measure: &str, subject: &str, value: f64) -> Record {
        Record {
            column: column.into(),
            measure: measure.into(),
            subject: subject.into(),
            value,
            unit: "ns".into(),
        }
    }

    /// The first line of `text` for which `is` holds (the test fails without one).
    fn line_of(text: &str, is: impl Fn(&str) -> bool, what: &str) -> String {
        text.lines()
            .find(|l| is(l))
            .unwrap_or_else(|| panic!("no line {what} in\n{text}"))
            .to_string()
    }

    #[test]
    fn json_round_trips() {
        let report = Report::new(vec![
            rec("host", "code.fib", "native", 100.0),
            rec("host", "code.fib", "atoll", 150.5),
            rec("riscv64", "weird \"name\", with comma", "atoll", 1e9),
        ]);
        let back = records_from_json(&report.json("abc123")).unwrap();
        assert_eq!(back, report.records);
    }

    #[test]
    fn ratios_and_geomean() {
        let report = Report::new(vec![
            rec("host", "code.fib", "native", 100.0),
            rec("host", "code.fib", "atoll", 200.0),
            rec("host", "code.sieve", "native", 100.0),
            rec("host", "code.sieve", "atoll", 50.0),
        ]);
        assert_eq!(report.ratio("host-atoll", "fib"), Some(2.0));
        let (g, n) = report.geomean("host-atoll").unwrap();
        assert!((g - 1.0).abs() < 1e-12 && n == 2);
        assert!(report.geomean("riscv64").is_none());
        assert!(report.table().contains("2.00x"));
    }

    #[test]
    fn goals_hold_each_column_to_its_own_units() {
        let insn = |measure: &str, value: f64| Record {
            unit: "insn".into(),
            ..rec("riscv64", measure, "atoll", value)
        };
        let report = Report::new(vec![
            insn("trap.unreachable", 4_000.0),
            insn("trap.oob", 12_000.0),
            insn("instantiate.1page", 9_000.0),
            rec("host", "trap.unreachable", "atoll", 300.0),
            rec("host", "trap.oob", "atoll", 400.0),
            rec("x86_64", "code.fib", "native", 100.0),
            rec("x86_64", "code.fib", "atoll", 50.0),
        ]);
        let goals = report.goals();
        let line = |needle: &str| line_of(&goals, |l| l.contains(needle), needle);
        // The slowest trap kind counts: 12k instructions are 12 us at 1 GIPS.
        assert!(line("slowest kind (riscv64").contains("MISSED by 1.20x"));
        assert!(line("slowest kind (host)").contains("met (0.40 us)"));
        assert!(line("instantiate small module <= 5 us (riscv64").contains("MISSED by 1.80x"));
        assert!(line("native (x86_64)").contains("not comparable"));
    }

    #[test]
    fn bench_lines_parse() {
        let lines = [
            "noise",
            "BENCH code.fib native 12.5 insn",
            "BENCH short 1",
            "BENCH a b x u",
        ];
        let r = parse_lines("riscv64", lines.into_iter());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].value, 12.5);
        assert_eq!(r[0].unit, "insn");
    }

    #[test]
    fn boot_milestones_are_timed_and_tabled() {
        let ms = Duration::from_millis;
        let lines: Vec<(Duration, String)> = [
            (ms(5), "BdsDxe: loading"),
            (ms(120), "atoll kernel 0.1.0 on QEMU (4 harts in the MADT)"),
            (ms(121), "BENCH boot.kernel atoll 4000000 insn"),
            (ms(900), "BENCH boot.user atoll 90000000 insn"),
            (ms(1500), "BENCH boot.prompt atoll 150000000 insn"),
            (ms(1501), "BENCH boot.prompt.time atoll 2500000000 ns"),
        ]
        .into_iter()
        .map(|(t, l)| (t, l.to_string()))
        .collect();
        let wall = boot_wall_times("riscv64", "qemu", &lines);
        let at = |m: &str| wall.iter().find(|r| r.measure == m).map(|r| r.value);
        assert_eq!(at("boot.kernel.wall"), Some(120.0));
        assert_eq!(at("boot.user.wall"), Some(900.0));
        assert_eq!(at("boot.prompt.wall"), Some(1500.0));
        let mut records = parse_lines("riscv64", lines.iter().map(|(_, l)| l.as_str()));
        records.extend(wall);
        let report = Report::new(records);
        let table = report.table();
        let row = |label: &str| line_of(&table, |l| l.starts_with(label), label);
        assert!(row("boot prompt (counter)").contains("1.500e8 insn"));
        // The time counter is shown in ms.
        assert!(row("boot prompt (time)").contains("2500.0 ms"));
        assert!(row("boot kernel line (wall)").contains("120.0 ms"));
        assert!(!table.contains("boot kernel line (time)"));
        // 150M instructions to the prompt misses the 100M goal.
        let goals = report.goals();
        assert!(
            line_of(&goals, |l| l.contains("boot to prompt"), "prompt").contains("MISSED by 1.50x")
        );
        assert!(
            line_of(&goals, |l| l.contains("boot to user"), "user").contains("MISSED by 1.50x")
        );
        assert!(
            line_of(&goals, |l| l.contains("QEMU start to prompt"), "wall")
                .contains("met (1.50 s)")
        );
    }

    #[test]
    fn boots_with_and_without_precompiled_modules_get_their_own_rows() {
        let insn = |subject: &str, value: f64| Record {
            unit: "insn".into(),
            ..rec("riscv64", "boot.prompt", subject, value)
        };
        let report = Report::new(vec![insn("atoll", 5e7), insn("atoll-jit", 6e9)]);
        let table = report.table();
        let row = |label: &str| line_of(&table, |l| l.starts_with(label), label);
        assert!(row("boot prompt (counter)").contains("5.000e7"));
        assert!(row("boot prompt (counter, aot=off)").contains("6.000e9"));
    }

    #[test]
    fn x86_64_ratios_carry_the_baseline_note() {
        let host = Report::new(vec![
            rec("host", "code.fib", "native", 1.0),
            rec("host", "code.fib", "atoll", 1.0),
        ]);
        assert!(!host.table().contains("soft-float"));
        let x86 = Report::new(vec![
            rec("x86_64", "code.fib", "native", 2.0),
            rec("x86_64", "code.fib", "atoll", 1.0),
        ]);
        assert!(x86.table().contains("soft-float"));
    }

    #[test]
    fn elf_loaded_size_of_garbage_is_none() {
        assert_eq!(loaded_size(b"not an elf"), None);
        assert_eq!(loaded_size(b""), None);
    }
}
