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

/// The contents of the regular file at `path` in `archive`, if any.
pub fn lookup_in<'a>(archive: Archive<'a>, path: &str) -> Result<Option<&'a [u8]>, Error> {
    Ok(archive.find(path)?.filter(|e| e.is_file()).map(|e| e.data))
}

/// The contents of the regular file at `path` in the initrd (None if there
/// is no such file, or no valid initrd).
pub fn lookup(path: &str) -> Option<&'static [u8]> {
    let archive = (*ARCHIVE.get()?)?;
    // The archive was validated whole at boot, so lookups cannot fail.
    lookup_in(archive, path).ok().flatten()
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
