//! Runs the Wasm 2.0 spec suite on the host with the engine's Linux backend.
//!
//! Each script runs in a child process (this binary with `--child`), so a
//! crash or hang of the engine fails that script instead of the whole run.
//! See `build/spec-tool/README.md` for usage.

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use spec_bundle::Command as SpecCommand;
use spec_runner::{Failure, Observer, Outcome};
use spec_tool::expected::ExpectedFailures;
use spec_tool::report::{FileResult, one_line, static_kind};
use spec_tool::suite::{self, SuiteFile};
use spec_tool::{Converted, convert_wast};

const USAGE: &str = "usage: spec [FILTER...] [-v|--verbose] [-j N] [--timeout SECS] \
[--expected FILE] [--write-expected FILE] [--in-process] [--precompiled] [--suite 2|3]";

struct Options {
    filters: Vec<String>,
    verbose: bool,
    jobs: usize,
    timeout: Duration,
    expected: PathBuf,
    write_expected: Option<PathBuf>,
    in_process: bool,
    /// Run every module from a precompiled artifact (`Engine::precompile`, then
    /// `Module::deserialize`) instead of the JIT's code.
    precompiled: bool,
    /// The suites to run (both unless `--suite` names one).
    suites: Vec<suite::Suite>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return match args.get(1) {
            Some(name) => child(
                name,
                args.get(2).map(String::as_str) == Some("--precompiled"),
            ),
            None => usage("--child needs a script name"),
        };
    }
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let expected = match std::fs::read_to_string(&options.expected) {
        Ok(text) => match ExpectedFailures::parse(&text) {
            Ok(list) => list,
            Err(e) => {
                eprintln!("{}: {e}", options.expected.display());
                return ExitCode::from(2);
            }
        },
        Err(e) => {
            eprintln!("cannot read {}: {e}", options.expected.display());
            return ExitCode::from(2);
        }
    };
    let files = suite::select(&options.suites, &options.filters);
    if files.is_empty() {
        return usage("no script matches the filters");
    }
    let results = run_all(&files, &options);
    report(&results, &expected, &options)
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let mut options = Options {
        filters: Vec::new(),
        verbose: false,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        timeout: Duration::from_secs(600),
        expected: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expected-failures.txt"),
        write_expected: None,
        in_process: false,
        precompiled: false,
        suites: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-v" | "--verbose" => options.verbose = true,
            "--in-process" => options.in_process = true,
            "--precompiled" => options.precompiled = true,
            "-j" | "--jobs" => {
                options.jobs = value("-j")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("-j needs a positive number")?
            }
            "--timeout" => {
                let secs: u64 = value("--timeout")?
                    .parse()
                    .map_err(|_| "--timeout needs seconds")?;
                options.timeout = Duration::from_secs(secs);
            }
            "--suite" => {
                let v = value("--suite")?;
                options
                    .suites
                    .push(suite::Suite::parse(&v).ok_or(format!("unknown suite {v}"))?);
            }
            "--expected" => options.expected = PathBuf::from(value("--expected")?),
            "--write-expected" => {
                options.write_expected = Some(PathBuf::from(value("--write-expected")?))
            }
            "-h" | "--help" => return Err(String::new()),
            a if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ => options.filters.push(arg),
        }
    }
    if options.suites.is_empty() {
        options.suites = suite::Suite::ALL.to_vec();
    }
    Ok(options)
}

fn usage(error: &str) -> ExitCode {
    if error.is_empty() {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {error}\n{USAGE}");
    ExitCode::from(2)
}

/// An engine for the script `name`, with the features it was written for.
fn engine(name: &str) -> Result<wasm_engine::Engine, wasm_engine::Error> {
    let platform = std::sync::Arc::new(wasm_engine::linux::LinuxPlatform::new());
    let mut config = wasm_engine::Config::new();
    config.wasm_features(spec_runner::features_for(name));
    wasm_engine::Engine::new(&config, platform)
}

fn run(
    engine: &wasm_engine::Engine,
    file: &spec_bundle::File,
    observer: &mut dyn Observer,
    precompiled: bool,
) -> spec_runner::FileReport {
    if precompiled {
        spec_runner::run_file_precompiled(engine, file, observer)
    } else {
        spec_runner::run_file(engine, file, observer)
    }
}

/// Child mode: run one script and stream one line per result to stdout:
/// `P <line>` passed, `H <line>` host-checked pass,
/// `F <line> <kind> <a|s> <message>` failed (assertion or setup), tab-separated,
/// then `END`.
fn child(name: &str, precompiled: bool) -> ExitCode {
    let Some(file) = suite::find(name) else {
        eprintln!("no script named {name}");
        return ExitCode::from(2);
    };
    let converted = match convert_wast(file.name, file.text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(2);
        }
    };
    let engine = match engine(name) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot create the engine: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = Streamer(stdout.lock());
    run(&engine, &converted.file, &mut out, precompiled);
    let _ = writeln!(out.0, "END");
    let _ = out.0.flush();
    ExitCode::SUCCESS
}

struct Streamer<W: Write>(W);

impl<W: Write> Observer for Streamer<W> {
    fn result(&mut self, command: &SpecCommand, outcome: Outcome, failure: Option<&Failure>) {
        // Flushing per line keeps the record complete up to a crash.
        let _ = match (outcome, failure) {
            (_, Some(f)) => writeln!(
                self.0,
                "F\t{}\t{}\t{}\t{}",
                f.line,
                f.kind,
                if f.assertion { 'a' } else { 's' },
                one_line(&f.message)
            ),
            (Outcome::HostChecked, None) => writeln!(self.0, "H\t{}", command.line),
            (_, None) if command.kind.is_assertion() => writeln!(self.0, "P\t{}", command.line),
            _ => Ok(()),
        };
        let _ = self.0.flush();
    }
}

fn run_all(files: &[SuiteFile], options: &Options) -> Vec<FileResult> {
    // Convert up front: it is fast, gives assertion totals for crash
    // accounting, and conversion errors are failures too.
    let mut converted: Vec<(SuiteFile, Result<Converted, String>)> = files
        .iter()
        .map(|f| (*f, convert_wast(f.name, f.text)))
        .collect();
    // Biggest scripts first, for better load balance.
    converted
        .sort_by_key(|(_, c)| std::cmp::Reverse(c.as_ref().map_or(0, |c| c.file.commands.len())));
    let queue = Mutex::new(converted.into_iter().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::new());
    let total = files.len();
    let jobs = if options.in_process { 1 } else { options.jobs };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let Some((file, converted)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let start = Instant::now();
                    let result = if options.in_process {
                        run_in_process(file, converted, options.precompiled)
                    } else {
                        run_child(file, converted, options)
                    };
                    let mut results = results.lock().unwrap();
                    eprintln!(
                        "[{:>3}/{total}] {:<44} {:>6} passed {:>6} failed  {:.1}s",
                        results.len() + 1,
                        file.name,
                        result.passed,
                        result.failed,
                        start.elapsed().as_secs_f64()
                    );
                    results.push(result);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}

fn run_in_process(
    file: SuiteFile,
    converted: Result<Converted, String>,
    precompiled: bool,
) -> FileResult {
    let mut result = FileResult::converted(file.name, &converted);
    if let Ok(c) = converted {
        let engine = match engine(file.name) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("cannot create the engine: {e}");
                std::process::exit(2);
            }
        };
        let report = run(&engine, &c.file, &mut spec_runner::Quiet, precompiled);
        result.passed += report.passed;
        result.failed += report.failed;
        result.host_checked += report.host_checked;
        result.failures.extend(report.failures);
    }
    result
}

fn run_child(
    file: SuiteFile,
    converted: Result<Converted, String>,
    options: &Options,
) -> FileResult {
    let timeout = options.timeout;
    let mut result = FileResult::converted(file.name, &converted);
    let Ok(converted) = converted else {
        return result;
    };
    let total = converted.file.assertion_count() as u32;
    let exe = std::env::current_exe().expect("the running binary has a path");
    let spawned = Command::new(exe)
        .arg("--child")
        .arg(file.name)
        .args(options.precompiled.then_some("--precompiled"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let (status, stdout, stderr) = match spawned {
        Ok(child) => wait_with_timeout(child, timeout),
        Err(e) => (
            Err(format!("cannot start child: {e}")),
            String::new(),
            String::new(),
        ),
    };

    let mut reported = 0;
    let mut last_line = 0;
    let mut ended = false;
    for line in stdout.lines() {
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        if let Some(n) = fields.get(1).and_then(|n| n.parse().ok()) {
            last_line = n;
        }
        match fields.as_slice() {
            ["P", _] => {
                result.passed += 1;
                reported += 1;
            }
            ["H", _] => {
                result.passed += 1;
                result.host_checked += 1;
                reported += 1;
            }
            ["F", line, kind, flag, message] => {
                let assertion = *flag == "a";
                reported += u32::from(assertion);
                result.failed += 1;
                result.failures.push(Failure {
                    line: line.parse().unwrap_or(0),
                    kind: static_kind(kind),
                    assertion,
                    message: message.to_string(),
                });
            }
            ["END"] => ended = true,
            _ => {}
        }
    }
    let exit_ok = matches!(&status, Ok(s) if s.success());
    if !ended || !exit_ok || reported != total {
        let how = match &status {
            Ok(s) => s.to_string(),
            Err(e) => e.clone(),
        };
        let missing = total.saturating_sub(reported);
        let after = match last_line {
            0 => String::from("before the first result"),
            n => format!("after line {n}"),
        };
        result.failed += missing;
        result.failures.push(Failure {
            line: 0,
            kind: "script",
            assertion: false,
            message: format!(
                "child {how} {after}; {missing} assertions not run; {}",
                panic_summary(&stderr)
            ),
        });
    }
    result
}

/// The panic location and message from a child's stderr, else its last lines.
fn panic_summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    if let Some(i) = lines.iter().position(|l| l.contains("panicked at")) {
        let message = lines.get(i + 1).copied().unwrap_or("");
        return one_line(&format!("{} {message}", lines[i].trim()));
    }
    let start = lines.len().saturating_sub(3);
    format!("stderr: {}", one_line(&lines[start..].join(" | ")))
}

type ChildOutput = (Result<std::process::ExitStatus, String>, String, String);

fn wait_with_timeout(mut child: Child, timeout: Duration) -> ChildOutput {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(pipe) = pipe {
                let mut reader = BufReader::new(pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    text.push_str(&line);
                    line.clear();
                }
            }
            text
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {}s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("wait failed: {e}")),
        }
    };
    (
        status,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

fn report(results: &[FileResult], expected: &ExpectedFailures, options: &Options) -> ExitCode {
    let summary = spec_tool::report::print(results, expected, options.verbose);
    if let Some(path) = &options.write_expected
        && let Err(e) = write_expected(path, results)
    {
        eprintln!("cannot write {}: {e}", path.display());
    }
    if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes every current failure as a list entry (a starting point for the
/// expected-failures file; reasons must then be written by hand).
fn write_expected(path: &PathBuf, results: &[FileResult]) -> std::io::Result<()> {
    let mut out = String::new();
    for r in results {
        if r.failures.iter().any(|f| f.line == 0) {
            let reason = r
                .failures
                .iter()
                .find(|f| f.line == 0)
                .map_or("", |f| &f.message);
            out.push_str(&format!("{} {}\n", r.name, one_line(reason)));
            continue;
        }
        let mut seen = BTreeSet::new();
        for f in &r.failures {
            if seen.insert(f.line) {
                out.push_str(&format!(
                    "{}:{} {}: {}\n",
                    r.name, f.line, f.kind, f.message
                ));
            }
        }
    }
    std::fs::write(path, out)
}
