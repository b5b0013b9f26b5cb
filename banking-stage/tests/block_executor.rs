//! The block executor's verify mode equals serial replay, bit for bit: on random blocks
//! with hot accounts it commits the same bank hashes, and on a damaged block it reports the
//! same first divergence, leaving the bank as it found it.

// Test arithmetic runs on small, known values; an overflow would be a failing test anyway.
#![allow(clippy::arithmetic_side_effects)]

use braid_banking_stage::block_executor::{
    BlockExecutor, BlockExecutorError, Diverged, Divergence, Limits, Signatures,
};
use braid_ledger::bank::{Bank, BankError, Outcome, Refusal};
use braid_ledger::blockstore::{Block, EntryStatus};
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::cost_model::{
    BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX, BlockLimit, CostTracker, TransactionCost,
};
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Transaction, TransactionError};
use proptest::prelude::*;

mod common;
use common::executor;

/// Small enough that a hot payer runs out part way (amounts grow with the nonce below), so
/// which transfers fail depends on the order they run in.
const FUNDS: u64 = 2_000_000;
const USERS: usize = 6;
const DESTINATIONS: usize = 4;
/// Transfer amounts step by this per transaction, so no two messages are alike whatever
/// the shrinker makes of the amounts: small amounts stay below it, and the amount above
/// every balance is a multiple of it.
const NONCE_STEP: u64 = 8_192;
const TOO_MUCH: u64 = (u64::MAX / 4 / NONCE_STEP) * NONCE_STEP;
const _: () = assert!(TOO_MUCH > 1_000 * FUNDS);

fn users() -> Vec<Keypair> {
    (0..USERS)
        .map(|n| Keypair::from_seed(&[n as u8 + 0x31; 32]))
        .collect()
}

fn destination(to: usize) -> Pubkey {
    Pubkey::new_from_array([0xE0 ^ to as u8; 32])
}

fn genesis(users: &[Keypair]) -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = users
        .iter()
        .map(|user| (user.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)))
        .collect();
    accounts.push(common::system_program());
    let destinations: Vec<Pubkey> = (0..DESTINATIONS).map(destination).collect();
    accounts.push(common::lookup_table(&destinations));
    Genesis::new(400, accounts).unwrap()
}

/// One transaction of a random block: who pays, where it goes (a user, so payers conflict
/// with each other, or a plain destination), how much (above the balance it fails and still
/// pays its fee), and whether it is v0 with its destination loaded from the table.
#[derive(Clone, Debug)]
struct Spec {
    from: usize,
    to_user: bool,
    to: usize,
    lamports: u64,
    v0: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    // Payer 0 is hot: about half of all transactions.
    (
        prop_oneof![Just(0usize), 0..USERS],
        any::<bool>(),
        0..USERS.max(DESTINATIONS),
        prop_oneof![1u64..NONCE_STEP, Just(TOO_MUCH)],
        prop::bool::weighted(0.2),
    )
        .prop_map(|(from, to_user, to, lamports, v0)| Spec {
            from,
            to_user,
            to,
            lamports,
            v0,
        })
}

fn wire(users: &[Keypair], spec: &Spec, nonce: u64, blockhash: Hash) -> Vec<u8> {
    let payer = &users[spec.from];
    let (to, v0) = if spec.to_user {
        (users[spec.to % USERS].pubkey(), false)
    } else {
        (destination(spec.to % DESTINATIONS), spec.v0)
    };
    // The nonce keeps every message distinct.
    let instruction = system::transfer(&payer.pubkey(), &to, spec.lamports + nonce * NONCE_STEP);
    if v0 {
        let destinations: Vec<Pubkey> = (0..DESTINATIONS).map(destination).collect();
        let message = braid_runtime::Message::new_v0(
            &[instruction],
            &payer.pubkey(),
            &blockhash,
            &[(common::LOOKUP_TABLE, destinations)],
        );
        let mut tx = Transaction::new_unsigned(message);
        tx.sign(&[payer], blockhash);
        tx.to_bytes()
    } else {
        Transaction::new_signed_with_payer(
            &[instruction],
            Some(&payer.pubkey()),
            &[payer],
            blockhash,
        )
        .to_bytes()
    }
}

/// Ledger blocks made by executing `slots` serially, one slot each.
fn produce(genesis: &Genesis, users: &[Keypair], slots: &[Vec<Spec>]) -> Vec<Block> {
    let mut bank = Bank::in_memory(genesis, executor()).unwrap();
    let mut blocks = Vec::new();
    let mut nonce = 0;
    for specs in slots {
        let blockhash = bank.latest_blockhash();
        for spec in specs {
            nonce += 1;
            let wire = wire(users, spec, nonce, blockhash);
            let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
            match bank.process(&wire, &tx).unwrap() {
                // A payer left unable to pay its fee is refused and left out.
                Outcome::Recorded(_) | Outcome::Rejected(_) => {}
                other => panic!("a fresh transfer was not admitted: {other:?}"),
            }
        }
        let block = bank.open_block_at(Some(1_700_000_000)).unwrap();
        let commit = bank.commit_slot().unwrap();
        assert_eq!(commit.bank_hash, block.bank_hash);
        blocks.push(block);
    }
    blocks
}

/// Replays `blocks` serially, or with `engine`: each slot's bank hash, or the first error
/// (as text, which is what both promise to agree on), and the open slot's length after it.
fn replay(
    genesis: &Genesis,
    blocks: &[Block],
    engine: Option<&BlockExecutor>,
) -> (Vec<Hash>, Option<String>, Bank) {
    let mut bank = Bank::in_memory(genesis, executor()).unwrap();
    let mut hashes = Vec::new();
    for block in blocks {
        let result = match engine {
            Some(engine) => engine.replay_block(&mut bank, block),
            None => bank.replay_block(block),
        };
        match result {
            Ok(commit) => hashes.push(commit.bank_hash),
            Err(error) => return (hashes, Some(error.to_string()), bank),
        }
    }
    (hashes, None, bank)
}

/// Ways to damage a block, each something serial replay catches at one entry.
#[derive(Clone, Debug)]
enum Damage {
    /// A recorded fee one lamport off.
    Fee,
    /// A recorded status flipped.
    Status,
    /// An entry copied to the end: not admitted there (already processed).
    Duplicate,
    /// A signature byte flipped.
    Signature,
    /// Wire bytes cut short.
    Truncate,
}

fn damage(block: &mut Block, how: &Damage, at: usize) {
    let position = at % block.entries.len();
    let entry = &mut block.entries[position];
    match how {
        Damage::Fee => entry.fee += 1,
        Damage::Status => {
            entry.status = match entry.status {
                EntryStatus::Ok => EntryStatus::Failed,
                EntryStatus::Failed => EntryStatus::Ok,
            }
        }
        Damage::Duplicate => {
            let copy = entry.clone();
            block.entries.push(copy);
        }
        Damage::Signature => entry.transaction[1] ^= 0x40,
        Damage::Truncate => {
            let half = entry.transaction.len() / 2;
            entry.transaction.truncate(half);
        }
    }
}

fn engines() -> Vec<BlockExecutor> {
    [1, 2, 4]
        .into_iter()
        .map(|threads| BlockExecutor::new(threads).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn verify_mode_commits_what_serial_replay_commits(
        slots in prop::collection::vec(prop::collection::vec(spec(), 1..48), 1..4),
    ) {
        let users = users();
        let genesis = genesis(&users);
        let blocks = produce(&genesis, &users, &slots);
        let (serial, error, _) = replay(&genesis, &blocks, None);
        prop_assert_eq!(error, None);
        let recorded: Vec<Hash> = blocks.iter().map(|block| block.bank_hash).collect();
        prop_assert_eq!(&serial, &recorded);
        for engine in engines() {
            let (parallel, error, _) = replay(&genesis, &blocks, Some(&engine));
            prop_assert_eq!(error, None, "threads {}", engine.threads());
            prop_assert_eq!(&parallel, &serial, "threads {}", engine.threads());
        }
    }

    #[test]
    fn verify_mode_reports_serial_replays_first_divergence_and_undoes_the_block(
        slots in prop::collection::vec(prop::collection::vec(spec(), 1..32), 1..3),
        how in prop_oneof![
            Just(Damage::Fee),
            Just(Damage::Status),
            Just(Damage::Duplicate),
            Just(Damage::Signature),
            Just(Damage::Truncate),
        ],
        at in any::<usize>(),
    ) {
        let users = users();
        let genesis = genesis(&users);
        let blocks = produce(&genesis, &users, &slots);
        let mut damaged = blocks.clone();
        let last = damaged.len() - 1;
        prop_assume!(!damaged[last].entries.is_empty());
        damage(&mut damaged[last], &how, at);
        let (serial_hashes, serial_error, _) = replay(&genesis, &damaged, None);
        prop_assert!(serial_error.is_some(), "serial replay accepted {:?}", how);
        for engine in engines() {
            let (hashes, error, mut bank) = replay(&genesis, &damaged, Some(&engine));
            prop_assert_eq!(&hashes, &serial_hashes);
            prop_assert_eq!(&error, &serial_error, "threads {}", engine.threads());
            // The bank is as before the damaged block: the intact one commits on it.
            prop_assert_eq!(bank.open_slot_len(), 0);
            let commit = engine.replay_block(&mut bank, &blocks[last]).unwrap();
            prop_assert_eq!(commit.bank_hash, blocks[last].bank_hash);
        }
    }
}

#[test]
fn a_block_for_another_slot_is_refused_as_serial_replay_refuses_it() {
    let users = users();
    let genesis = genesis(&users);
    let specs = vec![Spec {
        from: 1,
        to_user: false,
        to: 0,
        lamports: 10,
        v0: false,
    }];
    let blocks = produce(&genesis, &users, &[specs.clone(), specs]);
    let engine = BlockExecutor::new(2).unwrap();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let error = engine.replay_block(&mut bank, &blocks[1]).unwrap_err();
    assert!(
        matches!(
            &error,
            BankError::ReplayDiverged { slot: 2, entry: 0, reason }
                if reason == "block is for slot 2, the bank is at slot 1"
        ),
        "{error}"
    );
}

#[test]
fn a_thread_count_outside_the_schedulers_range_is_refused() {
    assert!(matches!(
        BlockExecutor::new(0),
        Err(BlockExecutorError::Threads(0))
    ));
    let too_many = braid_banking_stage::scheduler::THREADS_MAX + 1;
    assert!(matches!(
        BlockExecutor::new(too_many),
        Err(BlockExecutorError::Threads(n)) if n == too_many
    ));
}

/// `wires` through produce mode on `bank`: what it left out.
fn produce_mode(
    engine: &BlockExecutor,
    bank: &mut Bank,
    wires: &[Vec<u8>],
) -> Vec<(usize, Refusal)> {
    let txs: Vec<SanitizedTransaction> = wires
        .iter()
        .map(|wire| SanitizedTransaction::try_from_bytes(wire).unwrap())
        .collect();
    let pairs: Vec<(&[u8], &SanitizedTransaction)> =
        wires.iter().map(Vec::as_slice).zip(txs.iter()).collect();
    engine.produce(bank, &pairs).unwrap()
}

/// The wires of `specs` signed over `blockhash`, numbered from `first_nonce`.
fn wires(users: &[Keypair], specs: &[Spec], first_nonce: u64, blockhash: Hash) -> Vec<Vec<u8>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| wire(users, spec, first_nonce + i as u64, blockhash))
        .collect()
}

fn hot_specs(count: usize) -> Vec<Spec> {
    (0..count)
        .map(|i| Spec {
            from: i % 3,
            to_user: i % 2 == 0,
            to: i % 5,
            lamports: 1 + i as u64,
            v0: i % 4 == 1,
        })
        .collect()
}

#[test]
fn a_candidate_set_aside_commits_later_without_executing_again() {
    let users = users();
    let genesis = genesis(&users);
    let engine = BlockExecutor::new(2).unwrap();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = bank.latest_blockhash();
    // Two candidates for slot 1 that share a transaction, as two rounds' blocks may.
    let first = wires(&users, &hot_specs(40), 0, blockhash);
    let mut second = wires(&users, &hot_specs(30), 1_000, blockhash);
    second.push(first[0].clone());
    let outcome = engine
        .execute_fixed(&mut bank, &first, None, Signatures::Verify, Limits::Enforce)
        .unwrap();
    assert_eq!(outcome, Ok(()));
    let first_block = bank.open_block_at(Some(7)).unwrap();
    let parked = bank.take_open_slot().unwrap();
    assert_eq!((parked.slot(), parked.len()), (1, 40));
    assert_eq!(bank.open_slot_len(), 0);
    let outcome = engine
        .execute_fixed(
            &mut bank,
            &second,
            None,
            Signatures::Verify,
            Limits::Enforce,
        )
        .unwrap();
    assert_eq!(outcome, Ok(()), "the shared transaction is admitted again");
    let second_block = bank.open_block_at(Some(7)).unwrap();
    assert_ne!(second_block.bank_hash, first_block.bank_hash);
    assert_eq!(bank.recorded_total(), 71);
    // The first is decided: the second's execution goes, the first's comes back.
    bank.take_open_slot().unwrap();
    bank.restore_open_slot(parked).unwrap();
    let commit = bank.commit_replayed(&first_block).unwrap();
    assert_eq!(commit.bank_hash, first_block.bank_hash);
    assert_eq!(bank.recorded_total(), 71, "nothing executed again");
    // It committed exactly what a fresh serial replay of the block commits.
    let mut serial = Bank::in_memory(&genesis, executor()).unwrap();
    assert_eq!(
        serial.replay_block(&first_block).unwrap().bank_hash,
        first_block.bank_hash
    );
    // Its transactions are processed now: the shared one cannot come again.
    let again = engine
        .execute_fixed(
            &mut bank,
            &first[..1],
            None,
            Signatures::Verify,
            Limits::Enforce,
        )
        .unwrap();
    assert!(
        matches!(
            again,
            Err(Divergence {
                entry: 0,
                reason: Diverged::NotAdmitted(TransactionError::AlreadyProcessed)
            })
        ),
        "{again:?}"
    );
}

#[test]
fn produce_mode_leaves_out_what_cannot_land_and_its_block_verifies() {
    let users = users();
    let genesis = genesis(&users);
    let unfunded = Keypair::from_seed(&[0x77; 32]);
    for threads in [1, 2] {
        let engine = BlockExecutor::new(threads).unwrap();
        let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
        let blockhash = bank.latest_blockhash();
        let mut wires = wires(&users, &hot_specs(50), 0, blockhash);
        let duplicate = wires[3].clone();
        wires.insert(10, duplicate);
        wires.insert(
            20,
            Transaction::new_signed_with_payer(
                &[system::transfer(&unfunded.pubkey(), &destination(0), 1)],
                Some(&unfunded.pubkey()),
                &[&unfunded],
                blockhash,
            )
            .to_bytes(),
        );
        let refused = produce_mode(&engine, &mut bank, &wires);
        assert_eq!(
            refused,
            vec![
                (10, Refusal::NotAdmitted(TransactionError::AlreadyProcessed)),
                (20, Refusal::Rejected(TransactionError::AccountNotFound)),
            ],
            "threads {threads}"
        );
        assert_eq!(bank.open_slot_len(), 50);
        let block = bank.open_block_at(Some(9)).unwrap();
        let commit = bank.commit_replayed(&block).unwrap();
        // A replica's verify mode and serial replay reach the same bank hash.
        for replica in [Some(&engine), None] {
            let (hashes, error, _) = replay(&genesis, std::slice::from_ref(&block), replica);
            assert_eq!(error, None);
            assert_eq!(hashes, vec![commit.bank_hash]);
        }
    }
}

#[test]
fn produce_mode_runs_a_higher_priority_fee_first() {
    let users = users();
    let genesis = genesis(&users);
    let engine = BlockExecutor::new(2).unwrap();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = bank.latest_blockhash();
    // Both spend most of payer 1's funds: only the first to run can.
    let spend = |price: u64, lamports: u64| {
        let payer = &users[1];
        Transaction::new_signed_with_payer(
            &[
                braid_runtime::compute_budget::set_compute_unit_price(price),
                system::transfer(&payer.pubkey(), &destination(1), lamports),
            ],
            Some(&payer.pubkey()),
            &[payer],
            blockhash,
        )
        .to_bytes()
    };
    let wires = [spend(0, FUNDS - 100_000), spend(1_000, FUNDS - 100_001)];
    assert_eq!(produce_mode(&engine, &mut bank, &wires), vec![]);
    let block = bank.open_block_at(None).unwrap();
    assert_eq!(
        block.entries[0].transaction, wires[1],
        "the higher fee ran first"
    );
    assert_eq!(block.entries[0].status, EntryStatus::Ok);
    assert_eq!(block.entries[1].status, EntryStatus::Failed);
}

fn signed(
    payer: &Keypair,
    signers: &[&Keypair],
    instructions: &[braid_runtime::Instruction],
    blockhash: Hash,
) -> Vec<u8> {
    Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), signers, blockhash)
        .to_bytes()
}

#[test]
fn the_cost_model_reads_what_system_instructions_allocate() {
    let payer = Keypair::from_seed(&[0x51; 32]);
    let new = Keypair::from_seed(&[0x52; 32]);
    let owner = Pubkey::new_from_array([0x53; 32]);
    let seeded = Pubkey::new_from_array([0x54; 32]);
    let instructions = [
        system::create_account(&payer.pubkey(), &new.pubkey(), 1, 1_000, &owner),
        system::create_account_with_seed(
            &payer.pubkey(),
            &seeded,
            &payer.pubkey(),
            "a seed",
            1,
            20_000,
            &owner,
        ),
        system::allocate(&new.pubkey(), 300_000),
        system::allocate_with_seed(&seeded, &payer.pubkey(), "seed", 4_000_000, &owner),
        // Moves lamports, allocates nothing.
        system::transfer(&payer.pubkey(), &new.pubkey(), 5),
    ];
    let wire = signed(&payer, &[&payer, &new], &instructions, Hash::default());
    let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
    assert_eq!(
        braid_runtime::cost_model::allocated_bytes(&tx),
        1_000 + 20_000 + 300_000 + 4_000_000
    );
    // Two signatures, three written accounts (payer, new, seeded), five instructions at
    // the default 200,000 compute units each.
    let estimate = TransactionCost::estimate(&tx, 3);
    assert_eq!(estimate.signature_units, 36_000);
    assert_eq!(estimate.write_lock_units, 3_000);
    assert_eq!(estimate.compute_units, 1_000_000);
    assert_eq!(estimate.block_units(), 1_039_000);
    assert_eq!(estimate.account_units(), 1_003_000);
}

#[test]
fn a_cost_tracker_refuses_what_passes_a_limit_and_takes_reservations_back() {
    let payer = Keypair::from_seed(&[0x61; 32]);
    let writable = [payer.pubkey(), destination(0)];
    // A transfer's execution: 150 compute units and two write locks, 2,150 units for the
    // block and for each account it writes (its signature left out, so the account limit,
    // half the block's, is reached first).
    let cost = TransactionCost {
        signature_units: 0,
        write_lock_units: 2_000,
        compute_units: 150,
        allocated_bytes: 0,
    };
    let mut tracker = CostTracker::new();
    let per_account = braid_runtime::cost_model::ACCOUNT_COST_UNITS_MAX / 2_150;
    for _ in 0..per_account {
        tracker.try_add(&cost, &writable).unwrap();
    }
    assert_eq!(
        tracker.try_add(&cost, &writable),
        Err(BlockLimit::AccountCost(payer.pubkey()))
    );
    assert_eq!(tracker.block_units(), per_account * 2_150);
    tracker.remove(&cost, &writable);
    tracker.try_add(&cost, &writable).unwrap();
}

/// A genesis with a rich payer and the system program, for blocks that allocate.
fn rich_genesis(payer: &Keypair) -> Genesis {
    Genesis::new(
        400,
        vec![
            (
                payer.pubkey(),
                Account::new(u64::MAX / 2, 0, &SYSTEM_PROGRAM_ID),
            ),
            common::system_program(),
        ],
    )
    .unwrap()
}

/// Transactions that each create a 10 MiB account: the tenth passes the block's
/// allocation limit.
fn big_creates(payer: &Keypair, count: u8, blockhash: Hash) -> Vec<Vec<u8>> {
    let space = braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX as u64;
    (0..count)
        .map(|n| {
            let new = Keypair::from_seed(&[0x90 + n; 32]);
            signed(
                payer,
                &[payer, &new],
                &[system::create_account(
                    &payer.pubkey(),
                    &new.pubkey(),
                    1,
                    space,
                    &SYSTEM_PROGRAM_ID,
                )],
                blockhash,
            )
        })
        .collect()
}

#[test]
fn a_block_over_a_limit_is_refused_at_the_entry_that_passes_it() {
    let payer = Keypair::from_seed(&[0x71; 32]);
    let genesis = rich_genesis(&payer);
    let space = braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX as u64;
    let fit = BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX / space;
    assert_eq!(fit, 9);
    let engine = BlockExecutor::new(2).unwrap();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let wires = big_creates(&payer, 10, bank.latest_blockhash());
    let verdict = engine
        .execute_fixed(&mut bank, &wires, None, Signatures::Verify, Limits::Enforce)
        .unwrap();
    assert_eq!(
        verdict,
        Err(Divergence {
            entry: 9,
            reason: Diverged::OverLimit(BlockLimit::AllocatedData)
        })
    );
    assert_eq!(
        bank.open_slot_len(),
        0,
        "the refused block left nothing behind"
    );
    // Nine fit.
    let verdict = engine
        .execute_fixed(
            &mut bank,
            &wires[..9],
            None,
            Signatures::Verify,
            Limits::Enforce,
        )
        .unwrap();
    assert_eq!(verdict, Ok(()));
}

#[test]
fn produce_mode_fills_a_block_to_its_limits_and_leaves_the_rest_for_the_next() {
    let payer = Keypair::from_seed(&[0x81; 32]);
    let genesis = rich_genesis(&payer);
    for threads in [1, 2] {
        let engine = BlockExecutor::new(threads).unwrap();
        let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
        let wires = big_creates(&payer, 11, bank.latest_blockhash());
        let refused = produce_mode(&engine, &mut bank, &wires);
        assert_eq!(
            refused,
            vec![
                (9, Refusal::OverLimit(BlockLimit::AllocatedData)),
                (10, Refusal::OverLimit(BlockLimit::AllocatedData)),
            ],
            "threads {threads}"
        );
        assert_eq!(bank.open_slot_len(), 9);
        // What a replica makes of the block: within the limits.
        let block = bank.open_block_at(None).unwrap();
        let mut replica = Bank::in_memory(&genesis, executor()).unwrap();
        let wires: Vec<&[u8]> = block
            .entries
            .iter()
            .map(|e| e.transaction.as_slice())
            .collect();
        let verdict = engine
            .execute_fixed(
                &mut replica,
                &wires,
                Some(&block.entries),
                Signatures::Verify,
                Limits::Enforce,
            )
            .unwrap();
        assert_eq!(verdict, Ok(()));
        assert_eq!(
            replica.open_block_at(None).unwrap().bank_hash,
            block.bank_hash
        );
    }
}

#[test]
fn only_unmarked_transactions_have_their_signatures_verified() {
    let users = users();
    let genesis = genesis(&users);
    let engine = BlockExecutor::new(2).unwrap();
    let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
    let mut wires = wires(&users, &hot_specs(4), 0, bank.latest_blockhash());
    // A forged signature: its message is intact, so only verification can tell.
    wires[2][1] ^= 0x40;
    let verdict = engine
        .execute_fixed(
            &mut bank,
            &wires,
            None,
            Signatures::VerifyUnmarked(&[true, true, false, true]),
            Limits::Enforce,
        )
        .unwrap();
    assert_eq!(
        verdict,
        Err(Divergence {
            entry: 2,
            reason: Diverged::Signature(TransactionError::SignatureFailure)
        })
    );
    // Marked as verified (as a pool marks what it verified), it is taken on trust.
    let verdict = engine
        .execute_fixed(
            &mut bank,
            &wires,
            None,
            Signatures::VerifyUnmarked(&[true; 4]),
            Limits::Enforce,
        )
        .unwrap();
    assert_eq!(verdict, Ok(()));
}

#[test]
fn a_lookup_into_a_table_made_in_the_same_block_diverges_as_serial_replay_words_it() {
    use braid_program_address_lookup_table as alt;
    let users = users();
    let mut genesis = genesis(&users);
    genesis.accounts.push((
        braid_runtime::address_lookup_table::ID,
        braid_runtime::program::program_account(&alt::AddressLookupTableProgram),
    ));
    genesis.accounts.sort_by_key(|(key, _)| *key);
    let authority = &users[0];
    let mut producer = Bank::in_memory(&genesis, executor()).unwrap();
    let blockhash = producer.latest_blockhash();
    // Entry 0 makes a table, entry 1 fills it: neither's addresses are usable before slot 2.
    let (create, table) = alt::create_lookup_table(&authority.pubkey(), &authority.pubkey(), 0);
    let extend = alt::extend_lookup_table(
        &table,
        &authority.pubkey(),
        Some(&authority.pubkey()),
        vec![destination(1)],
    );
    for instruction in [create, extend] {
        let wire = signed(authority, &[authority], &[instruction], blockhash);
        let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
        assert!(matches!(
            producer.process(&wire, &tx).unwrap(),
            Outcome::Recorded(executed) if executed.status.is_ok()
        ));
    }
    let mut block = producer.open_block_at(None).unwrap();
    // Entry 2 loads its destination from the new table, which a producer would refuse; a
    // forged block carries it anyway.
    let payer = &users[1];
    let message = braid_runtime::Message::new_v0(
        &[system::transfer(&payer.pubkey(), &destination(1), 5)],
        &payer.pubkey(),
        &blockhash,
        &[(table, vec![destination(1)])],
    );
    let mut tx = Transaction::new_unsigned(message);
    tx.sign(&[payer], blockhash);
    let mut forged = block.entries[0].clone();
    forged.transaction = tx.to_bytes();
    block.entries.push(forged);

    let serial = Bank::in_memory(&genesis, executor())
        .unwrap()
        .replay_block(&block)
        .unwrap_err()
        .to_string();
    assert!(
        serial.starts_with("replay of slot 1, entry 2: lookups: "),
        "{serial}"
    );
    for engine in engines() {
        let mut bank = Bank::in_memory(&genesis, executor()).unwrap();
        let parallel = engine
            .replay_block(&mut bank, &block)
            .unwrap_err()
            .to_string();
        assert_eq!(parallel, serial, "threads {}", engine.threads());
        assert_eq!(bank.open_slot_len(), 0);
    }
}
