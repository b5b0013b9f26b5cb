//! One seeded hasher for maps keyed by account keys and hashes.
//!
//! Keys are attacker-chosen (anyone can grind addresses, and a transaction may name any 32
//! bytes as an account), so a hasher that looks at part of the key, or mixes without a
//! secret, lets a sender pick keys that all land in one bucket. Each 16 bytes go through one
//! folded 64×64→128 multiply with per-builder random seeds (the construction of wyhash and
//! foldhash): a few nanoseconds per key, far cheaper than SipHash. The seeds are random, so a
//! map keyed by this hasher must never be iterated where the order could reach a result.

use std::hash::{BuildHasher, Hasher, RandomState};

/// Input words for drawing the two seeds from the standard library's random state.
const SEED_INPUTS: [u64; 2] = [0x9e37_79b9_7f4a_7c15, 0x2545_f491_4f6c_dd1d];
/// Bytes mixed by one multiply.
const CHUNK_BYTES: usize = 16;
/// Bytes in one word.
const WORD_BYTES: usize = 8;

/// Builds [`KeyHasher`]s with seeds drawn once per builder from the process's random state.
#[derive(Clone, Copy, Debug)]
pub struct KeyHasherBuilder {
    seeds: [u64; 2],
}

impl KeyHasherBuilder {
    /// A builder with fresh random seeds.
    pub fn new() -> Self {
        let random = RandomState::new();
        // An odd seed keeps the multiply from collapsing to zero for a zero input word.
        Self {
            seeds: SEED_INPUTS.map(|input| random.hash_one(input) | 1),
        }
    }
}

impl Default for KeyHasherBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildHasher for KeyHasherBuilder {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            state: self.seeds[0],
            seed: self.seeds[1],
        }
    }
}

/// The hasher built by [`KeyHasherBuilder`].
#[derive(Clone, Copy, Debug)]
pub struct KeyHasher {
    state: u64,
    seed: u64,
}

/// Multiplies to 128 bits and folds the halves together, so every input bit reaches every
/// output bit.
pub fn folded_multiply(left: u64, right: u64) -> u64 {
    let product = u128::from(left).wrapping_mul(u128::from(right));
    (product as u64) ^ (product.wrapping_shr(64) as u64)
}

/// The little-endian word of up to eight bytes, zero-padded.
pub fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; WORD_BYTES];
    let len = bytes.len().min(WORD_BYTES);
    word[..len].copy_from_slice(&bytes[..len]);
    u64::from_le_bytes(word)
}

impl KeyHasher {
    fn mix(&mut self, low: u64, high: u64) {
        self.state = folded_multiply(low ^ self.state, high ^ self.seed);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let (chunks, rest) = bytes.as_chunks::<CHUNK_BYTES>();
        for chunk in chunks {
            let both = u128::from_le_bytes(*chunk);
            self.mix(both as u64, both.wrapping_shr(64) as u64);
        }
        if !rest.is_empty() {
            let (low, high) = rest.split_at(rest.len().min(WORD_BYTES));
            // The length in the high word keeps "ab" and "ab\0" apart.
            self.mix(word(low), word(high) ^ (rest.len() as u64));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value, 0);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64, 0);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_hash_within_a_builder() {
        let build = KeyHasherBuilder::new();
        let key = [7u8; 32];
        assert_eq!(build.hash_one(key), build.hash_one(key));
    }

    #[test]
    fn every_byte_of_the_key_matters() {
        let build = KeyHasherBuilder::new();
        let base = build.hash_one([0u8; 32]);
        for index in 0..32 {
            let mut key = [0u8; 32];
            key[index] = 1;
            assert_ne!(build.hash_one(key), base, "byte {index} ignored");
        }
    }

    #[test]
    fn short_inputs_differ_by_length() {
        let build = KeyHasherBuilder::new();
        assert_ne!(
            build.hash_one([1u8; 3].as_slice()),
            build.hash_one([1u8, 1, 1, 0].as_slice())
        );
    }
}
