//! Reading the initial ramdisk: a cpio archive in the "newc" format (what
//! `cpio -H newc` and the Linux kernel use), borrowed in place.
//!
//! Each entry is a 110-byte ASCII header (magic `070701`, or `070702` with
//! a checksum, then thirteen 8-digit hex fields), the NUL-terminated name
//! padded to 4 bytes, then the data padded to 4 bytes. The entry named
//! `TRAILER!!!` ends the archive. Malformed or truncated input gives an
//! [`Error`] naming the offset; nothing here panics.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "alloc")]
mod builder;
#[cfg(feature = "alloc")]
pub use builder::Builder;

use core::fmt;

/// The precompiled artifact a boot image keeps beside the module at `path`
/// (`bin/sh.wasm` -> `bin/sh.cwasm`), or None if `path` is not a `.wasm` file: where
/// the build writes artifacts and where the kernel looks for them.
#[cfg(feature = "alloc")]
pub fn artifact_path(path: &str) -> Option<alloc::string::String> {
    path.strip_suffix(".wasm")
        .map(|stem| alloc::format!("{stem}.cwasm"))
}

const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// File type bits of `mode`.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// What is wrong with an archive, and where (byte offset of the entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The archive ends inside an entry's header, name or data.
    Truncated { offset: usize },
    /// The header does not start with `070701` or `070702`.
    BadMagic { offset: usize },
    /// A header field is not 8 hex digits.
    BadField { offset: usize, field: &'static str },
    /// The name is empty, lacks its NUL terminator or is not UTF-8.
    BadName { offset: usize },
    /// The data ended without a `TRAILER!!!` entry.
    MissingTrailer { offset: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { offset } => {
                write!(f, "cpio archive truncated in the entry at {offset:#x}")
            }
            Self::BadMagic { offset } => {
                write!(f, "no cpio newc magic (070701/070702) at {offset:#x}")
            }
            Self::BadField { offset, field } => {
                write!(
                    f,
                    "cpio header at {offset:#x}: field {field} is not 8 hex digits"
                )
            }
            Self::BadName { offset } => {
                write!(
                    f,
                    "cpio entry at {offset:#x}: name is empty, unterminated or not UTF-8"
                )
            }
            Self::MissingTrailer { offset } => {
                write!(
                    f,
                    "cpio archive ends at {offset:#x} without a TRAILER!!! entry"
                )
            }
        }
    }
}

/// One archive member, borrowing from the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The name as stored (often with a leading `./`).
    pub name: &'a str,
    pub mode: u32,
    pub ino: u32,
    pub mtime: u32,
    pub data: &'a [u8],
}

impl<'a> Entry<'a> {
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
    /// The name without a leading `./` or `/` (the archive root is "").
    pub fn path(&self) -> &'a str {
        normalize(self.name)
    }
}

/// Strips leading `./` and `/` components and trailing `/`.
fn normalize(mut p: &str) -> &str {
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let p = p.trim_end_matches('/');
    if p == "." { "" } else { p }
}

/// A cpio newc archive in memory.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    data: &'a [u8],
}

impl<'a> Archive<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The entries in order, up to (not including) the trailer. After an
    /// error the iterator yields nothing more.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            data: self.data,
            offset: 0,
            done: false,
        }
    }

    /// The entry whose normalized path is `path` (a leading `/` or `./` in
    /// `path` is ignored). Errors before the entry is found are returned.
    pub fn find(&self, path: &str) -> Result<Option<Entry<'a>>, Error> {
        let want = normalize(path);
        for e in self.entries() {
            let e = e?;
            if e.path() == want {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Checks the whole archive: every header and the trailer.
    pub fn validate(&self) -> Result<usize, Error> {
        let mut n = 0;
        for e in self.entries() {
            e?;
            n += 1;
        }
        Ok(n)
    }
}

/// Iterator over an archive's entries.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    data: &'a [u8],
    offset: usize,
    done: bool,
}

fn hex_field(
    header: &[u8],
    index: usize,
    offset: usize,
    field: &'static str,
) -> Result<u32, Error> {
    let start = 6 + index * 8;
    let digits = header
        .get(start..start + 8)
        .ok_or(Error::Truncated { offset })?;
    let mut v: u32 = 0;
    for &d in digits {
        let x = (d as char)
            .to_digit(16)
            .ok_or(Error::BadField { offset, field })?;
        v = (v << 4) | x;
    }
    Ok(v)
}

fn align4(x: usize) -> Option<usize> {
    x.checked_add(3).map(|v| v & !3)
}

impl<'a> Entries<'a> {
    fn parse(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let offset = self.offset;
        if offset >= self.data.len() {
            return Err(Error::MissingTrailer { offset });
        }
        let header = self
            .data
            .get(offset..offset.saturating_add(HEADER_LEN))
            .ok_or(Error::Truncated { offset })?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(Error::BadMagic { offset });
        }
        let ino = hex_field(header, 0, offset, "ino")?;
        let mode = hex_field(header, 1, offset, "mode")?;
        let mtime = hex_field(header, 5, offset, "mtime")?;
        let filesize = hex_field(header, 6, offset, "filesize")? as usize;
        let namesize = hex_field(header, 11, offset, "namesize")? as usize;
        // Every field is checked, even those we do not use, so that garbage is caught.
        for (i, name) in [
            (2, "uid"),
            (3, "gid"),
            (4, "nlink"),
            (7, "devmajor"),
            (8, "devminor"),
        ] {
            hex_field(header, i, offset, name)?;
        }
        for (i, name) in [(9, "rdevmajor"), (10, "rdevminor"), (12, "check")] {
            hex_field(header, i, offset, name)?;
        }
        if namesize == 0 {
            return Err(Error::BadName { offset });
        }
        let name_start = offset + HEADER_LEN;
        let name_end = name_start
            .checked_add(namesize)
            .ok_or(Error::Truncated { offset })?;
        let name_bytes = self
            .data
            .get(name_start..name_end)
            .ok_or(Error::Truncated { offset })?;
        let (last, name) = name_bytes.split_last().ok_or(Error::BadName { offset })?;
        if *last != 0 || name.contains(&0) {
            return Err(Error::BadName { offset });
        }
        let name = core::str::from_utf8(name).map_err(|_| Error::BadName { offset })?;
        let data_start = align4(name_end).ok_or(Error::Truncated { offset })?;
        let data_end = data_start
            .checked_add(filesize)
            .ok_or(Error::Truncated { offset })?;
        let data = self
            .data
            .get(data_start..data_end)
            .ok_or(Error::Truncated { offset })?;
        if name == TRAILER {
            return Ok(None);
        }
        // The last entry's padding may be missing; the next parse reports that.
        self.offset = align4(data_end).ok_or(Error::Truncated { offset })?;
        Ok(Some(Entry {
            name,
            mode,
            ino,
            mtime,
            data,
        }))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::vec::Vec;

    /// Appends one newc entry, as `cpio -H newc` writes it.
    fn push(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            out.len() as u32 + 1,
            mode,
            0,
            0,
            1,
            1_700_000_000u32,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    fn archive(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, mode, data) in files {
            push(&mut out, name, *mode, data);
        }
        push(&mut out, TRAILER, 0, b"");
        // Writers pad archives to 512-byte blocks.
        out.resize(out.len().next_multiple_of(512), 0);
        out
    }

    fn sample() -> Vec<u8> {
        archive(&[
            (".", 0o040755, b""),
            ("./bin", 0o040755, b""),
            ("./bin/init.wasm", 0o100644, b"\0asm\x01\0\0\0"),
            ("hello.txt", 0o100644, b"hello, world\n"),
            ("empty", 0o100600, b""),
            ("./link", 0o120777, b"hello.txt"),
        ])
    }

    #[test]
    fn lists_entries_in_order() {
        let data = sample();
        let a = Archive::new(&data);
        let names: Vec<&str> = a.entries().map(|e| e.unwrap().path()).collect();
        assert_eq!(
            names,
            ["", "bin", "bin/init.wasm", "hello.txt", "empty", "link"]
        );
        assert_eq!(a.validate(), Ok(6));
        let e = a.find("/bin/init.wasm").unwrap().unwrap();
        assert!(e.is_file() && !e.is_dir());
        assert_eq!(e.data, b"\0asm\x01\0\0\0");
        assert_eq!(e.mtime, 1_700_000_000);
        assert!(a.find("bin").unwrap().unwrap().is_dir());
        assert!(a.find("./link").unwrap().unwrap().is_symlink());
        assert_eq!(
            a.find("hello.txt").unwrap().unwrap().data,
            b"hello, world\n"
        );
        assert_eq!(a.find("empty").unwrap().unwrap().data, b"");
        assert_eq!(a.find("missing"), Ok(None));
    }

    #[test]
    fn data_of_every_length_round_trips() {
        let blobs: Vec<Vec<u8>> = (0..9).map(|n| (0..n as u8).collect()).collect();
        let names: Vec<std::string::String> =
            (0..9).map(|n| format!("f{}", "x".repeat(n))).collect();
        let files: Vec<(&str, u32, &[u8])> = names
            .iter()
            .zip(&blobs)
            .map(|(n, b)| (n.as_str(), 0o100644, b.as_slice()))
            .collect();
        let data = archive(&files);
        for (n, b) in names.iter().zip(&blobs) {
            assert_eq!(
                Archive::new(&data).find(n).unwrap().unwrap().data,
                b.as_slice()
            );
        }
    }

    #[test]
    fn empty_archive_and_empty_input() {
        let data = archive(&[]);
        assert_eq!(Archive::new(&data).validate(), Ok(0));
        assert_eq!(
            Archive::new(&[]).validate(),
            Err(Error::MissingTrailer { offset: 0 })
        );
        assert_eq!(
            Archive::new(&[]).find("x"),
            Err(Error::MissingTrailer { offset: 0 })
        );
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let data = sample();
        let trailer_end = {
            // Where the trailer's name ends: any cut before that must fail.
            let pos = data
                .windows(TRAILER.len())
                .position(|w| w == TRAILER.as_bytes())
                .unwrap();
            pos + TRAILER.len() + 1
        };
        for cut in 0..trailer_end {
            let r = Archive::new(&data[..cut]).validate();
            assert!(r.is_err(), "cut at {cut} accepted");
        }
        // A cut inside the third entry's data reports that entry.
        let e = Archive::new(&data).find("bin/init.wasm").unwrap().unwrap();
        let data_off = e.data.as_ptr() as usize - data.as_ptr() as usize;
        let r = Archive::new(&data[..data_off + 3]).validate();
        assert!(matches!(r, Err(Error::Truncated { .. })), "{r:?}");
    }

    #[test]
    fn malformed_headers_are_reported() {
        let mut data = sample();
        data[0] = b'1';
        assert_eq!(
            Archive::new(&data).validate(),
            Err(Error::BadMagic { offset: 0 })
        );

        let mut data = sample();
        data[6 + 6 * 8] = b'g'; // filesize of the first entry
        assert_eq!(
            Archive::new(&data).validate(),
            Err(Error::BadField {
                offset: 0,
                field: "filesize"
            })
        );

        // A name without its NUL.
        let mut data = sample();
        data[HEADER_LEN + 1] = b'x';
        assert_eq!(
            Archive::new(&data).validate(),
            Err(Error::BadName { offset: 0 })
        );

        // Huge sizes do not overflow.
        let mut data = sample();
        data[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"ffffffff");
        assert!(matches!(
            Archive::new(&data).validate(),
            Err(Error::Truncated { offset: 0 })
        ));
        let mut data = sample();
        data[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"ffffffff");
        assert!(matches!(
            Archive::new(&data).validate(),
            Err(Error::Truncated { offset: 0 })
        ));
        let mut data = sample();
        data[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00000000");
        assert_eq!(
            Archive::new(&data).validate(),
            Err(Error::BadName { offset: 0 })
        );

        // Errors stop the iteration.
        let mut data = sample();
        data[0] = b'x';
        assert_eq!(Archive::new(&data).entries().count(), 1);
        // The message is readable.
        assert!(format!("{}", Error::BadMagic { offset: 16 }).contains("0x10"));
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap deterministic fuzz: flip bytes of a valid archive.
        let base = sample();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut data = base.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % data.len();
                data[i] = (seed >> 32) as u8;
            }
            let a = Archive::new(&data);
            let _ = a.validate();
            let _ = a.find("hello.txt");
        }
    }

    #[test]
    fn crc_format_is_accepted() {
        let mut data = sample();
        data[5] = b'2';
        assert_eq!(
            Archive::new(&data).find("hello.txt").unwrap().unwrap().data,
            b"hello, world\n"
        );
    }
}
