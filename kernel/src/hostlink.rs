//! The host link (`libs/kernel/hostlink`): a program's stdin, stdout and stderr and the run's exit
//! code, carried to `just exec` over the virtio console in frames, apart from the serial
//! console that carries the boot log and kernel messages.
//!
//! With a link present (QEMU started by `just exec`), init and the processes it starts use it
//! as their stdio (`proc::Stdio::Link`). init marks each run of the session ([`begin`],
//! [`end`]); stdin is read per run: the `n`-th end-of-input frame ends run `n`'s input, and
//! bytes of an earlier run that its program left unread are dropped. Powering off while a run
//! is open (or before any began) sends its exit code.

use alloc::collections::VecDeque;

use hostlink::{Decoder, Kind, MAX_PAYLOAD};

use crate::drivers::virtio::{self, console::ConsoleDevice};
use crate::sched::{thread, timer};

/// Decoded stdin bytes kept before the link stops taking more from the host.
const PENDING_MAX: usize = 256 * 1024;

struct Stdin {
    decoder: Decoder,
    /// Decoded bytes of the current run's input.
    pending: VecDeque<u8>,
    /// The current run's input ended (or the stream broke).
    eof: bool,
    /// End-of-input frames seen: the input segment the next bytes belong to.
    segment: u32,
    /// The current run (whose segment is read).
    run: u32,
    /// Whether fds 0, 1 and 2 are terminals on the host (boot argument `exec.tty=`).
    tty: [bool; 3],
}

/// Where the session is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Session {
    /// No run began yet.
    Fresh,
    /// A run began and has not ended.
    Open,
    /// The last run ended.
    Closed,
}

static STDIN: spin::Mutex<Stdin> = spin::Mutex::new(Stdin {
    decoder: Decoder::new(),
    pending: VecDeque::new(),
    eof: false,
    segment: 0,
    run: 0,
    tty: [false; 3],
});
static SESSION: spin::Mutex<Session> = spin::Mutex::new(Session::Fresh);

fn device() -> Option<&'static ConsoleDevice> {
    virtio::console()
}

/// Whether `just exec` is on the other end of a virtio console.
#[cfg_attr(feature = "ktest", allow(dead_code))] // Used with an init, not by the kernel tests.
pub fn present() -> bool {
    device().is_some()
}

/// Reads `exec.tty=` (three digits: stdin, stdout, stderr; 1 for a terminal) from the boot
/// arguments.
pub fn configure(cmdline: &str) {
    let Some(v) = cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("exec.tty="))
    else {
        return;
    };
    let mut s = STDIN.lock();
    for (slot, c) in s.tty.iter_mut().zip(v.bytes()) {
        *slot = c == b'1';
    }
}

/// Whether host fd `fd` (0-2) is a terminal.
pub fn is_tty(fd: usize) -> bool {
    STDIN.lock().tty.get(fd).copied().unwrap_or(false)
}

/// Sends `data` as `kind` frames; blocks until the host has taken them.
pub fn write(kind: Kind, data: &[u8]) -> Result<(), ()> {
    let dev = device().ok_or(())?;
    for chunk in data.chunks(MAX_PAYLOAD) {
        let header = hostlink::header(kind, chunk.len());
        dev.send(&[&header, chunk]).map_err(|e| {
            crate::warn!("host link: send failed: {e}");
        })?;
    }
    Ok(())
}

/// Starts run `run`: its stdin is the `run`-th input segment; the host learns that what
/// follows is this run's output.
pub fn begin(run: u32) -> Result<(), ()> {
    let dev = device().ok_or(())?;
    {
        let mut s = STDIN.lock();
        s.run = run;
        s.pending.clear();
        s.eof = false;
    }
    *SESSION.lock() = Session::Open;
    dev.send(&[&hostlink::u32_frame(Kind::Begin, run)])
        .map_err(|e| crate::warn!("host link: {e}"))
}

/// Ends the current run with exit code `code`.
pub fn end(code: u32) -> Result<(), ()> {
    let dev = device().ok_or(())?;
    *SESSION.lock() = Session::Closed;
    dev.send(&[&hostlink::u32_frame(Kind::Exit, code)])
        .map_err(|e| crate::warn!("host link: {e}"))
}

/// At power-off: ends the run still open (or the only one, if init never marked runs) with
/// `code`.
pub fn send_exit(code: u32) {
    if device().is_some() && *SESSION.lock() != Session::Closed {
        let _ = end(code);
    }
}

/// Moves decoded stdin bytes from the device into `s.pending` (up to its limit).
fn pump(s: &mut Stdin, dev: &ConsoleDevice) {
    if s.eof || s.pending.len() >= PENDING_MAX {
        return;
    }
    let Stdin {
        decoder,
        pending,
        eof,
        segment,
        run,
        ..
    } = s;
    dev.with_received(|a, b| {
        let mut used = 0;
        for part in [a, b] {
            let mut rest = part;
            while !rest.is_empty() && !*eof {
                let room = PENDING_MAX.saturating_sub(pending.len());
                if room == 0 {
                    return (used, ());
                }
                let take = rest.len().min(room.max(hostlink::HEADER_LEN));
                match decoder.feed(&rest[..take]) {
                    Ok((n, piece)) => {
                        if let Some(p) = piece {
                            match p.kind {
                                // Input of an earlier run, left unread, is dropped.
                                Kind::Stdin if *segment == *run => pending.extend(p.data),
                                Kind::Stdin => {}
                                Kind::StdinEof => {
                                    *eof = *segment == *run;
                                    *segment += 1;
                                }
                                other => crate::warn!("host link: unexpected {other:?} frame"),
                            }
                        }
                        used += n;
                        rest = &rest[n..];
                        if n == 0 {
                            break;
                        }
                    }
                    Err(e) => {
                        crate::warn!("{e}; treating stdin as ended");
                        *eof = true;
                    }
                }
            }
            if !rest.is_empty() && !*eof {
                return (used, ());
            }
        }
        (used, ())
    });
}

/// Reads stdin into `buf`: blocks until bytes or end of input arrive (`Ok(0)` at the end);
/// `Err` if `interrupted()` became true while waiting.
pub fn read_stdin(buf: &mut [u8], interrupted: fn() -> bool) -> Result<usize, ()> {
    let Some(dev) = device() else { return Ok(0) };
    if buf.is_empty() {
        return Ok(0);
    }
    let me = thread::current();
    loop {
        {
            let mut s = STDIN.lock();
            pump(&mut s, dev);
            if !s.pending.is_empty() {
                let n = buf.len().min(s.pending.len());
                for (dst, src) in buf.iter_mut().zip(s.pending.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if s.eof {
                return Ok(0);
            }
        }
        if interrupted() {
            return Err(());
        }
        match &me {
            Some(me) if dev.add_reader(me) => {
                // Re-check after registering, so bytes that came in between are not missed.
                let ready = stdin_ready();
                if !ready {
                    thread::park(None);
                }
                dev.remove_reader(me);
            }
            _ => thread::park(Some(timer::now_ns() + 1_000_000)),
        }
    }
}

/// Whether a stdin read would return at once (bytes or end of input are there).
pub fn stdin_ready() -> bool {
    let Some(dev) = device() else { return true };
    let mut s = STDIN.lock();
    pump(&mut s, dev);
    !s.pending.is_empty() || s.eof
}

/// Waits until stdin is ready or the deadline passes (for `poll_oneoff`).
pub fn wait_stdin(deadline_ns: u64, interrupted: fn() -> bool) {
    let Some(dev) = device() else { return };
    let Some(me) = thread::current() else { return };
    while !stdin_ready() && timer::now_ns() < deadline_ns && !interrupted() {
        if dev.add_reader(&me) {
            if !stdin_ready() {
                thread::park(Some(deadline_ns));
            }
            dev.remove_reader(&me);
        } else {
            thread::park(Some(deadline_ns.min(timer::now_ns() + 1_000_000)));
        }
    }
}
