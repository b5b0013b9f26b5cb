//! `Bank::take_open_slot`: an executed slot taken out leaves the bank exactly as it was,
//! and put back (`Bank::restore_open_slot`), it commits to the same bank hash as executing
//! the transactions for real, with nothing executed again.

use std::sync::Arc;

use braid_ledger::bank::{Bank, Outcome};
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::Keypair;
use braid_runtime::program::{ProgramRegistry, program_account};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Transaction, TransactionError};

const FUNDS: u64 = 1_000_000_000;

fn executor() -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    Arc::new(Executor::new(programs, ExecutorConfig::QUIET))
}

fn users() -> Vec<Keypair> {
    (1..=4u8).map(|n| Keypair::from_seed(&[n; 32])).collect()
}

fn genesis(users: &[Keypair]) -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = users
        .iter()
        .map(|user| (user.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)))
        .collect();
    accounts.push((
        SYSTEM_PROGRAM_ID,
        program_account(&braid_program_system::SystemProgram),
    ));
    Genesis::new(400, accounts).unwrap()
}

fn transfer(payer: &Keypair, to: u8, lamports: u64, blockhash: Hash) -> Vec<u8> {
    Transaction::new_signed_with_payer(
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([to; 32]),
            lamports,
        )],
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    )
    .to_bytes()
}

#[test]
fn a_slot_taken_out_leaves_the_bank_untouched_and_put_back_commits_the_real_bank_hash() {
    let users = users();
    let genesis = genesis(&users);
    let mut trying = Bank::in_memory(&genesis, executor()).unwrap();
    let mut direct = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = trying.latest_blockhash();
    let wires = [
        transfer(&users[0], 0xA0, 1_000, blockhash),
        transfer(&users[1], 0xA1, 2_000, blockhash),
        // Too much: executes, fails, pays its fee.
        transfer(&users[2], 0xA2, FUNDS * 2, blockhash),
    ];
    let txs: Vec<SanitizedTransaction> = wires
        .iter()
        .map(|wire| SanitizedTransaction::try_from_bytes(wire).unwrap())
        .collect();
    let state = |bank: &Bank| {
        (
            bank.slot(),
            bank.state_hash(),
            bank.transaction_count(),
            bank.accounts_db().get(&users[0].pubkey()),
            bank.accounts_db().get(&Pubkey::new_from_array([0xA0; 32])),
        )
    };
    let before = state(&trying);
    for (wire, tx) in wires.iter().zip(&txs) {
        assert!(matches!(
            trying.process(wire, tx).unwrap(),
            Outcome::Recorded(_)
        ));
    }
    let block = trying.open_block_at(Some(1_700_000_000)).unwrap();
    let taken = trying.take_open_slot().unwrap();
    assert_eq!(state(&trying), before);
    assert_eq!(trying.open_slot_len(), 0);
    assert_eq!((taken.slot(), taken.len()), (1, 3));
    // Its admissions went with it: the same transaction is admitted again.
    trying.admit(&txs[0]).unwrap();
    trying.forget(&txs[0]);

    // The same transactions, executed for real on a second bank.
    for (wire, tx) in wires.iter().zip(&txs) {
        let _ = direct.process(wire, tx).unwrap();
    }
    let real = direct.commit_slot().unwrap();
    assert_eq!(block.bank_hash, real.bank_hash);
    assert_eq!(block.state_hash, real.state_hash);

    // Put back and committed: the real bank hash, the time it was proposed with, and no
    // transaction executed again.
    let recorded = trying.recorded_total();
    trying.restore_open_slot(taken).unwrap();
    assert_eq!(
        trying.admit(&txs[0]),
        Err(TransactionError::AlreadyProcessed),
        "its admissions came back"
    );
    let committed = trying.commit_replayed(&block).unwrap();
    assert_eq!(trying.recorded_total(), recorded);
    assert_eq!(committed.bank_hash, real.bank_hash);
    assert_eq!(committed.block_time, Some(1_700_000_000));
    assert_eq!(trying.transaction_count(), direct.transaction_count());
    assert_eq!(
        trying
            .accounts_db()
            .get(&Pubkey::new_from_array([0xA1; 32]))
            .map(|account| account.lamports),
        Some(2_000)
    );
}

#[test]
fn a_slot_is_put_back_only_where_it_was_taken() {
    let users = users();
    let genesis = genesis(&users);
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = bank.latest_blockhash();
    let wire = transfer(&users[0], 0xA0, 1_000, blockhash);
    let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
    let _ = bank.process(&wire, &tx).unwrap();
    let taken = bank.take_open_slot().unwrap();
    // Something else executed meanwhile: the open slot must be emptied first.
    let other = transfer(&users[1], 0xA1, 1_000, blockhash);
    let _ = bank
        .process(
            &other,
            &SanitizedTransaction::try_from_bytes(&other).unwrap(),
        )
        .unwrap();
    assert!(matches!(
        bank.restore_open_slot(taken),
        Err(braid_ledger::BankError::OpenSlotNotEmpty {
            slot: 1,
            transactions: 1
        })
    ));
}
