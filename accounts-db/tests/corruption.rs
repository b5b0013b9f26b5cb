//! Damaged files: each gives the outcome FORMAT.md documents — recovery to the previous
//! commit, or a typed error naming the file and offset. Never a panic, never wrong data.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use braid_accounts_db::{AccountsDb, Error, Options};
use braid_primitives::{Account, Pubkey};

/// A database with two commits: slot 1 and slot 2 (which overwrites some of slot 1).
/// Returns the directory and the model after each slot. Manifest copies: `manifest-b` holds
/// slot 1 (sequence 1), `manifest-a` slot 2 (sequence 2); both commits append to segment 0.
fn two_commits() -> (
    tempfile::TempDir,
    BTreeMap<Pubkey, Account>,
    BTreeMap<Pubkey, Account>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    let first: Vec<_> = (0..10)
        .map(|i| (common::key(i), common::account(i + 1, 100 + i as usize)))
        .collect();
    db.store(1, &first).unwrap();
    db.commit(1, common::state_hash(1)).unwrap();
    let mut after_first = BTreeMap::new();
    common::apply(&mut after_first, &first);
    let second: Vec<_> = (5..15)
        .map(|i| (common::key(i), common::account(i + 100, 50)))
        .collect();
    db.store(2, &second).unwrap();
    db.commit(2, common::state_hash(2)).unwrap();
    let mut after_second = after_first.clone();
    common::apply(&mut after_second, &second);
    drop(db);
    // Reopening trims the active segment's preallocated tail: the file is now exactly its
    // committed length.
    drop(AccountsDb::open(dir.path(), Options::default()).unwrap());
    (dir, after_first, after_second)
}

fn segment(dir: &Path) -> PathBuf {
    dir.join("seg-0000000000.dat")
}

fn flip(path: &Path, offset: u64) {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, offset).unwrap();
    byte[0] ^= 0x40;
    file.write_all_at(&byte, offset).unwrap();
}

#[test]
fn torn_tail_past_the_committed_length_is_cut_off() {
    let (dir, _, after_second) = two_commits();
    let committed = std::fs::metadata(segment(dir.path())).unwrap().len();
    // A commit that died after writing half a record: garbage past the committed length.
    let mut file = OpenOptions::new()
        .write(true)
        .open(segment(dir.path()))
        .unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    file.write_all(&[0xab; 300]).unwrap();
    drop(file);
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!(recovered.slot, 2);
    assert_eq!(common::committed(&db), after_second);
    assert_eq!(
        std::fs::metadata(segment(dir.path())).unwrap().len(),
        committed
    );
}

#[test]
fn segment_truncated_below_its_committed_length_is_a_typed_error() {
    let (dir, _, _) = two_commits();
    let len = std::fs::metadata(segment(dir.path())).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(segment(dir.path()))
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    match AccountsDb::open(dir.path(), Options::default()) {
        Err(Error::SegmentTruncated {
            path,
            len: found,
            committed_len,
        }) => {
            assert_eq!(path, segment(dir.path()));
            assert_eq!((found, committed_len), (len - 10, len));
        }
        other => panic!("expected SegmentTruncated, got {other:?}"),
    }
}

#[test]
fn flipped_byte_in_a_record_is_a_typed_error_naming_file_and_offset() {
    let (dir, _, _) = two_commits();
    let len = std::fs::metadata(segment(dir.path())).unwrap().len();
    // Every byte position of a few records: header fields, data, checksum, padding.
    for position in (0..len).step_by(37).chain([len - 1, 0, 8, 96, 111]) {
        flip(&segment(dir.path()), position);
        match AccountsDb::open(dir.path(), Options::default()) {
            Err(Error::CorruptRecord {
                path,
                offset,
                reason,
            }) => {
                assert_eq!(path, segment(dir.path()));
                assert!(
                    offset <= position && offset % 8 == 0,
                    "offset {offset} for flip at {position} ({reason})"
                );
                assert!(
                    position - offset < 112 + 200,
                    "offset {offset} too far before flip at {position}"
                );
            }
            other => panic!("flip at {position}: expected CorruptRecord, got {other:?}"),
        }
        flip(&segment(dir.path()), position);
    }
    let (_, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!(recovered.slot, 2);
}

#[test]
fn flipped_byte_in_the_newest_manifest_falls_back_to_the_previous_commit() {
    let (dir, after_first, _) = two_commits();
    let newest = dir.path().join("manifest-a");
    flip(&newest, 30);
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!((recovered.sequence, recovered.slot), (1, 1));
    assert_eq!(recovered.state_hash, common::state_hash(1));
    assert!(
        matches!(recovered.rejected_manifest, Some(Error::CorruptManifest { ref path, .. }) if *path == newest)
    );
    assert_eq!(common::committed(&db), after_first);
    // The database goes on from there: slot 2 is written again (differently) and survives.
    db.put(2, common::key(99), common::account(99, 10)).unwrap();
    db.commit(2, common::state_hash(2)).unwrap();
    drop(db);
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!((recovered.sequence, recovered.slot), (2, 2));
    assert!(recovered.rejected_manifest.is_none());
    let mut expected = after_first;
    expected.insert(common::key(99), common::account(99, 10));
    assert_eq!(common::committed(&db), expected);
}

#[test]
fn flipped_byte_in_the_older_manifest_keeps_the_newest_commit() {
    let (dir, _, after_second) = two_commits();
    let older = dir.path().join("manifest-b");
    for position in [0, 20, 70, 100] {
        flip(&older, position);
        let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
        assert_eq!((recovered.sequence, recovered.slot), (2, 2));
        assert!(recovered.rejected_manifest.is_some());
        assert_eq!(common::committed(&db), after_second);
        drop(db);
        flip(&older, position);
    }
}

#[test]
fn flipped_bytes_in_both_manifests_are_a_typed_error() {
    let (dir, _, _) = two_commits();
    flip(&dir.path().join("manifest-a"), 40);
    flip(&dir.path().join("manifest-b"), 40);
    match AccountsDb::open(dir.path(), Options::default()) {
        Err(Error::CorruptManifest {
            path,
            offset,
            reason,
        }) => {
            assert!(path.starts_with(dir.path()));
            assert_eq!(reason, "checksum mismatch", "at {offset}");
        }
        other => panic!("expected CorruptManifest, got {other:?}"),
    }
}

#[test]
fn missing_segment_file_is_a_typed_error() {
    let (dir, _, _) = two_commits();
    std::fs::remove_file(segment(dir.path())).unwrap();
    match AccountsDb::open(dir.path(), Options::default()) {
        Err(Error::MissingSegment { path }) => assert_eq!(path, segment(dir.path())),
        other => panic!("expected MissingSegment, got {other:?}"),
    }
}

#[test]
fn segments_without_any_manifest_are_a_typed_error() {
    let (dir, _, _) = two_commits();
    std::fs::remove_file(dir.path().join("manifest-a")).unwrap();
    std::fs::remove_file(dir.path().join("manifest-b")).unwrap();
    assert!(matches!(
        AccountsDb::open(dir.path(), Options::default()),
        Err(Error::MissingManifest { .. })
    ));
}

#[test]
fn orphan_segment_from_an_unfinished_commit_is_removed() {
    let (dir, _, after_second) = two_commits();
    let orphan = dir.path().join("seg-0000000007.dat");
    std::fs::write(&orphan, [1u8; 500]).unwrap();
    let (db, _) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert!(!orphan.exists());
    assert_eq!(common::committed(&db), after_second);
}

#[test]
fn api_misuse_is_a_typed_error() {
    let db = AccountsDb::in_memory();
    db.put(5, common::key(1), common::account(1, 1)).unwrap();
    assert!(matches!(
        db.put(6, common::key(2), common::account(1, 1)),
        Err(Error::SlotMismatch { slot: 6, open: 5 })
    ));
    assert!(matches!(
        db.commit(4, common::state_hash(4)),
        Err(Error::SlotMismatch { .. })
    ));
    db.commit(5, common::state_hash(5)).unwrap();
    assert!(matches!(
        db.commit(5, common::state_hash(5)),
        Err(Error::SlotNotAfterCommitted { .. })
    ));
    assert!(matches!(
        db.put(5, common::key(2), common::account(1, 1)),
        Err(Error::SlotNotAfterCommitted { .. })
    ));
    let huge = Account::new(
        1,
        braid_primitives::ACCOUNT_DATA_BYTES_MAX + 1,
        &Pubkey::default(),
    );
    assert!(matches!(
        db.put(6, common::key(2), huge),
        Err(Error::DataTooLarge { .. })
    ));
    // The largest account still fits (in a segment of its own).
    let largest = Account::new(
        1,
        braid_primitives::ACCOUNT_DATA_BYTES_MAX,
        &Pubkey::default(),
    );
    db.put(6, common::key(3), largest.clone()).unwrap();
    db.commit(6, common::state_hash(6)).unwrap();
    assert_eq!(db.get(&common::key(3)), Some(largest));
    assert_eq!(db.last_committed(), (6, common::state_hash(6)));
}
