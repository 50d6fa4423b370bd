//! `xtask exec`: runs one Wasm program on atoll, like `wasmtime run`.
//!
//! ```text
//! cargo xtask exec [arch=ARCH | config=NAME | --config C] PROG.wasm
//!                  [--dir HOST[::GUEST]]... [--dir-ro HOST[::GUEST]]... [--env K=V]...
//!                  [--timeout SECS] [--invoke NAME] [-- ARGS...]
//! ```
//!
//! It packs the module as `/run/<name>.wasm` into the initrd beside the normal userland,
//! shares each `--dir` live and read-write over virtio-9p (QEMU `-fsdev local`), and boots
//! with `exec=`, `exec.env=`, `exec.dir=` and `exec.tty=` (user/ABI.md, "Boot and init").
//! The program's stdin, stdout and stderr and its exit code travel over the host link, a
//! virtio console carrying `libs/kernel/hostlink` frames: stdout and stderr reach this process's
//! stdout and stderr byte for byte, stdin is forwarded until it ends (then the program sees
//! end of input), and the exit code is the program's. The serial console (the boot log and
//! kernel messages) is shown only if the run fails before the program ends.

mod link;

use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::aot::Target;
use crate::build::{self, Flavor};
use crate::config::Config;
use crate::qemu::{Launch, Serial};
use crate::userland::{self, Userland};

pub const USAGE: &str = "\
usage: cargo xtask exec [arch=ARCH | config=NAME | --config C] PROG.wasm [OPTIONS] [-- ARGS...]

options:
  --dir HOST[::GUEST]     share host directory HOST read-write and live (virtio-9p) as the
                          preopen GUEST (default: HOST as given), as `wasmtime run --dir`
  --dir-ro HOST[::GUEST]  the same, read-only (writes fail with EROFS/ENOTCAPABLE)
  --guest-dir P[::G]      preopen directory P of atoll's own tree under the name G (default P),
                          e.g. /tmp (writable RAM, empty at boot) or / (the initrd)
  --env K=V               set an environment variable
  --timeout SECS          kill QEMU after SECS seconds (exit code 124)
  --log LEVEL             the kernel's log level on the serial console (default warn), which
                          is shown when atoll stops without an exit code or times out
  --release               boot the release kernel
  --invoke NAME           call the export NAME instead of `_start` (after `_initialize`, if
                          exported: reactors), ARGS parsed as its parameters, and print its
                          results one per line, as `wasmtime run --invoke`
ARGS after the program (or after `--`) are its arguments, byte for byte; argv[0] is
/run/<name>.wasm. Preopens are fds 3, 4, ... in the order given (--dir and --dir-ro first).";

/// A host directory shared with the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub host: PathBuf,
    /// The preopen's name in the guest.
    pub guest: String,
    pub read_only: bool,
}

/// What to run.
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The module's bytes and file name (packed as `/run/<name>.wasm`);
    /// with no bytes, `name` is a path already in the image (`/bin/x.wasm`).
    pub module: Vec<u8>,
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Host directories, shared over 9P as `/mnt/atoll<i>` and preopened under their names.
    pub dirs: Vec<Share>,
    /// Preopens of atoll's own tree (`PATH` or `PATH::NAME`, e.g. `/tmp`),
    /// after the host dirs.
    pub guest_dirs: Vec<String>,
    /// The program's `argv[0]` if not its path (`wasmtime run` passes the module's file name).
    pub argv0: Option<String>,
    /// The export to call instead of `_start` (`--invoke`).
    pub invoke: Option<String>,
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
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// stdout and stderr together, in the order the kernel sent them.
    pub merged: Vec<u8>,
    /// The exit code from the host link; `None` if atoll ended without sending one.
    pub code: Option<u32>,
    pub timed_out: bool,
    /// The serial console: boot log and kernel messages.
    pub serial: Vec<String>,
}

impl Outcome {
    /// The merged output as lines (without `\r`), for tests that look for text.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.merged)
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect()
    }
}

/// Where the programs' streams come from and go.
pub enum Io {
    /// This process's stdin, stdout and stderr, as they are (terminals, pipes or files): for
    /// a session of one run.
    Inherit,
    /// Collect the output; each run's input is all there is.
    Capture { stdin: Vec<Vec<u8>> },
}

/// How a session boots.
pub struct Boot<'a> {
    pub config: &'a Config,
    pub userland: &'a Userland,
    pub release: bool,
    pub timeout: Option<Duration>,
    /// The kernel's log level on the serial console (default `warn`).
    pub log: Option<String>,
}

fn parse_share(v: &str, read_only: bool) -> Result<Share, String> {
    let (host, guest) = match v.split_once("::") {
        Some((h, g)) => (h.to_string(), g.to_string()),
        None => (v.to_string(), v.to_string()),
    };
    if guest.is_empty() || host.is_empty() {
        return Err(format!("--dir {v}: expected HOST or HOST::GUEST"));
    }
    let host = PathBuf::from(host);
    if !host.is_dir() {
        return Err(format!("--dir {}: not a directory", host.display()));
    }
    Ok(Share {
        host,
        guest,
        read_only,
    })
}

/// `xtask exec ...`.
pub fn main(root: &Path, args: &[String]) -> Result<u8, String> {
    let mut config_name = "qemu-riscv64".to_string();
    let mut release = false;
    let mut timeout = None;
    let mut program: Option<PathBuf> = None;
    let mut log = None;
    let mut req = Request::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if program.is_some() && !arg.starts_with("--") {
            // Words after the program are its arguments.
            req.args.push(arg.clone());
            continue;
        }
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
            "--dir" => req.dirs.push(parse_share(&value("--dir")?, false)?),
            "--dir-ro" => req.dirs.push(parse_share(&value("--dir-ro")?, true)?),
            "--guest-dir" => req.guest_dirs.push(value("--guest-dir")?),
            "--log" => log = Some(value("--log")?),
            "--invoke" => req.invoke = Some(value("--invoke")?),
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
            // After the program, an option xtask does not know is the program's.
            a => req.args.push(a.to_string()),
        }
    }
    let program = program.ok_or_else(|| format!("no program given\n\n{USAGE}"))?;
    req.module =
        std::fs::read(&program).map_err(|e| format!("cannot read {}: {e}", program.display()))?;
    // As `wasmtime run`: argv[0] is the module's file name, without its directories.
    req.argv0 = program
        .file_name()
        .and_then(|s| s.to_str())
        .map(String::from);
    req.name = program
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{}: not a file name", program.display()))?
        .to_string();

    // Build quietly: this process's stdout and stderr belong to the program.
    crate::util::set_quiet(true);
    let config = Config::load(root, &config_name)?;
    let userland = userland::build(root)?;
    let boot = Boot {
        config: &config,
        userland: &userland,
        release,
        timeout,
        log,
    };
    let outcome = run(root, &boot, &req)?;
    if outcome.timed_out {
        for line in &outcome.serial {
            eprintln!("{line}");
        }
        eprintln!("xtask exec: timed out; QEMU killed (its console above)");
        return Ok(124);
    }
    match outcome.code {
        Some(code) => Ok(code as u8),
        None => {
            for line in &outcome.serial {
                eprintln!("{line}");
            }
            eprintln!("xtask exec: atoll stopped without the program's exit code (console above)");
            Ok(1)
        }
    }
}

/// Where the exec request goes in the initrd (init reads it: `exec.file=`).
pub const EXEC_FILE: &str = "/run/exec.args";

/// The kernel command line: `base`, the exec file, and which of stdin, stdout and stderr are
/// terminals on the host.
pub fn boot_args(base: &str, tty: [bool; 3]) -> String {
    let digit = |t: bool| if t { '1' } else { '0' };
    let mut s = base.to_string();
    s.push_str(if s.is_empty() { "" } else { " " });
    s.push_str(&format!(
        "exec.file={EXEC_FILE} exec.tty={}{}{}",
        digit(tty[0]),
        digit(tty[1]),
        digit(tty[2])
    ));
    s
}

/// The words of the session for init (user/ABI.md, "Boot and init"), one per line: each run's
/// program (its path in the initrd, from `paths`), arguments, `argv[0]`, environment and
/// preopens (`dirs`: system paths, from `share_plan::plan`, and the guest's own).
pub fn exec_words(runs: &[Request], paths: &[String], dirs: &[Vec<String>]) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| percent_encode(s))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut s = String::new();
    for ((req, path), dirs) in runs.iter().zip(paths).zip(dirs) {
        let mut argv = vec![path.clone()];
        argv.extend(req.args.iter().cloned());
        s.push_str(&format!("exec={}\n", list(&argv)));
        if let Some(name) = &req.argv0 {
            s.push_str(&format!("exec.argv0={}\n", percent_encode(name)));
        }
        if let Some(name) = &req.invoke {
            s.push_str(&format!("exec.invoke={}\n", percent_encode(name)));
        }
        if !req.env.is_empty() {
            s.push_str(&format!("exec.env={}\n", list(&req.env)));
        }
        let mut all = dirs.clone();
        all.extend(req.guest_dirs.iter().cloned());
        if !all.is_empty() {
            s.push_str(&format!("exec.dir={}\n", list(&all)));
        }
    }
    s
}

/// The 9P mount tag of the `i`-th share.
pub fn mount_tag(i: usize) -> String {
    format!("atoll{i}")
}

/// Where the kernel mounts the `i`-th share.
pub fn mount_point(i: usize) -> String {
    format!("/mnt/{}", mount_tag(i))
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

/// A value inside a QEMU `-opt key=value,...` list: commas are doubled.
fn qemu_value(s: &str) -> String {
    s.replace(',', ",,")
}

/// The QEMU arguments for the host link on `socket` and the 9P exports.
pub fn devices(
    config: &Config,
    socket: &Path,
    exports: &[share_plan::Export],
) -> Result<Vec<String>, String> {
    let virtio = config.qemu.virtio;
    let socket = socket.to_str().ok_or("the socket path is not UTF-8")?;
    let mut args = vec![
        "-chardev".to_string(),
        format!("socket,id=hostlink,path={}", qemu_value(socket)),
        "-device".to_string(),
        virtio.device("serial"),
        "-device".to_string(),
        "virtserialport,chardev=hostlink,nr=1,name=org.atoll.hostlink".to_string(),
    ];
    for (i, export) in exports.iter().enumerate() {
        let root = export
            .root
            .to_str()
            .ok_or_else(|| format!("--dir {}: the path is not UTF-8", export.root.display()))?;
        let ro = if export.read_only { ",readonly=on" } else { "" };
        args.push("-fsdev".into());
        args.push(format!(
            "local,id=share{i},path={},security_model=none{ro}",
            qemu_value(root)
        ));
        args.push("-device".into());
        args.push(format!(
            "{},fsdev=share{i},mount_tag={}",
            virtio.device("9p"),
            mount_tag(i)
        ));
    }
    Ok(args)
}

/// The QEMU arguments that share `dir` read-write as 9P tag `home` (`just run`'s `/home`).
pub fn home_devices(config: &Config, dir: &Path) -> Result<Vec<String>, String> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir
        .to_str()
        .ok_or("the home directory's path is not UTF-8")?;
    Ok(vec![
        "-fsdev".into(),
        format!("local,id=home,path={},security_model=none", qemu_value(dir)),
        "-device".into(),
        format!(
            "{},fsdev=home,mount_tag=home",
            config.qemu.virtio.device("9p")
        ),
    ])
}

/// The initrd: the userland, each distinct program as `/run/<name>.wasm` (or
/// `/run/<name>-<i>.wasm` when two differ), the exec file and the mount points; and each
/// run's program path.
pub fn initrd(
    userland: &Userland,
    target: &Target,
    runs: &[Request],
    words: impl FnOnce(&[String]) -> String,
    mounts: usize,
) -> (Vec<u8>, Vec<String>) {
    let mut b = userland.builder(target);
    let mut placed: Vec<(String, &[u8])> = Vec::new();
    let mut paths = Vec::new();
    for (i, req) in runs.iter().enumerate() {
        if req.module.is_empty() {
            paths.push(req.name.clone());
            continue;
        }
        let path = match placed.iter().find(|(_, m)| *m == req.module.as_slice()) {
            Some((p, _)) => p.clone(),
            None => {
                let plain = req.path();
                let path = if placed.iter().any(|(p, _)| *p == plain) {
                    format!("/run/{}-{i}.wasm", req.name)
                } else {
                    plain
                };
                b.file(&path, &req.module);
                placed.push((path.clone(), &req.module));
                path
            }
        };
        paths.push(path);
    }
    // Each program's artifact beside it, as for the userland's.
    for (path, artifact) in crate::aot::precompile_all(target, &placed) {
        b.file(&path, &artifact);
    }
    b.file(EXEC_FILE, words(&paths).as_bytes());
    for i in 0..mounts {
        b.dir(&mount_point(i));
    }
    (b.finish(), paths)
}

/// A unique path for the host link's socket (short: Unix socket paths are limited).
fn socket_path() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "atoll-{}-{}.sock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Builds and boots a session of one run with this process's stdio.
pub fn run(root: &Path, boot: &Boot<'_>, req: &Request) -> Result<Outcome, String> {
    let mut out = session(root, boot, std::slice::from_ref(req), Io::Inherit)?;
    Ok(out.remove(0))
}

/// Builds and boots once, running `runs` one after the other; one outcome per run (the serial
/// console and a timeout are the session's, copied into each).
pub fn session(
    root: &Path,
    boot: &Boot<'_>,
    runs: &[Request],
    io: Io,
) -> Result<Vec<Outcome>, String> {
    use std::io::IsTerminal;
    let tty = match io {
        Io::Inherit => [
            std::io::stdin().is_terminal(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ],
        Io::Capture { .. } => [false; 3],
    };
    let all: Vec<share_plan::Dir> = runs
        .iter()
        .flat_map(|r| &r.dirs)
        .map(|d| share_plan::Dir {
            host: d.host.clone(),
            read_only: d.read_only,
        })
        .collect();
    let (exports, placed) = share_plan::plan(&all)?;
    let mut placed = placed.into_iter();
    let dirs: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            r.dirs
                .iter()
                .map(|d| {
                    let (i, rel) = placed.next().unwrap_or_default();
                    let sys = if rel.is_empty() {
                        mount_point(i)
                    } else {
                        format!("{}/{rel}", mount_point(i))
                    };
                    format!("{sys}::{}", d.guest)
                })
                .collect()
        })
        .collect();
    let (image, _) = initrd(
        boot.userland,
        &Target::of(boot.config),
        runs,
        |paths| exec_words(runs, paths, &dirs),
        exports.len(),
    );
    let level = boot.log.as_deref().unwrap_or("warn");
    let args = boot_args(&format!("log={level}"), tty);
    let artifacts = build::build(
        root,
        boot.config,
        Flavor::Normal,
        boot.release,
        &args,
        Some(&image),
    )?;
    let socket = socket_path();
    let _ = std::fs::remove_file(&socket);
    let listener =
        UnixListener::bind(&socket).map_err(|e| format!("binding {}: {e}", socket.display()))?;
    let launch = Launch {
        config: boot.config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdout,
        devices: devices(boot.config, &socket, &exports)?,
    };
    let result = start(&launch, listener, boot.timeout, io, runs.len());
    let _ = std::fs::remove_file(&socket);
    result
}

/// Starts QEMU, accepts its host-link connection and runs the streams until atoll powers off.
fn start(
    launch: &Launch<'_>,
    listener: UnixListener,
    timeout: Option<Duration>,
    io: Io,
    runs: usize,
) -> Result<Vec<Outcome>, String> {
    let mut cmd = launch.command()?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let capture = matches!(io, Io::Capture { .. });
    if capture {
        eprintln!("+ {}", crate::util::describe(&cmd));
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {}: {e} (run `just setup`)",
            launch.config.qemu.binary
        )
    })?;
    let serial = {
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::BufReader::new(stdout).read_to_end(&mut text);
            String::from_utf8_lossy(&text)
                .lines()
                .map(|l| l.trim_end_matches('\r').to_string())
                .collect::<Vec<_>>()
        })
    };
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut got = Vec::new();
    let mut timed_out = false;
    match accept(&listener, &mut child, deadline) {
        Ok(Some(stream)) => {
            let (done_tx, done_rx) = mpsc::channel();
            let (begun_tx, begun_rx) = mpsc::channel();
            let reader = stream.try_clone().map_err(|e| format!("host link: {e}"))?;
            let pump = std::thread::spawn(move || {
                let r = link::receive(reader, runs, !capture, begun_tx);
                let _ = done_tx.send(());
                r
            });
            let input = match io {
                Io::Inherit => link::Input::Inherit,
                Io::Capture { stdin } => link::Input::Given(stdin),
            };
            link::send_input(stream, input, begun_rx);
            let finished = match deadline {
                Some(d) => done_rx
                    .recv_timeout(d.saturating_duration_since(Instant::now()))
                    .is_ok(),
                None => done_rx.recv().is_ok(),
            };
            if !finished {
                timed_out = true;
                let _ = child.kill();
            }
            got = pump
                .join()
                .map_err(|_| "the host link reader panicked".to_string())??;
        }
        Ok(None) => timed_out = deadline.is_some_and(|d| Instant::now() >= d),
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    }
    if timed_out {
        let _ = child.kill();
    }
    let _ = child.wait();
    let serial = serial.join().unwrap_or_default();
    let mut got = got.into_iter();
    Ok((0..runs)
        .map(|_| {
            let r = got.next().unwrap_or_default();
            Outcome {
                stdout: r.stdout,
                stderr: r.stderr,
                merged: r.merged,
                code: r.code,
                timed_out,
                serial: serial.clone(),
            }
        })
        .collect())
}

/// Waits for QEMU to connect to the host link; `None` if it exited (or the deadline passed)
/// first.
fn accept(
    listener: &UnixListener,
    child: &mut Child,
    deadline: Option<Instant>,
) -> Result<Option<UnixStream>, String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("host link: {e}"))?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(|e| format!("host link: {e}"))?;
                return Ok(Some(stream));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("host link: {e}")),
        }
        if child.try_wait().ok().flatten().is_some()
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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
    fn the_exec_file_carries_each_runs_argv_env_and_dirs() {
        let req = Request {
            name: "prog".into(),
            args: vec!["a b".into(), "c,d".into(), "".into()],
            env: vec!["K=V 1".into()],
            module: b"\0asm".to_vec(),
            dirs: vec![Share {
                host: PathBuf::from("/host/x"),
                guest: "/data".into(),
                read_only: false,
            }],
            guest_dirs: vec!["/tmp".into()],
            argv0: Some("prog.wasm".into()),
            invoke: Some("add up".into()),
        };
        let installed = Request {
            name: "/bin/hello.wasm".into(),
            ..Request::default()
        };
        assert_eq!(
            exec_words(
                &[req, installed],
                &["/run/prog.wasm".into(), "/bin/hello.wasm".into()],
                &[vec!["/mnt/atoll0/x::/data".into()], vec![]]
            ),
            "exec=/run/prog.wasm,a%20b,c%2Cd,\nexec.argv0=prog.wasm\nexec.invoke=add%20up\n\
             exec.env=K=V%201\n\
             exec.dir=/mnt/atoll0/x::/data,/tmp\nexec=/bin/hello.wasm\n"
        );
    }

    #[test]
    fn boot_args_name_the_exec_file_and_the_terminals() {
        assert_eq!(
            boot_args("log=warn", [true, false, true]),
            "log=warn exec.file=/run/exec.args exec.tty=101"
        );
    }

    #[test]
    fn qemu_values_double_their_commas() {
        assert_eq!(qemu_value("/a,b/c"), "/a,,b/c");
    }

    #[test]
    fn arguments_after_the_program_are_kept_as_given() {
        let dir = std::env::temp_dir();
        let share = parse_share(&format!("{}::/d", dir.display()), true).unwrap();
        assert_eq!(share.guest, "/d");
        assert!(share.read_only);
        assert!(parse_share("/no/such/dir/anywhere", false).is_err());
        assert!(parse_share("::x", false).is_err());
    }

    #[test]
    fn the_initrd_holds_each_distinct_program_once_and_the_mount_points() {
        let userland = Userland {
            programs: vec![("init".into(), b"i".to_vec())],
            files: vec![("/etc/motd".into(), b"m".to_vec())],
        };
        let prog = |bytes: &[u8]| Request {
            module: bytes.to_vec(),
            name: "prog".into(),
            ..Request::default()
        };
        let runs = [prog(b"\0asm1"), prog(b"\0asm1"), prog(b"\0asm2")];
        let target = Target::baseline(crate::config::Arch::Riscv64);
        let (bytes, paths) = initrd(&userland, &target, &runs, |p| p.join(" "), 1);
        assert_eq!(
            paths,
            ["/run/prog.wasm", "/run/prog.wasm", "/run/prog-2.wasm"]
        );
        let a = initrd::Archive::new(&bytes);
        assert_eq!(a.find("/run/prog.wasm").unwrap().unwrap().data, b"\0asm1");
        assert_eq!(a.find("/run/prog-2.wasm").unwrap().unwrap().data, b"\0asm2");
        assert_eq!(
            a.find(EXEC_FILE).unwrap().unwrap().data,
            b"/run/prog.wasm /run/prog.wasm /run/prog-2.wasm"
        );
        assert!(a.find("/mnt/atoll0").unwrap().unwrap().is_dir());
        assert_eq!(a.find("/bin/init.wasm").unwrap().unwrap().data, b"i");
        assert!(a.find("/tmp").unwrap().unwrap().is_dir());
    }
}
