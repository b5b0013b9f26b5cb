//! Strict, cofactored ed25519 signature verification, one at a time and batched.
//!
//! # What "valid" means
//!
//! A signature `(R, s)` by key `A` over message `M` is valid exactly when:
//!
//! - `s` is canonical (`s < ℓ`), so `s + ℓ` malleations are rejected;
//! - `A` and `R` are canonical encodings of curve points: `y < p`, and no sign bit on
//!   `x = 0`, so that decompressing then compressing gives back the same bytes (one point
//!   cannot control two account addresses, nor one signature have two encodings);
//! - neither `A` nor `R` has small order (order dividing the cofactor 8);
//! - the **cofactored** equation `[8]([s]B − R − [k]A) = 0` holds, with
//!   `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! The input rules are applied by one function, shared by [`verify_signature`],
//! [`verify_transaction`] and the batch paths, so they cannot drift apart.
//!
//! # Why cofactored, and the one deviation from Solana
//!
//! Solana verifies with ed25519-dalek's `verify_strict`: the same input rules but the
//! cofactorless equation `[s]B − R − [k]A = 0`. A cofactorless rule cannot be batched
//! exactly at a useful speed. A random linear combination `Σ zᵢ·Dᵢ` of the residuals
//! `Dᵢ = [sᵢ]B − Rᵢ − [kᵢ]Aᵢ` can be zero while some `Dᵢ` is a non-zero torsion point (of
//! order 2, say, whenever `zᵢ` is even), so batch and single verification would disagree
//! and a forger could grind the batch for it. Screening every signature for torsion
//! (checking `R + [k mod 8]A` is torsion-free) restores agreement but costs a scalar
//! multiplication by `ℓ` per signature: measured at 22 µs, it made batch verification
//! slower than single (46 µs against 36 µs per one-signature transaction).
//!
//! Under the cofactored rule both paths multiply by 8, which kills every torsion component:
//! a signature is accepted iff `[8]Dᵢ = 0`, and `[8]Dᵢ` lies in the prime-order subgroup. The
//! batch equation `[8](Σ zᵢ·Dᵢ) = Σ zᵢ·[8]Dᵢ` is linear in those prime-order residuals, so
//! it is zero when every signature is valid, and when some `[8]Dⱼ ≠ 0` it is zero for at
//! most one value of `zⱼ` in `[0, 2¹²⁸)` (as `2¹²⁸ < ℓ`, distinct weights give distinct
//! multiples): probability at most `2⁻¹²⁸` per set of weights. No torsion screen is needed,
//! and there is none.
//!
//! The decision (made for the whole chain) deviates from `verify_strict` in exactly one
//! place: a signature whose residual `Dᵢ` is a non-zero torsion point is accepted here and
//! rejected by Solana. That needs `A` or `R` to carry a torsion component (mixed order);
//! honest signers compute `A = [a]B` and `R = [r]B` from the prime-order basepoint and
//! never produce one, so only adversarially constructed signatures are judged differently,
//! and they are judged the same way by every Braid node whether it batches or not.
//! Everything `verify_strict` accepts (with a canonical `A`) is accepted here.
//!
//! # The batch weights
//!
//! The 128-bit weights `zᵢ` are deterministic: BLAKE3 in key-derivation mode over the whole
//! batch's transcript, every `Rᵢ`, `Aᵢ`, `sᵢ` and `kᵢ`, read out as an extendable output.
//! That is sound because the residuals are a function of exactly those inputs (the message
//! enters the equation only through `kᵢ = H(Rᵢ ‖ Aᵢ ‖ Mᵢ)`), so every residual is fixed
//! before any weight is known: modelling BLAKE3 as a random oracle, each batch a forger
//! tries succeeds with probability at most `2⁻¹²⁸`. Determinism keeps verification
//! reproducible and needs no random source.
//!
//! A failing batch is first searched for a single bad transaction, with one more
//! multiscalar multiplication over the batch with transaction `t`'s weights multiplied by
//! `t`: if `j` is the only bad one, that sum is `j` times the batch sum once both are
//! multiplied by 8 (`locate_single`). The found transaction is then cut out and the batch
//! equation must hold over the rest. A batch with more than one bad transaction, where no
//! such `j` exists, is bisected rather than re-verified one signature at a time: the batch
//! sum is linear, so with the same weights the sum over the right half of a set is the
//! set's sum minus the left half's. Each split costs one multiscalar multiplication over
//! the left half only, and a half whose `[8]`-multiple is zero is valid as a whole. One bad
//! signature in a batch of `n` costs the batch plus one multiplication over `n − 1`
//! transactions and one over the bad one: about the equation work again, and none of the
//! input-rule work (the decoded points are kept). Two or more cost that failed search and
//! the bisection, `n/2 + n/4 + …` more points per bad transaction. Where bad signatures
//! keep coming, [`BatchSizer`] makes batches smaller, so fewer of them pay. A lone
//! transaction whose sum is not zero has a bad signature: the batch equation fails only if
//! some signature fails the single equation, since `[8]Dᵢ = 0` for every valid one. So only
//! bad transactions are rejected and the results are exactly [`verify_transaction`]'s,
//! with the batch's `2⁻¹²⁸` bound on each accepted set.
//!
//! # Cost
//!
//! Measured on the shared 2-core dev machine under a load average of about 4 (release,
//! `cargo test --release -p braid-runtime --test sigverify_strict -- --ignored
//! --nocapture`; fastest of 101 rounds, medians in parentheses), per signature: single
//! verification 31 µs (32), batches of 64 one-signature transactions 15.1 µs (15.3), a
//! chunk of 64 four-signature transactions (256 signatures) 14.1 µs (14.4), and a batch of
//! 64 with one bad signature, which then paid the batch and 64 single equations, 40 µs
//! (bisection has since brought that to 1.34–1.45× a clean batch, BENCHMARKS.md). On the
//! Intel machine of 2026-11-30 with the IFMA backend, bisection measured 1.75–1.81×: any
//! search redoes the batch equation over nearly every transaction, and there the equation
//! is 9.9 µs of a clean batch's 16.5 µs per signature. The one-step search for a single bad
//! transaction saves the bisection's extra calls: 1.69–1.75× at 64, and 1.54–1.55× in
//! batches of 255, where a clean signature cost 12.2 µs. Refusing small-order points by
//! their encoding (2026-12-01) brought a clean signature at 255 to 11.95 µs and left the
//! search's 6.7 µs, so the ratio rose to 1.55–1.57×.
//! Under a load average of 10 the fastest rounds were the same within 1 µs. Of a batched
//! signature's cost the input rules take 7 µs (two point decompressions and SHA-512) and its
//! share of the batch equation 7.6 µs at 64 and 6.2 µs at 256; the single equation alone is
//! 24 µs. The torsion-screened cofactorless batch this replaced cost 46 µs per signature.
//! These figures predate the memory of decoded keys below; with a key remembered, the input
//! rules are one decompression (of `R`) and SHA-512.
//!
//! Each thread remembers the public keys it decoded ([`DECODED_KEYS_MAX`]), since signers
//! sign again and again. On the same machine on 2026-11-30 (`cargo bench -p braid-benches
//! --bench runtime -- sigverify/batch`, two runs), a batch of 64 cost 29.1 and 23.0 µs per
//! signature with its keys remembered, against 32.2 and 33.5 µs with every key new.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use braid_primitives::KeyHasherBuilder;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, VartimeMultiscalarMul};
use rayon::prelude::*;
use sha2::{Digest, Sha512};
use std::borrow::Borrow;

use crate::sanitized::SanitizedTransaction;
use crate::{Pubkey, Signature, TransactionError};

/// Transactions per batch equation, at most and by default. From 95 one-signature
/// transactions (190 points) curve25519-dalek multiplies by Pippenger's method rather than
/// Straus's: on the development machine a clean signature cost 17.0 µs in batches of 64,
/// 13.3 µs in batches of 128 and 12.2 µs in batches of 256 (BENCHMARKS.md, issue 10,
/// seventh pass). A failed batch costs more the larger it is, which [`BatchSizer`] weighs.
pub const BATCH_TRANSACTIONS_MAX: usize = 256;

/// The fewest transactions per batch equation [`BatchSizer`] chooses.
pub const BATCH_TRANSACTIONS_MIN: usize = 16;

/// Transactions a [`BatchSizer`] remembers before it halves its counts, so that the last
/// few thousand decide.
pub const SIZER_WINDOW_TRANSACTIONS: u64 = 4096;

/// [`BatchSizer`] halves batches once one transaction in this many fails the equation...
pub const HALF_BATCH_FAILURE_ONE_IN: u64 = 768;
/// ...and makes them [`BATCH_TRANSACTIONS_MIN`] long at one in this many.
pub const MIN_BATCH_FAILURE_ONE_IN: u64 = 224;

/// Fractional bits of [`BatchSizer`]'s failure count, so halving it keeps the rate.
const SIZER_FAILURE_SCALE_BITS: u32 = 16;

const _: () = assert!(BATCH_TRANSACTIONS_MIN.is_power_of_two());
const _: () = assert!(BATCH_TRANSACTIONS_MIN <= BATCH_TRANSACTIONS_MAX / 2);
const _: () = assert!(MIN_BATCH_FAILURE_ONE_IN < HALF_BATCH_FAILURE_ONE_IN);
// After halving, the window still spans the rarest rate the sizer acts on.
const _: () = assert!(SIZER_WINDOW_TRANSACTIONS / 2 >= HALF_BATCH_FAILURE_ONE_IN);

/// Bytes of a compressed point or scalar.
const ENCODING_BYTES: usize = 32;
/// Bytes of a batch weight `zᵢ` (128 bits).
const WEIGHT_BYTES: usize = 16;
/// BLAKE3 key-derivation context for the batch weights (domain separation).
const WEIGHTS_CONTEXT: &str = "braid 2025 sigverify cofactored batch weights v1";
/// The sign bit of `x` in a compressed point's last byte.
const SIGN_BIT: u8 = 0x80;
/// The low byte of `p = 2^255 − 19`; `p`'s other bytes are `0xff` and a top `0x7f`.
const FIELD_PRIME_LOW_BYTE: u8 = 0xed;
/// The low byte of `p − 1`, the `y` of the order-2 point `(0, −1)`.
const FIELD_PRIME_MINUS_ONE_LOW_BYTE: u8 = 0xec;

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

/// One signature that passed the input rules, decoded for the equations.
struct Screened {
    a_bytes: [u8; ENCODING_BYTES],
    r_bytes: [u8; ENCODING_BYTES],
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

/// The encodings of the eight points of small order (the torsion subgroup). A canonical
/// encoding names one point and each point has one canonical encoding, so a canonically
/// encoded point has small order exactly when its bytes are one of these. Comparing bytes
/// spares every `R`, and every public key not yet remembered, the three doublings of a
/// small-order test: 0.6 µs, 5% of a clean signature's cost in batches of 255
/// (BENCHMARKS.md, issue 10, eighth pass).
static SMALL_ORDER_ENCODINGS: LazyLock<[[u8; ENCODING_BYTES]; 8]> =
    LazyLock::new(|| EIGHT_TORSION.map(|point| point.compress().to_bytes()));

/// Decodes a point under the strict rules: canonical, on the curve, not small order.
fn strict_point(bytes: &[u8; ENCODING_BYTES]) -> Option<EdwardsPoint> {
    if !is_canonical_point_encoding(bytes) || SMALL_ORDER_ENCODINGS.contains(bytes) {
        return None;
    }
    let point = CompressedEdwardsY(*bytes).decompress()?;
    debug_assert!(!point.is_small_order(), "{bytes:02x?}");
    Some(point)
}

/// Public keys each thread keeps decoded; past this many it forgets them all and starts over.
/// Seven eighths of 16,384: the most a hash table of 16,384 slots holds without growing, so
/// the table is allocated once at that size (32-byte key and 160-byte point per slot, about
/// 3.2 MB per thread that verifies) and never resized.
pub const DECODED_KEYS_MAX: usize = 14_336;

thread_local! {
    /// Recently seen public keys, decoded. A signer signs again and again (a fee payer's
    /// every transaction), and decoding its key is a point decompression each time.
    /// Decoding is a pure function of the 32 bytes, so remembering it cannot change a
    /// verdict; keys that fail the rules are not kept.
    static DECODED_KEYS: RefCell<HashMap<[u8; ENCODING_BYTES], EdwardsPoint, KeyHasherBuilder>> =
        RefCell::new(HashMap::with_capacity_and_hasher(DECODED_KEYS_MAX, KeyHasherBuilder::new()));
}

/// [`strict_point`] for a public key, remembered per thread ([`DECODED_KEYS_MAX`]).
fn strict_public_key(bytes: &[u8; ENCODING_BYTES]) -> Option<EdwardsPoint> {
    DECODED_KEYS.with(|keys| {
        if let Some(point) = keys.borrow().get(bytes) {
            return Some(*point);
        }
        let point = strict_point(bytes)?;
        let mut keys = keys.borrow_mut();
        if keys.len() >= DECODED_KEYS_MAX {
            // Forgetting everything bounds memory without tracking recency; a busy signer
            // is back after its next signature.
            keys.clear();
        }
        keys.insert(*bytes, point);
        Some(point)
    })
}

/// Applies the input rules to one signature (the same code for every path): `None` if any
/// fails, else the decoded signature with its challenge `k`.
fn screen(pubkey: &Pubkey, message: &[u8], signature: &Signature) -> Option<Screened> {
    let r_bytes = *signature.0.first_chunk::<ENCODING_BYTES>()?;
    let s_bytes = *signature.0.last_chunk::<ENCODING_BYTES>()?;
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let a_bytes = *pubkey.as_array();
    let a = strict_public_key(&a_bytes)?;
    let r = strict_point(&r_bytes)?;
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(a_bytes);
    hasher.update(message);
    let wide: [u8; 64] = hasher.finalize().into();
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    Some(Screened {
        a_bytes,
        r_bytes,
        a,
        r,
        s,
        k,
    })
}

/// The single equation `[8]([s]B − R − [k]A) = 0`.
// Scalar negation is modulo ℓ and point subtraction is group arithmetic: neither can
// overflow.
#[allow(clippy::arithmetic_side_effects)]
fn single_equation_holds(signature: &Screened) -> bool {
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &-signature.k,
        &signature.a,
        &signature.s,
    );
    (sb_minus_ka - signature.r).mul_by_cofactor().is_identity()
}

/// The batch weights `zᵢ`, 128 bits each, derived from a transcript of every input that
/// determines a residual (see the module docs).
fn batch_weights(signatures: &[Screened]) -> Vec<Scalar> {
    let mut hasher = blake3::Hasher::new_derive_key(WEIGHTS_CONTEXT);
    hasher.update(
        &u64::try_from(signatures.len())
            .unwrap_or(u64::MAX)
            .to_le_bytes(),
    );
    for signature in signatures {
        hasher.update(&signature.r_bytes);
        hasher.update(&signature.a_bytes);
        hasher.update(signature.s.as_bytes());
        hasher.update(signature.k.as_bytes());
    }
    let mut output = hasher.finalize_xof();
    signatures
        .iter()
        .map(|_| {
            let mut bytes = [0u8; ENCODING_BYTES];
            output.fill(&mut bytes[..WEIGHT_BYTES]);
            Scalar::from_bytes_mod_order(bytes)
        })
        .collect()
}

/// The batch sum `−(Σ zᵢsᵢ)B + Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ`, which is `−Σ zᵢDᵢ`, over `signatures`
/// with their weights. The batch equation holds when its `[8]`-multiple is the identity.
// Scalar sums, products and negation are modulo ℓ: they cannot overflow.
#[allow(clippy::arithmetic_side_effects)]
fn batch_sum(signatures: &[Screened], weights: &[Scalar]) -> EdwardsPoint {
    let b_coefficient: Scalar = weights
        .iter()
        .zip(signatures)
        .map(|(z, signature)| z * signature.s)
        .sum();
    let scalars = std::iter::once(-b_coefficient)
        .chain(weights.iter().copied())
        .chain(
            weights
                .iter()
                .zip(signatures)
                .map(|(z, signature)| z * signature.k),
        );
    let points = std::iter::once(ED25519_BASEPOINT_POINT)
        .chain(signatures.iter().map(|signature| signature.r))
        .chain(signatures.iter().map(|signature| signature.a));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
}

/// Whether a batch sum says every signature in it is valid.
fn sum_holds(sum: &EdwardsPoint) -> bool {
    sum.mul_by_cofactor().is_identity()
}

/// The batch equation over `signatures`, weighted by their own transcript.
#[cfg(test)]
fn batch_equation_holds(signatures: &[Screened]) -> bool {
    sum_holds(&batch_sum(signatures, &batch_weights(signatures)))
}

/// The one bad transaction of a batch whose sum `sum` does not hold, found with one more
/// multiscalar multiplication instead of a bisection's `log₂ n`; `None` if the batch does not
/// have exactly one (then bisect). `spans[t]` is transaction `t`'s range in `signatures` and
/// `weights`.
///
/// Weighting transaction `t`'s terms by `t·zᵢ` gives a sum that, if `j` is the only bad
/// transaction, is `j` times the batch sum once both are multiplied by the cofactor: the
/// valid terms vanish from both. `j` is read off by stepping through the multiples, which
/// are distinct because `[8]sum` has prime order. Then the batch equation over the others
/// (the sum without `j`'s terms, same weights) must hold, which is what makes the verdicts
/// the same as a bisection's: the others pass a batch equation, and `j`'s own sum is the
/// nonzero `[8]sum`. Transaction 0's weights are zero, so the multiplication covers `n − 1`
/// transactions where a bisection covers `n/2 + n/4 + … + 1`, in one call rather than
/// `log₂ n` (each call pays about 30 µs of doublings, BENCHMARKS.md).
// Scalar products are modulo ℓ and point sums group arithmetic: neither can overflow.
#[allow(clippy::arithmetic_side_effects)]
fn locate_single(
    signatures: &[Screened],
    weights: &[Scalar],
    spans: &[std::ops::Range<usize>],
    sum: EdwardsPoint,
) -> Option<usize> {
    let first = spans.get(1)?.start;
    let mut indexed = Vec::with_capacity(weights.len().saturating_sub(first));
    for (position, span) in spans.iter().enumerate().skip(1) {
        let factor = Scalar::from(u64::try_from(position).ok()?);
        indexed.extend(
            weights
                .get(span.clone())?
                .iter()
                .map(|weight| factor * weight),
        );
    }
    let target = batch_sum(signatures.get(first..)?, &indexed).mul_by_cofactor();
    let step = sum.mul_by_cofactor();
    let mut multiple = EdwardsPoint::identity();
    let mut found = None;
    for position in 0..spans.len() {
        if multiple == target {
            found = Some(position);
            break;
        }
        multiple += step;
    }
    let bad = found?;
    let span = spans.get(bad)?.clone();
    let bad_sum = batch_sum(signatures.get(span.clone())?, weights.get(span)?);
    sum_holds(&(sum - bad_sum)).then_some(bad)
}

/// Finds the bad transactions of `group`, whose batch sum `sum` does not hold: splits it in
/// two by transaction, computes the left half's sum, derives the right half's by
/// subtraction, and descends into each half that does not hold. `spans[i]` is transaction
/// `group.start + i`'s range in `signatures` and `weights`; bad ones are marked in `bad`.
// Point subtraction is group arithmetic: it cannot overflow.
#[allow(clippy::arithmetic_side_effects)]
fn bisect(
    signatures: &[Screened],
    weights: &[Scalar],
    spans: &[std::ops::Range<usize>],
    group: std::ops::Range<usize>,
    sum: EdwardsPoint,
    bad: &mut [bool],
) {
    let Some(middle) = group.start.checked_add(group.len() / 2) else {
        return;
    };
    if group.len() <= 1 {
        if let Some(flag) = bad.get_mut(group.start) {
            *flag = true;
        }
        return;
    }
    let signature_range = |txs: std::ops::Range<usize>| {
        let start = spans.get(txs.start).map_or(0, |span| span.start);
        let end = txs
            .end
            .checked_sub(1)
            .and_then(|last| spans.get(last))
            .map_or(start, |span| span.end);
        start..end
    };
    let left = group.start..middle;
    let right = middle..group.end;
    let left_signatures = signature_range(left.clone());
    let left_sum = batch_sum(
        &signatures[left_signatures.clone()],
        &weights[left_signatures],
    );
    let right_sum = sum - left_sum;
    for (half, half_sum) in [(left, left_sum), (right, right_sum)] {
        if !sum_holds(&half_sum) {
            bisect(signatures, weights, spans, half, half_sum, bad);
        }
    }
}

/// Strict single verification of one signature (see the module docs for the rules).
pub fn verify_signature(pubkey: &Pubkey, message: &[u8], signature: &Signature) -> bool {
    screen(pubkey, message, signature).is_some_and(|screened| single_equation_holds(&screened))
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

/// Verifies `txs` with one batch equation per [`BATCH_TRANSACTIONS_MAX`] transactions,
/// bisecting a batch that fails (see the module docs), so only the bad ones are rejected.
/// Results are in input order and identical to [`verify_transaction`]'s.
///
/// Takes owned transactions or references (`&[SanitizedTransaction]` or
/// `&[&SanitizedTransaction]`), so a caller holding them inside its own records need not
/// copy them.
pub fn verify_batch<T: Borrow<SanitizedTransaction>>(
    txs: &[T],
) -> Vec<Result<(), TransactionError>> {
    verify_batch_sized(txs, BATCH_TRANSACTIONS_MAX)
}

/// [`verify_batch`] with `batch_transactions` per batch equation (clamped to
/// `1..=`[`BATCH_TRANSACTIONS_MAX`]). The results do not depend on the size; the cost does.
pub fn verify_batch_sized<T: Borrow<SanitizedTransaction>>(
    txs: &[T],
    batch_transactions: usize,
) -> Vec<Result<(), TransactionError>> {
    verify_in_batches(txs, batch_transactions).0
}

/// [`verify_batch_sized`]'s work, also returning how many transactions failed the batch
/// equation.
fn verify_in_batches<T: Borrow<SanitizedTransaction>>(
    txs: &[T],
    batch_transactions: usize,
) -> (Vec<Result<(), TransactionError>>, usize) {
    let mut results = Vec::with_capacity(txs.len());
    let mut failed = 0usize;
    for chunk in txs.chunks(batch_transactions.clamp(1, BATCH_TRANSACTIONS_MAX)) {
        failed = failed.saturating_add(verify_chunk(chunk, &mut results));
    }
    (results, failed)
}

/// Chooses the batch size from how many recent transactions failed the batch equation.
///
/// A batch holding one bad signature pays for the search, about half a clean batch again
/// at 256 transactions; one holding two or more pays a bisection, about twice a clean
/// batch again (BENCHMARKS.md, issue 10). When failures come at one per batch or more,
/// most batches pay; a smaller batch makes fewer pay, for more per clean signature (17–18
/// µs at 16–64 transactions against 12.2 µs at 256). So the size steps down from
/// [`BATCH_TRANSACTIONS_MAX`] to half of it at one failure in
/// [`HALF_BATCH_FAILURE_ONE_IN`] transactions, and to [`BATCH_TRANSACTIONS_MIN`] at one in
/// [`MIN_BATCH_FAILURE_ONE_IN`]: about where the expected cost per signature of the
/// smaller size, from those measured costs, drops below the larger's (the crossings came
/// out near one in 850 and one in 230). Only equation failures count: a signature that
/// breaks an input rule is refused before any batch and costs nothing to find. Verdicts
/// never depend on the size, so neither does any result.
///
/// What it lets a sender do: about one equation failure in 224 transactions (free to
/// send: refused transactions pay no fee) holds every worker at the smallest batches, so
/// honest signatures lose the large batches' amortisation, about a third of their cost.
/// Without it, the same failures make most batches pay a bisection.
#[derive(Debug, Clone, Default)]
pub struct BatchSizer {
    checked: u64,
    /// Failures, scaled by `2^SIZER_FAILURE_SCALE_BITS`.
    failed_scaled: u64,
}

impl BatchSizer {
    /// A sizer with no history: full batches.
    pub fn new() -> Self {
        Self::default()
    }

    /// Transactions per batch equation for the next batches.
    pub fn batch_transactions(&self) -> usize {
        let checked_scaled = self.checked.max(1) << SIZER_FAILURE_SCALE_BITS;
        let failed_scaled = self.failed_scaled;
        if failed_scaled.saturating_mul(MIN_BATCH_FAILURE_ONE_IN) >= checked_scaled {
            BATCH_TRANSACTIONS_MIN
        } else if failed_scaled.saturating_mul(HALF_BATCH_FAILURE_ONE_IN) >= checked_scaled {
            BATCH_TRANSACTIONS_MAX / 2
        } else {
            BATCH_TRANSACTIONS_MAX
        }
    }

    /// Verifies `txs` as [`verify_batch`] does, in batches of the current size, and learns
    /// from how many failed the batch equation.
    pub fn verify<T: Borrow<SanitizedTransaction>>(
        &mut self,
        txs: &[T],
    ) -> Vec<Result<(), TransactionError>> {
        let (results, failed) = verify_in_batches(txs, self.batch_transactions());
        self.record(txs.len(), failed);
        results
    }

    /// Adds `checked` transactions, `failed` of them bad by the batch equation.
    pub fn record(&mut self, checked: usize, failed: usize) {
        let checked = checked as u64;
        let failed = (failed as u64).min(checked);
        // More than a window at once counts as a window at the same rate, so the counts
        // stay far below 2^48 and the shift below cannot drop bits.
        let window = SIZER_WINDOW_TRANSACTIONS;
        let (checked, failed_scaled) = if checked > window {
            let scaled = (u128::from(failed) << SIZER_FAILURE_SCALE_BITS)
                .saturating_mul(u128::from(window))
                .checked_div(u128::from(checked))
                .unwrap_or(0);
            (window, u64::try_from(scaled).unwrap_or(u64::MAX))
        } else {
            (checked, failed << SIZER_FAILURE_SCALE_BITS)
        };
        self.checked = self.checked.saturating_add(checked);
        self.failed_scaled = self.failed_scaled.saturating_add(failed_scaled);
        while self.checked > SIZER_WINDOW_TRANSACTIONS {
            self.checked /= 2;
            self.failed_scaled /= 2;
        }
    }
}

/// [`verify_batch`] with chunks spread over rayon's thread pool.
pub fn verify_batch_par<T: Borrow<SanitizedTransaction> + Sync>(
    txs: &[T],
) -> Vec<Result<(), TransactionError>> {
    txs.par_chunks(BATCH_TRANSACTIONS_MAX)
        .flat_map_iter(|chunk| {
            let mut results = Vec::with_capacity(chunk.len());
            verify_chunk(chunk, &mut results);
            results
        })
        .collect()
}

/// Verifies one chunk, appending one result per transaction to `results`; returns how many
/// failed the batch equation (not an input rule).
fn verify_chunk<T: Borrow<SanitizedTransaction>>(
    chunk: &[T],
    results: &mut Vec<Result<(), TransactionError>>,
) -> usize {
    let signature_count = chunk.iter().map(|tx| tx.borrow().num_signatures()).sum();
    let mut screened = Vec::with_capacity(signature_count);
    // Per transaction, the range of its signatures in `screened`, or `None` if one of them
    // broke an input rule.
    let mut spans = Vec::with_capacity(chunk.len());
    for tx in chunk {
        let tx = tx.borrow();
        let start = screened.len();
        let message = tx.message_bytes();
        let passed = tx
            .signatures()
            .iter()
            .zip(tx.account_keys())
            .all(
                |(signature, pubkey)| match screen(pubkey, message, signature) {
                    Some(signature) => {
                        screened.push(signature);
                        true
                    }
                    None => false,
                },
            );
        if passed {
            spans.push(Some(start..screened.len()));
        } else {
            screened.truncate(start);
            spans.push(None);
        }
    }
    // Bisection needs the screened transactions' signatures to sit side by side.
    let passed: Vec<std::ops::Range<usize>> = spans.iter().flatten().cloned().collect();
    let weights = batch_weights(&screened);
    let sum = batch_sum(&screened, &weights);
    let mut bad = vec![false; passed.len()];
    if !screened.is_empty() && !sum_holds(&sum) {
        match locate_single(&screened, &weights, &passed, sum) {
            Some(position) => bad[position] = true,
            None => bisect(&screened, &weights, &passed, 0..passed.len(), sum, &mut bad),
        }
    }
    let failed = bad.iter().filter(|&&bad| bad).count();
    let mut bad = bad.into_iter();
    results.extend(spans.into_iter().map(|span| {
        let valid = span.is_some() && bad.next() == Some(false);
        if valid {
            Ok(())
        } else {
            Err(TransactionError::SignatureFailure)
        }
    }));
    failed
}

#[cfg(test)]
// Tests build inputs from small counters and do scalar and group arithmetic, none of which
// can overflow in practice; an overflow would panic in the debug builds tests run in.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// The strict rules as they were written first: decode, then test the order.
    fn strict_point_by_order(bytes: &[u8; 32]) -> Option<[u8; 32]> {
        let point = CompressedEdwardsY(*bytes).decompress()?;
        (is_canonical_point_encoding(bytes) && !point.is_small_order())
            .then(|| point.compress().to_bytes())
    }

    fn decoded(bytes: &[u8; 32]) -> Option<[u8; 32]> {
        strict_point(bytes).map(|point| point.compress().to_bytes())
    }

    /// `bytes` with `y` replaced by `y + p`, the one other value the 255 bits hold for the
    /// same field element, where `y < 19`.
    fn plus_field_prime(bytes: [u8; 32]) -> Option<[u8; 32]> {
        let sign = bytes[31] & SIGN_BIT;
        let y_is_small = bytes[0] < 19 && bytes[1..31].iter().all(|&b| b == 0) && bytes[31] == sign;
        y_is_small.then(|| {
            let mut raised = [0xff; 32];
            raised[0] = FIELD_PRIME_LOW_BYTE + bytes[0];
            raised[31] = 0x7f | sign;
            raised
        })
    }

    #[test]
    fn small_order_is_refused_by_its_encoding_exactly_when_by_its_order() {
        let listed: std::collections::BTreeSet<[u8; 32]> =
            SMALL_ORDER_ENCODINGS.iter().copied().collect();
        assert_eq!(listed.len(), 8, "eight distinct small-order points");
        // Each torsion point's encoding with either sign bit and, where `y < 19`, with
        // `y + p`: every byte string that decodes to a point of small order.
        let mut small: std::collections::BTreeSet<[u8; 32]> = std::collections::BTreeSet::new();
        for torsion in EIGHT_TORSION {
            let bytes = torsion.compress().to_bytes();
            let mut flipped = bytes;
            flipped[31] ^= SIGN_BIT;
            for form in [bytes, flipped] {
                small.insert(form);
                small.extend(plus_field_prime(form));
            }
        }
        small.retain(|bytes| CompressedEdwardsY(*bytes).decompress().is_some());
        assert_eq!(small.len(), 14, "eight canonical encodings and six others");
        for bytes in &small {
            assert!(
                CompressedEdwardsY(*bytes)
                    .decompress()
                    .is_some_and(|point| point.is_small_order())
            );
            assert_eq!(decoded(bytes), None, "{bytes:02x?}");
            assert_eq!(strict_point_by_order(bytes), None, "{bytes:02x?}");
        }
        // Mixed order (a torsion point plus one of large order) is accepted.
        for (index, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
            let mixed = EdwardsPoint::mul_base(&seeded_scalar(index as u64)) + torsion;
            let bytes = mixed.compress().to_bytes();
            assert_eq!(decoded(&bytes), Some(bytes));
        }
    }

    /// Encodings near the small-order points: a torsion point, alone or plus a point of
    /// large order, with the sign bit as encoded or flipped, and `y + p` where it fits.
    fn near_small_order() -> impl Strategy<Value = [u8; 32]> {
        (
            0..EIGHT_TORSION.len(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(|(index, large, flip, raise, seed)| {
                let torsion = EIGHT_TORSION[index];
                let point = if large {
                    EdwardsPoint::mul_base(&seeded_scalar(seed)) + torsion
                } else {
                    torsion
                };
                let mut bytes = point.compress().to_bytes();
                if flip {
                    bytes[31] ^= SIGN_BIT;
                }
                if raise {
                    bytes = plus_field_prime(bytes).unwrap_or(bytes);
                }
                bytes
            })
    }

    proptest! {
        #[test]
        fn strict_point_agrees_with_the_order_test(
            bytes in prop_oneof![any::<[u8; 32]>(), near_small_order()]
        ) {
            prop_assert_eq!(decoded(&bytes), strict_point_by_order(&bytes));
        }
    }

    fn seeded_scalar(seed: u64) -> Scalar {
        let mut hasher = Sha512::new();
        hasher.update(seed.to_le_bytes());
        Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
    }

    /// Signs `message` for key `[a]B + key_torsion` with nonce `[r]B + nonce_torsion`;
    /// `s_offset` is added to `s` (non-zero: an invalid signature).
    fn screened(seed: u64, key_torsion: usize, nonce_torsion: usize, s_offset: u64) -> Screened {
        let (a, r) = (seeded_scalar(seed), seeded_scalar(seed + 1_000));
        let key = (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[key_torsion]).compress();
        let nonce = (EdwardsPoint::mul_base(&r) + EIGHT_TORSION[nonce_torsion]).compress();
        let message = seed.to_le_bytes();
        let mut hasher = Sha512::new();
        hasher.update(nonce.as_bytes());
        hasher.update(key.as_bytes());
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = r + k * a + Scalar::from(s_offset);
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(nonce.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        screen(
            &Pubkey::new_from_array(key.to_bytes()),
            &message,
            &Signature(signature),
        )
        .expect("constructed inputs pass the input rules")
    }

    /// The batch equation itself, not only the fallback, agrees with the single one:
    /// mixed-order signatures whose residual is pure torsion pass both, and one residual
    /// with a prime-order part fails the batch wherever it hides.
    #[test]
    fn batch_equation_matches_single_without_fallback() {
        let mut good = Vec::new();
        for seed in 0..24u64 {
            let (key_torsion, nonce_torsion) = ((seed % 8) as usize, (seed / 3 % 8) as usize);
            let signature = screened(seed, key_torsion, nonce_torsion, 0);
            assert!(single_equation_holds(&signature), "seed {seed}");
            good.push(signature);
        }
        assert!(batch_equation_holds(&good));
        for seed in 0..good.len() as u64 {
            let bad = screened(seed, (seed % 8) as usize, 4, 1);
            assert!(!single_equation_holds(&bad), "seed {seed}");
            assert!(!batch_equation_holds(std::slice::from_ref(&bad)));
            let mut mixed: Vec<Screened> = (0..good.len() as u64)
                .map(|s| screened(s, (s % 8) as usize, (s / 3 % 8) as usize, 0))
                .collect();
            mixed[seed as usize] = bad;
            assert!(!batch_equation_holds(&mixed), "bad at {seed}");
        }
    }

    /// One bad transaction is found wherever it sits, among valid signatures whose
    /// residuals are pure torsion, and also inside a transaction of several signatures; a
    /// batch with two bad transactions is left to the bisection, which finds both.
    #[test]
    fn one_bad_transaction_is_located_without_bisecting() {
        let valid = |seed: u64| screened(seed, (seed % 8) as usize, (seed / 3 % 8) as usize, 0);
        let count = 12;
        let singles: Vec<std::ops::Range<usize>> = (0..count).map(|t| t..t + 1).collect();
        for bad_at in 0..count {
            let batch: Vec<Screened> = (0..count as u64)
                .map(|seed| match seed as usize == bad_at {
                    true => screened(seed, (seed % 8) as usize, 4, 1),
                    false => valid(seed),
                })
                .collect();
            let weights = batch_weights(&batch);
            let sum = batch_sum(&batch, &weights);
            assert!(!sum_holds(&sum));
            assert_eq!(
                locate_single(&batch, &weights, &singles, sum),
                Some(bad_at),
                "bad at {bad_at}"
            );
        }
        // Three transactions of two signatures each; the middle one's second is bad.
        let mut batch: Vec<Screened> = (0..6).map(valid).collect();
        batch[3] = screened(3, 0, 0, 7);
        let pairs = [0..2, 2..4, 4..6];
        let weights = batch_weights(&batch);
        let sum = batch_sum(&batch, &weights);
        assert_eq!(locate_single(&batch, &weights, &pairs, sum), Some(1));
        // Two bad transactions: no single one explains the sum.
        let mut batch: Vec<Screened> = (0..count as u64).map(valid).collect();
        batch[2] = screened(2, 0, 0, 1);
        batch[9] = screened(9, 0, 0, 3);
        let weights = batch_weights(&batch);
        let sum = batch_sum(&batch, &weights);
        assert_eq!(locate_single(&batch, &weights, &singles, sum), None);
        let mut bad = vec![false; count];
        bisect(&batch, &weights, &singles, 0..count, sum, &mut bad);
        let found: Vec<usize> = (0..count).filter(|&t| bad[t]).collect();
        assert_eq!(found, [2, 9]);
    }

    #[test]
    fn weights_are_deterministic_and_bind_every_input() {
        let batch: Vec<Screened> = (0..4).map(|seed| screened(seed, 0, 0, 0)).collect();
        let weights = batch_weights(&batch);
        assert_eq!(weights, batch_weights(&batch));
        assert!(
            weights
                .iter()
                .all(|z| z.as_bytes()[WEIGHT_BYTES..] == [0; 16])
        );
        let mut changed: Vec<Screened> = (0..4).map(|seed| screened(seed, 0, 0, 0)).collect();
        changed[3] = screened(3, 0, 0, 1);
        let other = batch_weights(&changed);
        assert!(weights.iter().zip(&other).all(|(a, b)| a != b));
    }
}
