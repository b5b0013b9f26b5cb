//! A sealed slot: the next slot's writes may begin while it is committed, reads layer
//! correctly, one slot is sealed at a time, and a crash before its commit loses only it.

use braid_accounts_db::{AccountsDb, Error, Options};
use braid_primitives::{Account, Pubkey};

mod common;
use common::{key, state_hash};

fn lamports(lamports: u64) -> Account {
    Account::new(lamports, 0, &Pubkey::new_from_array([7; 32]))
}

fn balance(db: &AccountsDb, key: &Pubkey) -> Option<u64> {
    db.get(key).map(|account| account.lamports)
}

fn committed_balance(db: &AccountsDb, key: &Pubkey) -> Option<u64> {
    db.get_committed(key)
        .unwrap()
        .map(|account| account.lamports)
}

#[test]
fn the_next_slot_writes_while_the_sealed_one_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (key(1), key(2), key(3));
    {
        let (db, _) = AccountsDb::open(dir.path(), Options::default()).unwrap();
        db.store(1, &[(a, lamports(1)), (c, lamports(9))]).unwrap();
        db.commit(1, state_hash(1)).unwrap();

        db.store(
            2,
            &[(a, lamports(2)), (b, lamports(5)), (c, Account::default())],
        )
        .unwrap();
        let sealed = db.seal(2).unwrap();
        assert_eq!((sealed.slot(), sealed.len()), (2, 3));
        let written: Vec<(Pubkey, u64)> = {
            let mut written: Vec<(Pubkey, u64)> = sealed
                .shards()
                .flat_map(|shard| shard.iter().map(|(key, account)| (*key, account.lamports)))
                .collect();
            written.sort();
            written
        };
        let mut expected = vec![(a, 2), (b, 5), (c, 0)];
        expected.sort();
        assert_eq!(written, expected);

        // Slot 3 writes on top of the sealed slot 2.
        db.store(3, &[(a, lamports(3))]).unwrap();
        assert_eq!(balance(&db, &a), Some(3));
        assert_eq!(balance(&db, &b), Some(5));
        assert_eq!(balance(&db, &c), None, "deleted in the sealed slot");
        assert_eq!(committed_balance(&db, &a), Some(1));
        assert_eq!(committed_balance(&db, &c), Some(9));
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
        db.commit(3, state_hash(3)).unwrap();
    }
    let (db, recovered) = AccountsDb::open(dir.path(), Options::default()).unwrap();
    assert_eq!((recovered.slot, recovered.state_hash), (3, state_hash(3)));
    assert_eq!(
        (balance(&db, &a), balance(&db, &b), balance(&db, &c)),
        (Some(3), Some(5), None)
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
