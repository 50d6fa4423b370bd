//! Real-time clocks: the wall-clock time at boot, from which the kernel's realtime clock
//! counts on with the monotonic one (`sched::timer::realtime_ns`). The platform says which
//! clock there is: Google's goldfish RTC on QEMU `virt` (nanoseconds since the epoch in two
//! 32-bit registers), or the PC's CMOS clock (`arch::x86_64::cmos`, calendar fields).

/// Reads a goldfish RTC whose registers are at `base` (a mapped virtual address).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))] // q35 has the CMOS clock instead.
///
/// # Safety
/// `base` must be the RTC's mapped register block.
pub unsafe fn goldfish_ns(base: usize) -> u64 {
    // SAFETY: TIME_LOW at 0 (reading it latches TIME_HIGH) and TIME_HIGH at 4, per the
    // caller's contract.
    unsafe {
        let low = core::ptr::read_volatile(base as *const u32);
        let high = core::ptr::read_volatile((base + 4) as *const u32);
        u64::from(high) << 32 | u64::from(low)
    }
}

/// Seconds since the Unix epoch of a UTC calendar time (proleptic Gregorian), or `None`
/// for a date before 1970 or fields out of range.
#[cfg_attr(target_arch = "riscv64", allow(dead_code))] // The goldfish RTC counts seconds.
pub fn unix_seconds(year: u32, month: u32, day: u32, h: u32, m: u32, s: u32) -> Option<u64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), counted from 1970-03-01-based eras.
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
    u64::try_from(secs).ok()
}

#[cfg(feature = "ktest")]
mod tests {
    use ktest::ktest;

    use super::unix_seconds;

    ktest! {
        fn calendar_times_convert_to_unix_seconds() {
            assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), Some(0));
            assert_eq!(unix_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
            assert_eq!(unix_seconds(2026, 12, 6, 2, 28, 38), Some(1_796_524_118));
            assert_eq!(unix_seconds(1969, 12, 31, 23, 59, 59), None);
            assert_eq!(unix_seconds(2026, 13, 1, 0, 0, 0), None);
        }
    }

    ktest! {
        fn the_realtime_clock_reads_after_2020() {
            // QEMU's real-time clocks start at the host's time.
            assert!(crate::sched::timer::realtime_ns() > 1_577_836_800 * 1_000_000_000);
        }
    }
}
