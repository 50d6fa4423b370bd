//! Links the riscv64 loader as a static PIE at 0 with its own script (it
//! relocates itself wherever the firmware put it) and embeds the kernel
//! named by `ATOLL_KERNEL_ELF`.
fn main() {
    println!("cargo:rerun-if-env-changed=ATOLL_KERNEL_ELF");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("riscv64") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let script = format!("{dir}/src/arch/riscv64/loader.ld");
        println!("cargo:rerun-if-changed={script}");
        println!("cargo:rustc-link-arg-bins=-T{script}");
        println!("cargo:rustc-link-arg-bins=--pie");
        println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
        // The precompiled core is not PIC: its read-only data holds absolute
        // pointers, relocated in place by `_start` before anything reads them
        // (paging is off, so nothing is read-only yet).
        println!("cargo:rustc-link-arg-bins=-znotext");
        // One RWX image with paging off: no RELRO segment to keep contiguous.
        println!("cargo:rustc-link-arg-bins=-znorelro");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        println!("cargo:rustc-link-arg-bins=--hash-style=gnu");
        match std::env::var("ATOLL_KERNEL_ELF") {
            Ok(path) if std::path::Path::new(&path).is_file() => {
                println!("cargo:rerun-if-changed={path}")
            }
            Ok(path) => panic!("ATOLL_KERNEL_ELF={path} is not a file: build the kernel first"),
            Err(_) => panic!("set ATOLL_KERNEL_ELF to the kernel ELF the loader embeds"),
        }
    }
}
