//! The PC's CMOS real-time clock (MC146818 registers through ports 0x70/0x71): the calendar
//! time, read twice until two reads agree so an update in between cannot tear it.

use super::{inb, outb};

fn reg(r: u8) -> u8 {
    // SAFETY: selecting a CMOS register (NMI stays enabled, bit 7 clear) and reading it;
    // only this module touches the CMOS ports.
    unsafe {
        outb(0x70, r);
        inb(0x71)
    }
}

fn bcd(v: u8) -> u32 {
    u32::from(v >> 4) * 10 + u32::from(v & 0xf)
}

/// Seconds since the Unix epoch, or `None` if the clock reads as nonsense.
pub fn unix_seconds() -> Option<u64> {
    let read = || {
        // Wait out an update in progress (register A bit 7), then take every field.
        while reg(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [
            reg(0x00),
            reg(0x02),
            reg(0x04),
            reg(0x07),
            reg(0x08),
            reg(0x09),
            reg(0x32),
        ]
    };
    let mut a = read();
    loop {
        let b = read();
        if a == b {
            break;
        }
        a = b;
    }
    let status_b = reg(0x0b);
    let binary = status_b & 0x04 != 0;
    let conv = |v: u8| if binary { u32::from(v) } else { bcd(v) };
    let [sec, min, hour_raw, day, month, year, century] = a;
    let pm = hour_raw & 0x80 != 0;
    let mut hour = conv(hour_raw & 0x7f);
    if status_b & 0x02 == 0 {
        // 12-hour clock: 12 AM is 0, PM adds 12.
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let century = match conv(century) {
        c @ 19..=30 => c,
        _ => 20,
    };
    crate::drivers::rtc::unix_seconds(
        century * 100 + conv(year),
        conv(month),
        conv(day),
        hour,
        conv(min),
        conv(sec),
    )
}
