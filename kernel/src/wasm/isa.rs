//! The ISA extensions every hart has, from the device tree (`riscv,isa` or
//! `riscv,isa-extensions` of each cpu node): what JIT code may use.

use spin::Once;

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

/// What every cpu in the FDT reports (all false without an FDT). The vector
/// unit must also be usable (`sstatus.VS` writable) on every hart.
pub fn extensions() -> Extensions {
    *EXTENSIONS.call_once(|| {
        let mut ext = crate::platform::fdt().map_or(Extensions::default(), |fdt| {
            let mut all: Option<Extensions> = None;
            for cpu in fdt.cpus() {
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
