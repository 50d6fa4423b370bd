//! The `stress` test stage: hostile programs on the whole system under QEMU, booted the way
//! `just exec` boots (one boot per case, as the `user` stage). Garbage and truncated `.wasm`
//! files given to exec and to the shell get a clear error and the right exit code; memory
//! hogs, trap storms and twice as many CPU hogs as harts end (or run) alone while the shell
//! keeps answering: an `echo` under the CPU hogs is timed, and must come back within
//! [`ECHO_BOUND_MS`]. `user/stress` adds tables until memory runs out, 1,000 spawn/exit
//! cycles, 1,000 traps, channel floods and unbounded recursion, then `hello` must still run. The kernel-side cases (huge tables, a module too big to compile,
//! recursion, kill while blocked, trap storms with leak checks) are kernel tests
//! (`kernel/src/proc/stress_tests.rs`).

use std::path::Path;

use crate::config::Config;
use crate::exec::Request;
use crate::user_tests::{Case, installed, packed, run_case};
use crate::userland::{self, Userland};

/// An `echo` in the shell while 2 CPU hogs per hart run must answer within this.
const ECHO_BOUND_MS: u64 = 2000;

/// The hostile script the shell runs (the test configs have 4 harts: 8 CPU hogs).
const SCRIPT: &str = "\
/etc/tests/garbage.wasm; echo garbage exit $?; /etc/tests/truncated.wasm; echo truncated exit $?; \
oom & oom & oom & wait; echo 'memory hogs survived'; \
trap; trap; trap; trap; trap; echo 'traps survived'; \
cpu-burn 3 1500000 A > /tmp/A & cpu-burn 3 1500000 B > /tmp/B & cpu-burn 3 1500000 C > /tmp/C & \
cpu-burn 3 1500000 D > /tmp/D & cpu-burn 3 1500000 E > /tmp/E & cpu-burn 3 1500000 F > /tmp/F & \
cpu-burn 3 1500000 G > /tmp/G & cpu-burn 3 1500000 H > /tmp/H & \
time echo responsive; time echo responsive; time echo responsive; wait; cat /tmp/H; \
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
                "responsive",
                "cpu-burn H: round 3/3",
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
    if times.len() < 3 {
        return Err(format!("{} timed echoes, expected 3", times.len()));
    }
    println!("stress: echo under 8 CPU hogs answered in {times:?} ms");
    if let Some(slow) = times.iter().find(|t| **t > ECHO_BOUND_MS) {
        return Err(format!("an echo took {slow} ms (bound {ECHO_BOUND_MS} ms)"));
    }
    Ok(())
}

/// Milliseconds from the shell's `time` line (`real 0.012s`).
fn echo_ms(line: &str) -> Option<u64> {
    let t = line.trim().strip_prefix("real ")?.strip_suffix('s')?;
    let (s, ms) = t.split_once('.')?;
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
    }

    #[test]
    fn a_slow_echo_or_a_garbage_file_that_ran_fails_the_check() {
        let ok: Vec<String> = [
            "garbage exit 1",
            "truncated exit 1",
            "real 0.010s",
            "real 0.020s",
            "real 0.030s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(check_shell(&ok).is_ok());
        let mut slow = ok.clone();
        slow[3] = "real 9.000s".into();
        assert!(check_shell(&slow).is_err());
        let mut ran = ok;
        ran[0] = "garbage exit 0".into();
        assert!(check_shell(&ran).is_err());
    }
}
