//! Program-derived addresses, exactly as Solana derives them.
//!
//! A PDA is `sha256(seeds... || program_id || "ProgramDerivedAddress")`, accepted only if the
//! hash is *not* the encoding of a point on the ed25519 curve: then no secret key exists for
//! it, and only the program (through the runtime) can sign for it. [`find_program_address`]
//! appends a one-byte bump seed, counting down from 255, until the hash falls off the curve.

use std::cell::RefCell;
use std::collections::HashMap;

use braid_primitives::KeyHasherBuilder;
use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256};

use crate::{InstructionError, Pubkey};

/// Most seeds a program address may be derived from (a bump seed counts as one).
pub const MAX_SEEDS: usize = 16;
/// Longest single seed, in bytes.
pub const MAX_SEED_LEN: usize = 32;
/// Suffix of every PDA hash preimage; an owner ending with it could forge PDAs via seeds.
pub const PDA_MARKER: &[u8; 21] = b"ProgramDerivedAddress";

/// Why an address cannot be derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PdaError {
    /// More than [`MAX_SEEDS`] seeds, or one longer than [`MAX_SEED_LEN`].
    #[error("length of the seed is too long for address generation")]
    MaxSeedLengthExceeded,
    /// The derived hash is on the curve, so it could have a private key.
    #[error("provided seeds do not result in a valid address")]
    InvalidSeeds,
    /// `create_with_seed`'s owner ends with [`PDA_MARKER`].
    #[error("provided owner is not allowed")]
    IllegalOwner,
}

impl From<PdaError> for InstructionError {
    fn from(error: PdaError) -> Self {
        match error {
            PdaError::MaxSeedLengthExceeded => Self::MaxSeedLengthExceeded,
            PdaError::InvalidSeeds | PdaError::IllegalOwner => Self::InvalidSeeds,
        }
    }
}

/// Addresses whose curve membership each thread remembers.
pub const CURVE_MEMO_ENTRIES_MAX: usize = 4096;

thread_local! {
    /// Curve membership of recently derived addresses. Every cross-program call signed by a
    /// program re-derives its PDA, and the curve test (a point decompression, ~2 µs) was most
    /// of an AMM swap's execution time; a hot pool's authority is derived over and over. The
    /// answer is a pure function of the 32 bytes, so remembering it cannot change a result.
    static CURVE_MEMO: RefCell<HashMap<[u8; 32], bool, KeyHasherBuilder>> =
        RefCell::new(HashMap::with_hasher(KeyHasherBuilder::new()));
}

/// Whether `bytes` decode to a point on the ed25519 curve.
pub fn is_on_curve(bytes: &[u8; 32]) -> bool {
    CompressedEdwardsY(*bytes).decompress().is_some()
}

/// [`is_on_curve`], remembered per thread for the most recent addresses.
fn is_on_curve_memoized(bytes: &[u8; 32]) -> bool {
    CURVE_MEMO.with(|memo| {
        if let Some(&on_curve) = memo.borrow().get(bytes) {
            return on_curve;
        }
        let on_curve = is_on_curve(bytes);
        let mut memo = memo.borrow_mut();
        if memo.len() >= CURVE_MEMO_ENTRIES_MAX {
            // Forgetting everything keeps the memo bounded without tracking recency; a hot
            // address is back after one more derivation.
            memo.clear();
        }
        memo.insert(*bytes, on_curve);
        on_curve
    })
}

/// The program address for `seeds` under `program_id`, if it falls off the curve.
pub fn create_program_address(seeds: &[&[u8]], program_id: &Pubkey) -> Result<Pubkey, PdaError> {
    derive(seeds, None, program_id)
}

/// Hashes `seeds`, then `bump` if any, into a PDA; no allocation, so the bump search in
/// [`try_find_program_address`] costs only hashing.
fn derive(seeds: &[&[u8]], bump: Option<u8>, program_id: &Pubkey) -> Result<Pubkey, PdaError> {
    let seed_count = seeds.len().saturating_add(usize::from(bump.is_some()));
    if seed_count > MAX_SEEDS || seeds.iter().any(|seed| seed.len() > MAX_SEED_LEN) {
        return Err(PdaError::MaxSeedLengthExceeded);
    }
    let mut hasher = Sha256::new();
    for seed in seeds {
        hasher.update(seed);
    }
    if let Some(bump) = bump {
        hasher.update([bump]);
    }
    hasher.update(program_id.as_ref());
    hasher.update(PDA_MARKER);
    let hash: [u8; 32] = hasher.finalize().into();
    if is_on_curve_memoized(&hash) {
        return Err(PdaError::InvalidSeeds);
    }
    Ok(Pubkey::new_from_array(hash))
}

/// The first off-curve address for `seeds` plus a bump seed, trying bumps 255 down to 1
/// (Solana never tries 0); `None` if the seeds are too many or too long, or no bump works.
pub fn try_find_program_address(seeds: &[&[u8]], program_id: &Pubkey) -> Option<(Pubkey, u8)> {
    for bump in (1..=u8::MAX).rev() {
        match derive(seeds, Some(bump), program_id) {
            Ok(address) => return Some((address, bump)),
            Err(PdaError::InvalidSeeds) => {}
            Err(_) => return None,
        }
    }
    None
}

/// [`try_find_program_address`] for seeds the caller controls.
///
/// # Panics
///
/// If the seeds are too many (more than 15 before the bump) or too long, a bug in the
/// caller; or, with probability 2⁻²⁵⁵, if no bump works. Use [`try_find_program_address`]
/// for seeds that come from input.
pub fn find_program_address(seeds: &[&[u8]], program_id: &Pubkey) -> (Pubkey, u8) {
    try_find_program_address(seeds, program_id)
        .expect("unable to find a viable program address bump seed")
}

/// Solana's `Pubkey::create_with_seed`: `sha256(base || seed || owner)`, for accounts a
/// base key controls without a keypair per account.
pub fn create_with_seed(base: &Pubkey, seed: &str, owner: &Pubkey) -> Result<Pubkey, PdaError> {
    if seed.len() > MAX_SEED_LEN {
        return Err(PdaError::MaxSeedLengthExceeded);
    }
    if owner.as_ref().ends_with(PDA_MARKER) {
        return Err(PdaError::IllegalOwner);
    }
    let mut hasher = Sha256::new();
    hasher.update(base.as_ref());
    hasher.update(seed.as_bytes());
    hasher.update(owner.as_ref());
    Ok(Pubkey::new_from_array(hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memoized_curve_test_agrees_with_the_direct_one_past_its_capacity() {
        // Hashes are a cheap source of varied bytes; about half of them are on the curve.
        let samples = CURVE_MEMO_ENTRIES_MAX + 100;
        for round in 0..2 {
            for n in 0..samples {
                let bytes: [u8; 32] = Sha256::digest((n as u64).to_le_bytes()).into();
                assert_eq!(
                    is_on_curve_memoized(&bytes),
                    is_on_curve(&bytes),
                    "round {round}, sample {n}"
                );
            }
        }
        CURVE_MEMO.with(|memo| assert!(memo.borrow().len() <= CURVE_MEMO_ENTRIES_MAX));
    }

    const PROGRAM: Pubkey = Pubkey::new_from_array([9; 32]);

    #[test]
    fn seed_limits() {
        let long = [0u8; MAX_SEED_LEN + 1];
        assert_eq!(
            create_program_address(&[&long], &PROGRAM),
            Err(PdaError::MaxSeedLengthExceeded)
        );
        let seeds = [&b"x"[..]; MAX_SEEDS + 1];
        assert_eq!(
            create_program_address(&seeds, &PROGRAM),
            Err(PdaError::MaxSeedLengthExceeded)
        );
        // Sixteen user seeds leave no room for the bump.
        assert_eq!(
            try_find_program_address(&seeds[..MAX_SEEDS], &PROGRAM),
            None
        );
        assert!(try_find_program_address(&seeds[..MAX_SEEDS - 1], &PROGRAM).is_some());
        assert_eq!(
            InstructionError::from(PdaError::MaxSeedLengthExceeded),
            InstructionError::MaxSeedLengthExceeded
        );
    }

    #[test]
    fn found_address_is_off_curve_and_reproducible() {
        for n in 0..32u8 {
            let (address, bump) = find_program_address(&[&[n]], &PROGRAM);
            assert!(!is_on_curve(&address.0));
            assert_eq!(
                create_program_address(&[&[n], &[bump]], &PROGRAM),
                Ok(address)
            );
            // Every larger bump was on the curve.
            for higher in (bump..=u8::MAX).skip(1) {
                assert_eq!(
                    create_program_address(&[&[n], &[higher]], &PROGRAM),
                    Err(PdaError::InvalidSeeds)
                );
            }
        }
    }

    #[test]
    fn create_with_seed_rules() {
        let base = Pubkey::new_from_array([1; 32]);
        let too_long = "a".repeat(MAX_SEED_LEN + 1);
        assert_eq!(
            create_with_seed(&base, &too_long, &PROGRAM),
            Err(PdaError::MaxSeedLengthExceeded)
        );
        let mut owner = [0u8; 32];
        owner[32 - PDA_MARKER.len()..].copy_from_slice(PDA_MARKER);
        assert_eq!(
            create_with_seed(&base, "s", &Pubkey::new_from_array(owner)),
            Err(PdaError::IllegalOwner)
        );
        let mut hasher = Sha256::new();
        hasher.update([1; 32]);
        hasher.update(b"seed");
        hasher.update([9; 32]);
        let expected: [u8; 32] = hasher.finalize().into();
        assert_eq!(
            create_with_seed(&base, "seed", &PROGRAM),
            Ok(Pubkey::new_from_array(expected))
        );
    }
}
