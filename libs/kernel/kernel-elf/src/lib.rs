//! Parses, copies and relocates atoll's kernel ELF.
//!
//! The kernel is a static PIE (`ET_DYN`) linked at 0 whose only dynamic
//! relocations are `R_*_RELATIVE` (or `DT_RELR`, which is relative by
//! definition). A loader picks a slide, copies the `PT_LOAD` segments with
//! [`KernelElf::copy_segments`] and fixes them up with
//! [`KernelElf::apply_relocations`] (or does both with [`KernelElf::load`]).
//! Destination memory is reached through a callback from link-time virtual
//! addresses to writable slices, so the crate never assumes where the image
//! sits physically. Malformed input is an [`ElfError`], never a panic.
#![cfg_attr(not(test), no_std)]

#[cfg(test)]
mod tests;

use xmas_elf::ElfFile;
use xmas_elf::header::{Class, Data, Machine as ElfMachine, Type};
use xmas_elf::program::{ProgramHeader, Type as PhType};

pub const PAGE_SIZE: u64 = 4096;
/// Most `PT_LOAD` segments accepted.
pub const MAX_SEGMENTS: usize = 16;

/// The architecture a kernel must be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    Riscv64,
    X86_64,
}

impl Machine {
    const fn elf_machine(self) -> u16 {
        match self {
            Self::Riscv64 => 243,
            Self::X86_64 => 62,
        }
    }
    const fn relative_reloc(self) -> u32 {
        match self {
            Self::Riscv64 => 3,
            Self::X86_64 => 8,
        }
    }
    /// Name of a relocation type, for error messages.
    pub fn reloc_name(self, ty: u32) -> &'static str {
        match (self, ty) {
            (Self::Riscv64, 0) => "R_RISCV_NONE",
            (Self::Riscv64, 1) => "R_RISCV_32",
            (Self::Riscv64, 2) => "R_RISCV_64",
            (Self::Riscv64, 3) => "R_RISCV_RELATIVE",
            (Self::Riscv64, 4) => "R_RISCV_COPY",
            (Self::Riscv64, 5) => "R_RISCV_JUMP_SLOT",
            (Self::Riscv64, 6..=11) => "R_RISCV_TLS_*",
            (Self::Riscv64, 58) => "R_RISCV_IRELATIVE",
            (Self::X86_64, 0) => "R_X86_64_NONE",
            (Self::X86_64, 1) => "R_X86_64_64",
            (Self::X86_64, 2) => "R_X86_64_PC32",
            (Self::X86_64, 5) => "R_X86_64_COPY",
            (Self::X86_64, 6) => "R_X86_64_GLOB_DAT",
            (Self::X86_64, 7) => "R_X86_64_JUMP_SLOT",
            (Self::X86_64, 8) => "R_X86_64_RELATIVE",
            (Self::X86_64, 16..=18) => "R_X86_64_DTPMOD64/DTPOFF64/TPOFF64",
            (Self::X86_64, 37) => "R_X86_64_IRELATIVE",
            _ => "unknown",
        }
    }
}

/// Access rights of a segment, from its `p_flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentFlags {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// One `PT_LOAD` segment, at link-time addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub filesz: u64,
    pub offset: u64,
    pub flags: SegmentFlags,
}

impl Segment {
    /// Page-aligned start of the pages the segment touches.
    pub const fn page_start(&self) -> u64 {
        self.vaddr & !(PAGE_SIZE - 1)
    }
    /// Page-aligned end (exclusive) of the pages the segment touches.
    pub const fn page_end(&self) -> u64 {
        (self.vaddr + self.memsz).div_ceil(PAGE_SIZE) * PAGE_SIZE
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// The bytes are not 8-byte aligned in memory.
    Unaligned,
    /// xmas-elf rejected the header.
    Header(&'static str),
    NotElf64,
    NotLittleEndian,
    /// `e_type` is not `ET_DYN` (the kernel must be a PIE).
    NotPie(u16),
    WrongMachine {
        expected: Machine,
        found: u16,
    },
    BadProgramHeaders,
    NoLoadSegments,
    TooManySegments,
    /// A segment's file bytes lie outside the file, or its sizes are inconsistent.
    BadSegment {
        index: usize,
    },
    /// Two segments share a page, so their protections can't both hold.
    SegmentsOverlap {
        vaddr: u64,
    },
    /// The entry point is outside every executable segment.
    BadEntry(u64),
    BadDynamic(&'static str),
    UnsupportedRelocation {
        machine: Machine,
        ty: u32,
        name: &'static str,
        offset: u64,
    },
    /// A relocation target outside the loaded image.
    RelocationOutOfRange(u64),
    /// The destination callback refused a range.
    NoDestination {
        vaddr: u64,
        len: u64,
    },
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Unaligned => write!(f, "kernel ELF bytes are not 8-byte aligned"),
            Self::Header(e) => write!(f, "bad ELF header: {e}"),
            Self::NotElf64 => write!(f, "not an ELF64 file"),
            Self::NotLittleEndian => write!(f, "not a little-endian ELF"),
            Self::NotPie(t) => write!(f, "ELF type {t} is not ET_DYN: the kernel must be a PIE"),
            Self::WrongMachine { expected, found } => {
                write!(
                    f,
                    "ELF machine {found} is not {expected:?} ({})",
                    expected.elf_machine()
                )
            }
            Self::BadProgramHeaders => write!(f, "program header table is malformed"),
            Self::NoLoadSegments => write!(f, "no PT_LOAD segments"),
            Self::TooManySegments => write!(f, "more than {MAX_SEGMENTS} PT_LOAD segments"),
            Self::BadSegment { index } => write!(f, "PT_LOAD segment {index} is malformed"),
            Self::SegmentsOverlap { vaddr } => write!(f, "segments share the page at {vaddr:#x}"),
            Self::BadEntry(e) => write!(f, "entry point {e:#x} is not in an executable segment"),
            Self::BadDynamic(e) => write!(f, "bad dynamic section: {e}"),
            Self::UnsupportedRelocation {
                machine,
                ty,
                name,
                offset,
            } => write!(
                f,
                "unsupported relocation {name} (type {ty}) at {offset:#x}: only {} is accepted",
                machine.reloc_name(machine.relative_reloc())
            ),
            Self::RelocationOutOfRange(o) => {
                write!(f, "relocation target {o:#x} is outside the image")
            }
            Self::NoDestination { vaddr, len } => {
                write!(f, "no destination for {vaddr:#x}+{len:#x}")
            }
        }
    }
}

// Dynamic tags.
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_REL: u64 = 17;
const DT_RELRSZ: u64 = 35;
const DT_RELR: u64 = 36;
const DT_RELRENT: u64 = 37;

/// Where the relocation tables sit in the file.
#[derive(Debug, Clone, Copy, Default)]
struct Relocs {
    /// File offset and size of the `Elf64_Rela` table.
    rela: (u64, u64),
    /// File offset and size of the `DT_RELR` table.
    relr: (u64, u64),
}

/// Where the loaded image lives: writable memory for link-time addresses.
pub trait ImageMemory {
    /// The memory backing link-time `vaddr..vaddr + len`, exactly `len` bytes,
    /// or `None` if the range is not part of the image.
    fn bytes(&mut self, vaddr: u64, len: u64) -> Option<&mut [u8]>;
}

/// One contiguous buffer holding link-time `base..base + len`, which is how
/// loaders place the image (physically contiguous, virtually slid as a whole).
pub struct ContiguousImage<'a> {
    pub base: u64,
    pub memory: &'a mut [u8],
}

impl ImageMemory for ContiguousImage<'_> {
    fn bytes(&mut self, vaddr: u64, len: u64) -> Option<&mut [u8]> {
        let start = usize::try_from(vaddr.checked_sub(self.base)?).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.memory.get_mut(start..end)
    }
}

/// A validated kernel ELF.
#[derive(Debug)]
pub struct KernelElf<'a> {
    bytes: &'a [u8],
    machine: Machine,
    entry: u64,
    segments: [Option<Segment>; MAX_SEGMENTS],
    relocs: Relocs,
}

impl<'a> KernelElf<'a> {
    /// Checks `bytes` is an ELF64 little-endian PIE for `machine` with sane,
    /// disjoint `PT_LOAD` segments and only relative relocations.
    pub fn parse(bytes: &'a [u8], machine: Machine) -> Result<Self, ElfError> {
        if !(bytes.as_ptr() as usize).is_multiple_of(8) {
            return Err(ElfError::Unaligned);
        }
        let elf = ElfFile::new(bytes).map_err(ElfError::Header)?;
        if elf.header.pt1.class() != Class::SixtyFour {
            return Err(ElfError::NotElf64);
        }
        if elf.header.pt1.data() != Data::LittleEndian {
            return Err(ElfError::NotLittleEndian);
        }
        let pt2 = &elf.header.pt2;
        match pt2.type_().as_type() {
            Type::SharedObject => {}
            _ => return Err(ElfError::NotPie(pt2.type_().0)),
        }
        let found = match pt2.machine().as_machine() {
            ElfMachine::RISC_V => 243,
            ElfMachine::X86_64 => 62,
            ElfMachine::Other(m) => m,
            _ => 0,
        };
        if found != machine.elf_machine() {
            return Err(ElfError::WrongMachine {
                expected: machine,
                found,
            });
        }
        // xmas-elf indexes (and asserts alignment) without checks: do them here.
        let (phoff, phentsize, phnum) = (
            pt2.ph_offset(),
            pt2.ph_entry_size() as u64,
            pt2.ph_count() as u64,
        );
        let table_end = phentsize
            .checked_mul(phnum)
            .and_then(|n| n.checked_add(phoff));
        if phentsize != 56
            || !phoff.is_multiple_of(8)
            || table_end.is_none_or(|e| e > bytes.len() as u64)
        {
            return Err(ElfError::BadProgramHeaders);
        }

        let mut segments = [None; MAX_SEGMENTS];
        let mut count = 0;
        let mut dynamic = None;
        for ph in elf.program_iter() {
            let ProgramHeader::Ph64(ph) = ph else {
                return Err(ElfError::BadProgramHeaders);
            };
            match ph.get_type() {
                Ok(PhType::Load) => {
                    let seg = Segment {
                        vaddr: ph.virtual_addr,
                        memsz: ph.mem_size,
                        filesz: ph.file_size,
                        offset: ph.offset,
                        flags: SegmentFlags {
                            read: ph.flags.is_read(),
                            write: ph.flags.is_write(),
                            exec: ph.flags.is_execute(),
                        },
                    };
                    let ok = seg.filesz <= seg.memsz
                        && seg
                            .offset
                            .checked_add(seg.filesz)
                            .is_some_and(|e| e <= bytes.len() as u64)
                        && seg
                            .vaddr
                            .checked_add(seg.memsz)
                            .is_some_and(|e| e <= u64::MAX - PAGE_SIZE);
                    if !ok {
                        return Err(ElfError::BadSegment { index: count });
                    }
                    if seg.memsz == 0 {
                        continue;
                    }
                    *segments.get_mut(count).ok_or(ElfError::TooManySegments)? = Some(seg);
                    count += 1;
                }
                Ok(PhType::Dynamic) => dynamic = Some((ph.offset, ph.file_size)),
                _ => {}
            }
        }
        if count == 0 {
            return Err(ElfError::NoLoadSegments);
        }
        segments[..count].sort_unstable_by_key(|s| s.map(|s| s.vaddr));
        for pair in segments[..count].windows(2) {
            if let [Some(a), Some(b)] = pair
                && a.page_end() > b.page_start()
            {
                return Err(ElfError::SegmentsOverlap {
                    vaddr: b.page_start(),
                });
            }
        }
        let mut kernel = Self {
            bytes,
            machine,
            entry: pt2.entry_point(),
            segments,
            relocs: Relocs::default(),
        };
        if !kernel
            .segments()
            .any(|s| s.flags.exec && (s.vaddr..s.vaddr + s.memsz).contains(&kernel.entry))
        {
            return Err(ElfError::BadEntry(kernel.entry));
        }
        if let Some((off, size)) = dynamic {
            kernel.relocs = kernel.parse_dynamic(off, size)?;
        }
        // Reject unsupported relocation types up front, before anything is copied.
        kernel.for_each_relocation(|_| Ok(()))?;
        Ok(kernel)
    }

    pub fn machine(&self) -> Machine {
        self.machine
    }

    /// Link-time entry point; add the slide.
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// The `PT_LOAD` segments with a non-zero size, sorted by address.
    pub fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        self.segments.iter().map_while(|s| *s)
    }

    /// Link-time `(start, end)` of the image, page-aligned.
    pub fn image_bounds(&self) -> (u64, u64) {
        let start = self.segments().map(|s| s.page_start()).min().unwrap_or(0);
        let end = self.segments().map(|s| s.page_end()).max().unwrap_or(0);
        (start, end)
    }

    /// Copies every segment's file bytes and zeroes the rest of its pages
    /// (including the `.bss` tail).
    pub fn copy_segments(&self, dest: &mut impl ImageMemory) -> Result<(), ElfError> {
        for seg in self.segments() {
            let (start, end) = (seg.page_start(), seg.page_end());
            let out = dest
                .bytes(start, end - start)
                .filter(|o| o.len() as u64 == end - start)
                .ok_or(ElfError::NoDestination {
                    vaddr: start,
                    len: end - start,
                })?;
            let file_at = (seg.vaddr - start) as usize;
            let file = &self.bytes[seg.offset as usize..(seg.offset + seg.filesz) as usize];
            out[..file_at].fill(0);
            out[file_at..file_at + file.len()].copy_from_slice(file);
            out[file_at + file.len()..].fill(0);
        }
        Ok(())
    }

    /// Applies every relocation for a kernel placed at link address + `slide`.
    /// Call after [`Self::copy_segments`], with the same kind of `dest`.
    pub fn apply_relocations(
        &self,
        slide: u64,
        dest: &mut impl ImageMemory,
    ) -> Result<(), ElfError> {
        self.for_each_relocation(|r| {
            let out = dest.bytes(r.offset, 8).filter(|o| o.len() == 8).ok_or(
                ElfError::NoDestination {
                    vaddr: r.offset,
                    len: 8,
                },
            )?;
            let addend = match r.addend {
                Some(a) => a,
                // DT_RELR: the addend is the value in place.
                None => u64::from_le_bytes(
                    out[..]
                        .try_into()
                        .map_err(|_| ElfError::RelocationOutOfRange(r.offset))?,
                ),
            };
            out.copy_from_slice(&slide.wrapping_add(addend).to_le_bytes());
            Ok(())
        })
    }

    /// [`Self::copy_segments`] then [`Self::apply_relocations`].
    pub fn load(&self, slide: u64, dest: &mut impl ImageMemory) -> Result<(), ElfError> {
        self.copy_segments(dest)?;
        self.apply_relocations(slide, dest)
    }

    /// Number of relative relocations (RELA and RELR).
    pub fn relocation_count(&self) -> usize {
        let mut n = 0;
        // Already validated by `parse`.
        let _ = self.for_each_relocation(|_| {
            n += 1;
            Ok(())
        });
        n
    }

    // ---- internals ----

    fn u64_at(&self, off: u64) -> Option<u64> {
        let off = usize::try_from(off).ok()?;
        let b = self.bytes.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// File offset of `len` bytes at link-time `vaddr`, which must lie in a segment's file part.
    fn file_offset(&self, vaddr: u64, len: u64) -> Option<u64> {
        self.segments()
            .find(|s| {
                vaddr >= s.vaddr
                    && vaddr
                        .checked_add(len)
                        .is_some_and(|e| e <= s.vaddr + s.filesz)
            })
            .map(|s| s.offset + (vaddr - s.vaddr))
    }

    fn parse_dynamic(&self, off: u64, size: u64) -> Result<Relocs, ElfError> {
        let (mut rela, mut relasz, mut relaent) = (None, 0, 24);
        let (mut relr, mut relrsz, mut relrent) = (None, 0, 8);
        let mut i = 0;
        while i + 16 <= size {
            let tag = self
                .u64_at(off + i)
                .ok_or(ElfError::BadDynamic("table outside the file"))?;
            let val = self
                .u64_at(off + i + 8)
                .ok_or(ElfError::BadDynamic("table outside the file"))?;
            match tag {
                DT_NULL => break,
                DT_NEEDED => {
                    return Err(ElfError::BadDynamic(
                        "the kernel must not need shared libraries",
                    ));
                }
                DT_REL => {
                    return Err(ElfError::BadDynamic(
                        "DT_REL (implicit addends) is not supported",
                    ));
                }
                DT_RELA => rela = Some(val),
                DT_RELASZ => relasz = val,
                DT_RELAENT => relaent = val,
                DT_RELR => relr = Some(val),
                DT_RELRSZ => relrsz = val,
                DT_RELRENT => relrent = val,
                _ => {}
            }
            i += 16;
        }
        let mut relocs = Relocs::default();
        if let Some(vaddr) = rela {
            if relaent != 24 || !relasz.is_multiple_of(24) {
                return Err(ElfError::BadDynamic("DT_RELAENT is not 24"));
            }
            let at = self
                .file_offset(vaddr, relasz)
                .ok_or(ElfError::BadDynamic("DT_RELA outside the file"))?;
            relocs.rela = (at, relasz);
        }
        if let Some(vaddr) = relr {
            if relrent != 8 || !relrsz.is_multiple_of(8) {
                return Err(ElfError::BadDynamic("DT_RELRENT is not 8"));
            }
            let at = self
                .file_offset(vaddr, relrsz)
                .ok_or(ElfError::BadDynamic("DT_RELR outside the file"))?;
            relocs.relr = (at, relrsz);
        }
        Ok(relocs)
    }

    /// Checks a relocation target lies inside a segment.
    fn check_target(&self, offset: u64) -> Result<(), ElfError> {
        let inside = self.segments().any(|s| {
            offset >= s.vaddr
                && offset
                    .checked_add(8)
                    .is_some_and(|e| e <= s.vaddr + s.memsz)
        });
        if inside {
            Ok(())
        } else {
            Err(ElfError::RelocationOutOfRange(offset))
        }
    }

    fn for_each_relocation(
        &self,
        mut f: impl FnMut(Reloc) -> Result<(), ElfError>,
    ) -> Result<(), ElfError> {
        let (at, size) = self.relocs.rela;
        let mut i = 0;
        while i < size {
            let bad = ElfError::BadDynamic("relocation table outside the file");
            let offset = self.u64_at(at + i).ok_or(bad)?;
            let info = self.u64_at(at + i + 8).ok_or(bad)?;
            let addend = self.u64_at(at + i + 16).ok_or(bad)?;
            i += 24;
            let ty = (info & 0xffff_ffff) as u32;
            if ty == 0 {
                continue; // R_*_NONE
            }
            if ty != self.machine.relative_reloc() {
                let name = self.machine.reloc_name(ty);
                return Err(ElfError::UnsupportedRelocation {
                    machine: self.machine,
                    ty,
                    name,
                    offset,
                });
            }
            self.check_target(offset)?;
            f(Reloc {
                offset,
                addend: Some(addend),
            })?;
        }
        // RELR: an address entry relocates one word; a bitmap entry (low bit
        // set) relocates the words after it flagged by its remaining 63 bits.
        let (at, size) = self.relocs.relr;
        let mut next = 0u64;
        let mut i = 0;
        while i < size {
            let entry = self
                .u64_at(at + i)
                .ok_or(ElfError::BadDynamic("DT_RELR outside the file"))?;
            i += 8;
            if entry & 1 == 0 {
                self.check_target(entry)?;
                f(Reloc {
                    offset: entry,
                    addend: None,
                })?;
                next = entry.wrapping_add(8);
            } else {
                for bit in 1..64 {
                    if entry >> bit & 1 != 0 {
                        let offset = next.wrapping_add((bit - 1) * 8);
                        self.check_target(offset)?;
                        f(Reloc {
                            offset,
                            addend: None,
                        })?;
                    }
                }
                next = next.wrapping_add(63 * 8);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Reloc {
    /// Link-time address of the 8-byte word to fix up.
    offset: u64,
    /// `None` for RELR (the addend is in place).
    addend: Option<u64>,
}
