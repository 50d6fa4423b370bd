//! atoll's shell. Reads command lines from stdin (the kernel's console line
//! discipline echoes and edits them) and runs programs by name
//! (`hello a b` runs `/bin/hello.wasm`), in the background with `&`.
//!
//! `shell` is interactive; `shell FILE` runs the lines of FILE, echoing each;
//! `shell -c LINE` runs one line. Both exit with the last command's code.

mod parse;

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, Write};
use std::time::Duration;

use atoll::{Exit, Process, SpawnOptions, Status};
use parse::{Command, Redirect};

const PROMPT: &str = "atoll$ ";

const HELP: &str = "\
run a program: NAME [ARGS...] runs /bin/NAME.wasm (or give a path); `&` runs it in
  the background; Ctrl-C ends the program in the foreground
builtins:
  ps              list processes          kill PID        end a process
  ls [PATH...]    list directories        cat FILE...     print files
  echo [WORDS...] print words             time CMD...     run CMD and show its wall time
  cd [DIR] / pwd  working directory       sleep SECS      pause
  wait            wait for background programs
  `$!` is the pid of the last background program, `$?` the last exit code
  help            this text               exit [CODE]     leave the shell
  `> FILE` / `>> FILE` after a builtin writes its output to FILE (/tmp is writable)";

/// A program running in the background.
struct Job {
    name: String,
    process: Process,
}

struct Shell {
    jobs: Vec<Job>,
    /// The exit code of the last command.
    last: u32,
    /// Set by `exit`.
    exit: Option<u32>,
    /// The pid of the last program started with `&` (the word `$!`).
    last_background: Option<u32>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut shell = Shell {
        jobs: Vec::new(),
        last: 0,
        exit: None,
        last_background: None,
    };
    let code = match args.get(1).map(String::as_str) {
        Some("-c") => {
            shell.run_line(&args[2..].join(" "));
            shell.wait_all();
            shell.exit.unwrap_or(shell.last)
        }
        Some(script) => match fs::read_to_string(script) {
            Ok(text) => {
                for line in text.lines() {
                    if shell.exit.is_some() {
                        break;
                    }
                    println!("{PROMPT}{line}");
                    shell.run_line(line);
                }
                shell.wait_all();
                shell.exit.unwrap_or(shell.last)
            }
            Err(e) => {
                eprintln!("shell: {script}: {e}");
                2
            }
        },
        None => shell.interactive(),
    };
    std::process::exit(code as i32);
}

impl Shell {
    fn interactive(&mut self) -> u32 {
        if let Ok(motd) = fs::read_to_string("/etc/motd") {
            print!("{motd}");
        }
        let stdin = io::stdin();
        let mut line = String::new();
        while self.exit.is_none() {
            self.reap();
            print!("{PROMPT}");
            let _ = io::stdout().flush();
            line.clear();
            match stdin.lock().read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => self.run_line(&line),
                Err(e) => {
                    eprintln!("shell: reading the console: {e}");
                    break;
                }
            }
        }
        self.exit.unwrap_or(0)
    }

    fn run_line(&mut self, line: &str) {
        match parse::parse_line(line) {
            Ok(commands) => {
                for mut c in commands {
                    if self.exit.is_some() {
                        break;
                    }
                    for word in &mut c.argv {
                        match (word.as_str(), self.last_background) {
                            ("$?", _) => *word = self.last.to_string(),
                            ("$!", Some(pid)) => *word = pid.to_string(),
                            _ => {}
                        }
                    }
                    self.last = self.run(&c);
                }
            }
            Err(e) => {
                eprintln!("shell: {e}");
                self.last = 2;
            }
        }
    }

    /// Reports background programs that ended.
    fn reap(&mut self) {
        let mut i = 0;
        while i < self.jobs.len() {
            match self.jobs[i].process.try_wait() {
                Ok(None) => i += 1,
                Ok(Some(status)) => {
                    let job = self.jobs.remove(i);
                    println!("[{}] {} done: {status}", status.pid, job.name);
                    show_trap(&job.name, &job.process, &status);
                }
                Err(e) => {
                    let job = self.jobs.remove(i);
                    eprintln!("shell: waiting for {}: {e}", job.name);
                }
            }
        }
    }

    /// Waits for every background program.
    fn wait_all(&mut self) {
        for job in std::mem::take(&mut self.jobs) {
            match job.process.wait() {
                Ok(status) => {
                    println!("[{}] {} done: {status}", status.pid, job.name);
                    show_trap(&job.name, &job.process, &status);
                }
                Err(e) => eprintln!("shell: waiting for {}: {e}", job.name),
            }
        }
    }

    /// Runs one command; returns its exit code.
    fn run(&mut self, c: &Command) -> u32 {
        let name = c.argv[0].as_str();
        let args = &c.argv[1..];
        match name {
            "exit" => {
                self.exit = Some(
                    args.first()
                        .and_then(|a| a.parse().ok())
                        .unwrap_or(self.last),
                );
                self.last
            }
            "cd" => {
                let dir = args.first().map_or("/", String::as_str);
                report(std::env::set_current_dir(dir).map_err(|e| format!("cd: {dir}: {e}")))
            }
            "wait" => {
                self.wait_all();
                0
            }
            "sleep" => match args.first().and_then(|a| a.parse::<f64>().ok()) {
                Some(s) if s >= 0.0 => report(
                    atoll::sleep(Duration::from_secs_f64(s)).map_err(|e| format!("sleep: {e}")),
                ),
                _ => report(Err("usage: sleep SECS".into())),
            },
            "kill" => {
                let mut code = 0;
                if args.is_empty() {
                    code = report(Err("usage: kill PID...".into()));
                }
                for a in args {
                    let r = match a.parse::<u32>() {
                        Ok(pid) => atoll::kill(pid).map_err(|e| format!("kill {pid}: {e}")),
                        Err(_) => Err(format!("kill: `{a}` is not a pid")),
                    };
                    code = code.max(report(r));
                }
                code
            }
            "time" => {
                if args.is_empty() {
                    return report(Err("usage: time CMD [ARGS...]".into()));
                }
                let start = atoll::clock_ns();
                let inner = Command {
                    argv: args.to_vec(),
                    background: false,
                    redirect: c.redirect.clone(),
                };
                let code = self.run(&inner);
                let ns = atoll::clock_ns().saturating_sub(start);
                eprintln!(
                    "real {}.{:03}s",
                    ns / 1_000_000_000,
                    (ns / 1_000_000) % 1000
                );
                code
            }
            "ps" | "ls" | "cat" | "echo" | "help" | "pwd" => {
                if c.background {
                    eprintln!("shell: {name} is a builtin; it runs in the foreground");
                }
                let result = match &c.redirect {
                    Some(r) => open_redirect(r).and_then(|mut f| builtin(name, args, &mut f)),
                    None => builtin(name, args, &mut io::stdout().lock()),
                };
                report(result)
            }
            _ => self.spawn(c),
        }
    }

    /// Runs a program: in the foreground (waits, Ctrl-C can end it) or, with
    /// `&`, in the background.
    fn spawn(&mut self, c: &Command) -> u32 {
        let name = c.argv[0].as_str();
        if c.redirect.is_some() {
            return report(Err(format!(
                "{name}: `>` works with builtins only (a program's output is the console)"
            )));
        }
        let mut options = SpawnOptions::new(name)
            .args(c.argv[1..].iter().cloned())
            .preopen("/")
            .preopen("/tmp");
        for (k, v) in std::env::vars() {
            options = options.env(&k, &v);
        }
        let process = match Process::spawn(options) {
            Ok(p) => p,
            Err(atoll::Error::NotFound) => {
                return report(Err(format!("{name}: command not found")));
            }
            Err(e) => return report(Err(format!("{name}: {e}"))),
        };
        if c.background {
            self.last_background = process.pid();
            match process.pid() {
                Some(pid) => println!("[{pid}] {name}"),
                None => println!("[?] {name}"),
            }
            self.jobs.push(Job {
                name: name.into(),
                process,
            });
            return 0;
        }
        if let Some(pid) = process.pid() {
            // EPERM when this shell does not own the console: Ctrl-C then
            // does not reach the program, but it still runs.
            let _ = atoll::set_foreground(pid);
        }
        let status = process.wait();
        let _ = atoll::set_foreground(0);
        match status {
            Ok(status) => {
                match status.exit {
                    Exit::Exited(0) => {}
                    Exit::Exited(code) => eprintln!("{name}: exit code {code}"),
                    Exit::Trapped(_) | Exit::Killed => show_trap(name, &process, &status),
                }
                status.code()
            }
            Err(e) => report(Err(format!("{name}: wait: {e}"))),
        }
    }
}

/// Prints a trap (its message and backtrace) or a kill.
fn show_trap(name: &str, process: &Process, status: &Status) {
    match status.exit {
        Exit::Trapped(trap) => {
            eprintln!("{name}: trapped: {trap}");
            match process.trap_message() {
                Ok(text) => eprintln!("{}", text.trim_end()),
                Err(e) => eprintln!("(no trap message: {e})"),
            }
        }
        Exit::Killed => eprintln!("{name}: killed"),
        Exit::Exited(_) => {}
    }
}

/// Prints an error; the exit code of a builtin.
fn report(r: Result<(), String>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn open_redirect(r: &Redirect) -> Result<fs::File, String> {
    let mut o = OpenOptions::new();
    o.create(true);
    if r.append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    o.open(&r.path).map_err(|e| format!("{}: {e}", r.path))
}

/// The builtins that write output (so `>` can redirect them).
fn builtin(name: &str, args: &[String], out: &mut dyn Write) -> Result<(), String> {
    let w = |e: io::Error| format!("{name}: writing: {e}");
    match name {
        "echo" => writeln!(out, "{}", args.join(" ")).map_err(w),
        "help" => writeln!(out, "{HELP}").map_err(w),
        "pwd" => {
            let dir = std::env::current_dir().map_err(|e| format!("pwd: {e}"))?;
            writeln!(out, "{}", dir.display()).map_err(w)
        }
        "cat" => {
            let mut failed = None;
            for path in args {
                match fs::read(path) {
                    Ok(bytes) => out.write_all(&bytes).map_err(w)?,
                    Err(e) => failed = Some(format!("cat: {path}: {e}")),
                }
            }
            failed.map_or(Ok(()), Err)
        }
        "ls" => {
            let paths: Vec<&str> = if args.is_empty() {
                vec!["."]
            } else {
                args.iter().map(String::as_str).collect()
            };
            for path in &paths {
                if paths.len() > 1 {
                    writeln!(out, "{path}:").map_err(w)?;
                }
                ls(path, out)?;
            }
            Ok(())
        }
        "ps" => {
            let list = atoll::process_list().map_err(|e| format!("ps: {e}"))?;
            writeln!(out, "  PID  PPID STATE    HART      CPU NAME").map_err(w)?;
            for p in list {
                writeln!(
                    out,
                    "{:>5} {:>5} {:<8} {:>4} {:>7}ms {}",
                    p.pid,
                    p.parent,
                    p.state.to_string(),
                    p.hart,
                    p.cpu_ns / 1_000_000,
                    p.name
                )
                .map_err(w)?;
            }
            Ok(())
        }
        _ => Err(format!("{name}: not a builtin")),
    }
}

fn ls(path: &str, out: &mut dyn Write) -> Result<(), String> {
    let w = |e: io::Error| format!("ls: writing: {e}");
    let meta = fs::metadata(path).map_err(|e| format!("ls: {path}: {e}"))?;
    if !meta.is_dir() {
        return writeln!(out, "{:>8} {path}", meta.len()).map_err(w);
    }
    let mut entries: Vec<(String, bool, u64)> = fs::read_dir(path)
        .map_err(|e| format!("ls: {path}: {e}"))?
        .filter_map(Result::ok)
        .map(|e| {
            let meta = e.metadata().ok();
            (
                e.file_name().to_string_lossy().into_owned(),
                meta.as_ref().is_some_and(fs::Metadata::is_dir),
                meta.map_or(0, |m| m.len()),
            )
        })
        .collect();
    entries.sort();
    for (name, dir, size) in entries {
        if dir {
            writeln!(out, "{:>8} {name}/", "").map_err(w)?;
        } else {
            writeln!(out, "{size:>8} {name}").map_err(w)?;
        }
    }
    Ok(())
}
