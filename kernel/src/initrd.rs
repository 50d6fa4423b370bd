//! The initial ramdisk (`-initrd` / `linux,initrd-*`): a cpio newc archive
//! the loader leaves in place (`MemoryKind::Initrd`, never handed to the
//! frame allocator). The kernel reads it as read-only files.

use initrd::{Archive, Error};
use spin::Once;

/// The archive, once checked at boot (None: no initrd, or a broken one).
static ARCHIVE: Once<Option<Archive<'static>>> = Once::new();

/// Checks the initrd once; returns the number of entries, `Ok(None)` if
/// the loader passed none.
pub fn init() -> Result<Option<usize>, Error> {
    let mut result = Ok(None);
    ARCHIVE.call_once(|| {
        let bytes = raw()?;
        let a = Archive::new(bytes);
        match a.validate() {
            Ok(n) => {
                result = Ok(Some(n));
                Some(a)
            }
            Err(e) => {
                result = Err(e);
                None
            }
        }
    });
    result
}

/// The initrd's bytes, if the loader passed one.
fn raw() -> Option<&'static [u8]> {
    let bi = crate::boot_info_opt()?;
    if bi.initrd.is_empty() {
        return None;
    }
    // SAFETY: the loader reserves the initrd (`MemoryKind::Initrd`), so the
    // frame allocator never reuses it, and all RAM is mapped at phys_offset.
    Some(unsafe {
        core::slice::from_raw_parts(
            crate::mem::phys_to_virt(bi.initrd.start) as *const u8,
            bi.initrd.len as usize,
        )
    })
}

/// The regular file at `path` in `archive`, if any.
pub fn file_in<'a>(archive: Archive<'a>, path: &str) -> Result<Option<initrd::Entry<'a>>, Error> {
    Ok(archive.find(path)?.filter(|e| e.is_file()))
}

/// The contents of the regular file at `path` in the initrd (None if there
/// is no such file, or no valid initrd).
pub fn lookup(path: &str) -> Option<&'static [u8]> {
    file(path).map(|e| e.data)
}

/// The regular file at `path` in the initrd (None if there is no such file,
/// or no valid initrd).
pub fn file(path: &str) -> Option<initrd::Entry<'static>> {
    let archive = (*ARCHIVE.get()?)?;
    // The archive was validated whole at boot, so lookups cannot fail.
    file_in(archive, path).ok().flatten()
}

/// The validated archive, if there is one.
pub fn archive() -> Option<Archive<'static>> {
    *ARCHIVE.get()?
}

/// Every entry of the initrd (empty without one).
pub fn entries() -> impl Iterator<Item = initrd::Entry<'static>> {
    ARCHIVE
        .get()
        .copied()
        .flatten()
        .into_iter()
        .flat_map(|a| a.entries().filter_map(Result::ok))
}

#[cfg(feature = "ktest")]
mod tests {
    use alloc::vec::Vec;

    use ktest::ktest;

    /// One cpio newc entry (the format `cpio -H newc` writes).
    fn cpio_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
        use core::fmt::Write;
        let mut h = alloc::string::String::new();
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        h.push_str("070701");
        for f in fields {
            let _ = write!(h, "{f:08x}");
        }
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    ktest! {
        fn initrd_files_are_found_by_path() {
            let mut a = Vec::new();
            cpio_entry(&mut a, "./bin", 0o040755, b"");
            cpio_entry(&mut a, "./bin/hello.wasm", 0o100644, b"\0asm\x01\0\0\0");
            cpio_entry(&mut a, "TRAILER!!!", 0, b"");
            let archive = initrd::Archive::new(&a);
            assert_eq!(crate::initrd::file_in(archive, "/bin/hello.wasm").map(|f| f.map(|e| e.data)), Ok(Some(&b"\0asm\x01\0\0\0"[..])));
            assert_eq!(crate::initrd::file_in(archive, "bin").map(|f| f.map(|e| e.data)), Ok(None), "directories are not files");
            assert_eq!(crate::initrd::file_in(archive, "nope").map(|f| f.map(|e| e.data)), Ok(None));
            assert!(crate::initrd::file_in(initrd::Archive::new(&a[..a.len() - 20]), "nope").is_err());
            // The boot initrd, if any, was validated: every file is found by its path.
            for e in crate::initrd::entries().filter(|e| e.is_file()) {
                assert_eq!(crate::initrd::lookup(e.path()).map(|d| d.len()), Some(e.data.len()));
            }
        }
    }
}
