//! `Bank::speculate`: a block executed and undone leaves the bank exactly as it was, and the
//! block it returns commits to the same bank hash as executing the transactions for real.

use std::sync::Arc;

use braid_ledger::bank::{Bank, Refusal};
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
fn a_speculated_block_leaves_the_bank_untouched_and_commits_to_the_real_bank_hash() {
    let users = users();
    let genesis = genesis(&users);
    let mut speculating = Bank::in_memory(&genesis, executor()).unwrap();
    let mut direct = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = speculating.latest_blockhash();
    let wires = [
        transfer(&users[0], 0xA0, 1_000, blockhash),
        transfer(&users[1], 0xA1, 2_000, blockhash),
        // Too much: executes, fails, pays its fee.
        transfer(&users[2], 0xA2, FUNDS * 2, blockhash),
        // The first again: a replay, refused at admission.
        transfer(&users[0], 0xA0, 1_000, blockhash),
        // A stale blockhash.
        transfer(&users[3], 0xA3, 1_000, Hash::new_from_array([7; 32])),
    ];
    let txs: Vec<SanitizedTransaction> = wires
        .iter()
        .map(|wire| SanitizedTransaction::try_from_bytes(wire).unwrap())
        .collect();
    let pairs: Vec<(&[u8], &SanitizedTransaction)> =
        wires.iter().map(Vec::as_slice).zip(txs.iter()).collect();

    let before = (
        speculating.slot(),
        speculating.state_hash(),
        speculating.transaction_count(),
        speculating.accounts_db().get(&users[0].pubkey()),
    );
    let speculation = speculating.speculate(&pairs, Some(1_700_000_000)).unwrap();
    let after = (
        speculating.slot(),
        speculating.state_hash(),
        speculating.transaction_count(),
        speculating.accounts_db().get(&users[0].pubkey()),
    );
    assert_eq!(before, after);
    assert_eq!(speculating.open_slot_len(), 0);
    assert_eq!(
        speculating
            .accounts_db()
            .get(&Pubkey::new_from_array([0xA0; 32])),
        None
    );
    assert_eq!(
        speculation.refused,
        vec![
            (3, Refusal::NotAdmitted(TransactionError::AlreadyProcessed)),
            (4, Refusal::NotAdmitted(TransactionError::BlockhashNotFound)),
        ]
    );
    assert_eq!(speculation.block.entries.len(), 3);
    assert_eq!(speculation.block.slot, 1);
    assert_eq!(speculation.block.block_time, Some(1_700_000_000));

    // The same transactions, executed for real on a second bank.
    for (wire, tx) in &pairs {
        let _ = direct.process(wire, tx).unwrap();
    }
    let real = direct.commit_slot().unwrap();
    assert_eq!(speculation.block.bank_hash, real.bank_hash);
    assert_eq!(speculation.block.state_hash, real.state_hash);

    // Committing the speculated block reproduces it, and the time it was proposed with.
    let committed = speculating.replay_block(&speculation.block).unwrap();
    assert_eq!(committed.bank_hash, real.bank_hash);
    assert_eq!(committed.block_time, Some(1_700_000_000));
    assert_eq!(
        speculating
            .accounts_db()
            .get(&Pubkey::new_from_array([0xA1; 32]))
            .map(|account| account.lamports),
        Some(2_000)
    );

    // A replayed transaction in a later speculation is refused: the commit recorded it.
    let again = speculating.speculate(&pairs[..1], None).unwrap();
    assert!(again.block.entries.is_empty());
    assert_eq!(
        again.refused,
        vec![(0, Refusal::NotAdmitted(TransactionError::AlreadyProcessed))]
    );
}
