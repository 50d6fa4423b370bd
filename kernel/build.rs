//! Links the kernel as a static PIE at 0 with its own script (see kernel.ld).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = if target.starts_with("riscv64") {
        Some("riscv64")
    } else if target.starts_with("x86_64") {
        Some("x86_64")
    } else {
        None
    };
    if let Some(arch) = arch {
        let script = format!("{dir}/src/arch/{arch}/kernel.ld");
        println!("cargo:rerun-if-changed={script}");
        println!("cargo:rustc-link-arg-bins=-T{script}");
        println!("cargo:rustc-link-arg-bins=--pie");
        println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
        // The precompiled core/alloc are not PIC: their read-only data holds
        // absolute pointers, which become RELATIVE relocations in the R
        // segment. The loader relocates before mapping, so this is safe.
        println!("cargo:rustc-link-arg-bins=-znotext");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        println!("cargo:rustc-link-arg-bins=--hash-style=gnu");
    }
}
