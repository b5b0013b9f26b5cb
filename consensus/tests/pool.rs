//! The validator's pool: who may enter, who is evicted, and the order blocks take.

use braid_consensus::pool::{
    LANDED_REMEMBERED_MAX, POOL_PER_PAYER_MAX, POOL_TRANSACTIONS_MAX, Pool, SubmitError,
};
use braid_program_system::instruction as system;
use braid_runtime::compute_budget::set_compute_unit_price;
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Hash, Pubkey, Transaction};

const BLOCKHASH: Hash = Hash::new_from_array([7; 32]);

fn payer(n: u32) -> Keypair {
    let mut seed = [0x33; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    Keypair::from_seed(&seed)
}

/// A transfer from `payer` paying `price` micro-lamports per compute unit; `nonce` makes it
/// unique.
fn transfer(payer: &Keypair, price: u64, nonce: u64) -> (Vec<u8>, SanitizedTransaction) {
    let mut instructions = vec![system::transfer(
        &payer.pubkey(),
        &Pubkey::new_from_array([0xEE; 32]),
        nonce.saturating_add(1),
    )];
    if price > 0 {
        instructions.insert(0, set_compute_unit_price(price));
    }
    let wire = Transaction::new_signed_with_payer(
        &instructions,
        Some(&payer.pubkey()),
        &[payer],
        BLOCKHASH,
    )
    .to_bytes();
    let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
    (wire, tx)
}

const RICH: u64 = 1_000_000_000;

#[test]
fn a_fee_payer_that_cannot_pay_never_enters() {
    let mut pool = Pool::new();
    let poor = payer(1);
    let (wire, tx) = transfer(&poor, 0, 0);
    assert_eq!(
        pool.insert(wire, tx, |_| 4_999),
        Err(SubmitError::CannotPay {
            payer: poor.pubkey(),
            balance: 4_999,
            fee: 5_000,
        })
    );
    assert!(pool.is_empty());
    let (wire, tx) = transfer(&poor, 0, 0);
    pool.insert(wire, tx, |_| 5_000).unwrap();
    assert_eq!(pool.len(), 1);
}

#[test]
fn one_payer_cannot_fill_the_pool() {
    let mut pool = Pool::new();
    let busy = payer(2);
    for nonce in 0..POOL_PER_PAYER_MAX as u64 {
        let (wire, tx) = transfer(&busy, 0, nonce);
        pool.insert(wire, tx, |_| RICH).unwrap();
    }
    let (wire, tx) = transfer(&busy, 0, POOL_PER_PAYER_MAX as u64);
    assert_eq!(
        pool.insert(wire, tx, |_| RICH),
        Err(SubmitError::PayerFull(busy.pubkey()))
    );
    // Another payer still gets in, and the same transaction again is no change.
    let (wire, tx) = transfer(&payer(3), 0, 0);
    pool.insert(wire.clone(), tx.clone(), |_| RICH).unwrap();
    pool.insert(wire, tx, |_| RICH).unwrap();
    assert_eq!(pool.len(), POOL_PER_PAYER_MAX + 1);
}

#[test]
fn a_full_pool_answers_busy_unless_the_newcomer_pays_more() {
    let mut pool = Pool::new();
    let per_payer = POOL_PER_PAYER_MAX as u64;
    let mut first = None;
    for n in 0..POOL_TRANSACTIONS_MAX as u64 {
        let (wire, tx) = transfer(&payer((n / per_payer) as u32 + 100), 1, n);
        first.get_or_insert(*tx.signature());
        pool.insert(wire, tx, |_| RICH).unwrap();
    }
    assert_eq!(pool.len(), POOL_TRANSACTIONS_MAX);
    let newcomer = payer(9_999);
    let (wire, tx) = transfer(&newcomer, 1, 0);
    assert_eq!(pool.insert(wire, tx, |_| RICH), Err(SubmitError::PoolFull));
    // Paying more evicts the newest of those paying least.
    let (wire, tx) = transfer(&newcomer, 2, 1);
    let signature = *tx.signature();
    pool.insert(wire, tx, |_| RICH).unwrap();
    assert_eq!(pool.len(), POOL_TRANSACTIONS_MAX);
    let order: Vec<_> = pool.ordered().map(|(_, tx)| *tx.signature()).collect();
    assert_eq!(order[0], signature, "the highest fee goes first");
    assert_eq!(order[1], first.unwrap(), "then the oldest");
}

#[test]
fn what_can_no_longer_land_is_dropped_and_the_rest_is_held_byte_for_byte() {
    let mut pool = Pool::new();
    let (early, early_tx) = transfer(&payer(4), 0, 0);
    let (broke, broke_tx) = transfer(&payer(5), 0, 0);
    let (kept, kept_tx) = transfer(&payer(6), 5, 0);
    let broke_payer = payer(5).pubkey();
    pool.insert(early, early_tx, |_| RICH).unwrap();
    pool.insert(broke, broke_tx, |_| RICH).unwrap();
    pool.insert(kept.clone(), kept_tx, |_| RICH).unwrap();
    // The second's payer spent its lamports elsewhere; then every blockhash is too old.
    let dropped = pool.retain_landable(
        |blockhash| *blockhash == BLOCKHASH,
        |key| if *key == broke_payer { 0 } else { RICH },
    );
    assert_eq!(dropped, 1);
    assert_eq!(pool.len(), 2);
    let dropped = pool.retain_landable(|_| false, |_| RICH);
    assert_eq!(dropped, 2);
    assert!(pool.is_empty());
    // Held means these exact bytes.
    let (wire, tx) = transfer(&payer(7), 0, 0);
    pool.insert(wire.clone(), tx, |_| RICH).unwrap();
    assert!(pool.holds(&wire));
    let mut altered = wire.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(!pool.holds(&altered));
    assert!(!pool.holds(&kept));
    assert!(!pool.holds(&[]));
}

#[test]
fn room_is_held_while_signatures_are_verified_and_given_back_for_a_bad_one() {
    let mut pool = Pool::new();
    let busy = payer(8);
    for _ in 0..POOL_PER_PAYER_MAX {
        pool.reserve(&busy.pubkey()).unwrap();
    }
    // Reserved room counts against the payer's share at once: it hears so now, and no
    // verified transaction of its is ever dropped for want of room.
    assert_eq!(
        pool.reserve(&busy.pubkey()),
        Err(SubmitError::PayerFull(busy.pubkey()))
    );
    assert!(pool.is_empty());
    for nonce in 0..POOL_PER_PAYER_MAX as u64 - 1 {
        let (wire, tx) = transfer(&busy, 3, nonce);
        assert!(pool.fill(wire, tx));
    }
    // A bad one gives its room back.
    pool.release(&busy.pubkey());
    assert_eq!(pool.len(), POOL_PER_PAYER_MAX - 1);
    pool.reserve(&busy.pubkey()).unwrap();
    // A copy verified twice is held once, and the second's room goes back.
    let (wire, tx) = transfer(&busy, 3, 0);
    assert!(!pool.fill(wire, tx));
    pool.reserve(&busy.pubkey()).unwrap();
    assert_eq!(pool.len(), POOL_PER_PAYER_MAX - 1);
    assert!(pool.outbids(4));
    assert!(!pool.outbids(3));
}

#[test]
fn reserved_room_counts_toward_a_full_pool() {
    let mut pool = Pool::new();
    let per_payer = POOL_PER_PAYER_MAX as u32;
    for n in 0..POOL_TRANSACTIONS_MAX as u32 {
        pool.reserve(&payer(n / per_payer + 500).pubkey()).unwrap();
    }
    assert_eq!(
        pool.reserve(&payer(9_000).pubkey()),
        Err(SubmitError::PoolFull)
    );
    let (wire, tx) = transfer(&payer(9_001), 9, 0);
    assert_eq!(pool.insert(wire, tx, |_| RICH), Err(SubmitError::PoolFull));
}

#[test]
fn a_transaction_no_block_can_hold_is_refused_at_entry() {
    let pool = braid_consensus::pool::SharedPool::new(
        std::sync::Arc::new(braid_accounts_db::AccountsDb::in_memory()),
        1,
    )
    .unwrap();
    let payer = payer(10);
    // 200 MB asked for: twice what one block may allocate.
    let wire = Transaction::new_signed_with_payer(
        &[system::allocate(&payer.pubkey(), 200_000_000)],
        Some(&payer.pubkey()),
        &[&payer],
        BLOCKHASH,
    )
    .to_bytes();
    assert_eq!(
        pool.submit(wire),
        Err(SubmitError::TooCostly(
            braid_runtime::cost_model::BlockLimit::AllocatedData
        ))
    );
    assert!(pool.lock().is_empty());
}

#[test]
fn a_transaction_that_landed_is_neither_held_nor_verified_again() {
    let mut pool = Pool::new();
    let sender = payer(20);
    let (wire, tx) = transfer(&sender, 0, 0);
    let signature = *tx.signature();
    pool.insert(wire.clone(), tx.clone(), |_| RICH).unwrap();
    pool.landed(&[signature]);
    assert!(pool.is_empty());
    assert!(pool.has_landed(&signature));
    // A late copy (a forward, a retry) is answered and not held, whichever way it comes.
    pool.insert(wire.clone(), tx.clone(), |_| RICH).unwrap();
    assert!(pool.is_empty());
    pool.reserve(&sender.pubkey()).unwrap();
    assert!(!pool.fill(wire, tx));
    assert!(pool.is_empty());
    // Only the newest are remembered.
    let later: Vec<braid_runtime::Signature> = (0..LANDED_REMEMBERED_MAX as u64)
        .map(|n| *transfer(&sender, 0, n + 1).1.signature())
        .collect();
    pool.landed(&later);
    assert!(!pool.has_landed(&signature));
    assert!(pool.has_landed(&later[0]));
}
