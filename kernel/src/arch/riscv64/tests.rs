//! Kernel tests of what the device tree says about the machine.

use ktest::ktest;

use crate::mem::vm::{self, Flags};
use crate::mem::{PAGE_SIZE, frames};

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
