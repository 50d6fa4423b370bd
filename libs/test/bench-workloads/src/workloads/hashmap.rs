//! An open-addressing hash map (u64 → u64, linear probing) in scratch
//! memory: `n` inserts of random keys, then `n` lookups, half of them hits.

/// Key marking an empty slot (the generator never yields 0).
const EMPTY: u64 = 0;

struct Map<'a> {
    slots: &'a mut [[u64; 2]],
    shift: u32,
}

impl<'a> Map<'a> {
    /// A map with room for `n` keys at most half full, in `mem`.
    fn new(mem: &'a mut [u64], n: usize) -> Map<'a> {
        let cap = (2 * n).next_power_of_two().max(2);
        let slots = &mut mem[..2 * cap];
        slots.fill(EMPTY);
        let (pairs, _) = slots.as_chunks_mut::<2>();
        Map {
            slots: pairs,
            shift: 64 - cap.trailing_zeros(),
        }
    }

    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn insert(&mut self, key: u64, value: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = &mut self.slots[i];
            if s[0] == EMPTY || s[0] == key {
                *s = [key, value];
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn get(&self, key: u64) -> Option<u64> {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = self.slots[i];
            if s[0] == key {
                return Some(s[1]);
            }
            if s[0] == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Largest `n` that fits the scratch memory.
pub const MAX_N: usize = crate::SCRATCH_BYTES / 16 / 2;

pub fn run(n: u32, scratch: &mut [u8]) -> u64 {
    let n = (n as usize).min(MAX_N);
    let mut map = Map::new(super::cast::<u64>(scratch), n);
    let mut keys = super::Rng::new(11);
    for i in 0..n {
        map.insert(keys.next() >> 8 | 1, i as u64);
    }
    let (mut hits, mut misses) = (super::Rng::new(11), super::Rng::new(12));
    let mut sum = 0u64;
    for i in 0..n {
        let key = if i % 2 == 0 {
            hits.next()
        } else {
            misses.next()
        } >> 8
            | 1;
        match map.get(key) {
            Some(v) => sum = sum.wrapping_add(v),
            None => sum = sum.wrapping_add(1 << 32),
        }
    }
    sum
}
