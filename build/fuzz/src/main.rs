//! `fuzz`: runs atoll's fuzz targets (see the library docs).
//!
//! ```text
//! fuzz [TARGET|all] [--time SECS] [--seed N] [--cases N] [--findings DIR] [--hang SECS]
//! fuzz replay TARGET FILE...      run saved inputs in this process
//! fuzz gen TARGET SEED OUT        write the input of one seed
//! ```
//! With `all`, the time is shared evenly between the targets. The seed defaults to one taken
//! from the clock (printed, so a run can be repeated). Exits 1 if anything was found.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fuzz::runner::{self, Options};
use fuzz::stats::Stats;
use fuzz::{Harness, Target};

const USAGE: &str = "usage: fuzz [diff|malformed|wasi|ipc|all] [--time SECS] [--seed N] [--cases N] [--findings DIR] [--hang SECS]
       fuzz replay TARGET FILE...
       fuzz gen TARGET SEED OUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("worker") => worker(&args[1..]),
        Some("replay") => replay(&args[1..]),
        Some("gen") => gen_one(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => campaign(&args),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("fuzz: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn target(name: &str) -> Result<Target, String> {
    Target::from_name(name).ok_or_else(|| format!("unknown target `{name}`"))
}

fn number<T: std::str::FromStr>(v: Option<&String>, what: &str) -> Result<T, String> {
    v.and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what} needs a number"))
}

fn worker(args: &[String]) -> Result<bool, String> {
    let t = target(args.first().map_or("", String::as_str))?;
    let seed = number(args.get(1), "worker seed")?;
    let ms: u64 = number(args.get(2), "worker deadline")?;
    let cases = number(args.get(3), "worker cases")?;
    runner::worker(t, seed, Duration::from_millis(ms), cases);
    Ok(true)
}

fn campaign(args: &[String]) -> Result<bool, String> {
    let mut targets = Target::ALL.to_vec();
    let mut seconds = 60.0;
    let mut seed = None;
    let mut cases = None;
    let mut findings = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("findings");
    let mut hang = 60.0;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time" => seconds = number(it.next(), "--time")?,
            "--seed" => seed = Some(number(it.next(), "--seed")?),
            "--cases" => cases = Some(number(it.next(), "--cases")?),
            "--findings" => findings = PathBuf::from(it.next().ok_or("--findings needs a dir")?),
            "--hang" => hang = number(it.next(), "--hang")?,
            "all" => targets = Target::ALL.to_vec(),
            name => targets = vec![target(name)?],
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() << 20)
    });
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let share = seconds / targets.len() as f64;
    let mut clean = true;
    let mut total = Stats::default();
    for t in &targets {
        let opts = Options {
            target: *t,
            seconds: share,
            first_seed: seed,
            max_cases: cases,
            findings_dir: findings.clone(),
            hang: Duration::from_secs_f64(hang),
        };
        let s = runner::supervise(&exe, &opts)?;
        println!(
            "{:<10} {:>9} cases {:>10} executions {:>3} findings  {:>7.1} s  seeds {seed}..{}",
            t.name(),
            s.stats.cases,
            s.stats.execs,
            s.findings.len(),
            s.seconds,
            s.next_seed
        );
        for (k, v) in &s.stats.events {
            println!("    {v:>10}  {k}");
        }
        for f in &s.findings {
            println!(
                "  FINDING seed {} ({}): {}",
                f.seed,
                f.saved
                    .as_ref()
                    .map_or("not saved".into(), |p| p.display().to_string()),
                f.what.lines().take(12).collect::<Vec<_>>().join("\n    ")
            );
        }
        clean &= s.findings.is_empty();
        total.merge(&s.stats);
    }
    println!(
        "fuzz: {} cases, {} executions, {}",
        total.cases,
        total.execs,
        if clean {
            "no findings"
        } else {
            "FINDINGS (see above)"
        }
    );
    Ok(clean)
}

fn replay(args: &[String]) -> Result<bool, String> {
    let t = target(args.first().map_or("", String::as_str))?;
    let mut harness = Harness::new();
    let mut ok = true;
    for file in &args[1..] {
        let input = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let mut stats = Stats::default();
        match harness.run(t, &input, &mut stats) {
            Ok(()) => println!("{file}: ok ({} executions)", stats.execs),
            Err(e) => {
                println!("{file}: FINDING: {e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}

fn gen_one(args: &[String]) -> Result<bool, String> {
    let t = target(args.first().map_or("", String::as_str))?;
    let seed = number(args.get(1), "seed")?;
    let out = args.get(2).ok_or("gen needs an output file")?;
    let input = Harness::new().generate(t, seed);
    std::fs::write(out, input).map_err(|e| format!("{out}: {e}"))?;
    Ok(true)
}
