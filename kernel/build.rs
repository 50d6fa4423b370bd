//! Links the kernel as a static PIE at 0 with its own script (see kernel.ld),
//! and for kernel test and benchmark builds with Wasm compiles the test
//! modules (`tests-wasm/*.wat`) to binaries in `OUT_DIR`.
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
        // RELR: the ~16k relative relocations packed into a few hundred words, which
        // the loader walks in a fraction of the instructions RELA entries take.
        println!("cargo:rustc-link-arg-bins=-zpack-relative-relocs");
        // The loader embeds the whole ELF, and with the engine (Cranelift)
        // its debug info and assembler-local `.L` symbols pass 100 MiB:
        // compressed and without those, it fits small machines while gdb
        // and the function symbols (for backtraces) keep working.
        println!("cargo:rustc-link-arg-bins=--compress-debug-sections=zlib");
        println!("cargo:rustc-link-arg-bins=--discard-locals");
    }
    // The kernel tests' modules; the benchmarks use `proc_idle`.
    let feature = |f: &str| std::env::var_os(format!("CARGO_FEATURE_{f}")).is_some();
    if feature("KTEST") || feature("BENCH") {
        compile_wat(&dir);
        abi_imports_module();
    }
}

/// `$OUT_DIR/abi_imports.wasm`: a program importing every function of
/// `atoll_abi::FUNCTIONS` with the listed signature, so the kernel test that
/// runs it fails if the kernel's host functions ever differ from the ABI.
fn abi_imports_module() {
    let ty = |t: &atoll_abi::Ty| match t {
        atoll_abi::Ty::I32 => "i32",
        atoll_abi::Ty::I64 => "i64",
    };
    let mut wat = String::from("(module\n");
    for f in atoll_abi::FUNCTIONS {
        let params: Vec<&str> = f.params.iter().map(ty).collect();
        let results: Vec<&str> = f.results.iter().map(ty).collect();
        wat.push_str(&format!(
            "  (import \"{}\" \"{}\" (func (param {}) (result {})))\n",
            atoll_abi::MODULE,
            f.name,
            params.join(" "),
            results.join(" ")
        ));
    }
    wat.push_str("  (memory (export \"memory\") 1)\n  (func (export \"_start\")))\n");
    let wasm = wat::parse_str(&wat).unwrap_or_else(|e| panic!("abi_imports: {e}\n{wat}"));
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let dest = std::path::Path::new(&out).join("abi_imports.wasm");
    std::fs::write(&dest, wasm).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// `tests-wasm/<name>.wat` becomes `$OUT_DIR/<name>.wasm` (the kernel has
/// no WAT parser; its tests `include_bytes!` the binaries).
fn compile_wat(dir: &str) {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let src = format!("{dir}/tests-wasm");
    println!("cargo:rerun-if-changed={src}");
    let mut paths: Vec<_> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .collect();
    paths.sort();
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
        let wasm = wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_stem().expect("a .wat file has a stem");
        let dest = std::path::Path::new(&out).join(name).with_extension("wasm");
        std::fs::write(&dest, wasm).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    }
}
