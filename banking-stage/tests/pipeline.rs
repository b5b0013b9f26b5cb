//! The pipeline end to end: parallel execution equals serial execution, restart replays,
//! a full node answers busy, and committed slots survive SIGKILL.

// Test arithmetic runs on small, known values; an overflow would be a failing test anyway.
#![allow(clippy::arithmetic_side_effects)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use braid_banking_stage::pipeline::{Pipeline, PipelineConfig, SlotPolicy};
use braid_interfaces::{ExecutionEvent, SubmitError};
use braid_ledger::bank::{Bank, Outcome, verify_ledger};
use braid_ledger::blockstore::read_blocks;
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::Keypair;
use braid_runtime::program::ProgramRegistry;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{
    Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Signature, Transaction, TransactionError,
};
use proptest::prelude::*;

mod common;
use common::executor;

const FUNDS: u64 = 1_000_000_000;

fn users(count: usize) -> Vec<Keypair> {
    (0..count)
        .map(|n| Keypair::from_seed(&[n as u8 + 1; 32]))
        .collect()
}

fn destination(to: usize) -> Pubkey {
    Pubkey::new_from_array([0xD0 ^ to as u8; 32])
}

fn genesis(users: &[Keypair]) -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = users
        .iter()
        .map(|user| (user.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)))
        .collect();
    accounts.push(common::system_program());
    // Every destination, for the v0 transfers that load theirs from a table.
    let destinations: Vec<Pubkey> = (0..8).map(destination).collect();
    accounts.push(common::lookup_table(&destinations));
    Genesis::new(400, accounts).unwrap()
}

/// A transfer from `users[from]` to a destination among `destinations` accounts; `lamports`
/// above the balance makes it fail (and pay its fee).
fn transfer(users: &[Keypair], from: usize, to: usize, lamports: u64, blockhash: Hash) -> Vec<u8> {
    let payer = &users[from];
    Transaction::new_signed_with_payer(
        &[system::transfer(
            &payer.pubkey(),
            &destination(to),
            lamports,
        )],
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    )
    .to_bytes()
}

/// [`transfer`] as a v0 transaction that loads its destination from the genesis table.
fn transfer_v0(
    users: &[Keypair],
    from: usize,
    to: usize,
    lamports: u64,
    blockhash: Hash,
) -> Vec<u8> {
    let payer = &users[from];
    let destinations: Vec<Pubkey> = (0..8).map(destination).collect();
    let message = braid_runtime::Message::new_v0(
        &[system::transfer(
            &payer.pubkey(),
            &destination(to),
            lamports,
        )],
        &payer.pubkey(),
        &blockhash,
        &[(common::LOOKUP_TABLE, destinations)],
    );
    let mut tx = Transaction::new_unsigned(message);
    tx.sign(&[payer], blockhash);
    tx.to_bytes()
}

/// Runs `txs` through a pipeline on a fresh ledger and returns (events, ledger dir).
fn run_pipeline(
    dir: &Path,
    genesis: &Genesis,
    txs: &[Vec<u8>],
    config: PipelineConfig,
) -> Vec<ExecutionEvent> {
    let pipeline = Pipeline::start(dir, Some(genesis), executor(), config).unwrap();
    for tx in txs {
        pipeline.submit_blocking(tx.clone()).unwrap();
    }
    let events_rx = pipeline.events().clone();
    pipeline.shutdown().unwrap();
    events_rx.try_iter().collect()
}

/// Executes `txs` serially in submission order, `per_slot` to a slot, with no pipeline;
/// returns the final state hash.
fn run_serial(genesis: &Genesis, txs: &[Vec<u8>], per_slot: usize) -> Hash {
    let mut bank = Bank::in_memory(genesis, executor()).unwrap();
    let mut last = None;
    let mut admitted = 0;
    for wire in txs {
        let tx = SanitizedTransaction::try_from_bytes(wire).unwrap();
        if let Outcome::NotAdmitted(_) = bank.process(wire, &tx).unwrap() {
            continue;
        }
        admitted += 1;
        // Slots end after `per_slot` admitted transactions, as the pipeline's policy does.
        if admitted % per_slot == 0 {
            last = Some(bank.commit_slot().unwrap());
        }
    }
    if bank.open_slot_len() > 0 {
        last = Some(bank.commit_slot().unwrap());
    }
    last.unwrap().state_hash
}

fn genesis_hash(genesis: &Genesis) -> Hash {
    genesis.hash()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// From no contention (every transfer between its own accounts) to total contention
    /// (every transaction writes one account): the parallel pipeline, a serial replay of its
    /// ledger, and a serial run in submission order agree bit for bit.
    #[test]
    fn parallel_equals_serial(
        hot in 0usize..4,
        plan in proptest::collection::vec((0usize..8, 0usize..8, 0u64..4, any::<bool>()), 8..48),
        threads in 1usize..=2,
    ) {
        let users = users(8);
        let genesis = genesis(&users);
        let blockhash = genesis_hash(&genesis);
        let txs: Vec<Vec<u8>> = plan
            .iter()
            .enumerate()
            .map(|(n, &(from, to, size, v0))| {
                // hot 0: destination by payer (little contention); hot 3: one account for all.
                let to = match hot { 0 => from, 1 => to, 2 => to % 2, _ => 0 };
                // Amounts vary so messages differ; the largest fail for want of funds.
                let lamports = match size { 3 => FUNDS * 2, _ => 1 + n as u64 + size * 1_000 };
                // Legacy and v0 (destination from a lookup table) mixed: the loaded
                // destination is locked like a declared one.
                if v0 {
                    transfer_v0(&users, from, to, lamports, blockhash)
                } else {
                    transfer(&users, from, to, lamports, blockhash)
                }
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let per_slot = 16;
        let config = PipelineConfig { threads, slot: SlotPolicy::Transactions(per_slot), sigverify: true, ..PipelineConfig::default() };
        let events = run_pipeline(dir.path(), &genesis, &txs, config);
        let commits: Vec<_> = events.iter().filter_map(|e| match e { ExecutionEvent::SlotCommitted(c) => Some(c.clone()), _ => None }).collect();
        let processed = events.iter().filter(|e| matches!(e, ExecutionEvent::Processed { .. })).count();
        let rejected: Vec<_> = events.iter().filter_map(|e| match e { ExecutionEvent::Rejected { error, .. } => Some(error.clone()), _ => None }).collect();
        // Duplicate plans produce identical messages: those, and only those, are replays.
        prop_assert!(rejected.iter().all(|e| *e == TransactionError::AlreadyProcessed), "{rejected:?}");
        prop_assert_eq!(processed + rejected.len(), txs.len());
        let last = commits.last().unwrap();
        // Submission order and block order differ for non-conflicting transactions, so the
        // bank hashes (which hash signatures in block order) differ; the state may not.
        prop_assert_eq!(last.state_hash, run_serial(&genesis, &txs, per_slot));
        // Serial replay in block order reproduces every bank hash.
        let (slot, bank_hash) = verify_ledger(dir.path(), executor()).unwrap();
        prop_assert_eq!((slot, bank_hash), (last.slot, last.bank_hash));
    }
}

#[test]
fn restart_resumes_state_and_replay_protection() {
    let users = users(2);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    let blockhash = genesis.hash();
    let first = transfer(&users, 0, 1, 500, blockhash);
    let config = || PipelineConfig {
        slot: SlotPolicy::Transactions(1),
        ..PipelineConfig::default()
    };
    let events = run_pipeline(dir.path(), &genesis, std::slice::from_ref(&first), config());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ExecutionEvent::SlotCommitted(c) if c.slot == 1))
    );

    // Same ledger, no genesis needed: state continues and the old message is a replay.
    let pipeline = Pipeline::start(dir.path(), None, executor(), config()).unwrap();
    let destination = Pubkey::new_from_array([0xD0 ^ 1; 32]);
    assert_eq!(
        pipeline
            .shared()
            .accounts_db()
            .get(&destination)
            .unwrap()
            .lamports,
        500
    );
    assert_eq!(pipeline.shared().slot(), 1);
    pipeline.submit_blocking(first).unwrap();
    let second = transfer(&users, 1, 1, 700, pipeline.shared().latest_blockhash());
    pipeline.submit_blocking(second).unwrap();
    let events_rx = pipeline.events().clone();
    pipeline.shutdown().unwrap();
    let events: Vec<ExecutionEvent> = events_rx.try_iter().collect();
    assert!(events.iter().any(|e| matches!(
        e,
        ExecutionEvent::Rejected {
            error: TransactionError::AlreadyProcessed,
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        ExecutionEvent::Processed {
            status: Ok(()),
            slot: 2,
            ..
        }
    )));
    let (slot, _) = verify_ledger(dir.path(), executor()).unwrap();
    assert_eq!(slot, 2);
}

#[test]
fn a_slot_never_allocates_more_than_the_block_limit() {
    // Twelve new accounts of 10 MiB each: 126 MB, over the 100 MB a block may allocate
    // (`braid_runtime::cost_model`). The pipeline fills a slot with nine (94 MB), ends it,
    // and puts the other three in the next, though its slots otherwise end only on a flush.
    let users = users(12);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    let blockhash = genesis.hash();
    let space = braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX as u64;
    let txs: Vec<Vec<u8>> = users
        .iter()
        .enumerate()
        .map(|(n, payer)| {
            let new = Keypair::from_seed(&[0xA0 + n as u8; 32]);
            Transaction::new_signed_with_payer(
                &[system::create_account(
                    &payer.pubkey(),
                    &new.pubkey(),
                    1,
                    space,
                    &SYSTEM_PROGRAM_ID,
                )],
                Some(&payer.pubkey()),
                &[payer, &new],
                blockhash,
            )
            .to_bytes()
        })
        .collect();
    let config = PipelineConfig {
        slot: SlotPolicy::Transactions(1_000),
        ..PipelineConfig::default()
    };
    let events = run_pipeline(dir.path(), &genesis, &txs, config);
    let per_slot: Vec<usize> = events
        .iter()
        .filter_map(|event| match event {
            ExecutionEvent::SlotCommitted(commit) => Some(commit.signatures.len()),
            _ => None,
        })
        .collect();
    assert_eq!(per_slot, vec![9, 3]);
    let processed = events
        .iter()
        .filter(|event| matches!(event, ExecutionEvent::Processed { .. }))
        .count();
    assert_eq!(processed, 12);
    // Whatever each one's outcome (rent may refuse an account this poor), the ledger holds
    // all twelve and replays.
    let (slot, _) = verify_ledger(dir.path(), executor()).unwrap();
    assert_eq!(slot, 2);
}

#[test]
fn bad_transactions_are_rejected_with_reasons() {
    let users = users(2);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    let good = transfer(&users, 0, 1, 5, genesis.hash());
    let mut bad_signature = good.clone();
    bad_signature[10] ^= 1;
    let stale = transfer(&users, 0, 1, 6, Hash::new_from_array([7; 32]));
    let stranger = Keypair::from_seed(&[99; 32]);
    let unfunded = Transaction::new_signed_with_payer(
        &[system::transfer(&stranger.pubkey(), &users[0].pubkey(), 1)],
        Some(&stranger.pubkey()),
        &[&stranger],
        genesis.hash(),
    )
    .to_bytes();
    let txs = vec![vec![1, 2, 3], bad_signature, stale, unfunded, good];
    let events = run_pipeline(
        dir.path(),
        &genesis,
        &txs,
        PipelineConfig {
            slot: SlotPolicy::Transactions(8),
            ..PipelineConfig::default()
        },
    );
    let mut errors: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ExecutionEvent::Rejected { error, .. } => Some(format!("{error:?}")),
            _ => None,
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            "AccountNotFound",
            "BlockhashNotFound",
            "Sanitize(Truncated)",
            "SignatureFailure"
        ]
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ExecutionEvent::Processed { status: Ok(()), .. }))
            .count(),
        1
    );
}

/// Sigverify workers finish chunks in any order; what leaves the stage may not. One payer
/// makes every transaction conflict, so execution order is the order the scheduler received
/// them in, and rejections are reported in submission order too.
#[test]
fn many_sigverify_workers_keep_submission_order() {
    let users = users(1);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    // Enough for many chunks per worker.
    let count = 12 * braid_banking_stage::pipeline::SIGVERIFY_CHUNK_TXS;
    let txs: Vec<Vec<u8>> = (0..count)
        .map(|n| {
            let mut wire = transfer(&users, 0, 1, 1 + n as u64, genesis.hash());
            if n % 5 == 3 {
                wire[10] ^= 1; // inside the signature
            }
            wire
        })
        .collect();
    let signature = |wire: &Vec<u8>| braid_runtime::transaction::first_signature(wire).unwrap();
    let (bad, good): (Vec<_>, Vec<_>) = txs.iter().enumerate().partition(|(n, _)| n % 5 == 3);
    let config = PipelineConfig {
        sigverify_threads: 4,
        slot: SlotPolicy::Transactions(100),
        ..PipelineConfig::default()
    };
    let events = run_pipeline(dir.path(), &genesis, &txs, config);
    let rejected: Vec<(Signature, TransactionError)> = events
        .iter()
        .filter_map(|e| match e {
            ExecutionEvent::Rejected { signature, error } => Some((*signature, error.clone())),
            _ => None,
        })
        .collect();
    let expected: Vec<(Signature, TransactionError)> = bad
        .iter()
        .map(|(_, wire)| (signature(wire), TransactionError::SignatureFailure))
        .collect();
    assert_eq!(rejected, expected);
    let processed: Vec<Signature> = events
        .iter()
        .filter_map(|e| match e {
            ExecutionEvent::Processed {
                signature,
                status: Ok(()),
                ..
            } => Some(*signature),
            _ => None,
        })
        .collect();
    let expected: Vec<Signature> = good.iter().map(|(_, wire)| signature(wire)).collect();
    assert_eq!(processed, expected);
    let last = events
        .iter()
        .rev()
        .find_map(|e| match e {
            ExecutionEvent::SlotCommitted(commit) => Some(commit.state_hash),
            _ => None,
        })
        .unwrap();
    // The serial reference checks no signatures: it runs the good ones alone.
    let good: Vec<Vec<u8>> = good.into_iter().map(|(_, wire)| wire.clone()).collect();
    assert_eq!(last, run_serial(&genesis, &good, 100));
}

/// A configuration asking for no sigverify workers still gets one.
#[test]
fn zero_sigverify_threads_still_verify() {
    let users = users(1);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    let good = transfer(&users, 0, 1, 5, genesis.hash());
    let mut bad = transfer(&users, 0, 1, 6, genesis.hash());
    bad[10] ^= 1;
    let config = PipelineConfig {
        sigverify_threads: 0,
        slot: SlotPolicy::Transactions(8),
        ..PipelineConfig::default()
    };
    let events = run_pipeline(dir.path(), &genesis, &[good, bad], config);
    let outcomes: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ExecutionEvent::Processed { status, .. } => Some(format!("processed {status:?}")),
            ExecutionEvent::Rejected { error, .. } => Some(format!("rejected {error:?}")),
            ExecutionEvent::SlotCommitted(_) => None,
        })
        .collect();
    assert_eq!(outcomes, ["rejected SignatureFailure", "processed Ok(())"]);
}

#[test]
fn a_full_ingress_answers_busy() {
    let users = users(1);
    let genesis = genesis(&users);
    let dir = tempfile::tempdir().unwrap();
    let config = PipelineConfig {
        ingress_capacity: 4,
        slot: SlotPolicy::Transactions(1_000_000),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(dir.path(), Some(&genesis), executor(), config).unwrap();
    let mut busy = 0;
    for n in 0..20_000u64 {
        match pipeline.submit(transfer_fast(&users[0], n, genesis.hash())) {
            Ok(()) => {}
            Err(SubmitError::Busy) => busy += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert!(busy > 0, "a 4-slot ingress never filled");
    pipeline.shutdown().unwrap();
}

/// Unsigned-looking but well-formed bytes are enough to fill a queue.
fn transfer_fast(payer: &Keypair, n: u64, blockhash: Hash) -> Vec<u8> {
    let mut tx = Transaction::new_unsigned(braid_runtime::Message::new_with_blockhash(
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([3; 32]),
            n,
        )],
        Some(&payer.pubkey()),
        &blockhash,
    ));
    tx.signatures = vec![Signature::default()];
    tx.to_bytes()
}

// --- crash safety: a child commits slots and reports them; the parent SIGKILLs it ---

const CHILD_ENV: &str = "BRAID_PIPELINE_CRASH_CHILD";
const CRASH_CYCLES: usize = 12;

/// The child: submits transfers forever on the ledger at `$BRAID_PIPELINE_CRASH_CHILD`,
/// printing `committed <slot> <signature>...` after each slot commit.
#[test]
#[ignore = "the child process of committed_slots_survive_sigkill, which runs it"]
fn crash_child() {
    let dir = std::env::var(CHILD_ENV)
        .unwrap_or_else(|_| panic!("crash_child is run by committed_slots_survive_sigkill"));
    let users = users(4);
    let genesis = genesis(&users);
    let config = PipelineConfig {
        slot: SlotPolicy::Duration(Duration::from_millis(20)),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(Path::new(&dir), Some(&genesis), executor(), config).unwrap();
    let events = pipeline.events().clone();
    let seed = std::process::id() as u64;
    for n in 0u64.. {
        let blockhash = pipeline.shared().latest_blockhash();
        let from = (n % 4) as usize;
        let _ = pipeline.submit(transfer(
            &users,
            from,
            (n % 3) as usize,
            1 + (n ^ seed) % 1_000,
            blockhash,
        ));
        for event in events.try_iter() {
            if let ExecutionEvent::SlotCommitted(commit) = event {
                let sigs: Vec<String> = commit.signatures.iter().map(ToString::to_string).collect();
                println!("committed {} {}", commit.slot, sigs.join(" "));
            }
        }
        if n % 64 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn committed_slots_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut last_slot = 0u64;
    for cycle in 0..CRASH_CYCLES {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill after a varying number of acknowledged slots, mid-stream.
        let want = 1 + cycle % 4;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = 0;
        while seen < want && Instant::now() < deadline {
            if let Ok(line) = line_rx.recv_timeout(Duration::from_millis(100))
                && let Some(rest) = line.strip_prefix("committed ")
            {
                let mut parts = rest.split(' ');
                last_slot = last_slot.max(parts.next().unwrap().parse().unwrap());
                acknowledged.extend(parts.filter(|s| !s.is_empty()).map(str::to_owned));
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_millis((cycle as u64 * 7) % 15));
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        for line in line_rx.try_iter() {
            if let Some(rest) = line.strip_prefix("committed ") {
                let mut parts = rest.split(' ');
                last_slot = last_slot.max(parts.next().unwrap().parse().unwrap());
                acknowledged.extend(parts.filter(|s| !s.is_empty()).map(str::to_owned));
            }
        }
        assert!(seen > 0, "cycle {cycle}: the child committed nothing");

        // Reopen: replays what the ledger holds beyond the accounts; nothing acknowledged is lost.
        let pipeline =
            Pipeline::start(dir.path(), None, executor(), PipelineConfig::default()).unwrap();
        assert!(
            pipeline.shared().slot() >= last_slot,
            "cycle {cycle}: reopened at slot {} < {last_slot}",
            pipeline.shared().slot()
        );
        pipeline.shutdown().unwrap();
        let in_ledger: BTreeSet<String> = read_blocks(dir.path())
            .unwrap()
            .iter()
            .flat_map(|block| block.entries.iter())
            .map(|entry| {
                SanitizedTransaction::try_from_bytes(&entry.transaction)
                    .unwrap()
                    .signature()
                    .to_string()
            })
            .collect();
        let lost: Vec<&String> = acknowledged.difference(&in_ledger).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} acknowledged transactions lost",
            lost.len()
        );
    }
    let (slot, _) = verify_ledger(dir.path(), executor()).unwrap();
    assert!(slot >= last_slot);
}

/// A program that panics on every instruction.
struct PanickingProgram;

const PANICKING_ID: Pubkey = Pubkey::new_from_array([0xEE; 32]);

impl braid_runtime::program::Program for PanickingProgram {
    fn id(&self) -> Pubkey {
        PANICKING_ID
    }

    fn name(&self) -> &'static str {
        "panicking"
    }

    fn process(
        &self,
        _: &mut braid_runtime::invoke_context::InvokeContext<'_>,
        _: &[u8],
    ) -> Result<(), braid_runtime::InstructionError> {
        panic!("a user program with a bug");
    }
}

#[test]
fn a_panicking_program_fails_its_transaction_and_the_pipeline_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let users = users(2);
    let mut genesis = genesis(&users);
    genesis.accounts.push((
        PANICKING_ID,
        braid_runtime::program::program_account(&PanickingProgram),
    ));
    genesis.accounts.sort_by_key(|(key, _)| *key);
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(PanickingProgram);
    let executor = Arc::new(Executor::new(programs, ExecutorConfig::QUIET));
    let config = PipelineConfig {
        slot: SlotPolicy::Transactions(2),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(dir.path(), Some(&genesis), executor, config).unwrap();
    let blockhash = genesis.hash();
    let payer = &users[0];
    let panicking = Transaction::new_signed_with_payer(
        &[braid_runtime::Instruction::new_with_bytes(
            PANICKING_ID,
            &[],
            vec![],
        )],
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    );
    pipeline.submit_blocking(panicking.to_bytes()).unwrap();
    pipeline
        .submit_blocking(transfer(&users, 1, 0, 500, blockhash))
        .unwrap();
    let events = pipeline.events().clone();
    pipeline
        .shutdown()
        .expect("the pipeline survives the panic");
    let statuses: Vec<(Signature, Result<(), TransactionError>)> = events
        .try_iter()
        .filter_map(|event| match event {
            ExecutionEvent::Processed {
                signature, status, ..
            } => Some((signature, status)),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(statuses.contains(&(
        panicking.signatures[0],
        Err(TransactionError::InstructionError(
            0,
            braid_runtime::InstructionError::ProgramFailedToComplete
        ))
    )));
    assert_eq!(
        statuses.iter().filter(|(_, status)| status.is_ok()).count(),
        1
    );
}

#[test]
fn the_ledger_stays_locked_while_anything_can_reach_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let users = users(2);
    let genesis = genesis(&users);
    let pipeline = Pipeline::start(
        dir.path(),
        Some(&genesis),
        executor(),
        PipelineConfig::default(),
    )
    .unwrap();
    let shared = Arc::clone(pipeline.shared());
    pipeline.shutdown().unwrap();
    // The bank is gone, but `shared` still reaches the accounts database (and its
    // background compaction): nobody else may open the ledger yet.
    assert!(matches!(
        Bank::open(dir.path(), None, executor()),
        Err(braid_ledger::BankError::Locked(_))
    ));
    drop(shared);
    Bank::open(dir.path(), None, executor()).expect("the ledger opens once nothing holds it");
}
