//! Mixes boot entropy (firmware seed, timer jitter) into seeds. Not a CSPRNG:
//! it only spreads whatever entropy went in over every output bit.

/// An absorb/squeeze mixer built on the SplitMix64 finalizer.
#[derive(Debug, Clone)]
pub struct Mixer {
    state: [u64; 4],
    absorbed: u64,
}

const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Mixer {
    pub const fn new(domain: u64) -> Self {
        Self {
            state: [
                domain,
                0x6a09_e667_f3bc_c908,
                0xbb67_ae85_84ca_a73b,
                0x3c6e_f372_fe94_f82b,
            ],
            absorbed: 0,
        }
    }

    pub fn absorb(&mut self, word: u64) {
        let lane = (self.absorbed % 4) as usize;
        self.absorbed += 1;
        self.state[lane] =
            mix(self.state[lane] ^ word ^ self.absorbed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Diffuse into the neighbour so every lane depends on every input.
        let next = (lane + 1) % 4;
        self.state[next] = self.state[next].wrapping_add(self.state[lane].rotate_left(23));
    }

    pub fn absorb_bytes(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.absorb(u64::from_le_bytes(w));
        }
        self.absorb(bytes.len() as u64);
    }

    /// The next 64 output bits.
    pub fn squeeze(&mut self) -> u64 {
        let out = mix(self.state[0]
            ^ mix(self.state[1])
            ^ mix(self.state[2].wrapping_add(self.state[3])));
        self.absorb(out);
        out
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let w = self.squeeze().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_depend_on_every_input() {
        let seed = |words: &[u64]| {
            let mut m = Mixer::new(1);
            words.iter().for_each(|&w| m.absorb(w));
            let mut out = [0u8; 32];
            m.fill(&mut out);
            out
        };
        let base = seed(&[1, 2, 3, 4, 5]);
        for i in 0..5 {
            let mut words = [1, 2, 3, 4, 5];
            words[i] ^= 1;
            let other = seed(&words);
            let differing = base
                .iter()
                .zip(&other)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum::<u32>();
            assert!(
                differing > 64,
                "flipping input {i} changed only {differing} bits"
            );
        }
        assert_ne!(Mixer::new(1).squeeze(), Mixer::new(2).squeeze());
    }
}
