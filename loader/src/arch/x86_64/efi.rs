//! The x86_64 UEFI application (`BOOTX64.EFI`).
//!
//! It reads `\atoll\kernel` (and optionally `\atoll\initrd` and
//! `\atoll\cmdline`) from the partition it was loaded from, gathers what the
//! kernel needs from the firmware (memory map, ACPI RSDP and MADT, GOP
//! framebuffer, entropy, TSC frequency), lets [`boot::prepare`] load the
//! kernel and build its 4-level page tables, exits boot services, turns the
//! final UEFI memory map into the BootInfo's and enters the kernel on the BSP.
//!
//! Kernel entry state (the BSP only; the kernel starts the APs itself with
//! INIT-SIPI-SIPI, on the stacks in `BootInfo::hart_stack_top[apic_id]`):
//! - `extern "sysv64" fn(hart_id: usize /* APIC id */, boot_info: *const BootInfo) -> !`:
//!   `rdi` = the BSP's APIC id, `rsi` = the BootInfo's address in the phys map;
//! - 64-bit long mode, CR3 = `BootInfo::page_table_root` (4-level),
//!   EFER.NXE, CR0.WP and CR4.PGE set, interrupts off (IF = 0), DF = 0;
//! - `rsp` = `hart_stack_top[apic_id] - 8`, holding a zero return address (a
//!   call's view of the stack, as the SysV ABI expects), `rbp` = 0;
//! - the GDT, IDT and segment registers are still UEFI's, and the GDT is not
//!   mapped: the kernel loads its own GDT and IDT first, and must not take
//!   an exception before.
//! - the lower half still identity-maps the loader image (`MemoryKind::Loader`),
//!   for the CR3 switch; the kernel drops it.

use super::acpi::{self, PhysMem};
use super::firmware::{
    self, ATOLL_FRAMES, ATOLL_INITRD, ATOLL_KERNEL_ELF, Descriptor, load_options_cmdline,
};
use crate::boot::{self, BootInput, Handoff, STACK_SIZE};
use crate::platform::{Platform, Range};
use crate::rng::Mixer;
use crate::{LoaderError, atoll_loader_kernel_mapped, println};
use boot_info::layout::{PAGE_SIZE, PHYS_MAP_SIZE};
use boot_info::{BootInfo, CMDLINE_LEN, Framebuffer, MAX_HARTS, PagingMode, PixelFormat};
use core::arch::asm;
use core::arch::x86_64::{__cpuid, _rdtsc};
use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use kernel_elf::{KernelElf, Machine};
use uefi::boot::{self as uefi_boot, AllocateType, OpenProtocolAttributes, OpenProtocolParams};
use uefi::mem::memory_map::{MemoryMap, MemoryMapMut, MemoryType};
use uefi::proto::console::gop::{self, GraphicsOutput};
use uefi::proto::loaded_image::LoadedImage;
use uefi::proto::media::file::{Directory, File, FileAttribute, FileInfo, FileMode, RegularFile};
use uefi::proto::rng::Rng;
use uefi::runtime::ResetType;
use uefi::table::cfg::ConfigTableEntry;
use uefi::{CStr16, Status, cstr16};

/// Everything the kernel keeps must be reachable through its phys map.
const KEEP_BELOW: AllocateType = AllocateType::MaxAddress(PHYS_MAP_SIZE - 1);

/// Cleared once boot services are gone: the console moves to COM1.
static BOOT_SERVICES: AtomicBool = AtomicBool::new(true);
/// The calibrated TSC frequency, for delays after boot services.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

// ---- console, time, shutdown ----

pub fn console_write(s: &str) {
    if BOOT_SERVICES.load(Ordering::Relaxed) {
        uefi::system::with_stdout(|out| {
            let _ = out.write_str(s);
        });
    } else {
        for b in s.bytes() {
            if b == b'\n' {
                serial_write(b'\r');
            }
            serial_write(b);
        }
    }
}

const COM1: u16 = 0x3f8;

/// Writes one byte to COM1, which the firmware left initialized. Gives up
/// after a while rather than hang on a machine without a UART.
fn serial_write(b: u8) {
    for _ in 0..100_000 {
        // SAFETY: reading the 16550 line status register has no side effects.
        if unsafe { inb(COM1 + 5) } & 0x20 != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    // SAFETY: writing the transmit register of COM1 only sends the byte.
    unsafe { outb(COM1, b) };
}

/// # Safety
/// Reading `port` must have no side effects the caller does not expect.
unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: the caller vouches for the port.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

/// # Safety
/// Writing `v` to `port` must be harmless.
unsafe fn outb(port: u16, v: u8) {
    // SAFETY: the caller vouches for the port.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn rdtsc() -> u64 {
    // SAFETY: RDTSC is available on every x86_64 CPU and has no side effects.
    unsafe { _rdtsc() }
}

fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = __cpuid(leaf);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// The APIC id of the running CPU (the BSP).
fn apic_id() -> u32 {
    cpuid(1).1 >> 24
}

fn rdrand() -> Option<u64> {
    if cpuid(1).2 & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..10 {
        let (v, ok): (u64, u8);
        // SAFETY: CPUID says RDRAND exists; it only writes the output registers.
        unsafe {
            asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
        };
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// Waits `ms` milliseconds: UEFI's `Stall` while boot services run, the TSC after.
fn delay_ms(ms: u64) {
    if BOOT_SERVICES.load(Ordering::Relaxed) {
        uefi_boot::stall(Duration::from_millis(ms));
        return;
    }
    let hz = TSC_HZ.load(Ordering::Relaxed).max(1_000_000_000);
    let end = rdtsc().saturating_add(hz / 1000 * ms);
    while rdtsc() < end {
        core::hint::spin_loop();
    }
}

/// Leaves the message on screen for a moment, then powers off (falling back
/// to a reset). Runtime services work before and after ExitBootServices.
fn shutdown() -> ! {
    println!("loader: shutting down");
    delay_ms(3000);
    uefi::runtime::reset(ResetType::SHUTDOWN, Status::ABORTED, None)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("loader: panic: {info}");
    shutdown()
}

fn fw(what: &'static str) -> impl Fn(uefi::Error) -> LoaderError {
    move |e| LoaderError::Firmware {
        what,
        status: e.status().0,
    }
}

// ---- gathering ----

/// Physical memory through UEFI's identity map.
struct Identity;

impl PhysMem for Identity {
    fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        if addr == 0 || addr.checked_add(len as u64)? > 1 << 52 {
            return None;
        }
        // SAFETY: UEFI identity-maps all memory while boot services run, and
        // the firmware's ACPI tables stay put; the loader never writes them.
        Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
    }
}

fn find_rsdp() -> Option<u64> {
    uefi::system::with_config_table(|entries| {
        let by = |guid| {
            entries
                .iter()
                .find(|e| e.guid == guid)
                .map(|e| e.address as u64)
        };
        by(ConfigTableEntry::ACPI2_GUID).or_else(|| by(ConfigTableEntry::ACPI_GUID))
    })
}

/// The CPUs that enter the kernel: the enabled local APICs of the MADT
/// (ids below [`MAX_HARTS`]), the BSP always among them.
fn cpus(rsdp: Option<u64>, bsp: u32) -> u64 {
    let bsp_bit = 1u64 << bsp;
    let Some(rsdp) = rsdp else {
        println!("loader: no ACPI tables: booting the BSP only");
        return bsp_bit;
    };
    match acpi::find_table(&Identity, rsdp, b"APIC").and_then(|t| match t {
        Some(madt) => acpi::madt_cpus(madt),
        None => Err("no MADT"),
    }) {
        Ok(c) => {
            let usable = c.apic_ids.count_ones();
            if usable < c.enabled {
                println!(
                    "loader: {} CPUs have APIC ids of {MAX_HARTS} or more and stay parked",
                    c.enabled - usable
                );
            }
            c.apic_ids | bsp_bit
        }
        Err(e) => {
            println!("loader: ACPI: {e}: booting the BSP only");
            bsp_bit
        }
    }
}

fn framebuffer() -> Framebuffer {
    let Ok(handle) = uefi_boot::get_handle_for_protocol::<GraphicsOutput>() else {
        return Framebuffer::NONE;
    };
    let params = OpenProtocolParams {
        handle,
        agent: uefi_boot::image_handle(),
        controller: None,
    };
    // SAFETY: GetProtocol leaves the console driver that owns GOP undisturbed;
    // the loader only reads the current mode.
    let Ok(mut gop) = (unsafe {
        uefi_boot::open_protocol::<GraphicsOutput>(params, OpenProtocolAttributes::GetProtocol)
    }) else {
        return Framebuffer::NONE;
    };
    let info = gop.current_mode_info();
    let format = match info.pixel_format() {
        gop::PixelFormat::Rgb => PixelFormat::Rgb,
        gop::PixelFormat::Bgr => PixelFormat::Bgr,
        // Bitmask formats and BLT-only adapters: no linear framebuffer for the kernel.
        _ => return Framebuffer::NONE,
    };
    let (width, height) = info.resolution();
    let base = gop.frame_buffer().as_mut_ptr() as u64;
    Framebuffer {
        base,
        width: width as u32,
        height: height as u32,
        stride: info.stride() as u32,
        format,
    }
}

/// Firmware RNG, RDRAND and TSC jitter, whichever exist.
fn gather_entropy(m: &mut Mixer) -> (bool, bool) {
    let mut from_rng = false;
    if let Ok(handle) = uefi_boot::get_handle_for_protocol::<Rng>()
        && let Ok(mut rng) = uefi_boot::open_protocol_exclusive::<Rng>(handle)
    {
        let mut buf = [0u8; 32];
        if rng.get_rng(None, &mut buf).is_ok() {
            m.absorb_bytes(&buf);
            from_rng = true;
        }
    }
    let mut from_rdrand = false;
    for _ in 0..4 {
        if let Some(v) = rdrand() {
            m.absorb(v);
            from_rdrand = true;
        }
    }
    let mut prev = rdtsc();
    let mut acc = 0u64;
    for i in 0..512u64 {
        for j in 0..(i % 13 + 1) * 8 {
            acc = acc.rotate_left(7) ^ core::hint::black_box(i * 4099 + j);
        }
        let now = rdtsc();
        m.absorb(now.wrapping_sub(prev) ^ (acc << 32));
        prev = now;
    }
    (from_rng, from_rdrand)
}

/// The TSC frequency, measured against UEFI's `Stall` (50 ms).
fn calibrate_tsc() -> u64 {
    let t0 = rdtsc();
    uefi_boot::stall(Duration::from_millis(50));
    let hz = rdtsc().wrapping_sub(t0) * 20;
    // Round to 10 kHz: the measurement is not more precise than that.
    hz.div_ceil(10_000) * 10_000
}

/// Opens `path` on the ESP; `None` if it does not exist.
fn open_file(root: &mut Directory, path: &CStr16) -> Result<Option<RegularFile>, LoaderError> {
    match root.open(path, FileMode::Read, FileAttribute::empty()) {
        Ok(f) => f
            .into_regular_file()
            .map(Some)
            .ok_or(LoaderError::Unsupported("an ESP path names a directory")),
        Err(e) if e.status() == Status::NOT_FOUND => Ok(None),
        Err(e) => Err(fw("opening a file on the ESP")(e.to_err_without_payload())),
    }
}

fn file_size(f: &mut RegularFile) -> Result<u64, LoaderError> {
    #[repr(C, align(8))]
    struct InfoBuf([u8; 512]);
    let mut buf = InfoBuf([0; 512]);
    let info = f
        .get_info::<FileInfo>(&mut buf.0)
        .map_err(|e| fw("reading file info")(e.to_err_without_payload()))?;
    Ok(info.file_size())
}

/// Reads a whole file into fresh pages of memory type `ty`.
fn read_to_pages(f: &mut RegularFile, ty: u32) -> Result<&'static [u8], LoaderError> {
    let size = file_size(f)?;
    let pages = size.div_ceil(PAGE_SIZE).max(1);
    let mem = uefi_boot::allocate_pages(KEEP_BELOW, MemoryType::custom(ty), pages as usize)
        .map_err(|_| LoaderError::OutOfMemory {
            size: pages * PAGE_SIZE,
        })?;
    // SAFETY: freshly allocated pages, identity-mapped, owned by the loader
    // (and then the kernel) for the rest of the boot.
    let buf = unsafe { core::slice::from_raw_parts_mut(mem.as_ptr(), size as usize) };
    let mut done = 0;
    while done < buf.len() {
        let n = f.read(&mut buf[done..]).map_err(fw("reading a file"))?;
        if n == 0 {
            return Err(LoaderError::Unsupported("file shorter than its size"));
        }
        done += n;
    }
    Ok(buf)
}

/// The firmware's memory map, sorted, as plain descriptors.
fn descriptors(map: &impl MemoryMap) -> impl Iterator<Item = Descriptor> + '_ {
    map.entries().map(|d| Descriptor {
        ty: d.ty.0,
        start: d.phys_start,
        pages: d.page_count,
    })
}

// ---- boot ----

#[uefi::entry]
fn main() -> Status {
    let boot_ticks = rdtsc();
    match run(boot_ticks) {
        Ok(never) => match never {},
        Err(e) => {
            println!("loader: error: {e}");
            shutdown()
        }
    }
}

fn run(boot_ticks: u64) -> Result<core::convert::Infallible, LoaderError> {
    let bsp = apic_id();
    println!("loader: atoll x86_64 UEFI loader on APIC {bsp}");
    if bsp as usize >= MAX_HARTS {
        return Err(LoaderError::Unsupported("BSP APIC id of 64 or more"));
    }
    // SAFETY: reading CR4 has no side effects.
    let cr4: u64 = unsafe {
        let v;
        asm!("mov {}, cr4", out(reg) v, options(nomem, nostack));
        v
    };
    if cr4 & (1 << 12) != 0 {
        return Err(LoaderError::Unsupported(
            "the firmware runs 5-level paging (CR4.LA57)",
        ));
    }
    // The loader can take longer than the firmware's 5-minute watchdog under TCG.
    let _ = uefi_boot::set_watchdog_timer(0, 0x10000, None);

    // The loader's image and its load options.
    let mut options_buf = [0u8; CMDLINE_LEN];
    let (loader_image, options_cmdline) = {
        let image = uefi_boot::open_protocol_exclusive::<LoadedImage>(uefi_boot::image_handle())
            .map_err(fw("LoadedImage protocol"))?;
        let (base, size) = image.info();
        let range = Range::new(base as u64, base as u64 + size).pages_around();
        let cmdline = image
            .load_options_as_bytes()
            .and_then(|o| load_options_cmdline(o, &mut options_buf));
        (range, cmdline)
    };

    // The kernel, the initrd and the command line from the ESP.
    let mut sfs = uefi_boot::get_image_file_system(uefi_boot::image_handle())
        .map_err(fw("the loader's file system"))?;
    let mut root = sfs.open_volume().map_err(fw("opening the ESP"))?;
    let kernel_elf = match open_file(&mut root, cstr16!("\\atoll\\kernel"))? {
        Some(mut f) => read_to_pages(&mut f, ATOLL_KERNEL_ELF)?,
        None => return Err(LoaderError::Unsupported("no \\atoll\\kernel on the ESP")),
    };
    let initrd = match open_file(&mut root, cstr16!("\\atoll\\initrd"))? {
        Some(mut f) => {
            let data = read_to_pages(&mut f, ATOLL_INITRD)?;
            let start = data.as_ptr() as u64;
            Some(Range::new(start, start + data.len() as u64))
        }
        None => None,
    };
    let mut file_buf = [0u8; CMDLINE_LEN - 1];
    let file_cmdline = match open_file(&mut root, cstr16!("\\atoll\\cmdline"))? {
        Some(mut f) => {
            if file_size(&mut f)? > file_buf.len() as u64 {
                return Err(LoaderError::Unsupported("\\atoll\\cmdline is too long"));
            }
            let n = f
                .read(&mut file_buf)
                .map_err(fw("reading \\atoll\\cmdline"))?;
            core::str::from_utf8(&file_buf[..n])
                .map_err(|_| LoaderError::Unsupported("\\atoll\\cmdline is not UTF-8"))?
                .trim()
        }
        None => "",
    };
    drop(root);
    drop(sfs);
    let cmdline = options_cmdline.unwrap_or(file_cmdline);
    println!(
        "loader: kernel ELF {} KiB, cmdline {cmdline:?}",
        kernel_elf.len().div_ceil(1024)
    );
    if let Some(r) = initrd {
        println!("loader: initrd {} KiB", r.len().div_ceil(1024));
    }

    // The machine.
    let rsdp = find_rsdp();
    let harts = cpus(rsdp, bsp);
    let fb = framebuffer();
    let timer_hz = calibrate_tsc();
    TSC_HZ.store(timer_hz, Ordering::Relaxed);
    let mut entropy = Mixer::new(u64::from_le_bytes(*b"atollx86"));
    entropy.absorb(boot_ticks);
    entropy.absorb(loader_image.start);
    entropy.absorb(kernel_elf.as_ptr() as u64);
    let (from_rng, from_rdrand) = gather_entropy(&mut entropy);

    let mut phys_map_end = {
        let map = uefi_boot::memory_map(MemoryType::LOADER_DATA).map_err(fw("memory map"))?;
        firmware::phys_map_end(descriptors(&map))
    };
    if fb.base != 0 {
        phys_map_end = phys_map_end.max(fb.base + u64::from(fb.stride) * u64::from(fb.height) * 4);
    }

    // Frames for everything the kernel keeps, tagged so the final map names them.
    let elf = KernelElf::parse(kernel_elf, Machine::X86_64)?;
    let (lo, hi) = elf.image_bounds();
    let pool_size = (hi - lo).next_multiple_of(PAGE_SIZE)
        + u64::from(harts.count_ones()) * STACK_SIZE
        + (4 << 20);
    let pool = uefi_boot::allocate_pages(
        KEEP_BELOW,
        MemoryType::custom(ATOLL_FRAMES),
        (pool_size / PAGE_SIZE) as usize,
    )
    .map_err(|_| LoaderError::OutOfMemory { size: pool_size })?;
    let pool = Range::new(pool.as_ptr() as u64, pool.as_ptr() as u64 + pool_size);

    let mut platform = Platform {
        harts,
        timer_hz,
        cmdline,
        initrd,
        phys_map_end,
        ..Platform::default()
    };
    platform.ram.push(pool)?;
    platform.ram.sort();
    let handoff = boot::prepare(BootInput {
        harts: platform.harts,
        platform,
        boot_hart: bsp,
        boot_ticks,
        entropy,
        loader_image,
        kernel_elf,
        machine: Machine::X86_64,
        paging: PagingMode::X86Level4,
    })?;
    // SAFETY: `prepare` filled this BootInfo in the pool; nothing else refers to it.
    let bi = unsafe { &mut *(handoff.boot_info_phys as *mut BootInfo) };
    bi.acpi_rsdp = rsdp.unwrap_or(0);
    bi.framebuffer = fb;

    println!(
        "loader: {:?}, CPUs (APIC ids) {:#x}, TSC {} MHz, phys map to {:#x}, entropy from {}{}TSC jitter",
        handoff.paging,
        handoff.hart_mask,
        timer_hz / 1_000_000,
        phys_map_end,
        if from_rng { "EFI_RNG, " } else { "" },
        if from_rdrand { "RDRAND, " } else { "" },
    );
    if fb.base != 0 {
        println!(
            "loader: framebuffer {}x{} stride {} {:?} at {:#x}",
            fb.width, fb.height, fb.stride, fb.format, fb.base
        );
    }
    println!(
        "loader: image at {:#x}, atoll_loader_kernel_mapped at {:#x}",
        loader_image.start, atoll_loader_kernel_mapped as *const () as u64
    );
    println!(
        "loader: kernel at {:#x} slide {:#x}",
        handoff.virt_base, handoff.slide
    );
    atoll_loader_kernel_mapped(handoff.slide, handoff.entry);

    // No UEFI calls past this point, the console included.
    // SAFETY: no protocol is held any more (the file system and LoadedImage
    // scopes ended above, GOP and RNG were dropped), and nothing the kernel
    // keeps lives in boot-services memory.
    let mut map = unsafe { uefi_boot::exit_boot_services(Some(MemoryType::LOADER_DATA)) };
    BOOT_SERVICES.store(false, Ordering::Relaxed);
    map.sort();
    boot::rewrite_memory_map(&handoff, firmware::firmware_map(descriptors(&map))?)?;
    let usable: u64 = bi
        .memory_regions()
        .iter()
        .filter(|r| r.kind == boot_info::MemoryKind::Usable)
        .map(|r| r.len)
        .sum();
    println!(
        "loader: boot services exited; {} memory regions, {} MiB usable; entering the kernel",
        bi.memory_region_count,
        usable >> 20
    );
    for r in bi.memory_regions() {
        println!(
            "loader:   {:#012x}..{:#012x} {:?}",
            r.start,
            r.end(),
            r.kind
        );
    }
    // SAFETY: `handoff` describes tables that map the kernel, its stacks, the
    // BootInfo and this loader's image; boot services are gone.
    unsafe { enter(&handoff, bsp) }
}

/// Switches to the kernel's tables and jumps to it on the BSP.
///
/// # Safety
/// Boot services must be gone and `h` must describe valid tables that map
/// the loader image (this code) at its physical address.
unsafe fn enter(h: &Handoff, apic_id: u32) -> ! {
    // SAFETY: EFER.NXE makes the NX bits of the new tables valid (the current
    // tables keep working with it set); CR0.WP enforces read-only kernel
    // pages; CR4.PGE enables the global kernel mappings. Interrupts stay off
    // from here: there is no IDT the kernel owns yet.
    unsafe {
        asm!("cli", options(nomem, nostack));
        asm!(
            "rdmsr",
            "or eax, 1 << 11",
            "wrmsr",
            in("ecx") 0xc000_0080u32,
            out("eax") _,
            out("edx") _,
            options(nomem, nostack),
        );
        asm!(
            "mov {t}, cr0",
            "or {t}, 1 << 16",
            "mov cr0, {t}",
            "mov {t}, cr4",
            "or {t}, 1 << 7",
            "mov cr4, {t}",
            t = out(reg) _,
            options(nostack),
        );
    }
    // SAFETY: the new tables identity-map this code, so execution continues
    // after the CR3 write; the stack switch happens before any stack use, and
    // the kernel takes (rdi, rsi) as documented in the module header.
    unsafe {
        asm!(
            "mov cr3, {root}",
            "mov rsp, {sp}",
            "push 0",
            "xor ebp, ebp",
            "cld",
            "jmp {entry}",
            root = in(reg) h.page_table_root,
            sp = in(reg) h.stack_top[apic_id as usize],
            entry = in(reg) h.entry,
            in("rdi") apic_id as u64,
            in("rsi") h.boot_info_virt,
            options(noreturn),
        )
    }
}
