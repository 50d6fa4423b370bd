//! The artifact header: what the code was compiled for. [`Header::check`] compares it
//! with the engine that loads it and names the first difference.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::codec::{Reader, Writer, refused};
use crate::runtime::config::BoundsChecks;
use crate::runtime::engine::Engine;
use crate::{Error, compile};

/// Engine version and artifact format: an artifact loads only into the very engine
/// version that wrote it.
pub(crate) const ENGINE_VERSION: &str =
    concat!("atoll-wasm-engine ", env!("CARGO_PKG_VERSION"), " format 3");

/// Cranelift settings that do not change the code generated (checks only).
const NOT_CODE: [&str; 2] = ["enable_verifier", "regalloc_checker"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub engine_version: String,
    pub triple: String,
    /// Shared Cranelift settings, `(name, value)`.
    pub shared_flags: Vec<(String, String)>,
    /// Target ISA settings (CPU features), `(name, value)`.
    pub isa_flags: Vec<(String, String)>,
    pub fuel: bool,
    pub epoch: bool,
    pub explicit_bounds: bool,
    pub guard_size: u64,
    /// The Wasm module the code was compiled from.
    pub source: Source,
}

/// What identifies the Wasm module an artifact was compiled from: its SHA-256 (the
/// module's identity, by which caches know it) and its XXH3-128 (to check quickly that
/// given bytes are that module: SHA-256 costs a riscv64 kernel about 64 instructions
/// per byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Source {
    pub sha256: [u8; 32],
    pub xxh3: [u8; 16],
}

impl Source {
    pub fn of(wasm: &[u8]) -> Source {
        use sha2::Digest;
        Source {
            sha256: sha2::Sha256::digest(wasm).into(),
            xxh3: super::checksum(wasm),
        }
    }
}

fn settings(
    values: impl Iterator<Item = cranelift_codegen::settings::Value>,
) -> Vec<(String, String)> {
    values
        .filter(|v| !NOT_CODE.contains(&v.name))
        .map(|v| (v.name.to_string(), v.value_string()))
        .collect()
}

impl Header {
    /// The header of code `engine` compiles from the module `source`.
    pub fn of(engine: &Engine, source: Source) -> Header {
        let isa = engine.isa();
        let c = engine.config();
        let opts = compile::translate_options(c, isa);
        Header {
            engine_version: ENGINE_VERSION.to_string(),
            triple: isa.triple().to_string(),
            shared_flags: settings(isa.flags().iter()),
            isa_flags: settings(isa.isa_flags().into_iter()),
            fuel: opts.fuel,
            epoch: opts.epoch,
            explicit_bounds: c.bounds_checks == BoundsChecks::Explicit,
            guard_size: opts.guard_size,
            source,
        }
    }

    /// Whether code with this header runs correctly under `engine`: the same engine
    /// version, target, code-shaping options and Cranelift settings, and no CPU feature
    /// (`has_*`) the engine does not have (fewer is fine). The error names the reason.
    pub fn check(&self, engine: &Engine) -> Result<(), Error> {
        let here = Header::of(engine, self.source);
        let differs = |what: &str, a: &dyn core::fmt::Display, b: &dyn core::fmt::Display| {
            refused(format!("compiled for {what} {a}, this engine has {b}"))
        };
        if self.engine_version != here.engine_version {
            return Err(differs(
                "engine version",
                &self.engine_version,
                &here.engine_version,
            ));
        }
        if self.triple != here.triple {
            return Err(differs("target", &self.triple, &here.triple));
        }
        if (self.fuel, self.epoch) != (here.fuel, here.epoch) {
            return Err(refused(format!(
                "compiled with fuel {} and epochs {}, this engine has fuel {} and epochs {}",
                self.fuel, self.epoch, here.fuel, here.epoch
            )));
        }
        if self.explicit_bounds != here.explicit_bounds {
            return Err(differs(
                "explicit bounds checks",
                &self.explicit_bounds,
                &here.explicit_bounds,
            ));
        }
        if self.guard_size != here.guard_size {
            return Err(differs("guard size", &self.guard_size, &here.guard_size));
        }
        compare(&self.shared_flags, &here.shared_flags, false)?;
        compare(&self.isa_flags, &here.isa_flags, true)
    }

    pub fn write(&self, w: &mut Writer) {
        w.str(&self.engine_version);
        w.str(&self.triple);
        for list in [&self.shared_flags, &self.isa_flags] {
            w.u32(list.len() as u32);
            for (k, v) in list {
                w.str(k);
                w.str(v);
            }
        }
        w.u8(u8::from(self.fuel) | u8::from(self.epoch) << 1 | u8::from(self.explicit_bounds) << 2);
        w.u64(self.guard_size);
        w.raw(&self.source.sha256);
        w.raw(&self.source.xxh3);
    }

    pub fn read(r: &mut Reader<'_>) -> Result<Header, Error> {
        let engine_version = r.str()?;
        let triple = r.str()?;
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            for _ in 0..r.count(8)? {
                list.push((r.str()?, r.str()?));
            }
        }
        let [shared_flags, isa_flags] = lists;
        let bits = r.u8()?;
        let guard_size = r.u64()?;
        let mut source = Source {
            sha256: [0; 32],
            xxh3: [0; 16],
        };
        source.sha256.copy_from_slice(r.raw(32)?);
        source.xxh3.copy_from_slice(r.raw(16)?);
        Ok(Header {
            engine_version,
            triple,
            shared_flags,
            isa_flags,
            fuel: bits & 1 != 0,
            epoch: bits & 2 != 0,
            explicit_bounds: bits & 4 != 0,
            guard_size,
            source,
        })
    }
}

/// Compares settings; with `features`, a `has_*` setting may be on here and off in
/// the artifact (code compiled for fewer CPU features runs on more).
fn compare(
    art: &[(String, String)],
    here: &[(String, String)],
    features: bool,
) -> Result<(), Error> {
    for (name, value) in art {
        let Some((_, now)) = here.iter().find(|(n, _)| n == name) else {
            return Err(refused(format!(
                "compiled with Cranelift setting {name}={value}, which this engine does not know"
            )));
        };
        if now == value {
            continue;
        }
        if features && name.starts_with("has_") {
            if value == "true" {
                return Err(refused(format!(
                    "compiled for CPU feature {name}, which this machine lacks"
                )));
            }
            continue;
        }
        return Err(refused(format!(
            "compiled with Cranelift setting {name}={value}, this engine has {now}"
        )));
    }
    if let Some((name, _)) = here.iter().find(|(n, _)| !art.iter().any(|(a, _)| a == n)) {
        return Err(refused(format!(
            "compiled without Cranelift setting {name}"
        )));
    }
    Ok(())
}
