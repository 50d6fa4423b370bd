use super::*;
use core::cell::UnsafeCell;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Fake physical memory: `frames` 4 KiB frames starting at `BASE`.
struct FakeMem {
    frames: Box<[UnsafeCell<[u64; ENTRIES]>]>,
}

const BASE: u64 = 0x8000_0000;

impl FakeMem {
    fn new(frames: usize) -> Self {
        // Fill with garbage so a table the mapper forgot to zero shows up.
        Self {
            frames: (0..frames)
                .map(|_| UnsafeCell::new([0xdead_beef_dead_beef; ENTRIES]))
                .collect(),
        }
    }
}

// SAFETY: every frame handed out by `Frames` lies inside `frames`, and tests
// take no references into it.
unsafe impl PhysAccess for &FakeMem {
    fn table(&self, phys: u64) -> *mut u64 {
        let i = ((phys - BASE) / PAGE_SIZE) as usize;
        self.frames[i].get().cast()
    }
}

/// Bump allocator over the fake memory.
struct Frames {
    next: u64,
    end: u64,
    handed_out: usize,
}

impl Frames {
    fn new(mem: &FakeMem) -> Self {
        Self {
            next: BASE,
            end: BASE + mem.frames.len() as u64 * PAGE_SIZE,
            handed_out: 0,
        }
    }
}

impl FrameAllocator for Frames {
    fn allocate_frame(&mut self) -> Option<u64> {
        (self.next < self.end).then(|| {
            self.next += PAGE_SIZE;
            self.handed_out += 1;
            self.next - PAGE_SIZE
        })
    }
}

const ALL_FLAGS: [Flags; 6] = [
    Flags::READ,
    Flags::RW,
    Flags::RX,
    Flags::EXEC,
    Flags::WRITE,
    Flags(Flags::RW.0 | Flags::EXEC.0 | Flags::GLOBAL.0),
];

fn expected_rv(flags: Flags) -> Flags {
    let mut f = flags;
    if f.contains(Flags::WRITE) || !f.contains(Flags::EXEC) {
        f |= Flags::READ;
    }
    f
}

#[test]
fn riscv_encoding_round_trips() {
    for flags in ALL_FLAGS {
        for level in 0..3 {
            let phys = 0x8020_0000u64 << (level * 9);
            let raw = Sv39::leaf(phys, flags, level);
            assert_eq!(
                Sv39::decode(raw, level),
                Entry::Leaf {
                    phys,
                    flags: expected_rv(flags)
                }
            );
            assert_eq!(
                Sv48::decode(Sv48::leaf(phys, flags, level), level),
                Sv39::decode(raw, level)
            );
            // V, A and D always set; U never.
            assert_eq!(raw & 0b1100_0001, 0b1100_0001);
            assert_eq!(raw & 0x10, 0);
        }
    }
    assert_eq!(Sv39::table(0x8000_1000), (0x80001 << 10) | 1);
    assert_eq!(
        Sv39::decode(Sv39::table(0x8000_1000), 1),
        Entry::Table(0x8000_1000)
    );
    assert_eq!(Sv39::decode(0, 0), Entry::Invalid);
    assert_eq!(
        Sv39::decode(0b1110, 0),
        Entry::Invalid,
        "V clear means invalid whatever else is set"
    );
}

#[test]
fn thead_leaves_carry_cacheable_bufferable_shareable_for_memory_and_strong_order_for_devices() {
    for flags in ALL_FLAGS {
        for level in 0..3 {
            let phys = 0x4020_0000u64 << (level * 9);
            let memory = Sv39XTheadMae::leaf(phys, flags, level);
            let device = Sv39XTheadMae::leaf(phys, flags | Flags::DEVICE, level);
            // Bits 63 SO, 62 C, 61 B, 60 SH, 59 SEC (C906/C910 manuals, Linux
            // `_PAGE_PMA_THEAD` and `_PAGE_IO_THEAD`).
            assert_eq!(memory >> 59, 0b01110, "normal memory: C | B | SH");
            assert_eq!(device >> 59, 0b10010, "device memory: SO | SH");
            // Below bit 59 the entry is the standard Sv39 one.
            let low = (1u64 << 59) - 1;
            assert_eq!(memory & low, Sv39::leaf(phys, flags, level));
            assert_eq!(device & low, Sv39::leaf(phys, flags, level));
            assert_eq!(
                Sv39XTheadMae::decode(memory, level),
                Entry::Leaf {
                    phys,
                    flags: expected_rv(flags)
                }
            );
            assert_eq!(
                Sv39XTheadMae::decode(device, level),
                Entry::Leaf {
                    phys,
                    flags: expected_rv(flags) | Flags::DEVICE
                }
            );
        }
    }
    assert_eq!(
        Sv39XTheadMae::table(0x8000_1000),
        Sv39::table(0x8000_1000),
        "table pointers carry no attributes"
    );
    assert_eq!(
        Sv39XTheadMae::decode(Sv39XTheadMae::table(0x8000_1000), 2),
        Entry::Table(0x8000_1000)
    );
    assert_eq!(
        (xthead::NORMAL, xthead::DEVICE),
        (0x7 << 60, (1 << 63) | (1 << 60))
    );
}

#[test]
fn standard_riscv_leaves_ignore_the_device_flag() {
    for level in 0..3 {
        let phys = 0x1000_0000u64 << (level * 9);
        assert_eq!(
            Sv39::leaf(phys, Flags::RW | Flags::DEVICE, level),
            Sv39::leaf(phys, Flags::RW, level),
            "PMAs give standard harts their memory types"
        );
        assert_eq!(Sv48::leaf(phys, Flags::RW | Flags::DEVICE, level) >> 54, 0);
    }
}

#[test]
fn x86_encoding_round_trips() {
    for flags in ALL_FLAGS {
        for level in 0..3 {
            let phys = 0x4000_0000u64 << (level * 9);
            let raw = X86Level4::leaf(phys, flags, level);
            assert_eq!(raw & 0x80 != 0, level > 0, "PS only on huge leaves");
            assert_eq!(raw >> 63 == 1, !flags.contains(Flags::EXEC));
            assert_eq!(
                X86Level4::decode(raw, level),
                Entry::Leaf {
                    phys,
                    flags: flags | Flags::READ
                }
            );
        }
    }
    assert_eq!(
        X86Level4::decode(X86Level4::table(0x1234_5000), 2),
        Entry::Table(0x1234_5000)
    );
    assert_eq!(
        X86Level4::table(0x1234_5000) & 0b111,
        0b011,
        "present, writable, supervisor"
    );
}

proptest! {
    #[test]
    fn encoding_round_trips_any_address(frame in 0u64..(1 << 40), level in 0usize..3, bits in 0u8..16) {
        let flags = Flags(bits);
        let phys = (frame << 12) & !(level_bytes(level) - 1);
        prop_assert_eq!(Sv48::decode(Sv48::leaf(phys, flags, level), level), Entry::Leaf { phys, flags: expected_rv(flags) });
        prop_assert_eq!(X86Level4::decode(X86Level4::leaf(phys, flags, level), level), Entry::Leaf { phys, flags: flags | Flags::READ });
    }
}

fn map_translate_unmap<F: PteFormat>() {
    let mem = FakeMem::new(64);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<F, _>::new(&mem, &mut frames).unwrap();
    let virt = 0x1_2345_6000;
    pt.map(
        virt,
        0x9000_0000,
        3 * PAGE_SIZE,
        Flags::RW,
        PageSize::Size1G,
        &mut frames,
    )
    .unwrap();
    // One table per level below the root.
    assert_eq!(frames.handed_out, F::LEVELS);
    for i in 0..3 {
        let m = pt.translate(virt + i * PAGE_SIZE + 0x10).unwrap();
        assert_eq!(m.virt, virt + i * PAGE_SIZE);
        assert_eq!(m.phys, 0x9000_0000 + i * PAGE_SIZE);
        assert_eq!(m.size, PageSize::Size4K);
        assert!(m.flags.contains(Flags::RW) && !m.flags.contains(Flags::EXEC));
    }
    assert_eq!(
        pt.translate_addr(virt + PAGE_SIZE + 0x123),
        Some(0x9000_1123)
    );
    assert_eq!(pt.translate(virt + 3 * PAGE_SIZE), None);
    assert_eq!(pt.translate(virt - PAGE_SIZE), None);

    let old = pt.unmap(virt + PAGE_SIZE).unwrap();
    assert_eq!(old.phys, 0x9000_1000);
    assert_eq!(pt.translate(virt + PAGE_SIZE), None);
    assert_eq!(
        pt.unmap(virt + PAGE_SIZE),
        Err(MapError::NotMapped(virt + PAGE_SIZE))
    );
    assert!(pt.translate(virt).is_some() && pt.translate(virt + 2 * PAGE_SIZE).is_some());
    // The hole can be mapped again, elsewhere.
    pt.map(
        virt + PAGE_SIZE,
        0xa000_0000,
        PAGE_SIZE,
        Flags::READ,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    assert_eq!(pt.translate_addr(virt + PAGE_SIZE), Some(0xa000_0000));
}

#[test]
fn map_translate_unmap_all_formats() {
    map_translate_unmap::<Sv39>();
    map_translate_unmap::<Sv48>();
    map_translate_unmap::<Sv39XTheadMae>();
    map_translate_unmap::<X86Level4>();
}

#[test]
fn huge_pages_when_aligned_and_asked() {
    let mem = FakeMem::new(16);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    let base = layout_phys_map();
    // 2 GiB + 2 MiB + 4 KiB: two 1 GiB pages, one 2 MiB page, one 4 KiB page.
    let len = (2 << 30) + (2 << 20) + PAGE_SIZE;
    pt.map(
        base,
        0,
        len,
        Flags::RW | Flags::GLOBAL,
        PageSize::Size1G,
        &mut frames,
    )
    .unwrap();
    let mut seen = Vec::new();
    pt.for_each_mapping(|m| seen.push((m.virt, m.phys, m.size)));
    assert_eq!(
        seen,
        [
            (base, 0, PageSize::Size1G),
            (base + (1 << 30), 1 << 30, PageSize::Size1G),
            (base + (2 << 30), 2 << 30, PageSize::Size2M),
            (
                base + (2 << 30) + (2 << 20),
                (2 << 30) + (2 << 20),
                PageSize::Size4K
            ),
        ]
    );
    assert_eq!(pt.translate_addr(base + 0x1234_5678), Some(0x1234_5678));
    assert!(pt.translate(base).unwrap().flags.contains(Flags::GLOBAL));

    // Without permission for huge pages the same alignment gets 4 KiB pages.
    let mut small = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    small
        .map(
            0x4000_0000,
            0x4000_0000,
            2 << 20,
            Flags::READ,
            PageSize::Size4K,
            &mut frames,
        )
        .unwrap();
    assert_eq!(small.translate(0x4000_0000).unwrap().size, PageSize::Size4K);
    // Misaligned physical address: 2 MiB pages are impossible.
    let mut mis = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    mis.map(
        0x4000_0000,
        0x4000_1000,
        2 << 20,
        Flags::READ,
        PageSize::Size2M,
        &mut frames,
    )
    .unwrap();
    assert_eq!(mis.translate(0x4000_0000).unwrap().size, PageSize::Size4K);
}

fn layout_phys_map() -> u64 {
    0xffff_ffc0_0000_0000
}

#[test]
fn huge_page_edges_are_errors_not_splits() {
    let mem = FakeMem::new(16);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv48, _>::new(&mem, &mut frames).unwrap();
    pt.map(
        0x20_0000,
        0x20_0000,
        2 << 20,
        Flags::RX,
        PageSize::Size2M,
        &mut frames,
    )
    .unwrap();
    assert_eq!(pt.unmap(0x20_1000), Err(MapError::HugePageSplit(0x20_1000)));
    assert_eq!(
        pt.protect(0x20_0000, PAGE_SIZE, Flags::READ),
        Err(MapError::HugePageSplit(0x20_1000))
    );
    assert_eq!(
        pt.unmap_range(0x20_1000, PAGE_SIZE, |_| {}),
        Err(MapError::HugePageSplit(0x20_1000))
    );
    assert_eq!(pt.translate(0x20_0000).unwrap().flags, Flags::RX);
    let m = pt.unmap(0x20_0000).unwrap();
    assert_eq!(
        (m.phys, m.size, m.flags),
        (0x20_0000, PageSize::Size2M, Flags::RX)
    );
    assert_eq!(pt.translate(0x30_0000), None);
}

#[test]
fn overlaps_fail_and_change_nothing() {
    let mem = FakeMem::new(32);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    pt.map(
        0x10_5000,
        0x8000_0000,
        PAGE_SIZE,
        Flags::READ,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    let err = pt.map(
        0x10_0000,
        0x9000_0000,
        0x10_000,
        Flags::RW,
        PageSize::Size4K,
        &mut frames,
    );
    assert_eq!(err, Err(MapError::AlreadyMapped(0x10_5000)));
    // The pages before the conflict were rolled back; the old mapping is intact.
    for page in (0x10_0000..0x11_0000).step_by(PAGE_SIZE as usize) {
        let expect = (page == 0x10_5000).then_some(0x8000_0000);
        assert_eq!(pt.translate_addr(page), expect, "{page:#x}");
    }
    // A huge page over a finer mapping falls back to small pages, still refusing the overlap.
    assert_eq!(
        pt.map(0, 0, 2 << 20, Flags::RW, PageSize::Size2M, &mut frames),
        Err(MapError::AlreadyMapped(0x10_5000))
    );
    assert_eq!(pt.translate(0), None);
    // Mapping 4 KiB inside an existing huge page is an overlap too.
    pt.map(
        0x4000_0000,
        0,
        1 << 30,
        Flags::READ,
        PageSize::Size1G,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        pt.map(
            0x4000_3000,
            0,
            PAGE_SIZE,
            Flags::READ,
            PageSize::Size4K,
            &mut frames
        ),
        Err(MapError::AlreadyMapped(0x4000_3000))
    );
}

#[test]
fn bad_input_is_an_error() {
    let mem = FakeMem::new(8);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    let r = Flags::READ;
    let s = PageSize::Size4K;
    assert_eq!(
        pt.map(0x1001, 0, PAGE_SIZE, r, s, &mut frames),
        Err(MapError::Misaligned(0x1001))
    );
    assert_eq!(
        pt.map(0x1000, 0x10, PAGE_SIZE, r, s, &mut frames),
        Err(MapError::Misaligned(0x10))
    );
    assert_eq!(
        pt.map(0x1000, 0, 100, r, s, &mut frames),
        Err(MapError::Misaligned(100))
    );
    assert_eq!(
        pt.map(0x1000, 0, 0, r, s, &mut frames),
        Err(MapError::BadRange {
            virt: 0x1000,
            len: 0
        })
    );
    // Sv39: bit 38 must be copied into bits 63..39.
    assert_eq!(
        pt.map(1 << 39, 0, PAGE_SIZE, r, s, &mut frames),
        Err(MapError::NonCanonical(1 << 39))
    );
    let top_low = (1 << 38) - PAGE_SIZE;
    assert_eq!(
        pt.map(top_low, 0, 2 * PAGE_SIZE, r, s, &mut frames),
        Err(MapError::NonCanonical(1 << 38))
    );
    assert_eq!(
        pt.map(u64::MAX - 0xfff, 0, 2 * PAGE_SIZE, r, s, &mut frames),
        Err(MapError::BadRange {
            virt: u64::MAX - 0xfff,
            len: 0x2000
        })
    );
    assert_eq!(
        pt.map(0x1000, 1 << 56, PAGE_SIZE, r, s, &mut frames),
        Err(MapError::PhysTooLarge((1 << 56) + 0xfff))
    );
    assert_eq!(pt.unmap(0x5000), Err(MapError::NotMapped(0x5000)));
    assert_eq!(pt.translate(1 << 40), None);
    // The top page of the address space works.
    pt.map(u64::MAX - 0xfff, 0x1000, PAGE_SIZE, r, s, &mut frames)
        .unwrap();
    assert_eq!(pt.translate_addr(u64::MAX), Some(0x1fff));
    pt.protect(u64::MAX - 0xfff, PAGE_SIZE, Flags::RW).unwrap();
    let mut n = 0;
    pt.unmap_range(u64::MAX - 0xfff, PAGE_SIZE, |_| n += 1)
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn out_of_memory_is_an_error_and_rolls_back() {
    // Root plus two tables: enough for one 1 GiB region of Sv39, not for a second.
    let mem = FakeMem::new(3);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    let start = 0x3fe0_0000; // last 2 MiB of the first GiB, then into the second
    let err = pt.map(start, 0, 4 << 20, Flags::RW, PageSize::Size4K, &mut frames);
    assert_eq!(err, Err(MapError::OutOfMemory));
    let mut any = false;
    pt.for_each_mapping(|_| any = true);
    assert!(!any, "partial mapping left behind");
    assert!(PageTable::<Sv39, _>::new(&mem, &mut frames).is_err());
}

#[test]
fn flags_are_preserved_and_protect_changes_them() {
    let mem = FakeMem::new(16);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
    let rwx = Flags::RW | Flags::EXEC;
    // W^X is the caller's policy, not the crate's.
    pt.map(
        0x1000,
        0x2000,
        4 * PAGE_SIZE,
        rwx,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    assert_eq!(pt.translate(0x3000).unwrap().flags, rwx);
    pt.protect(0x2000, 2 * PAGE_SIZE, Flags::RX).unwrap();
    let flags: Vec<_> = (1..5)
        .map(|i| pt.translate(i * PAGE_SIZE).unwrap().flags)
        .collect();
    assert_eq!(flags, [rwx, Flags::RX, Flags::RX, rwx]);
    assert_eq!(
        pt.translate_addr(0x2000),
        Some(0x3000),
        "protect keeps the frame"
    );
    // A hole makes protect fail without touching anything.
    pt.unmap(0x3000).unwrap();
    assert_eq!(
        pt.protect(0x1000, 4 * PAGE_SIZE, Flags::READ),
        Err(MapError::NotMapped(0x3000))
    );
    assert_eq!(pt.translate(0x1000).unwrap().flags, rwx);
    assert_eq!(
        pt.protect(0x1000, 5 * PAGE_SIZE, Flags::READ),
        Err(MapError::NotMapped(0x3000))
    );
    pt.map(
        0x3000,
        0x4000,
        PAGE_SIZE,
        Flags::READ,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        pt.protect(0x1000, 5 * PAGE_SIZE, Flags::READ),
        Err(MapError::NotMapped(0x5000))
    );
    pt.protect(0x1000, 4 * PAGE_SIZE, Flags::READ).unwrap();
    assert!((1..5).all(|i| pt.translate(i * PAGE_SIZE).unwrap().flags == Flags::READ));
}

#[test]
fn unmap_range_skips_holes() {
    let mem = FakeMem::new(16);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv48, _>::new(&mem, &mut frames).unwrap();
    pt.map(
        0x1000,
        0x1000,
        PAGE_SIZE,
        Flags::READ,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    pt.map(
        0x40_0000,
        0x40_0000,
        2 << 20,
        Flags::READ,
        PageSize::Size2M,
        &mut frames,
    )
    .unwrap();
    pt.map(
        0x80_0000_0000,
        0,
        PAGE_SIZE,
        Flags::READ,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    let mut gone = Vec::new();
    pt.unmap_range(0, 1 << 39, |m| gone.push((m.virt, m.size)))
        .unwrap();
    assert_eq!(
        gone,
        [(0x1000, PageSize::Size4K), (0x40_0000, PageSize::Size2M)]
    );
    assert_eq!(pt.translate_addr(0x80_0000_0000), Some(0));
}

proptest! {
    /// Random maps and unmaps of 4 KiB pages agree with a simple model.
    #[test]
    fn agrees_with_a_model(ops in proptest::collection::vec((any::<bool>(), 0u64..64, 1u64..4, 0u64..1000), 1..60)) {
        let mem = FakeMem::new(64);
        let mut frames = Frames::new(&mem);
        let mut pt = PageTable::<Sv39, _>::new(&mem, &mut frames).unwrap();
        let mut model = BTreeMap::new();
        // Spread pages over two 2 MiB regions and the upper half.
        let virt_of = |i: u64| match i % 3 {
            0 => i * PAGE_SIZE,
            1 => 0x3f_c000_0000 + i * PAGE_SIZE,
            _ => 0xffff_ffff_c000_0000 + i * PAGE_SIZE,
        };
        for (map, page, n, phys) in ops {
            let virt = virt_of(page);
            if map {
                let pages: Vec<u64> = (0..n).map(|k| virt + k * PAGE_SIZE).collect();
                let free = pages.iter().all(|p| !model.contains_key(p));
                let r = pt.map(virt, phys * PAGE_SIZE, n * PAGE_SIZE, Flags::RW, PageSize::Size4K, &mut frames);
                prop_assert_eq!(r.is_ok(), free);
                if free {
                    for (k, p) in pages.iter().enumerate() {
                        model.insert(*p, (phys + k as u64) * PAGE_SIZE);
                    }
                }
            } else {
                let r = pt.unmap(virt);
                prop_assert_eq!(r.ok().map(|m| m.phys), model.remove(&virt));
            }
        }
        let mut seen = BTreeMap::new();
        pt.for_each_mapping(|m| { seen.insert(m.virt, m.phys); });
        prop_assert_eq!(seen, model);
    }
}

fn written_pages<F: PteFormat>(pt: &PageTable<F, &FakeMem>, virt: u64, len: u64) -> Vec<u64> {
    let mut v = Vec::new();
    pt.for_each_written(virt, len, |page, _| v.push(page));
    v
}

fn writes_are_tracked<F: PteFormat>() {
    let mem = FakeMem::new(64);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<F, _>::new(&mem, &mut frames).unwrap();
    // Four tracked pages that end one last-level table and start the next,
    // a read-only tracked page, and an untracked writable page.
    let virt = 0x4000_0000 - 2 * PAGE_SIZE;
    let tracked = Flags::RW | Flags::TRACK_WRITES;
    pt.map(
        virt,
        BASE + (32 << 12),
        4 * PAGE_SIZE,
        tracked,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    let ro = virt + 8 * PAGE_SIZE;
    pt.map(
        ro,
        BASE + (40 << 12),
        PAGE_SIZE,
        Flags::READ | Flags::TRACK_WRITES,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    let plain = virt + 9 * PAGE_SIZE;
    pt.map(
        plain,
        BASE + (41 << 12),
        PAGE_SIZE,
        Flags::RW,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();

    assert_eq!(
        written_pages(&pt, virt, 10 * PAGE_SIZE),
        [plain],
        "only the untracked page counts as written"
    );
    assert_eq!(
        pt.translate(virt).unwrap().flags,
        Flags::RW,
        "decoding does not report TRACK_WRITES"
    );

    assert_eq!(pt.mark_written(virt + 3 * PAGE_SIZE + 8), Marked::Now);
    assert_eq!(pt.mark_written(virt + 3 * PAGE_SIZE), Marked::Already);
    assert_eq!(pt.mark_written(virt + PAGE_SIZE), Marked::Now);
    assert_eq!(
        pt.mark_written(ro),
        Marked::No,
        "a read-only page is never written"
    );
    assert_eq!(
        pt.mark_written(virt + 5 * PAGE_SIZE),
        Marked::No,
        "nothing is mapped there"
    );
    assert_eq!(pt.mark_written(1 << 62), Marked::No, "non-canonical");
    assert_eq!(
        written_pages(&pt, virt, 10 * PAGE_SIZE),
        [virt + PAGE_SIZE, virt + 3 * PAGE_SIZE, plain]
    );
    // Only leaves starting inside the range; a bad range reports nothing.
    assert_eq!(
        written_pages(&pt, virt + 2 * PAGE_SIZE, 2 * PAGE_SIZE),
        [virt + 3 * PAGE_SIZE]
    );
    assert_eq!(written_pages(&pt, virt + 1, PAGE_SIZE), Vec::<u64>::new());
    // Marking changed nothing else about the mappings.
    for i in 0..4 {
        assert_eq!(
            pt.translate_addr(virt + i * PAGE_SIZE),
            Some(BASE + ((32 + i) << 12))
        );
    }
    // A new mapping in place of a written one starts unwritten again.
    pt.unmap(virt + PAGE_SIZE).unwrap();
    pt.map(
        virt + PAGE_SIZE,
        BASE + (42 << 12),
        PAGE_SIZE,
        tracked,
        PageSize::Size4K,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        written_pages(&pt, virt, 4 * PAGE_SIZE),
        [virt + 3 * PAGE_SIZE]
    );
}

#[test]
fn pages_mapped_to_track_writes_are_reported_once_marked_written_in_every_format() {
    writes_are_tracked::<Sv39>();
    writes_are_tracked::<Sv48>();
    writes_are_tracked::<Sv39XTheadMae>();
    writes_are_tracked::<X86Level4>();
}

#[test]
fn a_tracked_huge_page_is_reported_whole() {
    let mem = FakeMem::new(16);
    let mut frames = Frames::new(&mem);
    let mut pt = PageTable::<Sv48, _>::new(&mem, &mut frames).unwrap();
    let huge = PageSize::Size2M.bytes();
    pt.map(
        4 * huge,
        8 * huge,
        2 * huge,
        Flags::RW | Flags::TRACK_WRITES,
        PageSize::Size2M,
        &mut frames,
    )
    .unwrap();
    assert_eq!(pt.mark_written(5 * huge + 0x1234), Marked::Now);
    let mut seen = Vec::new();
    pt.for_each_written(4 * huge, 2 * huge, |page, size| seen.push((page, size)));
    assert_eq!(seen, [(5 * huge, PageSize::Size2M)]);
}
