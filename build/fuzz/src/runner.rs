//! The supervisor and its worker. The supervisor starts this same executable as a worker
//! (`fuzz worker ...`), which runs cases from a seed on and prints `S <seed>` before each;
//! a case whose run returns `Err` is printed as `F <seed> <message>`. If the worker dies
//! (a panic aborts: the profiles use `panic = "abort"`, or a signal) or prints nothing for
//! the hang limit, the supervisor records a finding for the last seed it started, saves its
//! input, and starts a new worker after it. Findings are saved as `<dir>/<target>/<seed>.<ext>`
//! with a `.txt` beside them saying what happened.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::stats::Stats;
use crate::{Harness, Target};

pub struct Options {
    pub target: Target,
    pub seconds: f64,
    pub first_seed: u64,
    /// Stop after this many cases (or at the deadline).
    pub max_cases: Option<u64>,
    pub findings_dir: PathBuf,
    /// A case taking longer than this is a hang.
    pub hang: Duration,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub seed: u64,
    pub what: String,
    pub saved: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub stats: Stats,
    pub findings: Vec<Finding>,
    pub seconds: f64,
    /// The seed after the last one run (where a next campaign can go on).
    pub next_seed: u64,
}

/// Runs a campaign on `opts.target` with workers started from `exe`.
pub fn supervise(exe: &Path, opts: &Options) -> Result<Summary, String> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(opts.seconds);
    let mut summary = Summary::default();
    let mut seed = opts.first_seed;
    let mut harness = Harness::new();
    loop {
        let left_cases = opts
            .max_cases
            .map(|m| m.saturating_sub(summary.stats.cases));
        if Instant::now() >= deadline || left_cases == Some(0) {
            break;
        }
        let deadline_ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64;
        let mut child = Command::new(exe)
            .args([
                "worker",
                opts.target.name(),
                &seed.to_string(),
                &deadline_ms.to_string(),
                &left_cases.unwrap_or(u64::MAX).to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start a worker {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no worker stdout")?;
        let mut stderr = child.stderr.take().ok_or("no worker stderr")?;
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            let tail = buf.len().saturating_sub(4096);
            String::from_utf8_lossy(&buf[tail..]).into_owned()
        });
        let mut current: Option<u64> = None;
        let mut ended = false;
        let mut hung = false;
        let mut worker_stats = Stats::default();
        loop {
            match rx.recv_timeout(opts.hang) {
                Ok(line) => {
                    if let Some(s) = line.strip_prefix("S ").and_then(|s| s.parse().ok()) {
                        current = Some(s);
                        summary.stats.cases += 1;
                    } else if let Some(rest) = line.strip_prefix("F ") {
                        let (s, what) = rest.split_once(' ').unwrap_or((rest, ""));
                        let s = s.parse().unwrap_or(0);
                        let what = what.replace("\\n", "\n");
                        summary.findings.push(save(
                            &mut harness,
                            opts,
                            s,
                            &format!("divergence: {what}"),
                        ));
                    } else if line == "END" {
                        ended = true;
                    } else if line.starts_with("cases ") {
                        // The supervisor counts cases itself (a crashed worker reports none).
                    } else {
                        worker_stats.parse_line(&line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    hung = true;
                    let _ = child.kill();
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let _ = reader.join();
        let stderr_tail = err_reader.join().unwrap_or_default();
        summary.stats.merge(&worker_stats);
        if ended && status.success() {
            seed = current.map_or(seed, |s| s + 1);
            break;
        }
        let Some(bad) = current else {
            return Err(format!(
                "the worker failed before its first case ({status}):\n{stderr_tail}"
            ));
        };
        let what = if hung {
            format!("hang: no progress for {:?}", opts.hang)
        } else {
            format!("crash: worker {status}\n{stderr_tail}")
        };
        summary.findings.push(save(&mut harness, opts, bad, &what));
        seed = bad + 1;
    }
    summary.next_seed = seed;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Saves the input of `seed` and a note beside it.
fn save(harness: &mut Harness, opts: &Options, seed: u64, what: &str) -> Finding {
    let dir = opts.findings_dir.join(opts.target.name());
    let input = harness.generate(opts.target, seed);
    let path = dir.join(format!("{seed}.{}", opts.target.extension()));
    let saved = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, &input))
        .and_then(|()| {
            std::fs::write(
                path.with_extension("txt"),
                format!("target {} seed {seed}\n{what}\n", opts.target.name()),
            )
        })
        .ok()
        .map(|()| path);
    Finding {
        seed,
        what: what.to_string(),
        saved,
    }
}

/// The worker: runs cases from `first_seed` until the deadline or `max_cases`, reporting on
/// stdout (see the module docs), then its statistics and `END`.
pub fn worker(target: Target, first_seed: u64, deadline: Duration, max_cases: u64) {
    let start = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut harness = Harness::new();
    let mut stats = Stats::default();
    let mut seed = first_seed;
    let mut done = 0u64;
    while start.elapsed() < deadline && done < max_cases {
        let _ = writeln!(out, "S {seed}");
        let _ = out.flush();
        let input = harness.generate(target, seed);
        if let Err(what) = harness.run(target, &input, &mut stats) {
            let _ = writeln!(out, "F {seed} {}", what.replace('\n', "\\n"));
        }
        seed += 1;
        done += 1;
    }
    for line in stats.to_lines() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "END");
    let _ = out.flush();
}
