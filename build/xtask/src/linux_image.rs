//! The RISC-V Linux `Image` format (Linux's
//! `Documentation/arch/riscv/boot-image-header.rst`): a flat binary whose
//! first 64 bytes say where it goes and how big it is, which U-Boot's
//! `booti` checks before it moves the image to RAM base + `text_offset` and
//! jumps to its first byte with a0 = hart id and a1 = the FDT. The riscv64
//! loader writes the header itself (`loader/src/arch/riscv64/mod.rs`); this
//! module flattens the loader ELF into the file and checks the header.

/// Bytes of the header.
pub const HEADER_LEN: usize = 64;
/// `magic2` at offset 56.
pub const MAGIC2: [u8; 4] = *b"RSC\x05";
/// The deprecated `magic` at offset 48, still written.
pub const MAGIC: [u8; 8] = *b"RISCV\0\0\0";

/// The header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The first instruction (a jump over the header).
    pub code0: u32,
    pub code1: u32,
    /// Where in RAM, from its base, the image must sit.
    pub text_offset: u64,
    /// Bytes the image occupies once running (its .bss and stack included).
    pub image_size: u64,
    /// Bit 0: big-endian.
    pub flags: u64,
    /// Major in the high 16 bits, minor in the low.
    pub version: u32,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Header {
    /// Reads and checks the header at the start of `image`: both magics,
    /// a non-zero image_size (U-Boot refuses 0), little-endian, version at
    /// least 0.2 (which made image_size mandatory), a text offset that keeps
    /// 4 KiB alignment, and a first instruction that jumps.
    pub fn parse(image: &[u8]) -> Result<Self, String> {
        if image.len() < HEADER_LEN {
            return Err(format!(
                "{} bytes are too few for an Image header",
                image.len()
            ));
        }
        if image[56..60] != MAGIC2 {
            return Err("no RISC-V Image magic2 \"RSC\\x05\" at offset 56".into());
        }
        if image[48..56] != MAGIC {
            return Err("no \"RISCV\" magic at offset 48".into());
        }
        let h = Self {
            code0: u32_at(image, 0),
            code1: u32_at(image, 4),
            text_offset: u64_at(image, 8),
            image_size: u64_at(image, 16),
            flags: u64_at(image, 24),
            version: u32_at(image, 32),
        };
        if h.image_size == 0 {
            return Err("image_size is 0 (booti refuses it)".into());
        }
        if h.flags & 1 != 0 {
            return Err("the Image says big-endian".into());
        }
        if h.version < 2 {
            return Err(format!("header version {:#x} is older than 0.2", h.version));
        }
        if !h.text_offset.is_multiple_of(4096) {
            return Err(format!(
                "text_offset {:#x} is not page-aligned",
                h.text_offset
            ));
        }
        // JAL (opcode 0x6f) over the header, to the first byte after it or later.
        let jal_target = {
            let i = h.code0;
            let imm = ((i >> 31) & 1) << 20
                | ((i >> 12) & 0xff) << 12
                | ((i >> 20) & 1) << 11
                | ((i >> 21) & 0x3ff) << 1;
            imm as usize
        };
        if h.code0 & 0x7f != 0x6f || jal_target < HEADER_LEN {
            return Err(format!(
                "the first instruction {:#010x} does not jump over the header",
                h.code0
            ));
        }
        Ok(h)
    }
}

/// A 64-bit little-endian RISC-V ELF's loadable bytes as one flat file, from
/// its lowest to its highest loaded address (zeros between segments, .bss
/// left out: image_size covers it), checked to start with an Image header
/// whose image_size covers every segment, and to need no relocation other
/// than R_RISCV_RELATIVE (which the loader applies to itself).
pub fn from_elf(elf: &[u8]) -> Result<(Vec<u8>, Header), String> {
    let e = Elf::parse(elf)?;
    let loads: Vec<Segment> = e.segments().filter(|s| s.kind == PT_LOAD).collect();
    let base = loads
        .iter()
        .map(|s| s.vaddr)
        .min()
        .ok_or("the ELF has no loadable segment")?;
    if e.entry != base {
        return Err(format!(
            "entry {:#x} is not the image's first byte {base:#x}",
            e.entry
        ));
    }
    let file_end = loads
        .iter()
        .map(|s| s.vaddr + s.filesz)
        .max()
        .unwrap_or(base);
    let mem_end = loads
        .iter()
        .map(|s| s.vaddr + s.memsz)
        .max()
        .unwrap_or(base);
    let mut flat = vec![0u8; usize::try_from(file_end - base).map_err(|e| e.to_string())?];
    for s in &loads {
        let data = elf
            .get(s.offset as usize..(s.offset + s.filesz) as usize)
            .ok_or("a segment lies beyond the end of the ELF")?;
        let at = (s.vaddr - base) as usize;
        flat[at..at + data.len()].copy_from_slice(data);
    }
    let header = Header::parse(&flat)?;
    if header.image_size < mem_end - base {
        return Err(format!(
            "image_size {:#x} does not cover the {:#x} bytes the segments occupy",
            header.image_size,
            mem_end - base
        ));
    }
    for kind in e.dynamic_relocation_kinds()? {
        if kind != R_RISCV_RELATIVE {
            return Err(format!(
                "relocation type {kind} in .rela.dyn: the loader applies only R_RISCV_RELATIVE"
            ));
        }
    }
    Ok((flat, header))
}

const PT_LOAD: u32 = 1;
const SHT_RELA: u32 = 4;
const R_RISCV_RELATIVE: u32 = 3;
const EM_RISCV: u16 = 243;

struct Elf<'a> {
    bytes: &'a [u8],
    entry: u64,
    phoff: u64,
    phnum: u16,
    shoff: u64,
    shnum: u16,
}

struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < 64 || bytes[..4] != *b"\x7fELF" {
            return Err("not an ELF file".into());
        }
        if bytes[4] != 2 || bytes[5] != 1 {
            return Err("not a 64-bit little-endian ELF".into());
        }
        let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
        if machine != EM_RISCV {
            return Err(format!("ELF machine {machine} is not RISC-V"));
        }
        let e = Self {
            bytes,
            entry: u64_at(bytes, 24),
            phoff: u64_at(bytes, 32),
            phnum: u16::from_le_bytes([bytes[56], bytes[57]]),
            shoff: u64_at(bytes, 40),
            shnum: u16::from_le_bytes([bytes[60], bytes[61]]),
        };
        let ph_end = e.phoff + 56 * u64::from(e.phnum);
        let sh_end = e.shoff + 64 * u64::from(e.shnum);
        if ph_end > bytes.len() as u64 || sh_end > bytes.len() as u64 {
            return Err("ELF headers lie beyond the end of the file".into());
        }
        Ok(e)
    }

    fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..usize::from(self.phnum)).map(|i| {
            let at = self.phoff as usize + 56 * i;
            let b = self.bytes;
            Segment {
                kind: u32_at(b, at),
                offset: u64_at(b, at + 8),
                vaddr: u64_at(b, at + 16),
                filesz: u64_at(b, at + 32),
                memsz: u64_at(b, at + 40),
            }
        })
    }

    /// The relocation types in every SHT_RELA section.
    fn dynamic_relocation_kinds(&self) -> Result<Vec<u32>, String> {
        let mut kinds = Vec::new();
        for i in 0..usize::from(self.shnum) {
            let at = self.shoff as usize + 64 * i;
            if u32_at(self.bytes, at + 4) != SHT_RELA {
                continue;
            }
            let offset = u64_at(self.bytes, at + 24) as usize;
            let size = u64_at(self.bytes, at + 32) as usize;
            let table = self
                .bytes
                .get(offset..offset + size)
                .ok_or("a relocation section lies beyond the end of the ELF")?;
            kinds.extend(table.chunks_exact(24).map(|r| u64_at(r, 8) as u32));
        }
        Ok(kinds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as the loader's `_start` lays it out.
    fn header(image_size: u64) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        // `j 64` (JAL x0, +64): imm[10:1] = 32.
        let jal: u32 = 0x6f | (32 << 21);
        h[0..4].copy_from_slice(&jal.to_le_bytes());
        h[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
        h[16..24].copy_from_slice(&image_size.to_le_bytes());
        h[32..36].copy_from_slice(&2u32.to_le_bytes());
        h[48..56].copy_from_slice(&MAGIC);
        h[56..60].copy_from_slice(&MAGIC2);
        h
    }

    #[test]
    fn a_well_formed_header_parses_with_every_field() {
        let h = Header::parse(&header(0x1234_5000)).unwrap();
        assert_eq!(
            (h.text_offset, h.image_size, h.flags, h.version, h.code1),
            (0x20_0000, 0x1234_5000, 0, 2, 0)
        );
    }

    #[test]
    fn headers_u_boot_would_refuse_are_errors() {
        let good = header(0x1000);
        let broken = |at: usize, bytes: &[u8]| {
            let mut h = good.clone();
            h[at..at + bytes.len()].copy_from_slice(bytes);
            Header::parse(&h).unwrap_err()
        };
        assert!(broken(56, b"RSC\x04").contains("magic2"));
        assert!(broken(48, b"ARM\x64").contains("RISCV"));
        assert!(broken(16, &0u64.to_le_bytes()).contains("image_size"));
        assert!(broken(24, &1u64.to_le_bytes()).contains("big-endian"));
        assert!(broken(32, &1u32.to_le_bytes()).contains("0.2"));
        assert!(broken(8, &0x20_0800u64.to_le_bytes()).contains("page-aligned"));
        assert!(
            broken(0, &0x0000_0013u32.to_le_bytes()).contains("jump"),
            "a nop"
        );
        // `j 8`: into the header.
        assert!(broken(0, &(0x6fu32 | (4 << 21)).to_le_bytes()).contains("jump"));
        assert!(Header::parse(&good[..60]).is_err());
    }

    /// A RISC-V ELF with two PT_LOAD segments (the second with .bss) and a
    /// .rela.dyn holding relocations of the given types.
    fn elf(image_size: u64, relocations: &[u32]) -> Vec<u8> {
        let code = header(image_size);
        let mut f = vec![0u8; 0x3000];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[18..20].copy_from_slice(&EM_RISCV.to_le_bytes());
        f[24..32].copy_from_slice(&0u64.to_le_bytes()); // entry
        f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
        f[40..48].copy_from_slice(&0x2000u64.to_le_bytes()); // shoff
        f[56..58].copy_from_slice(&2u16.to_le_bytes()); // phnum
        f[60..62].copy_from_slice(&2u16.to_le_bytes()); // shnum
        let ph = |f: &mut Vec<u8>, i: usize, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
            let at = 64 + 56 * i;
            f[at..at + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            f[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        };
        ph(&mut f, 0, 0x1000, 0, 0x100, 0x100);
        ph(&mut f, 1, 0x1100, 0x800, 0x10, 0x1000);
        f[0x1000..0x1000 + HEADER_LEN].copy_from_slice(&code);
        f[0x1100..0x1110].copy_from_slice(&[0xaa; 16]);
        // Section 1: SHT_RELA at 0x1800.
        let sh = 0x2000 + 64;
        f[sh + 4..sh + 8].copy_from_slice(&SHT_RELA.to_le_bytes());
        f[sh + 24..sh + 32].copy_from_slice(&0x1800u64.to_le_bytes());
        f[sh + 32..sh + 40].copy_from_slice(&(24 * relocations.len() as u64).to_le_bytes());
        for (i, &kind) in relocations.iter().enumerate() {
            let at = 0x1800 + 24 * i + 8;
            f[at..at + 8].copy_from_slice(&u64::from(kind).to_le_bytes());
        }
        f
    }

    #[test]
    fn flattening_places_segments_at_their_offsets_and_leaves_bss_out() {
        let (flat, h) = from_elf(&elf(0x1800, &[3, 3])).unwrap();
        assert_eq!(
            flat.len(),
            0x810,
            "up to the end of the last segment's file bytes"
        );
        assert_eq!(&flat[0x800..0x810], &[0xaa; 16]);
        assert!(flat[0x100..0x800].iter().all(|&b| b == 0));
        assert_eq!(h.image_size, 0x1800);
    }

    #[test]
    fn flattening_refuses_a_short_image_size_and_foreign_relocations() {
        let e = from_elf(&elf(0x1000, &[])).unwrap_err();
        assert!(e.contains("does not cover"), "{e}");
        let e = from_elf(&elf(0x1800, &[3, 2])).unwrap_err();
        assert!(e.contains("relocation type 2"), "{e}");
        assert!(
            from_elf(b"not an elf at all, clearly not, no, not at all, really not at all").is_err()
        );
    }
}
