//! `xtask exec`: runs one Wasm program on atoll, like `wasmtime run`.
//!
//! ```text
//! cargo xtask exec [arch=ARCH | config=NAME | --config C] PROG.wasm
//!                  [--dir HOST[::GUEST]]... [--env K=V]... [--timeout SECS] [-- ARGS...]
//! ```
//!
//! It packs the module as `/run/<name>.wasm` and each `--dir` as a snapshot
//! under `/mnt/<i>/` into the initrd beside the normal userland, boots with
//! `exec=`, `exec.env=` and `exec.dir=` (user/ABI.md, "Boot and init"), shows
//! the console from init's start marker on, and exits with the program's
//! exit code, read from the kernel's `atoll: power off (exit code N)` line
//! (x86_64's isa-debug-exit cannot carry every code itself).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::build::{self, Flavor};
use crate::config::Config;
use crate::qemu::Launch;
use crate::userland::{self, Userland};
use crate::util::describe;

pub const USAGE: &str = "\
usage: cargo xtask exec [arch=ARCH | config=NAME | --config C] PROG.wasm [OPTIONS] [-- ARGS...]

options:
  --dir HOST[::GUEST]  preopen a read-only snapshot of host directory HOST, copied into the
                       initrd at boot, under the guest name GUEST (default: HOST as given);
                       writes go nowhere (the guest's /tmp is its writable RAM file system)
  --guest-dir P[::G]   preopen directory P of atoll's own tree under the name G (default P),
                       e.g. /tmp (writable RAM, empty at boot) or / (the initrd)
  --env K=V            set an environment variable
  --timeout SECS       kill QEMU after SECS seconds (exit code 124)
  --release            boot the release kernel
ARGS after the program (or after `--`) are its arguments; argv[0] is /run/<name>.wasm.";

/// Printed by init before it spawns the program; everything before it (the
/// kernel's boot output) is hidden.
pub const START_MARKER: &str = "init: exec ";

/// The kernel's last line; its code is the run's exit code.
const POWER_OFF: &str = "atoll: power off (exit code ";

/// What to run.
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The module's bytes and file name (packed as `/run/<name>.wasm`);
    /// with no bytes, `name` is a path already in the image (`/bin/x.wasm`).
    pub module: Vec<u8>,
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// `(host dir, guest name)`: snapshots packed under `/mnt/<i>`.
    pub dirs: Vec<(PathBuf, String)>,
    /// Preopens of atoll's own tree (`PATH` or `PATH::NAME`, e.g. `/tmp`),
    /// after the host dirs.
    pub guest_dirs: Vec<String>,
}

impl Request {
    /// The program's path on atoll (its `argv[0]`).
    pub fn path(&self) -> String {
        if self.module.is_empty() {
            self.name.clone()
        } else {
            format!("/run/{}.wasm", self.name)
        }
    }
}

/// How a run ended.
pub struct Outcome {
    /// The program's console output (after init's start marker).
    pub lines: Vec<String>,
    /// The exit code from the power-off line; `None` if QEMU ended without
    /// one or was killed at the timeout.
    pub code: Option<u32>,
    pub timed_out: bool,
}

/// `xtask exec ...`.
pub fn main(root: &Path, args: &[String]) -> Result<u8, String> {
    let mut config_name = "qemu-riscv64".to_string();
    let mut release = false;
    let mut timeout = None;
    let mut program: Option<PathBuf> = None;
    let mut req = Request::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--" => {
                req.args.extend(it.by_ref().cloned());
                break;
            }
            "--config" => config_name = value("--config")?,
            "--release" => release = true,
            "--dir" => {
                let v = value("--dir")?;
                let (host, guest) = match v.split_once("::") {
                    Some((h, g)) => (h.to_string(), g.to_string()),
                    None => (v.clone(), v.clone()),
                };
                if guest.is_empty() || host.is_empty() {
                    return Err(format!("--dir {v}: expected HOST or HOST::GUEST"));
                }
                req.dirs.push((PathBuf::from(host), guest));
            }
            "--guest-dir" => req.guest_dirs.push(value("--guest-dir")?),
            "--env" => {
                let v = value("--env")?;
                if !v.contains('=') {
                    return Err(format!("--env {v}: expected KEY=VALUE"));
                }
                req.env.push(v);
            }
            "--timeout" => {
                let v = value("--timeout")?;
                timeout =
                    Some(Duration::from_secs(v.parse().map_err(|_| {
                        format!("--timeout {v}: not a number of seconds")
                    })?));
            }
            "-h" | "--help" if program.is_none() => {
                println!("{USAGE}");
                return Ok(0);
            }
            a if program.is_none() && (a.starts_with("arch=") || a.starts_with("config=")) => {
                config_name = a.to_string();
            }
            a if program.is_none() && a.starts_with('-') => {
                return Err(format!("unknown option `{a}`\n\n{USAGE}"));
            }
            a if program.is_none() => program = Some(PathBuf::from(a)),
            // Words after the program are its arguments (options too need `--`
            // only when they start with `-` and mean something to xtask).
            a => req.args.push(a.to_string()),
        }
    }
    let program = program.ok_or_else(|| format!("no program given\n\n{USAGE}"))?;
    req.module =
        std::fs::read(&program).map_err(|e| format!("cannot read {}: {e}", program.display()))?;
    req.name = program
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{}: not a file name", program.display()))?
        .to_string();
    for (host, _) in &req.dirs {
        if !host.is_dir() {
            return Err(format!("--dir {}: not a directory", host.display()));
        }
    }

    let config = Config::load(root, &config_name)?;
    let userland = userland::build(root)?;
    let stream = std::io::stdout();
    let outcome = run(
        root,
        &config,
        &userland,
        &req,
        release,
        timeout,
        Io::Terminal(stream),
    )?;
    if outcome.timed_out {
        eprintln!("xtask exec: timed out; QEMU killed");
        return Ok(124);
    }
    match outcome.code {
        Some(code) => Ok(u8::try_from(code).unwrap_or(255)),
        None => {
            eprintln!("xtask exec: QEMU ended without atoll's power-off line (see above)");
            Ok(1)
        }
    }
}

/// Where the console goes.
pub enum Io {
    /// Stream to the terminal; stdin is passed to the guest.
    Terminal(std::io::Stdout),
    /// Collect only (tests); stdin is empty.
    Capture,
}

/// The kernel command line for `req`.
pub fn boot_args(base: &str, req: &Request) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| percent_encode(s))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut argv = vec![req.path()];
    argv.extend(req.args.iter().cloned());
    let mut s = base.to_string();
    s.push_str(if s.is_empty() { "" } else { " " });
    s.push_str(&format!("exec={}", list(&argv)));
    if !req.env.is_empty() {
        s.push_str(&format!(" exec.env={}", list(&req.env)));
    }
    let mut dirs: Vec<String> = req
        .dirs
        .iter()
        .enumerate()
        .map(|(i, (_, guest))| format!("/mnt/{i}::{guest}"))
        .collect();
    dirs.extend(req.guest_dirs.iter().cloned());
    if !dirs.is_empty() {
        s.push_str(&format!(" exec.dir={}", list(&dirs)));
    }
    s
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~ / : =` (so commas,
/// spaces, `%` and non-ASCII bytes are escaped).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/:=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The initrd: the userland plus `/run/<name>.wasm` and `/mnt/<i>/...`.
pub fn initrd(userland: &Userland, req: &Request) -> Result<Vec<u8>, String> {
    let mut b = userland.builder();
    if !req.module.is_empty() {
        b.file(&req.path(), &req.module);
    }
    for (i, (host, _)) in req.dirs.iter().enumerate() {
        let prefix = format!("/mnt/{i}");
        b.dir(&prefix);
        let mut files = Vec::new();
        userland::collect_tree(host, &prefix, &mut files)?;
        for (path, bytes) in &files {
            b.file(path, bytes);
        }
    }
    Ok(b.finish())
}

/// Builds and boots, returning the program's output and exit code.
pub fn run(
    root: &Path,
    config: &Config,
    userland: &Userland,
    req: &Request,
    release: bool,
    timeout: Option<Duration>,
    io: Io,
) -> Result<Outcome, String> {
    // The kernel's log stays quiet so the program's output is all there is.
    let args = boot_args("log=warn", req);
    let image = initrd(userland, req)?;
    let artifacts = build::build(root, config, Flavor::Normal, release, &args, Some(&image))?;
    let launch = Launch {
        config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial_file: None,
    };
    boot(&launch, timeout, io)
}

/// Runs QEMU, passing console lines after the start marker on (without the
/// power-off line), and reads the exit code.
pub fn boot(launch: &Launch<'_>, timeout: Option<Duration>, io: Io) -> Result<Outcome, String> {
    let mut cmd = launch.command()?;
    let mut terminal = match io {
        Io::Terminal(out) => {
            cmd.stdin(Stdio::inherit());
            Some(out)
        }
        Io::Capture => {
            eprintln!("+ {}", describe(&cmd));
            cmd.stdin(Stdio::null());
            None
        }
    };
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {}: {e} (run `just setup`)",
            launch.config.qemu.binary
        )
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let rx = crate::qemu::console_lines(stdout, false);

    let deadline = timeout.map(|t| Instant::now() + t);
    let mut started = false;
    let mut boot_log = Vec::new();
    let mut lines = Vec::new();
    let mut code = None;
    let mut timed_out = false;
    loop {
        let wait = deadline.map_or(Duration::from_millis(200), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(200))
        });
        match rx.recv_timeout(wait) {
            Ok(line) => {
                if let Some(n) = parse_power_off(&line) {
                    code = Some(n);
                } else if started {
                    if let Some(out) = terminal.as_mut() {
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    }
                    lines.push(line);
                } else if line.contains(START_MARKER) {
                    started = true;
                } else {
                    boot_log.push(line);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    let _ = child.kill();
                    timed_out = true;
                    break;
                }
            }
        }
    }
    let _ = child.wait();
    if !started {
        // Something went wrong before init ran the program: show the boot log.
        for line in &boot_log {
            eprintln!("{line}");
        }
        lines = boot_log;
    }
    Ok(Outcome {
        lines,
        code,
        timed_out,
    })
}

fn parse_power_off(line: &str) -> Option<u32> {
    let rest = &line[line.find(POWER_OFF)? + POWER_OFF.len()..];
    rest.strip_suffix(')')?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_init_splits_on() {
        assert_eq!(percent_encode("a,b c%"), "a%2Cb%20c%25");
        assert_eq!(percent_encode("K=V/x:y"), "K=V/x:y");
        assert_eq!(percent_encode("€"), "%E2%82%AC");
    }

    #[test]
    fn boot_args_carry_argv_env_and_dirs() {
        let req = Request {
            name: "prog".into(),
            args: vec!["a b".into(), "c,d".into()],
            env: vec!["K=V 1".into()],
            module: b"\0asm".to_vec(),
            dirs: vec![(PathBuf::from("/host/x"), "/data".into())],
            guest_dirs: vec!["/tmp".into()],
        };
        assert_eq!(
            boot_args("log=warn", &req),
            "log=warn exec=/run/prog.wasm,a%20b,c%2Cd exec.env=K=V%201 exec.dir=/mnt/0::/data,/tmp"
        );
        let installed = Request {
            name: "/bin/hello.wasm".into(),
            ..Request::default()
        };
        assert_eq!(boot_args("", &installed), "exec=/bin/hello.wasm");
    }

    #[test]
    fn power_off_line() {
        assert_eq!(
            parse_power_off("atoll: power off (exit code 134)"),
            Some(134)
        );
        assert_eq!(
            parse_power_off("\x1b[0matoll: power off (exit code 0)"),
            Some(0)
        );
        assert_eq!(parse_power_off("atoll: power off"), None);
    }

    #[test]
    fn initrd_holds_program_and_dirs() {
        let dir = std::env::temp_dir().join(format!("xtask-exec-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/f.txt"), b"data").unwrap();
        let userland = Userland {
            programs: vec![("init".into(), b"i".to_vec())],
            files: vec![("/etc/motd".into(), b"m".to_vec())],
        };
        let req = Request {
            module: b"\0asm".to_vec(),
            name: "prog".into(),
            dirs: vec![(dir.clone(), "/d".into())],
            ..Request::default()
        };
        let bytes = initrd(&userland, &req).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let a = initrd::Archive::new(&bytes);
        assert_eq!(a.find("/run/prog.wasm").unwrap().unwrap().data, b"\0asm");
        assert_eq!(a.find("/mnt/0/sub/f.txt").unwrap().unwrap().data, b"data");
        assert_eq!(a.find("/bin/init.wasm").unwrap().unwrap().data, b"i");
        assert!(a.find("/tmp").unwrap().unwrap().is_dir());
    }
}
