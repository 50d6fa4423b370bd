//! QEMU command lines from a [`Config`], interactive and captured runs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::build::Artifacts;
use crate::config::{Arch, Config};
use crate::util::describe;

pub struct Launch<'a> {
    pub config: &'a Config,
    pub artifacts: &'a Artifacts,
    pub boot_args: String,
    /// Start halted with the gdb stub on :1234.
    pub gdb: bool,
    /// Where the serial console goes.
    pub serial: Serial,
    /// Further QEMU arguments for this run (devices, chardevs).
    pub devices: Vec<String>,
}

/// Where the serial console goes.
#[derive(Debug, Clone, Default)]
pub enum Serial {
    /// QEMU's stdio with its monitor (`-nographic`; Ctrl-A X quits).
    #[default]
    Stdio,
    /// A file.
    File(std::path::PathBuf),
    /// QEMU's stdout alone (no monitor, nothing read from stdin).
    Stdout,
}

impl Launch<'_> {
    pub fn command(&self) -> Result<Command, String> {
        let q = &self.config.qemu;
        let mut cmd = Command::new(&q.binary);
        cmd.args(["-machine", &q.machine]);
        if let Some(accel) = &q.accel {
            cmd.args(["-accel", accel]);
        }
        if let Some(cpu) = &q.cpu {
            cmd.args(["-cpu", cpu]);
        }
        cmd.args(["-smp", &q.smp.to_string(), "-m", &q.memory]);
        match &self.serial {
            Serial::File(path) => {
                cmd.args(["-display", "none", "-monitor", "none"]);
                cmd.arg("-serial").arg(format!("file:{}", path.display()));
            }
            Serial::Stdout => {
                cmd.args(["-display", "none", "-monitor", "none", "-serial", "stdio"]);
            }
            Serial::Stdio => {
                cmd.arg("-nographic");
            }
        }
        if let Some(bios) = &q.bios {
            cmd.args(["-bios", bios]);
        }
        match self.config.arch {
            Arch::Riscv64 => {
                if let Some(payload) = &q.payload {
                    // A firmware stage (U-Boot) finds atoll on the board's disk, whose
                    // boot configuration carries the initrd and the boot arguments.
                    cmd.arg("-kernel").arg(payload);
                } else {
                    let image = self
                        .artifacts
                        .image
                        .as_ref()
                        .ok_or("riscv64 needs the loader's Image")?;
                    cmd.arg("-kernel").arg(image);
                    if let Some(initrd) = &self.artifacts.initrd {
                        cmd.arg("-initrd").arg(initrd);
                    }
                    if !self.boot_args.is_empty() {
                        cmd.args(["-append", &self.boot_args]);
                    }
                }
                if let Some(disk) = &self.artifacts.disk {
                    cmd.arg("-drive").arg(format!(
                        "if=none,id=boot,format=raw,file={}",
                        disk.display()
                    ));
                    let blk = self.config.qemu.virtio.device("blk");
                    cmd.args(["-device", &format!("{blk},drive=boot")]);
                }
            }
            Arch::X86_64 => {
                // UEFI firmware reads the loader, kernel and command line from the ESP.
                let disk = self
                    .artifacts
                    .disk
                    .as_ref()
                    .ok_or("x86_64 needs a disk image")?;
                let code = q
                    .firmware_code
                    .as_deref()
                    .ok_or("x86_64 configs need qemu.firmware_code")?;
                let vars = q
                    .firmware_vars
                    .as_deref()
                    .ok_or("x86_64 configs need qemu.firmware_vars")?;
                let vars_copy = disk.with_file_name("vars.fd");
                std::fs::copy(vars, &vars_copy)
                    .map_err(|e| format!("copying {vars}: {e} (run `just setup`)"))?;
                cmd.arg("-drive")
                    .arg(format!("if=pflash,format=raw,readonly=on,file={code}"));
                cmd.arg("-drive")
                    .arg(format!("if=pflash,format=raw,file={}", vars_copy.display()));
                cmd.arg("-drive")
                    .arg(format!("if=none,id=esp,format=raw,file={}", disk.display()));
                cmd.args(["-device", "virtio-blk-pci,drive=esp,bootindex=0"]);
            }
        }
        cmd.args(&q.extra);
        cmd.args(&self.devices);
        if self.gdb {
            cmd.args(["-s", "-S"]);
        }
        Ok(cmd)
    }
}

/// Runs QEMU attached to this terminal (Ctrl-A X quits).
pub fn run_interactive(launch: &Launch<'_>) -> Result<ExitStatus, String> {
    let mut cmd = launch.command()?;
    eprintln!("+ {}", describe(&cmd));
    cmd.status().map_err(|e| {
        format!(
            "cannot start {}: {e} (run `just setup`)",
            launch.config.qemu.binary
        )
    })
}

pub struct Captured {
    pub lines: Vec<String>,
    /// `None` when QEMU was killed at the timeout.
    pub status: Option<ExitStatus>,
}

/// Runs QEMU with no input, echoing and recording its console, killing it after `timeout`.
pub fn run_captured(launch: &Launch<'_>, timeout: Duration) -> Result<Captured, String> {
    let mut cmd = launch.command()?;
    eprintln!("+ {}", describe(&cmd));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {}: {e} (run `just setup`)",
            launch.config.qemu.binary
        )
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (rx, reader) = console_lines_joinable(stdout, true);

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("waiting for QEMU: {e}")),
        }
    };
    let _ = reader.join();
    Ok(Captured {
        lines: rx.try_iter().collect(),
        status,
    })
}

/// QEMU's console as lines (without `\r`), read on a thread of their own;
/// `echo` also prints each line to stdout as it arrives.
pub fn console_lines(stdout: std::process::ChildStdout, echo: bool) -> mpsc::Receiver<String> {
    console_lines_joinable(stdout, echo).0
}

fn console_lines_joinable(
    stdout: std::process::ChildStdout,
    echo: bool,
) -> (mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut out = std::io::stdout();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if echo {
                let _ = writeln!(out, "{text}");
            }
            if tx.send(text).is_err() {
                break;
            }
        }
    });
    (rx, reader)
}
