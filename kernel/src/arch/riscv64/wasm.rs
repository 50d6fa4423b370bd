//! riscv64 side of running Wasm: the ISA extensions every hart has, from
//! the device tree (`riscv,isa` or `riscv,isa-extensions` of each cpu
//! node), as Cranelift settings; and `fence.i` on every hart after code is
//! published.

use core::sync::atomic::{AtomicU64, Ordering};

use boot_info::MAX_HARTS;
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

/// Code publications so far ([`sync_icache_all_harts`]).
static PUBLISHED: AtomicU64 = AtomicU64::new(0);
/// Per hart, how many publications its last `fence.i` covers.
static FENCED: [AtomicU64; MAX_HARTS] = [const { AtomicU64::new(0) }; MAX_HARTS];

/// Makes new code visible to instruction fetch on every hart before any can
/// run it. The caller has written the code through a data mapping and made
/// it RX (shooting the old translations down); this is the last step of
/// publishing. As Linux does for user code (deferred `fence.i`), only this
/// hart runs `fence.i` now: the publication is counted, and every other hart
/// runs `fence.i` before it next runs code it has not fenced for
/// ([`sync_icache_this_hart`]: when a thread is switched in and when Wasm is
/// entered), so no hart is interrupted and nobody waits. A remote fence
/// through the SBI made the publishing hart wait in the firmware until every
/// other hart had taken an IPI.
///
/// The order matters: the stores are visible to other harts before the
/// count (release), and a hart that sees the count (acquire) then runs
/// `fence.i`, after which its fetches see the stores. QEMU cannot catch a
/// mistake here: TCG keeps no instruction cache and retranslates a page
/// whenever it is written, so code runs correctly without any fence.i. Only
/// silicon with split caches (the U74 of the JH7110 and FU740, T-Head's
/// C9xx) fetches stale instructions, which shows as illegal-instruction
/// traps or wrong results in freshly compiled code.
pub fn sync_icache_all_harts() {
    let irq = crate::arch::interrupts::disable();
    let n = PUBLISHED.fetch_add(1, Ordering::AcqRel) + 1;
    // SAFETY: fence.i only orders this hart's instruction fetches.
    unsafe { core::arch::asm!("fence.i") };
    FENCED[crate::sched::percpu::current().id()].fetch_max(n, Ordering::Relaxed);
    crate::arch::interrupts::restore(irq);
}

/// Runs `fence.i` on this hart if code was published since its last one:
/// called before a thread runs here and before Wasm is entered, so that no
/// hart runs code published elsewhere without it (see
/// [`sync_icache_all_harts`]).
pub fn sync_icache_this_hart() {
    let irq = crate::arch::interrupts::disable();
    let n = PUBLISHED.load(Ordering::Acquire);
    let fenced = &FENCED[crate::sched::percpu::current().id()];
    if fenced.load(Ordering::Relaxed) < n {
        // SAFETY: fence.i only orders this hart's instruction fetches.
        unsafe { core::arch::asm!("fence.i") };
        fenced.fetch_max(n, Ordering::Relaxed);
    }
    crate::arch::interrupts::restore(irq);
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
