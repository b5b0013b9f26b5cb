//! A full disk is an error, never a signal: segment files reserve their blocks when they are
//! created, so writing through the map can never meet a missing block (SIGBUS).
//!
//! The disk is a small tmpfs mounted for the test (the test machines run as root).

use braid_accounts_db::{AccountsDb, Error, Options};
use braid_primitives::{Account, Pubkey};

mod common;
use common::tiny_disk::TinyDisk;
use common::{key, state_hash};

fn options(segment_bytes: u32) -> Options {
    Options {
        segment_bytes,
        ..Options::default()
    }
}

fn is_disk_full(error: &Error) -> bool {
    match error {
        Error::Io { source, .. } => source.raw_os_error() == Some(libc_enospc()),
        _ => false,
    }
}

/// ENOSPC on Linux.
fn libc_enospc() -> i32 {
    28
}

#[test]
fn a_segment_larger_than_the_disk_is_refused_with_an_error() {
    let disk = TinyDisk::mount("1m");
    let (db, _) = AccountsDb::open(disk.path().join("accounts"), options(8 << 20)).unwrap();
    db.store(1, &[(key(1), Account::new(5, 100, &Pubkey::default()))])
        .unwrap();
    let error = db.commit(1, state_hash(1)).unwrap_err();
    assert!(is_disk_full(&error), "{error}");
    // The database says so from now on rather than promising durability.
    assert!(matches!(db.commit(2, state_hash(2)), Err(Error::Poisoned)));
}

#[test]
fn filling_the_disk_ends_in_an_error_and_keeps_what_was_committed() {
    let disk = TinyDisk::mount("4m");
    let dir = disk.path().join("accounts");
    let mut committed = 0u64;
    {
        let (db, _) = AccountsDb::open(&dir, options(256 << 10)).unwrap();
        let account = Account::new(7, 60 << 10, &Pubkey::default());
        let error = loop {
            let slot = committed + 1;
            let writes: Vec<(Pubkey, Account)> = (0..4)
                .map(|i| (key(slot * 4 + i), account.clone()))
                .collect();
            db.store(slot, &writes).unwrap();
            match db.commit(slot, state_hash(slot)) {
                Ok(()) => committed = slot,
                Err(error) => break error,
            }
            assert!(slot < 1_000, "a 4 MiB disk never filled");
        };
        assert!(is_disk_full(&error), "{error}");
        assert!(committed > 0);
    }
    // Whatever was acknowledged is still there.
    let (db, recovered) = AccountsDb::open(&dir, options(256 << 10)).unwrap();
    assert_eq!(recovered.slot, committed);
    assert_eq!(db.get(&key(committed * 4)).unwrap().lamports, 7);
}
