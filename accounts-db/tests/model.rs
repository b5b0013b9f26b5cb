//! Model-based property test: random put / delete / commit / compact / reopen sequences
//! against a BTreeMap; every reopen must equal the model at the last commit.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;

use braid_accounts_db::{AccountsDb, Options};
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
}
