//! Per-CPU GDT and TSS. The TSS carries the interrupt stack table: double
//! faults and NMIs get stacks of their own, and page faults run on the
//! hart's trap stack so a kernel stack overflow into its guard page is still
//! reported (see `trap` for how nested page faults share that stack).

use core::arch::asm;

use boot_info::MAX_HARTS;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
const TSS_SEL: u16 = 0x18;

/// IST indices (1-based, as in IDT entries).
pub const IST_DOUBLE_FAULT: u8 = 1;
pub const IST_NMI: u8 = 2;
pub const IST_PAGE_FAULT: u8 = 3;

const IST_STACK_SIZE: usize = 8 * 1024;

/// The 64-bit task state segment.
#[repr(C, packed(4))]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

const _: () = assert!(core::mem::size_of::<Tss>() == 104);

#[repr(C, align(16))]
struct Cpu {
    gdt: [u64; 5],
    tss: Tss,
}

#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_SIZE]);

static mut CPUS: [Cpu; MAX_HARTS] = [const {
    Cpu {
        gdt: [0; 5],
        tss: Tss {
            _reserved0: 0,
            rsp: [0; 3],
            _reserved1: 0,
            ist: [0; 7],
            _reserved2: 0,
            _reserved3: 0,
            iomap_base: 104,
        },
    }
}; MAX_HARTS];
static mut DF_STACKS: [IstStack; MAX_HARTS] = [const { IstStack([0; IST_STACK_SIZE]) }; MAX_HARTS];
static mut NMI_STACKS: [IstStack; MAX_HARTS] = [const { IstStack([0; IST_STACK_SIZE]) }; MAX_HARTS];

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Loads CPU `id`'s GDT and TSS with `pf_stack_top` as the page-fault IST
/// stack; returns the address of that IST slot (the trap entry moves it
/// while a page fault is handled).
///
/// # Safety
/// Called once per CPU, with interrupts off, `id` this CPU's unique id.
pub unsafe fn init_this_cpu(id: usize, pf_stack_top: u64) -> *mut u64 {
    let cpus = &raw mut CPUS;
    // SAFETY: only CPU `id` touches its entries, once, before loading them.
    let cpu = unsafe { &mut (*cpus)[id] };
    // SAFETY: only the addresses of this CPU's own stacks are taken.
    let (df, nmi) = unsafe { (&raw mut DF_STACKS[id], &raw mut NMI_STACKS[id]) };
    cpu.tss.ist[usize::from(IST_DOUBLE_FAULT) - 1] = df as u64 + IST_STACK_SIZE as u64;
    cpu.tss.ist[usize::from(IST_NMI) - 1] = nmi as u64 + IST_STACK_SIZE as u64;
    cpu.tss.ist[usize::from(IST_PAGE_FAULT) - 1] = pf_stack_top;

    let tss = &raw const cpu.tss as u64;
    let limit = core::mem::size_of::<Tss>() as u64 - 1;
    cpu.gdt = [
        0,
        0x00af_9a00_0000_ffff, // 64-bit code, DPL 0
        0x00cf_9200_0000_ffff, // data, DPL 0
        (limit & 0xffff)
            | ((tss & 0xff_ffff) << 16)
            | (0x89 << 40) // present, available 64-bit TSS
            | ((limit >> 16) & 0xf) << 48
            | ((tss >> 24) & 0xff) << 56,
        tss >> 32,
    ];
    let ptr = Pointer {
        limit: (core::mem::size_of_val(&cpu.gdt) - 1) as u16,
        base: cpu.gdt.as_ptr() as u64,
    };
    // SAFETY: the GDT lives forever and describes flat 64-bit kernel
    // segments; CS is reloaded with a far return, the data segments and the
    // TSS with their selectors. FS/GS become null (GS base is set after).
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {t}, [rip + 2f]",
            "push {t}",
            "retfq",
            "2:",
            "mov {t:e}, {ds}",
            "mov ds, {t:e}",
            "mov es, {t:e}",
            "mov ss, {t:e}",
            "xor {t:e}, {t:e}",
            "mov fs, {t:e}",
            "mov gs, {t:e}",
            "mov {t:e}, {tss}",
            "ltr {t:x}",
            ptr = in(reg) &ptr,
            cs = const KERNEL_CS as u64,
            ds = const KERNEL_DS as u32,
            tss = const TSS_SEL as u32,
            t = out(reg) _,
        );
    }
    &raw mut cpu.tss.ist[usize::from(IST_PAGE_FAULT) - 1]
}
