//! The kernel's serial shell, for when there is no init to run (or it could
//! not start): `atoll> ` with a few inspection commands. It reads lines
//! through the console's line discipline, as processes do, so editing is the
//! same everywhere (backspace, Ctrl-U erases the line, Ctrl-C cancels it,
//! Ctrl-D on an empty line is ignored here).

use alloc::string::String;

use crate::mem::Size;
use crate::sched::{percpu, timer};
use crate::{console, print, println};

const PROMPT: &str = "atoll> ";
/// Longest accepted line; longer input is cut (and said so).
const MAX_LINE: usize = 4096;

pub fn run() -> ! {
    console::start_line_discipline(crate::proc::interrupt_foreground);
    println!("type `help` for commands");
    let mut line = String::new();
    loop {
        print!("{PROMPT}");
        line.clear();
        if read_line(&mut line) {
            execute(line.trim());
        }
    }
}

/// Reads one line from the line discipline; false if Ctrl-C cancelled it
/// (the discipline has echoed `^C`) or it was empty input (Ctrl-D).
fn read_line(line: &mut String) -> bool {
    let start = console::interrupt_count();
    let cancelled = || console::interrupt_count() != start;
    let mut bytes = alloc::vec::Vec::new();
    // A byte at a time, so that the lines after this one (pasted input) stay
    // in the discipline for the next read.
    let mut byte = [0u8; 1];
    loop {
        match console::read_stdin(&mut byte, cancelled) {
            Err(()) | Ok(0) => return false,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => bytes.push(byte[0]),
        }
    }
    if bytes.len() > MAX_LINE {
        bytes.truncate(MAX_LINE);
        println!("(line cut at {MAX_LINE} bytes)");
    }
    line.push_str(&String::from_utf8_lossy(&bytes));
    true
}

fn execute(line: &str) {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else { return };
    match cmd {
        "help" => {
            println!("commands:");
            println!("  help           this list");
            println!("  mem            frames and heap usage");
            println!("  harts          harts and their timer ticks");
            println!("  uptime         time since boot");
            println!(
                "  log [level]    show or set the log level (off error warn info debug trace)"
            );
            println!("  echo <text>    print text (checks that long input arrives whole)");
            println!("  ls             list the initrd");
            println!(
                "  crash <how>    test the fault reporter: panic, fault, overflow (stops the machine)"
            );
            println!("  shutdown       power off");
        }
        "ls" => {
            let mut n = 0;
            for e in crate::initrd::entries() {
                let kind = if e.is_dir() {
                    "d"
                } else if e.is_symlink() {
                    "l"
                } else {
                    "-"
                };
                println!("{kind} {:>8} {}", e.data.len(), e.path());
                n += 1;
            }
            if n == 0 {
                println!("(no initrd)");
            }
        }
        "mem" => {
            let (free, used, managed) = crate::mem::frames::stats();
            println!(
                "frames: {free} free, {used} used, {managed} total ({} free of {})",
                Size(free * 4096),
                Size(managed * 4096)
            );
            let h = crate::mem::heap::stats();
            println!(
                "heap: {} mapped, {} in {} allocations",
                Size(h.mapped),
                Size(h.allocated),
                h.allocations
            );
        }
        "harts" => {
            let online = percpu::online_mask();
            for h in 0..64 {
                if online & (1 << h) != 0 {
                    let me = if h == percpu::current().id() {
                        " (this shell)"
                    } else {
                        ""
                    };
                    println!("hart {h}: online, {} ticks{me}", timer::ticks(h));
                }
            }
        }
        "uptime" => {
            let ns = timer::uptime_ns();
            println!(
                "up {}.{:03} s",
                ns / 1_000_000_000,
                ns % 1_000_000_000 / 1_000_000
            );
        }
        "log" => match words.next() {
            None => println!("log level: {}", crate::log::level_name()),
            Some(level) => match crate::log::set_level(level) {
                Ok(()) => println!("log level: {}", crate::log::level_name()),
                Err(e) => println!("{e}: {level}"),
            },
        },
        "echo" => {
            let rest = line[4..].trim_start();
            println!("{rest}");
            println!("({} bytes)", rest.len());
        }
        "crash" => match words.next() {
            Some("panic") => panic!("crash requested from the shell"),
            Some("fault") => {
                // SAFETY: deliberately reads an unmapped lower-half address to
                // exercise the fault reporter, which stops the machine.
                let v = unsafe { core::ptr::read_volatile(0x10 as *const u64) };
                println!("read {v:#x} from an unmapped address?");
            }
            Some("overflow") => println!("{}", recurse(0)),
            _ => println!("usage: crash panic|fault|overflow"),
        },
        "shutdown" => {
            println!("shutting down");
            crate::shutdown(true);
        }
        other => {
            let dropped = console::dropped_bytes();
            println!("unknown command: {other} (try `help`)");
            if dropped > 0 {
                println!("({dropped} input bytes were dropped)");
            }
        }
    }
}

/// Recurses until the stack overflows into its guard page.
#[allow(unconditional_recursion)] // The point: it never returns.
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[7]
}
