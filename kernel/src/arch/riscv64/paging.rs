//! Zeroing pages, with Zicboz's `cbo.zero` where every hart has it (the
//! kernel's page table is the shared `arch::table`).

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Bytes one `cbo.zero` clears, once it is known to work on every hart; 0
/// until then, and pages are zeroed with stores.
static CBOZ_BLOCK: AtomicUsize = AtomicUsize::new(0);

/// Zeroes `bytes` at `p`; both are multiples of 64 (pages, in practice).
/// `cbo.zero` clears a whole cache block per instruction, 64 bytes on QEMU,
/// where stores take eight (a 64 KiB memory: about 2,180 instructions instead
/// of 11,000).
///
/// # Safety
/// `p..p + bytes` must be writable and not aliased by references.
pub unsafe fn zero_pages(p: *mut u8, bytes: usize) {
    let block = CBOZ_BLOCK.load(Ordering::Relaxed);
    if block != 0 && (p as usize).is_multiple_of(block) && bytes.is_multiple_of(block) {
        if bytes > 0 {
            let end = p as usize + bytes;
            // Eight blocks per iteration while eight remain, then one by one.
            let end8 = end - bytes % (8 * block);
            // SAFETY: `cbo.zero` (`.insn` encoding: MISC-MEM, funct3 2,
            // imm 4) zeroes the block at the address, which the loops keep
            // inside the caller's range; it works on every hart (`init_zeroing`).
            unsafe {
                asm!(
                    "bgeu {p}, {end8}, 3f",
                    "2:",
                    ".insn i 0x0f, 2, x0, {p}, 4",
                    "add {t}, {p}, {block}",
                    ".rept 6",
                    ".insn i 0x0f, 2, x0, {t}, 4",
                    "add {t}, {t}, {block}",
                    ".endr",
                    ".insn i 0x0f, 2, x0, {t}, 4",
                    "add {p}, {t}, {block}",
                    "bltu {p}, {end8}, 2b",
                    "3:",
                    "bgeu {p}, {end}, 5f",
                    "4:",
                    ".insn i 0x0f, 2, x0, {p}, 4",
                    "add {p}, {p}, {block}",
                    "bltu {p}, {end}, 4b",
                    "5:",
                    p = inout(reg) p => _,
                    t = out(reg) _,
                    block = in(reg) block,
                    end8 = in(reg) end8,
                    end = in(reg) end,
                    options(nostack),
                )
            };
        }
        return;
    }
    let p = p as *mut u64;
    let words = bytes / 8;
    let mut i = 0;
    while i + 8 <= words {
        // SAFETY: inside the range (the caller's contract). Volatile keeps
        // the compiler from turning the loop back into a `memset` call,
        // which stores one word per iteration (three instructions for eight
        // bytes instead of about 1.4).
        unsafe {
            for k in 0..8 {
                p.add(i + k).write_volatile(0);
            }
        }
        i += 8;
    }
    while i < words {
        // SAFETY: as above.
        unsafe { p.add(i).write_volatile(0) };
        i += 1;
    }
}

/// Switches [`zero_pages`] to `cbo.zero` if the device tree says every hart
/// has Zicboz with one block size and it works on this hart (the firmware
/// must have enabled it for S-mode, `menvcfg.CBZE`, or it is an illegal
/// instruction). Needs trap recovery and the frame allocator.
pub fn init_zeroing() {
    let Some(block) = zicboz_block_size() else {
        return;
    };
    if !(64..=2048).contains(&block) || !block.is_power_of_two() {
        return;
    }
    let Some(frame) = crate::mem::frames::alloc_zeroed() else {
        return;
    };
    let page = crate::mem::phys_to_virt(frame) as *mut u8;
    // SAFETY: the frame is ours and mapped at phys_offset.
    unsafe { core::ptr::write_bytes(page, 0xff, 4096) };
    let at = page as usize + block;
    let ran = crate::recover::catch(|| {
        // SAFETY: zeroes one block of our frame (or faults as an illegal
        // instruction, which `catch` turns into an error).
        unsafe { asm!(".insn i 0x0f, 2, x0, {0}, 4", in(reg) at, options(nostack)) };
    });
    // SAFETY: as above; `catch` returned, so nothing writes the frame any more.
    let bytes = unsafe { core::slice::from_raw_parts(page, 4096) };
    let exact = bytes.iter().enumerate().all(|(i, &b)| {
        b == if (block..2 * block).contains(&i) {
            0
        } else {
            0xff
        }
    });
    let _ = crate::mem::frames::free(frame, 1);
    if ran.is_ok() && exact {
        CBOZ_BLOCK.store(block, Ordering::Relaxed);
    }
}

/// The Zicboz block size, if every cpu in the device tree has Zicboz and
/// they agree on it.
fn zicboz_block_size() -> Option<usize> {
    let fdt = crate::arch::machine::fdt()?;
    let mut size = None;
    for cpu in crate::arch::machine::running_cpus(&fdt) {
        let has = crate::arch::machine::cpu_has_extension(&cpu, "zicboz");
        let block = cpu.property("riscv,cboz-block-size")?.as_usize()?;
        if !has || size.is_some_and(|s| s != block) {
            return None;
        }
        size = Some(block);
    }
    size
}
