//! Writes a spec bundle of selected Wasm 2.0 and 3.0 scripts (for the in-kernel runner).
//!
//! Usage: `bundle [-o FILE] [--stats] [FILTER...]`; a script is selected if its
//! name contains any FILTER (all scripts if none). Conversion errors are
//! printed and make the exit status non-zero, but the bundle is still written.

use std::process::ExitCode;

use spec_bundle::{Bundle, CommandKind};
use spec_tool::{convert_wast, suite};

fn main() -> ExitCode {
    let mut output = None;
    let mut stats = false;
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--output" => match args.next() {
                Some(path) => output = Some(path),
                None => return usage("-o needs a file name"),
            },
            "--stats" => stats = true,
            "-h" | "--help" => return usage(""),
            a if a.starts_with('-') => return usage(&format!("unknown option {a}")),
            _ => filters.push(arg),
        }
    }
    let files = suite::select(&suite::Suite::ALL, &filters);
    if files.is_empty() {
        return usage("no script matches the filters");
    }

    let mut bundle = Bundle::default();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    let mut failed = false;
    let (mut total_assertions, mut total_host_checked) = (0, 0);
    for file in files {
        let converted = match convert_wast(file.name, file.text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{}: cannot parse: {e}", file.name);
                failed = true;
                continue;
            }
        };
        for e in &converted.errors {
            eprintln!("{}:{}: {}: {}", file.name, e.line, e.directive, e.reason);
            failed = true;
        }
        let assertions = converted.file.assertion_count();
        let host_checked = converted
            .file
            .commands
            .iter()
            .filter(|c| matches!(c.kind, CommandKind::HostChecked { .. }))
            .count();
        if stats {
            println!(
                "{:<48} {:>6} assertions {:>4} host-checked {:>3} conversion errors",
                file.name,
                assertions,
                host_checked,
                converted.errors.len()
            );
        }
        for c in converted
            .file
            .commands
            .iter()
            .filter(|c| c.kind.is_assertion())
        {
            *kinds.entry(c.kind.name()).or_default() += 1;
        }
        total_assertions += assertions;
        total_host_checked += host_checked;
        bundle.files.push(converted.file);
    }
    let bytes = bundle.encode();
    if stats {
        for (kind, n) in &kinds {
            println!("{kind:<48} {n:>6}");
        }
        println!(
            "{} files, {total_assertions} assertions ({total_host_checked} host-checked), {} bytes encoded",
            bundle.files.len(),
            bytes.len()
        );
    }
    if let Some(path) = output {
        if let Err(e) = std::fs::write(&path, &bytes) {
            eprintln!("cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "wrote {} ({} files, {} bytes)",
            path,
            bundle.files.len(),
            bytes.len()
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(error: &str) -> ExitCode {
    if !error.is_empty() {
        eprintln!("error: {error}");
    }
    eprintln!("usage: bundle [-o FILE] [--stats] [FILTER...]");
    if error.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
