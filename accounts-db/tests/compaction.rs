//! Compaction: bounded disk use under a long run of updates, and deletions that stay deleted.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::os::unix::fs::MetadataExt;

use braid_accounts_db::{AccountsDb, Options};

fn allocated_segment_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("seg-"))
        .map(|entry| entry.metadata().unwrap().blocks() * 512)
        .sum()
}

#[test]
fn disk_stays_under_twice_live_after_many_updates() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_bytes: 64 * 1024,
        ..Options::default()
    };
    let (db, _) = AccountsDb::open(dir.path(), options.clone()).unwrap();
    let mut model = std::collections::BTreeMap::new();
    let mut worst_ratio = 0.0f64;
    for slot in 1..=400u64 {
        // 100 accounts, a quarter rewritten each slot, sizes drifting so records move around.
        let writes: Vec<_> = (0..100u64)
            .filter(|index| (index + slot) % 4 == 0 || slot == 1)
            .map(|index| {
                (
                    common::key(index),
                    common::account(slot * 100 + index, 200 + ((slot + index) % 7) as usize * 30),
                )
            })
            .collect();
        db.store(slot, &writes).unwrap();
        db.commit(slot, common::state_hash(slot)).unwrap();
        common::apply(&mut model, &writes);
        db.compact().unwrap();
        if slot > 10 {
            let stats = db.stats();
            // Segments retired by the last two compactions are still counted until both
            // manifest copies stop naming them.
            worst_ratio = worst_ratio.max(stats.disk_bytes as f64 / stats.live_bytes as f64);
        }
    }
    // Two more commits let every retired segment be deleted.
    db.commit(401, common::state_hash(401)).unwrap();
    db.commit(402, common::state_hash(402)).unwrap();
    let stats = db.stats();
    let allocated = allocated_segment_bytes(dir.path());
    eprintln!("{stats:?} allocated={allocated} worst disk/live during run={worst_ratio:.2}");
    assert!(stats.disk_bytes < 2 * stats.live_bytes, "{stats:?}");
    // Each segment file reserves its whole capacity when created (a full disk must fail
    // there, not fault later), so the blocks on disk are the segments' capacities: bounded
    // because compaction bounds how many segments there are.
    assert_eq!(
        allocated,
        stats.segments * u64::from(options.segment_bytes),
        "{stats:?}"
    );
    assert!(stats.segments <= 4, "{stats:?}");
    assert!(worst_ratio < 3.0, "worst disk/live {worst_ratio}");
    assert_eq!(common::committed(&db), model);
    drop(db);
    let (db, recovered) = AccountsDb::open(dir.path(), options).unwrap();
    assert_eq!(recovered.slot, 402);
    assert_eq!(common::committed(&db), model);
}

#[test]
fn compacted_tombstone_keeps_older_record_dead() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_bytes: 4096,
        compaction_live_percent: 70,
        background_compaction: None,
        ..Options::default()
    };
    let (db, _) = AccountsDb::open(dir.path(), options.clone()).unwrap();
    let victim = common::key(0);
    let filler = |index: u64, seed: u64| (common::key(index), common::account(seed, 400));
    // Slot 1: the victim and six fillers, 512 bytes each: 3584 of segment 0's 4096 bytes.
    let mut writes = vec![(victim, common::account(1, 400))];
    writes.extend((1..=6).map(|index| filler(index, index)));
    db.store(1, &writes).unwrap();
    db.commit(1, common::state_hash(1)).unwrap();
    // Slot 2 fills segment 0 exactly.
    db.store(2, &[filler(7, 7)]).unwrap();
    db.commit(2, common::state_hash(2)).unwrap();
    // Slot 3: the victim's tombstone and one more account land in segment 1.
    db.delete(3, &victim).unwrap();
    db.store(3, &[filler(8, 8)]).unwrap();
    db.commit(3, common::state_hash(3)).unwrap();
    // Slot 4 overwrites that account, so segment 1 drops below 70 % live.
    db.store(4, &[filler(8, 9)]).unwrap();
    db.commit(4, common::state_hash(4)).unwrap();
    let report = db.compact().unwrap();
    assert_eq!(report.segments_compacted, 1, "{report:?}");
    assert_eq!(
        report.tombstones_dropped, 0,
        "segment 0 still holds the victim's old record"
    );
    db.commit(5, common::state_hash(5)).unwrap();
    db.commit(6, common::state_hash(6)).unwrap();
    drop(db);
    let (db, _) = AccountsDb::open(dir.path(), options.clone()).unwrap();
    assert_eq!(
        db.get(&victim),
        None,
        "deleted account came back after compaction"
    );
    assert_eq!(db.stats().tombstones, 1);

    // Once segment 0 is rewritten too, the tombstone has nothing left to shadow and goes.
    let rewrites: Vec<_> = (1..=8).map(|index| filler(index, 100 + index)).collect();
    db.store(7, &rewrites).unwrap();
    db.commit(7, common::state_hash(7)).unwrap();
    let mut dropped = 0;
    for slot in 8..12 {
        dropped += db.compact().unwrap().tombstones_dropped;
        db.commit(slot, common::state_hash(slot)).unwrap();
    }
    assert_eq!(dropped, 1);
    assert_eq!(db.stats().tombstones, 0);
    drop(db);
    let (db, _) = AccountsDb::open(dir.path(), options).unwrap();
    assert_eq!(db.get(&victim), None);
    assert_eq!(db.stats().accounts, 8);
}

#[test]
fn background_compaction_runs_and_stops_with_the_database() {
    let options = Options {
        segment_bytes: 8192,
        background_compaction: Some(std::time::Duration::from_millis(1)),
        ..Options::default()
    };
    let db = AccountsDb::in_memory_with(options).unwrap();
    for slot in 1..=200u64 {
        let writes: Vec<_> = (0..20u64)
            .map(|index| (common::key(index), common::account(slot + index, 300)))
            .collect();
        db.store(slot, &writes).unwrap();
        db.commit(slot, common::state_hash(slot)).unwrap();
    }
    // Retired segments are released once two more manifests stop naming them, so more
    // slots commit until the background thread, however late it gets a core, has caught up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut slot = 200u64;
    let stats = loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
        slot += 1;
        db.commit(slot, common::state_hash(slot)).unwrap();
        let stats = db.stats();
        if stats.disk_bytes < 4 * stats.live_bytes || std::time::Instant::now() > deadline {
            break stats;
        }
    };
    assert_eq!(stats.compaction_errors, 0);
    assert!(stats.disk_bytes < 4 * stats.live_bytes, "{stats:?}");
    drop(db);
}
