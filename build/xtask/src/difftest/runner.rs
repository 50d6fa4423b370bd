//! The runner interface the differential test drives, and the reference runner: wasmtime 51
//! through `build/wasmtime-ref/run.py`. A runner takes a whole batch of prepared cases at
//! once, because atoll's runners boot QEMU and want many cases per boot.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One case, ready to run: every path exists and belongs to this run alone.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The case's name (for messages).
    pub name: String,
    /// The program to run.
    pub wasm: PathBuf,
    /// argv[1..]; argv[0] is the runtime's (wasmtime: the module's file name).
    pub argv: Vec<String>,
    /// The whole environment, in order, each `K=V`.
    pub env: Vec<String>,
    pub stdin: Vec<u8>,
    /// Preopens in fd order: `(host path, guest name, read-only)`.
    pub dirs: Vec<(PathBuf, String, bool)>,
    /// A scratch directory of this case and runner (for stdin and output files).
    pub scratch: PathBuf,
}

/// What a run produced. `code` is the exit code (0..=255); a negative code means the runner
/// got none (a timeout, a crash of the runner itself: `stderr` says which), which never
/// matches anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
}

/// Runs prepared cases; returns one outcome per case, in order. An `Err` means the runner could
/// not run the batch at all (a missing tool, a QEMU that did not boot).
pub trait Runner {
    fn name(&self) -> &str;
    fn run_all(&mut self, cases: &[Prepared]) -> Result<Vec<Outcome>, String>;
}

/// A runner that starts one host process per case with `run.py`'s command line:
/// `[--dir HOST::GUEST[::readonly]]... [--env K=V]... -- PROG.wasm [ARGS...]`.
pub struct CommandRunner {
    name: String,
    /// The program and the arguments before the options.
    program: PathBuf,
    prefix: Vec<PathBuf>,
    timeout: Duration,
}

/// The reference: `wasmtime run` semantics through the wasmtime 51 Python package.
pub type Wasmtime = CommandRunner;

impl CommandRunner {
    /// The reference, as installed by `build/setup.sh` (a venv under `target/tools/`).
    pub fn new(root: &Path, name: &str) -> Result<CommandRunner, String> {
        let python = root.join("target/tools/wasmtime-51/bin/python");
        let script = root.join("build/wasmtime-ref/run.py");
        if !python.exists() {
            return Err(format!(
                "the wasmtime reference is not installed ({} is missing): run `just setup` \
                 (build/setup.sh)",
                python.display()
            ));
        }
        Ok(CommandRunner {
            name: name.to_string(),
            program: python,
            prefix: vec![script],
            timeout: Duration::from_secs(120),
        })
    }

    /// atoll on the host: `build/wasi-run` (atoll's engine, WASI layer and 9P client), built
    /// here first.
    pub fn atoll_host(root: &Path) -> Result<CommandRunner, String> {
        let mut build = crate::build::cargo(root, "build", false);
        build.args(["-p", "wasi-run"]);
        crate::util::run(&mut build)?;
        let program = crate::util::target_dir(root).join("debug/wasi-run");
        if !program.exists() {
            return Err(format!("cargo built no {}", program.display()));
        }
        Ok(CommandRunner {
            name: "atoll-host".into(),
            program,
            prefix: Vec::new(),
            timeout: Duration::from_secs(120),
        })
    }

    /// The command line for one case (without its stdio).
    pub fn command(&self, case: &Prepared) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix);
        for (host, guest, read_only) in &case.dirs {
            let ro = if *read_only { "::readonly" } else { "" };
            cmd.arg("--dir")
                .arg(format!("{}::{guest}{ro}", host.display()));
        }
        for e in &case.env {
            cmd.arg("--env").arg(e);
        }
        cmd.arg("--").arg(&case.wasm).args(&case.argv);
        cmd.env_clear();
        cmd
    }

    fn run_one(&self, case: &Prepared) -> Result<Outcome, String> {
        let io = |what: &str, e: std::io::Error| format!("{}: {what}: {e}", case.name);
        std::fs::create_dir_all(&case.scratch).map_err(|e| io("scratch dir", e))?;
        let (inp, out, err) = (
            case.scratch.join("stdin"),
            case.scratch.join("stdout"),
            case.scratch.join("stderr"),
        );
        std::fs::write(&inp, &case.stdin).map_err(|e| io("writing stdin", e))?;
        let mut child = self
            .command(case)
            .stdin(Stdio::from(File::open(&inp).map_err(|e| io("stdin", e))?))
            .stdout(Stdio::from(
                File::create(&out).map_err(|e| io("stdout", e))?,
            ))
            .stderr(Stdio::from(
                File::create(&err).map_err(|e| io("stderr", e))?,
            ))
            .spawn()
            .map_err(|e| io(&format!("starting {}", self.program.display()), e))?;
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| io("waiting", e))? {
                break Some(status);
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stdout = std::fs::read(&out).map_err(|e| io("reading stdout", e))?;
        let mut stderr = std::fs::read(&err).map_err(|e| io("reading stderr", e))?;
        let code = match status {
            None => {
                stderr.extend_from_slice(
                    format!("\ndifftest: killed after {} s\n", self.timeout.as_secs()).as_bytes(),
                );
                -1
            }
            Some(s) => s.code().unwrap_or_else(|| {
                stderr.extend_from_slice(format!("\ndifftest: runner ended by {s}\n").as_bytes());
                -1
            }),
        };
        Ok(Outcome {
            stdout,
            stderr,
            code,
        })
    }
}

impl Runner for CommandRunner {
    fn name(&self) -> &str {
        &self.name
    }

    fn run_all(&mut self, cases: &[Prepared]) -> Result<Vec<Outcome>, String> {
        cases.iter().map(|c| self.run_one(c)).collect()
    }
}

/// atoll under QEMU: cases run in sessions (one boot each) of `batch` runs, exactly as `just
/// exec` runs one: the module from the initrd, preopens over virtio-9p, stdio over the host
/// link.
pub struct AtollQemu {
    name: String,
    root: PathBuf,
    config: crate::config::Config,
    batch: usize,
}

impl AtollQemu {
    pub fn new(root: &Path, config: &str) -> Result<AtollQemu, String> {
        let config = crate::config::Config::load(root, config)?;
        Ok(AtollQemu {
            name: format!("atoll-{}", config.name),
            root: root.to_path_buf(),
            config,
            batch: 32,
        })
    }
}

impl Runner for AtollQemu {
    fn name(&self) -> &str {
        &self.name
    }

    fn run_all(&mut self, cases: &[Prepared]) -> Result<Vec<Outcome>, String> {
        use crate::exec::{self, Io, Request, Share};
        let userland = crate::userland::build(&self.root)?;
        let mut outcomes = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(self.batch) {
            let mut runs = Vec::new();
            for case in chunk {
                let module = std::fs::read(&case.wasm)
                    .map_err(|e| format!("{}: {e}", case.wasm.display()))?;
                let file = case.wasm.file_name().and_then(|n| n.to_str());
                let stem = case.wasm.file_stem().and_then(|n| n.to_str());
                runs.push(Request {
                    module,
                    name: stem.unwrap_or("prog").to_string(),
                    args: case.argv.clone(),
                    env: case.env.clone(),
                    dirs: case
                        .dirs
                        .iter()
                        .map(|(host, guest, read_only)| Share {
                            host: host.clone(),
                            guest: guest.clone(),
                            read_only: *read_only,
                        })
                        .collect(),
                    guest_dirs: Vec::new(),
                    argv0: file.map(String::from),
                    invoke: None,
                });
            }
            let boot = exec::Boot {
                config: &self.config,
                userland: &userland,
                release: false,
                // Boot, then each program's compile and run.
                timeout: Some(Duration::from_secs(120 + 30 * chunk.len() as u64)),
                log: None,
            };
            let stdin = chunk.iter().map(|c| c.stdin.clone()).collect();
            let results = exec::session(&self.root, &boot, &runs, Io::Capture { stdin })?;
            for r in results {
                let mut stderr = r.stderr;
                let code = match r.code {
                    Some(c) if !r.timed_out || c <= 255 => c as i32,
                    _ => {
                        let why = if r.timed_out {
                            "the session timed out"
                        } else {
                            "atoll stopped before this run ended"
                        };
                        stderr
                            .extend_from_slice(format!("\ndifftest: {why}; console:\n").as_bytes());
                        for line in r.serial.iter().rev().take(30).rev() {
                            stderr.extend_from_slice(line.as_bytes());
                            stderr.push(b'\n');
                        }
                        -1
                    }
                };
                outcomes.push(Outcome {
                    stdout: r.stdout,
                    stderr,
                    code,
                });
            }
        }
        Ok(outcomes)
    }
}
