//! `isolation`: checks that handles are per-process capabilities
//! (user/ABI.md, "Handles"). Prints one `ok`/`FAIL` line per check and exits
//! 0 only if all pass.
//!
//! The parent creates a channel and spawns `isolation --child A B`, passing
//! the numbers of its own two handles as text, not the handles. The child
//! must get `EBADF` for those numbers and for any it was not given.

use std::process::ExitCode;

use atoll::{Channel, Error, Handle, Process, SpawnOptions, sys};

struct Checks {
    failed: u32,
}

impl Checks {
    fn expect(&mut self, what: &str, got: Result<(), Error>, want: Result<(), Error>) {
        if got == want {
            println!("isolation: ok: {what}");
        } else {
            println!("isolation: FAIL: {what}: got {got:?}, want {want:?}");
            self.failed += 1;
        }
    }
}

/// `channel_send` on a raw handle number.
fn send_raw(handle: u32) -> Result<(), Error> {
    let msg = b"x";
    // SAFETY: `msg` is one readable byte.
    let errno = unsafe { sys::channel_send(handle as i32, sys::ptr(msg), 1, 1) };
    match errno {
        0 => Ok(()),
        n => Err(Error::from_errno(n as u16)),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mut checks = Checks { failed: 0 };
    if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..], &mut checks);
    } else {
        parent(&mut checks);
    }
    if checks.failed == 0 {
        println!("isolation: all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("isolation: {} checks failed", checks.failed);
        ExitCode::FAILURE
    }
}

fn parent(checks: &mut Checks) {
    let (a, b) = match Channel::create() {
        Ok(pair) => pair,
        Err(e) => {
            checks.expect("channel_create", Err(e), Ok(()));
            return;
        }
    };
    checks.expect("send on my own handle", a.try_send(b"hi"), Ok(()));
    checks.expect(
        "handle 0 is never valid",
        send_raw(0),
        Err(Error::BadHandle),
    );
    checks.expect("an unused number", send_raw(1000), Err(Error::BadHandle));
    let (ra, rb) = (a.handle().raw(), b.handle().raw());
    let child = Process::spawn(SpawnOptions::new("isolation").args([
        "--child".to_string(),
        ra.to_string(),
        rb.to_string(),
    ]));
    match child {
        Ok(child) => {
            let status = child.wait().map(|s| s.code());
            checks.expect(
                "the child's checks",
                status.and_then(|c| {
                    if c == 0 {
                        Ok(())
                    } else {
                        Err(Error::Other(c as u16))
                    }
                }),
                Ok(()),
            );
        }
        Err(e) => checks.expect("spawn the child", Err(e), Ok(())),
    }
    // The handles still work here: the child could not touch them.
    checks.expect(
        "my handle after the child ran",
        a.try_send(b"again"),
        Ok(()),
    );
    let raw_b = b.handle().raw();
    checks.expect("close my handle", Handle::from(b).close(), Ok(()));
    checks.expect("a closed handle", send_raw(raw_b), Err(Error::BadHandle));
}

fn child(args: &[String], checks: &mut Checks) {
    for a in args {
        let Ok(n) = a.parse::<u32>() else { continue };
        checks.expect(
            &format!("the parent's handle {n} in the child"),
            send_raw(n),
            Err(Error::BadHandle),
        );
    }
    for n in 1..=16 {
        checks.expect(
            &format!("handle {n}, never given"),
            send_raw(n),
            Err(Error::BadHandle),
        );
    }
    // SAFETY: `handle_close` takes a plain integer.
    let closed = unsafe { sys::handle_close(1) };
    checks.expect(
        "closing a handle not given",
        if closed == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(closed as u16))
        },
        Err(Error::BadHandle),
    );
}
