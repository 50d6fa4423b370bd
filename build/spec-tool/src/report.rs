//! The per-script table and totals that every spec run prints: the host
//! runner (`spec`) and the in-kernel run (`xtask spec-kernel`) share it, so
//! their output reads the same.

use std::collections::BTreeMap;

use spec_runner::Failure;

use crate::expected::ExpectedFailures;
use crate::suite;

/// The outcome of one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileResult {
    /// Script name, e.g. `wasm-v2/i32.wast`.
    pub name: String,
    /// Passed assertions, including the host-checked ones.
    pub passed: u32,
    /// Failed assertions, failed setup commands and assertions never run.
    pub failed: u32,
    pub host_checked: u32,
    /// A failure at line 0 stands for a script that did not complete.
    pub failures: Vec<Failure>,
}

/// What a report found beyond the counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: u64,
    pub failed: u64,
    /// Failures not in the expected-failures list.
    pub unlisted: usize,
    /// Listed failures that no longer happen.
    pub stale: usize,
}

impl Summary {
    /// Whether the run is clean: every failure listed, no stale entry.
    pub fn ok(&self) -> bool {
        self.unlisted == 0 && self.stale == 0
    }
}

/// The row format of the table.
fn row(
    name: &str,
    passed: impl std::fmt::Display,
    failed: impl std::fmt::Display,
    excluded: impl std::fmt::Display,
    host: impl std::fmt::Display,
) {
    println!("{name:<44} {passed:>7} {failed:>7} {excluded:>8} {host:>12}");
}

/// Prints one row per script, the totals, the failures not in `expected`,
/// stale expected entries and finally `N passed, N failed`. With `verbose`,
/// every failure is listed under its script.
pub fn print(results: &[FileResult], expected: &ExpectedFailures, verbose: bool) -> Summary {
    let (mut passed, mut failed, mut excluded, mut host_checked) = (0u64, 0u64, 0u64, 0u64);
    let mut unlisted: Vec<(&str, &Failure)> = Vec::new();
    row("script", "passed", "failed", "excluded", "host-checked");
    for r in results {
        // A crash record (line 0) stands for every assertion not run.
        let listed_count: u32 = if expected.files.contains_key(&r.name) {
            r.failed
        } else {
            r.failures
                .iter()
                .filter(|f| expected.covers(&r.name, f.line))
                .count() as u32
        };
        for f in &r.failures {
            if !expected.covers(&r.name, f.line) {
                unlisted.push((&r.name, f));
            }
        }
        row(&r.name, r.passed, r.failed, listed_count, r.host_checked);
        if verbose {
            for f in &r.failures {
                let mark = if expected.covers(&r.name, f.line) {
                    " [expected]"
                } else {
                    ""
                };
                println!("    {}:{}: {}: {}{mark}", r.name, f.line, f.kind, f.message);
            }
        }
        passed += u64::from(r.passed);
        failed += u64::from(r.failed);
        excluded += u64::from(listed_count);
        host_checked += u64::from(r.host_checked);
    }
    row("total", passed, failed, excluded, host_checked);

    // Listed exclusions that no longer fail (only for scripts that ran).
    let ran: BTreeMap<&str, &FileResult> = results.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut stale = Vec::new();
    for (file, reason) in &expected.files {
        if ran
            .get(file.as_str())
            .is_some_and(|r| r.failures.is_empty())
        {
            stale.push(format!("{file} ({reason})"));
        }
    }
    for ((file, line), reason) in &expected.lines {
        if let Some(r) = ran.get(file.as_str())
            && !r.failures.iter().any(|f| f.line == *line)
        {
            stale.push(format!("{file}:{line} ({reason})"));
        }
    }

    println!();
    println!(
        "{} scripts; {host_checked} of the passes are host-checked text-format assertions the engine never saw",
        results.len()
    );
    if !unlisted.is_empty() {
        println!(
            "{} failures not in the expected-failures list:",
            unlisted.len()
        );
        let shown = if verbose { 0 } else { 20 };
        for (file, f) in unlisted.iter().take(shown) {
            println!("    {file}:{}: {}: {}", f.line, f.kind, f.message);
        }
        if !verbose && unlisted.len() > shown {
            println!("    ... {} more (use --verbose)", unlisted.len() - shown);
        }
    }
    if !stale.is_empty() {
        println!("expected failures that now pass (remove them from the list):");
        for s in &stale {
            println!("    {s}");
        }
    }
    for s in suite::Suite::ALL {
        let (p, f) = results
            .iter()
            .filter(|r| suite::Suite::of(&r.name) == s)
            .fold((0u64, 0u64), |(p, f), r| {
                (p + u64::from(r.passed), f + u64::from(r.failed))
            });
        if p + f == 0 {
            continue;
        }
        println!("Wasm {}: {p} passed, {f} failed", s.version());
        let mut left_out = 0;
        for (name, reason) in s.excluded() {
            let n = excluded_assertions(s, name);
            left_out += n;
            println!("  excluded: {name} ({n} assertions): {reason}");
        }
        if !s.excluded().is_empty() {
            println!(
                "  {left_out} assertions in {} excluded scripts not run",
                s.excluded().len()
            );
        }
    }
    println!("{excluded} of the failures are listed as expected");
    println!("{passed} passed, {failed} failed");
    Summary {
        passed,
        failed,
        unlisted: unlisted.len(),
        stale: stale.len(),
    }
}

/// `s` on one line, without tabs (the line-oriented protocols' separator).
pub fn one_line(s: &str) -> String {
    s.replace(['\n', '\t', '\r'], " ")
}

/// Failure kinds are the runner's static command names; maps a kind read
/// back from text to its static name (`unknown` for anything else).
pub fn static_kind(kind: &str) -> &'static str {
    const KINDS: &[&str] = &[
        "module",
        "module definition",
        "module instance",
        "register",
        "action",
        "assert_return",
        "assert_trap",
        "assert_exhaustion",
        "assert_exception",
        "assert_malformed",
        "assert_invalid",
        "assert_unlinkable",
        "assert_uninstantiable",
        "assert_malformed (host-checked)",
        "assert_invalid (host-checked)",
        "script",
    ];
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("unknown")
}

impl FileResult {
    /// A result for `name` with its conversion errors (or the parse error of
    /// the whole script) already counted as failures.
    pub fn converted(name: &str, converted: &Result<crate::Converted, String>) -> FileResult {
        let mut result = FileResult {
            name: name.to_string(),
            ..FileResult::default()
        };
        match converted {
            Ok(c) => {
                for e in &c.errors {
                    result.failed += 1;
                    result.failures.push(Failure {
                        line: e.line,
                        kind: e.directive,
                        assertion: crate::convert::is_assertion_directive(e.directive),
                        message: format!("not converted: {}", e.reason),
                    });
                }
            }
            Err(e) => {
                result.failed += 1;
                result.failures.push(Failure {
                    line: 0,
                    kind: "script",
                    assertion: false,
                    message: format!("cannot parse script: {}", one_line(e)),
                });
            }
        }
        result
    }
}

/// The assertions of an excluded script (0 if it is not in the crate or does
/// not parse).
fn excluded_assertions(s: suite::Suite, name: &str) -> usize {
    suite::raw(s, name)
        .and_then(|text| crate::convert_wast(name, text).ok())
        .map_or(0, |c| c.file.assertion_count())
}
