//! Storage faults under a whole bank (ledger, genesis and accounts together): a run of
//! signed transfers over several slots is repeated with its Nth disk operation failing, for
//! every N, with `EIO` once and with `ENOSPC` from then on. Each time the failure is a typed
//! error carrying the injected errno, and reopening on a healthy disk (replaying what the
//! ledger holds beyond the accounts) recovers the last acknowledged slot, or the failed one
//! if it failed after its commit point, with the reference run's bank hash and balances.

// Test arithmetic runs on small, known values.
#![allow(clippy::arithmetic_side_effects)]

use std::path::Path;
use std::sync::Arc;

use braid_accounts_db::{Disk, DiskOp, FaultError, Faults, Options};
use braid_ledger::bank::{Bank, BankError, accounts_options};
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Transaction};

mod common;
use common::executor;

const SLOTS: u64 = 6;
const TRANSFERS_PER_SLOT: u64 = 5;
const USERS: u8 = 4;

fn users() -> Vec<Keypair> {
    (1..=USERS).map(|n| Keypair::from_seed(&[n; 32])).collect()
}

fn destination(n: u64) -> Pubkey {
    Pubkey::new_from_array([0xD0 ^ (n % 7) as u8; 32])
}

fn genesis() -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = users()
        .iter()
        .map(|user| {
            (
                user.pubkey(),
                Account::new(1_000_000, 0, &SYSTEM_PROGRAM_ID),
            )
        })
        .collect();
    accounts.push(common::system_program());
    Genesis::new(400, accounts).unwrap()
}

/// The transfers of `slot`, signed over the genesis hash (recent for all of them); every
/// fifth asks for more than the payer has, fails and pays its fee.
fn transfers(slot: u64, blockhash: Hash) -> Vec<(Vec<u8>, SanitizedTransaction)> {
    let users = users();
    (0..TRANSFERS_PER_SLOT)
        .map(|i| {
            let n = slot * TRANSFERS_PER_SLOT + i;
            let payer = &users[(n % u64::from(USERS)) as usize];
            let lamports = if n % 5 == 4 { 10_000_000 } else { 100 + n };
            let wire = Transaction::new_signed_with_payer(
                &[system::transfer(&payer.pubkey(), &destination(n), lamports)],
                Some(&payer.pubkey()),
                &[payer],
                blockhash,
            )
            .to_bytes();
            let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
            (wire, tx)
        })
        .collect()
}

/// Every account the run touches, with its balance.
fn balances(bank: &Bank) -> Vec<(Pubkey, u64)> {
    let mut keys: Vec<Pubkey> = users().iter().map(Keypair::pubkey).collect();
    keys.extend((0..7).map(destination));
    keys.into_iter()
        .map(|key| {
            let lamports = bank.accounts_db().get(&key).map_or(0, |a| a.lamports);
            (key, lamports)
        })
        .collect()
}

/// Slot by slot (index 0 = genesis): the bank hash and balances of a fault-free run.
fn reference() -> Vec<(Hash, Vec<(Pubkey, u64)>)> {
    let genesis = genesis();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let mut out = vec![(genesis.hash(), balances(&bank))];
    for slot in 1..=SLOTS {
        for (wire, tx) in transfers(slot, genesis.hash()) {
            bank.process(&wire, &tx).unwrap();
        }
        let commit = bank.commit_slot().unwrap();
        out.push((commit.bank_hash, balances(&bank)));
    }
    out
}

fn options(disk: Disk) -> Options {
    Options {
        background_compaction: None,
        disk,
        ..accounts_options()
    }
}

/// Runs the workload; returns the last acknowledged slot and the first error.
fn run(dir: &Path, disk: Disk) -> (u64, Option<BankError>) {
    let genesis = genesis();
    let mut bank = match Bank::open_with(dir, Some(&genesis), executor(), options(disk)) {
        Ok((bank, pending)) => {
            assert!(pending.is_empty());
            bank
        }
        Err(error) => return (0, Some(error)),
    };
    let mut acknowledged = 0;
    for slot in 1..=SLOTS {
        for (wire, tx) in transfers(slot, genesis.hash()) {
            if let Err(error) = bank.process(&wire, &tx) {
                return (acknowledged, Some(error));
            }
        }
        match bank.commit_slot() {
            Ok(commit) => acknowledged = commit.slot,
            Err(error) => return (acknowledged, Some(error)),
        }
    }
    (acknowledged, None)
}

fn errno_of(error: &BankError) -> Option<i32> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io.raw_os_error();
        }
        source = error.source();
    }
    None
}

fn check(n: u64, faults: Arc<Faults>, errno: i32, reference: &[(Hash, Vec<(Pubkey, u64)>)]) {
    let dir = tempfile::tempdir().unwrap();
    let (acknowledged, error) = run(dir.path(), Disk::with_faults(Arc::clone(&faults)));
    let (fired_at, op) = faults.fired().expect("the operation was reached");
    assert_eq!(fired_at, n);
    let error = error.unwrap_or_else(|| panic!("operation {n} ({op:?}) failed silently"));
    assert_eq!(
        errno_of(&error),
        Some(errno),
        "operation {n} ({op:?}): {error}"
    );
    assert_eq!(error.is_disk_full(), errno == libc::ENOSPC, "{error}");

    let (mut bank, pending) = Bank::open_with(
        dir.path(),
        Some(&genesis()),
        executor(),
        options(Disk::default()),
    )
    .unwrap_or_else(|error| panic!("reopen after operation {n} ({op:?}) failed: {error}"));
    for block in &pending {
        bank.replay_block(block).unwrap();
    }
    let recovered = bank.slot() - 1;
    assert!(
        recovered == acknowledged || recovered == acknowledged + 1,
        "operation {n} ({op:?}): acknowledged {acknowledged}, recovered {recovered}"
    );
    let (bank_hash, expected) = &reference[recovered as usize];
    assert_eq!(
        bank.parent_bank_hash(),
        *bank_hash,
        "operation {n} ({op:?})"
    );
    assert_eq!(balances(&bank), *expected, "operation {n} ({op:?})");
}

#[test]
fn a_bank_loses_nothing_acknowledged_whichever_disk_operation_fails() {
    let reference = reference();
    let counting = Faults::counting();
    let dir = tempfile::tempdir().unwrap();
    let (acknowledged, error) = run(dir.path(), Disk::with_faults(Arc::clone(&counting)));
    assert!(error.is_none());
    assert_eq!(acknowledged, SLOTS);
    let total = counting.seen();
    assert!(total > 30, "the run performs only {total} disk operations");
    eprintln!("{total} disk operations per run");
    for n in 1..=total {
        check(n, Faults::once(n, FaultError::Io), libc::EIO, &reference);
        check(
            n,
            Faults::persistent(n, FaultError::NoSpace),
            libc::ENOSPC,
            &reference,
        );
    }
}

#[test]
fn every_name_a_new_ledger_creates_is_made_durable_by_syncing_its_directory() {
    // A file's data can be durable while its directory entry is not; on a filesystem that
    // does not order the two, a crash would leave committed accounts and no ledger. Every
    // file or directory a new ledger creates (or renames into place) must be followed by an
    // fsync of the directory holding it.
    let faults = Faults::counting();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let (acknowledged, error) = run(&ledger, Disk::with_faults(Arc::clone(&faults)));
    assert!(error.is_none());
    assert_eq!(acknowledged, SLOTS);
    let trace = faults.trace();
    let mut seen = std::collections::BTreeSet::new();
    for (position, (op, path)) in trace.iter().enumerate() {
        if !matches!(op, DiskOp::Create | DiskOp::Rename) || !seen.insert(path.clone()) {
            continue;
        }
        let parent = path.parent().unwrap();
        assert!(
            trace[position + 1..]
                .iter()
                .any(|(later, synced)| *later == DiskOp::Fsync && synced == parent),
            "{op:?} {} was never made durable: {trace:#?}",
            path.display()
        );
    }
    // The ledger's own files are among them.
    for name in ["blocks.log", "genesis.bin", "accounts"] {
        assert!(
            seen.contains(&ledger.join(name)),
            "{name} missing from {seen:?}"
        );
    }
    // And the ledger directory itself, which the lock creates before anything else, has its
    // name made durable too.
    assert!(
        trace
            .iter()
            .any(|(op, path)| *op == DiskOp::Fsync && path == dir.path()),
        "{trace:#?}"
    );
}
