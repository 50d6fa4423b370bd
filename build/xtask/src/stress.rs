//! The `stress` test stage: hostile programs on the whole system under QEMU, booted the way
//! `just exec` boots (one boot per case, as the `user` stage). Garbage and truncated `.wasm`
//! files given to exec and to the shell get a clear error and the right exit code; memory
//! hogs, trap storms and twice as many CPU hogs as harts end (or run) alone while the shell
//! keeps answering: while `stress hogs` runs 8 endless CPU hogs (2 per hart) for 20 s, the
//! shell's 200 ms `sleep`s must each be back within [`SLEEP_BOUND_MS`] (and before the hogs
//! are killed), and so must the hog runner's own sleeps; `hello` must start and run within
//! [`START_BOUND_MS`]. `user/stress` adds tables until memory runs out, 1,000 spawn/exit
//! cycles, 1,000 traps, channel floods and unbounded recursion, then `hello` must still run. The kernel-side cases (huge tables, a module too big to compile,
//! recursion, kill while blocked, trap storms with leak checks) are kernel tests
//! (`kernel/src/proc/stress_tests.rs`).

use std::path::Path;

use crate::config::Config;
use crate::exec::Request;
use crate::user_tests::{Case, installed, packed, run_case};
use crate::userland::{self, Userland};

/// The shell sleeps 200 ms three times while 2 CPU hogs per hart run: each must be back
/// within this (its wake-up latency is the excess), and starting and running `hello` (cached)
/// within [`START_BOUND_MS`].
const SLEEP_BOUND_MS: u64 = 200 + 2000;
const START_BOUND_MS: u64 = 5000;

/// The hostile script the shell runs (the test configs have 4 harts: 8 CPU hogs).
const SCRIPT: &str = "\
/etc/tests/garbage.wasm; echo garbage exit $?; /etc/tests/truncated.wasm; echo truncated exit $?; \
oom & oom & oom & wait; echo 'memory hogs survived'; \
trap; trap; trap; trap; trap; echo 'traps survived'; \
hello warm-the-cache; cpu-burn 1 1 warm-the-cache; stress hogs 8 20 & \
time sleep 0.2; time sleep 0.2; time sleep 0.2; time hello under-load; wait; \
echo 'cpu hogs done'; stress spawns 1000; stress traps 1000; stress flood 100; stress recurse; \
stress tables; hello after-the-storm";

fn cases(userland: &Userland) -> Result<Vec<Case>, String> {
    let hello = packed(userland, "hello", &[])?;
    let mut truncated = hello.clone();
    truncated.module.truncate(hello.module.len() / 2);
    truncated.name = "truncated".into();
    Ok(vec![
        Case {
            name: "garbage .wasm to exec: a clear error and exit code 126",
            request: Request {
                module: b"#!/bin/sh\necho this is not WebAssembly\n".to_vec(),
                name: "garbage".into(),
                ..Request::default()
            },
            code: 126,
            lines: vec!["init: cannot run /run/garbage.wasm"],
            check: None,
        },
        Case {
            name: "truncated .wasm to exec: a clear error and exit code 126",
            request: truncated,
            code: 126,
            lines: vec!["init: cannot run /run/truncated.wasm"],
            check: None,
        },
        Case {
            name: "hostile programs in the shell: garbage, memory and CPU hogs, traps",
            request: installed("shell", &["-c", SCRIPT]),
            code: 0,
            lines: vec![
                "garbage exit ",
                "truncated exit ",
                "memory hogs survived",
                "traps survived",
                "arg[1] = under-load",
                "stress hogs: 8 CPU hogs for 20 s",
                "cpu hogs done",
                "stress spawns: 1000 spawn/exit cycles",
                "stress traps: 1000 processes trapped",
                "stress flood: 100 channels filled until refused",
                "stress: trapped: call stack exhausted",
                "stress tables: all killed; hello afterwards exited with code 0",
                "arg[1] = after-the-storm",
            ],
            check: Some(check_shell),
        },
    ])
}

/// The garbage and truncated files failed with a non-zero code, and each timed echo answered
/// in time.
fn check_shell(out: &[String]) -> Result<(), String> {
    for what in ["garbage", "truncated"] {
        let prefix = format!("{what} exit ");
        let code = out
            .iter()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .ok_or_else(|| format!("no `{prefix}` line"))?;
        if code.trim() == "0" {
            return Err(format!("running the {what} file succeeded"));
        }
    }
    let times: Vec<u64> = out.iter().filter_map(|l| echo_ms(l)).collect();
    let [s1, s2, s3, start] = times[..] else {
        return Err(format!(
            "{} timed commands, expected 4: {times:?}",
            times.len()
        ));
    };
    println!(
        "stress: under 8 CPU hogs, `sleep 0.2` took {s1}, {s2} and {s3} ms; `hello` {start} ms"
    );
    if let Some(slow) = [s1, s2, s3].iter().find(|t| **t > SLEEP_BOUND_MS) {
        return Err(format!(
            "a 200 ms sleep took {slow} ms (bound {SLEEP_BOUND_MS} ms)"
        ));
    }
    if start > START_BOUND_MS {
        return Err(format!("hello took {start} ms (bound {START_BOUND_MS} ms)"));
    }
    // The shell answered while the hogs still ran.
    let last_time = out.iter().rposition(|l| echo_ms(l).is_some());
    let hogs = out.iter().position(|l| l.contains("stress hogs: "));
    let (Some(last_time), Some(hogs)) = (last_time, hogs) else {
        return Err("no `stress hogs` line".into());
    };
    if last_time > hogs {
        return Err("the shell answered only after the CPU hogs were killed".into());
    }
    let (late, hello) = hogs_ms(&out[hogs]).ok_or("no latencies in the `stress hogs` line")?;
    println!(
        "stress: under 8 CPU hogs, a process's 200 ms sleeps woke at most {late} ms late, hello took {hello} ms"
    );
    if late > SLEEP_BOUND_MS - 200 || hello > START_BOUND_MS as u128 {
        return Err(format!(
            "too slow under the hogs: {late} ms late, hello {hello} ms"
        ));
    }
    Ok(())
}

/// `max-late-ms X hello-ms Y` from the `stress hogs` line.
fn hogs_ms(line: &str) -> Option<(u64, u128)> {
    let word_after = |key: &str| {
        let at = line.find(key)? + key.len();
        line[at..]
            .split_whitespace()
            .next()
            .map(|w| w.trim_end_matches(';').to_string())
    };
    Some((
        word_after("max-late-ms ")?.parse().ok()?,
        word_after("hello-ms ")?.parse().ok()?,
    ))
}

/// Milliseconds from the shell's `time` line (`real 0.012s`), wherever it is in the line
/// (another program's output may share it).
fn echo_ms(line: &str) -> Option<u64> {
    let at = line.find("real ")?;
    let t = &line[at + 5..];
    let end = t.find('s')?;
    let (s, ms) = t[..end].split_once('.')?;
    Some(s.parse::<u64>().ok()? * 1000 + ms.parse::<u64>().ok()?)
}

pub fn run(root: &Path, configs: &[String]) -> Result<(u64, u64), String> {
    let userland = userland::build(root)?;
    let (mut passed, mut failed) = (0, 0);
    for name in configs {
        let config = Config::load(root, name)?;
        for case in cases(&userland)? {
            if run_case(root, &config, &userland, &case) {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    Ok((passed, failed))
}

#[cfg(test)]
mod tests {
    use super::{check_shell, echo_ms};

    #[test]
    fn the_shells_time_line_reads_as_milliseconds() {
        assert_eq!(echo_ms("real 0.012s"), Some(12));
        assert_eq!(echo_ms("real 3.450s"), Some(3450));
        assert_eq!(echo_ms("responsive"), None);
        assert_eq!(echo_ms("cpu-burn A: round 1/1real 0.250s"), Some(250));
    }

    #[test]
    fn a_slow_answer_a_missing_hog_or_a_garbage_file_that_ran_fails_the_check() {
        let ok: Vec<String> = [
            "garbage exit 1",
            "truncated exit 1",
            "real 0.210s",
            "real 0.220s",
            "real 0.230s",
            "real 0.500s",
            "stress hogs: 8 CPU hogs for 20 s, 90 sleeps of 200 ms woke late by mean 3 ms, max-late-ms 40 hello-ms 300; all killed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(check_shell(&ok).is_ok());
        let mut slow = ok.clone();
        slow[3] = "real 9.000s".into();
        assert!(check_shell(&slow).is_err());
        let mut hog = ok.clone();
        hog.pop();
        assert!(check_shell(&hog).is_err());
        let mut starved = ok.clone();
        starved.swap(5, 6);
        assert!(check_shell(&starved).is_err());
        assert!(check_shell(&slow).is_err());
        let mut ran = ok;
        ran[0] = "garbage exit 0".into();
        assert!(check_shell(&ran).is_err());
    }
}
