//! Batched and single signature verification accept exactly the same signatures, including
//! the adversarial ones: malleated scalars, small-order keys and nonces, non-canonical
//! encodings, keys and nonces with torsion components, and invalid signatures built to
//! cancel each other in a batch.
//!
//! Signatures are built from raw scalars: `R = [r]B + T_R`, `k = H(R ‖ A ‖ M)`,
//! `s = r + k·a + e`, for a key `A = [a]B + T_A` and an error `e` (zero for a signature
//! made with the secret). The residual is `D = [s]B − R − [k]A = [e]B − T_R − [k]T_A`.
//! Braid's cofactored rule accepts iff `[8]D = 0`, i.e. iff `e = 0`, whatever the torsion:
//! a mixed-order signature whose residual is pure torsion is **accepted**, by single and
//! batch verification alike. Solana's cofactorless `verify_strict` accepts iff `D = 0`,
//! i.e. `e = 0` and `T_R = −[k]T_A`; the difference is the documented deviation.

// Tests compute offsets and sizes of small, known values; an overflow would be a bug in
// the test and panics in the debug builds tests run in.
#![allow(clippy::arithmetic_side_effects)]

use braid_runtime::instruction::{AccountMeta, Instruction};
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::sigverify::{
    BATCH_TRANSACTIONS_MAX, BATCH_TRANSACTIONS_MIN, BatchSizer, HALF_BATCH_FAILURE_ONE_IN,
    MIN_BATCH_FAILURE_ONE_IN, SIZER_WINDOW_TRANSACTIONS, is_canonical_point_encoding, verify_batch,
    verify_batch_par, verify_batch_sized, verify_signature, verify_transaction,
};
use braid_runtime::{Hash, Message, Pubkey, Signature, Transaction};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use sha2::{Digest, Sha512};

const PROGRAM: Pubkey = Pubkey::new_from_array([0x77; 32]);

/// ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn scalar(n: u64) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(n.to_le_bytes());
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(r);
    hasher.update(a);
    hasher.update(message);
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// An unsigned transaction paid by `payer`, varied by `nonce`, and its message bytes.
fn unsigned(payer: [u8; 32], nonce: u64) -> (Transaction, Vec<u8>) {
    let instruction = Instruction {
        program_id: PROGRAM,
        accounts: vec![AccountMeta::new(Pubkey::new_from_array(payer), true)],
        data: nonce.to_le_bytes().to_vec(),
    };
    let message = Message::new(&[instruction], Some(&Pubkey::new_from_array(payer)));
    let bytes = message.serialize();
    (Transaction::new_unsigned(message), bytes)
}

fn signed(mut tx: Transaction, r: [u8; 32], s: [u8; 32]) -> SanitizedTransaction {
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r);
    signature[32..].copy_from_slice(&s);
    tx.signatures = vec![Signature(signature)];
    SanitizedTransaction::try_new(tx).unwrap()
}

/// Signs for key `a·B + key_torsion` with nonce point `r·B + nonce_torsion`.
fn raw_sign(
    a: Scalar,
    key_torsion: EdwardsPoint,
    r: Scalar,
    nonce_torsion: EdwardsPoint,
    nonce: u64,
) -> SanitizedTransaction {
    raw_sign_with_error(a, key_torsion, r, nonce_torsion, nonce, Scalar::ZERO)
}

/// [`raw_sign`] with `error` added to `s`: the residual gains the prime-order part
/// `[error]B`.
fn raw_sign_with_error(
    a: Scalar,
    key_torsion: EdwardsPoint,
    r: Scalar,
    nonce_torsion: EdwardsPoint,
    nonce: u64,
    error: Scalar,
) -> SanitizedTransaction {
    let key = (B * a + key_torsion).compress().to_bytes();
    let (tx, message) = unsigned(key, nonce);
    let r_bytes = (B * r + nonce_torsion).compress().to_bytes();
    let s = r + challenge(&r_bytes, &key, &message) * a + error;
    signed(tx, r_bytes, s.to_bytes())
}

/// The challenge `k` of a constructed one-signature transaction.
fn challenge_of(tx: &SanitizedTransaction) -> Scalar {
    let key = tx.account_keys()[0].to_bytes();
    let r_bytes: [u8; 32] = tx.signature().0[..32].try_into().unwrap();
    challenge(&r_bytes, &key, tx.message_bytes())
}

fn add_ell(s: [u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(ELL[i]) + carry;
        out[i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out
}

struct Case {
    name: String,
    tx: SanitizedTransaction,
    /// What Braid's cofactored rule must say, derived from the construction.
    accept: bool,
    /// What Solana's cofactorless `verify_strict` would say.
    cofactorless: bool,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let zero = EdwardsPoint::identity();
    let t8 = EIGHT_TORSION[1];
    let t2 = EIGHT_TORSION[4];
    let mut push = |name: String, tx, accept, cofactorless| {
        cases.push(Case {
            name,
            tx,
            accept,
            cofactorless,
        })
    };

    for n in 0..8u64 {
        let (a, r) = (scalar(n), scalar(n + 100));
        push(
            format!("honest {n}"),
            raw_sign(a, zero, r, zero, n),
            true,
            true,
        );

        // s + ℓ: the same equation, a non-canonical scalar.
        let honest = raw_sign(a, zero, r, zero, n);
        let sig = honest.signature().0;
        let tx = honest.transaction().clone();
        push(
            format!("malleated {n}"),
            signed(
                tx,
                sig[..32].try_into().unwrap(),
                add_ell(sig[32..].try_into().unwrap()),
            ),
            false,
            false,
        );

        // s + 1: a plain forgery.
        push(
            format!("wrong s {n}"),
            raw_sign_with_error(a, zero, r, zero, n, Scalar::ONE),
            false,
            false,
        );

        // R shifted by a point of order 2: the residual is pure torsion; cofactored
        // verification accepts, cofactorless rejects.
        push(
            format!("nonce plus order 2 {n}"),
            raw_sign(a, zero, r, t2, n),
            true,
            false,
        );
        // The same with a prime-order error on top: rejected by every rule.
        push(
            format!("nonce plus order 2, wrong s {n}"),
            raw_sign_with_error(a, zero, r, t2, n, Scalar::ONE),
            false,
            false,
        );
    }

    // Small-order keys: with A of small order, s = r satisfies [s]B = R + [k]A up to torsion.
    for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
        let key = torsion.compress().to_bytes();
        let (tx, _) = unsigned(key, 1000 + i as u64);
        let r = scalar(i as u64 + 7);
        push(
            format!("small-order key {i}"),
            signed(tx, (B * r).compress().to_bytes(), r.to_bytes()),
            false,
            false,
        );
    }

    // Small-order nonce: R of small order, s = k·a satisfies [8]([s]B − R − [k]A) = 0.
    for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
        let a = scalar(200 + i as u64);
        let key = (B * a).compress().to_bytes();
        let (tx, message) = unsigned(key, 2000 + i as u64);
        let r_bytes = torsion.compress().to_bytes();
        let s = challenge(&r_bytes, &key, &message) * a;
        push(
            format!("small-order nonce {i}"),
            signed(tx, r_bytes, s.to_bytes()),
            false,
            false,
        );
    }

    // Non-canonical encodings: y ≥ p, or a sign bit on x = 0. Rejected by the input rules
    // (all decodable ones are also of small order or have unknown discrete logs).
    for low in 0xedu8..=0xff {
        let mut non_canonical = [0xff; 32];
        non_canonical[0] = low;
        non_canonical[31] = 0x7f;
        for sign in [0u8, 0x80] {
            let mut bytes = non_canonical;
            bytes[31] |= sign;
            if CompressedEdwardsY(bytes).decompress().is_none() {
                continue;
            }
            let a = scalar(300 + u64::from(low));
            let key = (B * a).compress().to_bytes();
            let (tx, message) = unsigned(key, 3000 + u64::from(low));
            let s = challenge(&bytes, &key, &message) * a;
            push(
                format!("non-canonical nonce {low:#x}/{sign}"),
                signed(tx.clone(), bytes, s.to_bytes()),
                false,
                false,
            );
            let (tx, _) = unsigned(bytes, 4000 + u64::from(low));
            push(
                format!("non-canonical key {low:#x}/{sign}"),
                signed(tx, (B * a).compress().to_bytes(), a.to_bytes()),
                false,
                false,
            );
        }
    }
    let mut negative_identity = [0u8; 32];
    negative_identity[0] = 1;
    negative_identity[31] = 0x80;
    let a = scalar(5000);
    let key = (B * a).compress().to_bytes();
    let (tx, message) = unsigned(key, 5000);
    let s = challenge(&negative_identity, &key, &message) * a;
    push(
        "negative-zero nonce".to_owned(),
        signed(tx, negative_identity, s.to_bytes()),
        false,
        false,
    );

    // Mixed-order keys with a clean nonce: the residual −[k]T_A is pure torsion, so the
    // cofactored rule always accepts; cofactorless accepts exactly when 8 divides k.
    for n in 0..48u64 {
        let (a, r) = (scalar(6000 + n), scalar(7000 + n));
        let tx = raw_sign(a, t8, r, zero, n);
        let k = challenge_of(&tx);
        push(
            format!("mixed-order key {n}"),
            tx,
            true,
            k.as_bytes()[0] & 7 == 0,
        );
        if n < 8 {
            push(
                format!("mixed-order key, wrong s {n}"),
                raw_sign_with_error(a, t8, r, zero, n, Scalar::from(n + 1)),
                false,
                false,
            );
        }
    }

    // Mixed-order key and nonce: accepted whatever the torsion. Those whose torsion cancels
    // (T_R = −[k]T_A, found by grinding the nonce's torsion) are the only ones cofactorless
    // verification accepts too.
    let mut found = 0;
    for n in 0..400u64 {
        let (a, r) = (scalar(8000 + n), scalar(9000 + n));
        let torsion = EIGHT_TORSION[(n % 7 + 1) as usize];
        let tx = raw_sign(a, t8, r, torsion, n);
        let cancels = torsion + t8 * challenge_of(&tx) == zero;
        if cancels {
            found += 1;
        }
        if cancels || n < 24 {
            push(format!("mixed-order key and nonce {n}"), tx, true, cancels);
        }
    }
    assert!(
        found >= 4,
        "grinding found only {found} cancelling signatures"
    );
    cases
}

/// Pairs of forgeries whose errors cancel (`e` and `−e`), and pairs of mixed-order
/// signatures whose torsion residuals cancel (`T` and `−T`): an unweighted sum of residuals
/// would be zero for both. With random weights only the second pair passes the batch,
/// exactly as single verification says.
fn cancelling_pairs() -> Vec<(SanitizedTransaction, SanitizedTransaction, bool)> {
    let zero = EdwardsPoint::identity();
    let mut pairs = Vec::new();
    for n in 0..4u64 {
        let error = scalar(10_000 + n);
        let first =
            raw_sign_with_error(scalar(11_000 + n), zero, scalar(12_000 + n), zero, n, error);
        let second = raw_sign_with_error(
            scalar(13_000 + n),
            zero,
            scalar(14_000 + n),
            zero,
            n,
            -error,
        );
        pairs.push((first, second, false));

        let torsion = EIGHT_TORSION[(n % 7 + 1) as usize];
        let first = raw_sign(scalar(15_000 + n), zero, scalar(16_000 + n), torsion, n);
        let second = raw_sign(scalar(17_000 + n), zero, scalar(18_000 + n), -torsion, n);
        pairs.push((first, second, true));
    }
    pairs
}

#[test]
fn single_verification_matches_the_construction() {
    for case in cases() {
        assert_eq!(
            verify_transaction(&case.tx).is_ok(),
            case.accept,
            "{}",
            case.name
        );
    }
}

#[test]
fn honestly_signed_transactions_verify_single_and_batched() {
    let txs: Vec<SanitizedTransaction> = (0..5u8)
        .map(|n| {
            let payer = Keypair::from_seed(&[n; 32]);
            let signers: Vec<Keypair> =
                (0..n).map(|i| Keypair::from_seed(&[100 + i; 32])).collect();
            let mut accounts = vec![AccountMeta::new(payer.pubkey(), true)];
            accounts.extend(
                signers
                    .iter()
                    .map(|k| AccountMeta::new_readonly(k.pubkey(), true)),
            );
            let instruction = Instruction {
                program_id: PROGRAM,
                accounts,
                data: vec![n],
            };
            let mut all: Vec<&Keypair> = vec![&payer];
            all.extend(signers.iter());
            let tx = Transaction::new_signed_with_payer(
                &[instruction],
                Some(&payer.pubkey()),
                &all,
                Hash::new_from_array([n; 32]),
            );
            SanitizedTransaction::try_new(tx).unwrap()
        })
        .collect();
    for tx in &txs {
        assert_eq!(verify_transaction(tx), Ok(()));
        for (signature, key) in tx.signatures().iter().zip(tx.account_keys()) {
            assert!(verify_signature(key, tx.message_bytes(), signature));
        }
        assert_eq!(verify_batch(std::slice::from_ref(tx)), vec![Ok(())]);
    }
    assert!(verify_batch(&txs).iter().all(Result::is_ok));
    assert!(verify_batch_par(&txs).iter().all(Result::is_ok));
}

/// `count` honestly signed one-signature transactions, by different payers.
fn honest(count: u8) -> Vec<SanitizedTransaction> {
    (0..count)
        .map(|n| {
            let payer = Keypair::from_seed(&[n; 32]);
            let instruction = Instruction {
                program_id: PROGRAM,
                accounts: vec![AccountMeta::new(payer.pubkey(), true)],
                data: vec![n],
            };
            let tx = Transaction::new_signed_with_payer(
                &[instruction],
                Some(&payer.pubkey()),
                &[&payer],
                Hash::new_from_array([n; 32]),
            );
            SanitizedTransaction::try_new(tx).unwrap()
        })
        .collect()
}

/// `tx` with its first signature's `s` replaced by `change(s)`.
fn with_s(
    tx: &SanitizedTransaction,
    change: impl Fn([u8; 32]) -> [u8; 32],
) -> SanitizedTransaction {
    let mut tx = tx.clone().into_transaction();
    let s: [u8; 32] = tx.signatures[0].0[32..].try_into().unwrap();
    tx.signatures[0].0[32..].copy_from_slice(&change(s));
    SanitizedTransaction::try_new(tx).unwrap()
}

#[test]
fn the_batch_sizer_shrinks_batches_only_for_equation_failures() {
    let clean = honest(224);
    let mut sizer = BatchSizer::new();
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MAX);
    assert!(sizer.verify(&clean).iter().all(Result::is_ok));
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MAX);

    // A non-canonical `s` breaks an input rule: refused before any batch, costing nothing
    // to find, so the size stays.
    let mut screened_out = clean.clone();
    screened_out[40] = with_s(&clean[40], add_ell);
    let mut sizer = BatchSizer::new();
    let results = sizer.verify(&screened_out);
    assert_eq!(results.iter().filter(|result| result.is_err()).count(), 1);
    assert!(results[40].is_err());
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MAX);

    // A flipped bit of `s` fails the equation: one in 224 shrinks batches to the minimum.
    assert_eq!(clean.len() as u64, MIN_BATCH_FAILURE_ONE_IN);
    let mut failing = clean.clone();
    failing[40] = with_s(&clean[40], |mut s| {
        s[0] ^= 1;
        s
    });
    let mut sizer = BatchSizer::new();
    let results = sizer.verify(&failing);
    assert_eq!(results, verify_batch(&failing));
    assert_eq!(results.iter().filter(|result| result.is_err()).count(), 1);
    assert!(results[40].is_err());
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MIN);

    // Once at the smallest size, the next batches are cut at it, and judged the same.
    let results = sizer.verify(&failing);
    assert_eq!(results, verify_batch(&failing));

    // Both thresholds, from both sides.
    let sized = |checked, failed| {
        let mut sizer = BatchSizer::new();
        sizer.record(checked, failed);
        sizer.batch_transactions()
    };
    let one_in_min = MIN_BATCH_FAILURE_ONE_IN as usize;
    let one_in_half = HALF_BATCH_FAILURE_ONE_IN as usize;
    assert_eq!(sized(one_in_min, 1), BATCH_TRANSACTIONS_MIN);
    assert_eq!(sized(one_in_min + 1, 1), BATCH_TRANSACTIONS_MAX / 2);
    assert_eq!(sized(one_in_half, 1), BATCH_TRANSACTIONS_MAX / 2);
    assert_eq!(sized(one_in_half + 1, 1), BATCH_TRANSACTIONS_MAX);
    // More than a window at once keeps its rate: 24 in 8,192 is 12 in 4,096, under one in
    // 224 and over one in 768.
    let window = SIZER_WINDOW_TRANSACTIONS as usize;
    assert_eq!(sized(2 * window, 24), BATCH_TRANSACTIONS_MAX / 2);
    assert_eq!(sized(2 * window, 2 * window), BATCH_TRANSACTIONS_MIN);
    assert_eq!(sized(usize::MAX, 1), BATCH_TRANSACTIONS_MAX);

    // The window forgets: after a window of nothing but failures, clean traffic brings full
    // batches back within a few windows, and not after one chunk. Halving keeps the rate:
    // one failure in one fewer than the half-batch threshold stays over it across many
    // halvings (halving a whole count rounds odd counts down, and took it to full batches).
    let mut sizer = BatchSizer::new();
    sizer.record(
        SIZER_WINDOW_TRANSACTIONS as usize,
        SIZER_WINDOW_TRANSACTIONS as usize,
    );
    sizer.record(1024, 0);
    sizer.record(1024, 0);
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MIN);
    for _ in 0..32 {
        sizer.record(1024, 0);
    }
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MAX);
    let mut sizer = BatchSizer::new();
    for _ in 0..40 {
        sizer.record(one_in_half - 1, 1);
    }
    assert_eq!(sizer.batch_transactions(), BATCH_TRANSACTIONS_MAX / 2);
}

#[test]
fn batch_and_single_accept_exactly_the_same_set() {
    let cases = cases();
    let txs: Vec<SanitizedTransaction> = cases.iter().map(|c| c.tx.clone()).collect();
    let single: Vec<bool> = txs
        .iter()
        .map(|tx| verify_transaction(tx).is_ok())
        .collect();
    assert!(single.iter().filter(|ok| **ok).count() >= 16);
    assert!(single.iter().filter(|ok| !**ok).count() >= 40);

    let check = |indexes: &[usize]| {
        let subset: Vec<SanitizedTransaction> = indexes.iter().map(|&i| txs[i].clone()).collect();
        let batch: Vec<bool> = verify_batch(&subset).iter().map(Result::is_ok).collect();
        let par: Vec<bool> = verify_batch_par(&subset)
            .iter()
            .map(Result::is_ok)
            .collect();
        assert_eq!(batch.len(), indexes.len());
        // Any batch size, and the sizer's, judge exactly as the full batch does.
        let full = verify_batch(&subset);
        for size in [1, 3, BATCH_TRANSACTIONS_MIN, BATCH_TRANSACTIONS_MAX / 2] {
            assert_eq!(verify_batch_sized(&subset, size), full, "batches of {size}");
        }
        // And the sizer at each size it chooses.
        for (checked, failed, size) in [
            (1, 0, BATCH_TRANSACTIONS_MAX),
            (
                HALF_BATCH_FAILURE_ONE_IN as usize,
                1,
                BATCH_TRANSACTIONS_MAX / 2,
            ),
            (MIN_BATCH_FAILURE_ONE_IN as usize, 1, BATCH_TRANSACTIONS_MIN),
        ] {
            let mut sizer = BatchSizer::new();
            sizer.record(checked, failed);
            assert_eq!(sizer.batch_transactions(), size);
            assert_eq!(sizer.verify(&subset), full, "the sizer at {size}");
        }
        for ((position, &i), (b, p)) in indexes.iter().enumerate().zip(batch.iter().zip(&par)) {
            assert_eq!(
                *b, single[i],
                "batch disagrees on {} at {position}",
                cases[i].name
            );
            assert_eq!(
                *p, single[i],
                "parallel batch disagrees on {}",
                cases[i].name
            );
        }
    };
    let all: Vec<usize> = (0..txs.len()).collect();
    check(&all);
    // Each alone, and the accepted ones among themselves (the batch's fast path must pass).
    for i in 0..txs.len() {
        check(&[i]);
    }
    let accepted: Vec<usize> = all.iter().copied().filter(|&i| single[i]).collect();
    assert!(
        verify_batch(&accepted.iter().map(|&i| txs[i].clone()).collect::<Vec<_>>())
            .iter()
            .all(Result::is_ok)
    );
    // Every rejected one hidden among accepted ones, in a few positions.
    for &bad in all.iter().filter(|&&i| !single[i]) {
        let mut mixed = accepted.clone();
        mixed.insert(bad % (mixed.len() + 1), bad);
        check(&mixed);
    }
}

#[test]
fn cancelling_pairs_are_judged_as_single_verification_judges_them() {
    let good: Vec<SanitizedTransaction> = (0..6u64)
        .map(|n| {
            let zero = EdwardsPoint::identity();
            raw_sign(scalar(20_000 + n), zero, scalar(21_000 + n), zero, n)
        })
        .collect();
    for (first, second, accept) in cancelling_pairs() {
        let expected = if accept {
            vec![Ok(()), Ok(())]
        } else {
            vec![
                Err(braid_runtime::TransactionError::SignatureFailure),
                Err(braid_runtime::TransactionError::SignatureFailure),
            ]
        };
        assert_eq!(verify_transaction(&first).is_ok(), accept);
        assert_eq!(verify_transaction(&second).is_ok(), accept);
        let pair = vec![first.clone(), second.clone()];
        assert_eq!(verify_batch(&pair), expected);
        assert_eq!(verify_batch_par(&pair), expected);
        let mut hidden = good.clone();
        hidden.insert(2, first);
        hidden.insert(5, second);
        let results = verify_batch(&hidden);
        for (position, result) in results.iter().enumerate() {
            let want = accept || (position != 2 && position != 5);
            assert_eq!(result.is_ok(), want, "position {position}");
        }
    }
}

/// The cofactored rule differs from Solana's cofactorless `verify_strict` (plus a canonical
/// key) on exactly the constructed mixed-order signatures whose residual is a non-zero
/// torsion point: accepted here, rejected there. Everything else, including every honest
/// signature, is judged the same.
#[test]
fn deviation_from_cofactorless_verify_strict_is_only_torsion_residuals() {
    let mut deviations = 0;
    for case in cases() {
        let tx = &case.tx;
        let key_bytes = tx.account_keys()[0].as_array();
        let strict = is_canonical_point_encoding(key_bytes)
            && ed25519_dalek::VerifyingKey::from_bytes(key_bytes).is_ok_and(|key| {
                key.verify_strict(
                    tx.message_bytes(),
                    &ed25519_dalek::Signature::from_bytes(&tx.signature().0),
                )
                .is_ok()
            });
        assert_eq!(strict, case.cofactorless, "{}", case.name);
        assert_eq!(verify_transaction(tx).is_ok(), case.accept, "{}", case.name);
        if case.accept != case.cofactorless {
            deviations += 1;
            assert!(
                case.accept && (case.name.contains("mixed-order") || case.name.contains("order 2")),
                "unexpected deviation on {}",
                case.name
            );
        }
        if case.name.starts_with("honest") {
            assert!(strict && case.accept, "{}", case.name);
        }
    }
    assert!(deviations >= 20, "only {deviations} deviations constructed");
}

/// Decoded keys are remembered per thread (`DECODED_KEYS_MAX`): every case is judged the
/// same with its key unseen, remembered, and forgotten again after the memory fills.
#[test]
fn remembered_keys_are_judged_by_the_same_rules() {
    let cases = cases();
    let judge = |pass: &str| {
        for case in &cases {
            let single = verify_transaction(&case.tx).is_ok();
            let batch = verify_batch(std::slice::from_ref(&case.tx)) == vec![Ok(())];
            assert_eq!(
                (single, batch),
                (case.accept, case.accept),
                "{pass}: {}",
                case.name
            );
        }
    };
    judge("first sight");
    judge("remembered");
    // More keys than a thread remembers: [n]B for n = 1, 2, ..., each decoded (and refused,
    // as s = 0 signs nothing).
    let mut point = B;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&B.compress().to_bytes());
    for _ in 0..=braid_runtime::sigverify::DECODED_KEYS_MAX {
        let key = Pubkey::new_from_array(point.compress().to_bytes());
        assert!(!verify_signature(&key, b"fill", &Signature(signature)));
        point += B;
    }
    judge("forgotten");
    judge("remembered again");
}

/// Release-mode throughput figures (the machine is shared; numbers vary with its load):
/// `cargo test --release -p braid-runtime --test sigverify_strict -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; run in release with --nocapture"]
fn measure_verification_cost() {
    use std::time::{Duration, Instant};

    /// `count` transactions, each signed by `signers` keys.
    fn transactions(count: u8, signers: u8) -> Vec<SanitizedTransaction> {
        (0..count)
            .map(|n| {
                let keys: Vec<Keypair> = (0..signers)
                    .map(|i| {
                        let mut seed = [0x5e; 32];
                        seed[..2].copy_from_slice(&[n, i]);
                        Keypair::from_seed(&seed)
                    })
                    .collect();
                let instruction = Instruction {
                    program_id: PROGRAM,
                    accounts: keys
                        .iter()
                        .map(|k| AccountMeta::new(k.pubkey(), true))
                        .collect(),
                    data: vec![n],
                };
                let refs: Vec<&Keypair> = keys.iter().collect();
                let tx = Transaction::new_signed_with_payer(
                    &[instruction],
                    Some(&keys[0].pubkey()),
                    &refs,
                    Hash::new_from_array([n; 32]),
                );
                SanitizedTransaction::try_new(tx).unwrap()
            })
            .collect()
    }

    /// Fastest and median time per signature over many rounds: on a loaded machine the
    /// fastest round is the one least disturbed by other processes.
    fn per_signature(signatures: usize, mut run: impl FnMut()) -> (Duration, Duration) {
        let mut rounds: Vec<Duration> = (0..101)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed() / u32::try_from(signatures).unwrap()
            })
            .collect();
        rounds.sort();
        (rounds[0], rounds[rounds.len() / 2])
    }

    let one = transactions(64, 1);
    let four = transactions(64, 4);
    let many = transactions(255, 1);
    assert!(verify_batch(&four).iter().all(Result::is_ok));
    let single = per_signature(one.len(), || {
        for tx in &one {
            verify_transaction(std::hint::black_box(tx)).unwrap();
        }
    });
    // Time per signature of one batch over `txs`, which must hold `bad` rejected ones.
    let batch = |txs: &[SanitizedTransaction], signatures: usize, bad: usize| {
        per_signature(signatures, || {
            let results = verify_batch(std::hint::black_box(txs));
            assert_eq!(results.iter().filter(|r| r.is_err()).count(), bad);
        })
    };
    // `txs` with the signature of transaction `at` corrupted (it still passes the input
    // rules, so it fails the equation).
    let corrupted = |txs: &[SanitizedTransaction], at: usize| {
        let mut txs = txs.to_vec();
        let mut bad = txs[at].clone().into_transaction();
        bad.signatures[0].0[40] ^= 1;
        txs[at] = SanitizedTransaction::try_new(bad).unwrap();
        txs
    };
    let batch_64 = batch(&one, one.len(), 0);
    let batch_256 = batch(&four, 4 * four.len(), 0);
    let batch_64_one_bad = batch(&corrupted(&one, 17), one.len(), 1);
    // The default batch: 255 one-signature transactions (the seeds hold 255 distinct ones).
    let batch_255 = batch(&many, many.len(), 0);
    let batch_255_one_bad = batch(&corrupted(&many, 170), many.len(), 1);
    println!("per signature (fastest, median of 101 rounds):");
    for (name, (fastest, median)) in [
        ("single verification", single),
        ("batch of 64 signatures", batch_64),
        ("64 four-signature txs", batch_256),
        ("batch of 64 with one bad", batch_64_one_bad),
        ("batch of 255 signatures", batch_255),
        ("batch of 255 with one bad", batch_255_one_bad),
    ] {
        println!("  {name:<26} {fastest:>10.2?} {median:>10.2?}");
    }
}
