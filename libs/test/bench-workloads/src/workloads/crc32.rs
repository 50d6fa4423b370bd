//! CRC-32 (IEEE 802.3, reflected, table-driven) over `n` pseudo-random bytes.

pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
    let data = &mut scratch[..(n as usize).min(crate::SCRATCH_BYTES)];
    super::fill(data, 3);
    crc32(data) as u64
}

/// The CRC-32 of `data` (as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}
