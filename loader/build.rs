//! Links the riscv64 loader at 0x80200000 with its own script and embeds the
//! kernel named by `ATOLL_KERNEL_ELF`.
fn main() {
    println!("cargo:rerun-if-env-changed=ATOLL_KERNEL_ELF");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("riscv64") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let script = format!("{dir}/src/arch/riscv64/loader.ld");
        println!("cargo:rerun-if-changed={script}");
        println!("cargo:rustc-link-arg-bins=-T{script}");
        println!("cargo:rustc-link-arg-bins=--no-pie");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        match std::env::var("ATOLL_KERNEL_ELF") {
            Ok(path) if std::path::Path::new(&path).is_file() => {
                println!("cargo:rerun-if-changed={path}")
            }
            Ok(path) => panic!("ATOLL_KERNEL_ELF={path} is not a file: build the kernel first"),
            Err(_) => panic!("set ATOLL_KERNEL_ELF to the kernel ELF the loader embeds"),
        }
    }
}
