//! `cargo xtask difftest [--runner NAME] [FILTER...]`: the differential test. Every case of
//! `user/wasi-corpus/cases.toml` (or those whose name contains a FILTER) runs on the reference,
//! wasmtime 51, and on the runner under test, each on its own fresh copies of the fixtures;
//! then stdout, stderr, the exit code and the resulting tree of every preopened directory must
//! match (stderr only up to a runtime's report of how the program failed, `Error: failed to run
//! main module ...`, whose backtrace is the runtime's own). Prints one line per case (with a
//! readable diff under a failing one) and a final `N passed, N failed`.
//!
//! The runner under test is picked by name in `runner_under_test`, behind the
//! `runner::Runner` trait: `wasmtime` runs the reference against itself (which checks that
//! every case is deterministic), `atoll-host` runs atoll's engine, WASI layer and 9P client on
//! the host (`build/wasi-run`, seconds for the whole corpus), and `riscv64`, `x86_64` or
//! `config=NAME` run atoll under QEMU.

mod diff;
mod manifest;
mod prepare;
pub mod runner;
mod tree;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use manifest::{Case, Manifest};
use prepare::Layout;
use runner::{Outcome, Prepared, Runner};

use crate::userland;

const USAGE: &str = "usage: cargo xtask difftest [--runner NAME] [FILTER...]
  runs the cases of user/wasi-corpus/cases.toml on wasmtime 51 (the reference) and on the runner
  NAME: wasmtime (the default: checks that every case is deterministic), atoll-host (atoll's
  WASI layer on the host, build/wasi-run), riscv64, x86_64 or config=NAME (atoll under QEMU);
  a FILTER keeps the cases whose name contains it";

/// The runner a `--runner NAME` asks for.
fn runner_under_test(root: &Path, name: &str) -> Result<Box<dyn Runner + Send>, String> {
    match name {
        "wasmtime" => Ok(Box::new(runner::Wasmtime::new(root, "wasmtime")?)),
        "atoll-host" => Ok(Box::new(runner::CommandRunner::atoll_host(root)?)),
        "riscv64" | "x86_64" => Ok(Box::new(runner::AtollQemu::new(
            root,
            &format!("qemu-{name}"),
        )?)),
        other => match other.strip_prefix("config=") {
            Some(config) => Ok(Box::new(runner::AtollQemu::new(root, config)?)),
            None => Err(format!(
                "unknown runner `{other}` (known: wasmtime, atoll-host, riscv64, x86_64, \
                 config=NAME)\n\n{USAGE}"
            )),
        },
    }
}

struct Options {
    runner: String,
    filters: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        runner: "wasmtime".into(),
        filters: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runner" => {
                opts.runner = it
                    .next()
                    .ok_or(format!("--runner needs a name\n\n{USAGE}"))?
                    .clone()
            }
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`\n\n{USAGE}")),
            s => opts.filters.push(s.to_string()),
        }
    }
    Ok(opts)
}

pub fn main(root: &Path, args: &[String]) -> Result<bool, String> {
    let opts = parse_args(args)?;
    let (_, failed) = run(root, &opts.runner, &opts.filters)?;
    Ok(failed == 0)
}

/// Runs the cases matching `filters` (all without) on the reference and on runner
/// `runner_name`; returns (passed, failed).
pub fn run(root: &Path, runner_name: &str, filters: &[String]) -> Result<(u64, u64), String> {
    let opts = Options {
        runner: runner_name.to_string(),
        filters: filters.to_vec(),
    };
    let mut test = runner_under_test(root, &opts.runner)?;
    let mut reference = runner::Wasmtime::new(root, "wasmtime")?;
    userland::run_build_script(root)?;
    let layout = Layout::new(root);
    let path = layout.corpus.join("cases.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest = manifest::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    check_coverage(&layout, &manifest)?;
    let cases: Vec<&Case> = manifest
        .cases
        .iter()
        .filter(|c| {
            opts.filters.is_empty() || opts.filters.iter().any(|f| c.name.contains(f.as_str()))
        })
        .collect();
    if cases.is_empty() {
        return Err(format!("no case matches {:?}", opts.filters));
    }
    let ref_label = reference.name().to_string();
    let test_label = if test.name() == ref_label {
        format!("{}-again", test.name())
    } else {
        test.name().to_string()
    };
    // Per checkout, beside the reference in `target/tools/` (not in a shared CARGO_TARGET_DIR,
    // where two worktrees' runs would overwrite each other's cases).
    let work = root.join("target/difftest");
    let prepare_side = |label: &str| -> Result<Vec<Prepared>, String> {
        cases
            .iter()
            .map(|c| layout.prepare(c, &work.join(label).join(&c.name)))
            .collect()
    };
    let (ref_cases, test_cases) = (prepare_side(&ref_label)?, prepare_side(&test_label)?);
    println!(
        "difftest: {} cases, {ref_label} against {test_label} (work dir {})",
        cases.len(),
        work.display()
    );

    let start = Instant::now();
    let (ref_out, test_out) = std::thread::scope(|s| {
        let r = s.spawn(|| timed(&mut reference, &ref_cases));
        let t = s.spawn(|| timed(test.as_mut(), &test_cases));
        (join(r), join(t))
    });
    let (ref_out, ref_secs) = ref_out?;
    let (test_out, test_secs) = test_out?;
    for (label, outs) in [(&ref_label, &ref_out), (&test_label, &test_out)] {
        if outs.len() != cases.len() {
            return Err(format!(
                "runner {label} returned {} outcomes for {} cases",
                outs.len(),
                cases.len()
            ));
        }
    }

    let (mut passed, mut failed) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        let problems = compare_case(
            case,
            (&ref_cases[i], &ref_out[i]),
            (&test_cases[i], &test_out[i]),
            &ref_label,
            &test_label,
        );
        if problems.is_empty() {
            passed += 1;
            println!("ok   {}", case.name);
        } else {
            failed += 1;
            println!("FAIL {}", case.name);
            for p in problems {
                for (j, line) in p.lines().enumerate() {
                    println!("{}{line}", if j == 0 { "     - " } else { "       " });
                }
            }
        }
    }
    println!(
        "difftest: {ref_label} {ref_secs:.1} s, {test_label} {test_secs:.1} s, {:.1} s in all",
        start.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    Ok((passed, failed))
}

fn timed(r: &mut (dyn Runner + Send), cases: &[Prepared]) -> Result<(Vec<Outcome>, f64), String> {
    let t = Instant::now();
    let out = r
        .run_all(cases)
        .map_err(|e| format!("runner {}: {e}", r.name()))?;
    Ok((out, t.elapsed().as_secs_f64()))
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, String>>) -> Result<T, String> {
    h.join()
        .unwrap_or_else(|_| Err("a runner thread panicked".into()))
}

/// Everything that differs between the two runs of one case (empty when they match).
fn compare_case(
    case: &Case,
    a: (&Prepared, &Outcome),
    b: (&Prepared, &Outcome),
    la: &str,
    lb: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (label, o) in [(la, a.1), (lb, b.1)] {
        if o.code < 0 {
            out.push(format!(
                "{label} gave no exit code; its stderr ends: \"{}\"",
                diff::escape(tail(&o.stderr))
            ));
        }
    }
    if a.1.code != b.1.code {
        out.push(format!("exit code: {la} {}, {lb} {}", a.1.code, b.1.code));
    }
    if let Some(d) = diff::describe(&a.1.stdout, &b.1.stdout, la, lb) {
        out.push(format!("stdout: {d}"));
    }
    if case.compare_stderr {
        let ((ea, ra), (eb, rb)) = (program_stderr(&a.1.stderr), program_stderr(&b.1.stderr));
        if let Some(d) = diff::describe(ea, eb, la, lb) {
            out.push(format!("stderr: {d}"));
        }
        if ra != rb {
            let has = |r: bool| if r { "reports" } else { "does not report" };
            out.push(format!(
                "stderr: {la} {} how the program failed, {lb} {}",
                has(ra),
                has(rb)
            ));
        }
    }
    for ((ha, guest, _), (hb, _, _)) in a.0.dirs.iter().zip(&b.0.dirs) {
        match (tree::snapshot(ha), tree::snapshot(hb)) {
            (Ok(ta), Ok(tb)) => {
                for d in tree::compare(&ta, &tb, la, lb) {
                    out.push(format!("dir {guest}: {d}"));
                }
            }
            (Err(e), _) | (_, Err(e)) => out.push(format!("dir {guest}: {e}")),
        }
    }
    out
}

/// How a runtime reports a program it had to stop (wasmtime's CLI wording, which atoll's init
/// and `wasi-run` use too).
const RUNTIME_REPORT: &[u8] = b"Error: failed to run main module";

/// What the program itself wrote to stderr: everything before the runtime's report of how it
/// failed (whose text, a backtrace with code offsets, is the runtime's own), and whether there
/// is such a report.
fn program_stderr(stderr: &[u8]) -> (&[u8], bool) {
    match stderr
        .windows(RUNTIME_REPORT.len())
        .position(|w| w == RUNTIME_REPORT)
    {
        Some(at) => (&stderr[..at], true),
        None => (stderr, false),
    }
}

fn tail(b: &[u8]) -> &[u8] {
    &b[b.len().saturating_sub(200)..]
}

/// Every program built into `user/target/corpus` or `user/target/wasm` has a case or is
/// excluded with a reason, and every excluded program exists.
fn check_coverage(layout: &Layout, m: &Manifest) -> Result<(), String> {
    let mut built = BTreeSet::new();
    for dir in &layout.program_dirs {
        let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for e in rd.flatten() {
            if let Some(n) = e.file_name().to_str().and_then(|n| n.strip_suffix(".wasm")) {
                built.insert(n.to_string());
            }
        }
    }
    let used: BTreeSet<&str> = m.cases.iter().map(|c| c.program.as_str()).collect();
    let excluded: BTreeSet<&str> = m.excluded.iter().map(|e| e.program.as_str()).collect();
    let uncovered: Vec<&str> = built
        .iter()
        .map(String::as_str)
        .filter(|p| !used.contains(p) && !excluded.contains(p))
        .collect();
    if !uncovered.is_empty() {
        return Err(format!(
            "programs with no case in cases.toml (add one, or an [[excluded]] with a reason): {uncovered:?}"
        ));
    }
    let stale: Vec<&str> = excluded
        .iter()
        .copied()
        .filter(|p| !built.contains(*p))
        .collect();
    if !stale.is_empty() {
        return Err(format!(
            "cases.toml excludes programs that do not exist: {stale:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(compare_stderr: bool) -> Case {
        manifest::parse(&format!(
            "[[case]]\nname = \"c\"\nprogram = \"p\"\ncompare_stderr = {compare_stderr}\n"
        ))
        .unwrap()
        .cases
        .remove(0)
    }

    fn prepared() -> Prepared {
        Prepared {
            name: "c".into(),
            wasm: "p.wasm".into(),
            argv: vec![],
            env: vec![],
            stdin: vec![],
            dirs: vec![],
            scratch: "/nonexistent".into(),
        }
    }

    fn outcome(stdout: &str, stderr: &str, code: i32) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            stderr: stderr.into(),
            code,
        }
    }

    fn problems(c: &Case, a: &Outcome, b: &Outcome) -> Vec<String> {
        let p = prepared();
        compare_case(c, (&p, a), (&p, b), "wasmtime", "atoll")
    }

    #[test]
    fn equal_outcomes_pass() {
        let o = outcome("out\n", "err\n", 3);
        assert!(problems(&case(true), &o, &o).is_empty());
    }

    #[test]
    fn a_different_exit_code_fails_and_names_both_codes() {
        let p = problems(&case(true), &outcome("", "", 0), &outcome("", "", 134));
        assert_eq!(p, ["exit code: wasmtime 0, atoll 134"]);
    }

    #[test]
    fn a_different_stdout_fails_with_the_first_differing_line() {
        let p = problems(
            &case(true),
            &outcome("a\nb\n", "", 0),
            &outcome("a\nc\n", "", 0),
        );
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("stdout: first difference at byte 2 (line 2"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn the_runtimes_report_of_a_failure_is_not_compared_but_what_the_program_wrote_is() {
        let wasmtime = outcome(
            "",
            "oops\nError: failed to run main module `a`\n  0x18b0",
            1,
        );
        let atoll = outcome(
            "",
            "oops\nError: failed to run main module `b`\n  fd_advise",
            1,
        );
        assert!(problems(&case(true), &wasmtime, &atoll).is_empty());
        let other = outcome("", "other\nError: failed to run main module `b`\n", 1);
        let p = problems(&case(true), &wasmtime, &other);
        assert!(p.len() == 1 && p[0].starts_with("stderr: "), "{p:?}");
        let silent = outcome("", "oops\n", 1);
        let p = problems(&case(true), &wasmtime, &silent);
        assert_eq!(
            p,
            ["stderr: wasmtime reports how the program failed, atoll does not report"]
        );
    }

    #[test]
    fn stderr_is_ignored_only_where_the_case_says_so() {
        let (a, b) = (
            outcome("", "Error: one", 134),
            outcome("", "Error: two", 134),
        );
        assert!(problems(&case(false), &a, &b).is_empty());
        let p = problems(&case(true), &a, &b);
        assert!(p[0].starts_with("stderr: "), "{p:?}");
    }

    #[test]
    fn a_missing_exit_code_never_passes_even_on_both_sides() {
        let o = outcome("", "difftest: killed after 120 s\n", -1);
        let p = problems(&case(true), &o, &o);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("wasmtime gave no exit code"), "{p:?}");
    }

    #[test]
    fn options_take_a_runner_and_filters_and_refuse_unknown_flags() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse_args(&args(&["--runner", "wasmtime", "file-", "args"])).unwrap();
        assert_eq!(o.runner, "wasmtime");
        assert_eq!(o.filters, ["file-", "args"]);
        assert!(parse_args(&args(&["--runner"])).is_err());
        assert!(parse_args(&args(&["--bogus"])).is_err());
    }
}
