//! `xtask spec-kernel`: the Wasm 2.0 spec suite inside the kernel.
//!
//! Converts the selected scripts with `spec-tool`, puts one bundle per
//! script in an initrd (`spec/NNN.bundle`), boots the kernel test build
//! (which runs them instead of its tests, see `kernel/src/spec_suite.rs`),
//! reads its `spec-*` lines and prints the host runner's table
//! (`spec_tool::report`). If the kernel dies inside a script, that script's
//! assertions count as failed and the suite goes on in a fresh boot with the
//! scripts after it.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use spec_bundle::Bundle;
use spec_runner::Failure;
use spec_tool::expected::ExpectedFailures;
use spec_tool::report::{self, FileResult, static_kind};
use spec_tool::{Converted, convert_wast, suite};

use crate::build::{self, Flavor};
use crate::config::Config;
use crate::qemu::{Launch, Serial};
use crate::util::describe;

/// The scripts `just test` runs in the kernel: one or more per feature area
/// (numerics, control, calls, memory, tables, bulk memory, references,
/// linking, the binary format, SIMD) and every script about traps and stack
/// exhaustion. Whole-file names under the suite (`wasm-v2/`, `simd/`).
pub const TEST_SUBSET: &[&str] = &[
    // Traps and exhaustion: every script with an assert_trap or
    // assert_exhaustion (some also stand for their feature area below).
    "wasm-v2/traps.wast",
    "wasm-v2/align.wast",
    "wasm-v2/memory_copy.wast",
    "wasm-v2/table_copy.wast",
    "wasm-v2/table_init.wast",
    "wasm-v2/unreached-valid.wast",
    "wasm-v2/memory_trap.wast",
    "wasm-v2/conversions.wast",
    "wasm-v2/int_exprs.wast",
    "wasm-v2/unreachable.wast",
    "wasm-v2/unwind.wast",
    "wasm-v2/call.wast",
    "wasm-v2/call_indirect.wast",
    "wasm-v2/fac.wast",
    "wasm-v2/skip-stack-guard-page.wast",
    "wasm-v2/address.wast",
    "wasm-v2/func_ptrs.wast",
    "wasm-v2/start.wast",
    // Numerics.
    "wasm-v2/i32.wast",
    "wasm-v2/i64.wast",
    "wasm-v2/f32.wast",
    "wasm-v2/float_exprs.wast",
    // Control.
    "wasm-v2/br_table.wast",
    "wasm-v2/if.wast",
    "wasm-v2/loop.wast",
    // Memory and bulk memory.
    "wasm-v2/memory_grow.wast",
    "wasm-v2/memory_fill.wast",
    "wasm-v2/memory_init.wast",
    "wasm-v2/bulk.wast",
    "wasm-v2/data.wast",
    // Tables and references.
    "wasm-v2/table_grow.wast",
    "wasm-v2/table_get.wast",
    "wasm-v2/table_set.wast",
    "wasm-v2/table_fill.wast",
    "wasm-v2/elem.wast",
    "wasm-v2/ref_func.wast",
    "wasm-v2/ref_is_null.wast",
    "wasm-v2/select.wast",
    // Globals, linking, imports.
    "wasm-v2/global.wast",
    "wasm-v2/linking.wast",
    "wasm-v2/imports.wast",
    // Binary format and validation.
    "wasm-v2/binary.wast",
    "wasm-v2/binary-leb128.wast",
    "wasm-v2/unreached-invalid.wast",
    // SIMD: memory (incl. its traps), integer and float lanes, conversions.
    "simd/simd_address.wast",
    "simd/simd_load_splat.wast",
    "simd/simd_load_extend.wast",
    "simd/simd_load_zero.wast",
    "simd/simd_lane.wast",
    "simd/simd_i32x4_arith.wast",
    "simd/simd_f32x4_arith.wast",
    "simd/simd_conversions.wast",
    "simd/simd_bitwise.wast",
    // Wasm 3.0, a script or two per feature: tail calls, extended constants,
    // multi-memory, memory64, typed function references (and type equality by
    // recursion group), exception handling and relaxed SIMD.
    "tail-call/return_call.wast",
    "wasm-v3/return_call_indirect.wast",
    "extended-const/global.wast",
    "multi-memory/memory_copy0.wast",
    "multi-memory/memory_trap1.wast",
    "memory64/memory_trap64.wast",
    "memory64/memory_grow64.wast",
    "function-references/call_ref.wast",
    "wasm-v3/return_call_ref.wast",
    "wasm-v3/br_on_null.wast",
    "wasm-v3/br_on_non_null.wast",
    "wasm-v3/type-equivalence.wast",
    "exceptions/try_table.wast",
    "exceptions/throw_ref.wast",
    "exceptions/tag.wast",
    "wasm-v3/imports.wast",
    "relaxed-simd/relaxed_madd_nmadd.wast",
    "relaxed-simd/relaxed_dot_product.wast",
];

/// Boot arguments, timeouts and what to run.
pub struct Options {
    pub config: String,
    /// Substrings of script names; empty: every script.
    pub filters: Vec<String>,
    /// Exact script names (the test subset); empty: use `filters`.
    pub exact: Vec<String>,
    pub verbose: bool,
    /// Kill QEMU when it prints no spec line for this long.
    pub silence: Duration,
}

/// The totals of a run.
pub struct Outcome {
    pub passed: u64,
    pub failed: u64,
    /// Every failure was listed as expected and no listed one passed.
    pub ok: bool,
}

/// Parses `spec-kernel` arguments: `[arch=A | A] [--config C] [-v] [FILTER...]`.
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        config: String::from("qemu-riscv64"),
        filters: Vec::new(),
        exact: Vec::new(),
        verbose: false,
        silence: Duration::from_secs(900),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--config" => {
                options.config = it.next().ok_or("--config needs a value")?.clone();
            }
            "-v" | "--verbose" => options.verbose = true,
            "riscv64" | "arch=riscv64" => options.config = String::from("qemu-riscv64"),
            "x86_64" | "arch=x86_64" => options.config = String::from("qemu-x86_64"),
            a if a.starts_with("arch=") => return Err(format!("unknown architecture in `{a}`")),
            a if a.starts_with('-') => return Err(format!("unknown option `{a}`")),
            _ => options.filters.push(arg.clone()),
        }
    }
    Ok(options)
}

/// A script on its way to the kernel.
struct Pending {
    name: &'static str,
    assertions: u32,
    bundle: Vec<u8>,
}

/// What the kernel said about one script.
#[derive(Default)]
struct KernelFile {
    started: bool,
    finished: bool,
    passed: u32,
    failed: u32,
    host_checked: u32,
    failures: Vec<Failure>,
}

/// Runs the selected scripts in the kernel and prints the table.
pub fn run(root: &Path, options: &Options) -> Result<Outcome, String> {
    let config = Config::load(root, &options.config)?;
    let files: Vec<_> = if options.exact.is_empty() {
        suite::select(&suite::Suite::ALL, &options.filters)
    } else {
        let mut files = Vec::new();
        for name in &options.exact {
            files.push(suite::find(name).ok_or_else(|| format!("no spec script named {name}"))?);
        }
        files
    };
    if files.is_empty() {
        return Err("no spec script matches the filters".into());
    }
    let expected_path = root.join("build/spec-tool/expected-failures.txt");
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("reading {}: {e}", expected_path.display()))
        .and_then(|t| {
            ExpectedFailures::parse(&t).map_err(|e| format!("{}: {e}", expected_path.display()))
        })?;

    // Conversion errors count as failures, as on the host.
    let mut results: BTreeMap<&'static str, FileResult> = BTreeMap::new();
    let mut pending = VecDeque::new();
    for f in &files {
        let converted: Result<Converted, String> = convert_wast(f.name, f.text);
        results.insert(f.name, FileResult::converted(f.name, &converted));
        if let Ok(c) = converted {
            let assertions = c.file.assertion_count() as u32;
            let bundle = Bundle {
                files: vec![c.file],
            }
            .encode();
            pending.push_back(Pending {
                name: f.name,
                assertions,
                bundle,
            });
        }
    }

    let start = Instant::now();
    let total = pending.len();
    let mut kernel: BTreeMap<&'static str, KernelFile> = BTreeMap::new();
    let mut boots = 0;
    while !pending.is_empty() {
        boots += 1;
        let mut archive = initrd::Builder::new();
        archive.dir("spec");
        for (i, p) in pending.iter().enumerate() {
            archive.file(&format!("spec/{i:04}.bundle"), &p.bundle);
        }
        let archive = archive.finish();
        let artifacts = build::build(
            root,
            &config,
            Flavor::Test,
            false,
            &config.test.args,
            Some(&archive),
        )?;
        let launch = Launch {
            config: &config,
            artifacts: &artifacts,
            boot_args: config.test.args.clone(),
            gdb: false,
            serial: Serial::Stdio,
            devices: Vec::new(),
        };
        let end = boot(&launch, options.silence, &mut kernel, total, start)?;
        settle(&mut pending, &mut kernel, &end);
    }

    for (name, k) in kernel {
        let r = results
            .get_mut(name)
            .expect("every kernel script was selected");
        r.passed += k.passed;
        r.failed += k.failed;
        r.host_checked += k.host_checked;
        r.failures.extend(k.failures);
    }
    let results: Vec<FileResult> = results.into_values().collect();
    let summary = report::print(&results, &expected, options.verbose);
    println!(
        "in-kernel on {}: {} scripts in {:.0} s ({boots} boot{})",
        config.name,
        results.len(),
        start.elapsed().as_secs_f64(),
        if boots == 1 { "" } else { "s" }
    );
    Ok(Outcome {
        passed: summary.passed,
        failed: summary.failed,
        ok: summary.ok(),
    })
}

/// After a boot: drops the scripts that ran from `pending`. A script the
/// kernel stopped in counts as failed whole, and the next boot starts after
/// it; if no script ran at all, every pending one fails (booting again
/// would fail the same way).
fn settle(
    pending: &mut VecDeque<Pending>,
    kernel: &mut BTreeMap<&'static str, KernelFile>,
    end: &str,
) {
    // Drop what ran; a script the kernel died in counts as failed.
    let mut progressed = false;
    while let Some(p) = pending.front() {
        let k = kernel.entry(p.name).or_default();
        if k.finished {
            progressed = true;
            pending.pop_front();
        } else if k.started {
            k.failed = p.assertions;
            k.passed = 0;
            k.host_checked = 0;
            k.failures.push(Failure {
                line: 0,
                kind: "script",
                assertion: false,
                message: format!(
                    "the kernel stopped in this script ({end}); its {} assertions count as failed",
                    p.assertions
                ),
            });
            k.finished = true;
            progressed = true;
            eprintln!("spec-kernel: {} brought the kernel down ({end})", p.name);
            pending.pop_front();
            break;
        } else {
            break;
        }
    }
    if !progressed {
        // Nothing ran at all: booting again would fail the same way.
        for p in pending.drain(..) {
            let k = kernel.entry(p.name).or_default();
            k.failed = p.assertions;
            k.failures.push(Failure {
                line: 0,
                kind: "script",
                assertion: false,
                message: format!("not run: the kernel ran no script ({end})"),
            });
        }
    }
}

/// Boots once and records every `spec-*` line; returns how the boot ended.
fn boot(
    launch: &Launch<'_>,
    silence: Duration,
    kernel: &mut BTreeMap<&'static str, KernelFile>,
    total: usize,
    start: Instant,
) -> Result<String, String> {
    let mut cmd = launch.command()?;
    eprintln!("+ {}", describe(&cmd));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", launch.config.qemu.binary))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let rx = crate::qemu::console_lines(stdout, false);
    // Names in kernel lines map back to the static suite names.
    let names: Vec<&'static str> = suite::select(&suite::Suite::ALL, &[])
        .into_iter()
        .map(|f| f.name)
        .collect();
    let lookup = |n: &str| names.iter().copied().find(|s| *s == n);
    let mut done = 0;
    let mut total_seen = false;
    let end = loop {
        let line = match rx.recv_timeout(silence) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Disconnected) => break String::from("QEMU exited"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                break format!("no output for {} s, QEMU killed", silence.as_secs());
            }
        };
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["spec-start", name, _] => {
                if let Some(n) = lookup(name) {
                    kernel.entry(n).or_default().started = true;
                }
            }
            ["spec-fail", name, line, kind, flag, message] => {
                if let Some(n) = lookup(name) {
                    kernel.entry(n).or_default().failures.push(Failure {
                        line: line.parse().unwrap_or(0),
                        kind: static_kind(kind),
                        assertion: *flag == "a",
                        message: message.to_string(),
                    });
                }
            }
            ["spec-file", name, passed, failed, host, ms] => {
                if let Some(n) = lookup(name) {
                    let k = kernel.entry(n).or_default();
                    let num = |s: &str| s.parse::<u32>().unwrap_or(0);
                    k.passed = num(passed);
                    k.failed = num(failed);
                    k.host_checked = num(host);
                    k.finished = true;
                    done += 1;
                    eprintln!(
                        "[{:>3}/{total}] {:<44} {:>6} passed {:>6} failed  {:.1}s  ({:.0} s)",
                        done,
                        n,
                        k.passed,
                        k.failed,
                        num(ms) as f64 / 1000.0,
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            ["spec-total", ..] => total_seen = true,
            [other, ..] if other.starts_with("spec-") => eprintln!("{line}"),
            // Boot messages, faults and panics: useful when something breaks.
            _ if done == 0 || !line.trim().is_empty() => eprintln!("  | {line}"),
            _ => {}
        }
    };
    let status = child.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
    Ok(if total_seen {
        format!("finished, QEMU {status}")
    } else {
        format!("{end}, {status}")
    })
}

#[cfg(test)]
mod tests {
    use spec_bundle::CommandKind;

    use super::*;

    #[test]
    fn the_test_subset_has_every_2_0_trap_and_exhaustion_script() {
        for name in TEST_SUBSET {
            assert!(suite::find(name).is_some(), "{name} is not in the suite");
        }
        let all = suite::wasm2();
        for f in &all {
            let converted = convert_wast(f.name, f.text).unwrap();
            let traps = converted.file.commands.iter().any(|c| {
                matches!(
                    c.kind,
                    CommandKind::AssertTrap { .. }
                        | CommandKind::AssertExhaustion { .. }
                        | CommandKind::AssertUninstantiable { .. }
                )
            });
            assert!(
                !traps || TEST_SUBSET.contains(&f.name),
                "{} has trap assertions but is not in TEST_SUBSET",
                f.name
            );
        }
    }

    #[test]
    fn the_test_subset_has_a_script_of_every_wasm_3_0_folder() {
        let folders: std::collections::BTreeSet<&str> = suite::wasm3()
            .iter()
            .filter_map(|f| f.name.split('/').next())
            .collect();
        for folder in folders {
            assert!(
                TEST_SUBSET.iter().any(|n| n.starts_with(folder)),
                "no script of {folder} in TEST_SUBSET"
            );
        }
    }

    #[test]
    fn a_kernel_crash_fails_its_script_and_the_next_boot_goes_on() {
        let script = |name, assertions| Pending {
            name,
            assertions,
            bundle: Vec::new(),
        };
        let mut pending: VecDeque<Pending> =
            [script("a", 3), script("b", 5), script("c", 7)].into();
        let mut kernel = BTreeMap::new();
        kernel.insert(
            "a",
            KernelFile {
                started: true,
                finished: true,
                passed: 3,
                ..KernelFile::default()
            },
        );
        kernel.insert(
            "b",
            KernelFile {
                started: true,
                ..KernelFile::default()
            },
        );
        settle(&mut pending, &mut kernel, "QEMU exited");
        assert_eq!(pending.iter().map(|p| p.name).collect::<Vec<_>>(), ["c"]);
        let b = &kernel["b"];
        assert_eq!((b.passed, b.failed, b.finished), (0, 5, true));
        assert!(b.failures[0].message.contains("stopped in this script"));
        assert_eq!(kernel["a"].passed, 3);
        // A boot that runs nothing fails everything left, and ends the run.
        settle(&mut pending, &mut kernel, "no output");
        assert!(pending.is_empty());
        assert_eq!(kernel["c"].failed, 7);
    }

    #[test]
    fn arguments_pick_the_arch_and_filters() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = args(&["arch=x86_64", "i32", "-v"]).unwrap();
        assert_eq!(
            (o.config.as_str(), o.filters.as_slice(), o.verbose),
            ("qemu-x86_64", &["i32".to_string()][..], true)
        );
        assert_eq!(args(&[]).unwrap().config, "qemu-riscv64");
        assert!(args(&["arch=arm"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
