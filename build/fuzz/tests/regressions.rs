//! Every input checked in under `build/fuzz/regressions/<target>/` (each once found by a
//! campaign: a divergence, a crash or a broken invariant, since fixed) runs again here and
//! must pass its target's checks.

use std::path::Path;

use fuzz::stats::Stats;
use fuzz::{Harness, Target};

fn replay_all(target: Target) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == target.extension()))
        .collect();
    files.sort();
    let mut harness = Harness::new();
    for file in &files {
        let input = std::fs::read(file).expect("a regression input");
        let mut stats = Stats::default();
        if let Err(e) = harness.run(target, &input, &mut stats) {
            panic!("{}: {e}", file.display());
        }
    }
    files.len()
}

#[test]
fn every_diff_regression_agrees_across_engines() {
    assert!(replay_all(Target::Diff) > 0);
}

#[test]
fn every_malformed_regression_gets_a_clean_answer() {
    replay_all(Target::Malformed);
}

#[test]
fn every_wasi_regression_keeps_the_invariants() {
    assert!(replay_all(Target::Wasi) > 0);
}

#[test]
fn every_ipc_regression_matches_the_model() {
    assert!(replay_all(Target::Ipc) > 0);
}
