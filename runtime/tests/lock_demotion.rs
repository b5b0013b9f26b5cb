//! A registered program or a reserved key listed as a writable account is locked, and
//! treated, as read-only: one transaction cannot write-lock a program and serialize every
//! transaction that calls it. (Invoking a program declared writable is refused outright.)

mod common;

use braid_program_system::instruction as system;
use braid_runtime::fee::LAMPORTS_PER_SIGNATURE;
use braid_runtime::sanitized::{SanitizeError, SanitizedTransaction};
use braid_runtime::{AccountMeta, NATIVE_LOADER_ID, Pubkey, SYSTEM_PROGRAM_ID};

use common::{PROBE_ID, funded, harness, sign};

#[test]
fn a_registered_program_and_a_reserved_key_listed_writable_are_read_locked() {
    let mut harness = harness();
    let payer = funded(&mut harness, 1_000_000);
    let recipient = Pubkey::new_from_array([5; 32]);
    let mut transfer = system::transfer(&payer.pubkey(), &recipient, 1_000);
    // A registered program it does not invoke, and the native loader (reserved), as
    // writable accounts.
    transfer.accounts.push(AccountMeta::new(PROBE_ID, false));
    transfer
        .accounts
        .push(AccountMeta::new(NATIVE_LOADER_ID, false));
    let tx = sign(&harness, &payer, &[], &[transfer]);
    let keys = &tx.message.account_keys;
    let index_of = |key: &Pubkey| keys.iter().position(|k| k == key).unwrap();
    // The header declares both writable...
    assert!(tx.message.is_writable(index_of(&PROBE_ID)));
    assert!(tx.message.is_writable(index_of(&NATIVE_LOADER_ID)));
    let sanitized = SanitizedTransaction::try_new(tx.clone()).unwrap();
    // ...the transaction's own rule demotes the reserved key...
    assert!(!sanitized.is_writable(index_of(&NATIVE_LOADER_ID)));
    assert!(sanitized.is_writable(index_of(&PROBE_ID)));
    // ...and the executor, which knows the programs, demotes the program too.
    let executor = harness.executor();
    assert!(!executor.is_writable(&sanitized, index_of(&PROBE_ID)));
    let (writes, mut reads) = executor.lock_set(&sanitized);
    assert_eq!(writes, [payer.pubkey(), recipient]);
    reads.sort();
    let mut expected = vec![SYSTEM_PROGRAM_ID, PROBE_ID, NATIVE_LOADER_ID];
    expected.sort();
    assert_eq!(reads, expected);
    // The scheduler's form: one list, written accounts first, each part in key order.
    let (list, write_len) = executor.lock_list(&sanitized);
    let part = |written: bool| -> Vec<Pubkey> {
        (0..keys.len())
            .filter(|&index| executor.is_writable(&sanitized, index) == written)
            .map(|index| keys[index])
            .collect()
    };
    let in_key_order = [part(true), part(false)].concat();
    assert_eq!(in_key_order.len(), 5);
    assert_eq!((list, write_len), (in_key_order, 2));
    // The transfer still executes exactly.
    harness.send_transaction(tx).unwrap();
    assert_eq!(harness.get_balance(&recipient), 1_000);
    assert_eq!(
        harness.get_balance(&payer.pubkey()),
        1_000_000 - 1_000 - LAMPORTS_PER_SIGNATURE
    );
}

#[test]
fn invoking_a_program_declared_writable_is_refused() {
    let mut harness = harness();
    let payer = funded(&mut harness, 1_000_000);
    let mut transfer = system::transfer(&payer.pubkey(), &Pubkey::new_from_array([5; 32]), 1);
    transfer
        .accounts
        .push(AccountMeta::new(SYSTEM_PROGRAM_ID, false));
    let tx = sign(&harness, &payer, &[], &[transfer]);
    assert_eq!(
        SanitizedTransaction::try_new(tx).unwrap_err(),
        SanitizeError::ProgramIdNotReadonly { instruction: 0 }
    );
}

#[test]
fn the_fee_payer_is_never_demoted() {
    let mut harness = harness();
    let payer = funded(&mut harness, 1_000_000);
    let tx = sign(
        &harness,
        &payer,
        &[],
        &[system::transfer(&payer.pubkey(), &payer.pubkey(), 1)],
    );
    let sanitized = SanitizedTransaction::try_new(tx).unwrap();
    assert!(sanitized.is_writable(0));
    assert_eq!(harness.executor().lock_set(&sanitized).0, [payer.pubkey()]);
}
