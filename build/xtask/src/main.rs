//! atoll's host tool, run as `cargo xtask <command>` (the justfile wraps it).
//!
//! It builds the kernel and the loader for a machine configuration from
//! `configs/`, boots them in QEMU, attaches gdb, and runs every test stage.

mod aot;
mod bench;
mod board;
mod board_tests;
mod build;
mod config;
mod difftest;
mod exec;
mod linux_image;
mod qemu;
mod spec_kernel;
mod stress;
mod summary;
mod test;
mod user_tests;
mod userland;
mod util;

use std::path::Path;
use std::process::ExitCode;

use build::Flavor;
use config::Config;
use qemu::{Launch, Serial};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build   [--config C] [--test] [--release]   build kernel and loader
  run     [--config C] [--release] [-- ARGS]  boot in QEMU (ARGS are extra boot arguments)
  exec    [arch=A] PROG.wasm [--dir H::G]... [--env K=V]... [-- ARGS]
                                              run one Wasm program on atoll (see `exec --help`)
  image   board=NAME [dtb=PATH] [--release] [-- ARGS]
                                              write a board's SD-card image (configs/boards/)
                                              to target/images/boards/NAME.img
  debug   [--config C] [--break SYMBOL]       boot halted and attach gdb-multiarch
  bench   [--quick] [--no-host] [--no-kernel] [--config C]...
                                              benchmarks: host (native, atoll, wasmtime) and
                                              in-kernel; table + target/bench/*.json
  bench-compare OLD.json NEW.json             differences between two bench runs
  test    [--stage S]... [--config C]...      run test stages (lint, host, fuzz, spec, kernel, user,
                                              stress, spec-kernel, difftest, boards); kernel tests
                                              default to every arch
  difftest [--runner NAME] [FILTER...]       run the WASI corpus (user/wasi-corpus/cases.toml) on
                                              wasmtime 51 and on NAME (riscv64, x86_64,
                                              config=C, atoll-host, or wasmtime again) and
                                              compare output, exit codes and directories
  spec-kernel [arch=A] [--config C] [-v] [FILTER...]
                                              the Wasm spec suite in the kernel under QEMU

C is a name under configs/ (default qemu-riscv64) or a path to a .toml file.";

/// Where the riscv64 loader runs on QEMU's machines: RAM base (0x80000000
/// on `virt` and `sifive_u`) + the Image's 2 MiB text offset.
const RISCV_QEMU_IMAGE_ADDRESS: u64 = 0x8020_0000;

/// What `test` covers when no `--config` is given: every architecture.
const DEFAULT_TEST_CONFIGS: [&str; 2] = ["qemu-riscv64", "qemu-x86_64"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

struct Args {
    configs: Vec<String>,
    stages: Vec<String>,
    test: bool,
    release: bool,
    breakpoint: Option<String>,
    rest: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        configs: Vec::new(),
        stages: Vec::new(),
        test: false,
        release: false,
        breakpoint: None,
        rest: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--config" => out.configs.push(value("--config")?),
            "--stage" => out.stages.push(value("--stage")?),
            "--break" => out.breakpoint = Some(value("--break")?),
            "--test" => out.test = true,
            "--release" => out.release = true,
            "--" => {
                out.rest = it.cloned().collect();
                break;
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(out)
}

fn dispatch(args: &[String]) -> Result<bool, String> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(true);
    };
    let root = util::workspace_root();
    if command == "exec" {
        // `exec` has its own options (and passes everything else to the program).
        let code = exec::main(&root, rest)?;
        std::process::exit(i32::from(code));
    }
    match command.as_str() {
        "image" => return board::image_command(&root, rest),
        "bench" => return bench::main(&root, rest),
        "bench-compare" => return bench::compare(rest),
        "difftest" => return difftest::main(&root, rest),
        _ => {}
    }
    if command == "spec-kernel" {
        let options = spec_kernel::parse_args(rest)?;
        return Ok(spec_kernel::run(&root, &options)?.ok);
    }
    let args = parse(rest)?;
    let config_name = args.configs.first().map_or("qemu-riscv64", String::as_str);
    match command.as_str() {
        "build" => {
            let config = Config::load(&root, config_name)?;
            let flavor = if args.test {
                Flavor::Test
            } else {
                Flavor::Normal
            };
            let args_for = if args.test {
                &config.test.args
            } else {
                &config.boot.args
            };
            let a = build::build(&root, &config, flavor, args.release, args_for, None)?;
            println!(
                "kernel: {}\nloader: {}",
                a.kernel.display(),
                a.loader.display()
            );
            Ok(true)
        }
        "run" => {
            let config = Config::load(&root, config_name)?;
            let mut devices = Vec::new();
            let mut base_args = config.boot.args.clone();
            if let Some(home) = &config.run.home {
                let dir = root.join(home);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                devices = exec::home_devices(&config, &dir)?;
                base_args = join_args(&base_args, &["mount=home:/home".to_string()]);
                eprintln!("atoll: /home is {} on the host", dir.display());
            }
            let boot_args = join_args(&base_args, &args.rest);
            let initrd = userland::build(&root)?.initrd(&aot::Target::of(&config));
            let a = build::build(
                &root,
                &config,
                Flavor::Normal,
                args.release,
                &boot_args,
                Some(&initrd),
            )?;
            eprintln!(
                "atoll: {} ({}); Ctrl-A X quits QEMU",
                config.name, config.description
            );
            let launch = Launch {
                config: &config,
                artifacts: &a,
                boot_args,
                gdb: false,
                serial: Serial::Stdio,
                devices,
            };
            Ok(qemu::run_interactive(&launch)?.success())
        }
        "debug" => debug(&root, config_name, &args),
        "test" => {
            let stages = if args.stages.is_empty() {
                test::ALL_STAGES.iter().map(|s| s.to_string()).collect()
            } else {
                args.stages.clone()
            };
            let kernel_configs = if args.configs.is_empty() {
                DEFAULT_TEST_CONFIGS.iter().map(|c| c.to_string()).collect()
            } else {
                args.configs.clone()
            };
            test::run(
                &root,
                &test::Options {
                    stages,
                    kernel_configs,
                },
            )
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

fn join_args(base: &str, extra: &[String]) -> String {
    let mut s = base.to_string();
    for a in extra {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(a);
    }
    s
}

/// Boots halted with QEMU's gdb stub and attaches gdb-multiarch. The loader
/// calls `atoll_loader_kernel_mapped(slide, entry)` once it has placed the
/// kernel; gdb stops there, loads the kernel's symbols at the real (KASLR)
/// address and then breaks on the requested kernel symbol.
fn debug(root: &Path, config_name: &str, args: &Args) -> Result<bool, String> {
    let config = Config::load(root, config_name)?;
    let boot_args = join_args(&config.boot.args, &args.rest);
    let initrd = userland::build(root)?.initrd(&aot::Target::of(&config));
    let a = build::build(
        root,
        &config,
        Flavor::Normal,
        args.release,
        &boot_args,
        Some(&initrd),
    )?;
    let dir = util::target_dir(root);
    let serial = dir.join("atoll-console.log");
    let script = dir.join("atoll-debug.gdb");
    // The riscv64 loader is linked at 0 and runs where QEMU puts a raw
    // `-kernel` image (and where booti moves it): RAM base + 2 MiB.
    let loader_symbols = match config.arch {
        config::Arch::Riscv64 => format!(
            "symbol-file -o {RISCV_QEMU_IMAGE_ADDRESS:#x} {}",
            a.loader.display()
        ),
        config::Arch::X86_64 => format!("file {}", a.loader.display()),
    };
    let mut gdb = format!(
        "set pagination off\nset confirm off\n{loader_symbols}\ntarget remote localhost:1234\n\
         hbreak atoll_loader_kernel_mapped\ncontinue\n\
         eval \"add-symbol-file {kernel} -o %lu\", {reg}\ndelete\n\
         printf \"atoll: kernel symbols loaded at slide %#lx\\n\", {reg}\n",
        kernel = a.kernel.display(),
        reg = config.arch.first_arg_register(),
    );
    if let Some(symbol) = &args.breakpoint {
        gdb.push_str(&format!("hbreak {symbol}\ncontinue\n"));
    } else {
        gdb.push_str("printf \"atoll: set breakpoints in kernel code (hbreak works before paging), then `continue`\\n\"\n");
    }
    std::fs::write(&script, gdb).map_err(|e| format!("writing {}: {e}", script.display()))?;

    let launch = Launch {
        config: &config,
        artifacts: &a,
        boot_args,
        gdb: true,
        serial: Serial::File(serial.clone()),
        devices: Vec::new(),
    };
    let mut qemu = launch.command()?;
    eprintln!("+ {}", util::describe(&qemu));
    eprintln!(
        "atoll: the console goes to {} (`tail -f` it in another terminal)",
        serial.display()
    );
    let mut child = qemu
        .spawn()
        .map_err(|e| format!("cannot start QEMU: {e} (run `just setup`)"))?;
    let status = std::process::Command::new("gdb-multiarch")
        .arg("-q")
        .arg("-x")
        .arg(&script)
        .status();
    let _ = child.kill();
    let _ = child.wait();
    Ok(status
        .map_err(|e| format!("cannot start gdb-multiarch: {e} (run `just setup`)"))?
        .success())
}
