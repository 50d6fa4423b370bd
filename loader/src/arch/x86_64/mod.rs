//! The x86_64 UEFI loader. The ACPI and firmware-map parsing is plain code
//! the host tests cover; `efi` is the UEFI application itself.

pub mod acpi;
pub mod firmware;

#[cfg(all(target_os = "uefi", not(test)))]
mod efi;
#[cfg(all(target_os = "uefi", not(test)))]
pub use efi::console_write;
