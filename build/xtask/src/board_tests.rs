//! The `boards` test stage: atoll on the machines real boards are made of,
//! as far as QEMU models them. Each case boots once, types a shell command
//! and a program at the console and checks their output and the boot log:
//!
//! 1. `qemu-riscv64-uboot`: OpenSBI starts U-Boot, whose standard boot flow
//!    finds `extlinux.conf` on a virtio-blk disk written by the board-image
//!    code (`configs/boards/qemu-virt.toml`) and boots the loader's `Image`
//!    with `booti`; nobody types at U-Boot.
//! 2. `qemu-sifive-u`: SiFive's FU540, an E51 monitor hart 0 that must stay
//!    off, a boot hart other than 0 and the SiFive UART, with typed input.
//! 3. `qemu-riscv64-u54`: U54 harts (Sv39, no V, Zicboz, Sstc, Svpbmt) in
//!    64 MiB: a SIMD program is refused at load time with a clear error.
//! 4. `qemu-riscv64-c906`: T-Head C906 harts: the loader recognizes T-Head
//!    and reads `th.sxstatus`, whose MAEE QEMU leaves off, so page tables
//!    stay standard (the XTheadMae encoding itself is unit-tested).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::build::{self, Flavor};
use crate::config::Config;
use crate::qemu::{Launch, Serial};
use crate::user_tests::type_at_console;

/// A further check on a boot's console lines.
type Check = fn(&[String]) -> Result<(), String>;

/// One boot: what to type, and what the console must show.
struct Case {
    config: &'static str,
    what: &'static str,
    /// (wait for a line containing this, then type this).
    steps: &'static [(&'static str, &'static str)],
    /// Each must be (a substring of) some console line, in this order.
    lines: &'static [&'static str],
    check: Option<Check>,
}

const CASES: [Case; 4] = [
    Case {
        config: "qemu-riscv64-uboot",
        what: "U-Boot finds atoll on a disk image and boots its Image with booti",
        steps: &[
            ("Welcome to atoll", "ls /bin\n"),
            ("hello.wasm", "hello from-u-boot\n"),
            ("arg[1] = from-u-boot", "simd\n"),
            ("simd: ", ""),
        ],
        lines: &[
            "U-Boot 20",
            "Found /extlinux/extlinux.conf",
            "Retrieving file: /atoll/initrd.cpio",
            "Retrieving file: /atoll/Image",
            // booti read the Image header and moved it to RAM base + text_offset.
            "Moving Image from 0x84000000 to 0x80200000",
            "Starting kernel",
            "loader: atoll riscv64 loader",
            "console: 16550",
            "Welcome to atoll",
            "hello.wasm",
            "Hello from atoll! I am hello.",
            "arg[1] = from-u-boot",
            // V harts: the SIMD program runs and agrees with scalar code.
            "simd: ok",
        ],
        check: None,
    },
    Case {
        config: "qemu-sifive-u",
        what: "FU540: monitor hart 0 stays off, boot hart is not 0, SiFive UART input",
        steps: &[
            ("Welcome to atoll", "ls /bin\n"),
            ("hello.wasm", "hello typed-on-sifive-u\n"),
            ("arg[1] = typed-on-sifive-u", ""),
        ],
        lines: &[
            "loader: harts 0x1 stay off",
            "console: SiFive UART",
            "harts: 2 entered, 2 online of mask 0x6",
            "Welcome to atoll",
            "hello.wasm",
            "Hello from atoll! I am hello.",
            "arg[1] = typed-on-sifive-u",
        ],
        check: Some(boot_hart_is_not_zero),
    },
    Case {
        config: "qemu-riscv64-u54",
        what: "U54 harts in 64 MiB: Sv39, and Wasm SIMD refused at load time",
        steps: &[
            ("Welcome to atoll", "ls /bin\n"),
            ("simd.wasm", "simd\n"),
            ("ENOEXEC", "hello after-simd\n"),
            ("arg[1] = after-simd", ""),
        ],
        lines: &[
            "memory: 64.00 MiB RAM",
            "warning: only",
            "paging Sv39",
            "Welcome to atoll",
            "simd.wasm",
            "simd: this machine cannot run Wasm SIMD (its harts lack the RISC-V vector extension V)",
            "ENOEXEC",
            "arg[1] = after-simd",
        ],
        check: Some(simd_never_ran),
    },
    Case {
        config: "qemu-riscv64-c906",
        what: "T-Head C906: vendor recognized, MAEE off in QEMU, standard page tables",
        steps: &[
            ("Welcome to atoll", "ls /bin\n"),
            ("hello.wasm", "hello on-c906\n"),
            ("arg[1] = on-c906", ""),
        ],
        lines: &[
            "loader: T-Head harts with MAEE off: standard page tables",
            "paging Sv39",
            "Welcome to atoll",
            "hello.wasm",
            "arg[1] = on-c906",
        ],
        check: None,
    },
];

/// The banner's "boot hart N" is not hart 0 (OpenSBI picks among the U54s).
fn boot_hart_is_not_zero(lines: &[String]) -> Result<(), String> {
    let hart = lines
        .iter()
        .find_map(|l| l.split("boot hart ").nth(1))
        .and_then(|rest| rest.trim().parse::<u32>().ok())
        .ok_or("no `boot hart N` in the banner")?;
    if hart == 0 {
        return Err("booted on hart 0, the E51 monitor core".into());
    }
    Ok(())
}

/// The refused SIMD program printed nothing of its own.
fn simd_never_ran(lines: &[String]) -> Result<(), String> {
    match lines.iter().find(|l| l.starts_with("simd: dot product")) {
        Some(l) => Err(format!("the SIMD program ran on harts without V: `{l}`")),
        None => Ok(()),
    }
}

fn verify(case: &Case, lines: &[String]) -> Result<(), String> {
    let mut from = 0;
    for want in case.lines {
        match lines[from..].iter().position(|l| l.contains(want)) {
            Some(i) => from += i + 1,
            None => return Err(format!("missing (in order) console line `{want}`")),
        }
    }
    case.check.map_or(Ok(()), |check| check(lines))
}

/// Runs every case; returns (passed, failed).
pub fn run(root: &Path) -> Result<(u64, u64), String> {
    let userland = crate::userland::build(root)?;
    // One image for every board machine: code for the riscv64 baseline.
    let initrd = userland.initrd(&crate::aot::Target::baseline(crate::config::Arch::Riscv64));
    let (mut passed, mut failed) = (0, 0);
    for case in &CASES {
        let config = Config::load(root, case.config)?;
        let start = Instant::now();
        let args = config.test.args.clone();
        let outcome = build::build(root, &config, Flavor::Normal, false, &args, Some(&initrd))
            .and_then(|artifacts| {
                let launch = Launch {
                    config: &config,
                    artifacts: &artifacts,
                    boot_args: args.clone(),
                    gdb: false,
                    serial: Serial::Stdio,
                    devices: Vec::new(),
                };
                type_at_console(
                    &launch,
                    case.steps,
                    Duration::from_secs(config.test.timeout_secs),
                )
            });
        let secs = start.elapsed().as_secs_f64();
        let result = match &outcome {
            Ok((lines, Ok(()))) => verify(case, lines),
            Ok((_, Err(e))) => Err(e.clone()),
            Err(e) => Err(e.clone()),
        };
        match result {
            Ok(()) => {
                passed += 1;
                println!("boards {} {} ... ok ({secs:.1} s)", config.name, case.what);
            }
            Err(e) => {
                failed += 1;
                if let Ok((lines, _)) = &outcome {
                    println!("---- serial console ----");
                    for l in lines {
                        println!("{l}");
                    }
                    println!("------------------------");
                }
                println!(
                    "boards {} {} ... FAILED ({secs:.1} s): {e}",
                    config.name, case.what
                );
            }
        }
    }
    Ok((passed, failed))
}
