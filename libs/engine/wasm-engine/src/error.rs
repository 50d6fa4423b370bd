//! The engine's single error type and trap descriptions.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a Wasm call trapped. Display gives the spec wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    Unreachable,
    IntegerDivisionByZero,
    IntegerOverflow,
    BadConversionToInteger,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` through a null table element ("uninitialized element").
    IndirectCallToNull,
    BadSignature,
    NullReference,
    StackOverflow,
    /// `call_indirect` index beyond the table ("undefined element").
    UndefinedElement,
}

impl TrapCode {
    /// The wording the spec test suite expects.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::NullReference => "null reference",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::UndefinedElement => "undefined element",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One Wasm frame of a trap backtrace, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Function index in the module's function index space.
    pub func_index: u32,
    /// Name from the module's name section, if any.
    pub func_name: Option<String>,
    /// Byte offset of the instruction in the module binary, if known.
    pub module_offset: Option<usize>,
    /// Offset of the PC from the start of the function's machine code.
    pub code_offset: usize,
}

/// A trap: its code and the Wasm backtrace at the trapping instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub code: TrapCode,
    pub backtrace: Vec<FrameInfo>,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.code)?;
        for (i, frame) in self.backtrace.iter().enumerate() {
            write!(f, "\n  {i}: func[{}]", frame.func_index)?;
            if let Some(name) = &frame.func_name {
                write!(f, " <{name}>")?;
            }
            if let Some(off) = frame.module_offset {
                write!(f, " @ 0x{off:x}")?;
            }
        }
        Ok(())
    }
}

/// Every failure the engine reports.
#[derive(Clone, Debug)]
pub enum Error {
    /// Malformed or invalid module, or a code generation failure.
    Compile {
        offset: Option<usize>,
        message: String,
    },
    /// An import could not be satisfied.
    Unlinkable {
        module: String,
        name: String,
        reason: String,
    },
    /// Instantiation failed for another reason (e.g. segment out of bounds).
    Instantiation(String),
    /// Wasm code trapped.
    Trap(Trap),
    /// A store limit was hit (memories, tables, instances).
    ResourceLimit(String),
    /// Fuel ran out.
    OutOfFuel,
    /// The epoch deadline passed.
    Interrupted,
    /// A host function returned this error.
    Host(String),
    /// The host read or wrote linear memory ([`crate::Memory::read`], `write`) outside its
    /// current size: `len` bytes at `offset` (often a pointer or length from the guest).
    MemoryAccess {
        offset: usize,
        len: usize,
        size: usize,
    },
    /// Wrong argument to an API call (types, arity, foreign store, ...).
    Usage(String),
    /// The platform failed (mapping memory, publishing code).
    Platform(String),
    /// A precompiled module was refused (corrupt, or compiled for another engine, CPU
    /// or module); the reason.
    Artifact(String),
    /// Wasm threw an exception that nothing caught (exception handling); its tag and
    /// values are in the store ([`crate::Exception::payload`]). A host function may
    /// return it to throw it on into the Wasm that called it.
    Exception(crate::Exception),
}

impl Error {
    /// The trap code, if this error is a trap.
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self {
            Error::Trap(t) => Some(t.code),
            _ => None,
        }
    }

    pub(crate) fn compile(offset: Option<usize>, message: impl Into<String>) -> Error {
        Error::Compile {
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::Compile {
            offset: Some(e.offset() as usize),
            // One line: some of wasmparser's messages pretty-print byte lists over many.
            message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compile {
                offset: Some(o),
                message,
            } => {
                write!(f, "{message} (at offset 0x{o:x})")
            }
            Error::Compile {
                offset: None,
                message,
            } => write!(f, "{message}"),
            Error::Unlinkable {
                module,
                name,
                reason,
            } => {
                write!(
                    f,
                    "unknown import or incompatible import type: {module}::{name}: {reason}"
                )
            }
            Error::Instantiation(m) => write!(f, "instantiation failed: {m}"),
            Error::Trap(t) => write!(f, "{t}"),
            Error::ResourceLimit(m) => write!(f, "resource limit exceeded: {m}"),
            Error::OutOfFuel => f.write_str("all fuel consumed by WebAssembly"),
            Error::Interrupted => f.write_str("interrupt: epoch deadline reached"),
            Error::Host(m) => write!(f, "host function error: {m}"),
            Error::MemoryAccess { offset, len, size } => write!(
                f,
                "memory access out of bounds: {len} bytes at {offset} in {size} bytes of memory"
            ),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Platform(m) => write!(f, "platform error: {m}"),
            Error::Artifact(m) => write!(f, "precompiled module refused: {m}"),
            Error::Exception(_) => f.write_str("thrown Wasm exception"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(all(test, feature = "linux"))]
mod tests {
    #[test]
    fn a_parse_error_is_one_line() {
        let e = crate::Module::new(&crate::Engine::default(), b"ATOLLCW\0 not wasm")
            .err()
            .expect("refused");
        let text = alloc::string::ToString::to_string(&e);
        assert!(text.contains("magic"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }
}
