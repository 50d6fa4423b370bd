//! The contract between every atoll loader and the kernel.
//!
//! A loader fills one [`BootInfo`] and enters the kernel on every hart with
//! `(hart_id, &BootInfo)`. Everything in it is plain `#[repr(C)]` data with
//! fixed capacity, so the two sides never share an allocator or Rust layout
//! assumptions, and a kernel can reject a loader built against another
//! [`VERSION`].
//!
//! All addresses are physical unless a field says `virt`. The loader maps all
//! of physical memory at [`BootInfo::phys_offset`], so the kernel reaches any
//! physical address `p` at `phys_offset + p`.
#![cfg_attr(not(test), no_std)]

pub mod layout;

/// `b"ATOLLBI\0"` as a little-endian integer.
pub const MAGIC: u64 = u64::from_le_bytes(*b"ATOLLBI\0");
/// Bumped on every incompatible change to [`BootInfo`].
pub const VERSION: u32 = 2;

pub const MAX_MEMORY_REGIONS: usize = 128;
pub const MAX_HARTS: usize = 64;
pub const CMDLINE_LEN: usize = 512;

/// What a loader hands to the kernel.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct BootInfo {
    pub magic: u64,
    pub version: u32,
    /// `size_of::<BootInfo>()` as the loader saw it.
    pub size: u32,

    /// Virtual address at which all physical memory is mapped.
    pub phys_offset: u64,
    /// Physical addresses below this are mapped at `phys_offset` (RAM and the
    /// MMIO below its end); devices above it need mappings of their own.
    pub phys_map_size: u64,
    /// Physical address of the root page table the kernel is running on.
    pub page_table_root: u64,
    /// Paging mode of that table.
    pub paging: PagingMode,

    /// Physical memory, sorted by address, non-overlapping.
    pub memory_regions: [MemoryRegion; MAX_MEMORY_REGIONS],
    pub memory_region_count: u32,

    /// The hart (CPU) that ran the loader.
    pub boot_hart: u32,
    /// Bit `i` set: hart `i` was started and enters the kernel.
    pub hart_mask: u64,
    /// Top of each hart's kernel stack (virt); a guard page sits below each stack.
    pub hart_stack_top: [u64; MAX_HARTS],
    pub hart_stack_size: u64,

    pub kernel: KernelImage,

    /// Flattened device tree blob, if the platform has one (riscv64).
    pub fdt: PhysRange,
    /// Initial ramdisk (a cpio archive), if any.
    pub initrd: PhysRange,
    /// ACPI RSDP, if the platform has one (x86_64).
    pub acpi_rsdp: u64,
    pub framebuffer: Framebuffer,

    /// Timer ticks when the loader was entered; the kernel measures boot time from here.
    pub boot_ticks: u64,
    /// Frequency of the counter behind `boot_ticks`.
    pub timer_hz: u64,
    /// Entropy for the kernel's RNG: from the FDT `rng-seed`, an RNG
    /// instruction or, failing those, timer jitter.
    pub rng_seed: [u8; 32],

    /// Kernel command line, NUL-padded UTF-8 (FDT `/chosen/bootargs` or UEFI load options).
    pub cmdline: [u8; CMDLINE_LEN],
}

impl BootInfo {
    /// An empty, valid-header hand-over for a loader to fill.
    pub const fn new() -> Self {
        Self {
            magic: MAGIC,
            version: VERSION,
            size: core::mem::size_of::<Self>() as u32,
            phys_offset: 0,
            phys_map_size: 0,
            page_table_root: 0,
            paging: PagingMode::Sv39,
            memory_regions: [MemoryRegion::EMPTY; MAX_MEMORY_REGIONS],
            memory_region_count: 0,
            boot_hart: 0,
            hart_mask: 0,
            hart_stack_top: [0; MAX_HARTS],
            hart_stack_size: 0,
            kernel: KernelImage {
                elf: PhysRange::EMPTY,
                phys_base: 0,
                virt_base: 0,
                size: 0,
                slide: 0,
            },
            fdt: PhysRange::EMPTY,
            initrd: PhysRange::EMPTY,
            acpi_rsdp: 0,
            framebuffer: Framebuffer::NONE,
            boot_ticks: 0,
            timer_hz: 0,
            rng_seed: [0; 32],
            cmdline: [0; CMDLINE_LEN],
        }
    }

    /// Checks the header the kernel relies on before it reads anything else.
    pub fn validate(&self) -> Result<(), BootInfoError> {
        if self.magic != MAGIC {
            return Err(BootInfoError::BadMagic(self.magic));
        }
        if self.version != VERSION {
            return Err(BootInfoError::VersionMismatch {
                loader: self.version,
                kernel: VERSION,
            });
        }
        if self.size as usize != core::mem::size_of::<Self>() {
            return Err(BootInfoError::SizeMismatch {
                loader: self.size,
                kernel: core::mem::size_of::<Self>() as u32,
            });
        }
        if self.memory_region_count as usize > MAX_MEMORY_REGIONS {
            return Err(BootInfoError::TooManyRegions(self.memory_region_count));
        }
        Ok(())
    }

    pub fn memory_regions(&self) -> &[MemoryRegion] {
        let n = (self.memory_region_count as usize).min(MAX_MEMORY_REGIONS);
        &self.memory_regions[..n]
    }

    /// Appends a region. Fails when the fixed-capacity map is full.
    pub fn push_region(&mut self, region: MemoryRegion) -> Result<(), BootInfoError> {
        let n = self.memory_region_count as usize;
        if n >= MAX_MEMORY_REGIONS {
            return Err(BootInfoError::TooManyRegions(self.memory_region_count + 1));
        }
        self.memory_regions[n] = region;
        self.memory_region_count += 1;
        Ok(())
    }

    /// The command line up to its first NUL; empty if it is not valid UTF-8.
    pub fn cmdline(&self) -> &str {
        let end = self
            .cmdline
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(CMDLINE_LEN);
        core::str::from_utf8(&self.cmdline[..end]).unwrap_or("")
    }

    /// Stores `s`, truncated at a character boundary to fit with a trailing NUL.
    pub fn set_cmdline(&mut self, s: &str) {
        let mut end = s.len().min(CMDLINE_LEN - 1);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.cmdline = [0; CMDLINE_LEN];
        self.cmdline[..end].copy_from_slice(&s.as_bytes()[..end]);
    }

    /// Iterates over the ids of the harts that enter the kernel.
    pub fn harts(&self) -> impl Iterator<Item = u32> + '_ {
        (0..MAX_HARTS as u32).filter(|i| self.hart_mask & (1 << i) != 0)
    }
}

impl Default for BootInfo {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    BadMagic(u64),
    VersionMismatch { loader: u32, kernel: u32 },
    SizeMismatch { loader: u32, kernel: u32 },
    TooManyRegions(u32),
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadMagic(m) => write!(f, "boot info has bad magic {m:#x}"),
            Self::VersionMismatch { loader, kernel } => {
                write!(f, "loader speaks boot-info v{loader}, kernel v{kernel}")
            }
            Self::SizeMismatch { loader, kernel } => {
                write!(
                    f,
                    "boot info is {loader} bytes for the loader, {kernel} for the kernel"
                )
            }
            Self::TooManyRegions(n) => write!(f, "{n} memory regions exceed {MAX_MEMORY_REGIONS}"),
        }
    }
}

/// A physical address range; `len == 0` means absent.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhysRange {
    pub start: u64,
    pub len: u64,
}

impl PhysRange {
    pub const EMPTY: Self = Self { start: 0, len: 0 };

    pub const fn end(&self) -> u64 {
        self.start + self.len
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    pub start: u64,
    pub len: u64,
    pub kind: MemoryKind,
}

impl MemoryRegion {
    pub const EMPTY: Self = Self {
        start: 0,
        len: 0,
        kind: MemoryKind::Reserved,
    };

    pub const fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// Who owns a physical region when the kernel starts.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// Free for the kernel's frame allocator.
    Usable = 0,
    /// Firmware (OpenSBI, UEFI runtime), MMIO holes and anything else never to touch.
    Reserved = 1,
    /// The loaded kernel segments.
    Kernel = 2,
    /// The kernel's ELF file, kept for symbolization.
    KernelElf = 3,
    /// Page tables the kernel runs on.
    PageTables = 4,
    /// Per-hart kernel stacks.
    Stacks = 5,
    /// This `BootInfo` and other loader data the kernel reads once, then may reclaim.
    BootInfo = 6,
    /// The initrd.
    Initrd = 7,
    /// The device tree blob.
    Fdt = 8,
    /// The loader's own image: reclaimable once every hart has entered the kernel.
    Loader = 9,
    /// ACPI tables, reclaimable after parsing.
    AcpiReclaimable = 10,
}

/// Where the kernel ELF sits and where it was loaded.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelImage {
    /// The ELF file itself (for the symbol table).
    pub elf: PhysRange,
    /// Physical base of the loaded image (lowest segment, page-aligned).
    pub phys_base: u64,
    /// Virtual base of the loaded image: link address + `slide`.
    pub virt_base: u64,
    /// Bytes from `virt_base` to the end of the highest segment.
    pub size: u64,
    /// KASLR offset added to every link-time address.
    pub slide: u64,
}

#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMode {
    Sv39 = 0,
    Sv48 = 1,
    Sv57 = 2,
    /// x86_64 4-level paging.
    X86Level4 = 3,
    /// Sv39 whose leaf entries carry T-Head's XTheadMae memory attributes
    /// (bits 59-63): C906/C910 harts whose firmware turned MAEE on.
    Sv39XTheadMae = 4,
}

impl PagingMode {
    /// The RISC-V `satp.MODE` value of this mode (8 = Sv39, 9 = Sv48, 10 =
    /// Sv57); 0 for non-RISC-V modes.
    pub const fn satp_mode(self) -> u64 {
        match self {
            Self::Sv39 | Self::Sv39XTheadMae => 8,
            Self::Sv48 => 9,
            Self::Sv57 => 10,
            Self::X86Level4 => 0,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical base; 0 when there is none.
    pub base: u64,
    pub width: u32,
    pub height: u32,
    /// Pixels per scan line.
    pub stride: u32,
    pub format: PixelFormat,
}

impl Framebuffer {
    pub const NONE: Self = Self {
        base: 0,
        width: 0,
        height: 0,
        stride: 0,
        format: PixelFormat::Rgb,
    };
}

#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Rgb = 0,
    Bgr = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_validates() {
        assert_eq!(BootInfo::new().validate(), Ok(()));
    }

    #[test]
    fn rejects_other_versions_and_magic() {
        let mut bi = BootInfo::new();
        bi.version = VERSION + 1;
        assert!(matches!(
            bi.validate(),
            Err(BootInfoError::VersionMismatch { .. })
        ));
        let mut bi = BootInfo::new();
        bi.magic = 0;
        assert_eq!(bi.validate(), Err(BootInfoError::BadMagic(0)));
    }

    #[test]
    fn cmdline_round_trips_and_truncates_on_char_boundary() {
        let mut bi = BootInfo::new();
        bi.set_cmdline("log=debug ktest");
        assert_eq!(bi.cmdline(), "log=debug ktest");
        let long = "é".repeat(CMDLINE_LEN);
        bi.set_cmdline(&long);
        assert!(bi.cmdline().len() < CMDLINE_LEN);
        assert!(bi.cmdline().chars().all(|c| c == 'é'));
    }

    #[test]
    fn region_map_is_bounded() {
        let mut bi = BootInfo::new();
        for i in 0..MAX_MEMORY_REGIONS as u64 {
            bi.push_region(MemoryRegion {
                start: i * 4096,
                len: 4096,
                kind: MemoryKind::Usable,
            })
            .unwrap();
        }
        assert!(bi.push_region(MemoryRegion::EMPTY).is_err());
        assert_eq!(bi.memory_regions().len(), MAX_MEMORY_REGIONS);
    }

    #[test]
    fn harts_iterates_mask() {
        let mut bi = BootInfo::new();
        bi.hart_mask = 0b1011;
        assert_eq!(bi.harts().collect::<Vec<_>>(), [0, 1, 3]);
    }
}
