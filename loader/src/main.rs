//! atoll's boot loaders. The riscv64 build is an S-mode OpenSBI payload
//! (`arch/riscv64`), the x86_64 build a UEFI application (`arch/x86_64`);
//! the kernel loading, page-table building and BootInfo filling in the other
//! modules are shared.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// Host unit tests build without the arch code that drives the shared modules.
#![cfg_attr(test, allow(dead_code))]

mod arch;
mod boot;
mod console;
#[cfg(any(test, target_arch = "riscv64"))]
mod devicetree;
mod frames;
mod memory_map;
mod platform;
mod rng;

use kernel_elf::ElfError;
use page_table::MapError;

/// Everything that stops the boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderError {
    NoFdt,
    Fdt(&'static str),
    TooManyRanges,
    OutOfMemory {
        size: u64,
    },
    Elf(ElfError),
    Map(MapError),
    KernelTooLarge(u64),
    WritableExec(u64),
    RamTooLarge(u64),
    Unsupported(&'static str),
    /// A UEFI call failed with this status.
    Firmware {
        what: &'static str,
        status: usize,
    },
}

impl From<ElfError> for LoaderError {
    fn from(e: ElfError) -> Self {
        Self::Elf(e)
    }
}

impl From<MapError> for LoaderError {
    fn from(e: MapError) -> Self {
        Self::Map(e)
    }
}

impl core::fmt::Display for LoaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoFdt => write!(f, "no device tree from the firmware"),
            Self::Fdt(e) => write!(f, "device tree: {e}"),
            Self::TooManyRanges => write!(f, "too many memory ranges"),
            Self::OutOfMemory { size } => write!(f, "out of memory allocating {size:#x} bytes"),
            Self::Elf(e) => write!(f, "kernel ELF: {e}"),
            Self::Map(e) => write!(f, "page tables: {e}"),
            Self::KernelTooLarge(s) => write!(
                f,
                "kernel image of {s:#x} bytes does not fit the kernel window"
            ),
            Self::WritableExec(v) => {
                write!(f, "kernel segment at {v:#x} is writable and executable")
            }
            Self::RamTooLarge(e) => write!(f, "RAM ends at {e:#x}, beyond the phys map"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Firmware { what, status } => {
                write!(f, "{what}: UEFI status {status:#x}")
            }
        }
    }
}

/// An empty function a debugger breaks on once the kernel is mapped; `a0`
/// holds the slide, so `add-symbol-file` can place the kernel's symbols.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn atoll_loader_kernel_mapped(slide: u64, entry: u64) {
    // Keep the arguments observable at the call.
    core::hint::black_box((slide, entry));
}
