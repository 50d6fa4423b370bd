//! Tests on ELF files written byte by byte here.
use super::*;

const RISCV: u16 = 243;
const X86_64: u16 = 62;
const ET_DYN: u16 = 3;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

struct Seg {
    vaddr: u64,
    flags: u32,
    data: Vec<u8>,
    memsz: u64,
}

struct Spec {
    class: u8,
    machine: u16,
    etype: u16,
    entry: u64,
    segs: Vec<Seg>,
    /// (offset, type, addend)
    rela: Vec<(u64, u32, u64)>,
    relr: Vec<u64>,
    extra_dyn: Vec<(u64, u64)>,
}

/// Bytes in an 8-aligned buffer, as a loader keeps the embedded kernel.
struct Aligned {
    words: Vec<u64>,
    len: usize,
}

impl Aligned {
    fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (i, b) in bytes.iter().enumerate() {
            words[i / 8] |= (*b as u64) << (8 * (i % 8));
        }
        Self {
            words,
            len: bytes.len(),
        }
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialized bytes.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }
}

const META_VADDR: u64 = 0x10_0000;

fn put(out: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if out.len() < at + bytes.len() {
        out.resize(at + bytes.len(), 0);
    }
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Lays out: header, program headers, then each segment at a page-aligned
/// file offset; the last (read-only) segment at `META_VADDR` holds the
/// relocation tables and the dynamic table.
fn build(spec: &Spec) -> Vec<u8> {
    let mut meta = Vec::new();
    let rela_at = meta.len() as u64;
    for &(off, ty, addend) in &spec.rela {
        meta.extend_from_slice(&off.to_le_bytes());
        meta.extend_from_slice(&(ty as u64).to_le_bytes());
        meta.extend_from_slice(&addend.to_le_bytes());
    }
    let relr_at = meta.len() as u64;
    for &e in &spec.relr {
        meta.extend_from_slice(&e.to_le_bytes());
    }
    let dyn_at = meta.len() as u64;
    let mut dynamic = spec.extra_dyn.clone();
    if !spec.rela.is_empty() {
        dynamic.extend([
            (7, META_VADDR + rela_at),
            (8, spec.rela.len() as u64 * 24),
            (9, 24),
        ]);
    }
    if !spec.relr.is_empty() {
        dynamic.extend([
            (36, META_VADDR + relr_at),
            (35, spec.relr.len() as u64 * 8),
            (37, 8),
        ]);
    }
    dynamic.push((0, 0));
    for (tag, val) in &dynamic {
        meta.extend_from_slice(&tag.to_le_bytes());
        meta.extend_from_slice(&val.to_le_bytes());
    }
    let mut segs: Vec<&Seg> = spec.segs.iter().collect();
    let meta_seg = Seg {
        vaddr: META_VADDR,
        flags: R,
        memsz: meta.len() as u64,
        data: meta.clone(),
    };
    segs.push(&meta_seg);

    let phnum = segs.len() + 1;
    let mut out = vec![0u8; 64 + 56 * phnum];
    // e_ident
    put(&mut out, 0, &[0x7f, b'E', b'L', b'F', spec.class, 1, 1, 0]);
    put(&mut out, 16, &spec.etype.to_le_bytes());
    put(&mut out, 18, &spec.machine.to_le_bytes());
    put(&mut out, 20, &1u32.to_le_bytes());
    put(&mut out, 24, &spec.entry.to_le_bytes());
    put(&mut out, 32, &64u64.to_le_bytes()); // e_phoff
    put(&mut out, 52, &64u16.to_le_bytes()); // e_ehsize
    put(&mut out, 54, &56u16.to_le_bytes());
    put(&mut out, 56, &(phnum as u16).to_le_bytes());
    put(&mut out, 58, &64u16.to_le_bytes()); // e_shentsize
    let mut file_at = 4096usize;
    let mut dyn_off = 0;
    for (i, seg) in segs.iter().enumerate() {
        let ph = 64 + 56 * i;
        let off = file_at + (seg.vaddr % 4096) as usize;
        put(&mut out, ph, &1u32.to_le_bytes()); // PT_LOAD
        put(&mut out, ph + 4, &seg.flags.to_le_bytes());
        put(&mut out, ph + 8, &(off as u64).to_le_bytes());
        put(&mut out, ph + 16, &seg.vaddr.to_le_bytes());
        put(&mut out, ph + 24, &seg.vaddr.to_le_bytes());
        put(&mut out, ph + 32, &(seg.data.len() as u64).to_le_bytes());
        put(&mut out, ph + 40, &seg.memsz.to_le_bytes());
        put(&mut out, ph + 48, &4096u64.to_le_bytes());
        put(&mut out, off, &seg.data);
        if seg.vaddr == META_VADDR {
            dyn_off = off as u64 + dyn_at;
        }
        file_at = (off + seg.data.len()).div_ceil(4096) * 4096;
    }
    let ph = 64 + 56 * segs.len();
    put(&mut out, ph, &2u32.to_le_bytes()); // PT_DYNAMIC
    put(&mut out, ph + 4, &(R | W).to_le_bytes());
    put(&mut out, ph + 8, &dyn_off.to_le_bytes());
    put(&mut out, ph + 16, &(META_VADDR + dyn_at).to_le_bytes());
    put(
        &mut out,
        ph + 32,
        &(dynamic.len() as u64 * 16).to_le_bytes(),
    );
    put(
        &mut out,
        ph + 40,
        &(dynamic.len() as u64 * 16).to_le_bytes(),
    );
    out
}

/// A kernel with text at 0 (RX), data at 0x2000 (RW, 16 bytes of file data
/// then bss up to 0x3800), two RELA and four RELR fix-ups.
fn kernel_spec() -> Spec {
    Spec {
        class: 2,
        machine: RISCV,
        etype: ET_DYN,
        entry: 0x10,
        segs: vec![
            Seg {
                vaddr: 0,
                flags: R | X,
                data: vec![0x13; 0x100],
                memsz: 0x100,
            },
            Seg {
                vaddr: 0x2000,
                flags: R | W,
                data: (1..=16).collect(),
                memsz: 0x1800,
            },
        ],
        rela: vec![(0x2000, 3, 0x40), (0x2008, 3, 0x2010)],
        // Word 0x2100, then a bitmap for 0x2108 + {0, 2, 62} * 8.
        relr: vec![0x2100, 1 | (1 << 1) | (1 << 3) | (1 << 63)],
        extra_dyn: vec![],
    }
}

/// The loaded image: link-time 0..0x101000 in one buffer.
fn load(elf: &KernelElf, slide: u64) -> Result<Vec<u8>, ElfError> {
    let (start, end) = elf.image_bounds();
    let mut mem = vec![0xaa; (end - start) as usize];
    elf.load(
        slide,
        &mut ContiguousImage {
            base: start,
            memory: &mut mem,
        },
    )?;
    Ok(mem)
}

fn word(mem: &[u8], at: u64) -> u64 {
    u64::from_le_bytes(mem[at as usize..at as usize + 8].try_into().unwrap())
}

#[test]
fn parses_segments_entry_and_bounds() {
    let file = Aligned::new(&build(&kernel_spec()));
    let elf = KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap();
    assert_eq!(elf.entry(), 0x10);
    let segs: Vec<_> = elf.segments().collect();
    assert_eq!(segs.len(), 3);
    assert_eq!(
        (segs[0].vaddr, segs[0].memsz, segs[0].filesz),
        (0, 0x100, 0x100)
    );
    assert_eq!(
        segs[0].flags,
        SegmentFlags {
            read: true,
            write: false,
            exec: true
        }
    );
    assert_eq!(
        (segs[1].vaddr, segs[1].memsz, segs[1].filesz),
        (0x2000, 0x1800, 16)
    );
    assert_eq!(
        segs[1].flags,
        SegmentFlags {
            read: true,
            write: true,
            exec: false
        }
    );
    assert!(segs[2].flags.read && !segs[2].flags.write && !segs[2].flags.exec);
    assert_eq!(elf.image_bounds(), (0, META_VADDR + 0x1000));
    assert_eq!(elf.relocation_count(), 2 + 4);
}

#[test]
fn load_copies_zeroes_and_relocates() {
    let file = Aligned::new(&build(&kernel_spec()));
    let elf = KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap();
    let slide = 0xffff_fff8_0040_0000;
    let mem = load(&elf, slide).unwrap();
    assert!(mem[..0x100].iter().all(|&b| b == 0x13));
    assert!(
        mem[0x100..0x1000].iter().all(|&b| b == 0),
        "page tail zeroed"
    );
    assert_eq!(mem[0x1000], 0xaa, "gap between segments untouched");
    // RELA: slide + addend, overwriting the file bytes.
    assert_eq!(word(&mem, 0x2000), slide + 0x40);
    assert_eq!(word(&mem, 0x2008), slide + 0x2010);
    // bss zeroed; RELR adds the slide to what is in place (0 here).
    assert_eq!(word(&mem, 0x2010), 0);
    for at in [0x2100, 0x2108, 0x2118, 0x2108 + 62 * 8] {
        assert_eq!(word(&mem, at), slide, "{at:#x}");
    }
    assert_eq!(word(&mem, 0x2110), 0, "bit clear: not relocated");
    assert!(mem[0x2000 + 0x1800..0x4000].iter().all(|&b| b == 0));
}

#[test]
fn relr_adds_to_the_value_in_place() {
    let mut spec = kernel_spec();
    spec.segs[1].data = 0x1234u64.to_le_bytes().repeat(2);
    spec.rela.clear();
    spec.relr = vec![0x2008];
    let file = Aligned::new(&build(&spec));
    let elf = KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap();
    let mem = load(&elf, 0x20_0000).unwrap();
    assert_eq!(
        (word(&mem, 0x2000), word(&mem, 0x2008)),
        (0x1234, 0x20_1234)
    );
}

#[test]
fn x86_64_relative_is_accepted() {
    let mut spec = kernel_spec();
    spec.machine = X86_64;
    spec.rela = vec![(0x2000, 8, 0x40)];
    let file = Aligned::new(&build(&spec));
    assert_eq!(
        KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap_err(),
        ElfError::WrongMachine {
            expected: Machine::Riscv64,
            found: X86_64
        }
    );
    let elf = KernelElf::parse(file.bytes(), Machine::X86_64).unwrap();
    assert_eq!(word(&load(&elf, 0x1000_0000).unwrap(), 0x2000), 0x1000_0040);
}

#[test]
fn other_relocations_are_named_errors() {
    let mut spec = kernel_spec();
    spec.rela.push((0x2010, 2, 0));
    let file = Aligned::new(&build(&spec));
    let err = KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap_err();
    assert_eq!(
        err,
        ElfError::UnsupportedRelocation {
            machine: Machine::Riscv64,
            ty: 2,
            name: "R_RISCV_64",
            offset: 0x2010
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("R_RISCV_64") && msg.contains("R_RISCV_RELATIVE"),
        "{msg}"
    );

    spec.machine = X86_64;
    spec.rela = vec![(0x2000, 7, 0)];
    let file = Aligned::new(&build(&spec));
    let err = KernelElf::parse(file.bytes(), Machine::X86_64).unwrap_err();
    assert!(err.to_string().contains("R_X86_64_JUMP_SLOT"), "{err}");
}

#[test]
fn rejects_non_pie_non_elf64_and_bad_layouts() {
    let check = |f: &dyn Fn(&mut Spec), expected: ElfError| {
        let mut spec = kernel_spec();
        f(&mut spec);
        let file = Aligned::new(&build(&spec));
        assert_eq!(
            KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap_err(),
            expected
        );
    };
    check(&|s| s.etype = 2, ElfError::NotPie(2));
    check(&|s| s.class = 1, ElfError::NotElf64);
    check(&|s| s.entry = 0x2000, ElfError::BadEntry(0x2000));
    check(
        &|s| s.segs[1].vaddr = 0x800,
        ElfError::SegmentsOverlap { vaddr: 0 },
    );
    check(
        &|s| s.rela.push((0x5000, 3, 0)),
        ElfError::RelocationOutOfRange(0x5000),
    );
    check(
        &|s| s.relr = vec![0x37fc],
        ElfError::RelocationOutOfRange(0x37fc),
    );
    check(
        &|s| s.extra_dyn.push((1, 0)),
        ElfError::BadDynamic("the kernel must not need shared libraries"),
    );
    check(&|s| s.segs.clear(), ElfError::BadEntry(0x10));
    check(&|s| s.segs[1].memsz = 8, ElfError::BadSegment { index: 1 });
}

#[test]
fn unaligned_and_garbage_input_are_errors_not_panics() {
    let bytes = build(&kernel_spec());
    let file = Aligned::new(&[&[0u8][..], &bytes].concat());
    assert_eq!(
        KernelElf::parse(&file.bytes()[1..], Machine::Riscv64).unwrap_err(),
        ElfError::Unaligned
    );
    assert!(KernelElf::parse(Aligned::new(b"not an elf").bytes(), Machine::Riscv64).is_err());
    // Every truncation and many single-byte corruptions of the headers and tables.
    for len in 0..bytes.len() {
        let _ = KernelElf::parse(Aligned::new(&bytes[..len]).bytes(), Machine::Riscv64);
    }
    let meta_off = bytes.len() - 0x200;
    for at in (0..64 + 56 * 4).chain(meta_off..bytes.len()) {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] = v;
            let file = Aligned::new(&b);
            if let Ok(elf) = KernelElf::parse(file.bytes(), Machine::Riscv64) {
                let (start, end) = elf.image_bounds();
                if end - start < 1 << 24 {
                    let mut mem = vec![0; (end - start) as usize];
                    let _ = elf.load(
                        0x20_0000,
                        &mut ContiguousImage {
                            base: start,
                            memory: &mut mem,
                        },
                    );
                }
            }
        }
    }
}

#[test]
fn destination_must_cover_the_image() {
    let file = Aligned::new(&build(&kernel_spec()));
    let elf = KernelElf::parse(file.bytes(), Machine::Riscv64).unwrap();
    let mut small = vec![0; 0x3000];
    let err = elf
        .load(
            0,
            &mut ContiguousImage {
                base: 0,
                memory: &mut small,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        ElfError::NoDestination {
            vaddr: 0x2000,
            len: 0x2000
        }
    );
}
