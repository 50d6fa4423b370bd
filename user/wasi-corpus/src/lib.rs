//! Shared helpers for the corpus programs (`src/bin/*.rs`): WASI constants and names
//! (`consts`), the raw preview 1 imports (`raw`) and safe wrappers (`sys`), and the printing
//! every program uses, so that outputs are deterministic and alike: one line per step,
//! `label: VALUE` on success and `label: ENAME` on error.

pub mod consts;
pub mod raw;
pub mod sys;

pub use consts::*;
pub use sys::{Filestat, R};

use std::fmt::Display;
use std::io;

/// The errno name of a std I/O error (its raw OS error is a WASI errno), or its kind.
pub fn io_errno(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_name(n).to_string(),
        None => format!("{:?}", e.kind()),
    }
}

/// Prints `label: VALUE` or `label: ENAME` for a raw call.
pub fn show<T: Display>(label: &str, r: R<T>) {
    match r {
        Ok(v) => println!("{label}: {v}"),
        Err(e) => println!("{label}: {e}"),
    }
}

/// Prints `label: ok` or `label: ENAME` for a raw call whose value is not printed.
pub fn step<T>(label: &str, r: R<T>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("{label}: ok");
            Some(v)
        }
        Err(e) => {
            println!("{label}: {e}");
            None
        }
    }
}

/// Prints `label: VALUE` or `label: ENAME` for a std call.
pub fn show_io<T: Display>(label: &str, r: io::Result<T>) {
    match r {
        Ok(v) => println!("{label}: {v}"),
        Err(e) => println!("{label}: {}", io_errno(&e)),
    }
}

/// Prints `label: ok` or `label: ENAME` for a std call whose value is not printed.
pub fn step_io<T>(label: &str, r: io::Result<T>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("{label}: ok");
            Some(v)
        }
        Err(e) => {
            println!("{label}: {}", io_errno(&e));
            None
        }
    }
}

/// The fd of the preopen named `name`, scanning from fd 3 until `EBADF`.
pub fn find_preopen(name: &str) -> Option<u32> {
    for fd in 3..256 {
        let Ok((_, len)) = sys::fd_prestat_get(fd) else {
            if sys::fd_fdstat_get(fd).is_err() {
                return None;
            }
            continue;
        };
        let mut buf = vec![0u8; len as usize];
        if sys::fd_prestat_dir_name(fd, &mut buf).is_ok() && buf == name.as_bytes() {
            return Some(fd);
        }
    }
    None
}

/// The fd of the preopen named `name`; without one, says so and exits with 2.
pub fn preopen(name: &str) -> u32 {
    find_preopen(name).unwrap_or_else(|| {
        eprintln!("this program needs a preopened directory named {name}");
        std::process::exit(2)
    })
}

/// A filestat without what differs between hosts (device, inode, times, and a directory's
/// size and link count, which depend on the host's file system).
pub fn describe(st: &Filestat) -> String {
    if st.filetype == FT_DIRECTORY {
        return "directory".into();
    }
    format!(
        "{} size={} nlink={}",
        filetype_name(st.filetype),
        st.size,
        st.nlink
    )
}

/// Bytes as text: printable ASCII as is, everything else as `\xNN`.
pub fn esc(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Opens `path` under the directory `dir` to read and write, creating it (`oflags` adds more).
pub fn open_rw(dir: u32, path: &str, oflags: u16) -> R<u32> {
    sys::path_open(dir, LOOKUP_FOLLOW, path, oflags, FILE_RW, 0, 0)
}

/// Opens `path` under `dir` to read only.
pub fn open_ro(dir: u32, path: &str) -> R<u32> {
    sys::path_open(
        dir,
        LOOKUP_FOLLOW,
        path,
        0,
        FD_READ | FD_SEEK | FD_TELL | FD_FILESTAT_GET,
        0,
        0,
    )
}

/// Opens the directory `path` under `dir` (to list it, and to open paths beneath it), with
/// every right but `fd_write` (which a directory refuses with EISDIR).
pub fn open_dir(dir: u32, path: &str) -> R<u32> {
    let base = ALL_RIGHTS & !FD_WRITE;
    sys::path_open(dir, LOOKUP_FOLLOW, path, O_DIRECTORY, base, ALL_RIGHTS, 0)
}

/// Writes all of `data` to `fd` at its offset.
pub fn write_all(fd: u32, mut data: &[u8]) -> R<()> {
    while !data.is_empty() {
        let n = sys::fd_write(fd, &[data])?;
        if n == 0 {
            return Err(Errno(29));
        }
        data = &data[n..];
    }
    Ok(())
}

/// Reads `fd` from its offset to the end.
pub fn read_to_end(fd: u32) -> R<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = sys::fd_read(fd, &mut [&mut buf])?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The sorted names in the directory `path` under `dir`, `.` and `..` left out, each with
/// a `/` after directories and `@` after symlinks.
pub fn listing(dir: u32, path: &str) -> R<String> {
    let fd = open_dir(dir, path)?;
    let entries = sys::read_dir_all(fd);
    let _ = sys::fd_close(fd);
    let mut names: Vec<String> = entries?
        .into_iter()
        .filter(|e| e.name != b"." && e.name != b"..")
        .map(|e| {
            let suffix = match e.kind {
                FT_DIRECTORY => "/",
                FT_SYMBOLIC_LINK => "@",
                _ => "",
            };
            format!("{}{suffix}", esc(&e.name))
        })
        .collect();
    names.sort();
    Ok(names.join(" "))
}

/// A deterministic byte pattern (xorshift), the same for the same seed.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// FNV-1a over `data`, for printing a short digest of large contents.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
