//! `args-raw [ARGS...]`: reads the arguments and the environment with the raw calls
//! (`args_sizes_get`/`args_get`, `environ_sizes_get`/`environ_get`) and prints the counts, the
//! buffer sizes, each pointer's offset into the buffer and the exact NUL-separated buffer.

use corpus::{esc, raw};

type Sizes = unsafe extern "C" fn(*mut usize, *mut usize) -> u16;
type Get = unsafe extern "C" fn(*mut *mut u8, *mut u8) -> u16;

fn dump(what: &str, sizes: Sizes, get: Get) {
    let (mut count, mut size) = (0usize, 0usize);
    // SAFETY: both out-parameters are live.
    let e = unsafe { sizes(&mut count, &mut size) };
    println!(
        "{what}_sizes_get: errno={} count={count} size={size}",
        corpus::errno_name(e.into())
    );
    let mut ptrs = vec![std::ptr::null_mut::<u8>(); count];
    let mut buf = vec![0u8; size];
    // SAFETY: `ptrs` has room for `count` pointers and `buf` for `size` bytes, as the host said.
    let e = unsafe { get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) };
    println!("{what}_get: errno={}", corpus::errno_name(e.into()));
    let base = buf.as_ptr() as usize;
    for (i, p) in ptrs.iter().enumerate() {
        let off = (*p as usize).wrapping_sub(base);
        println!("{what}[{i}] at offset {off}");
    }
    println!("{what} buffer: \"{}\"", esc(&buf));
}

fn main() {
    dump("args", raw::args_sizes_get, raw::args_get);
    dump("environ", raw::environ_sizes_get, raw::environ_get);
}
