//! The kernel's own tests (built with `--features ktest`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ktest::ktest;

use crate::mem::vm::{self, Flags};
use crate::mem::{PAGE_SIZE, frames, heap};
use crate::recover::{self, Fault};
use crate::sched::{percpu, smp, timer};

#[cfg(target_arch = "x86_64")]
use crate::arch::trap::{LOAD_PAGE_FAULT, STORE_PAGE_FAULT};
#[cfg(target_arch = "riscv64")]
const LOAD_PAGE_FAULT: usize = 13;
#[cfg(target_arch = "riscv64")]
const STORE_PAGE_FAULT: usize = 15;

fn read(addr: u64) -> u64 {
    // SAFETY: tests call this under `recover::catch` on possibly unmapped addresses.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

fn write(addr: u64, v: u64) {
    // SAFETY: as `read`.
    unsafe { core::ptr::write_volatile(addr as *mut u64, v) }
}

fn expect_fault(cause: usize, addr: u64, f: impl FnOnce()) {
    match recover::catch(f) {
        Ok(()) => panic!("access to {addr:#x} did not fault"),
        Err(Fault::Trap {
            cause: c, stval, ..
        }) => {
            assert_eq!(c, cause, "wrong fault cause");
            assert_eq!(stval as u64, addr, "wrong fault address");
        }
        Err(other) => panic!("expected a fault, got: {other}"),
    }
}

ktest! {
    fn frame_allocator_hands_out_distinct_usable_frames() {
        let (free0, _, managed) = frames::stats();
        assert!(managed > 0 && free0 > 0);
        let bi = crate::boot_info();
        let mut got = Vec::new();
        for _ in 0..64 {
            let f = frames::alloc_zeroed().expect("out of frames");
            assert_eq!(f % PAGE_SIZE, 0);
            assert!(
                bi.memory_regions()
                    .iter()
                    .any(|r| r.kind == boot_info::MemoryKind::Usable && r.start <= f && f + PAGE_SIZE <= r.end()),
                "{f:#x} is not in usable memory"
            );
            assert!(!got.contains(&f), "{f:#x} handed out twice");
            got.push(f);
        }
        assert_eq!(frames::stats().0, free0 - 64);
        let run = frames::alloc_contiguous_zeroed(16, 64 * 1024).expect("no contiguous run");
        assert_eq!(run % (64 * 1024), 0);
        frames::free(run, 16).unwrap();
        for f in got {
            frames::free(f, 1).unwrap();
        }
        assert_eq!(frames::stats().0, free0);
        // Freeing twice is refused.
        let f = frames::alloc_zeroed().unwrap();
        frames::free(f, 1).unwrap();
        assert!(frames::free(f, 1).is_err());
    }
}

ktest! {
    fn heap_allocates_and_grows_on_demand() {
        let before = heap::stats().mapped;
        // Larger than all the heap has free: forces growth (earlier tests may have grown
        // the heap a lot, so not more than that).
        let n = ((before - heap::stats().allocated) as usize + (4 << 20)) / 8;
        let mut v: Vec<u64> = Vec::with_capacity(n);
        for i in 0..n {
            v.push(i as u64 ^ 0x5a5a);
        }
        assert!(heap::stats().mapped > before, "heap did not grow");
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 ^ 0x5a5a));
        let small: Vec<alloc::boxed::Box<u32>> = (0..1000).map(alloc::boxed::Box::new).collect();
        assert_eq!(small.iter().map(|b| **b as u64).sum::<u64>(), 999 * 1000 / 2);
        assert!(heap::stats().allocated >= (n * 8) as u64);
    }
}

ktest! {
    fn map_unmap_and_guard_pages_fault() {
        let len = 2 * PAGE_SIZE;
        let va = vm::alloc_vrange(len).unwrap();
        vm::map_fresh(va, len, Flags::RW).unwrap();
        write(va, 1);
        write(va + len - 8, 2);
        assert_eq!(read(va) + read(va + len - 8), 3);
        // The page after every range is a guard page.
        expect_fault(LOAD_PAGE_FAULT, va + len, || {
            read(va + len);
        });
        assert!(vm::is_guard_page(va + len) || !vm::is_mapped(va + len));
        let (free_before, _, _) = frames::stats();
        vm::unmap(va, len, true).unwrap();
        assert_eq!(frames::stats().0, free_before + 2, "unmap did not free the frames");
        expect_fault(STORE_PAGE_FAULT, va, || write(va, 3));
        // Stacks: usable to the bottom, guard page below.
        let stack = vm::alloc_stack(16 * 1024).unwrap();
        write(stack.bottom, 7);
        write(stack.top - 8, 8);
        assert!(vm::is_guard_page(stack.guard_page()));
        expect_fault(STORE_PAGE_FAULT, stack.bottom - 8, || write(stack.bottom - 8, 9));
        vm::free_stack(stack).unwrap();
    }
}

static SHARED_PAGE: AtomicU64 = AtomicU64::new(0);
static WRITE_FAULTS: AtomicUsize = AtomicUsize::new(0);
static READS_OK: AtomicUsize = AtomicUsize::new(0);

fn read_shared() {
    let _ = read(SHARED_PAGE.load(Ordering::Relaxed));
    READS_OK.fetch_add(1, Ordering::Relaxed);
}

fn try_write_shared() {
    let va = SHARED_PAGE.load(Ordering::Relaxed);
    if let Err(f) = recover::catch(|| write(va, 0xbad))
        && f.page_fault_addr() == Some(va as usize)
    {
        WRITE_FAULTS.fetch_add(1, Ordering::Relaxed);
    }
}

ktest! {
    fn protection_change_reaches_every_hart() {
        let va = vm::alloc_vrange(PAGE_SIZE).unwrap();
        vm::map_fresh(va, PAGE_SIZE, Flags::RW).unwrap();
        write(va, 42);
        SHARED_PAGE.store(va, Ordering::Relaxed);
        // Every hart caches the writable translation...
        READS_OK.store(0, Ordering::Relaxed);
        let harts = smp::run_on_all(read_shared).unwrap();
        assert_eq!(READS_OK.load(Ordering::Relaxed), harts);
        // ...then the page becomes read-only: writes fault on every hart.
        vm::protect(va, PAGE_SIZE, Flags::READ).unwrap();
        expect_fault(STORE_PAGE_FAULT, va, || write(va, 1));
        assert_eq!(read(va), 42);
        WRITE_FAULTS.store(0, Ordering::Relaxed);
        smp::run_on_all(try_write_shared).unwrap();
        assert_eq!(WRITE_FAULTS.load(Ordering::Relaxed), harts, "a hart kept a stale writable TLB entry");
        vm::protect(va, PAGE_SIZE, Flags::RW).unwrap();
        write(va, 43);
        assert_eq!(read(va), 43);
        vm::unmap(va, PAGE_SIZE, true).unwrap();
    }
}

#[cfg(target_arch = "riscv64")]
ktest! {
    fn fdt_describes_the_machine() {
        let plat = crate::arch::machine::get().expect("machine not discovered");
        assert!(!plat.model.is_empty());
        let uart = plat.uart.expect("no console UART in the FDT");
        assert!(uart.phys != 0 && uart.irq.is_some());
        assert!(plat.plic.is_some(), "no PLIC context for the boot hart");
        let bi = crate::boot_info();
        assert_eq!(plat.cpus, bi.hart_mask.count_ones() as usize, "FDT cpus vs harts started");
        assert_eq!(plat.timebase_hz, bi.timer_hz, "FDT timebase vs loader timer_hz");
        let fdt = crate::arch::machine::fdt().unwrap();
        let ram: u64 = fdt.memory().regions().filter_map(|r| r.size).map(|s| s as u64).sum();
        let (_, _, managed) = frames::stats();
        assert!(ram >= managed * PAGE_SIZE, "more usable frames than RAM");
        let bootargs = fdt.chosen().bootargs().unwrap_or("");
        assert_eq!(bootargs, bi.cmdline());
        // The console is the UART /chosen/stdout-path names (QEMU virt: a 16550).
        assert_eq!(crate::console::uart_name(), Some("16550"));
    }
}

#[cfg(target_arch = "riscv64")]
ktest! {
    fn devices_beyond_the_phys_map_get_device_mappings_of_their_own() {
        // The TH1520's UART and PLIC sit near 1 TiB, beyond an Sv39 phys map;
        // take that path with QEMU's UART and compare with the phys map's view.
        let uart = crate::arch::machine::get().unwrap().uart.unwrap();
        let via_phys_map = vm::map_device(uart.phys, 8).unwrap();
        assert_eq!(via_phys_map, crate::mem::phys_to_virt(uart.phys));
        // The 16550's scratch register (7), written through one mapping and
        // read through the other.
        let mapped = vm::map_device_in_vmap(uart.phys + 7, 1).unwrap();
        assert_eq!(mapped % PAGE_SIZE, 7, "the offset inside the page is kept");
        let m = vm::translate(mapped).expect("not mapped");
        assert_eq!(m.phys + (mapped - m.virt), uart.phys + 7);
        assert!(m.flags.contains(Flags::RW) && !m.flags.contains(Flags::EXEC));
        let scratch = (via_phys_map + 7) as *mut u8;
        // SAFETY: both addresses map the console 16550's scratch register,
        // which nothing else uses.
        unsafe {
            core::ptr::write_volatile(mapped as *mut u8, 0x5a);
            assert_eq!(core::ptr::read_volatile(scratch), 0x5a);
            core::ptr::write_volatile(scratch, 0xa5);
            assert_eq!(core::ptr::read_volatile(mapped as *const u8), 0xa5);
        }
    }
}

#[cfg(target_arch = "x86_64")]
ktest! {
    fn acpi_madt_describes_the_machine() {
        use crate::arch::machine;
        let plat = machine::get().expect("machine not discovered");
        let bi = crate::boot_info();
        assert_ne!(bi.acpi_rsdp, 0, "the loader passed no RSDP");
        // The kernel's MADT parse agrees with the loader's CPU list.
        assert_eq!(plat.cpus, bi.hart_mask.count_ones() as usize, "MADT CPUs vs CPUs started");
        assert_eq!(plat.apic_ids, bi.hart_mask);
        assert!(plat.apic_ids & (1 << bi.boot_hart) != 0, "the BSP is not in the MADT");
        let io = plat.ioapic.expect("no IOAPIC in the MADT");
        assert_eq!(io.phys & 0xfff, 0, "IOAPIC address not page-aligned");
        assert_ne!(plat.local_apic, 0);
        // COM1's IRQ 4 has no override on PCs: GSI 4, edge, active high.
        let route = plat.uart_route.expect("no UART route");
        assert_eq!(route, machine::IsaRoute { gsi: 4, level: false, active_low: false });
        // Parsing again gives the same answer (no state kept in the parser).
        let tables = machine::tables().unwrap();
        assert_eq!(machine::parse_madt(&tables, 4).unwrap().0.apic_ids, plat.apic_ids);
        // The \_S5_ parser on hand-written AML: Name(_S5_, Package(4) {5, Zero, ...}).
        let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00];
        assert_eq!(machine::s5_sleep_type(&aml), Some(5));
        assert_eq!(machine::s5_sleep_type(&aml[..9]), None, "truncated AML");
        assert!(plat.s5.is_some(), "no S5 sleep type in the DSDT");
        // COM1's input interrupt is routed, unmasked, to the boot CPU.
        let (vector, entry) = machine::uart_interrupt().expect("the UART interrupt is not routed");
        assert_eq!(vector, u32::from(crate::arch::trap::IRQ_BASE) + route.gsi);
        assert_eq!(entry & 0xff, u64::from(vector), "IOAPIC vector");
        assert_eq!(entry & (1 << 16), 0, "IOAPIC pin masked");
        assert_eq!(entry >> 56, u64::from(bi.boot_hart), "IOAPIC destination");
    }
}

ktest! {
    fn clock_is_monotonic_and_ticks_advance() {
        assert!(timer::timer_hz() > 0);
        let mut last = timer::now_ns();
        for _ in 0..10_000 {
            let now = timer::now_ns();
            assert!(now >= last, "clock went backwards");
            last = now;
        }
        assert!(crate::arch::interrupts::are_enabled(), "tests must run with interrupts on");
        let me = percpu::current().id();
        let t0 = timer::ticks(me);
        let c0 = timer::now_ns();
        timer::spin_for_ns(60_000_000);
        let elapsed = timer::now_ns() - c0;
        let ticks = timer::ticks(me) - t0;
        assert!(elapsed >= 60_000_000);
        // 100 Hz over 60 ms: at least 3 ticks even with slack.
        assert!(ticks >= 3, "only {ticks} ticks in {elapsed} ns");
        assert!(timer::uptime_ns() > 0);
    }
}

static HART_BITS: AtomicU64 = AtomicU64::new(0);
static HART_RUNS: AtomicUsize = AtomicUsize::new(0);

fn mark_hart() {
    HART_BITS.fetch_or(1 << percpu::current().id(), Ordering::Relaxed);
    HART_RUNS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn every_hart_runs_code() {
        let bi = crate::boot_info();
        assert_eq!(percpu::online_mask(), bi.hart_mask, "not every started hart is online");
        HART_BITS.store(0, Ordering::Relaxed);
        HART_RUNS.store(0, Ordering::Relaxed);
        let n = smp::run_on_all(mark_hart).unwrap();
        assert_eq!(n, bi.hart_mask.count_ones() as usize);
        assert_eq!(HART_BITS.load(Ordering::Relaxed), bi.hart_mask);
        assert_eq!(HART_RUNS.load(Ordering::Relaxed), n);
        // Every hart takes timer ticks.
        timer::spin_for_ns(30_000_000);
        for h in bi.harts() {
            assert!(timer::ticks(h as usize) > 0, "hart {h} took no ticks");
        }
    }
}

ktest! {
    fn kernel_page_fault_is_caught_and_reported() {
        let va = vm::alloc_vrange(PAGE_SIZE).unwrap();
        let r = recover::catch(|| read(va + 0x18));
        match r {
            Err(Fault::Trap { cause, stval, pc }) => {
                assert_eq!(cause, LOAD_PAGE_FAULT);
                assert_eq!(stval as u64, va + 0x18);
                assert!(crate::backtrace::symbolize(pc).is_some(), "faulting pc {pc:#x} has no symbol");
            }
            other => panic!("expected a load page fault, got {other:?}"),
        }
        // Recovery nests and leaves no context behind.
        let before = recover::nesting();
        let inner = recover::catch(|| recover::catch(|| write(va, 1)).is_err());
        assert_eq!(inner, Ok(true));
        assert_eq!(recover::nesting(), before);
    }
}

/// Recurses until the stack overflows (the condition only hides that from the lint).
#[inline(never)]
fn recurse_deep(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    if depth == u64::MAX {
        return 0;
    }
    recurse_deep(depth + 1) + frame[3]
}

extern "C" fn overflow_this_stack(_: *mut u8) {
    core::hint::black_box(recurse_deep(0));
}

ktest! {
    fn stack_overflow_into_a_guard_page_is_caught() {
        let stack = vm::alloc_stack(16 * 1024).unwrap();
        // Twice: the trap path must survive the first overflow intact.
        for _ in 0..2 {
            let r = recover::catch(|| {
                // SAFETY: `stack` is a fresh mapped stack that only this call uses.
                unsafe {
                    crate::arch::call_on_stack(stack.top as usize, overflow_this_stack, core::ptr::null_mut())
                }
            });
            let addr = match r {
                Err(f) => f.page_fault_addr().unwrap_or_else(|| panic!("expected a page fault, got: {f}")) as u64,
                Ok(()) => panic!("the recursion returned"),
            };
            assert!(
                (stack.guard_page()..stack.bottom).contains(&addr),
                "fault at {addr:#x}, guard page at {:#x}",
                stack.guard_page()
            );
            assert!(vm::is_guard_page(addr));
        }
        vm::free_stack(stack).unwrap();
    }
}

ktest! {
    fn panics_are_caught_with_their_message() {
        let before = recover::nesting();
        let r: Result<(), Fault> = recover::catch(|| panic!("deliberate {}", 42));
        assert_eq!(r, Err(Fault::Panic));
        assert!(recover::last_panic_message().starts_with("deliberate 42"));
        assert_eq!(recover::nesting(), before);
    }
}

ktest! {
    fn backtrace_symbols_resolve() {
        let sym = crate::backtrace::symbolize(mark_hart as *const () as usize).expect("no symbol for mark_hart");
        let name = alloc::format!("{:#}", rustc_demangle::demangle(sym.name));
        assert!(name.ends_with("mark_hart"), "{name}");
        assert_eq!(sym.offset, 0);
    }
}

ktest! {
    fn log_levels_change_at_run_time() {
        let old = crate::log::level_name();
        crate::log::set_level("trace").unwrap();
        assert!(crate::log::level_enabled(&tracing_core::Level::TRACE));
        crate::log::set_level("warn").unwrap();
        assert!(!crate::log::level_enabled(&tracing_core::Level::INFO));
        assert!(crate::log::set_level("loud").is_err());
        crate::log::set_level(old).unwrap();
        crate::debug!("debug output from a test");
    }
}

static HOOK_CALLS: AtomicU64 = AtomicU64::new(0);

fn count_tick() {
    HOOK_CALLS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn tick_hook_runs_on_every_tick() {
        HOOK_CALLS.store(0, Ordering::Relaxed);
        timer::set_tick_hook(count_tick);
        timer::spin_for_ns(50_000_000);
        timer::clear_tick_hook();
        let calls = HOOK_CALLS.load(Ordering::Relaxed);
        // 100 Hz on every hart for 50 ms: several calls at least.
        assert!(calls >= 3, "tick hook ran {calls} times");
        // Let a call that loaded the hook just before the clear finish.
        timer::spin_for_ns(1_000_000);
        let after = HOOK_CALLS.load(Ordering::Relaxed);
        timer::spin_for_ns(30_000_000);
        assert_eq!(HOOK_CALLS.load(Ordering::Relaxed), after, "hook still runs after clearing");
    }
}

ktest! {
    fn runaway_code_times_out() {
        let before = recover::nesting();
        let t0 = timer::now_ns();
        let r: Result<(), Fault> = recover::catch_with_timeout(30_000_000, || {
            loop {
                core::hint::spin_loop();
            }
        });
        assert_eq!(r, Err(Fault::Timeout));
        assert!(timer::now_ns() - t0 >= 30_000_000, "aborted before the deadline");
        assert_eq!(recover::nesting(), before);
        // Code that finishes in time is unaffected.
        assert_eq!(recover::catch_with_timeout(1_000_000_000, || 7), Ok(7));
    }
}

static CLOBBERS: AtomicU64 = AtomicU64::new(0);

fn clobber_ext_state() {
    crate::arch::ext_state_test::clobber(crate::arch::has_vector());
    CLOBBERS.fetch_add(1, Ordering::Relaxed);
}

ktest! {
    fn fp_and_vector_state_survive_interrupts() {
        use crate::arch::ext_state_test::{fill_and_spin, vlenb};
        let me = percpu::current().id();
        let vlenb = vlenb();
        let regs = if cfg!(target_arch = "x86_64") { 16 } else { 32 };
        let mut vbuf = alloc::vec![0u8; regs * vlenb];
        CLOBBERS.store(0, Ordering::Relaxed);
        let t0 = timer::ticks(me);
        // The hook overwrites FP and vector registers on every tick: only
        // the trap path's save/restore keeps the spinning code's values.
        timer::set_tick_hook(clobber_ext_state);
        // 200 ms: at 100 Hz several ticks even on a loaded host.
        let deadline = crate::arch::read_time() + timer::timer_hz() / 5;
        let bad = fill_and_spin(deadline, (vlenb > 0).then_some(&mut vbuf[..]));
        timer::clear_tick_hook();
        let ticks = timer::ticks(me) - t0;
        assert!(ticks >= 3, "only {ticks} ticks while spinning");
        assert!(CLOBBERS.load(Ordering::Relaxed) >= 3, "the clobbering hook did not run");
        assert_eq!(bad, 0, "FP registers or fcsr/vl/vtype changed across interrupts");
        for (i, reg) in vbuf.chunks(vlenb.max(1)).enumerate() {
            assert!(reg.iter().all(|&b| b as usize == i + 1), "v{i} changed across interrupts: {reg:?}");
        }
        assert!(crate::arch::has_vector(), "the test machine has V or AVX (configs/*.toml)");
    }
}

/// One cpio newc entry (the format `cpio -H newc` writes).
fn cpio_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    use core::fmt::Write;
    let mut h = alloc::string::String::new();
    let fields = [
        1,
        mode,
        0,
        0,
        1,
        0,
        data.len() as u32,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        0,
    ];
    h.push_str("070701");
    for f in fields {
        let _ = write!(h, "{f:08x}");
    }
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
}

ktest! {
    fn initrd_files_are_found_by_path() {
        let mut a = Vec::new();
        cpio_entry(&mut a, "./bin", 0o040755, b"");
        cpio_entry(&mut a, "./bin/hello.wasm", 0o100644, b"\0asm\x01\0\0\0");
        cpio_entry(&mut a, "TRAILER!!!", 0, b"");
        let archive = initrd::Archive::new(&a);
        assert_eq!(crate::initrd::lookup_in(archive, "/bin/hello.wasm"), Ok(Some(&b"\0asm\x01\0\0\0"[..])));
        assert_eq!(crate::initrd::lookup_in(archive, "bin"), Ok(None), "directories are not files");
        assert_eq!(crate::initrd::lookup_in(archive, "nope"), Ok(None));
        assert!(crate::initrd::lookup_in(initrd::Archive::new(&a[..a.len() - 20]), "nope").is_err());
        // The boot initrd, if any, was validated: every file is found by its path.
        for e in crate::initrd::entries().filter(|e| e.is_file()) {
            assert_eq!(crate::initrd::lookup(e.path()).map(|d| d.len()), Some(e.data.len()));
        }
    }
}
