//! The `spec` binary: summary line, exit status and the expected-failures list.

use std::process::Command;

fn spec(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spec"))
        .args(args)
        .output()
        .expect("spec runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn temp_list(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("spec-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn clean_run_ends_with_the_totals_line() {
    let (code, out) = spec(&["wasm-v2/i32.wast"]);
    assert_eq!(out.lines().last(), Some("459 passed, 0 failed"), "{out}");
    assert_eq!(code, 0);
}

#[test]
fn a_listed_failure_that_passes_is_an_error() {
    let list = temp_list("stale", "wasm-v2/i32.wast:5 pretend this fails\n");
    let (code, out) = spec(&["wasm-v2/i32.wast", "--expected", &list]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("wasm-v2/i32.wast:5 (pretend this fails)"),
        "{out}"
    );
    // Entries for scripts that did not run are not judged.
    let (code, _) = spec(&["wasm-v2/i64.wast", "--expected", &list]);
    assert_eq!(code, 0);
}

#[test]
fn bad_list_and_unknown_filter_are_usage_errors() {
    let list = temp_list("bad", "no-reason-here\n");
    assert_eq!(spec(&["i32.wast", "--expected", &list]).0, 2);
    assert_eq!(spec(&["no-such-script"]).0, 2);
}

#[test]
fn the_whole_suite_round_trips_through_a_bundle() {
    let mut bundle = spec_bundle::Bundle::default();
    for file in spec_tool::suite::wasm2() {
        let converted = spec_tool::convert_wast(file.name, file.text).unwrap();
        assert_eq!(converted.errors, vec![], "{}", file.name);
        bundle.files.push(converted.file);
    }
    let assertions: usize = bundle.files.iter().map(|f| f.assertion_count()).sum();
    assert_eq!((bundle.files.len(), assertions), (148, 52225));
    let decoded = spec_bundle::Bundle::decode(&bundle.encode()).unwrap();
    assert!(decoded == bundle);
}
