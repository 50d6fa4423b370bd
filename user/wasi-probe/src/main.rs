//! wasi-probe: runs `wasi_snapshot_preview1` calls from a script on stdin and prints each
//! line followed by its result (`= ERRNO ...`), so the same script can be run under atoll and
//! under wasmtime and the outputs compared. Fd 3 must be a writable preopened directory.
//! `libs/engine/wasi/tests/parity/` holds scripts with the output wasmtime 51 gave for them.
//!
//! Commands (numbers decimal, `0x` hex or `-` negative; in text `\n` is a newline, `\s` a
//! space and `''` the empty string): `open DIRFD LOOKUP PATH OFLAGS RIGHTS FDFLAGS`, `close`,
//! `fdstat`, `filestat`, `ftimesget`, `pstat`/`ptimesget DIRFD LOOKUP PATH`, `write`/`writev
//! FD TEXT`, `pwrite FD OFF TEXT`, `read`/`readv FD LEN`, `pread FD LEN OFF`, `seek FD OFF
//! WHENCE`, `tell`, `readdir FD BUFLEN COOKIE`, `mkdir`/`rmdir`/`unlink DIRFD PATH`,
//! `rename FD PATH FD2 PATH2`, `link FD LOOKUP PATH FD2 PATH2`, `symlink TARGET FD PATH`,
//! `readlink FD PATH BUFLEN`, `setflags`, `setrights`, `setsize`, `ftimes FD ATIM MTIM FST`,
//! `ptimes FD LOOKUP PATH ATIM MTIM FST`, `allocate`, `advise`, `sync`, `datasync`,
//! `renumber A B`, `prestat FD LEN`, `clock ID`, `raise`, `yield`, and `tree` (the whole
//! tree under fd 3: kinds, link counts, contents and link targets).
use std::io::BufRead;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_close(fd: u32) -> i32;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> i32;
    fn fd_filestat_get(fd: u32, out: *mut u8) -> i32;
    fn fd_read(fd: u32, iovs: *const u32, n: u32, out: *mut u32) -> i32;
    fn fd_write(fd: u32, iovs: *const u32, n: u32, out: *mut u32) -> i32;
    fn fd_pread(fd: u32, iovs: *const u32, n: u32, off: u64, out: *mut u32) -> i32;
    fn fd_pwrite(fd: u32, iovs: *const u32, n: u32, off: u64, out: *mut u32) -> i32;
    fn fd_seek(fd: u32, off: i64, wh: u32, out: *mut u64) -> i32;
    fn fd_tell(fd: u32, out: *mut u64) -> i32;
    fn fd_readdir(fd: u32, buf: *mut u8, len: u32, cookie: u64, used: *mut u32) -> i32;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> i32;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inh: u64) -> i32;
    fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
    fn fd_filestat_set_times(fd: u32, a: u64, m: u64, f: u32) -> i32;
    fn fd_allocate(fd: u32, off: u64, len: u64) -> i32;
    fn fd_advise(fd: u32, off: u64, len: u64, adv: u32) -> i32;
    fn fd_sync(fd: u32) -> i32;
    fn fd_datasync(fd: u32) -> i32;
    fn fd_renumber(a: u32, b: u32) -> i32;
    fn fd_prestat_get(fd: u32, out: *mut u8) -> i32;
    fn fd_prestat_dir_name(fd: u32, out: *mut u8, len: u32) -> i32;
    fn path_open(
        fd: u32,
        df: u32,
        p: *const u8,
        pl: u32,
        of: u32,
        b: u64,
        i: u64,
        ff: u32,
        out: *mut u32,
    ) -> i32;
    fn path_filestat_get(fd: u32, fl: u32, p: *const u8, pl: u32, out: *mut u8) -> i32;
    fn path_filestat_set_times(
        fd: u32,
        fl: u32,
        p: *const u8,
        pl: u32,
        a: u64,
        m: u64,
        f: u32,
    ) -> i32;
    fn path_create_directory(fd: u32, p: *const u8, pl: u32) -> i32;
    fn path_remove_directory(fd: u32, p: *const u8, pl: u32) -> i32;
    fn path_unlink_file(fd: u32, p: *const u8, pl: u32) -> i32;
    fn path_rename(fd: u32, p: *const u8, pl: u32, fd2: u32, p2: *const u8, pl2: u32) -> i32;
    fn path_link(fd: u32, fl: u32, p: *const u8, pl: u32, fd2: u32, p2: *const u8, pl2: u32)
    -> i32;
    fn path_symlink(p: *const u8, pl: u32, fd: u32, p2: *const u8, pl2: u32) -> i32;
    fn path_readlink(fd: u32, p: *const u8, pl: u32, buf: *mut u8, bl: u32, used: *mut u32) -> i32;
    fn clock_time_get(id: u32, prec: u64, out: *mut u64) -> i32;
    fn clock_res_get(id: u32, out: *mut u64) -> i32;
    fn proc_raise(sig: u32) -> i32;
    fn sched_yield() -> i32;
}

fn num(s: &str) -> u64 {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).unwrap()
    } else if let Some(n) = s.strip_prefix('-') {
        (n.parse::<i64>().unwrap()).wrapping_neg() as u64
    } else {
        s.parse().unwrap()
    }
}
fn text(s: &str) -> Vec<u8> {
    if s == "''" {
        return vec![];
    }
    s.replace("\\n", "\n").replace("\\s", " ").into_bytes()
}
fn u64at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn stat_line(e: i32, b: &[u8], times: bool) -> String {
    if e != 0 {
        return format!("= {e}");
    }
    let s = format!(
        "= 0 type={} nlink={} size={}",
        b[16],
        u64at(b, 24),
        u64at(b, 32)
    );
    // The change time is the host's clock: only whether it is set is comparable.
    if times {
        format!(
            "{s} atim={} mtim={} ctim_set={}",
            u64at(b, 40),
            u64at(b, 48),
            u64at(b, 56) != 0
        )
    } else {
        s
    }
}

fn tree(fd: u32, prefix: &str, out: &mut Vec<String>) {
    let mut buf = vec![0u8; 65536];
    let mut used = 0u32;
    // SAFETY: the buffer and out-pointer are ours and as long as the lengths passed.
    let e = unsafe { fd_readdir(fd, buf.as_mut_ptr(), buf.len() as u32, 0, &mut used) };
    if e != 0 {
        out.push(format!("{prefix} readdir {e}"));
        return;
    }
    let mut names = vec![];
    let mut o = 0usize;
    while o + 24 <= used as usize {
        let nl = u32::from_le_bytes(buf[o + 16..o + 20].try_into().unwrap()) as usize;
        let name = String::from_utf8_lossy(&buf[o + 24..o + 24 + nl]).to_string();
        if name != "." && name != ".." {
            names.push(name);
        }
        o += 24 + nl;
    }
    names.sort();
    for n in names {
        let path = format!("{prefix}{n}");
        let mut st = [0u8; 64];
        let p = path.as_bytes();
        // SAFETY: the path and record buffers are ours and as long as the lengths passed.
        let e = unsafe { path_filestat_get(3, 0, p.as_ptr(), p.len() as u32, st.as_mut_ptr()) };
        if e != 0 {
            out.push(format!("{path} stat {e}"));
            continue;
        }
        match st[16] {
            3 => {
                out.push(format!("{path}/ nlink={}", u64at(&st, 24)));
                let mut nfd = 0;
                // SAFETY: the path and out-pointer are ours.
                let e = unsafe {
                    path_open(3, 0, p.as_ptr(), p.len() as u32, 2, 0x4000, 0, 0, &mut nfd)
                };
                // SAFETY: closing an fd touches no memory.
                if e == 0 {
                    tree(nfd, &format!("{path}/"), out);
                    unsafe { fd_close(nfd) };
                } else {
                    out.push(format!("{path} open {e}"));
                }
            }
            7 => {
                let mut b = [0u8; 256];
                let mut u = 0;
                // SAFETY: the path, buffer and out-pointer are ours, of the lengths passed.
                unsafe {
                    path_readlink(3, p.as_ptr(), p.len() as u32, b.as_mut_ptr(), 256, &mut u)
                };
                out.push(format!(
                    "{path} -> {}",
                    String::from_utf8_lossy(&b[..u as usize])
                ));
            }
            4 => {
                let mut nfd = 0;
                // SAFETY: the path and out-pointer are ours.
                let e =
                    unsafe { path_open(3, 0, p.as_ptr(), p.len() as u32, 0, 2, 0, 0, &mut nfd) };
                let mut data = vec![0u8; 4096];
                let mut n = 0;
                if e == 0 {
                    let iov = [data.as_mut_ptr() as u32, 4096];
                    // SAFETY: the iovec names `data`, ours and 4096 bytes long.
                    unsafe {
                        fd_read(nfd, iov.as_ptr(), 1, &mut n);
                        fd_close(nfd)
                    };
                }
                out.push(format!(
                    "{path} nlink={} {:?}",
                    u64at(&st, 24),
                    String::from_utf8_lossy(&data[..n as usize])
                ));
            }
            t => out.push(format!("{path} type={t}")),
        }
    }
}

fn main() {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let a = |i: usize| num(t[i]);
        let a32 = |i: usize| num(t[i]) as u32;
        // SAFETY: every pointer passed below is to a buffer of this function (a Vec, array
        // or local) with the length passed beside it, alive for the call.
        let r: String = unsafe {
            match t[0] {
                "open" => {
                    let p = text(t[3]);
                    let mut fd = 0;
                    let e = path_open(
                        a32(1),
                        a32(2),
                        p.as_ptr(),
                        p.len() as u32,
                        a32(4),
                        a(5),
                        if t.len() > 7 { a(7) } else { 0 },
                        a32(6),
                        &mut fd,
                    );
                    if e == 0 {
                        format!("= 0 fd={fd}")
                    } else {
                        format!("= {e}")
                    }
                }
                "close" => format!("= {}", fd_close(a32(1))),
                "fdstat" => {
                    let mut b = [0u8; 24];
                    let e = fd_fdstat_get(a32(1), b.as_mut_ptr());
                    if e == 0 {
                        format!(
                            "= 0 type={} flags={:#x} base={:#x} inh={:#x}",
                            b[0],
                            u16::from_le_bytes([b[2], b[3]]),
                            u64at(&b, 8),
                            u64at(&b, 16)
                        )
                    } else {
                        format!("= {e}")
                    }
                }
                "filestat" => {
                    let mut b = [0u8; 64];
                    let e = fd_filestat_get(a32(1), b.as_mut_ptr());
                    stat_line(e, &b, false)
                }
                "ftimesget" => {
                    let mut b = [0u8; 64];
                    let e = fd_filestat_get(a32(1), b.as_mut_ptr());
                    stat_line(e, &b, true)
                }
                "devino" => {
                    let mut b = [0u8; 64];
                    let e = fd_filestat_get(a32(1), b.as_mut_ptr());
                    format!("= {e} dev={} ino={}", u64at(&b, 0), u64at(&b, 8))
                }
                "pstat" => {
                    let p = text(t[3]);
                    let mut b = [0u8; 64];
                    let e = path_filestat_get(
                        a32(1),
                        a32(2),
                        p.as_ptr(),
                        p.len() as u32,
                        b.as_mut_ptr(),
                    );
                    stat_line(e, &b, false)
                }
                "ptimesget" => {
                    let p = text(t[3]);
                    let mut b = [0u8; 64];
                    let e = path_filestat_get(
                        a32(1),
                        a32(2),
                        p.as_ptr(),
                        p.len() as u32,
                        b.as_mut_ptr(),
                    );
                    stat_line(e, &b, true)
                }
                "write" | "writev" => {
                    let d = text(t[2]);
                    let mut n = 0;
                    let iov: Vec<u32> = if t[0] == "write" {
                        vec![d.as_ptr() as u32, d.len() as u32]
                    } else {
                        vec![
                            d.as_ptr() as u32,
                            1,
                            d.as_ptr() as u32 + 1,
                            d.len() as u32 - 1,
                        ]
                    };
                    let e = fd_write(a32(1), iov.as_ptr(), iov.len() as u32 / 2, &mut n);
                    format!("= {e} n={n}")
                }
                "pwrite" => {
                    let d = text(t[3]);
                    let mut n = 0;
                    let iov = [d.as_ptr() as u32, d.len() as u32];
                    let e = fd_pwrite(a32(1), iov.as_ptr(), 1, a(2), &mut n);
                    format!("= {e} n={n}")
                }
                "read" | "readv" => {
                    let mut d = vec![0u8; a(2) as usize];
                    let mut n = 0;
                    let iov: Vec<u32> = if t[0] == "read" {
                        vec![d.as_mut_ptr() as u32, d.len() as u32]
                    } else {
                        vec![
                            d.as_mut_ptr() as u32,
                            1,
                            d.as_mut_ptr() as u32 + 1,
                            d.len() as u32 - 1,
                        ]
                    };
                    let e = fd_read(a32(1), iov.as_ptr(), iov.len() as u32 / 2, &mut n);
                    format!(
                        "= {e} n={n} {:?}",
                        String::from_utf8_lossy(&d[..(n as usize).min(d.len())])
                    )
                }
                "pread" => {
                    let mut d = vec![0u8; a(2) as usize];
                    let mut n = 0;
                    let iov = [d.as_mut_ptr() as u32, d.len() as u32];
                    let e = fd_pread(a32(1), iov.as_ptr(), 1, a(3), &mut n);
                    format!(
                        "= {e} n={n} {:?}",
                        String::from_utf8_lossy(&d[..(n as usize).min(d.len())])
                    )
                }
                "seek" => {
                    let mut o = 0;
                    let e = fd_seek(a32(1), a(2) as i64, a32(3), &mut o);
                    format!("= {e} off={o}")
                }
                "tell" => {
                    let mut o = 0;
                    let e = fd_tell(a32(1), &mut o);
                    format!("= {e} off={o}")
                }
                "readdir" => {
                    let mut b = vec![0u8; a(2) as usize];
                    let mut used = 0;
                    let e = fd_readdir(a32(1), b.as_mut_ptr(), b.len() as u32, a(3), &mut used);
                    let mut s = format!("= {e} used={used}");
                    let mut o = 0usize;
                    let used = used as usize;
                    while o + 24 <= used {
                        let nl = u32::from_le_bytes(b[o + 16..o + 20].try_into().unwrap()) as usize;
                        let end = (o + 24 + nl).min(used);
                        s += &format!(
                            " [{} t{} {}]",
                            u64at(&b, o),
                            b[o + 20],
                            String::from_utf8_lossy(&b[o + 24..end])
                        );
                        o += 24 + nl;
                    }
                    if o < used {
                        s += &format!(" partial={}", used - o);
                    }
                    s
                }
                "mkdir" => {
                    let p = text(t[2]);
                    format!(
                        "= {}",
                        path_create_directory(a32(1), p.as_ptr(), p.len() as u32)
                    )
                }
                "rmdir" => {
                    let p = text(t[2]);
                    format!(
                        "= {}",
                        path_remove_directory(a32(1), p.as_ptr(), p.len() as u32)
                    )
                }
                "unlink" => {
                    let p = text(t[2]);
                    format!("= {}", path_unlink_file(a32(1), p.as_ptr(), p.len() as u32))
                }
                "rename" => {
                    let p = text(t[2]);
                    let q = text(t[4]);
                    format!(
                        "= {}",
                        path_rename(
                            a32(1),
                            p.as_ptr(),
                            p.len() as u32,
                            a32(3),
                            q.as_ptr(),
                            q.len() as u32
                        )
                    )
                }
                "link" => {
                    let p = text(t[3]);
                    let q = text(t[5]);
                    format!(
                        "= {}",
                        path_link(
                            a32(1),
                            a32(2),
                            p.as_ptr(),
                            p.len() as u32,
                            a32(4),
                            q.as_ptr(),
                            q.len() as u32
                        )
                    )
                }
                "symlink" => {
                    let p = text(t[1]);
                    let q = text(t[3]);
                    format!(
                        "= {}",
                        path_symlink(
                            p.as_ptr(),
                            p.len() as u32,
                            a32(2),
                            q.as_ptr(),
                            q.len() as u32
                        )
                    )
                }
                "readlink" => {
                    let p = text(t[2]);
                    let mut b = vec![0u8; a(3) as usize];
                    let mut u = 0;
                    let e = path_readlink(
                        a32(1),
                        p.as_ptr(),
                        p.len() as u32,
                        b.as_mut_ptr(),
                        b.len() as u32,
                        &mut u,
                    );
                    format!(
                        "= {e} n={u} {:?}",
                        String::from_utf8_lossy(&b[..(u as usize).min(b.len())])
                    )
                }
                "setflags" => format!("= {}", fd_fdstat_set_flags(a32(1), a32(2))),
                "setrights" => format!("= {}", fd_fdstat_set_rights(a32(1), a(2), a(3))),
                "setsize" => format!("= {}", fd_filestat_set_size(a32(1), a(2))),
                "ftimes" => format!("= {}", fd_filestat_set_times(a32(1), a(2), a(3), a32(4))),
                "ptimes" => {
                    let p = text(t[3]);
                    format!(
                        "= {}",
                        path_filestat_set_times(
                            a32(1),
                            a32(2),
                            p.as_ptr(),
                            p.len() as u32,
                            a(4),
                            a(5),
                            a32(6)
                        )
                    )
                }
                "allocate" => format!("= {}", fd_allocate(a32(1), a(2), a(3))),
                "advise" => format!("= {}", fd_advise(a32(1), a(2), a(3), a32(4))),
                "sync" => format!("= {}", fd_sync(a32(1))),
                "datasync" => format!("= {}", fd_datasync(a32(1))),
                "renumber" => format!("= {}", fd_renumber(a32(1), a32(2))),
                "prestat" => {
                    let mut b = [0u8; 8];
                    let e = fd_prestat_get(a32(1), b.as_mut_ptr());
                    let mut n = [0u8; 64];
                    let l = u32::from_le_bytes(b[4..8].try_into().unwrap());
                    let e2 = if e == 0 {
                        fd_prestat_dir_name(a32(1), n.as_mut_ptr(), a32(2))
                    } else {
                        -1
                    };
                    format!(
                        "= {e} len={l} name={e2} {:?}",
                        String::from_utf8_lossy(&n[..(l as usize).min(64)])
                    )
                }
                "clock" => {
                    let mut o = 0;
                    let e = clock_time_get(a32(1), 0, &mut o);
                    let mut r = 0;
                    let e2 = clock_res_get(a32(1), &mut r);
                    format!("= {e} {e2} nonzero={}", o != 0)
                }
                "raise" => format!("= {}", proc_raise(a32(1))),
                "yield" => format!("= {}", sched_yield()),
                "tree" => {
                    let mut out = vec![];
                    tree(3, "", &mut out);
                    out.join("\n")
                }
                c => format!("unknown {c}"),
            }
        };
        println!("{line}\n  {r}");
    }
}
