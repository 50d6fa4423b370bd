//! `xtask test`: every test stage, one closing summary line.
//!
//! Stages: lint, host unit tests, the Wasm spec suite on the host, and the
//! kernel's own tests booted under QEMU for each test configuration. A failing
//! stage does not stop the later ones; the exit status is non-zero if any failed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::build::{self, Flavor, cargo};
use crate::config::Config;
use crate::qemu::{self, Launch, Serial};
use crate::summary::{parse_libtest_result, parse_plain_summary};
use crate::util::describe;

/// Features the host-side test and lint runs need.
pub const HOST_FEATURES: &str = "wasm-engine/linux";

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    skipped: u64,
}

struct StageResult {
    name: String,
    tally: Tally,
    ok: bool,
    secs: f64,
}

pub struct Options {
    pub stages: Vec<String>,
    pub kernel_configs: Vec<String>,
}

pub const ALL_STAGES: [&str; 10] = [
    "lint",
    "host",
    "fuzz",
    "spec",
    "kernel",
    "spec-kernel",
    "user",
    "stress",
    "difftest",
    "boards",
];

pub fn run(root: &Path, opts: &Options) -> Result<bool, String> {
    let mut results = Vec::new();
    for stage in &opts.stages {
        let start = Instant::now();
        banner(&format!("stage: {stage}"));
        let (tally, ok) = match stage.as_str() {
            "lint" => lint(root, opts)?,
            "host" => host_tests(root)?,
            "fuzz" => fuzz(root)?,
            "spec" => spec(root)?,
            "kernel" => {
                let mut total = Tally::default();
                let mut all_ok = true;
                for name in &opts.kernel_configs {
                    let config = Config::load(root, name)?;
                    let (t, ok) = kernel_tests(root, &config)?;
                    total.passed += t.passed;
                    total.failed += t.failed;
                    all_ok &= ok;
                }
                (total, all_ok)
            }
            "user" => {
                let (passed, failed) = crate::user_tests::run(root, &opts.kernel_configs)?;
                let tally = Tally {
                    passed,
                    failed,
                    skipped: 0,
                };
                (tally, failed == 0)
            }
            "stress" => {
                let (passed, failed) = crate::stress::run(root, &opts.kernel_configs)?;
                let tally = Tally {
                    passed,
                    failed,
                    skipped: 0,
                };
                (tally, failed == 0)
            }
            "spec-kernel" => spec_kernel(root, &opts.kernel_configs),
            "difftest" => {
                // The WASI corpus against wasmtime: atoll's WASI layer on the host, then the
                // whole system (`just exec`'s path) under QEMU on each configuration.
                let mut tally = Tally::default();
                let runners = std::iter::once("atoll-host".to_string())
                    .chain(opts.kernel_configs.iter().map(|c| format!("config={c}")));
                for runner in runners {
                    let (passed, failed) = match crate::difftest::run(root, &runner, &[]) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("difftest --runner {runner}: {e}");
                            (0, 1)
                        }
                    };
                    tally.passed += passed;
                    tally.failed += failed;
                }
                let ok = tally.failed == 0;
                (tally, ok)
            }
            // riscv64 board machines (`board_tests`), whatever `--config` says.
            "boards" => {
                let (passed, failed) = crate::board_tests::run(root)?;
                let tally = Tally {
                    passed,
                    failed,
                    skipped: 0,
                };
                (tally, failed == 0)
            }
            other => {
                return Err(format!(
                    "unknown test stage `{other}` (stages: {})",
                    ALL_STAGES.join(", ")
                ));
            }
        };
        results.push(StageResult {
            name: stage.clone(),
            tally,
            ok,
            secs: start.elapsed().as_secs_f64(),
        });
    }

    banner("summary");
    let mut total = Tally::default();
    for r in &results {
        println!(
            "{:<8} {:>6} passed {:>4} failed {:>6} skipped  {:>7.1}s  {}",
            r.name,
            r.tally.passed,
            r.tally.failed,
            r.tally.skipped,
            r.secs,
            if r.ok { "ok" } else { "FAILED" }
        );
        total.passed += r.tally.passed;
        total.failed += r.tally.failed;
        total.skipped += r.tally.skipped;
    }
    let ok = results.iter().all(|r| r.ok);
    // A stage that failed without a counted test (a build error) still counts once.
    let failed = total.failed
        + results
            .iter()
            .filter(|r| !r.ok && r.tally.failed == 0)
            .count() as u64;
    if total.skipped > 0 {
        println!(
            "{} passed, {} failed, {} skipped",
            total.passed, failed, total.skipped
        );
    } else {
        println!("{} passed, {} failed", total.passed, failed);
    }
    Ok(ok)
}

fn banner(title: &str) {
    println!("\n==================== {title} ====================");
}

/// Runs a command, echoing its stdout line by line to ours, and returns its lines and success.
fn run_streaming(cmd: &mut Command) -> Result<(Vec<String>, bool), String> {
    eprintln!("+ {}", describe(cmd));
    cmd.stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = Vec::new();
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).split(b'\n') {
        let line = line.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&line).into_owned();
        let _ = writeln!(out, "{text}");
        lines.push(text);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((lines, status.success()))
}

fn check(cmd: &mut Command, tally: &mut Tally) -> Result<bool, String> {
    let (_, ok) = run_streaming(cmd)?;
    if ok {
        tally.passed += 1;
    } else {
        tally.failed += 1;
    }
    Ok(ok)
}

fn lint(root: &Path, opts: &Options) -> Result<(Tally, bool), String> {
    let mut tally = Tally::default();
    let mut ok = true;

    let mut fmt = Command::new("cargo");
    fmt.current_dir(root).args(["fmt", "--all", "--check"]);
    ok &= check(&mut fmt, &mut tally)?;

    let mut host = cargo(root, "clippy", false);
    host.args([
        "--workspace",
        "--exclude",
        "kernel",
        "--exclude",
        "loader",
        "--all-targets",
    ]);
    host.args(["--features", HOST_FEATURES, "--", "-D", "warnings"]);
    ok &= check(&mut host, &mut tally)?;

    // The loader's pure parts (memory map, FDT parsing, boot preparation) have host tests.
    let mut loader_tests = cargo(root, "clippy", false);
    loader_tests.args(["-p", "loader", "--tests", "--", "-D", "warnings"]);
    ok &= check(&mut loader_tests, &mut tally)?;

    // The bare-metal crates, for each arch the test configs cover.
    let mut seen = Vec::new();
    for name in &opts.kernel_configs {
        let config = Config::load(root, name)?;
        if seen.contains(&config.arch) {
            continue;
        }
        seen.push(config.arch);
        let target = config.arch.kernel_target();
        for features in [None, Some("ktest")] {
            let mut kernel = cargo(root, "clippy", false);
            kernel.args(["-p", "kernel", "--target", target]);
            if let Some(f) = features {
                kernel.args(["--features", f]);
            }
            kernel.args(["--", "-D", "warnings"]);
            ok &= check(&mut kernel, &mut tally)?;
        }
        // The loader embeds a kernel, so one must exist first.
        let artifacts = build::build(
            root,
            &config,
            Flavor::Normal,
            false,
            &config.boot.args,
            None,
        );
        let mut loader = cargo(root, "clippy", false);
        loader.args([
            "-p",
            "loader",
            "--target",
            config.arch.loader_target(),
            "--",
            "-D",
            "warnings",
        ]);
        match artifacts {
            Ok(a) => {
                loader.env("ATOLL_KERNEL_ELF", &a.kernel);
                ok &= check(&mut loader, &mut tally)?;
            }
            Err(e) => {
                eprintln!("cannot lint the loader: {e}");
                tally.failed += 1;
                ok = false;
            }
        }
    }
    Ok((tally, ok))
}

fn host_tests(root: &Path) -> Result<(Tally, bool), String> {
    // Everything but the kernel runs its unit tests on the host; the loader
    // builds there in test mode only.
    let mut cmd = cargo(root, "test", false);
    cmd.args([
        "--workspace",
        "--exclude",
        "kernel",
        "--features",
        HOST_FEATURES,
    ]);
    let (lines, ok) = run_streaming(&mut cmd)?;
    let mut tally = Tally::default();
    for line in &lines {
        if let Some((p, f, i)) = parse_libtest_result(line) {
            tally.passed += p;
            tally.failed += f;
            tally.skipped += i;
        }
    }
    Ok((tally, ok))
}

/// Seconds the `fuzz` stage gives all targets together (`just fuzz` runs longer campaigns).
const FUZZ_SECONDS: &str = "32";
/// The stage's first seed: fixed, so that `just test` repeats the same cases.
const FUZZ_SEED: &str = "1";

/// A short run of every fuzz target (build/fuzz): each target counts as one test, failed if
/// it found anything (a divergence, a crash, a hang or a broken invariant).
fn fuzz(root: &Path) -> Result<(Tally, bool), String> {
    let findings = crate::util::target_dir(root).join("fuzz-findings");
    let mut cmd = cargo(root, "run", false);
    cmd.args([
        "-p",
        "fuzz",
        "--",
        "all",
        "--time",
        FUZZ_SECONDS,
        "--seed",
        FUZZ_SEED,
    ]);
    cmd.arg("--findings").arg(&findings);
    let (lines, ok) = run_streaming(&mut cmd)?;
    let mut tally = Tally::default();
    for (_, found) in lines.iter().filter_map(|l| parse_fuzz_line(l)) {
        if found == 0 {
            tally.passed += 1;
        } else {
            tally.failed += 1;
        }
    }
    if tally.passed + tally.failed == 0 {
        tally.failed = 1;
    }
    let ok = ok && tally.failed == 0;
    Ok((tally, ok))
}

/// A target's summary line from `fuzz`: its name and how many findings it had.
fn parse_fuzz_line(line: &str) -> Option<(&str, u64)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let name = *words.first()?;
    if words.get(2) != Some(&"cases") {
        return None;
    }
    let at = words.iter().position(|w| *w == "findings")?;
    Some((name, words.get(at.checked_sub(1)?)?.parse().ok()?))
}

/// The whole Wasm 2.0 suite on the host, twice: with the JIT, then with every
/// module precompiled and loaded from its artifact (`--precompiled`). Assertions
/// listed in the spec tool's expected-failures file are reported as skipped here
/// (the spec table itself counts them as failures); any other failure fails the
/// stage.
fn spec(root: &Path) -> Result<(Tally, bool), String> {
    if !root.join("build/spec-tool/Cargo.toml").exists() {
        return Err("build/spec-tool is missing".into());
    }
    let mut tally = Tally::default();
    let mut all_ok = true;
    for mode in [None, Some("--precompiled")] {
        let mut cmd = cargo(root, "run", false);
        cmd.args(["--quiet", "-p", "spec-tool", "--bin", "spec", "--"]);
        cmd.args(mode);
        let (lines, ok) = run_streaming(&mut cmd)?;
        let Some((passed, failed)) = lines.iter().rev().find_map(|l| parse_plain_summary(l)) else {
            tally.failed += 1;
            all_ok = false;
            continue;
        };
        tally.passed += passed;
        if ok {
            tally.skipped += failed;
        } else {
            tally.failed += failed.max(1);
            all_ok = false;
        }
    }
    Ok((tally, all_ok))
}

/// The spec suite's test subset (`spec_kernel::TEST_SUBSET`) in the kernel,
/// on each test configuration. Every assertion counts in the totals.
fn spec_kernel(root: &Path, configs: &[String]) -> (Tally, bool) {
    let mut tally = Tally::default();
    let mut ok = true;
    for config in configs {
        let options = crate::spec_kernel::Options {
            config: config.clone(),
            filters: Vec::new(),
            exact: crate::spec_kernel::TEST_SUBSET
                .iter()
                .map(|s| s.to_string())
                .collect(),
            verbose: false,
            silence: Duration::from_secs(300),
        };
        match crate::spec_kernel::run(root, &options) {
            // As in the host spec stage: listed expected failures are skipped.
            Ok(o) if o.ok => {
                tally.passed += o.passed;
                tally.skipped += o.failed;
            }
            Ok(o) => {
                tally.passed += o.passed;
                tally.failed += o.failed.max(1);
                ok = false;
            }
            Err(e) => {
                println!("spec suite in the kernel on {config}: {e}");
                tally.failed += 1;
                ok = false;
            }
        }
    }
    (tally, ok)
}

fn kernel_tests(root: &Path, config: &Config) -> Result<(Tally, bool), String> {
    let mut tally = Tally::default();
    let artifacts = match build::build(root, config, Flavor::Test, false, &config.test.args, None) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kernel test build for {} failed: {e}", config.name);
            tally.failed += 1;
            return Ok((tally, false));
        }
    };
    let launch = Launch {
        config,
        artifacts: &artifacts,
        boot_args: config.test.args.clone(),
        gdb: false,
        serial: Serial::Stdio,
        devices: Vec::new(),
    };
    let captured = qemu::run_captured(&launch, Duration::from_secs(config.test.timeout_secs))?;
    let summary = captured
        .lines
        .iter()
        .rev()
        .find_map(|l| parse_plain_summary(l));
    let mut ok = true;
    match captured.status {
        None => {
            println!(
                "kernel tests on {}: timed out after {} s",
                config.name, config.test.timeout_secs
            );
            ok = false;
        }
        Some(status) if status.code() != Some(config.test.success_status) => {
            println!("kernel tests on {}: QEMU exited with {status}", config.name);
            ok = false;
        }
        Some(_) => {}
    }
    match summary {
        Some((p, f)) => {
            tally.passed += p;
            tally.failed += f;
            ok &= f == 0;
        }
        None => {
            println!("kernel tests on {}: no summary line", config.name);
            tally.failed += 1;
            ok = false;
        }
    }
    Ok((tally, ok))
}

#[cfg(test)]
mod tests {
    use super::parse_fuzz_line;

    #[test]
    fn a_fuzz_summary_line_gives_its_target_and_findings() {
        let line =
            "diff            8208 cases      15742 executions   1 findings     60.0 s  seeds 1..9";
        assert_eq!(parse_fuzz_line(line), Some(("diff", 1)));
        assert_eq!(parse_fuzz_line("    4478  call returned"), None);
        assert_eq!(
            parse_fuzz_line("fuzz: 8208 cases, 15742 executions, no findings"),
            None
        );
    }
}
