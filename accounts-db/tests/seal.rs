//! A sealed slot: the next slot's writes may begin while it is committed, reads layer
//! correctly, one slot is sealed at a time, and a crash before its commit loses only it.
//! Every write keeps the key's value before its slot, through a sealed slot and a discard.

use braid_accounts_db::{AccountsDb, Error, Options, SealedSlot, SlotWrite};
use braid_primitives::{Account, Pubkey};

mod common;
use common::{key, state_hash};

fn lamports(lamports: u64) -> Account {
    Account::new(lamports, 0, &Pubkey::new_from_array([7; 32]))
}

fn balance(db: &AccountsDb, key: &Pubkey) -> Option<u64> {
    db.get(key).map(|account| account.lamports)
}

/// Each written key with its new balance and its balance before the slot, in key order.
fn balances<'a>(
    writes: impl IntoIterator<Item = (&'a Pubkey, &'a SlotWrite)>,
) -> Vec<(Pubkey, u64, Option<u64>)> {
    let mut balances: Vec<(Pubkey, u64, Option<u64>)> = writes
        .into_iter()
        .map(|(key, write)| {
            (
                *key,
                write.account().lamports,
                write.previous().map(|account| account.lamports),
            )
        })
        .collect();
    balances.sort();
    balances
}

/// [`balances`] of a sealed slot's writes.
fn writes(sealed: &SealedSlot) -> Vec<(Pubkey, u64, Option<u64>)> {
    balances(sealed.shards().flat_map(|shard| shard.iter()))
}

/// [`balances`] of the open slot's writes.
fn open_writes(db: &AccountsDb) -> Vec<(Pubkey, u64, Option<u64>)> {
    balances(db.open_writes().iter().map(|(key, write)| (key, write)))
}

fn committed_balance(db: &AccountsDb, key: &Pubkey) -> Option<u64> {
    db.get_committed(key)
        .unwrap()
        .map(|account| account.lamports)
}

#[test]
fn the_next_slot_writes_while_the_sealed_one_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (key(1), key(2), key(3), key(4));
    {
        let (db, _) = AccountsDb::open(dir.path(), Options::default()).unwrap();
        db.store(1, &[(a, lamports(1)), (c, lamports(9)), (d, lamports(7))])
            .unwrap();
        db.commit(1, state_hash(1)).unwrap();

        db.store(
            2,
            &[(a, lamports(2)), (b, lamports(5)), (c, Account::default())],
        )
        .unwrap();
        let sealed = db.seal(2).unwrap();
        assert_eq!((sealed.slot(), sealed.len()), (2, 3));
        // Old values come from the committed records.
        let mut expected = vec![(a, 2, Some(1)), (b, 5, None), (c, 0, Some(9))];
        expected.sort();
        assert_eq!(writes(&sealed), expected);

        // Slot 3 writes on top of the sealed slot 2.
        db.store(3, &[(a, lamports(30))]).unwrap();
        db.store(3, &[(a, lamports(3))]).unwrap();
        assert_eq!(balance(&db, &a), Some(3));
        assert_eq!(balance(&db, &b), Some(5));
        assert_eq!(balance(&db, &c), None, "deleted in the sealed slot");
        assert_eq!(committed_balance(&db, &a), Some(1));
        assert_eq!(committed_balance(&db, &c), Some(9));
        db.store(3, &[(c, lamports(4)), (d, lamports(8))]).unwrap();
        assert!(matches!(
            db.seal(3),
            Err(Error::SealPending { slot: 3, sealed: 2 })
        ));
        assert!(matches!(
            db.store(2, &[(b, lamports(6))]),
            Err(Error::SlotNotAfterCommitted {
                slot: 2,
                committed: 2
            })
        ));

        db.commit_sealed(sealed, state_hash(2)).unwrap();
        assert_eq!(db.last_committed(), (2, state_hash(2)));
        assert_eq!(committed_balance(&db, &a), Some(2));
        assert_eq!(committed_balance(&db, &c), None);
        assert_eq!(balance(&db, &a), Some(3));
        let sealed = db.seal(3).unwrap();
        // Slot 3's old values are what slot 2 left, though slot 2 was still committing
        // when slot 3 first wrote `a` and `c`; a second write keeps the first's old value.
        let mut expected = vec![(a, 3, Some(2)), (c, 4, None), (d, 8, Some(7))];
        expected.sort();
        assert_eq!(writes(&sealed), expected);
        db.commit_sealed(sealed, state_hash(3)).unwrap();
    }
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!((recovered.slot, recovered.state_hash), (3, state_hash(3)));
    assert_eq!(
        (balance(&db, &a), balance(&db, &b), balance(&db, &c)),
        (Some(3), Some(5), Some(4))
    );
}

#[test]
fn a_sealed_slot_not_yet_committed_is_lost_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let a = key(1);
    {
        let (db, _) = AccountsDb::open(dir.path(), Options::default()).unwrap();
        db.store(1, &[(a, lamports(1))]).unwrap();
        db.commit(1, state_hash(1)).unwrap();
        db.store(2, &[(a, lamports(2))]).unwrap();
        let _sealed = db.seal(2).unwrap();
        // Dropped without commit_sealed: as if the process died here.
    }
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!((recovered.slot, recovered.state_hash), (1, state_hash(1)));
    assert_eq!(balance(&db, &a), Some(1));
}

#[test]
fn a_discarded_slot_keeps_no_old_values_and_a_rewrite_keeps_them_afresh() {
    let db = AccountsDb::in_memory_with(Options::default()).unwrap();
    let (a, b) = (key(1), key(2));
    db.store(1, &[(a, lamports(1))]).unwrap();
    db.commit(1, state_hash(1)).unwrap();
    db.store(2, &[(a, lamports(5))]).unwrap();
    db.store(2, &[(a, lamports(6))]).unwrap();
    assert_eq!(open_writes(&db), vec![(a, 6, Some(1))]);
    db.discard(2).unwrap();
    assert_eq!(open_writes(&db), vec![]);

    // Executed again after the discard: the old values come from the committed state, not
    // from the discarded writes.
    db.store(2, &[(a, lamports(7)), (b, lamports(3))]).unwrap();
    let mut expected = vec![(a, 7, Some(1)), (b, 3, None)];
    expected.sort();
    assert_eq!(open_writes(&db), expected);
}
