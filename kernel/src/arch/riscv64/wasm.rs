//! riscv64 side of running Wasm: the ISA extensions every hart has, from
//! the device tree (`riscv,isa` or `riscv,isa-extensions` of each cpu
//! node), as Cranelift settings; and `fence.i` on every hart after code is
//! published.

use spin::Once;
use wasm_engine::{Config, Error};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Vector (needed for Wasm SIMD).
    pub v: bool,
    pub zba: bool,
    pub zbb: bool,
    pub zbs: bool,
    pub zicond: bool,
    pub zfa: bool,
}

static EXTENSIONS: Once<Extensions> = Once::new();

/// What every hart the kernel runs on reports in the FDT (all false without
/// an FDT; monitor cores do not count). The vector unit must also be usable
/// (`sstatus.VS` writable) on every hart. Nothing else is assumed: without
/// V, Wasm SIMD is refused at load time; without Zicboz pages are zeroed
/// with stores (`paging`); without Sstc the timer is armed through the SBI,
/// and page tables never use Svpbmt.
pub fn extensions() -> Extensions {
    *EXTENSIONS.call_once(|| {
        let mut ext = crate::arch::machine::fdt().map_or(Extensions::default(), |fdt| {
            let mut all: Option<Extensions> = None;
            for cpu in crate::arch::machine::running_cpus(&fdt) {
                let mine = if let Some(list) = cpu.property("riscv,isa-extensions") {
                    from_list(list.value.split(|&b| b == 0))
                } else if let Some(isa) = cpu.property("riscv,isa").and_then(|p| p.as_str()) {
                    parse_isa_string(isa)
                } else {
                    Extensions::default()
                };
                all = Some(all.map_or(mine, |a| a.and(mine)));
            }
            all.unwrap_or_default()
        });
        ext.v &= crate::arch::has_vector();
        ext
    })
}

impl Extensions {
    fn and(self, o: Self) -> Self {
        Self {
            v: self.v && o.v,
            zba: self.zba && o.zba,
            zbb: self.zbb && o.zbb,
            zbs: self.zbs && o.zbs,
            zicond: self.zicond && o.zicond,
            zfa: self.zfa && o.zfa,
        }
    }

    fn set(&mut self, name: &[u8]) {
        match name {
            b"v" => self.v = true,
            b"zba" => self.zba = true,
            b"zbb" => self.zbb = true,
            b"zbs" => self.zbs = true,
            b"zicond" => self.zicond = true,
            b"zfa" => self.zfa = true,
            _ => {}
        }
    }
}

fn from_list<'a>(names: impl Iterator<Item = &'a [u8]>) -> Extensions {
    let mut e = Extensions::default();
    for n in names {
        e.set(&n.to_ascii_lowercase());
    }
    e
}

/// `rv64imafdcv_zba_zbb...`: single letters after `rv64` (with `g`), then
/// `_`-separated multi-letter names.
pub fn parse_isa_string(isa: &str) -> Extensions {
    let isa = isa.to_ascii_lowercase();
    let mut parts = isa.split('_');
    let mut e = Extensions::default();
    if let Some(base) = parts.next().and_then(|b| b.strip_prefix("rv64")) {
        // Single-letter extensions end where the first multi-letter one
        // starts (z, s, x prefixes may follow without an underscore).
        for c in base
            .bytes()
            .take_while(|c| !matches!(c, b'z' | b's' | b'x'))
        {
            e.set(&[c]);
        }
    }
    for p in parts {
        e.set(p.as_bytes());
    }
    e
}

/// Makes `config` compile for the extensions every hart has: V enables
/// SIMD (without it, SIMD modules fail to compile with a clear error).
pub fn configure(config: &mut Config) -> Result<(), Error> {
    let ext = extensions();
    config.simd(ext.v);
    for (present, flag) in [
        (ext.zba, "has_zba"),
        (ext.zbb, "has_zbb"),
        (ext.zbs, "has_zbs"),
        (ext.zicond, "has_zicond"),
        (ext.zfa, "has_zfa"),
    ] {
        if present {
            // SAFETY: every hart's device-tree node lists the extension.
            unsafe { config.cranelift_flag_enable(flag) };
        }
    }
    Ok(())
}

/// A CPU feature Cranelift knows that this kernel never enables (vector
/// bit manipulation), so no engine here has it (tests of artifacts).
#[cfg(feature = "ktest")]
pub const FEATURE_NEVER_USED: &str = "has_zvbb";

/// Why Wasm SIMD cannot run here, for the error a SIMD module gets.
pub const SIMD_MISSING: &str = "its harts lack the RISC-V vector extension V";

/// Whether Wasm SIMD compiles and runs here (every hart has V).
pub fn simd_supported() -> bool {
    extensions().v
}

/// Makes new code visible to instruction fetch on every hart before any can
/// run it. The caller has written the code through a data mapping and made
/// it RX (shooting the old translations down); this is the last step of
/// publishing, and it returns only when every hart is done:
///
/// 1. `fence.i` here: this hart's fetches see its own earlier stores.
/// 2. SBI RFENCE `remote_fence_i` on every other online hart, which returns
///    after each has executed a `fence.i` (where RFENCE is missing, an IPI
///    that runs `fence.i` on each and waits). A hart that is not online yet
///    runs `fence.i` when it enters the kernel (`init_hart`).
///
/// The order matters: the remote fence must come after the stores are
/// visible (step 1 orders them on this hart), and the code address is
/// handed to other harts (a process thread that may run anywhere) only after
/// both. QEMU cannot catch a mistake here: TCG keeps no instruction cache
/// and retranslates a page whenever it is written, so code runs correctly
/// without any fence.i. Only silicon with split caches (the U74 of the JH7110
/// and FU740, T-Head's C9xx) fetches stale instructions, which shows as
/// illegal-instruction traps or wrong results in freshly compiled code.
pub fn sync_icache_all_harts() {
    use crate::sched::percpu;
    // SAFETY: fence.i only orders this hart's instruction fetches.
    unsafe { core::arch::asm!("fence.i") };
    let others = percpu::online_mask() & !(1 << percpu::current().id());
    if others != 0 {
        let mask = sbi_rt::HartMask::from_mask_base(others as usize, 0);
        if sbi_rt::remote_fence_i(mask).is_err() {
            // Without the RFENCE extension, an IPI that runs fence.i does the same.
            let _ = crate::sched::smp::run_on_all(|| {
                // SAFETY: as above.
                unsafe { core::arch::asm!("fence.i") };
            });
        }
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use ktest::ktest;

    use super::*;

    ktest! {
        fn isa_extensions_come_from_the_device_tree() {
            let e = parse_isa_string("rv64imafdcvh_zicbom_zba_zbb_zbs");
            assert!(e.v && e.zba && e.zbb && e.zbs && !e.zicond);
            let e = parse_isa_string("rv64imafdc_zicond");
            assert!(!e.v && e.zicond);
            assert!(!parse_isa_string("rv64imafdczve32x").v, "z extensions are not single letters");
            // The test machines have V (configs/*.toml: v=true).
            let ext = extensions();
            assert!(ext.v, "V not detected: {ext:?}");
            assert_eq!(ext.v, crate::arch::has_vector());
        }
    }
}
