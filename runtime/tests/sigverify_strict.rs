//! Batched and single signature verification accept exactly the same signatures, including
//! the adversarial ones: malleated scalars, small-order keys and nonces, non-canonical
//! encodings, and keys and nonces with torsion components.
//!
//! Signatures are built from raw scalars: `R = [r]B + T_R`, `k = H(R ‖ A ‖ M)`,
//! `s = r + k·a`, for a key `A = [a]B + T_A`. Strict verification computes
//! `[s]B − [k]A = [r]B − [k]T_A`, so it accepts exactly when `T_R = −[k]T_A`.

// Tests compute offsets and sizes of small, known values; an overflow would be a bug in
// the test and panics in the debug builds tests run in.
#![allow(clippy::arithmetic_side_effects)]

use braid_runtime::instruction::{AccountMeta, Instruction};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::sigverify::{verify_batch, verify_batch_par, verify_transaction};
use braid_runtime::{Message, Pubkey, Signature, Transaction};
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
    let key = (B * a + key_torsion).compress().to_bytes();
    let (tx, message) = unsigned(key, nonce);
    let r_bytes = (B * r + nonce_torsion).compress().to_bytes();
    let s = r + challenge(&r_bytes, &key, &message) * a;
    signed(tx, r_bytes, s.to_bytes())
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
    /// What strict verification must say, derived from the construction.
    accept: bool,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let zero = EdwardsPoint::identity();
    let t8 = EIGHT_TORSION[1];
    let t2 = EIGHT_TORSION[4];
    let mut push = |name: String, tx, accept| cases.push(Case { name, tx, accept });

    for n in 0..8u64 {
        let (a, r) = (scalar(n), scalar(n + 100));
        push(format!("honest {n}"), raw_sign(a, zero, r, zero, n), true);

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
        );

        // R shifted by a point of order 2: cofactorless strict rejects, a raw batch may not.
        push(
            format!("nonce plus order 2 {n}"),
            raw_sign(a, zero, r, t2, n),
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
        );
    }

    // Small-order nonce: R = identity, s = k·a satisfies [s]B − [k]A = 0 = R.
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
        );
    }

    // Non-canonical encodings: y ≥ p, or a sign bit on x = 0. All decodable ones are of
    // small order or have unknown discrete logs, so strict single verification rejects.
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
            );
            let (tx, _) = unsigned(bytes, 4000 + u64::from(low));
            push(
                format!("non-canonical key {low:#x}/{sign}"),
                signed(tx, (B * a).compress().to_bytes(), a.to_bytes()),
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
    );

    // Mixed-order keys with a clean nonce: strict accepts exactly when 8 divides k.
    for n in 0..48u64 {
        let (a, r) = (scalar(6000 + n), scalar(7000 + n));
        let tx = raw_sign(a, t8, r, zero, n);
        let key = tx.account_keys()[0].to_bytes();
        let r_bytes: [u8; 32] = tx.signature().0[..32].try_into().unwrap();
        let k = challenge(&r_bytes, &key, tx.message_bytes());
        push(format!("mixed-order key {n}"), tx, k.as_bytes()[0] & 7 == 0);
    }

    // Mixed-order key and nonce whose torsion cancels (T_R = −[k]T_A, found by grinding
    // the nonce's torsion): strict accepts; and ones whose torsion does not cancel.
    let mut found = 0;
    for n in 0..400u64 {
        let (a, r) = (scalar(8000 + n), scalar(9000 + n));
        let torsion = EIGHT_TORSION[(n % 7 + 1) as usize];
        let tx = raw_sign(a, t8, r, torsion, n);
        let key = tx.account_keys()[0].to_bytes();
        let r_bytes: [u8; 32] = tx.signature().0[..32].try_into().unwrap();
        let k = challenge(&r_bytes, &key, tx.message_bytes());
        let cancels = torsion + t8 * k == zero;
        if cancels {
            found += 1;
        }
        if cancels || n < 24 {
            push(format!("mixed-order key and nonce {n}"), tx, cancels);
        }
    }
    assert!(
        found >= 4,
        "grinding found only {found} cancelling signatures"
    );
    cases
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

/// The screening is necessary: ed25519-dalek's raw batch equation accepts some of the
/// signatures strict verification rejects.
#[test]
fn raw_batch_equation_alone_would_disagree() {
    let mut disagreements = 0;
    for case in cases().iter().filter(|c| !c.accept) {
        let tx = &case.tx;
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(tx.account_keys()[0].as_array())
        else {
            continue;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&tx.signature().0);
        if ed25519_dalek::verify_batch(&[tx.message_bytes()], &[signature], &[key]).is_ok() {
            disagreements += 1;
            assert!(
                verify_batch(std::slice::from_ref(tx))[0].is_err(),
                "{}",
                case.name
            );
        }
    }
    assert!(
        disagreements >= 3,
        "only {disagreements} raw-batch disagreements constructed"
    );
}
