//! The machine side of the engine's platform (see `engine.rs` for the
//! trait impl): Wasm virtual space in the lower half, committing zeroed
//! pages, and W^X code publishing with TLB (and, per arch, instruction
//! cache) maintenance on every hart.
//!
//! Lower-half layout (from `LOWER_HALF_BASE`): first [`CODE_REGION_SIZE`]
//! for small reservations (compiled code, trampolines, explicitly checked
//! memories), each followed by an unmapped guard page; then the rest for
//! big ones (4 GiB + guard per linear memory in guard mode). Reserved but
//! uncommitted pages are never mapped: nothing is demand-paged, so any
//! access to them faults and becomes a Wasm trap.
//!
//! Linear memories ([`reserve_memory`], [`release_memory`]) are recycled:
//! a released one with little committed is zeroed where it was written
//! (pages are mapped clean; the MMU marks the ones stored to) and kept, mapped, for the
//! next memory of its size, which then costs neither frames, page-table
//! work nor a TLB shootdown (an IPI round to every hart). A kept memory
//! stays in the reservation map, and the kept ones are listed in a fixed
//! array, so keeping and reusing one allocates nothing. Bigger commits
//! use 2 MiB pages where they can.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use boot_info::PagingMode;
use boot_info::layout::LOWER_HALF_BASE;

use super::space::RangeAllocator;
use crate::mem::PAGE_SIZE;
use crate::mem::vm::{self, Flags};

/// Bytes of the lower half set aside for small reservations (code).
pub const CODE_REGION_SIZE: u64 = 16 << 30;
/// Reservations at least this big go to the memory region.
const BIG_RESERVATION: u64 = 1 << 30;
/// Alignment of big reservations (a 2 MiB boundary keeps page tables tidy).
const BIG_ALIGN: u64 = 2 << 20;

/// One reservation: its size (without the trailing guard page of small
/// ones) and the committed extents `(start, len)`, sorted and disjoint.
struct Reservation {
    len: u64,
    committed: Vec<(u64, u64)>,
    code: bool,
}

/// A released linear memory kept for reuse: `[base, base + committed)` is
/// mapped and zero, the rest of its `len` bytes is not mapped. Its
/// reservation stays in the map.
#[derive(Clone, Copy)]
struct Kept {
    base: u64,
    len: u64,
    committed: u64,
}

/// At most this many memories are kept...
const KEPT_MAX: usize = 8;
/// ...each with at most this much committed (its frames stay allocated).
const KEPT_COMMITTED_MAX: u64 = 256 << 10;

struct Space {
    small: RangeAllocator,
    big: RangeAllocator,
    reservations: BTreeMap<u64, Reservation>,
    kept: KeptList,
    ready: bool,
}

/// The kept memories: a fixed array, so that keeping one and taking it back
/// allocate nothing.
struct KeptList {
    slots: [Kept; KEPT_MAX],
    len: usize,
}

impl KeptList {
    const fn new() -> Self {
        const NONE: Kept = Kept {
            base: 0,
            len: 0,
            committed: 0,
        };
        Self {
            slots: [NONE; KEPT_MAX],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[Kept] {
        &self.slots[..self.len]
    }

    fn is_full(&self) -> bool {
        self.len == KEPT_MAX
    }

    fn contains(&self, base: u64) -> bool {
        self.as_slice().iter().any(|k| k.base == base)
    }

    /// Adds `k` if there is room; returns whether there was.
    fn push(&mut self, k: Kept) -> bool {
        if self.is_full() {
            return false;
        }
        self.slots[self.len] = k;
        self.len += 1;
        true
    }

    /// Takes the one at `i` out (the last one takes its place).
    fn swap_remove(&mut self, i: usize) -> Kept {
        let k = self.slots[i];
        self.len -= 1;
        self.slots[i] = self.slots[self.len];
        k
    }

    /// Takes the last one out.
    fn pop(&mut self) -> Option<Kept> {
        let last = self.len.checked_sub(1)?;
        Some(self.swap_remove(last))
    }
}

static SPACE: spin::Mutex<Space> = spin::Mutex::new(Space {
    small: RangeAllocator::empty(),
    big: RangeAllocator::empty(),
    reservations: BTreeMap::new(),
    kept: KeptList::new(),
    ready: false,
});

#[cfg(any(feature = "ktest", feature = "bench"))]
/// Usage of the Wasm virtual space, for leak checks and the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceStats {
    pub reservations: usize,
    pub reserved_bytes: u64,
    pub committed_bytes: u64,
    pub code_bytes: u64,
    pub free_bytes: u64,
    pub fragments: usize,
    /// Released memories kept for reuse, and their (zeroed) committed bytes.
    pub kept: usize,
    pub kept_bytes: u64,
}

/// The end of the lower half in the paging mode the loader chose.
fn lower_half_end(mode: PagingMode) -> u64 {
    match mode {
        PagingMode::Sv39 | PagingMode::Sv39XTheadMae => 1 << 38,
        // Sv57 could go further; 47 bits are plenty.
        PagingMode::Sv48 | PagingMode::Sv57 | PagingMode::X86Level4 => 1 << 47,
    }
}

/// Sets up the regions (once, at boot).
pub fn init() {
    let mut s = SPACE.lock();
    if s.ready {
        return;
    }
    let end = lower_half_end(crate::boot_info().paging);
    let code_end = LOWER_HALF_BASE + CODE_REGION_SIZE;
    s.small.reset(LOWER_HALF_BASE, code_end);
    s.big.reset(code_end, end);
    s.ready = true;
    drop(s);
    // Zeroing is what committing and reusing memories mostly costs.
    crate::arch::paging::init_zeroing();
}

#[cfg(any(feature = "ktest", feature = "bench"))]
pub fn stats() -> SpaceStats {
    let s = SPACE.lock();
    let mut st = SpaceStats {
        reservations: 0,
        reserved_bytes: 0,
        committed_bytes: 0,
        code_bytes: 0,
        free_bytes: s.small.free_bytes() + s.big.free_bytes(),
        fragments: s.small.fragments() + s.big.fragments(),
        kept: s.kept.len,
        kept_bytes: s.kept.as_slice().iter().map(|k| k.committed).sum(),
    };
    // Kept memories are the platform's, not reservations of any user.
    for (_, r) in s.reservations.iter().filter(|(b, _)| !s.kept.contains(**b)) {
        st.reservations += 1;
        st.reserved_bytes += r.len;
        let c: u64 = r.committed.iter().map(|e| e.1).sum();
        st.committed_bytes += c;
        if r.code {
            st.code_bytes += c;
        }
    }
    st
}

#[cfg(feature = "ktest")]
/// Whether `addr` lies in the Wasm part of the address space.
pub fn is_wasm_addr(addr: u64) -> bool {
    let s = SPACE.lock();
    s.small.contains(addr) || s.big.contains(addr)
}

/// Why a platform operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceError {
    NotInitialized,
    /// No free range of this many bytes.
    OutOfVirtualSpace(u64),
    OutOfMemory,
    /// The range is not inside one reservation.
    NotReserved(u64, u64),
    /// Code to publish is not page-aligned or not committed.
    BadCode(u64),
    Map(vm::VmError),
}

impl fmt::Display for SpaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotInitialized => write!(f, "Wasm address space not initialized"),
            Self::OutOfVirtualSpace(n) => {
                write!(f, "out of Wasm address space reserving {n:#x} bytes")
            }
            Self::OutOfMemory => write!(f, "out of memory committing Wasm pages"),
            Self::NotReserved(a, l) => write!(f, "{a:#x}+{l:#x} is not inside a Wasm reservation"),
            Self::BadCode(a) => write!(f, "code at {a:#x} is not page-aligned and committed"),
            Self::Map(e) => write!(f, "mapping Wasm pages: {e}"),
        }
    }
}

/// Finds the reservation holding `[addr, addr + len)`.
fn find(s: &mut Space, addr: u64, len: u64) -> Result<(u64, &mut Reservation), SpaceError> {
    let (&start, r) = s
        .reservations
        .range_mut(..=addr)
        .next_back()
        .ok_or(SpaceError::NotReserved(addr, len))?;
    let end = addr.saturating_add(len);
    if end > start + r.len {
        return Err(SpaceError::NotReserved(addr, len));
    }
    Ok((start, r))
}

/// The parts of `[addr, addr + len)` not yet in `committed`.
fn gaps(committed: &[(u64, u64)], addr: u64, len: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut cur = addr;
    let end = addr + len;
    for &(s, l) in committed {
        if s + l <= cur {
            continue;
        }
        if s >= end {
            break;
        }
        if s > cur {
            out.push((cur, s - cur));
        }
        cur = cur.max(s + l);
    }
    if cur < end {
        out.push((cur, end - cur));
    }
    out
}

/// Adds `(addr, len)` to a sorted extent list, merging neighbours.
fn insert_extent(list: &mut Vec<(u64, u64)>, addr: u64, len: u64) {
    let i = list.partition_point(|&(s, _)| s < addr);
    list.insert(i, (addr, len));
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(list.len());
    for &(s, l) in list.iter() {
        match merged.last_mut() {
            Some((ms, ml)) if *ms + *ml >= s => *ml = (*ml).max(s + l - *ms),
            _ => merged.push((s, l)),
        }
    }
    *list = merged;
}

/// Reserves `size` bytes of Wasm address space; nothing is mapped.
pub fn reserve(size: usize) -> Result<u64, SpaceError> {
    let len = (size as u64).max(1).next_multiple_of(PAGE_SIZE);
    let mut s = SPACE.lock();
    if !s.ready {
        return Err(SpaceError::NotInitialized);
    }
    let base = if len >= BIG_RESERVATION {
        s.big.alloc(len, BIG_ALIGN)
    } else {
        // One unmapped guard page after each small reservation.
        s.small.alloc(len + PAGE_SIZE, PAGE_SIZE)
    }
    .ok_or(SpaceError::OutOfVirtualSpace(len))?;
    s.reservations.insert(
        base,
        Reservation {
            len,
            committed: Vec::new(),
            code: false,
        },
    );
    Ok(base)
}

/// Maps zeroed RW frames at the pages of `[addr, addr + len)` not mapped
/// yet (all or nothing); the range must lie in one reservation. Out of
/// memory, it gives the kept memories' frames back and tries again.
pub fn commit(addr: u64, len: u64) -> Result<(), SpaceError> {
    match commit_once(addr, len) {
        Err(SpaceError::OutOfMemory) if drain_kept() > 0 => commit_once(addr, len),
        r => r,
    }
}

fn commit_once(addr: u64, len: u64) -> Result<(), SpaceError> {
    let start = addr & !(PAGE_SIZE - 1);
    let len = (addr + len).next_multiple_of(PAGE_SIZE) - start;
    if len == 0 {
        return Ok(());
    }
    let mut s = SPACE.lock();
    let (base, r) = find(&mut s, start, len)?;
    // Memories (big reservations) take huge pages; code does not, as it
    // is re-protected in ranges that need not cover whole huge pages.
    let huge = r.len >= BIG_RESERVATION && base.is_multiple_of(vm::HUGE_PAGE_SIZE);
    // Pages are mapped clean, so that a kept memory needs zeroing only
    // where it was written (`release_memory`).
    let flags = Flags::RW | Flags::TRACK_WRITES;
    let todo = gaps(&r.committed, start, len);
    for (i, &(a, l)) in todo.iter().enumerate() {
        if let Err(e) = vm::map_zeroed(a, l, flags, huge) {
            for &(a, l) in &todo[..i] {
                let _ = vm::unmap(a, l, true);
            }
            return Err(match e {
                vm::VmError::OutOfMemory => SpaceError::OutOfMemory,
                e => SpaceError::Map(e),
            });
        }
    }
    for (a, l) in todo {
        insert_extent(&mut r.committed, a, l);
    }
    Ok(())
}

/// Makes committed `[addr, addr + len)` read+execute (never writable and
/// executable at once) and visible to instruction fetch on every hart.
pub fn publish_code(addr: u64, len: u64) -> Result<(), SpaceError> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(SpaceError::BadCode(addr));
    }
    let len = len.max(1).next_multiple_of(PAGE_SIZE);
    let mut s = SPACE.lock();
    let (_, r) = find(&mut s, addr, len)?;
    if !gaps(&r.committed, addr, len).is_empty() {
        return Err(SpaceError::BadCode(addr));
    }
    // `protect` shoots the old (writable) translations down on every hart.
    vm::protect(addr, len, Flags::RX).map_err(SpaceError::Map)?;
    r.code = true;
    drop(s);
    crate::arch::wasm::sync_icache_all_harts();
    Ok(())
}

/// Unmaps a reservation's committed pages, frees their frames and returns
/// its address range for reuse.
pub fn release(addr: u64) -> Result<(), SpaceError> {
    let mut s = SPACE.lock();
    let r = s
        .reservations
        .remove(&addr)
        .ok_or(SpaceError::NotReserved(addr, 0))?;
    // Only committed extents are mapped: the cost is proportional to what
    // was used, not to the (huge) reservation.
    for &(a, l) in &r.committed {
        vm::unmap(a, l, true).map_err(SpaceError::Map)?;
    }
    if s.big.contains(addr) {
        s.big.free(addr, r.len);
    } else {
        s.small.free(addr, r.len + PAGE_SIZE);
    }
    Ok(())
}

/// Reserves `size` bytes for a linear memory of which the first `committed`
/// are mapped and zero: a kept memory of that size if there is one, else
/// [`reserve`] and [`commit`].
pub fn reserve_memory(size: usize, committed: u64) -> Result<u64, SpaceError> {
    let len = (size as u64).max(1).next_multiple_of(PAGE_SIZE);
    let committed = committed.next_multiple_of(PAGE_SIZE);
    if committed > len {
        return Err(SpaceError::NotReserved(0, committed));
    }
    let reused = {
        let mut s = SPACE.lock();
        // Prefer one committed as wanted: it needs no mapping change at all.
        let kept = s.kept.as_slice();
        let i = kept
            .iter()
            .rposition(|k| k.len == len && k.committed == committed)
            .or_else(|| kept.iter().rposition(|k| k.len == len));
        match i {
            // Its reservation (and committed extent) never left the map.
            Some(i) => Some(s.kept.swap_remove(i)),
            None => None,
        }
    };
    let Some(k) = reused else {
        let base = reserve(size)?;
        if let Err(e) = commit(base, committed) {
            let _ = release(base);
            return Err(e);
        }
        return Ok(base);
    };
    let adjusted = if k.committed < committed {
        commit(k.base + k.committed, committed - k.committed)
    } else if k.committed > committed {
        // Kept memories never hold huge pages (too little is committed),
        // so the cut cannot split one.
        decommit_tail(k.base, committed)
    } else {
        Ok(())
    };
    if let Err(e) = adjusted {
        let _ = release(k.base);
        return Err(e);
    }
    Ok(k.base)
}

/// Unmaps (and frees) what is committed of the reservation at `base` from
/// `base + keep` on; `[base, base + keep)` must be one committed extent.
fn decommit_tail(base: u64, keep: u64) -> Result<(), SpaceError> {
    let mut s = SPACE.lock();
    let (_, r) = find(&mut s, base, 0)?;
    let Some(&(start, len)) = r.committed.first() else {
        return Ok(());
    };
    if start != base || r.committed.len() != 1 || len < keep {
        return Err(SpaceError::NotReserved(base, keep));
    }
    vm::unmap(base + keep, len - keep, true).map_err(SpaceError::Map)?;
    r.committed = if keep > 0 {
        alloc::vec![(base, keep)]
    } else {
        Vec::new()
    };
    Ok(())
}

/// Returns a linear memory's reservation: kept for reuse (zeroed, still
/// mapped) if it has only a small prefix committed and there is room,
/// otherwise [`release`]d.
pub fn release_memory(base: u64) -> Result<(), SpaceError> {
    let k = {
        let s = SPACE.lock();
        let full = s.kept.is_full();
        if s.kept.contains(base) {
            return Err(SpaceError::NotReserved(base, 0));
        }
        let r = s
            .reservations
            .get(&base)
            .ok_or(SpaceError::NotReserved(base, 0))?;
        let prefix = match r.committed.as_slice() {
            [] => Some(0),
            &[(start, len)] if start == base => Some(len),
            _ => None,
        };
        match prefix {
            Some(committed)
                if !full
                    && !r.code
                    && r.len >= BIG_RESERVATION
                    && committed <= KEPT_COMMITTED_MAX =>
            {
                Kept {
                    base,
                    len: r.len,
                    committed,
                }
            }
            _ => {
                drop(s);
                return release(base);
            }
        }
    };
    // Zeroed outside the lock: the reservation is in no slot meanwhile, so
    // nobody takes it, and its previous owner no longer uses it (the
    // engine's contract).
    zero_written(base, k.committed);
    if SPACE.lock().kept.push(k) {
        return Ok(());
    }
    // Another hart filled the slots meanwhile: give it back for real.
    release(base)
}

/// Zeroes what was written of the committed extent `[base, base + len)`:
/// its pages were mapped zeroed and clean ([`Flags::TRACK_WRITES`]), and
/// the MMU (or the store fault fix-up) marks each on its first write, a
/// device's DMA marks it beforehand (`drivers::virtio::hal`). Pages never
/// written still hold their zeroes and cost nothing. Written pages stay
/// marked, so they are zeroed at every later release too: clearing the
/// mark would need every hart's TLB flushed of the page first.
fn zero_written(base: u64, len: u64) {
    // The written pages as a bit mask, found under the page-table lock and
    // zeroed after it (interrupts stay enabled meanwhile). Kept memories
    // fit in 64 pages; anything else (or a huge page) is zeroed whole.
    let pages = len / PAGE_SIZE;
    let mut mask = 0u64;
    let mut all = pages > 64;
    if !all {
        vm::for_each_written(base, len, |a, l| {
            if l == PAGE_SIZE {
                mask |= 1 << ((a - base) / PAGE_SIZE);
            } else {
                all = true;
            }
        });
    }
    if all {
        // SAFETY: `[base, base + len)` is mapped RW (one committed extent)
        // and owned by nobody else (the caller's contract).
        unsafe { crate::mem::frames::zero_pages(base, len) };
        return;
    }
    while mask != 0 {
        let first = u64::from(mask.trailing_zeros());
        let run = u64::from((mask >> first).trailing_ones());
        // SAFETY: pages of `[base, base + len)` (the mask has bits only for
        // them), as above.
        unsafe { crate::mem::frames::zero_pages(base + first * PAGE_SIZE, run * PAGE_SIZE) };
        mask = if first + run >= 64 {
            0
        } else {
            mask & !(((1 << run) - 1) << first)
        };
    }
}

/// Releases every kept memory (returning its frames), e.g. when memory is
/// short. Returns how many there were.
pub fn drain_kept() -> usize {
    let mut n = 0;
    loop {
        // One at a time: `release` takes the lock itself.
        let Some(k) = SPACE.lock().kept.pop() else {
            return n;
        };
        let _ = release(k.base);
        n += 1;
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use ktest::ktest;

    use super::*;
    use crate::arch::trap::{LOAD_PAGE_FAULT, STORE_PAGE_FAULT};
    use crate::mem::frames;
    use crate::recover::{self, Fault};

    /// A guard-mode memory reservation: 4 GiB + 2 GiB of guard.
    const SIZE: usize = 6 << 30;
    const WASM_PAGE: u64 = 65536;

    fn read(a: u64) -> u64 {
        // SAFETY: the caller expects `a` to be mapped, or `recover` to catch it.
        unsafe { (a as *const u64).read_volatile() }
    }

    fn write(a: u64, v: u64) {
        // SAFETY: as in `read`.
        unsafe { (a as *mut u64).write_volatile(v) }
    }

    fn faults(cause: usize, a: u64, f: impl FnOnce()) -> bool {
        matches!(recover::catch(f), Err(Fault::Trap { cause: c, stval, .. }) if c == cause && stval as u64 == a)
    }

    fn zero(a: u64, len: u64) -> bool {
        (a..a + len).step_by(8).all(|p| read(p) == 0)
    }

    fn fill(a: u64, len: u64) {
        (a..a + len).step_by(8).for_each(|p| write(p, p | 1));
    }

    ktest! {
        fn wasm_kept_memories_are_zeroed_and_fault_past_their_length() {
            drain_kept();
            // Warm up: the page tables for the range stay once built.
            let w = reserve_memory(SIZE, KEPT_COMMITTED_MAX + WASM_PAGE).unwrap();
            release_memory(w).unwrap();
            assert_eq!(stats().kept, 0, "too much committed to keep");
            let free0 = frames::stats().0;
            let a = reserve_memory(SIZE, 2 * WASM_PAGE).unwrap();
            fill(a, 2 * WASM_PAGE);
            assert!(faults(STORE_PAGE_FAULT, a + 2 * WASM_PAGE, || write(a + 2 * WASM_PAGE, 1)));
            release_memory(a).unwrap();
            assert_eq!((stats().kept, stats().kept_bytes), (1, 2 * WASM_PAGE));
            assert_eq!(frames::stats().0, free0 - 32, "a kept memory keeps its frames");

            // Shorter: same range, zeroed, the tail unmapped again.
            let b = reserve_memory(SIZE, WASM_PAGE).unwrap();
            assert_eq!(a, b, "the kept memory was not reused");
            assert!(zero(b, WASM_PAGE), "a reused memory is not zeroed");
            assert!(faults(LOAD_PAGE_FAULT, b + WASM_PAGE, || {
                read(b + WASM_PAGE);
            }));
            assert_eq!(frames::stats().0, free0 - 16);
            fill(b, WASM_PAGE);
            release_memory(b).unwrap();

            // Longer: the new pages are committed and zero too; past them, faults.
            let c = reserve_memory(SIZE, 3 * WASM_PAGE).unwrap();
            assert_eq!(a, c);
            assert!(zero(c, 3 * WASM_PAGE));
            assert!(faults(LOAD_PAGE_FAULT, c + 3 * WASM_PAGE, || {
                read(c + 3 * WASM_PAGE);
            }));
            release_memory(c).unwrap();

            // Too big to keep: released for real.
            let d = reserve_memory(SIZE, KEPT_COMMITTED_MAX + WASM_PAGE).unwrap();
            fill(d, KEPT_COMMITTED_MAX + WASM_PAGE);
            let kept = stats().kept;
            release_memory(d).unwrap();
            assert_eq!(stats().kept, kept);

            // Draining returns every frame and the address space.
            drain_kept();
            assert_eq!(stats().kept, 0);
            assert_eq!(frames::stats().0, free0, "kept memories leaked frames");
            assert!(faults(LOAD_PAGE_FAULT, a, || {
                read(a);
            }));
        }
    }

    /// The pages of `[a, a + len)` marked written, by index.
    fn written(a: u64, len: u64) -> Vec<u64> {
        let mut v = Vec::new();
        vm::for_each_written(a, len, |p, l| {
            assert_eq!(l, PAGE_SIZE, "a kept memory holds no huge pages");
            v.push((p - a) / PAGE_SIZE);
        });
        v
    }

    ktest! {
        fn kept_memories_are_zeroed_where_written_and_nowhere_else_needs_it() {
            drain_kept();
            let a = reserve_memory(SIZE, WASM_PAGE).unwrap();
            assert!(written(a, WASM_PAGE).is_empty(), "a fresh memory's pages are clean");
            let stores0 = vm::store_fixups();
            write(a + 3 * PAGE_SIZE + 8, 7);
            write(a + 9 * PAGE_SIZE, 9);
            write(a + 9 * PAGE_SIZE + 16, 9);
            // Harts that do not set dirty bits take one fault per page.
            let fixed = vm::store_fixups() - stores0;
            assert!(fixed == 0 || fixed == 2, "{fixed} store fix-ups for two pages");
            crate::println!("  ({fixed} store fix-ups: the harts {} dirty bits)", if fixed == 0 { "set" } else { "do not set" });
            let _ = read(a + 5 * PAGE_SIZE);
            assert_eq!(written(a, WASM_PAGE), [3, 9], "a load does not mark a page written");
            release_memory(a).unwrap();

            let b = reserve_memory(SIZE, WASM_PAGE).unwrap();
            assert_eq!(a, b, "the kept memory was not reused");
            assert!(zero(b, WASM_PAGE), "a written page of a reused memory is not zero");
            assert_eq!(written(b, WASM_PAGE), [3, 9], "written pages stay marked");
            write(b + 15 * PAGE_SIZE + 4088, 1);
            fill(b + 4 * PAGE_SIZE, 2 * PAGE_SIZE);
            release_memory(b).unwrap();
            let c = reserve_memory(SIZE, WASM_PAGE).unwrap();
            assert_eq!(a, c);
            assert!(zero(c, WASM_PAGE), "a reused memory is not zero");
            assert_eq!(written(c, WASM_PAGE), [3, 4, 5, 9, 15]);
            release_memory(c).unwrap();
            drain_kept();
        }
    }

    ktest! {
        fn a_store_fault_is_fixed_up_only_on_a_mapped_writable_page() {
            let a = reserve(SIZE).unwrap();
            commit(a, 2 * PAGE_SIZE).unwrap();
            let fixups = vm::store_fixups();
            assert!(vm::fix_up_store(a + 16), "a clean writable page");
            assert_eq!(written(a, 2 * PAGE_SIZE), [0]);
            assert_eq!(vm::fix_up_store(a + 32), !crate::arch::MMU_SETS_DIRTY_BITS, "a page already marked");
            assert!(!vm::fix_up_store(a + 2 * PAGE_SIZE), "nothing mapped there");
            assert!(!vm::fix_up_store(0), "nothing mapped there");
            assert!(!vm::fix_up_store(1 << 63), "not a canonical address");
            assert!(vm::store_fixups() > fixups);
            // A device's write marks the pages it covers.
            vm::mark_written(a + PAGE_SIZE + 100, 8);
            assert_eq!(written(a, 2 * PAGE_SIZE), [0, 1]);
            release(a).unwrap();
        }
    }

    ktest! {
        fn a_read_only_page_is_never_fixed_up() {
            let a = reserve(PAGE_SIZE as usize).unwrap();
            commit(a, PAGE_SIZE).unwrap();
            publish_code(a, PAGE_SIZE).unwrap();
            assert!(!vm::fix_up_store(a), "code is not writable");
            release(a).unwrap();
        }
    }

    ktest! {
        fn zeroing_pages_clears_exactly_the_range() {
            let f = frames::alloc_zeroed().unwrap();
            let page = crate::mem::phys_to_virt(f);
            for (start, len) in [(64u64, 128u64), (0, 4096), (1024, 2048), (192, 320), (128, 3904), (8, 56)] {
                (page..page + 4096).step_by(8).for_each(|p| write(p, u64::MAX));
                // SAFETY: inside our own frame.
                unsafe { frames::zero_pages(page + start, len) };
                for p in (page..page + 4096).step_by(8) {
                    let inside = (page + start..page + start + len).contains(&p);
                    assert_eq!(read(p), if inside { 0 } else { u64::MAX }, "{start}+{len} at {:#x}", p - page);
                }
            }
            frames::free(f, 1).unwrap();
        }
    }
}
