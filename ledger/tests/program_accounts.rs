//! `ProgramAccounts`: banking threads read registered programs' accounts from memory. The
//! result must be what a database read gives, and a write to such an account must never be
//! stored silently.

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
const OTHER_PROGRAM_ID: Pubkey = Pubkey::new_from_array([9; 32]);

/// A registered program that does nothing; only its id matters here.
struct Other;

impl Program for Other {
    fn id(&self) -> Pubkey {
        OTHER_PROGRAM_ID
    }

    fn name(&self) -> &'static str {
        "other"
    }

    fn process(&self, _ctx: &mut InvokeContext<'_>, _data: &[u8]) -> Result<(), InstructionError> {
        Ok(())
    }
}

fn executor(with_other: bool) -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    if with_other {
        programs.add(Other);
    }
    Arc::new(Executor::new(programs, ExecutorConfig::QUIET))
}

/// A funded payer, the System program, and `Other`'s account if `with_other`.
fn genesis(payer: &Keypair, with_other: bool) -> Genesis {
    let mut accounts = vec![
        (payer.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)),
        (
            SYSTEM_PROGRAM_ID,
            program_account(&braid_program_system::SystemProgram),
        ),
    ];
    if with_other {
        accounts.push((OTHER_PROGRAM_ID, program_account(&Other)));
    }
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

#[test]
fn programs_are_served_as_the_database_holds_them() {
    let payer = Keypair::from_seed(&[1; 32]);
    let genesis = genesis(&payer, true);
    let executor = executor(true);
    let cached_bank = Bank::in_memory(&genesis, Arc::clone(&executor)).unwrap();
    let read_bank = Bank::in_memory(&genesis, Arc::clone(&executor)).unwrap();
    let programs = ProgramAccounts::read(cached_bank.accounts_db(), &executor);
    assert!(programs.holds(&SYSTEM_PROGRAM_ID));
    assert!(programs.holds(&OTHER_PROGRAM_ID));
    assert!(!programs.holds(&payer.pubkey()));

    let recipient = Pubkey::new_from_array([5; 32]);
    // The transfer names the System program, whose account now comes from the cache.
    let tx = transfer(&payer, &recipient, 1_000, cached_bank.latest_blockhash());
    let slot = cached_bank.slot();
    let cached = Bank::execute_cached(
        cached_bank.accounts_db(),
        &programs,
        &executor,
        slot,
        &tx,
        &mut ExecuteWalls::default(),
    )
    .unwrap();
    let read = Bank::execute(read_bank.accounts_db(), &executor, slot, &tx).unwrap();
    assert_eq!(cached, read);
    assert!(cached.as_ref().unwrap().status.is_ok());
    for key in [
        payer.pubkey(),
        recipient,
        SYSTEM_PROGRAM_ID,
        OTHER_PROGRAM_ID,
    ] {
        assert_eq!(
            cached_bank.accounts_db().get(&key),
            read_bank.accounts_db().get(&key),
            "{key}"
        );
    }
    assert_eq!(
        cached_bank.accounts_db().get(&recipient).unwrap().lamports,
        1_000
    );
}

#[test]
#[should_panic(expected = "a transaction wrote the account of registered program")]
fn a_write_to_a_cached_program_account_is_never_stored() {
    // The cache was read for an executor that registers `Other` (which has no account
    // yet); an executor that does not register it lets a transfer create that account. The
    // pair breaks the invariant the cache rests on, and execution must stop rather than
    // store the write.
    let payer = Keypair::from_seed(&[2; 32]);
    let genesis = genesis(&payer, false);
    let registering = executor(true);
    let bank = Bank::in_memory(&genesis, executor(false)).unwrap();
    let programs = ProgramAccounts::read(bank.accounts_db(), &registering);
    let tx = transfer(&payer, &OTHER_PROGRAM_ID, 1_000, bank.latest_blockhash());
    let _ = Bank::execute_cached(
        bank.accounts_db(),
        &programs,
        bank.executor(),
        bank.slot(),
        &tx,
        &mut ExecuteWalls::default(),
    );
}
