//! Page-table entry formats: how a paging mode lays out its tables and encodes
//! entries. The mapper in [`crate::PageTable`] is generic over [`PteFormat`].

use crate::Flags;

/// What a decoded entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Not present.
    Invalid,
    /// A next-level table at this physical address.
    Table(u64),
    /// A leaf mapping a page (4 KiB, or huge above level 0) at this physical address.
    Leaf { phys: u64, flags: Flags },
}

/// A paging mode's entry encoding and geometry.
///
/// Levels count from the leaves: level 0 maps 4 KiB pages, level 1 2 MiB,
/// level 2 1 GiB; the root is level `LEVELS - 1`. Every table holds 512
/// eight-byte entries.
pub trait PteFormat {
    /// Number of table levels.
    const LEVELS: usize;
    /// Width of a virtual address; addresses must be sign-extended from bit `VA_BITS - 1`.
    const VA_BITS: u32;
    /// Width of a physical address.
    const PA_BITS: u32;
    /// Whether entries encode memory types ([`Flags::DEVICE`] matters): then
    /// RAM and MMIO must be mapped apart.
    const MEMORY_TYPES: bool = false;

    /// Encodes a leaf at `level` (0 = 4 KiB) mapping `phys` with `flags`.
    fn leaf(phys: u64, flags: Flags, level: usize) -> u64;
    /// Encodes a pointer to a next-level table.
    fn table(phys: u64) -> u64;
    /// Decodes an entry found at `level`.
    fn decode(raw: u64, level: usize) -> Entry;
    /// Whether `raw` is a valid entry with its dirty bit set: a leaf that
    /// has been written through (tables never carry the bit).
    fn written_leaf(raw: u64) -> bool;
    /// A leaf entry with its dirty bit set.
    fn mark_written(raw: u64) -> u64;
    /// Whether a leaf may sit at `level` (huge pages).
    fn leaf_allowed(level: usize) -> bool {
        level <= 2 && level < Self::LEVELS
    }
}

/// RISC-V Sv39/Sv48 entry bits.
mod rv {
    pub const V: u64 = 1 << 0;
    pub const R: u64 = 1 << 1;
    pub const W: u64 = 1 << 2;
    pub const X: u64 = 1 << 3;
    pub const U: u64 = 1 << 4;
    pub const G: u64 = 1 << 5;
    pub const A: u64 = 1 << 6;
    pub const D: u64 = 1 << 7;
    pub const PPN_SHIFT: u32 = 10;
    /// PPN occupies bits 10..54.
    pub const PPN_MASK: u64 = ((1 << 44) - 1) << PPN_SHIFT;
}

fn rv_leaf(phys: u64, flags: Flags) -> u64 {
    let mut raw = rv::V | ((phys >> 12) << rv::PPN_SHIFT);
    if flags.contains(Flags::READ) {
        raw |= rv::R;
    }
    if flags.contains(Flags::WRITE) {
        // W without R is reserved; a writable page is always readable.
        raw |= rv::W | rv::R;
    }
    if flags.contains(Flags::EXEC) {
        raw |= rv::X;
    }
    if raw & (rv::R | rv::X) == 0 {
        // R=W=X=0 would mean "table pointer"; a leaf needs at least R.
        raw |= rv::R;
    }
    if flags.contains(Flags::GLOBAL) {
        raw |= rv::G;
    }
    // Set A (and D unless writes are tracked) up front: harts without
    // hardware A/D updates would fault on the first access otherwise.
    if flags.contains(Flags::TRACK_WRITES) {
        raw | rv::A
    } else {
        raw | rv::A | rv::D
    }
}

fn rv_decode(raw: u64) -> Entry {
    if raw & rv::V == 0 {
        return Entry::Invalid;
    }
    let phys = ((raw & rv::PPN_MASK) >> rv::PPN_SHIFT) << 12;
    if raw & (rv::R | rv::W | rv::X) == 0 {
        return Entry::Table(phys);
    }
    let mut flags = Flags::empty();
    if raw & rv::R != 0 {
        flags |= Flags::READ;
    }
    if raw & rv::W != 0 {
        flags |= Flags::WRITE;
    }
    if raw & rv::X != 0 {
        flags |= Flags::EXEC;
    }
    if raw & rv::G != 0 {
        flags |= Flags::GLOBAL;
    }
    if raw & rv::U != 0 {
        flags |= Flags::USER;
    }
    Entry::Leaf { phys, flags }
}

/// RISC-V Sv39: three levels, 39-bit virtual addresses.
#[derive(Debug, Clone, Copy)]
pub enum Sv39 {}

impl PteFormat for Sv39 {
    const LEVELS: usize = 3;
    const VA_BITS: u32 = 39;
    const PA_BITS: u32 = 56;

    fn leaf(phys: u64, flags: Flags, _level: usize) -> u64 {
        rv_leaf(phys, flags)
    }
    fn table(phys: u64) -> u64 {
        rv::V | ((phys >> 12) << rv::PPN_SHIFT)
    }
    fn written_leaf(raw: u64) -> bool {
        raw & (rv::V | rv::D) == rv::V | rv::D
    }
    fn mark_written(raw: u64) -> u64 {
        raw | rv::A | rv::D
    }
    fn decode(raw: u64, _level: usize) -> Entry {
        rv_decode(raw)
    }
}

/// RISC-V Sv48: four levels, 48-bit virtual addresses.
#[derive(Debug, Clone, Copy)]
pub enum Sv48 {}

impl PteFormat for Sv48 {
    const LEVELS: usize = 4;
    const VA_BITS: u32 = 48;
    const PA_BITS: u32 = 56;

    fn leaf(phys: u64, flags: Flags, _level: usize) -> u64 {
        rv_leaf(phys, flags)
    }
    fn table(phys: u64) -> u64 {
        rv::V | ((phys >> 12) << rv::PPN_SHIFT)
    }
    fn written_leaf(raw: u64) -> bool {
        raw & (rv::V | rv::D) == rv::V | rv::D
    }
    fn mark_written(raw: u64) -> u64 {
        raw | rv::A | rv::D
    }
    fn decode(raw: u64, _level: usize) -> Entry {
        rv_decode(raw)
    }
}

/// T-Head's XTheadMae page attributes, bits 59-63 of a leaf entry, which
/// C906/C910/C920 harts read when firmware has set `mxstatus.MAEE`: without
/// them a leaf is non-cacheable, weakly ordered memory, and on silicon
/// ordinary loads and stores misbehave or fault. Linux sets the same bits
/// (`_PAGE_PMA_THEAD`, `_PAGE_IO_THEAD`).
pub mod xthead {
    /// Strong order (device memory: no speculation, no reordering).
    pub const SO: u64 = 1 << 63;
    /// Cacheable.
    pub const C: u64 = 1 << 62;
    /// Bufferable.
    pub const B: u64 = 1 << 61;
    /// Shareable.
    pub const SH: u64 = 1 << 60;
    /// Trustable (secure world); never set by atoll.
    pub const SEC: u64 = 1 << 59;
    /// Every attribute bit.
    pub const MASK: u64 = SO | C | B | SH | SEC;
    /// Normal memory: cacheable, bufferable, shareable.
    pub const NORMAL: u64 = C | B | SH;
    /// Device memory: strongly ordered, shareable, neither cacheable nor bufferable.
    pub const DEVICE: u64 = SO | SH;
}

/// Sv39 as T-Head C9xx harts with XTheadMae use it: every leaf carries the
/// memory attributes of [`xthead`] ([`Flags::DEVICE`] picks device memory);
/// table pointers carry none. Standard harts reserve bits 54-63, so an entry
/// with these bits faults on them (QEMU's `thead-c906` model included, which
/// does not implement MAEE): use this format only where the hart says MAEE
/// is on.
#[derive(Debug, Clone, Copy)]
pub enum Sv39XTheadMae {}

impl PteFormat for Sv39XTheadMae {
    const LEVELS: usize = 3;
    const VA_BITS: u32 = 39;
    const PA_BITS: u32 = 56;
    const MEMORY_TYPES: bool = true;

    fn leaf(phys: u64, flags: Flags, _level: usize) -> u64 {
        let attributes = if flags.contains(Flags::DEVICE) {
            xthead::DEVICE
        } else {
            xthead::NORMAL
        };
        rv_leaf(phys, flags) | attributes
    }
    fn table(phys: u64) -> u64 {
        rv::V | ((phys >> 12) << rv::PPN_SHIFT)
    }
    fn written_leaf(raw: u64) -> bool {
        raw & (rv::V | rv::D) == rv::V | rv::D
    }
    fn mark_written(raw: u64) -> u64 {
        raw | rv::A | rv::D
    }
    fn decode(raw: u64, _level: usize) -> Entry {
        match rv_decode(raw & !xthead::MASK) {
            Entry::Leaf { phys, mut flags } => {
                if raw & xthead::SO != 0 {
                    flags |= Flags::DEVICE;
                }
                Entry::Leaf { phys, flags }
            }
            other => other,
        }
    }
}

/// x86_64 4-level paging entry bits.
mod x86 {
    pub const P: u64 = 1 << 0;
    pub const RW: u64 = 1 << 1;
    pub const US: u64 = 1 << 2;
    pub const A: u64 = 1 << 5;
    pub const D: u64 = 1 << 6;
    /// Page size: a leaf above level 0.
    pub const PS: u64 = 1 << 7;
    pub const G: u64 = 1 << 8;
    pub const NX: u64 = 1 << 63;
    /// Physical address bits 12..52.
    pub const ADDR_MASK: u64 = ((1 << 52) - 1) & !0xfff;
}

/// x86_64 4-level paging (48-bit virtual addresses). Every present page is
/// readable; `EXEC` absent sets NX, which needs `EFER.NXE`.
#[derive(Debug, Clone, Copy)]
pub enum X86Level4 {}

impl PteFormat for X86Level4 {
    const LEVELS: usize = 4;
    const VA_BITS: u32 = 48;
    const PA_BITS: u32 = 52;

    fn leaf(phys: u64, flags: Flags, level: usize) -> u64 {
        let mut raw = x86::P | x86::A | (phys & x86::ADDR_MASK);
        if !flags.contains(Flags::TRACK_WRITES) {
            raw |= x86::D;
        }
        if level > 0 {
            raw |= x86::PS;
        }
        if flags.contains(Flags::WRITE) {
            raw |= x86::RW;
        }
        if !flags.contains(Flags::EXEC) {
            raw |= x86::NX;
        }
        if flags.contains(Flags::GLOBAL) {
            raw |= x86::G;
        }
        raw
    }
    fn table(phys: u64) -> u64 {
        // Permissions are the intersection along the walk: leave tables permissive.
        x86::P | x86::RW | (phys & x86::ADDR_MASK)
    }
    fn written_leaf(raw: u64) -> bool {
        raw & (x86::P | x86::D) == x86::P | x86::D
    }
    fn mark_written(raw: u64) -> u64 {
        raw | x86::A | x86::D
    }
    fn decode(raw: u64, level: usize) -> Entry {
        if raw & x86::P == 0 {
            return Entry::Invalid;
        }
        let phys = raw & x86::ADDR_MASK;
        if level > 0 && raw & x86::PS == 0 {
            return Entry::Table(phys);
        }
        let mut flags = Flags::READ;
        if raw & x86::RW != 0 {
            flags |= Flags::WRITE;
        }
        if raw & x86::NX == 0 {
            flags |= Flags::EXEC;
        }
        if raw & x86::G != 0 {
            flags |= Flags::GLOBAL;
        }
        if raw & x86::US != 0 {
            flags |= Flags::USER;
        }
        // PAT bit 12 of a huge leaf is not an address bit; it is never set here.
        let phys = phys & !(crate::level_bytes(level) - 1);
        Entry::Leaf { phys, flags }
    }
    fn leaf_allowed(level: usize) -> bool {
        level <= 2
    }
}
