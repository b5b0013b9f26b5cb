//! Model-based property test: random put / delete / commit / compact / reopen sequences
//! against a BTreeMap; every reopen must equal the model at the last commit. Pipelined
//! commits (seal, write the next slot, commit the sealed one) keep each write's old value
//! and count live bytes exactly.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;

use braid_accounts_db::format::record_bytes;
use braid_accounts_db::{AccountsDb, Options, SealedSlot};
use braid_primitives::{Account, Pubkey};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put { key: u8, seed: u16, len: usize },
    Delete { key: u8 },
    Commit,
    Compact,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..12, any::<u16>(), prop_oneof![8 => 0usize..600, 1 => 4000usize..9000])
            .prop_map(|(key, seed, len)| Op::Put { key, seed, len }),
        3 => (0u8..12).prop_map(|key| Op::Delete { key }),
        4 => Just(Op::Commit),
        2 => Just(Op::Compact),
        1 => Just(Op::Reopen),
    ]
}

fn options() -> Options {
    Options {
        segment_bytes: 4096,
        compaction_live_percent: 70,
        background_compaction: None,
        ..Options::default()
    }
}

fn check_reads(
    db: &AccountsDb,
    committed: &BTreeMap<Pubkey, Account>,
    pending: &BTreeMap<Pubkey, Account>,
) {
    for index in 0..12 {
        let key = common::key(index);
        let expected = match pending.get(&key) {
            Some(account) => (account.lamports != 0).then(|| account.clone()),
            None => committed.get(&key).cloned(),
        };
        assert_eq!(db.get(&key), expected, "get({index})");
        assert_eq!(
            db.get_committed(&key).unwrap(),
            committed.get(&key).cloned()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn reopen_equals_model_at_last_commit(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let (mut db, recovered) = AccountsDb::open(dir.path(), options()).unwrap();
        prop_assert_eq!(recovered.sequence, 0);
        let mut committed = BTreeMap::new();
        let mut pending: BTreeMap<Pubkey, Account> = BTreeMap::new();
        let mut slot = 0u64;
        let mut last_committed = None;
        for op in ops {
            match op {
                Op::Put { key, seed, len } => {
                    let account = common::account(u64::from(seed) + 1, len);
                    db.put(slot + 1, common::key(u64::from(key)), account.clone()).unwrap();
                    pending.insert(common::key(u64::from(key)), account);
                }
                Op::Delete { key } => {
                    db.delete(slot + 1, &common::key(u64::from(key))).unwrap();
                    pending.insert(common::key(u64::from(key)), Account::default());
                }
                Op::Commit => {
                    slot += 1;
                    db.commit(slot, common::state_hash(slot)).unwrap();
                    common::apply(&mut committed, &std::mem::take(&mut pending).into_iter().collect::<Vec<_>>());
                    last_committed = Some(slot);
                }
                Op::Compact => {
                    db.compact().unwrap();
                }
                Op::Reopen => {
                    drop(db);
                    pending.clear();
                    let (reopened, recovered) = AccountsDb::open(dir.path(), options()).unwrap();
                    db = reopened;
                    prop_assert!(recovered.rejected_manifest.is_none());
                    match last_committed {
                        Some(last) => {
                            prop_assert_eq!(recovered.slot, last);
                            prop_assert_eq!(recovered.state_hash, common::state_hash(last));
                        }
                        None => prop_assert_eq!(recovered.sequence, 0),
                    }
                    prop_assert_eq!(common::committed(&db), committed.clone());
                }
            }
            check_reads(&db, &committed, &pending);
            let stats = db.stats();
            prop_assert_eq!(stats.accounts, committed.len() as u64);
        }
        drop(db);
        let (db, _) = AccountsDb::open(dir.path(), options()).unwrap();
        prop_assert_eq!(common::committed(&db), committed);
    }

    #[test]
    fn in_memory_matches_model(ops in proptest::collection::vec(op(), 1..80)) {
        let db = AccountsDb::in_memory_with(options()).unwrap();
        let mut committed = BTreeMap::new();
        let mut pending: BTreeMap<Pubkey, Account> = BTreeMap::new();
        let mut slot = 0u64;
        for op in ops {
            match op {
                Op::Put { key, seed, len } => {
                    let account = common::account(u64::from(seed) + 1, len);
                    db.put(slot + 1, common::key(u64::from(key)), account.clone()).unwrap();
                    pending.insert(common::key(u64::from(key)), account);
                }
                Op::Delete { key } => {
                    db.delete(slot + 1, &common::key(u64::from(key))).unwrap();
                    pending.insert(common::key(u64::from(key)), Account::default());
                }
                Op::Commit | Op::Reopen => {
                    slot += 1;
                    db.commit(slot, common::state_hash(slot)).unwrap();
                    common::apply(&mut committed, &std::mem::take(&mut pending).into_iter().collect::<Vec<_>>());
                }
                Op::Compact => {
                    db.compact().unwrap();
                }
            }
            check_reads(&db, &committed, &pending);
        }
        prop_assert_eq!(common::committed(&db), committed);
    }

    #[test]
    fn pipelined_commits_keep_old_values_and_count_live_bytes(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        let db = AccountsDb::in_memory_with(options()).unwrap();
        let mut committed: BTreeMap<Pubkey, Account> = BTreeMap::new();
        // The open slot's writes, each with the old value its first write must have kept.
        let mut open: BTreeMap<Pubkey, (Account, Option<Account>)> = BTreeMap::new();
        let mut sealed: Option<(SealedSlot, BTreeMap<Pubkey, Account>)> = None;
        let mut slot = 0u64;
        for op in ops {
            let write = match op {
                Op::Put { key, seed, len } => {
                    Some((common::key(u64::from(key)), common::account(u64::from(seed) + 1, len)))
                }
                Op::Delete { key } => Some((common::key(u64::from(key)), Account::default())),
                // Seal the open slot; the slot sealed before it commits first, as a bank
                // commits one slot at a time.
                Op::Commit | Op::Reopen => {
                    if let Some((previous, writes)) = sealed.take() {
                        let previous_slot = previous.slot();
                        db.commit_sealed(previous, common::state_hash(previous_slot)).unwrap();
                        common::apply(&mut committed, &writes.into_iter().collect::<Vec<_>>());
                    }
                    slot += 1;
                    let next = db.seal(slot).unwrap();
                    let mut kept: Vec<(Pubkey, Account, Option<Account>)> = next
                        .shards()
                        .flat_map(|shard| shard.iter())
                        .map(|(key, write)| (*key, write.account().clone(), write.previous().cloned()))
                        .collect();
                    kept.sort_by_key(|(key, _, _)| *key);
                    let expected: Vec<(Pubkey, Account, Option<Account>)> = std::mem::take(&mut open)
                        .into_iter()
                        .map(|(key, (account, previous))| (key, account, previous))
                        .collect();
                    prop_assert_eq!(kept, expected);
                    let writes = next
                        .shards()
                        .flat_map(|shard| shard.iter())
                        .map(|(key, write)| (*key, write.account().clone()))
                        .collect();
                    sealed = Some((next, writes));
                    None
                }
                Op::Compact => {
                    db.compact().unwrap();
                    None
                }
            };
            if let Some((key, account)) = write {
                db.put(slot + 1, key, account.clone()).unwrap();
                let before = || match sealed.as_ref().and_then(|(_, writes)| writes.get(&key)) {
                    Some(sealed) => (sealed.lamports != 0).then(|| sealed.clone()),
                    None => committed.get(&key).cloned(),
                };
                let previous = open.get(&key).map_or_else(before, |(_, previous)| previous.clone());
                open.insert(key, (account, previous));
            }
            let stats = db.stats();
            prop_assert_eq!(stats.accounts, committed.len() as u64);
            let tombstone_bytes = record_bytes(0).unwrap();
            let live: u64 = committed
                .values()
                .map(|account| record_bytes(account.data.len() as u64).unwrap())
                .sum::<u64>()
                + stats.tombstones * tombstone_bytes;
            prop_assert_eq!(stats.live_bytes, live);
        }
    }
}
