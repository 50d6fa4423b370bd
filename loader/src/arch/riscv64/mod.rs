//! The riscv64 OpenSBI payload: entry, SBI calls, the `satp` probe and the
//! jump into the kernel on every hart.
//!
//! OpenSBI (fw_dynamic) enters `_start` in S-mode with paging off,
//! `a0` = hart id and `a1` = the device tree.

use crate::boot::{self, BootInput, Handoff};
use crate::platform::Range;
use crate::rng::Mixer;
use crate::{LoaderError, atoll_loader_kernel_mapped, devicetree, println};
use boot_info::{BootInfo, MAX_HARTS, PagingMode};
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU8, Ordering};
use page_table::{Flags, FrameAllocator, Identity, PageSize, PageTable, Sv48};

#[repr(C, align(4096))]
struct PageAligned<T>(T);

const KERNEL_BYTES: &[u8] = include_bytes!(env!("ATOLL_KERNEL_ELF"));

/// The kernel ELF, page-aligned in its own section (see loader.ld) so its
/// pages are handed to the kernel as `KernelElf` without a copy.
#[unsafe(link_section = ".kernel_elf")]
static KERNEL_ELF: PageAligned<[u8; KERNEL_BYTES.len()]> =
    PageAligned(*include_bytes!(env!("ATOLL_KERNEL_ELF")));

global_asm!(
    r#"
    .section .text.entry, "ax", @progbits
    .globl _start
    /* The RISC-V Linux `Image` header (Documentation/arch/riscv/boot-image-header.rst),
       64 bytes that U-Boot's `booti` checks before it moves the image to RAM base +
       text_offset and jumps to its first byte with a0 = hart id, a1 = FDT. */
_start:
    .option push
    .option norvc
    j 1f                    /* code0: jump over the header */
    .word 0                 /* code1 */
    .dword 0x200000         /* text_offset: 2 MiB past RAM base, above OpenSBI */
    .dword __image_size     /* image_size: file plus bss and boot stack */
    .dword 0                /* flags: little-endian */
    .word 2                 /* version 0.2 */
    .word 0                 /* res1 */
    .dword 0                /* res2 */
    .ascii "RISCV\0\0\0"    /* magic (deprecated) */
    .ascii "RSC\x05"         /* magic2 */
    .word 0                 /* res3: no PE header */
    .option pop
1:  rdtime s2
    mv s3, a0
    mv s4, a1
    csrw sie, zero
    csrci sstatus, 2
    /* Linked at 0: the runtime address of _start is the relocation base.
       Apply .rela.dyn (only R_RISCV_RELATIVE; `xtask` checks the ELF). */
    lla t0, _start
    lla t1, __rela_start
    lla t2, __rela_end
2:  bgeu t1, t2, 4f
    ld t3, 8(t1)
    li t4, 3
    bne t3, t4, 8f
    ld t3, 0(t1)
    ld t4, 16(t1)
    add t3, t3, t0
    add t4, t4, t0
    sd t4, 0(t3)
    addi t1, t1, 24
    j 2b
4:  lla t0, __bss_start
    lla t1, __bss_end
5:  bgeu t0, t1, 6f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 5b
6:  lla sp, __boot_stack_top
    mv fp, zero
    mv ra, zero
    mv a0, s3
    mv a1, s4
    mv a2, s2
    call {main}
7:  wfi
    j 7b
    /* A relocation other than RELATIVE: say so through the legacy SBI console. */
8:  lla s5, 9f
10: lbu a0, 0(s5)
    beqz a0, 7b
    li a7, 1
    ecall
    addi s5, s5, 1
    j 10b
9:  .asciz "loader: unsupported relocation type in .rela.dyn\r\n"

    .section .text
    .balign 4
    /* Secondary harts, started by SBI HSM with paging off: a0 = hart id, a1 = &HartLaunch. */
    .globl atoll_secondary_entry
atoll_secondary_entry:
    csrw sie, zero
    csrci sstatus, 2
    ld t0, 0(a1)
    ld sp, 8(a1)
    ld t1, 16(a1)
    ld a1, 24(a1)
    /* fall through */

    /* a0 = hart id, a1 = BootInfo (virt), t0 = satp, t1 = entry (virt), sp = stack top (virt).
       stvec points at the entry: should the kernel already have dropped the
       identity map, the fetch after the satp write faults straight into it. */
    .globl atoll_enter_kernel
atoll_enter_kernel:
    csrw stvec, t1
    sfence.vma
    csrw satp, t0
    sfence.vma
    mv fp, zero
    mv ra, zero
    jr t1
"#,
    main = sym loader_main,
);

unsafe extern "C" {
    static __loader_start: u8;
    static __loader_end: u8;
    fn atoll_secondary_entry();
    fn atoll_enter_kernel() -> !;
}

/// Read by `atoll_secondary_entry` with paging off.
#[repr(C)]
#[derive(Clone, Copy)]
struct HartLaunch {
    satp: u64,
    stack_top: u64,
    entry: u64,
    boot_info: u64,
}

static mut LAUNCH: [HartLaunch; MAX_HARTS] = [HartLaunch {
    satp: 0,
    stack_top: 0,
    entry: 0,
    boot_info: 0,
}; MAX_HARTS];

/// Tables for the Sv48 probe: root plus one table per lower level.
static mut PROBE_TABLES: PageAligned<[[u64; 512]; 4]> = PageAligned([[0; 512]; 4]);

// ---- console, time, shutdown ----

const CONSOLE_UNKNOWN: u8 = 0;
const CONSOLE_DBCN: u8 = 1;
const CONSOLE_LEGACY: u8 = 2;
static CONSOLE: AtomicU8 = AtomicU8::new(CONSOLE_UNKNOWN);

pub fn console_write(s: &str) {
    let mut how = CONSOLE.load(Ordering::Relaxed);
    if how == CONSOLE_UNKNOWN {
        how = if sbi_rt::probe_extension(sbi_rt::Console).is_available() {
            CONSOLE_DBCN
        } else {
            CONSOLE_LEGACY
        };
        CONSOLE.store(how, Ordering::Relaxed);
    }
    for b in s.bytes() {
        if how == CONSOLE_DBCN {
            let _ = sbi_rt::console_write_byte(b);
        } else {
            // Pre-DBCN firmware only has the legacy call.
            #[allow(deprecated)]
            sbi_rt::legacy::console_putchar(b as usize);
        }
    }
}

fn rdtime() -> u64 {
    let t: u64;
    // SAFETY: reading `time` has no side effects; OpenSBI delegates or emulates it.
    unsafe { asm!("rdtime {}", out(reg) t, options(nomem, nostack)) };
    t
}

fn shutdown() -> ! {
    let _ = sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::SystemFailure);
    // Firmware without SRST: the legacy call, which never returns.
    #[allow(deprecated)]
    sbi_rt::legacy::shutdown()
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("loader: panic: {info}");
    shutdown()
}

// ---- boot ----

extern "C" fn loader_main(hart_id: usize, fdt: usize, boot_ticks: u64) -> ! {
    match run(hart_id, fdt, boot_ticks) {
        Ok(never) => match never {},
        Err(e) => {
            println!("loader: error: {e}");
            println!("loader: shutting down");
            shutdown()
        }
    }
}

/// Timer jitter around a little memory traffic: weak entropy, but always there.
fn gather_jitter(m: &mut Mixer) {
    let mut prev = rdtime();
    let probe = &raw const KERNEL_ELF;
    let mut acc = 0u64;
    for i in 0..512u64 {
        for j in 0..(i % 13 + 1) * 8 {
            let at = ((acc ^ (i * 4099 + j * 64)) % KERNEL_BYTES.len().max(1) as u64) as usize;
            // SAFETY: `at` is within KERNEL_ELF.
            acc = acc.rotate_left(7) ^ unsafe { probe.cast::<u8>().add(at).read_volatile() } as u64;
        }
        let now = rdtime();
        m.absorb(now.wrapping_sub(prev) ^ (acc << 32));
        prev = now;
    }
}

/// Identity-maps the loader with Sv48 and sees whether `satp` takes the mode.
/// An unsupported mode leaves `satp` unchanged (it is WARL), so this is safe.
fn probe_sv48(loader: Range) -> bool {
    struct Probe(usize);
    impl FrameAllocator for Probe {
        fn allocate_frame(&mut self) -> Option<u64> {
            let tables = &raw mut PROBE_TABLES;
            let frame = (tables as u64) + 4096 * self.0 as u64;
            (self.0 < 4).then(|| {
                self.0 += 1;
                frame
            })
        }
    }
    let mut alloc = Probe(0);
    let Ok(mut pt) = PageTable::<Sv48, Identity>::new(Identity, &mut alloc) else {
        return false;
    };
    let rwx = Flags::RW | Flags::EXEC;
    if pt
        .map(
            loader.start,
            loader.start,
            loader.len(),
            rwx,
            PageSize::Size1G,
            &mut alloc,
        )
        .is_err()
    {
        return false;
    }
    let satp = (9u64 << 60) | (pt.root() >> 12);
    let read: u64;
    // SAFETY: the loader image, code and stack included, is identity-mapped
    // in the probe table, so execution continues unchanged while it is live;
    // satp is bare again before this returns.
    unsafe {
        asm!(
            "sfence.vma",
            "csrw satp, {satp}",
            "sfence.vma",
            "csrr {read}, satp",
            "csrw satp, zero",
            "sfence.vma",
            satp = in(reg) satp,
            read = out(reg) read,
            options(nostack),
        );
    }
    read >> 60 == 9
}

/// T-Head's JEDEC vendor id, as `mvendorid` reports it.
const THEAD_MVENDORID: usize = 0x5b7;
/// `th.sxstatus`, T-Head's supervisor view of `mxstatus`.
const CSR_TH_SXSTATUS: usize = 0x5c0;
/// `mxstatus.MAEE`: page-table entries carry memory attributes (bits 59-63).
const TH_SXSTATUS_MAEE: usize = 1 << 21;

/// What T-Head's page attributes need here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TheadMae {
    /// Not a T-Head hart.
    NotThead,
    /// A T-Head hart with MAEE off: standard entries.
    Off,
    /// A T-Head C9xx with MAEE on: every leaf carries XTheadMae attributes.
    On,
}

/// Whether this hart is a T-Head C9xx whose firmware turned on MAEE, so
/// every leaf entry must carry XTheadMae attributes. `mvendorid` (through
/// SBI) says T-Head before `th.sxstatus` is read: on any other hart that CSR
/// does not exist. QEMU's `thead-c906` model reports MAEE off (it does not
/// implement the attributes), and gets standard entries.
fn thead_mae() -> TheadMae {
    if sbi_rt::get_mvendorid() != THEAD_MVENDORID {
        return TheadMae::NotThead;
    }
    let sxstatus: usize;
    // SAFETY: T-Head C9xx harts implement `th.sxstatus` for S-mode reads;
    // reading it has no side effects.
    unsafe { asm!("csrr {0}, {csr}", out(reg) sxstatus, csr = const CSR_TH_SXSTATUS) };
    if sxstatus & TH_SXSTATUS_MAEE != 0 {
        TheadMae::On
    } else {
        TheadMae::Off
    }
}

/// Boot hart plus every FDT hart that HSM reports stopped (startable).
fn startable_harts(boot_hart: usize, fdt_harts: u64) -> u64 {
    let mut harts = 1u64 << boot_hart;
    if !sbi_rt::probe_extension(sbi_rt::Hsm).is_available() {
        println!("loader: no SBI HSM extension: booting hart {boot_hart} only");
        return harts;
    }
    for hart in (0..MAX_HARTS).filter(|&h| h != boot_hart && fdt_harts & (1 << h) != 0) {
        let status = sbi_rt::hart_get_status(hart);
        if status.error == 0 && status.value == 1 {
            harts |= 1 << hart;
        } else {
            println!(
                "loader: hart {hart} is not startable (status {}, error {:#x})",
                status.value, status.error
            );
        }
    }
    harts
}

fn run(
    hart_id: usize,
    fdt: usize,
    boot_ticks: u64,
) -> Result<core::convert::Infallible, LoaderError> {
    println!("loader: atoll riscv64 loader on hart {hart_id}");
    if hart_id >= MAX_HARTS {
        return Err(LoaderError::Unsupported("boot hart id of 64 or more"));
    }
    if fdt == 0 || !fdt.is_multiple_of(8) {
        return Err(LoaderError::NoFdt);
    }
    // SAFETY: OpenSBI passes a valid device tree pointer in a1.
    let size =
        unsafe { devicetree::blob_size(fdt as *const u8) }.ok_or(LoaderError::Fdt("bad magic"))?;
    // SAFETY: the header says the blob is `size` bytes; the loader never writes it.
    let blob = unsafe { core::slice::from_raw_parts(fdt as *const u8, size) };
    let platform = devicetree::parse(blob)?;

    let loader_image = Range::new(
        &raw const __loader_start as u64,
        &raw const __loader_end as u64,
    );
    // T-Head C9xx harts are Sv39 only; their entries need the attributes
    // from the start (the Sv48 probe's would lack them).
    let thead = thead_mae();
    match thead {
        TheadMae::On => {
            println!("loader: T-Head harts with MAEE on: XTheadMae attributes in every leaf")
        }
        TheadMae::Off => println!("loader: T-Head harts with MAEE off: standard page tables"),
        TheadMae::NotThead => {}
    }
    let paging = if thead == TheadMae::On {
        PagingMode::Sv39XTheadMae
    } else if probe_sv48(loader_image) {
        PagingMode::Sv48
    } else {
        PagingMode::Sv39
    };
    if platform.skipped_harts != 0 {
        println!(
            "loader: harts {:#x} stay off (disabled, or no MMU: monitor cores)",
            platform.skipped_harts
        );
    }
    let harts = startable_harts(hart_id, platform.harts);

    let mut entropy = Mixer::new(u64::from_le_bytes(*b"atollrv\0"));
    entropy.absorb(boot_ticks);
    entropy.absorb(hart_id as u64);
    entropy.absorb(fdt as u64);
    gather_jitter(&mut entropy);

    let has_seed = platform.rng_seed.is_some();
    let handoff = boot::prepare(BootInput {
        platform,
        boot_hart: hart_id as u32,
        harts,
        boot_ticks,
        entropy,
        loader_image,
        kernel_elf: &KERNEL_ELF.0,
        machine: kernel_elf::Machine::Riscv64,
        paging,
    })?;

    // SAFETY: `prepare` filled this BootInfo and nothing writes it until the kernel runs.
    let bi = unsafe { &*(handoff.boot_info_phys as *const BootInfo) };
    println!(
        "loader: {paging:?}, harts {:#x}, {} MiB RAM, entropy from {}",
        harts,
        bi.memory_regions().iter().map(|r| r.len).sum::<u64>() >> 20,
        if has_seed {
            "rng-seed and timer jitter"
        } else {
            "timer jitter only"
        }
    );
    for r in bi.memory_regions() {
        println!(
            "loader:   {:#012x}..{:#012x} {:?}",
            r.start,
            r.end(),
            r.kind
        );
    }
    println!(
        "loader: kernel at {:#x} slide {:#x}",
        handoff.virt_base, handoff.slide
    );
    atoll_loader_kernel_mapped(handoff.slide, handoff.entry);
    enter(hart_id, &handoff)
}

/// Starts the other harts, then enters the kernel on this one.
fn enter(hart_id: usize, h: &Handoff) -> ! {
    let satp = (h.paging.satp_mode() << 60) | (h.page_table_root >> 12);
    let launch = &raw mut LAUNCH;
    for hart in (0..MAX_HARTS).filter(|&x| x != hart_id && h.hart_mask & (1 << x) != 0) {
        let record = HartLaunch {
            satp,
            stack_top: h.stack_top[hart],
            entry: h.entry,
            boot_info: h.boot_info_virt,
        };
        // SAFETY: only the boot hart writes LAUNCH, each slot before its hart starts.
        let slot = unsafe { (&raw mut (*launch)[hart]).as_mut_unchecked() };
        *slot = record;
        // Page tables, BootInfo and the launch record reach memory before the hart runs.
        // SAFETY: a plain fence.
        unsafe { asm!("fence rw, rw", options(nostack)) };
        let ret = sbi_rt::hart_start(
            hart,
            atoll_secondary_entry as *const () as usize,
            slot as *const HartLaunch as usize,
        );
        if ret.error != 0 {
            println!(
                "loader: failed to start hart {hart}: SBI error {:#x}; it stays out of hart_mask",
                ret.error
            );
            let bi = h.boot_info_phys as *mut BootInfo;
            // SAFETY: still in the loader's identity view; the kernel has not run on the boot hart yet.
            unsafe { (&raw mut (*bi).hart_mask).write_volatile(h.hart_mask & !(1 << hart)) };
        }
    }
    // SAFETY: `atoll_enter_kernel` takes its inputs in these registers and
    // never returns; the tables map the loader image, so it keeps running
    // until the jump.
    unsafe {
        asm!(
            "mv sp, {sp}",
            "j {enter}",
            sp = in(reg) h.stack_top[hart_id],
            enter = sym atoll_enter_kernel,
            in("a0") hart_id,
            in("a1") h.boot_info_virt,
            in("t0") satp,
            in("t1") h.entry,
            options(noreturn),
        )
    }
}
