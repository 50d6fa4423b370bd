//! Kernel tests of what ACPI says about the machine.

use ktest::ktest;

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
