//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

pub mod tiny_disk;

use braid_accounts_db::AccountsDb;
use braid_primitives::{Account, Hash, Pubkey};

/// splitmix64: a tiny deterministic generator, so child and parent processes agree.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A key spread over the whole key space (so over every shard).
pub fn key(index: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&mix(index.wrapping_mul(4).wrapping_add(chunk as u64)).to_le_bytes());
    }
    Pubkey(bytes)
}

/// An account whose every field is derived from `(seed, len)`, so a reader can check it is
/// not torn.
pub fn account(seed: u64, len: usize) -> Account {
    let data = (0..len)
        .map(|i| (mix(seed ^ i as u64) & 0xff) as u8)
        .collect();
    Account {
        lamports: seed.max(1),
        owner: key(seed % 7 + 1_000_000),
        executable: seed.is_multiple_of(5),
        data,
    }
}

pub fn state_hash(slot: u64) -> Hash {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&mix(slot ^ (chunk as u64) << 56).to_le_bytes());
    }
    Hash(bytes)
}

/// The deterministic writes of `slot` in the crash test: (key, Some(account)) or a delete.
pub fn writes_for_slot(slot: u64) -> Vec<(Pubkey, Account)> {
    let mut state = mix(slot);
    let mut next = move || {
        state = mix(state);
        state
    };
    let count = 1 + next() % 40;
    (0..count)
        .map(|_| {
            let key = key(next() % 300);
            let roll = next();
            let account = if roll % 8 == 0 {
                Account::default()
            } else {
                let len = if roll % 97 == 1 {
                    70_000
                } else {
                    (roll >> 8) as usize % 700
                };
                account(slot * 1000 + roll % 1000, len)
            };
            (key, account)
        })
        .collect()
}

pub fn apply(model: &mut BTreeMap<Pubkey, Account>, writes: &[(Pubkey, Account)]) {
    for (key, account) in writes {
        if account.lamports == 0 {
            model.remove(key);
        } else {
            model.insert(*key, account.clone());
        }
    }
}

pub fn committed(db: &AccountsDb) -> BTreeMap<Pubkey, Account> {
    let mut out = BTreeMap::new();
    let mut previous: Option<Pubkey> = None;
    db.for_each_committed(|key, account| {
        assert!(
            previous.is_none_or(|p| p < *key),
            "iteration not in key order"
        );
        previous = Some(*key);
        out.insert(*key, account.clone());
    })
    .expect("iterate");
    out
}
