//! The Wasm spec suite in the kernel (test builds): runs the `spec-bundle`
//! scripts from the initrd (`spec/*.bundle`, one script each, in archive
//! order) with `spec-runner` on the kernel's engine, on the Wasm stack.
//!
//! Output, one tab-separated line per event, so the host (`xtask
//! spec-kernel`) can rebuild the host runner's table:
//!
//! ```text
//! spec-start  <name> <assertions>
//! spec-fail   <name> <line> <kind> <a|s> <message>      (as it happens)
//! spec-file   <name> <passed> <failed> <host-checked> <ms>
//! spec-total  <scripts> <passed> <failed>
//! ```
//!
//! Crash safety: every script runs under [`recover::catch_with_timeout`], so
//! a fault, panic or hang in it becomes a `spec-fail ... script` line and the
//! unreported assertions count as failed; results are printed as they happen,
//! so even a fault the kernel cannot recover from loses only the running
//! script (the host restarts the suite after it).

use alloc::string::String;

use spec_bundle::{Bundle, Command, File};
use spec_runner::{Failure, Observer, Outcome};

use crate::recover;
use crate::sched::timer;

/// Directory of the bundles in the initrd.
const DIR: &str = "spec/";
/// A script still running after this long is abandoned (TCG is slow, and
/// the biggest scripts hold thousands of assertions).
const SCRIPT_TIMEOUT_NS: u64 = 600_000_000_000;

/// The bundles in the initrd, in archive order.
fn bundles() -> impl Iterator<Item = initrd::Entry<'static>> {
    crate::initrd::entries().filter(|e| e.is_file() && e.path().starts_with(DIR))
}

/// Whether the initrd holds spec bundles (then the test build runs them
/// instead of the kernel tests).
pub fn requested() -> bool {
    bundles().next().is_some()
}

/// Counts and prints results as they happen, so they survive a fault.
#[derive(Default)]
struct Progress {
    name: String,
    passed: u64,
    failed: u64,
    host_checked: u64,
    /// Assertions reported (setup failures are failures but not assertions).
    assertions: u64,
}

impl Observer for Progress {
    fn result(&mut self, command: &Command, outcome: Outcome, failure: Option<&Failure>) {
        let assertion = command.kind.is_assertion();
        self.assertions += u64::from(assertion);
        match (outcome, failure) {
            (_, Some(f)) => {
                self.failed += 1;
                print_failure(&self.name, f.line, f.kind, f.assertion, &f.message);
            }
            (Outcome::HostChecked, None) => {
                self.passed += 1;
                self.host_checked += 1;
            }
            (_, None) if assertion => self.passed += 1,
            _ => {}
        }
    }
}

fn print_failure(file: &str, line: u32, kind: &str, assertion: bool, message: &str) {
    let message = message.replace(['\n', '\t', '\r'], " ");
    crate::println!(
        "spec-fail\t{file}\t{line}\t{kind}\t{}\t{message}",
        if assertion { 'a' } else { 's' }
    );
}

/// Runs every bundle, prints the totals and powers off (status: all passed).
pub fn run_all() -> ! {
    // One engine per feature set the scripts were written for.
    let mut engines = alloc::collections::BTreeMap::new();
    let count = bundles().count();
    crate::println!("spec-suite\t{count} scripts");
    let (mut scripts, mut passed, mut failed) = (0u64, 0u64, 0u64);
    for entry in bundles() {
        let files = match Bundle::decode(entry.data) {
            Ok(b) => b.files,
            Err(e) => {
                // Not counted per script: the host has the assertion totals.
                crate::println!("spec-error\t{}: {e}", entry.path());
                failed += 1;
                continue;
            }
        };
        for file in &files {
            let features = spec_runner::features_for(&file.name);
            let engine = match engines.entry(features.bits()) {
                alloc::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(v) => {
                    let mut config = wasm_engine::Config::new();
                    config.wasm_features(features);
                    match crate::wasm::new_engine(&config) {
                        Ok(e) => v.insert(e),
                        Err(e) => {
                            crate::println!("spec-error\tcannot create the engine: {e}");
                            crate::shutdown(false);
                        }
                    }
                }
            };
            let p = run_script(engine, file);
            scripts += 1;
            passed += p.passed;
            failed += p.failed;
        }
    }
    crate::println!("spec-total\t{scripts}\t{passed}\t{failed}");
    crate::shutdown(failed == 0);
}

fn run_script(engine: &wasm_engine::Engine, file: &File) -> Progress {
    let total = file.assertion_count() as u64;
    crate::println!("spec-start\t{}\t{total}", file.name);
    let mut progress = Progress {
        name: file.name.clone(),
        ..Progress::default()
    };
    let start = timer::now_ns();
    let result = recover::catch_with_timeout(SCRIPT_TIMEOUT_NS, || {
        crate::wasm::on_wasm_stack(|| spec_runner::run_file(engine, file, &mut progress))
    });
    let ms = (timer::now_ns() - start) / 1_000_000;
    let abandoned = match result {
        Ok(Ok(_report)) => None,
        Ok(Err(e)) => Some(alloc::format!("no Wasm stack: {e}")),
        Err(fault) => Some(alloc::format!("{fault}")),
    };
    if let Some(why) = abandoned {
        // The commands not run yet count as failed, as on the host.
        let missing = total.saturating_sub(progress.assertions);
        progress.failed += missing;
        print_failure(
            &file.name,
            0,
            "script",
            false,
            &alloc::format!("abandoned: {why}; {missing} assertions not run"),
        );
    }
    crate::println!(
        "spec-file\t{}\t{}\t{}\t{}\t{ms}",
        file.name,
        progress.passed,
        progress.failed,
        progress.host_checked
    );
    progress
}
