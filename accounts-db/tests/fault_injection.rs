//! Storage fault injection, in the spirit of SQLite's I/O-error tests: a realistic run
//! (open, commits over many segments, compactions, a reopen) is repeated with its Nth disk
//! operation failing, for every N the run performs, with `EIO` once and with `ENOSPC` from
//! then on. Each time: the failure surfaces as a typed error carrying the injected errno,
//! the database refuses to promise durability afterwards, and reopening on a healthy disk
//! recovers exactly the last acknowledged commit (or the failed one, if it failed after its
//! commit point), with every account as the model says.

// Test arithmetic runs on small, known slot numbers.
#![allow(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use braid_accounts_db::{AccountsDb, Disk, DiskOp, Error, FaultError, Faults, Options};
use braid_primitives::{Account, Pubkey};

mod common;
use common::{apply, committed, state_hash, writes_for_slot};

const SLOTS: u64 = 12;
const COMPACT_EVERY_SLOTS: u64 = 3;

fn options(disk: Disk) -> Options {
    Options {
        // Small segments, so the run creates and rolls over many of them.
        segment_bytes: 16 << 10,
        // High, so every compaction finds victims and retired segments get unlinked.
        compaction_live_percent: 90,
        background_compaction: None,
        disk,
    }
}

/// What one run under a fault plan acknowledged.
struct Run {
    /// The last slot whose commit returned `Ok` (0: none, or only the genesis-free open).
    acknowledged: u64,
    /// The first error seen, if any.
    error: Option<Error>,
}

/// The injected errno, wherever the error carries it.
fn errno_of(error: &Error) -> Option<i32> {
    match error {
        Error::Io { source, .. } => source.raw_os_error(),
        _ => None,
    }
}

fn run(dir: &Path, faults: &Arc<Faults>) -> Run {
    let mut run = Run {
        acknowledged: 0,
        error: None,
    };
    let db = match AccountsDb::open(dir, options(Disk::with_faults(Arc::clone(faults)))) {
        Ok((db, _)) => db,
        Err(error) => {
            run.error = Some(error);
            return run;
        }
    };
    for slot in 1..=SLOTS {
        db.store(slot, &writes_for_slot(slot))
            .expect("staging writes does no I/O");
        match db.commit(slot, state_hash(slot)) {
            Ok(()) => run.acknowledged = slot,
            Err(error) => {
                // From here on the database refuses rather than promising anything.
                assert!(
                    matches!(
                        db.commit(slot + 1, state_hash(slot + 1)),
                        Err(Error::Poisoned)
                    ),
                    "a failed commit must poison the database"
                );
                run.error.get_or_insert(error);
                return run;
            }
        }
        if slot.is_multiple_of(COMPACT_EVERY_SLOTS)
            && let Err(error) = db.compact()
        {
            // A failed compaction loses nothing and leaves commits working.
            run.error.get_or_insert(error);
        }
    }
    run
}

fn model_at(slot: u64) -> BTreeMap<Pubkey, Account> {
    let mut model = BTreeMap::new();
    for slot in 1..=slot {
        apply(&mut model, &writes_for_slot(slot));
    }
    model
}

/// Runs the workload with operation `n` failing, then checks recovery on a healthy disk.
fn check(n: u64, faults: Arc<Faults>, errno: i32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts");
    let run = run(&path, &faults);
    let (fired_at, op) = faults
        .fired()
        .unwrap_or_else(|| panic!("operation {n} was never reached"));
    assert_eq!(fired_at, n);
    match run.error {
        Some(error) => assert_eq!(
            errno_of(&error),
            Some(errno),
            "operation {n} ({op:?}) failed as: {error}"
        ),
        // Unlinking a segment no manifest names any more happens after the commit point:
        // a failure there is retried later, and must not fail a commit that happened.
        None => {
            assert_eq!(
                op,
                DiskOp::Remove,
                "operation {n} ({op:?}) failed and nobody was told"
            );
            assert_eq!(run.acknowledged, SLOTS);
        }
    }

    let (db, recovered) = AccountsDb::open(&path, options(Disk::default()))
        .unwrap_or_else(|error| panic!("reopen after failing operation {n} ({op:?}): {error}"));
    assert!(
        recovered.slot == run.acknowledged || recovered.slot == run.acknowledged + 1,
        "operation {n} ({op:?}): acknowledged slot {}, recovered slot {}",
        run.acknowledged,
        recovered.slot
    );
    if recovered.sequence > 0 {
        assert_eq!(recovered.state_hash, state_hash(recovered.slot));
    }
    assert_eq!(
        committed(&db),
        model_at(recovered.slot),
        "operation {n} ({op:?}): recovered state differs from the model"
    );
    // And the recovered database takes the next commit.
    let next = recovered.slot + 1;
    db.store(next, &writes_for_slot(next)).unwrap();
    db.commit(next, state_hash(next)).unwrap();
}

fn operations_in_a_run() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::counting();
    let run = run(&dir.path().join("accounts"), &faults);
    assert!(run.error.is_none());
    assert_eq!(run.acknowledged, SLOTS);
    // Guards the test itself: the run walks every kind of operation a commit, a
    // compaction and a fresh database perform.
    let kinds: Vec<DiskOp> = faults.operations().into_keys().collect();
    assert_eq!(
        kinds,
        [
            DiskOp::Write,
            DiskOp::Allocate,
            DiskOp::Create,
            DiskOp::Truncate,
            DiskOp::Msync,
            DiskOp::Fsync,
            DiskOp::Rename,
            DiskOp::Remove,
        ],
        "{:?}",
        faults.operations()
    );
    faults.seen()
}

#[test]
fn every_failing_operation_is_an_error_and_loses_nothing_acknowledged() {
    let total = operations_in_a_run();
    // Guards the test itself: a run too small would walk few paths.
    assert!(total > 60, "the run performs only {total} disk operations");
    eprintln!("{total} disk operations per run");
    for n in 1..=total {
        check(n, Faults::once(n, FaultError::Io), libc::EIO);
        check(n, Faults::persistent(n, FaultError::NoSpace), libc::ENOSPC);
    }
}

#[test]
fn a_failed_compaction_leaves_commits_working() {
    // Find an operation inside the first compaction by failing each until one is reported
    // by `compact` itself, then check that every later commit succeeded.
    let total = operations_in_a_run();
    let mut seen_compaction_failure = false;
    for n in 1..=total {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts");
        let faults = Faults::once(n, FaultError::Io);
        let run = run(&path, &faults);
        if run.acknowledged == SLOTS && run.error.is_some() {
            seen_compaction_failure = true;
            let (db, recovered) = AccountsDb::open(&path, options(Disk::default())).unwrap();
            assert_eq!(recovered.slot, SLOTS);
            assert_eq!(committed(&db), model_at(SLOTS));
        }
    }
    assert!(
        seen_compaction_failure,
        "no injected fault hit a compaction"
    );
}
