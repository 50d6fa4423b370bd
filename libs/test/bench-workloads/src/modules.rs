//! Tiny hand-assembled modules for the instantiation measures (the kernel
//! has no WAT parser). Each is `(module (memory N) (func (export "run")
//! (result i32) i32.const 42))`, [`SMALL_DATA`] with a data segment; the
//! tests check them against `wat`.

/// The module with a 1-page (64 KiB) memory.
pub const SMALL: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type 0: () -> i32
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
    0x07, 0x07, 0x01, 0x03, b'r', b'u', b'n', 0x00, 0x00, // export "run" = func 0
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b, // code: i32.const 42
];

/// [`SMALL`] with one byte of data at address 0: instantiating it writes
/// (one page of) its memory, as most programs' do.
pub const SMALL_DATA: &[u8] = &concat::<{ SMALL.len() + DATA.len() }>(SMALL, DATA);

/// The data section [`SMALL_DATA`] adds: "*" at address 0.
const DATA: &[u8] = &[0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, b'*'];

/// `a` followed by `b` (`N` is their total length).
const fn concat<const N: usize>(a: &[u8], b: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// The module with a 1024-page (64 MiB) memory.
pub const BIG: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type 0: () -> i32
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x05, 0x04, 0x01, 0x00, 0x80, 0x08, // memory: min 1024 pages (LEB128)
    0x07, 0x07, 0x01, 0x03, b'r', b'u', b'n', 0x00, 0x00, // export "run" = func 0
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b, // code: i32.const 42
];
