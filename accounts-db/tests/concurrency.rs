//! Readers running during commits and compaction see a committed or open-slot value of each
//! account, never torn data, and never go back in time.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use braid_accounts_db::{AccountsDb, Options};
use braid_primitives::Account;

const KEYS: u64 = 64;
const SLOTS: u64 = 150;

/// The value of account `index` written in `slot`: every byte depends on both, the length
/// varies, so a record mixed from two writes cannot pass the check.
fn value(slot: u64, index: u64) -> Account {
    let len = ((slot * 37 + index * 11) % 500) as usize;
    Account {
        lamports: slot,
        owner: common::key(index),
        executable: false,
        data: (0..len)
            .map(|i| (slot as u8) ^ (index as u8) ^ (i as u8))
            .collect(),
    }
}

fn deleted(slot: u64, index: u64) -> bool {
    slot > 1 && (slot + index).is_multiple_of(9)
}

fn check(index: u64, account: &Account) {
    assert_eq!(
        account,
        &value(account.lamports, index),
        "torn read of account {index}"
    );
}

#[test]
fn readers_never_see_torn_or_stale_data_during_commits_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_bytes: 32 * 1024,
        compaction_live_percent: 60,
        background_compaction: Some(Duration::from_millis(1)),
        ..Options::default()
    };
    let (db, _) = AccountsDb::open(dir.path(), options).unwrap();
    let db = Arc::new(db);
    let done = Arc::new(AtomicBool::new(false));
    let committed_slot = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));

    let mut readers = Vec::new();
    for reader in 0..2 {
        let (db, done, committed_slot, reads) = (
            db.clone(),
            done.clone(),
            committed_slot.clone(),
            reads.clone(),
        );
        readers.push(std::thread::spawn(move || {
            let mut seen = vec![0u64; KEYS as usize];
            while !done.load(Ordering::Acquire) {
                let floor = committed_slot.load(Ordering::Acquire);
                for index in 0..KEYS {
                    let key = common::key(index);
                    let account = if reader == 0 {
                        db.get(&key)
                    } else {
                        db.get_committed(&key).unwrap()
                    };
                    if let Some(account) = account {
                        check(index, &account);
                        assert!(
                            account.lamports >= seen[index as usize],
                            "account {index} went back in time"
                        );
                        seen[index as usize] = account.lamports;
                        // The committed view is never older than a commit that already returned.
                        if reader == 1
                            && let Some(put) = last_put(floor, index)
                        {
                            assert!(
                                account.lamports >= put,
                                "account {index} older than committed slot {put}"
                            );
                        }
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let compactor = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            let mut compacted = 0;
            while !done.load(Ordering::Acquire) {
                compacted += db.compact().unwrap().segments_compacted;
            }
            compacted
        })
    };
    let iterator = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            let mut walks = 0;
            while !done.load(Ordering::Acquire) {
                let mut previous = None;
                db.for_each_committed(|key, account| {
                    assert!(previous < Some(*key));
                    previous = Some(*key);
                    let index = (0..KEYS).find(|index| common::key(*index) == *key).unwrap();
                    check(index, account);
                })
                .unwrap();
                walks += 1;
            }
            walks
        })
    };

    for slot in 1..=SLOTS {
        for index in 0..KEYS {
            if slot == 1 || written(slot, index) {
                if deleted(slot, index) {
                    db.delete(slot, &common::key(index)).unwrap();
                } else {
                    db.put(slot, common::key(index), value(slot, index))
                        .unwrap();
                }
            }
        }
        db.commit(slot, common::state_hash(slot)).unwrap();
        committed_slot.store(slot, Ordering::Release);
    }
    std::thread::sleep(Duration::from_millis(20));
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join().unwrap();
    }
    let compacted = compactor.join().unwrap();
    let walks = iterator.join().unwrap();
    eprintln!(
        "reads {}, segments compacted {compacted}, full walks {walks}",
        reads.load(Ordering::Relaxed)
    );
    assert!(compacted > 0, "compaction never ran concurrently");
    assert_eq!(db.stats().compaction_errors, 0);
}

/// Whether account `index` is written (stored or deleted) in `slot` after the first.
fn written(slot: u64, index: u64) -> bool {
    (slot + index).is_multiple_of(3) || deleted(slot, index)
}

/// The last slot up to `slot` that stored (not deleted) account `index`.
fn last_put(slot: u64, index: u64) -> Option<u64> {
    (1..=slot)
        .rev()
        .find(|slot| *slot == 1 || written(*slot, index))
        .filter(|slot| !deleted(*slot, index))
}
