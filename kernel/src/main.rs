//! The atoll kernel.
//!
//! Boot: every hart enters [`kernel_entry`] from the loader. The boot hart
//! brings up the console, logging, memory, the timer and interrupts, then
//! lets the other harts in; they arm their timers and wait for IPIs. Then
//! the boot hart runs the shell (or, with `--features ktest`, the kernel tests).
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod backtrace;
#[cfg(feature = "bench")]
mod bench;
mod boot_marks;
mod console;
mod drivers;
mod hostlink;
mod initrd;
mod log;
mod mem;
mod panic;
// Processes: Wasm programs with their own store, thread and handles.
mod proc;
mod recover;
mod sched;
#[cfg_attr(feature = "ktest", allow(dead_code))] // Test builds run the tests instead.
mod shell;
mod sync;
#[cfg(feature = "ktest")]
mod testing;
mod trap;
mod vfs;
mod wasm;

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use boot_info::{BootInfo, MemoryKind};
use spin::Once;

use crate::arch::machine;
use crate::mem::Size;
use crate::sched::{percpu, timer};

/// The kernel's copy of the hand-over (the loader's memory may be reclaimed).
static BOOT_INFO: Once<BootInfo> = Once::new();
/// Set when the boot hart has finished global init.
static GLOBAL_INIT_DONE: AtomicBool = AtomicBool::new(false);
/// Harts that have entered the kernel.
static HARTS_ENTERED: AtomicU32 = AtomicU32::new(0);

pub fn boot_info_opt() -> Option<&'static BootInfo> {
    BOOT_INFO.get()
}

pub fn boot_info() -> &'static BootInfo {
    // The boot hart stores it before anything else can ask.
    BOOT_INFO
        .get()
        .unwrap_or_else(|| early_fail("boot info requested before it was copied"))
}

/// Prints through the firmware's console and stops: for failures before the console exists.
fn early_fail(msg: &str) -> ! {
    for b in "atoll: fatal: ".bytes().chain(msg.bytes()).chain(*b"\r\n") {
        arch::early_putc(b);
    }
    arch::power_off(false);
    arch::halt();
}

/// Entered on every hart with its id and the loader's `BootInfo` (see `arch::_start`).
///
/// # Safety
/// Called once per hart by the loader, with a valid `BootInfo` pointer.
pub unsafe extern "C" fn kernel_entry(hart_id: usize, bi: *const BootInfo) -> ! {
    if hart_id >= boot_info::MAX_HARTS {
        early_fail("hart id beyond MAX_HARTS");
    }
    percpu::init_this_hart(hart_id);
    HARTS_ENTERED.fetch_add(1, Ordering::AcqRel);
    // SAFETY: the loader passes a valid, readable BootInfo to every hart.
    let loader_bi = unsafe { &*bi };
    if loader_bi.magic == boot_info::MAGIC && loader_bi.boot_hart as usize != hart_id {
        secondary_main(hart_id);
    }
    if let Err(e) = loader_bi.validate() {
        let mut s = heapless_line::Line::new();
        let _ = write!(s, "{e}");
        early_fail(s.as_str());
    }
    let bi = BOOT_INFO.call_once(|| loader_bi.clone());
    boot_main(hart_id, bi)
}

fn boot_main(hart_id: usize, bi: &'static BootInfo) -> ! {
    mem::set_phys_map(bi.phys_offset, bi.phys_map_size);
    timer::init(bi.timer_hz, bi.boot_ticks);
    log::configure(bi.cmdline());
    boot_marks::configure(bi.cmdline());
    let plat = machine::init(hart_id);
    // A UART in the phys map works from here; one above it (TH1520) once the
    // address space is up, and the firmware prints until then.
    if let Some(uart) = machine::console_uart() {
        console::init(uart);
    }
    let first_line = boot_marks::take(boot_marks::Milestone::Kernel);
    println!();
    println!(
        "atoll kernel {} on {} ({} harts in the {})",
        env!("CARGO_PKG_VERSION"),
        plat.model,
        plat.cpus,
        machine::CPU_SOURCE
    );
    if let Some(mark) = first_line {
        mark.print();
    }
    report_console(plat);

    if let Err(e) = mem::frames::init(bi) {
        panic!("frame allocator: {e}");
    }
    if let Err(e) = mem::vm::init(bi) {
        panic!("address space: {e}");
    }
    if console::uart_name().is_none()
        && let Some(uart) = machine::console_uart()
    {
        console::init(uart);
    }
    log::init();
    info!("logging at level {}", log::level_name());
    sched::thread::init_this_hart(true);
    wasm::init();
    percpu::current().online.store(true, Ordering::Release);
    timer::start_this_hart();
    if let Err(e) = machine::init_interrupts(bi.phys_offset) {
        warn!("console input unavailable: {e}");
    }
    drivers::init();
    hostlink::configure(bi.cmdline());
    proc::precompiled::configure(bi.cmdline());

    // Let the other harts in and wait for them, then drop the loader's identity map.
    GLOBAL_INIT_DONE.store(true, Ordering::Release);
    arch::start_secondary_harts(bi);
    let expected = bi.hart_mask.count_ones();
    let deadline = timer::now_ns() + 1_000_000_000;
    while percpu::online_mask().count_ones() < expected && timer::now_ns() < deadline {
        arch::relax();
    }
    let online = percpu::online_mask();
    if online.count_ones() < expected {
        warn!(
            "only {} of {} harts came online (mask {online:#x})",
            online.count_ones(),
            expected
        );
    } else if let Err(e) = mem::vm::drop_lower_half() {
        warn!("could not remove the lower-half mappings: {e}");
    } else {
        // Nothing runs from the loader's image any more: its memory is free.
        let reclaimed: u64 = bi
            .memory_regions()
            .iter()
            .filter(|r| r.kind == MemoryKind::Loader)
            .map(|r| mem::frames::add_free(r.start, r.end()))
            .sum();
        debug!(
            "lower-half mappings removed, {} of loader memory reclaimed",
            Size(reclaimed * mem::PAGE_SIZE)
        );
    }

    match initrd::init() {
        Ok(Some(n)) => info!("initrd: {n} entries"),
        Ok(None) => debug!("no initrd"),
        Err(e) => warn!("initrd ignored: {e}"),
    }

    banner(bi);
    arch::interrupts::enable();

    #[cfg(feature = "bench")]
    bench::run();
    #[cfg(feature = "ktest")]
    if testing::spec_suite::requested() {
        testing::spec_suite::run_all();
    }
    #[cfg(feature = "ktest")]
    testing::run_all();
    #[cfg(not(feature = "ktest"))]
    {
        run_init(bi);
        shell::run();
    }
}

/// Starts `/bin/init.wasm` as pid 1 (argv: `init` and the boot arguments)
/// with the console and the preopens `/` and `/tmp`, then powers off with
/// its exit code when it ends. Returns if there is no init to run.
#[cfg(not(feature = "ktest"))]
fn run_init(bi: &BootInfo) {
    use alloc::string::String;
    use alloc::vec;

    const INIT: &str = "bin/init.wasm";
    let Some(wasm) = initrd::lookup(INIT) else {
        info!("no /bin/init.wasm in the initrd: starting the kernel shell");
        return;
    };
    console::start_line_discipline(proc::interrupt_foreground);
    vfs::init();
    let mut args = vec![String::from("init")];
    args.extend(bi.cmdline().split_whitespace().map(String::from));
    let init = proc::spawn(proc::SpawnRequest {
        name: "init",
        wasm,
        image_path: Some(INIT),
        args,
        env: vec![],
        preopens: vec![
            (String::from("/"), String::from("/")),
            (String::from("/tmp"), String::from("/tmp")),
        ],
        handles: vec![],
        stdio: if hostlink::present() {
            proc::Stdio::Link
        } else {
            proc::Stdio::Console
        },
        owns_console: true,
        entry: crate::proc::invoke::Request::Command,
    });
    match init {
        Ok(p) => {
            let status = p.wait();
            let code = match status {
                Some(proc::Status {
                    kind: proc::StatusKind::Exited,
                    code,
                }) => code,
                Some(s) => {
                    warn!(
                        "init ended: {:?} {}: {}",
                        s.kind,
                        s.code,
                        p.trap_message().unwrap_or_default()
                    );
                    if s.kind == proc::StatusKind::Killed {
                        137
                    } else {
                        134
                    }
                }
                None => 1,
            };
            power_off_with_code(code);
        }
        Err(e) => error!("init: {e}; starting the kernel shell"),
    }
}

/// Powers off with `code` as QEMU's exit status where the machine can
/// carry it; the last console line states it for hosts that cannot read
/// it from the status (x86_64).
pub fn power_off_with_code(code: u32) -> ! {
    hostlink::send_exit(code);
    println!("atoll: power off (exit code {code})");
    arch::interrupts::disable();
    arch::exit_code::power_off_with_code(code);
    arch::halt();
}

fn secondary_main(hart_id: usize) -> ! {
    while !GLOBAL_INIT_DONE.load(Ordering::Acquire) {
        arch::park();
    }
    timer::start_this_hart();
    percpu::current().online.store(true, Ordering::Release);
    debug!("hart {hart_id} online");
    sched::thread::init_this_hart(false);
    arch::interrupts::enable();
    sched::thread::idle_loop();
}

/// Says which UART the console uses, or why input cannot work.
fn report_console(plat: &machine::Machine) {
    match console::uart_name() {
        Some(name) => println!("console: {name}"),
        #[cfg(target_arch = "riscv64")]
        None => match plat.uart {
            Ok(u) => println!(
                "console: UART at {:#x} above the phys map: output through the firmware until it is mapped",
                u.phys
            ),
            Err(e) => println!("console: {e}: output through the firmware, no input"),
        },
        #[cfg(target_arch = "x86_64")]
        None => {
            let _ = plat;
            println!("console: no UART: output through the firmware, no input");
        }
    }
}

fn banner(bi: &BootInfo) {
    let mut out = console::lock();
    let _ = writeln!(out, "memory map:");
    let mut usable = 0;
    for r in bi.memory_regions() {
        if r.kind == MemoryKind::Usable {
            usable += r.len;
        }
        let _ = writeln!(
            out,
            "  {:#012x}-{:#012x} {:?} ({})",
            r.start,
            r.end(),
            r.kind,
            Size(r.len)
        );
    }
    let (free, used, _) = mem::frames::stats();
    let _ = writeln!(
        out,
        "usable {}, frames free {} used {}",
        Size(usable),
        free,
        used
    );
    let _ = writeln!(out, "{}", mem::report::Summary::now(bi));
    let _ = writeln!(
        out,
        "harts: {} entered, {} online of mask {:#x}, boot hart {}",
        HARTS_ENTERED.load(Ordering::Relaxed),
        percpu::online_mask().count_ones(),
        bi.hart_mask,
        bi.boot_hart
    );
    let _ = writeln!(
        out,
        "kernel at {:#x} (KASLR slide {:#x}), paging {:?}",
        bi.kernel.virt_base, bi.kernel.slide, bi.paging
    );
    let boot_ms = timer::uptime_ns() / 1_000_000;
    let _ = writeln!(out, "boot time {boot_ms} ms");
}

/// Powers the machine off (see `arch::power_off`: on QEMU the exit status
/// tells success from failure); halts if that fails.
pub fn shutdown(success: bool) -> ! {
    arch::interrupts::disable();
    arch::power_off(success);
    arch::halt();
}

/// A fixed-size line for messages before the heap exists.
mod heapless_line {
    pub struct Line {
        buf: [u8; 128],
        len: usize,
    }
    impl Line {
        pub const fn new() -> Self {
            Self {
                buf: [0; 128],
                len: 0,
            }
        }
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
        }
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &b in s.as_bytes() {
                if self.len < self.buf.len() && b.is_ascii() {
                    self.buf[self.len] = b;
                    self.len += 1;
                }
            }
            Ok(())
        }
    }
}
