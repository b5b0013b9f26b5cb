//! `ProgramAccounts`: banking threads read registered programs' accounts from memory. The
//! result must be what a database read gives, an account that could still change (one
//! owned by the System program, which can pay fees) must not be held, and a write to a held
//! account must never be stored.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use braid_ledger::bank::{Bank, ExecuteWalls, ProgramAccounts};
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::keypair::Keypair;
use braid_runtime::program::{Program, ProgramRegistry, program_account};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Account, Hash, InstructionError, Pubkey, SYSTEM_PROGRAM_ID, Transaction};

const FUNDS: u64 = 1_000_000_000;

/// A registered program that does nothing; only its id matters here.
struct Other(Pubkey);

impl Program for Other {
    fn id(&self) -> Pubkey {
        self.0
    }

    fn name(&self) -> &'static str {
        "other"
    }

    fn process(&self, _ctx: &mut InvokeContext<'_>, _data: &[u8]) -> Result<(), InstructionError> {
        Ok(())
    }
}

/// The System program, and `other` if given; balances recorded, so a program account's
/// lamports show up in every result.
fn executor(other: Option<Pubkey>) -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    if let Some(id) = other {
        programs.add(Other(id));
    }
    Arc::new(Executor::new(programs, ExecutorConfig::default()))
}

/// Funded `payers`, the System program's account, and `extra` accounts.
fn genesis(payers: &[&Keypair], extra: Vec<(Pubkey, Account)>) -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = payers
        .iter()
        .map(|payer| (payer.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)))
        .collect();
    accounts.push((
        SYSTEM_PROGRAM_ID,
        program_account(&braid_program_system::SystemProgram),
    ));
    accounts.extend(extra);
    Genesis::new(400, accounts).unwrap()
}

fn transfer(payer: &Keypair, to: &Pubkey, lamports: u64, blockhash: Hash) -> SanitizedTransaction {
    let wire = Transaction::new_signed_with_payer(
        &[system::transfer(&payer.pubkey(), to, lamports)],
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    )
    .to_bytes();
    SanitizedTransaction::try_from_bytes(&wire).unwrap()
}

/// Runs `tx` through `execute_cached` on one bank and `execute` on a twin, and checks that
/// both give the same result and leave the same accounts.
fn same_as_a_database_read(
    genesis: &Genesis,
    executor: &Arc<Executor>,
    tx: &SanitizedTransaction,
    keys: &[Pubkey],
) {
    let cached_bank = Bank::in_memory(genesis, Arc::clone(executor)).unwrap();
    let read_bank = Bank::in_memory(genesis, Arc::clone(executor)).unwrap();
    let programs = ProgramAccounts::read(cached_bank.accounts_db(), executor).unwrap();
    let slot = cached_bank.slot();
    let cached = Bank::execute_cached(
        cached_bank.accounts_db(),
        &programs,
        executor,
        slot,
        tx,
        &mut ExecuteWalls::default(),
    )
    .unwrap();
    let read = Bank::execute(read_bank.accounts_db(), executor, slot, tx).unwrap();
    assert_eq!(cached, read);
    assert_eq!(
        cached.as_ref().map(|executed| &executed.status),
        Ok(&Ok(()))
    );
    for key in keys {
        assert_eq!(
            cached_bank.accounts_db().get(key),
            read_bank.accounts_db().get(key),
            "{key}"
        );
    }
}

#[test]
fn held_accounts_are_what_the_database_holds() {
    let payer = Keypair::from_seed(&[1; 32]);
    let other = Pubkey::new_from_array([9; 32]);
    let absent = Pubkey::new_from_array([8; 32]);
    let mut registry_executor = ProgramRegistry::new();
    registry_executor.add(braid_program_system::SystemProgram);
    registry_executor.add(Other(other));
    registry_executor.add(Other(absent));
    let executor = Arc::new(Executor::new(registry_executor, ExecutorConfig::default()));
    let genesis = genesis(&[&payer], vec![(other, program_account(&Other(other)))]);
    let bank = Bank::in_memory(&genesis, Arc::clone(&executor)).unwrap();
    let programs = ProgramAccounts::read(bank.accounts_db(), &executor).unwrap();
    for id in executor.programs().ids() {
        assert_eq!(
            programs.get(&id),
            Some(&bank.accounts_db().get(&id)),
            "{id}"
        );
    }
    assert_eq!(programs.get(&absent), Some(&None));
    assert_eq!(
        programs
            .get(&SYSTEM_PROGRAM_ID)
            .cloned()
            .flatten()
            .map(|account| account.data),
        Some(b"system".to_vec())
    );
    assert!(!programs.holds(&payer.pubkey()));

    // The transfer names the System program, whose account now comes from the cache, and
    // the recorded balances include its lamports.
    let recipient = Pubkey::new_from_array([5; 32]);
    let tx = transfer(&payer, &recipient, 1_000, bank.latest_blockhash());
    same_as_a_database_read(
        &genesis,
        &executor,
        &tx,
        &[payer.pubkey(), recipient, SYSTEM_PROGRAM_ID, other],
    );
}

#[test]
fn a_system_owned_account_at_a_program_address_is_read_every_time() {
    // Someone holds the key of a registered program's address and funded it as a System
    // account. It can pay fees, so its account changes: it must not be held, and paying
    // from it must work as it does with every read going to the database.
    let program_key = Keypair::from_seed(&[3; 32]);
    let executor = executor(Some(program_key.pubkey()));
    let genesis = genesis(&[&program_key], Vec::new());
    let bank = Bank::in_memory(&genesis, Arc::clone(&executor)).unwrap();
    let programs = ProgramAccounts::read(bank.accounts_db(), &executor).unwrap();
    assert!(!programs.holds(&program_key.pubkey()));
    assert!(programs.holds(&SYSTEM_PROGRAM_ID));

    let recipient = Pubkey::new_from_array([6; 32]);
    let tx = transfer(&program_key, &recipient, 1_000, bank.latest_blockhash());
    same_as_a_database_read(&genesis, &executor, &tx, &[program_key.pubkey(), recipient]);
}

#[test]
fn a_write_to_a_held_account_stops_execution_and_is_never_stored() {
    // The cache was read for an executor that registers `other` (which has no account
    // yet); an executor that does not register it lets a transfer create that account.
    // The pair breaks the invariant the cache rests on: execution must stop rather than
    // store the write.
    let payer = Keypair::from_seed(&[2; 32]);
    let other = Pubkey::new_from_array([9; 32]);
    let genesis = genesis(&[&payer], Vec::new());
    let bank = Bank::in_memory(&genesis, executor(None)).unwrap();
    let programs = ProgramAccounts::read(bank.accounts_db(), &executor(Some(other))).unwrap();
    assert_eq!(programs.get(&other), Some(&None));
    let tx = transfer(&payer, &other, 1_000, bank.latest_blockhash());
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        Bank::execute_cached(
            bank.accounts_db(),
            &programs,
            bank.executor(),
            bank.slot(),
            &tx,
            &mut ExecuteWalls::default(),
        )
    }));
    let panic = outcome.expect_err("the write must stop execution");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.starts_with("a transaction wrote the account of registered program"),
        "{message}"
    );
    assert_eq!(bank.accounts_db().get(&other), None);
    assert_eq!(
        bank.accounts_db()
            .get(&payer.pubkey())
            .map(|account| account.lamports),
        Some(FUNDS),
        "nothing of the transaction was stored"
    );
}
