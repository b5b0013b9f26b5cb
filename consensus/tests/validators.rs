//! Four validators on loopback, in one process: they finalize the same blocks with the same
//! bank hashes, and a validator whose bank hashes diverge is outvoted and commits nothing.
#![allow(clippy::arithmetic_side_effects)] // small counters, seeds and deadlines in test code

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use braid_accounts_db::AccountsDb;
use braid_consensus::app::Finalized;
use braid_consensus::context::Validator as ValidatorInfo;
use braid_consensus::{
    ConsensusError, Fault, PrivateKey, SubmitError, Validator, ValidatorConfig, ValidatorSet,
};
use braid_ledger::bank::Bank;
use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::Keypair;
use braid_runtime::program::{ProgramRegistry, program_account};
use braid_runtime::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Transaction};

const FUNDS: u64 = 1_000_000_000;
const VALIDATORS: usize = 4;

fn executor() -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    Arc::new(Executor::new(programs, ExecutorConfig::QUIET))
}

fn payers() -> Vec<Keypair> {
    (1..=8u8).map(|n| Keypair::from_seed(&[n; 32])).collect()
}

fn genesis(payers: &[Keypair]) -> Genesis {
    let mut accounts: Vec<(Pubkey, Account)> = payers
        .iter()
        .map(|payer| (payer.pubkey(), Account::new(FUNDS, 0, &SYSTEM_PROGRAM_ID)))
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

fn free_addresses(count: usize) -> Vec<SocketAddr> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|listener| listener.local_addr().unwrap())
        .collect()
}

struct Net {
    validators: Vec<Validator>,
    dbs: Vec<Arc<AccountsDb>>,
    blockhash: Hash,
    set: ValidatorSet,
    addresses: Vec<SocketAddr>,
}

fn keys(count: usize) -> Vec<PrivateKey> {
    (0..count)
        .map(|i| PrivateKey::from_seed(&[0xC0 + i as u8; 32]))
        .collect()
}

/// Starts (or restarts) validator `i` on its directory under `dir`.
async fn start_one(
    dir: &Path,
    genesis: &Genesis,
    set: &ValidatorSet,
    addresses: &[SocketAddr],
    i: usize,
    faults: &[Fault],
    slot_interval: Duration,
) -> (Validator, Arc<AccountsDb>, Hash) {
    let key = keys(addresses.len())[i].clone();
    let home = dir.join(format!("v{i}"));
    std::fs::create_dir_all(&home).unwrap();
    let (bank, pending) = Bank::open(&home.join("ledger"), Some(genesis), executor()).unwrap();
    assert!(pending.is_empty());
    let blockhash = bank.latest_blockhash();
    let db = Arc::clone(bank.accounts_db());
    // The local timeouts, but waiting for a proposal at least four slot intervals: a
    // proposer waits at most half of that before it builds, so it gets all of
    // `slot_interval`.
    let mut timeouts = ValidatorConfig::local_timeouts();
    timeouts.timeout_propose = timeouts.timeout_propose.max(slot_interval * 4);
    let config = ValidatorConfig {
        moniker: format!("v{i}"),
        home: home.join("consensus"),
        listen: addresses[i],
        peers: addresses
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, address)| *address)
            .collect(),
        timeouts,
        sync_interval: Duration::from_millis(500),
        slot_interval,
        // Small parts, so even a test's few transactions stream in several.
        part_transactions: 2,
        fault: faults.get(i).copied().unwrap_or_default(),
    };
    let validator = Validator::start(config, key, set.clone(), bank)
        .await
        .unwrap();
    (validator, db, blockhash)
}

/// Starts the validators in `order` (by index), with `faults` and `slot_interval`.
async fn start(
    dir: &Path,
    genesis: &Genesis,
    faults: &[Fault],
    order: &[usize],
    slot_interval: Duration,
) -> Net {
    let keys = keys(order.len());
    let set = ValidatorSet::new(
        keys.iter()
            .map(|key| ValidatorInfo::new(key.public_key(), 1))
            .collect(),
    )
    .unwrap();
    let addresses = free_addresses(order.len());
    let mut validators = Vec::new();
    let mut dbs = Vec::new();
    let mut blockhash = Hash::default();
    for &i in order {
        let (validator, db, hash) =
            start_one(dir, genesis, &set, &addresses, i, faults, slot_interval).await;
        validators.push(validator);
        dbs.push(db);
        blockhash = hash;
    }
    // Back in index order.
    let mut started: Vec<(usize, (Validator, Arc<AccountsDb>))> = order
        .iter()
        .copied()
        .zip(validators.into_iter().zip(dbs))
        .collect();
    started.sort_by_key(|(i, _)| *i);
    let (validators, dbs) = started.into_iter().map(|(_, pair)| pair).unzip();
    Net {
        validators,
        dbs,
        blockhash,
        set,
        addresses,
    }
}

/// Starts [`VALIDATORS`] validators, the one that proposes height 1's first round (the lowest
/// address) with `fault`. It starts last, and waits 1.5 s before proposing (the others wait
/// for it four times as long), so every honest validator is listening and subscribed when
/// its first block is gossiped. Returns the network, the faulty one and the honest ones.
async fn start_with_faulty_proposer(
    dir: &Path,
    genesis: &Genesis,
    fault: Fault,
) -> (Net, usize, Vec<usize>) {
    let keys = keys(VALIDATORS);
    let faulty = (0..VALIDATORS)
        .min_by_key(|&i| keys[i].public_key())
        .unwrap();
    let honest: Vec<usize> = (0..VALIDATORS).filter(|&i| i != faulty).collect();
    let mut faults = [Fault::None; VALIDATORS];
    faults[faulty] = fault;
    let order: Vec<usize> = honest.iter().copied().chain([faulty]).collect();
    let net = start(dir, genesis, &faults, &order, Duration::from_millis(1_500)).await;
    (net, faulty, honest)
}

/// Collects the listed validators' finalized slots until each has `slots` of them, or the
/// deadline passes (a failure).
fn collect(
    net: &Net,
    which: &[usize],
    slots: usize,
    deadline: Duration,
) -> Vec<BTreeMap<u64, Finalized>> {
    let mut seen: Vec<BTreeMap<u64, Finalized>> = vec![BTreeMap::new(); net.validators.len()];
    let end = Instant::now() + deadline;
    while Instant::now() < end && which.iter().any(|&i| seen[i].len() < slots) {
        for &i in which {
            while let Ok(slot) = net.validators[i].finalized().try_recv() {
                seen[i].insert(slot.commit.slot, slot);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for &i in which {
        assert!(
            seen[i].len() >= slots,
            "validator {i} finalized only {} slots in {deadline:?}",
            seen[i].len()
        );
    }
    seen
}

/// Every slot the listed validators all finalized has the same block and bank hash on each.
fn assert_agree(seen: &[BTreeMap<u64, Finalized>], which: &[usize]) {
    let first = &seen[which[0]];
    for &i in &which[1..] {
        for (slot, finalized) in &seen[i] {
            if let Some(reference) = first.get(slot) {
                assert_eq!(finalized, reference, "validator {i} differs at slot {slot}");
            }
        }
    }
}

fn balance(db: &AccountsDb, key: &Pubkey) -> Option<u64> {
    db.get(key).map(|account| account.lamports)
}

/// Stops every validator of `net`.
fn stop_all(runtime: &tokio::runtime::Runtime, net: Net) {
    runtime.block_on(async {
        for validator in net.validators {
            let _ = validator.stop().await;
        }
    });
}

/// Waits until `done`, failing with `what` after `deadline`.
fn wait_until(deadline: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < end, "{what} within {deadline:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One network at a time: four validators per test already share two cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What a test here starts from: its turn ([`SERIAL`], held while it lives), a directory,
/// the funded payers, their genesis and a runtime for the engines.
struct Setup {
    _serial: std::sync::MutexGuard<'static, ()>,
    dir: tempfile::TempDir,
    payers: Vec<Keypair>,
    genesis: Genesis,
    runtime: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let payers = payers();
    Setup {
        _serial: serial,
        dir: tempfile::tempdir().unwrap(),
        genesis: genesis(&payers),
        payers,
        runtime: runtime(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn four_validators_finalize_the_same_blocks_and_balances() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    let net = runtime.block_on(start(
        dir.path(),
        &genesis,
        &[],
        &[0, 1, 2, 3],
        Duration::from_millis(50),
    ));
    // The first height, which the network needs to find its feet (its first proposal is
    // often gossiped before every peer listens), passes before anything is sent.
    collect(&net, &[0, 1, 2, 3], 1, Duration::from_secs(60));
    // Every validator gets every transaction, as a client that sends to all would; the
    // proposer of each round includes what it has.
    let txs: Vec<Vec<u8>> = payers
        .iter()
        .enumerate()
        .map(|(i, payer)| transfer(payer, 0xA0 + i as u8, 1_000 * (i as u64 + 1), net.blockhash))
        .collect();
    for validator in &net.validators {
        for tx in &txs {
            validator.submit(tx.clone()).unwrap();
        }
    }
    // What could never land is refused to the caller, not dropped later.
    let unfunded = Keypair::from_seed(&[0x5A; 32]);
    assert_eq!(
        net.validators[0].submit(transfer(&unfunded, 0xA9, 1, net.blockhash)),
        Err(SubmitError::CannotPay {
            payer: unfunded.pubkey(),
            balance: 0,
            fee: 5_000,
        })
    );
    // A bad signature is found by the pool's batched verifiers and dropped there, counted.
    let mut forged = txs[0].clone();
    forged[1] ^= 1;
    assert_eq!(net.validators[0].submit(forged), Ok(()));
    wait_until(
        Duration::from_secs(30),
        "the bad signature was found",
        || net.validators[0].bad_signatures() > 0,
    );
    assert_eq!(net.validators[0].bad_signatures(), 1);
    let seen = collect(&net, &[0, 1, 2, 3], 6, Duration::from_secs(60));
    assert_agree(&seen, &[0, 1, 2, 3]);
    let included: usize = seen[0].values().map(|f| f.commit.signatures.len()).sum();
    assert_eq!(included, txs.len(), "every transfer lands exactly once");
    // Each validator executed each transaction of a block decided in its first round
    // exactly once: building or judging it, never again to commit it.
    let mut first_round = 0;
    for validator in &net.validators {
        let counters = validator.counters();
        let decided = counters.first_round_transactions.load(Ordering::Relaxed);
        let executed = counters.first_round_executions.load(Ordering::Relaxed);
        assert_eq!(executed, decided, "executions per decided transaction");
        first_round += decided;
    }
    assert!(
        first_round > 0,
        "no block with transactions was decided in its first round"
    );
    for (i, payer) in payers.iter().enumerate() {
        let to = Pubkey::new_from_array([0xA0 + i as u8; 32]);
        let sent = 1_000 * (i as u64 + 1);
        for db in &net.dbs {
            assert_eq!(balance(db, &to), Some(sent));
            assert_eq!(balance(db, &payer.pubkey()), Some(FUNDS - sent - 5_000));
        }
    }
    runtime.block_on(async {
        for validator in net.validators {
            assert!(validator.stop().await.is_none());
        }
    });
}

#[test]
fn a_validator_whose_bank_hashes_diverge_is_outvoted_and_commits_nothing() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    let (net, faulty, honest) = runtime.block_on(start_with_faulty_proposer(
        dir.path(),
        &genesis,
        Fault::FlipBankHash,
    ));
    let tx = transfer(&payers[0], 0xB0, 5_000, net.blockhash);
    for validator in &net.validators {
        validator.submit(tx.clone()).unwrap();
    }
    // The honest three reject its block (a bank hash no one else computes), the round
    // moves on, and they keep finalizing.
    let seen = collect(&net, &honest, 6, Duration::from_secs(90));
    assert_agree(&seen, &honest);
    // Each rejected it once at most (it proposes no later round); a validator whose gossip
    // subscription was not yet known to the proposer misses it and times out instead.
    let rejections: Vec<u64> = honest
        .iter()
        .map(|&i| net.validators[i].rejected_proposals())
        .collect();
    assert!(rejections.iter().all(|&n| n <= 1), "{rejections:?}");
    assert!(rejections.iter().sum::<u64>() >= 1, "{rejections:?}");
    for &i in &honest {
        assert_eq!(
            balance(&net.dbs[i], &Pubkey::new_from_array([0xB0; 32])),
            Some(5_000)
        );
    }
    // The faulty validator rejects every honest block in turn, so it commits nothing.
    assert!(net.validators[faulty].rejected_proposals() > 0);
    assert!(net.validators[faulty].finalized().try_recv().is_err());
    assert_eq!(
        balance(&net.dbs[faulty], &Pubkey::new_from_array([0xB0; 32])),
        None
    );
    runtime.block_on(async {
        for validator in net.validators {
            let stopped = validator.stop().await;
            assert!(stopped.is_none(), "{stopped:?}");
        }
    });
}

#[test]
fn a_block_over_the_block_limits_is_refused_by_every_replica() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    // The faulty proposer builds its blocks without the limits.
    let (net, faulty, honest) = runtime.block_on(start_with_faulty_proposer(
        dir.path(),
        &genesis,
        Fault::IgnoreBlockLimits,
    ));
    // Ten accounts of 10 MiB each: 105 MB, over the 100 MB a block may allocate. Only the
    // faulty validator has them, so only its blocks hold them.
    let space = braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX as u64;
    let created: Vec<Keypair> = (0..10u8)
        .map(|n| Keypair::from_seed(&[0xC0 + n; 32]))
        .collect();
    for (n, new) in created.iter().enumerate() {
        let payer = &payers[n % payers.len()];
        let wire = Transaction::new_signed_with_payer(
            &[braid_program_system::instruction::create_account(
                &payer.pubkey(),
                &new.pubkey(),
                1,
                space,
                &SYSTEM_PROGRAM_ID,
            )],
            Some(&payer.pubkey()),
            &[payer, new],
            net.blockhash,
        )
        .to_bytes();
        net.validators[faulty].submit(wire).unwrap();
    }
    // The honest three refuse its block for its limits, and keep finalizing without it.
    let seen = collect(&net, &honest, 6, Duration::from_secs(90));
    assert_agree(&seen, &honest);
    let over_limit: u64 = honest
        .iter()
        .map(|&i| {
            net.validators[i]
                .counters()
                .over_limit_rejections
                .load(Ordering::Relaxed)
        })
        .sum();
    assert!(
        over_limit >= 1,
        "no replica refused the block for its limits"
    );
    for &i in &honest {
        let rejections = net.validators[i].rejected_proposals();
        let over = net.validators[i]
            .counters()
            .over_limit_rejections
            .load(Ordering::Relaxed);
        assert_eq!(
            rejections, over,
            "validator {i} refused a block for another reason"
        );
        for new in &created {
            assert_eq!(balance(&net.dbs[i], &new.pubkey()), None);
        }
        assert!(seen[i].values().all(|f| f.commit.signatures.is_empty()));
    }
    stop_all(&runtime, net);
}

#[test]
fn a_proposer_killed_in_the_middle_of_streaming_leaves_the_network_finalizing() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    let (mut net, faulty, _) = runtime.block_on(start_with_faulty_proposer(
        dir.path(),
        &genesis,
        Fault::StopMidStream,
    ));
    // Eight transfers only the faulty proposer has: two a part, its block streams in four
    // transactions parts, and it stops once one is out with more behind it.
    for (n, payer) in payers.iter().enumerate() {
        let wire = transfer(payer, 0xA0 + n as u8, 1_000, net.blockhash);
        net.validators[faulty].submit(wire).unwrap();
    }
    wait_until(
        Duration::from_secs(60),
        "the faulty proposer stopped",
        || net.validators[faulty].is_stopped(),
    );
    // Its init and first transactions part reach another validator, which verifies that
    // part's signatures at once, before the proposer is killed whole.
    let parts_seen = |net: &Net| -> u64 {
        (0..net.validators.len())
            .filter(|&i| i != faulty)
            .map(|i| {
                let counters = net.validators[i].counters();
                counters
                    .proposal_parts
                    .load(Ordering::Relaxed)
                    .min(counters.verified_on_arrival.load(Ordering::Relaxed))
            })
            .max()
            .unwrap_or(0)
    };
    wait_until(
        Duration::from_secs(60),
        "a part of the faulty stream arrived",
        || parts_seen(&net) >= 2,
    );
    let dead = net.validators.swap_remove(faulty);
    net.dbs.swap_remove(faulty);
    let stopped = runtime.block_on(dead.stop());
    assert!(
        matches!(stopped, Some(ConsensusError::FaultInjected(_))),
        "{stopped:?}"
    );
    // The other three time the round out and go on: finalizing, in agreement, without the
    // half-streamed block's transactions.
    let honest = [0, 1, 2];
    let seen = collect(&net, &honest, 3, Duration::from_secs(90));
    assert_agree(&seen, &honest);
    let abandoned: u64 = honest
        .iter()
        .map(|&i| {
            net.validators[i]
                .counters()
                .abandoned_streams
                .load(Ordering::Relaxed)
        })
        .sum();
    assert!(abandoned >= 1, "no validator dropped the unfinished stream");
    for &i in &honest {
        assert_eq!(net.validators[i].rejected_proposals(), 0);
        assert!(seen[i].values().all(|f| f.commit.signatures.is_empty()));
        for n in 0..payers.len() {
            let to = Pubkey::new_from_array([0xA0 + n as u8; 32]);
            assert_eq!(balance(&net.dbs[i], &to), None);
        }
    }
    // And a transaction sent to a live validator lands on all three.
    let to = Pubkey::new_from_array([0xEE; 32]);
    net.validators[0]
        .submit(transfer(&payers[0], 0xEE, 5_000, net.blockhash))
        .unwrap();
    wait_until(
        Duration::from_secs(60),
        "the transfer landed on every live validator",
        || {
            honest
                .iter()
                .all(|&i| balance(&net.dbs[i], &to) == Some(5_000))
        },
    );
    stop_all(&runtime, net);
}

#[test]
fn a_panicking_application_stops_its_pool_and_says_why() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    // One validator alone decides its first block at once, and its application panics.
    let key = keys(1)[0].clone();
    let set = ValidatorSet::new(vec![ValidatorInfo::new(key.public_key(), 1)]).unwrap();
    let home = dir.path().join("v0");
    std::fs::create_dir_all(&home).unwrap();
    let (bank, _) = Bank::open(&home.join("ledger"), Some(&genesis), executor()).unwrap();
    let blockhash = bank.latest_blockhash();
    let state = braid_interfaces::NodeState::for_bank(&bank);
    let (events, _events_rx) = crossbeam_channel::bounded(1024);
    let config = ValidatorConfig {
        moniker: "v0".into(),
        home: home.join("consensus"),
        listen: free_addresses(1)[0],
        peers: Vec::new(),
        timeouts: ValidatorConfig::local_timeouts(),
        sync_interval: Duration::from_millis(500),
        slot_interval: Duration::from_millis(100),
        part_transactions: 2,
        fault: Fault::PanicOnDecision,
    };
    let validator = runtime
        .block_on(Validator::start_reporting(
            config,
            key,
            set,
            bank,
            Arc::clone(&state),
            events,
        ))
        .unwrap();
    wait_until(Duration::from_secs(60), "the panic was reported", || {
        state.health().is_err()
    });
    assert_eq!(
        state.health().unwrap_err().reason,
        "the validator's application panicked"
    );
    assert_eq!(
        validator.submit(transfer(&payers[0], 0xA1, 1, blockhash)),
        Err(SubmitError::Stopped)
    );
    let stopped = runtime.block_on(validator.stop());
    assert!(
        matches!(stopped, Some(ConsensusError::Engine(_))),
        "{stopped:?}"
    );
}

#[test]
fn a_stopped_validator_restarts_catches_up_and_agrees() {
    let Setup {
        _serial,
        dir,
        payers,
        genesis,
        runtime,
    } = setup();
    let mut net = runtime.block_on(start(
        dir.path(),
        &genesis,
        &[],
        &[0, 1, 2, 3],
        Duration::from_millis(50),
    ));
    let before = transfer(&payers[0], 0xC0, 1_000, net.blockhash);
    for validator in &net.validators {
        validator.submit(before.clone()).unwrap();
    }
    let first = collect(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    assert_agree(&first, &[0, 1, 2, 3]);

    // Validator 2 stops (f = 1 of 4); the other three keep finalizing, a transfer included.
    let stopped = net.validators.remove(2);
    assert!(runtime.block_on(stopped.stop()).is_none());
    let during = transfer(&payers[1], 0xC1, 2_000, net.blockhash);
    for validator in &net.validators {
        validator.submit(during.clone()).unwrap();
    }
    let live = collect(&net, &[0, 1, 2], 8, Duration::from_secs(60));
    assert_agree(&live, &[0, 1, 2]);
    let tip = *live[0].keys().last().unwrap();

    // It restarts on its own ledger, syncs the slots it missed, replays each, and agrees.
    let (restarted, db, _) = runtime.block_on(start_one(
        dir.path(),
        &genesis,
        &net.set,
        &net.addresses,
        2,
        &[],
        Duration::from_millis(50),
    ));
    net.validators.insert(2, restarted);
    net.dbs[2] = db;
    let end = Instant::now() + Duration::from_secs(60);
    let mut caught_up = BTreeMap::new();
    while Instant::now() < end && caught_up.keys().last().is_none_or(|slot| *slot < tip) {
        while let Ok(slot) = net.validators[2].finalized().try_recv() {
            caught_up.insert(slot.commit.slot, slot);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        caught_up.keys().last().is_some_and(|slot| *slot >= tip),
        "the restarted validator reached slot {:?}, the others {tip}",
        caught_up.keys().last()
    );
    for (slot, finalized) in &caught_up {
        if let Some(reference) = live[0].get(slot) {
            assert_eq!(finalized, reference, "slot {slot}");
        }
    }
    for db in &net.dbs {
        assert_eq!(
            balance(db, &Pubkey::new_from_array([0xC0; 32])),
            Some(1_000)
        );
        assert_eq!(
            balance(db, &Pubkey::new_from_array([0xC1; 32])),
            Some(2_000)
        );
    }
    runtime.block_on(async {
        for validator in net.validators {
            let stopped = validator.stop().await;
            assert!(stopped.is_none(), "{stopped:?}");
        }
    });
}

/// Finalized transfers per second and submit-to-finalized latency with 1 and 4 validators
/// in one process on this machine, open loop: `BRAID_FINALITY_RATE` (default 1,000)
/// transfers a second for `SECONDS` seconds, each sent to every validator. Figures go to
/// BENCHMARKS.md:
/// `cargo test --release -p braid-consensus --test validators -- --ignored --nocapture`.
#[test]
#[ignore]
fn finality_at_a_given_load() {
    let rate: u64 = std::env::var("BRAID_FINALITY_RATE")
        .ok()
        .and_then(|rate| rate.parse().ok())
        .unwrap_or(1_000);
    const SECONDS: u64 = 8;
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for validators in [1usize, 4] {
        let dir = tempfile::tempdir().unwrap();
        let payers = payers();
        let genesis = genesis(&payers);
        let runtime = runtime();
        let order: Vec<usize> = (0..validators).collect();
        let net = runtime.block_on(start(
            dir.path(),
            &genesis,
            &[],
            &order,
            Duration::from_millis(100),
        ));
        let total = rate * SECONDS;
        let txs: Vec<(braid_runtime::Signature, Vec<u8>)> = (0..total)
            .map(|n| {
                let payer = &payers[(n % payers.len() as u64) as usize];
                let wire = transfer(payer, 0xE0, 1_000 + n, net.blockhash);
                let tx =
                    braid_runtime::sanitized::SanitizedTransaction::try_from_bytes(&wire).unwrap();
                (*tx.signature(), wire)
            })
            .collect();
        let mut sent = std::collections::HashMap::new();
        let mut finalized_at = std::collections::HashMap::new();
        let started = Instant::now();
        for (n, (signature, wire)) in txs.iter().enumerate() {
            let due = started + Duration::from_micros(n as u64 * 1_000_000 / rate);
            while Instant::now() < due {
                std::thread::sleep(Duration::from_micros(200));
            }
            // A full queue refuses it: it is counted as not finalized.
            for validator in &net.validators {
                let _ = validator.submit(wire.clone());
            }
            sent.insert(*signature, Instant::now());
            while let Ok(slot) = net.validators[0].finalized().try_recv() {
                let now = Instant::now();
                for signature in slot.commit.signatures {
                    finalized_at.insert(signature, now);
                }
            }
        }
        let end = Instant::now() + Duration::from_secs(30);
        while finalized_at.len() < txs.len() && Instant::now() < end {
            if let Ok(slot) = net.validators[0]
                .finalized()
                .recv_timeout(Duration::from_millis(100))
            {
                let now = Instant::now();
                for signature in slot.commit.signatures {
                    finalized_at.insert(signature, now);
                }
            }
        }
        let mut latencies: Vec<Duration> = finalized_at
            .iter()
            .filter_map(|(signature, at)| sent.get(signature).map(|s| at.duration_since(*s)))
            .collect();
        latencies.sort();
        let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        let last = finalized_at.values().max().copied().unwrap_or(started);
        println!(
            "validators {validators}: offered {rate}/s for {SECONDS} s, finalized {} of {} \
             at {:.0}/s; submit to finalized p50 {:?} p99 {:?}",
            finalized_at.len(),
            txs.len(),
            finalized_at.len() as f64 / last.duration_since(started).as_secs_f64(),
            percentile(50),
            percentile(99),
        );
        runtime.block_on(async {
            for validator in net.validators {
                validator.stop().await;
            }
        });
    }
}
