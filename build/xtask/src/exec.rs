//! `xtask exec`: runs one Wasm program on atoll, like `wasmtime run`.
//!
//! ```text
//! cargo xtask exec [arch=ARCH | config=NAME | --config C] PROG.wasm
//!                  [--dir HOST[::GUEST]]... [--dir-ro HOST[::GUEST]]... [--env K=V]...
//!                  [--timeout SECS] [-- ARGS...]
//! ```
//!
//! It packs the module as `/run/<name>.wasm` into the initrd beside the normal userland,
//! shares each `--dir` live and read-write over virtio-9p (QEMU `-fsdev local`), and boots
//! with `exec=`, `exec.env=`, `exec.dir=` and `exec.tty=` (user/ABI.md, "Boot and init").
//! The program's stdin, stdout and stderr and its exit code travel over the host link, a
//! virtio console carrying `libs/hostlink` frames: stdout and stderr reach this process's
//! stdout and stderr byte for byte, stdin is forwarded until it ends (then the program sees
//! end of input), and the exit code is the program's. The serial console (the boot log and
//! kernel messages) is shown only if the run fails before the program ends.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hostlink::{Decoder, Kind};

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
    /// The kernel's log level (default `warn`).
    pub log: Option<String>,
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

/// Where the program's streams come from and go.
pub enum Io {
    /// This process's stdin, stdout and stderr, as they are (terminals, pipes or files).
    Inherit,
    /// Collect the output; `stdin` is all the input there is.
    Capture { stdin: Vec<u8> },
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
            "--log" => req.log = Some(value("--log")?),
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
    let outcome = run(root, &config, &userland, &req, release, timeout, Io::Inherit)?;
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

/// The words of `req` for init (user/ABI.md, "Boot and init"), one per line.
pub fn exec_words(req: &Request) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| percent_encode(s))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut argv = vec![req.path()];
    argv.extend(req.args.iter().cloned());
    let mut s = format!("exec={}\n", list(&argv));
    if let Some(name) = &req.argv0 {
        s.push_str(&format!("exec.argv0={}\n", percent_encode(name)));
    }
    if !req.env.is_empty() {
        s.push_str(&format!("exec.env={}\n", list(&req.env)));
    }
    let mut dirs: Vec<String> = req
        .dirs
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{}::{}", mount_point(i), d.guest))
        .collect();
    dirs.extend(req.guest_dirs.iter().cloned());
    if !dirs.is_empty() {
        s.push_str(&format!("exec.dir={}\n", list(&dirs)));
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

/// The QEMU arguments for the host link on `socket` and the shares.
pub fn devices(config: &Config, socket: &Path, shares: &[Share]) -> Result<Vec<String>, String> {
    let virtio = config.qemu.virtio;
    let socket = socket.to_str().ok_or("the socket path is not UTF-8")?;
    let mut args = vec![
        "-chardev".to_string(),
        format!("socket,id=hostlink,path={}", qemu_value(socket)),
        "-device".to_string(),
        virtio.device("serial"),
        "-device".to_string(),
        "virtconsole,chardev=hostlink".to_string(),
    ];
    for (i, share) in shares.iter().enumerate() {
        let host = share
            .host
            .canonicalize()
            .map_err(|e| format!("--dir {}: {e}", share.host.display()))?;
        let host = host
            .to_str()
            .ok_or_else(|| format!("--dir {}: the path is not UTF-8", host.display()))?;
        let ro = if share.read_only { ",readonly=on" } else { "" };
        args.push("-fsdev".into());
        args.push(format!(
            "local,id=share{i},path={},security_model=none{ro}",
            qemu_value(host)
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

/// The initrd: the userland plus `/run/<name>.wasm` and the exec request.
pub fn initrd(userland: &Userland, req: &Request) -> Vec<u8> {
    let mut b = userland.builder();
    if !req.module.is_empty() {
        b.file(&req.path(), &req.module);
    }
    b.file(EXEC_FILE, exec_words(req).as_bytes());
    for i in 0..req.dirs.len() {
        // Mount points for the shares.
        b.dir(&mount_point(i));
    }
    b.finish()
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
    use std::io::IsTerminal;
    let tty = match io {
        Io::Inherit => [
            std::io::stdin().is_terminal(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ],
        Io::Capture { .. } => [false; 3],
    };
    // The kernel's log stays quiet; it goes to the serial console anyway, not the program's
    // streams.
    let level = req.log.as_deref().unwrap_or("warn");
    let args = boot_args(&format!("log={level}"), tty);
    let image = initrd(userland, req);
    let artifacts = build::build(root, config, Flavor::Normal, release, &args, Some(&image))?;
    let socket = socket_path();
    let _ = std::fs::remove_file(&socket);
    let listener =
        UnixListener::bind(&socket).map_err(|e| format!("binding {}: {e}", socket.display()))?;
    let launch = Launch {
        config,
        artifacts: &artifacts,
        boot_args: args,
        gdb: false,
        serial: Serial::Stdout,
        devices: devices(config, &socket, &req.dirs)?,
    };
    let result = boot(&launch, listener, timeout, io);
    let _ = std::fs::remove_file(&socket);
    result
}

/// Starts QEMU, accepts its host-link connection and runs the streams until atoll powers off.
fn boot(
    launch: &Launch<'_>,
    listener: UnixListener,
    timeout: Option<Duration>,
    io: Io,
) -> Result<Outcome, String> {
    let mut cmd = launch.command()?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    if matches!(io, Io::Capture { .. }) {
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
    let mut outcome = Outcome::default();
    match accept(&listener, &mut child, deadline) {
        Ok(Some(stream)) => {
            let (done_tx, done_rx) = mpsc::channel();
            let reader = stream
                .try_clone()
                .map_err(|e| format!("host link: {e}"))?;
            let capture = matches!(io, Io::Capture { .. });
            let pump = std::thread::spawn(move || {
                let r = receive(reader, capture);
                let _ = done_tx.send(());
                r
            });
            start_stdin(stream, io);
            let finished = match deadline {
                Some(d) => done_rx
                    .recv_timeout(d.saturating_duration_since(Instant::now()))
                    .is_ok(),
                None => done_rx.recv().is_ok(),
            };
            if !finished {
                outcome.timed_out = true;
                let _ = child.kill();
            }
            if let Ok(Ok(got)) = pump.join() {
                outcome.stdout = got.stdout;
                outcome.stderr = got.stderr;
                outcome.merged = got.merged;
                outcome.code = got.code;
            }
        }
        Ok(None) => outcome.timed_out = deadline.is_some_and(|d| Instant::now() >= d),
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    }
    if outcome.timed_out {
        let _ = child.kill();
    }
    let _ = child.wait();
    outcome.serial = serial.join().unwrap_or_default();
    Ok(outcome)
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
        if child.try_wait().ok().flatten().is_some() || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What came back over the link.
#[derive(Default)]
struct Received {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    merged: Vec<u8>,
    code: Option<u32>,
}

/// Reads frames until the link closes: output goes to this process's stdout and stderr as it
/// arrives (unless `capture`), and is kept.
fn receive(mut stream: UnixStream, capture: bool) -> Result<Received, String> {
    let mut got = Received::default();
    let mut decoder = Decoder::new();
    let mut exit = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (used, piece) = decoder.feed(rest).map_err(|e| e.to_string())?;
            rest = &rest[used..];
            let Some(p) = piece else { continue };
            match p.kind {
                Kind::Stdout => {
                    got.stdout.extend_from_slice(p.data);
                    got.merged.extend_from_slice(p.data);
                    if !capture {
                        // A closed pipe on our side is the reader's business, as with a
                        // native program whose output nobody reads.
                        let _ = out.write_all(p.data).and_then(|()| out.flush());
                    }
                }
                Kind::Stderr => {
                    got.stderr.extend_from_slice(p.data);
                    got.merged.extend_from_slice(p.data);
                    if !capture {
                        let _ = err.write_all(p.data).and_then(|()| err.flush());
                    }
                }
                Kind::Exit => {
                    exit.extend_from_slice(p.data);
                    if p.end && exit.len() == 4 {
                        got.code = Some(u32::from_le_bytes([exit[0], exit[1], exit[2], exit[3]]));
                    }
                }
                Kind::Stdin | Kind::StdinEof => {
                    return Err(format!("host link: atoll sent a {:?} frame", p.kind));
                }
            }
        }
    }
    Ok(got)
}

/// Feeds the program's stdin over the link on a thread of its own, then end of input.
fn start_stdin(mut stream: UnixStream, io: Io) {
    std::thread::spawn(move || {
        let mut send = |data: &[u8]| -> bool {
            data.chunks(hostlink::MAX_PAYLOAD).all(|chunk| {
                stream
                    .write_all(&hostlink::header(Kind::Stdin, chunk.len()))
                    .and_then(|()| stream.write_all(chunk))
                    .is_ok()
            })
        };
        let ok = match io {
            Io::Capture { stdin } => send(&stdin),
            Io::Inherit => {
                let mut input = std::io::stdin().lock();
                let mut buf = vec![0u8; hostlink::MAX_PAYLOAD];
                loop {
                    match input.read(&mut buf) {
                        Ok(0) => break true,
                        Ok(n) => {
                            if !send(&buf[..n]) {
                                break false;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        // An unreadable stdin ends like an empty one.
                        Err(_) => break true,
                    }
                }
            }
        };
        if ok {
            let _ = stream.write_all(&hostlink::header(Kind::StdinEof, 0));
        }
    });
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
    fn the_exec_file_carries_argv_env_and_dirs() {
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
        };
        assert_eq!(
            exec_words(&req),
            "exec=/run/prog.wasm,a%20b,c%2Cd,\nexec.argv0=prog.wasm\nexec.env=K=V%201\n\
             exec.dir=/mnt/atoll0::/data,/tmp\n"
        );
        let installed = Request {
            name: "/bin/hello.wasm".into(),
            ..Request::default()
        };
        assert_eq!(exec_words(&installed), "exec=/bin/hello.wasm\n");
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
    fn initrd_holds_program_and_mount_points() {
        let userland = Userland {
            programs: vec![("init".into(), b"i".to_vec())],
            files: vec![("/etc/motd".into(), b"m".to_vec())],
        };
        let req = Request {
            module: b"\0asm".to_vec(),
            name: "prog".into(),
            dirs: vec![Share {
                host: PathBuf::from("/x"),
                guest: "/d".into(),
                read_only: false,
            }],
            ..Request::default()
        };
        let bytes = initrd(&userland, &req);
        let a = initrd::Archive::new(&bytes);
        assert_eq!(a.find("/run/prog.wasm").unwrap().unwrap().data, b"\0asm");
        assert!(a.find(EXEC_FILE).unwrap().is_some());
        assert!(a.find("/mnt/atoll0").unwrap().unwrap().is_dir());
        assert_eq!(a.find("/bin/init.wasm").unwrap().unwrap().data, b"i");
        assert!(a.find("/tmp").unwrap().unwrap().is_dir());
    }
}
