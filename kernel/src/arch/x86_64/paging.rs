//! Zeroing pages (the kernel's page table is the shared `arch::table`).

/// Zeroes `bytes` at `p` (pages): `rep stosb` through `write_bytes`.
///
/// # Safety
/// `p..p + bytes` must be writable and not aliased by references.
pub unsafe fn zero_pages(p: *mut u8, bytes: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { core::ptr::write_bytes(p, 0, bytes) };
}

/// Nothing to set up: `rep stosb` needs no feature check.
pub fn init_zeroing() {}
