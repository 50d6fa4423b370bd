//! The serial console: whichever UART the platform names (a 16550 of any
//! register layout, DesignWare, SiFive; see `drivers::uart`), through the
//! `Uart` trait. Output polls the transmitter; input arrives by interrupt
//! into a ring buffer so fast typing and pasted text are not lost while the
//! shell is busy. For processes, a line discipline (echo, backspace, Enter,
//! Ctrl-D, Ctrl-C) turns the ring into stdin; the scheduler runs it from its
//! poll hook, as interrupt handlers only fill the ring. Until a UART is
//! known, output goes through the firmware (SBI's debug console, COM1).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use spin::Once;

use crate::drivers::uart::{Device, Uart};
use crate::sched::thread::WaitQueue;
use crate::sync::{IrqGuard, IrqMutex};

static UART: Once<Device> = Once::new();
/// Serializes output so lines from different harts do not interleave.
static OUT: IrqMutex<()> = IrqMutex::new(());

/// Makes `device` the console (once; later calls keep the first) and
/// initializes it. Output stops going through the firmware.
pub fn init(device: Device) {
    let uart = UART.call_once(|| device);
    let _g = OUT.lock();
    uart.init();
}

/// Which UART drives the console; `None` while output goes through the firmware.
pub fn uart_name() -> Option<&'static str> {
    UART.get().map(Device::name)
}

pub fn enable_rx_interrupt() {
    if let Some(u) = UART.get() {
        u.set_rx_interrupt(true);
    }
}

fn put_byte(b: u8) {
    match UART.get() {
        Some(u) => u.write_blocking(b),
        None => crate::arch::early_putc(b),
    }
}

fn put_str(s: &str) {
    for b in s.bytes() {
        if b == b'\n' {
            put_byte(b'\r');
        }
        put_byte(b);
    }
}

/// Writes while holding the output lock.
pub struct Console<'a> {
    _guard: IrqGuard<'a, ()>,
}

impl Write for Console<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        put_str(s);
        Ok(())
    }
}

/// Writes raw bytes (a process's stdout/stderr), `\n` as `\r\n`.
pub fn write_bytes(data: &[u8]) {
    let _g = OUT.lock();
    for &b in data {
        if b == b'\n' {
            put_byte(b'\r');
        }
        put_byte(b);
    }
}

pub fn lock() -> Console<'static> {
    Console { _guard: OUT.lock() }
}

/// A writer for the panic and fault paths: takes the lock if it can within
/// a short while, else writes anyway (the holder may be the crashed code).
pub struct PanicWriter {
    _guard: Option<IrqGuard<'static, ()>>,
}

impl Write for PanicWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        put_str(s);
        Ok(())
    }
}

pub fn panic_writer() -> PanicWriter {
    for _ in 0..1_000_000 {
        if let Some(g) = OUT.try_lock() {
            return PanicWriter { _guard: Some(g) };
        }
        crate::arch::relax();
    }
    PanicWriter { _guard: None }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let _ = lock().write_fmt(args);
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

// ---- input ----

const RING_SIZE: usize = 4096;
static RING: [AtomicU8; RING_SIZE] = [const { AtomicU8::new(0) }; RING_SIZE];
/// Next slot the interrupt handler writes; only it stores here.
static HEAD: AtomicUsize = AtomicUsize::new(0);
/// Next slot the reader takes; only the reader stores here.
static TAIL: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Drains the UART's receive FIFO into the ring (interrupt context).
pub fn on_uart_interrupt() {
    let Some(u) = UART.get() else { return };
    u.acknowledge();
    while let Some(b) = u.read() {
        let head = HEAD.load(Ordering::Relaxed);
        if head.wrapping_sub(TAIL.load(Ordering::Acquire)) >= RING_SIZE {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        RING[head % RING_SIZE].store(b, Ordering::Relaxed);
        HEAD.store(head.wrapping_add(1), Ordering::Release);
    }
}

/// The next input byte, if one arrived. Single reader (the line discipline).
pub fn read_byte() -> Option<u8> {
    let tail = TAIL.load(Ordering::Relaxed);
    if tail == HEAD.load(Ordering::Acquire) {
        return None;
    }
    let b = RING[tail % RING_SIZE].load(Ordering::Relaxed);
    TAIL.store(tail.wrapping_add(1), Ordering::Release);
    Some(b)
}

/// Bytes lost because the ring was full.
pub fn dropped_bytes() -> usize {
    DROPPED.load(Ordering::Relaxed)
}

fn has_raw_input() -> bool {
    TAIL.load(Ordering::Relaxed) != HEAD.load(Ordering::Acquire)
}

// ---- the line discipline (process stdin) ----

/// Threads waiting for console input.
static INPUT_WQ: WaitQueue = WaitQueue::new();
/// Whether the line discipline has been started (it runs from then on).
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
static LINE_MODE: AtomicBool = AtomicBool::new(false);
/// Ctrl-C presses so far: a reader that is not a process (the kernel shell)
/// notices one by the count changing.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// Longest line kept while editing; more is delivered as it comes.
const MAX_EDIT: usize = 64 << 10;

struct Discipline {
    /// The line being edited (echoed, not yet readable).
    edit: Vec<u8>,
    /// Finished lines, readable.
    ready: VecDeque<u8>,
    /// Ctrl-D on an empty line: reads that return end of input.
    eofs: usize,
}

static LINE: spin::Mutex<Discipline> = spin::Mutex::new(Discipline {
    edit: Vec::new(),
    ready: VecDeque::new(),
    eofs: 0,
});

/// Called for Ctrl-C (thread context): ends the foreground process.
static INTERRUPT_HOOK: Once<fn()> = Once::new();

/// Hands console input to the line discipline: echo, backspace, Ctrl-U
/// erasing the line, lines delivered on Enter, Ctrl-D for end of input,
/// Ctrl-C calling `on_ctrl_c`. Every console reader (processes and the
/// kernel shell) reads through it; starting it again changes nothing.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
pub fn start_line_discipline(on_ctrl_c: fn()) {
    INTERRUPT_HOOK.call_once(|| on_ctrl_c);
    if !LINE_MODE.swap(true, Ordering::AcqRel) {
        crate::sched::thread::add_poll_hook(poll);
    }
}

/// How many times Ctrl-C was pressed so far.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
pub fn interrupt_count() -> usize {
    INTERRUPTS.load(Ordering::Acquire)
}

/// Scheduler poll hook: runs the discipline over new input and wakes readers.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
fn poll() {
    if has_raw_input() {
        pump();
    }
}

/// Moves raw input through the discipline. Several threads may call it:
/// the lock keeps bytes in order (only its holder takes from the ring).
fn pump() {
    let mut ctrl_c = false;
    let mut woke = false;
    {
        let Some(mut d) = LINE.try_lock() else { return };
        while let Some(b) = read_byte() {
            match b {
                b'\r' | b'\n' => {
                    print!("\n");
                    let line = core::mem::take(&mut d.edit);
                    d.ready.extend(line);
                    d.ready.push_back(b'\n');
                    woke = true;
                }
                0x03 => {
                    print!("^C\n");
                    d.edit.clear();
                    INTERRUPTS.fetch_add(1, Ordering::AcqRel);
                    ctrl_c = true;
                }
                0x04 => {
                    if d.edit.is_empty() {
                        d.eofs += 1;
                    } else {
                        let line = core::mem::take(&mut d.edit);
                        d.ready.extend(line);
                    }
                    woke = true;
                }
                0x08 | 0x7f => {
                    // Erase one character (a whole UTF-8 sequence).
                    while let Some(c) = d.edit.pop() {
                        if c & 0xc0 != 0x80 {
                            break;
                        }
                    }
                    print!("\x08 \x08");
                }
                // Ctrl-U: erase the whole line being edited.
                0x15 => {
                    let chars = d.edit.iter().filter(|&&c| c & 0xc0 != 0x80).count();
                    d.edit.clear();
                    for _ in 0..chars {
                        print!("\x08 \x08");
                    }
                }
                b if b >= 0x20 || b == b'\t' => {
                    d.edit.push(b);
                    put_byte_locked(b);
                    if d.edit.len() >= MAX_EDIT {
                        let line = core::mem::take(&mut d.edit);
                        d.ready.extend(line);
                        woke = true;
                    }
                }
                // Other control bytes are ignored.
                _ => {}
            }
        }
    }
    if ctrl_c && let Some(f) = INTERRUPT_HOOK.get() {
        f();
    }
    if woke || ctrl_c {
        INPUT_WQ.wake_all();
    }
}

fn put_byte_locked(b: u8) {
    let _g = OUT.lock();
    put_byte(b);
}

/// Whether a stdin read would not block.
pub fn stdin_ready() -> bool {
    pump();
    let d = LINE.lock();
    !d.ready.is_empty() || d.eofs > 0
}

/// Reads stdin through the line discipline: blocks for a line (or end of
/// input, `Ok(0)`). `Err(())` if `interrupted()` became true while waiting.
pub fn read_stdin(buf: &mut [u8], interrupted: impl Fn() -> bool) -> Result<usize, ()> {
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        pump();
        {
            let mut d = LINE.lock();
            if !d.ready.is_empty() {
                let n = buf.len().min(d.ready.len());
                for (dst, src) in buf.iter_mut().zip(d.ready.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if d.eofs > 0 {
                d.eofs -= 1;
                return Ok(0);
            }
        }
        if interrupted() {
            return Err(());
        }
        INPUT_WQ.wait_until(
            || {
                let d = LINE.lock();
                !d.ready.is_empty() || d.eofs > 0 || has_raw_input()
            },
            None,
            &interrupted,
        );
    }
}

/// Waits until stdin is readable or the deadline passes.
pub fn wait_stdin(deadline_ns: u64, interrupted: impl Fn() -> bool) {
    INPUT_WQ.wait_until(stdin_ready, Some(deadline_ns), interrupted);
}

/// Wakes everyone waiting for input (e.g. after a kill).
pub fn wake_readers() {
    INPUT_WQ.wake_all();
}
