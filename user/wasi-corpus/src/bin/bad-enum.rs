//! `bad-enum MODE`: passes one value outside a witx enum or bitflags type, after a line on
//! stdout. wasmtime refuses such calls as a host error (the program ends, exit code 1), so each
//! mode is its own case: `whence` (fd_seek whence 3), `advice` (fd_advise 6), `clock`
//! (clock_time_get id 9), `event` (a subscription tag 5), `oflags` (bit 4), `fdflags` (bit 5),
//! `fstflags` (bit 4), `lookup` (lookupflags bit 1), `ok` (a valid call, for contrast).

use corpus::*;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    println!("mode {mode}");
    let d = find_preopen("/data").unwrap_or(3);
    let r: R<String> = match mode.as_str() {
        "whence" => sys::fd_seek(d, 0, 3).map(|v| v.to_string()),
        "advice" => open_rw(d, "f", O_CREAT)
            .and_then(|fd| sys::fd_advise(fd, 0, 1, 6))
            .map(|_| "ok".into()),
        "clock" => sys::clock_time_get(9, 0).map(|_| "ok".into()),
        "event" => {
            let mut b = [0u8; 48];
            b[8] = 5;
            let mut ev = [0u64; 4];
            let mut n = 0;
            // SAFETY: one 48-byte subscription in, room for one 32-byte event out, `n` live.
            let e = unsafe { raw::poll_oneoff(b.as_ptr(), ev.as_mut_ptr().cast(), 1, &mut n) };
            if e == 0 {
                Ok(format!("{n} events"))
            } else {
                Err(Errno(e))
            }
        }
        "oflags" => sys::path_open(d, 1, "f", 16, FILE_RW, 0, 0).map(|_| "opened".into()),
        "fdflags" => sys::path_open(d, 1, "f", O_CREAT, FILE_RW, 0, 32).map(|_| "opened".into()),
        "fstflags" => sys::path_filestat_set_times(d, 1, ".", 0, 0, 16).map(|_| "ok".into()),
        "lookup" => sys::path_filestat_get(d, 2, ".").map(|s| describe(&s)),
        "ok" => sys::fd_seek(1, 0, WHENCE_CUR).map(|v| v.to_string()),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    show("result", r);
}
