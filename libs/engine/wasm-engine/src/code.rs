//! Compiled code as the engine keeps it, whether Cranelift made it just now
//! (`compile`, with the `compiler` feature) or it comes from a precompiled artifact:
//! machine code, the relocations still to apply, trap codes and what they mean.
//! Nothing here needs Cranelift, so an engine without the compiler can place code.

use alloc::vec::Vec;

use crate::error::TrapCode as WasmTrap;
use crate::trap::TrapKind;
use crate::types::{FuncType, ValType};

/// The default target: the machine we are built for.
pub fn host_triple() -> &'static str {
    if cfg!(target_arch = "riscv64") {
        "riscv64gc-unknown-none-elf"
    } else {
        "x86_64-unknown-none"
    }
}

/// The relocation kinds compiled code uses (Cranelift's `Reloc` of the same names).
/// Their order is their byte in an artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelocKind {
    /// x86_64 `call rel32`.
    X86CallPCRel4,
    /// x86_64 RIP-relative 32-bit displacement.
    X86PCRel4,
    /// An absolute 64-bit address.
    Abs8,
    /// riscv64 `auipc` + `jalr` pair.
    RiscvCallPlt,
}

impl RelocKind {
    pub const ALL: [RelocKind; 4] = [
        RelocKind::X86CallPCRel4,
        RelocKind::X86PCRel4,
        RelocKind::Abs8,
        RelocKind::RiscvCallPlt,
    ];
}

/// What a relocation refers to (see the namespaces in `translate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelocTarget {
    /// A function of the same module, by function index.
    Func(u32),
    /// A runtime function, by `Libcall` index.
    Libcall(u32),
    /// The engine-wide signature id of a type index (a value, not an address).
    SigId(u32),
}

/// A relocation still to apply when the code is placed.
pub(crate) struct FuncReloc {
    pub offset: u32,
    pub kind: RelocKind,
    pub target: RelocTarget,
    pub addend: i64,
}

/// Machine code of one function before linking.
pub(crate) struct CompiledFunction {
    pub code: Vec<u8>,
    pub relocs: Vec<FuncReloc>,
    /// Trapping instructions by offset, with codes that [`trap_kind`] knows.
    pub traps: Vec<(u32, u8)>,
    pub srclocs: Vec<(u32, u32, u32)>,
}

/// Trap codes in compiled code: the byte of Cranelift's `TrapCode`. Its own
/// (reserved) codes are the top five bytes, the engine's are user codes from 1
/// (a test checks both against Cranelift).
pub(crate) mod trap_codes {
    pub const UNREACHABLE: u8 = 1;
    pub const TABLE_OUT_OF_BOUNDS: u8 = 2;
    pub const INDIRECT_CALL_TO_NULL: u8 = 3;
    pub const BAD_SIGNATURE: u8 = 4;
    pub const NULL_REFERENCE: u8 = 5;
    pub const UNDEFINED_ELEMENT: u8 = 6;
    pub const OUT_OF_FUEL: u8 = 7;
    pub const INTERRUPTED: u8 = 8;
    pub const HOST_ERROR: u8 = 9;
    pub const STACK_OVERFLOW: u8 = 251;
    pub const INTEGER_OVERFLOW: u8 = 252;
    pub const HEAP_OUT_OF_BOUNDS: u8 = 253;
    pub const INTEGER_DIVISION_BY_ZERO: u8 = 254;
    pub const BAD_CONVERSION_TO_INTEGER: u8 = 255;
}

/// What a trap code in compiled code means (None: not one the engine emits).
pub(crate) fn trap_kind(code: u8) -> Option<TrapKind> {
    use trap_codes::*;
    Some(match code {
        STACK_OVERFLOW => TrapKind::Wasm(WasmTrap::StackOverflow),
        INTEGER_OVERFLOW => TrapKind::Wasm(WasmTrap::IntegerOverflow),
        HEAP_OUT_OF_BOUNDS => TrapKind::Wasm(WasmTrap::MemoryOutOfBounds),
        INTEGER_DIVISION_BY_ZERO => TrapKind::Wasm(WasmTrap::IntegerDivisionByZero),
        BAD_CONVERSION_TO_INTEGER => TrapKind::Wasm(WasmTrap::BadConversionToInteger),
        UNREACHABLE => TrapKind::Wasm(WasmTrap::Unreachable),
        TABLE_OUT_OF_BOUNDS => TrapKind::Wasm(WasmTrap::TableOutOfBounds),
        INDIRECT_CALL_TO_NULL => TrapKind::Wasm(WasmTrap::IndirectCallToNull),
        BAD_SIGNATURE => TrapKind::Wasm(WasmTrap::BadSignature),
        NULL_REFERENCE => TrapKind::Wasm(WasmTrap::NullReference),
        UNDEFINED_ELEMENT => TrapKind::Wasm(WasmTrap::UndefinedElement),
        OUT_OF_FUEL => TrapKind::OutOfFuel,
        INTERRUPTED => TrapKind::Interrupted,
        HOST_ERROR => TrapKind::HostError,
        _ => return None,
    })
}

/// Whether a host function of type `ty` can take the native path (typed host functions
/// do; precompiled modules bring the trampoline for it): no `v128`, at most one result.
pub(crate) fn native_host_callable(ty: &FuncType) -> bool {
    ty.results().len() <= 1
        && !ty
            .params()
            .iter()
            .chain(ty.results())
            .any(|t| *t == ValType::V128)
}
