//! The artifact header: what the code was compiled for. [`Header::check`] compares it
//! with the engine that loads it and names the first difference.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::codec::{Reader, Writer, refused};
#[cfg(feature = "compiler")]
use crate::compile;
use crate::runtime::config::BoundsChecks;
use crate::runtime::engine::Engine;
use crate::{Error, code};

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

#[cfg(feature = "compiler")]
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
    #[cfg(feature = "compiler")]
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
        #[cfg(feature = "compiler")]
        let here = Header::of(engine, self.source);
        #[cfg(not(feature = "compiler"))]
        let here = Header::without_compiler(engine, self.source);
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
        if cfg!(feature = "compiler") {
            compare(&self.isa_flags, &here.isa_flags, true)
        } else {
            features_present(&self.isa_flags, &here.isa_flags)
        }
    }

    /// What an engine without the compiler expects (it cannot ask Cranelift): the
    /// target it runs on, the shared settings every engine compiles with
    /// ([`SHARED_FLAGS`]), and as ISA settings the CPU features it may use: the
    /// target's baseline ([`BASELINE_FEATURES`]), `has_v` and `has_zvl128b` on riscv64
    /// with SIMD, and the `has_*` settings the configuration enables.
    #[cfg_attr(all(feature = "compiler", not(test)), allow(dead_code))]
    pub fn without_compiler(engine: &Engine, source: Source) -> Header {
        let c = engine.config();
        let triple = c.target.as_deref().unwrap_or(code::host_triple());
        let riscv = triple.starts_with("riscv64");
        let base: &[&str] = if riscv {
            &BASELINE_FEATURES.0
        } else {
            &BASELINE_FEATURES.1
        };
        let vector: &[&str] = if riscv && c.simd {
            &["has_v", "has_zvl128b"]
        } else {
            &[]
        };
        let configured = c.cranelift_flags.iter().map(String::as_str);
        let pair = |(k, v): (&str, &str)| (k.to_string(), v.to_string());
        Header {
            engine_version: ENGINE_VERSION.to_string(),
            triple: triple.to_string(),
            shared_flags: SHARED_FLAGS.iter().copied().map(pair).collect(),
            isa_flags: base
                .iter()
                .chain(vector)
                .copied()
                .chain(configured.filter(|f| f.starts_with("has_")))
                .map(|f| pair((f, "true")))
                .collect(),
            fuel: c.fuel,
            epoch: c.epoch_interruption,
            explicit_bounds: c.bounds_checks == BoundsChecks::Explicit,
            guard_size: c.guard_size,
            source,
        }
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

/// The shared Cranelift settings every engine compiles with, as an engine without the
/// compiler expects them (a test checks them against Cranelift's on both targets).
#[cfg_attr(all(feature = "compiler", not(test)), allow(dead_code))]
const SHARED_FLAGS: [(&str, &str); 25] = [
    ("regalloc_algorithm", "backtracking"),
    ("opt_level", "speed"),
    ("tls_model", "none"),
    ("stack_switch_model", "none"),
    ("libcall_call_conv", "isa_default"),
    ("probestack_size_log2", "12"),
    ("probestack_strategy", "outline"),
    ("bb_padding_log2_minus_one", "0"),
    ("log2_min_function_alignment", "0"),
    ("regalloc_verbose_logs", "false"),
    ("enable_alias_analysis", "true"),
    ("is_pic", "false"),
    ("use_colocated_libcalls", "false"),
    ("enable_nan_canonicalization", "false"),
    ("enable_pinned_reg", "false"),
    ("enable_llvm_abi_extensions", "false"),
    ("enable_multi_ret_implicit_sret", "true"),
    ("unwind_info", "false"),
    ("preserve_frame_pointers", "true"),
    ("machine_code_cfg_info", "false"),
    ("enable_probestack", "false"),
    ("enable_heap_access_spectre_mitigation", "true"),
    ("enable_table_access_spectre_mitigation", "true"),
    ("enable_incremental_compilation_cache_checks", "false"),
    ("enable_compact_unwind_abi", "false"),
];

/// The CPU features every engine's code may use on riscv64 (`riscv64gc`) and on
/// x86_64 (what `compile::build_isa` enables), as an engine without the compiler
/// expects them (checked against Cranelift by a test).
#[cfg_attr(all(feature = "compiler", not(test)), allow(dead_code))]
const BASELINE_FEATURES: ([&str; 6], [&str; 5]) = (
    [
        "has_m",
        "has_a",
        "has_f",
        "has_d",
        "has_zicsr",
        "has_zifencei",
    ],
    [
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
    ],
);

/// Checks that every CPU feature the artifact's code uses (`has_*` on) is in
/// `present`: an engine without the compiler knows only the features it may use.
#[cfg_attr(feature = "compiler", allow(dead_code))]
fn features_present(art: &[(String, String)], present: &[(String, String)]) -> Result<(), Error> {
    for (name, value) in art {
        if name.starts_with("has_") && value == "true" && !present.iter().any(|(p, _)| p == name) {
            return Err(refused(format!(
                "compiled for CPU feature {name}, which this machine lacks"
            )));
        }
    }
    Ok(())
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
