//! Strict ed25519 signature verification, one at a time and batched.
//!
//! # What "valid" means
//!
//! A signature `(R, s)` by key `A` over message `M` is valid exactly when ed25519-dalek's
//! `VerifyingKey::verify_strict` accepts it **and** `A` is canonically encoded:
//!
//! - `s` is canonical (`s < ℓ`), so `s + ℓ` malleations are rejected;
//! - `A` and `R` are canonical encodings (`y < p`, no sign bit on `x = 0`) of curve
//!   points; `verify_strict` itself only enforces this for `R` (it compares `R`'s bytes to a
//!   recomputed, canonical encoding); we add it for `A` so that one point cannot control two
//!   account addresses;
//! - neither `A` nor `R` has small order;
//! - the cofactorless equation `[s]B − [k]A = R` holds, `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! # Why batch and single agree, and what it costs
//!
//! ed25519-dalek 3's `verify_batch` checks `Σ zᵢ·([sᵢ]B − Rᵢ − [kᵢ]Aᵢ) = 0` for 128-bit
//! `zᵢ` derived from a transcript of the batch. It is cofactorless like `verify_strict`, but
//! it rejects nothing on its own: not small-order points, not non-canonical `R`. And with
//! points that carry a torsion component the random combination can cancel: if
//! `Dᵢ = [sᵢ]B − Rᵢ − [kᵢ]Aᵢ` is a non-zero point of order 2, the batch passes whenever `zᵢ`
//! is even, while strict single verification always rejects. Since the `zᵢ` are a
//! deterministic function of the batch, a forger could grind for that. Batch and single
//! would then disagree, and a node batching would accept what a node verifying singly
//! rejects.
//!
//! So before a signature enters a batch it is screened, and rejected outright if it fails
//! any of these (each is a rule strict single verification also applies, so rejection here
//! never loses a signature single verification would accept):
//!
//! 1. `A`, `R` canonical, decompress, not small order; `s` canonical.
//! 2. The torsion part of `Dᵢ` is zero. `[s]B` has none, so it is the torsion part of
//!    `Q = R + [k mod 8]A` (the small multiple is exact: a torsion component has order
//!    dividing 8). If `Q` is not torsion-free, `Dᵢ ≠ 0` and strict verification rejects.
//!
//! After screening every `Dᵢ` lies in the prime-order subgroup, where a passing batch means
//! every `Dᵢ = 0` except with probability about 2⁻¹²⁸: exactly the strict accept set. A
//! failing batch falls back to single verification per transaction, which also covers
//! signatures whose `R` and `A` carry torsion components that cancel (strict accepts those;
//! the batch's scrambled coefficients may not).
//!
//! The cost is the torsion check, one variable-time scalar multiplication by `ℓ` per
//! signature. Measured on the 2-core dev machine (ed25519-dalek 3, release): single strict
//! verification 35 µs, the bare batch of 64 14 µs per signature, the torsion check 22 µs and
//! decompressing `R` 3 µs; end to end, [`verify_batch`] costs 46 µs per one-signature
//! transaction against 36 µs for [`verify_transaction`]. Screened batching is therefore
//! slower than single verification under cofactorless strict rules: there is no cheaper
//! exact torsion test with this library, and no single batch equation can detect every
//! non-zero combination of torsion components (they live in a cyclic group of order 8).
//! The way out is a chain-wide decision: cofactored verification everywhere (ZIP-215
//! style), where batch and single agree with no screening. Until then [`verify_batch`] is
//! correct first, and callers wanting throughput should prefer [`verify_transaction`]
//! spread over cores.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::sanitized::SanitizedTransaction;
use crate::{Pubkey, Signature, TransactionError};

/// Transactions per batch equation: amortises the multiscalar multiplication while keeping
/// the cost of a failed batch's fallback bounded.
pub const BATCH_TRANSACTIONS_MAX: usize = 64;

/// Bytes of a compressed point or scalar.
const ENCODING_BYTES: usize = 32;
/// The sign bit of `x` in a compressed point's last byte.
const SIGN_BIT: u8 = 0x80;
/// The low byte of `p = 2^255 − 19`; `p`'s other bytes are `0xff` and a top `0x7f`.
const FIELD_PRIME_LOW_BYTE: u8 = 0xed;
/// The low byte of `p − 1`, the `y` of the order-2 point `(0, −1)`.
const FIELD_PRIME_MINUS_ONE_LOW_BYTE: u8 = 0xec;
/// Mask for a scalar's value modulo the cofactor 8.
const COFACTOR_MASK: u8 = 0x07;

/// Whether `bytes` is the canonical encoding of a field element `y < p` and does not set
/// the sign bit of an `x` that is zero (`y = ±1`). Whether a point exists is not checked.
pub fn is_canonical_point_encoding(bytes: &[u8; ENCODING_BYTES]) -> bool {
    let (low, rest) = (bytes[0], &bytes[1..]);
    let (middle, top) = rest.split_at(rest.len().saturating_sub(1));
    let top_y = top.first().copied().unwrap_or(0) & !SIGN_BIT;
    let sign = bytes[ENCODING_BYTES - 1] & SIGN_BIT != 0;
    let high_all_ones = middle.iter().all(|&b| b == 0xff) && top_y == 0x7f;
    if high_all_ones && low >= FIELD_PRIME_LOW_BYTE {
        return false;
    }
    let y_is_one = low == 1 && middle.iter().all(|&b| b == 0) && top_y == 0;
    let y_is_minus_one = high_all_ones && low == FIELD_PRIME_MINUS_ONE_LOW_BYTE;
    !(sign && (y_is_one || y_is_minus_one))
}

/// Whether `point` lies in the prime-order subgroup: `[ℓ]P = 0`, computed in variable time
/// as `[ℓ − 1]P + P` (points here are public).
#[allow(clippy::arithmetic_side_effects)] // group operations on curve points cannot overflow
fn is_torsion_free(point: &EdwardsPoint) -> bool {
    let product = EdwardsPoint::vartime_multiscalar_mul([-Scalar::ONE], [*point]);
    (product + point).is_identity()
}

/// Decodes a public key under the strict rules: canonical, on the curve, not small order.
fn strict_key(pubkey: &Pubkey) -> Option<VerifyingKey> {
    if !is_canonical_point_encoding(pubkey.as_array()) {
        return None;
    }
    let key = VerifyingKey::from_bytes(pubkey.as_array()).ok()?;
    (!key.is_weak()).then_some(key)
}

/// Strict single verification of one signature (see the module docs for the rules).
pub fn verify_signature(pubkey: &Pubkey, message: &[u8], signature: &Signature) -> bool {
    let Some(key) = strict_key(pubkey) else {
        return false;
    };
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature.0))
        .is_ok()
}

/// Verifies every signature of `tx` one at a time.
pub fn verify_transaction(tx: &SanitizedTransaction) -> Result<(), TransactionError> {
    let message = tx.message_bytes();
    let all_valid = tx
        .signatures()
        .iter()
        .zip(tx.account_keys())
        .all(|(signature, key)| verify_signature(key, message, signature));
    if all_valid {
        Ok(())
    } else {
        Err(TransactionError::SignatureFailure)
    }
}

/// Screens one signature for the batch: `Some` if batching it is exact, `None` if strict
/// single verification is certain to reject it.
#[allow(clippy::arithmetic_side_effects)] // group operations on curve points cannot overflow
fn screen(
    pubkey: &Pubkey,
    message: &[u8],
    signature: &Signature,
) -> Option<(VerifyingKey, ed25519_dalek::Signature)> {
    let key = strict_key(pubkey)?;
    let (r_bytes, s_bytes) = signature.0.split_at(ENCODING_BYTES);
    let r_bytes: [u8; ENCODING_BYTES] = r_bytes.try_into().ok()?;
    let s_bytes: [u8; ENCODING_BYTES] = s_bytes.try_into().ok()?;
    Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !is_canonical_point_encoding(&r_bytes) {
        return None;
    }
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    if r.is_small_order() {
        return None;
    }
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(pubkey.as_ref());
    hasher.update(message);
    let wide: [u8; 64] = hasher.finalize().into();
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    let a = key.to_edwards();
    let mut q = r;
    for _ in 0..(k.as_bytes()[0] & COFACTOR_MASK) {
        q += a;
    }
    if !is_torsion_free(&q) {
        return None;
    }
    Some((key, ed25519_dalek::Signature::from_bytes(&signature.0)))
}

/// Verifies `txs` with one batch equation per [`BATCH_TRANSACTIONS_MAX`] transactions,
/// falling back to single verification for each transaction of a batch that fails, so only
/// the bad ones are rejected. Results are in input order and identical to
/// [`verify_transaction`]'s.
pub fn verify_batch(txs: &[SanitizedTransaction]) -> Vec<Result<(), TransactionError>> {
    let mut results = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(BATCH_TRANSACTIONS_MAX) {
        verify_chunk(chunk, &mut results);
    }
    results
}

/// [`verify_batch`] with chunks spread over rayon's thread pool.
pub fn verify_batch_par(txs: &[SanitizedTransaction]) -> Vec<Result<(), TransactionError>> {
    txs.par_chunks(BATCH_TRANSACTIONS_MAX)
        .flat_map_iter(|chunk| {
            let mut results = Vec::with_capacity(chunk.len());
            verify_chunk(chunk, &mut results);
            results
        })
        .collect()
}

/// Verifies one chunk, appending one result per transaction to `results`.
fn verify_chunk(chunk: &[SanitizedTransaction], results: &mut Vec<Result<(), TransactionError>>) {
    let first = results.len();
    let signature_count = chunk.iter().map(SanitizedTransaction::num_signatures).sum();
    let mut messages: Vec<&[u8]> = Vec::with_capacity(signature_count);
    let mut signatures = Vec::with_capacity(signature_count);
    let mut keys = Vec::with_capacity(signature_count);
    for tx in chunk {
        let start = messages.len();
        let mut passed = true;
        for (signature, pubkey) in tx.signatures().iter().zip(tx.account_keys()) {
            let Some((key, signature)) = screen(pubkey, tx.message_bytes(), signature) else {
                passed = false;
                break;
            };
            messages.push(tx.message_bytes());
            signatures.push(signature);
            keys.push(key);
        }
        if passed {
            results.push(Ok(()));
        } else {
            messages.truncate(start);
            signatures.truncate(start);
            keys.truncate(start);
            results.push(Err(TransactionError::SignatureFailure));
        }
    }
    if messages.is_empty() || ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return;
    }
    for (result, tx) in results[first..].iter_mut().zip(chunk) {
        if result.is_ok() {
            *result = verify_transaction(tx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_encoding_matches_decompress_then_compress() {
        let mut candidates: Vec<[u8; 32]> = Vec::new();
        for low in 0..=u8::MAX {
            for sign in [0, SIGN_BIT] {
                let mut high = [0xff; 32];
                high[0] = low;
                high[31] = 0x7f | sign;
                candidates.push(high);
                let mut small = [0u8; 32];
                small[0] = low;
                small[31] = sign;
                candidates.push(small);
            }
        }
        for seed in 0..64u8 {
            let mut hasher = Sha512::new();
            hasher.update([seed]);
            let wide: [u8; 64] = hasher.finalize().into();
            candidates.push(wide[..32].try_into().unwrap());
        }
        let mut decodable = 0;
        for bytes in candidates {
            if let Some(point) = CompressedEdwardsY(bytes).decompress() {
                decodable += 1;
                let canonical = point.compress().to_bytes() == bytes;
                assert_eq!(
                    is_canonical_point_encoding(&bytes),
                    canonical,
                    "{bytes:02x?}"
                );
            }
        }
        assert!(decodable > 100);
    }

    #[test]
    fn variable_time_torsion_check_agrees_with_the_library() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
            let prime = ED25519_BASEPOINT_POINT * Scalar::from(u64::try_from(i).unwrap() + 3);
            for point in [prime, prime + torsion, *torsion] {
                assert_eq!(is_torsion_free(&point), point.is_torsion_free());
            }
        }
    }
}
