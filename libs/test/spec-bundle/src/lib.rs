//! Compact binary bundles of WebAssembly spec-test commands.
//!
//! The kernel cannot parse `.wast` text, so the host converts each `.wast`
//! script into a list of [`Command`]s (modules as binary bytes, actions and
//! assertions with typed values and result patterns) and stores many scripts
//! in one [`Bundle`]. The same decoded commands drive the host runner and the
//! in-kernel runner, so both apply identical assertion semantics.
//!
//! The wire format is described in [`codec`]. Decoding never panics: bad
//! input yields a [`DecodeError`].

#![no_std]

extern crate alloc;

mod codec;

use alloc::string::String;
use alloc::vec::Vec;

pub use codec::{DecodeError, DecodeErrorKind, FORMAT_VERSION, MAGIC};

/// A set of converted spec scripts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    pub files: Vec<File>,
}

impl Bundle {
    /// Serializes the bundle into its binary form.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Parses a bundle, validating every field.
    pub fn decode(bytes: &[u8]) -> Result<Bundle, DecodeError> {
        codec::decode(bytes)
    }
}

/// One converted `.wast` script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    /// Script name, e.g. `wasm-v2/i32.wast`.
    pub name: String,
    pub commands: Vec<Command>,
}

impl File {
    /// Number of assertions (commands that are counted as passed or failed).
    pub fn assertion_count(&self) -> usize {
        self.commands
            .iter()
            .filter(|c| c.kind.is_assertion())
            .count()
    }
}

/// A command with its 1-based source line in the `.wast` script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub line: u32,
    pub kind: CommandKind,
}

/// Everything a spec script can ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandKind {
    /// Compile and instantiate `bytes`; it becomes the current module and, if
    /// `name` is set, can be referred to by that name.
    Module {
        name: Option<String>,
        bytes: Vec<u8>,
    },
    /// `(module definition $name ...)`: compile only.
    ModuleDefinition {
        name: Option<String>,
        bytes: Vec<u8>,
    },
    /// `(module instance $instance $module)`: instantiate a definition.
    ModuleInstance {
        instance: Option<String>,
        module: Option<String>,
    },
    /// Make the exports of a module (current if `None`) importable as `as_name`.
    Register {
        as_name: String,
        module: Option<String>,
    },
    /// A bare action; it must not trap.
    Action(Action),
    AssertReturn {
        action: Action,
        expected: Vec<Expected>,
    },
    /// The action must trap with `message`.
    AssertTrap { action: Action, message: String },
    /// The action must exhaust the call stack (or another resource).
    AssertExhaustion { action: Action, message: String },
    /// The action must throw a Wasm exception that nothing catches.
    AssertException { action: Action },
    /// Compilation of `bytes` must fail (binary decoding error).
    AssertMalformed { bytes: Vec<u8>, message: String },
    /// Compilation of `bytes` must fail (validation error).
    AssertInvalid { bytes: Vec<u8>, message: String },
    /// Instantiation of `bytes` must fail at link time.
    AssertUnlinkable { bytes: Vec<u8>, message: String },
    /// Instantiation of `bytes` must trap (start function or segment
    /// initialization), i.e. `assert_trap (module ...)`.
    AssertUninstantiable { bytes: Vec<u8>, message: String },
    /// An `assert_malformed`/`assert_invalid` whose text module could not even
    /// be encoded to a binary. The host verified at conversion time that the
    /// text is rejected; the runner counts it as a pass but reports it
    /// separately, since the engine never saw it.
    HostChecked {
        assertion: HostCheckedKind,
        message: String,
        /// Why the host's text parser rejected the module.
        host_error: String,
    },
}

impl CommandKind {
    /// Whether this command counts as an assertion in pass/fail totals.
    pub fn is_assertion(&self) -> bool {
        matches!(
            self,
            CommandKind::AssertReturn { .. }
                | CommandKind::AssertTrap { .. }
                | CommandKind::AssertExhaustion { .. }
                | CommandKind::AssertException { .. }
                | CommandKind::AssertMalformed { .. }
                | CommandKind::AssertInvalid { .. }
                | CommandKind::AssertUnlinkable { .. }
                | CommandKind::AssertUninstantiable { .. }
                | CommandKind::HostChecked { .. }
        )
    }

    /// Short name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::Module { .. } => "module",
            CommandKind::ModuleDefinition { .. } => "module definition",
            CommandKind::ModuleInstance { .. } => "module instance",
            CommandKind::Register { .. } => "register",
            CommandKind::Action(_) => "action",
            CommandKind::AssertReturn { .. } => "assert_return",
            CommandKind::AssertTrap { .. } => "assert_trap",
            CommandKind::AssertExhaustion { .. } => "assert_exhaustion",
            CommandKind::AssertException { .. } => "assert_exception",
            CommandKind::AssertMalformed { .. } => "assert_malformed",
            CommandKind::AssertInvalid { .. } => "assert_invalid",
            CommandKind::AssertUnlinkable { .. } => "assert_unlinkable",
            CommandKind::AssertUninstantiable { .. } => "assert_uninstantiable",
            CommandKind::HostChecked {
                assertion: HostCheckedKind::Malformed,
                ..
            } => "assert_malformed (host-checked)",
            CommandKind::HostChecked {
                assertion: HostCheckedKind::Invalid,
                ..
            } => "assert_invalid (host-checked)",
        }
    }
}

/// Which assertion a [`CommandKind::HostChecked`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostCheckedKind {
    Malformed,
    Invalid,
}

/// An invocation or a global read, on a named module or the current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Invoke {
        module: Option<String>,
        export: String,
        args: Vec<Value>,
    },
    Get {
        module: Option<String>,
        export: String,
    },
}

/// A concrete argument value. Floats are raw bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// A null reference of the given kind.
    RefNull(RefKind),
    /// A non-null host reference (`ref.extern N`).
    RefExtern(u32),
}

/// Reference kinds of Wasm 2.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Func,
    Extern,
}

/// A pattern for one float lane or scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatPattern<T> {
    /// Exactly these bits.
    Bits(T),
    /// `nan:canonical`: sign may vary, payload is exactly the canonical one.
    CanonicalNan,
    /// `nan:arithmetic`: sign may vary, quiet bit set, payload arbitrary.
    ArithmeticNan,
}

/// A pattern for a `v128` result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V128Pattern {
    /// Exact bits (all integer lane shapes reduce to this).
    Bits(u128),
    F32x4([FloatPattern<u32>; 4]),
    F64x2([FloatPattern<u64>; 2]),
}

/// An expected result of `assert_return`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    I32(u32),
    I64(u64),
    F32(FloatPattern<u32>),
    F64(FloatPattern<u64>),
    V128(V128Pattern),
    /// A null reference; `None` accepts any reference kind.
    RefNull(Option<RefKind>),
    /// Any non-null function reference.
    RefFunc,
    /// A non-null extern reference, with the given host value if `Some`.
    RefExtern(Option<u32>),
    /// Any one of the alternatives.
    Either(Vec<Expected>),
}

impl FloatPattern<u32> {
    /// Whether the f32 `bits` match this pattern.
    pub fn matches_f32(&self, bits: u32) -> bool {
        match *self {
            FloatPattern::Bits(b) => b == bits,
            FloatPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            FloatPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        }
    }
}

impl FloatPattern<u64> {
    /// Whether the f64 `bits` match this pattern.
    pub fn matches_f64(&self, bits: u64) -> bool {
        match *self {
            FloatPattern::Bits(b) => b == bits,
            FloatPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            FloatPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        }
    }
}

impl V128Pattern {
    /// Whether the little-endian `v128` bits match, lane by lane.
    pub fn matches(&self, bits: u128) -> bool {
        match self {
            V128Pattern::Bits(b) => *b == bits,
            V128Pattern::F32x4(lanes) => lanes
                .iter()
                .enumerate()
                .all(|(i, p)| p.matches_f32((bits >> (32 * i)) as u32)),
            V128Pattern::F64x2(lanes) => lanes
                .iter()
                .enumerate()
                .all(|(i, p)| p.matches_f64((bits >> (64 * i)) as u64)),
        }
    }
}

#[cfg(test)]
mod tests;
