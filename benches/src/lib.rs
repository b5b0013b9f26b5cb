//! The load generator: drives the whole pipeline and reports throughput (`braid bench`).
//!
//! A run has three phases:
//!
//! 1. **Setup** (not measured): derive `accounts` keypairs from the seed, then build the
//!    workload's starting state — mints, token accounts, pools — by executing the real setup
//!    instructions in the in-process [`Harness`]. Its accounts become the genesis of the
//!    measured ledger, so the generator never needs to know a program's account layout.
//! 2. **Signing** (not measured: it is the clients' cost): pre-sign `txs` transactions on all
//!    cores, over the genesis blockhash.
//! 3. **Measurement**: push the wire bytes through the full pipeline — parse, sigverify,
//!    dedup, schedule, execute, commit to accounts-db and the ledger — on an embedded ledger,
//!    and time from the first submission to the last durable slot commit.
//!
//! Slots end after a fixed number of admitted transactions ([`SlotPolicy::Transactions`]),
//! so a slot's contents depend only on the seed. With equal priorities the scheduler runs
//! conflicting transactions in submission order, so `--serial` (one thread, submission
//! order, no scheduler) and any thread count reach the same state hash.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use braid_banking_stage::bank::Bank;
use braid_banking_stage::genesis::Genesis;
use braid_banking_stage::pipeline::{Event, Pipeline, PipelineConfig, SlotPolicy};
use braid_program_system::instruction as system;
use braid_program_token as token;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::program::ProgramRegistry;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Hash, Instruction, Pubkey, Signature, Transaction};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Lamports each generated account starts with.
pub const ACCOUNT_FUNDS_LAMPORTS: u64 = 1_000_000_000_000;
/// Tokens each generated account starts with, per mint.
pub const ACCOUNT_TOKENS: u64 = 1_000_000_000;
/// Decimals of generated mints.
pub const MINT_DECIMALS: u8 = 6;
/// Default transactions per slot.
pub const SLOT_TXS_DEFAULT: usize = 20_000;
/// Most slots a run may span: transactions are signed over the genesis blockhash, which
/// stays valid for 150 slots.
pub const RUN_SLOTS_MAX: usize = 140;

/// What the transactions do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// System transfers between generated accounts.
    Transfer,
    /// SPL Token transfers between generated token accounts.
    Token,
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Transfer => "transfer",
            Self::Token => "token",
        })
    }
}

/// A run's parameters.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// What the transactions do.
    pub workload: Workload,
    /// Generated accounts (users).
    pub accounts: usize,
    /// Pools (AMM, lending reserves, insurance pools) for the DeFi workloads.
    pub pools: usize,
    /// Share of transactions that touch one hot account, in `[0, 1]`.
    pub hot_ratio: f64,
    /// Transactions to send.
    pub txs: usize,
    /// Banking threads.
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Verify signatures.
    pub sigverify: bool,
    /// Run the reference executor instead of the pipeline.
    pub serial: bool,
    /// Ledger directory; a temporary one if `None`.
    pub ledger: Option<PathBuf>,
    /// Transactions per slot.
    pub slot_txs: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            workload: Workload::Transfer,
            accounts: 10_000,
            pools: 16,
            hot_ratio: 0.0,
            txs: 200_000,
            threads: 2,
            seed: 42,
            sigverify: true,
            serial: false,
            ledger: None,
            slot_txs: SLOT_TXS_DEFAULT,
        }
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A parameter is out of range.
    #[error("invalid bench parameter: {0}")]
    InvalidConfig(String),
    /// Building the starting state failed.
    #[error("setup failed: {0}")]
    Setup(String),
    /// The pipeline or ledger failed.
    #[error(transparent)]
    Bank(#[from] braid_banking_stage::bank::BankError),
    /// The temporary ledger could not be created.
    #[error("cannot create a ledger directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Time spent in each stage, summed over threads, in seconds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageTimes {
    /// Signature verification.
    pub sigverify_s: f64,
    /// Execution on banking threads.
    pub execute_s: f64,
    /// Slot commits (state hash, ledger append, accounts commit, fsyncs).
    pub commit_s: f64,
}

/// A run's result; `--json` prints it as one object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// The workload.
    pub workload: Workload,
    /// Transactions sent.
    pub txs: usize,
    /// Transactions committed (succeeded or failed with a fee).
    pub committed: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Failures and rejections by reason.
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Transactions refused before execution.
    pub rejected: u64,
    /// Seconds from the first submission to the last slot commit.
    pub elapsed_s: f64,
    /// Committed transactions per second.
    pub tps: f64,
    /// Banking threads (1 for `--serial`).
    pub threads: usize,
    /// Whether signatures were verified.
    pub sigverify: bool,
    /// Whether the reference executor ran.
    pub serial: bool,
    /// Slots committed.
    pub slots: u64,
    /// Hex state hash after the final slot: equal for `--serial` and any thread count.
    pub state_hash: String,
    /// Hex bank hash of the final slot (depends on block order, so on the run).
    pub bank_hash: String,
    /// Median submit-to-commit latency, in milliseconds.
    pub latency_p50_ms: f64,
    /// 99th percentile submit-to-commit latency, in milliseconds.
    pub latency_p99_ms: f64,
    /// Time per stage.
    pub stages: StageTimes,
}

/// The programs a bench ledger (and a node) runs.
pub fn programs() -> ProgramRegistry {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(token::TokenProgram);
    programs.add(braid_program_counter::CounterProgram);
    programs
}

fn harness_with_programs() -> Harness {
    let mut harness = Harness::new();
    harness.set_sigverify(false).set_log_messages(false);
    harness
        .add_program(braid_program_system::SystemProgram)
        .add_program(token::TokenProgram)
        .add_program(braid_program_counter::CounterProgram);
    harness
}

fn keypair(seed: u64, purpose: &[u8], index: usize) -> Keypair {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(purpose);
    hasher.update(&(index as u64).to_le_bytes());
    Keypair::from_seed(hasher.finalize().as_bytes())
}

/// The starting state and a generator of each transaction's instructions and signer.
struct Plan {
    genesis: Genesis,
    users: Vec<Keypair>,
    /// Per user: their token account (token workload).
    token_accounts: Vec<Pubkey>,
    hot: Pubkey,
}

fn setup(config: &BenchConfig) -> Result<Plan, BenchError> {
    let users: Vec<Keypair> = (0..config.accounts).into_par_iter().map(|i| keypair(config.seed, b"user", i)).collect();
    let mut harness = harness_with_programs();
    let fail = |what: &str, error: &dyn std::fmt::Debug| BenchError::Setup(format!("{what}: {error:?}"));
    for user in &users {
        harness.airdrop(&user.pubkey(), ACCOUNT_FUNDS_LAMPORTS).map_err(|e| fail("airdrop", &e))?;
    }
    let hot = keypair(config.seed, b"hot", 0).pubkey();
    harness.airdrop(&hot, ACCOUNT_FUNDS_LAMPORTS).map_err(|e| fail("airdrop", &e))?;
    let mut token_accounts = Vec::new();
    if config.workload == Workload::Token {
        let authority = keypair(config.seed, b"mint-authority", 0);
        harness.airdrop(&authority.pubkey(), ACCOUNT_FUNDS_LAMPORTS).map_err(|e| fail("airdrop", &e))?;
        let mint = keypair(config.seed, b"mint", 0);
        let ixs = [
            system::create_account(&authority.pubkey(), &mint.pubkey(), 1_000_000, token::state::MINT_LEN as u64, &token::ID),
            token::instruction::initialize_mint2(&mint.pubkey(), &authority.pubkey(), None, MINT_DECIMALS),
        ];
        send(&mut harness, &authority, &[&mint], &ixs).map_err(|e| fail("create mint", &e))?;
        let holders: Vec<(Pubkey, Pubkey)> = users.iter().map(|u| u.pubkey()).chain([hot]).map(|owner| (owner, owner)).collect();
        for (index, (owner, _)) in holders.iter().enumerate() {
            let account = keypair(config.seed, b"token-account", index);
            let ixs = [
                system::create_account(&authority.pubkey(), &account.pubkey(), 1_000_000, token::state::ACCOUNT_LEN as u64, &token::ID),
                token::instruction::initialize_account3(&account.pubkey(), &mint.pubkey(), owner),
                token::instruction::mint_to(&mint.pubkey(), &account.pubkey(), &authority.pubkey(), ACCOUNT_TOKENS),
            ];
            send(&mut harness, &authority, &[&account], &ixs).map_err(|e| fail("create token account", &e))?;
            token_accounts.push(account.pubkey());
        }
    }
    let accounts = harness.accounts().iter().map(|(key, account)| (*key, account.clone())).collect();
    let genesis = Genesis::new(400, accounts).map_err(|e| fail("genesis", &e))?;
    let hot = if config.workload == Workload::Token { token_accounts[users.len()] } else { hot };
    Ok(Plan { genesis, users, token_accounts, hot })
}

fn send(harness: &mut Harness, payer: &Keypair, others: &[&Keypair], ixs: &[Instruction]) -> Result<(), String> {
    let mut signers = vec![payer];
    signers.extend_from_slice(others);
    let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &signers, harness.latest_blockhash());
    harness.send_transaction(tx).map(|_| ()).map_err(|failed| failed.err.to_string())
}

/// The instructions of transaction `index` and the index of its payer.
fn make_instructions(config: &BenchConfig, plan: &Plan, index: usize) -> (Vec<Instruction>, usize) {
    let mut rng = StdRng::seed_from_u64(config.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let users = plan.users.len();
    let from = rng.random_range(0..users);
    let hot = rng.random_bool(config.hot_ratio.clamp(0.0, 1.0));
    let to = if users > 1 { (from + 1 + rng.random_range(0..users - 1)) % users } else { from };
    // Every transaction differs in amount, so no two messages are equal.
    let amount = 1 + index as u64;
    let ix = match config.workload {
        Workload::Transfer => {
            let destination = if hot { plan.hot } else { plan.users[to].pubkey() };
            system::transfer(&plan.users[from].pubkey(), &destination, amount)
        }
        Workload::Token => {
            let destination = if hot { plan.hot } else { plan.token_accounts[to] };
            token::instruction::transfer(&plan.token_accounts[from], &destination, &plan.users[from].pubkey(), amount)
        }
    };
    (vec![ix], from)
}

/// Pre-signs every transaction on all cores. When signatures won't be verified, a unique
/// pseudo-signature (a hash of the message) stands in: signing is the clients' cost and would
/// only slow the setup, and signatures must still tell transactions apart.
fn sign_all(config: &BenchConfig, plan: &Plan, blockhash: Hash, progress: &(dyn Fn(u64) + Sync)) -> Vec<Vec<u8>> {
    (0..config.txs)
        .into_par_iter()
        .map(|index| {
            let (ixs, payer) = make_instructions(config, plan, index);
            let payer = &plan.users[payer];
            let tx = if config.sigverify {
                Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &[payer], blockhash)
            } else {
                let message = braid_runtime::Message::new_with_blockhash(&ixs, Some(&payer.pubkey()), &blockhash);
                let mut pseudo = [0u8; 64];
                blake3::Hasher::new().update(&message.serialize()).finalize_xof().fill(&mut pseudo);
                let mut tx = Transaction::new_unsigned(message);
                tx.signatures = vec![Signature(pseudo); usize::from(tx.message.header.num_required_signatures)];
                tx
            };
            if index % 4096 == 0 {
                progress(4096);
            }
            tx.to_bytes()
        })
        .collect()
}

fn percentile_ms(sorted: &[Duration], percentile: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() - 1) * percentile / 100;
    sorted[rank].as_secs_f64() * 1_000.0
}

/// Progress callbacks: `(phase, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// Runs the load generator.
pub fn run(config: &BenchConfig, progress: Progress<'_>) -> Result<BenchReport, BenchError> {
    if config.accounts < 2 {
        return Err(BenchError::InvalidConfig("--accounts must be at least 2".into()));
    }
    if config.txs == 0 {
        return Err(BenchError::InvalidConfig("--txs must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&config.hot_ratio) {
        return Err(BenchError::InvalidConfig("--hot-ratio must be between 0 and 1".into()));
    }
    let slot_txs = config.slot_txs.max(config.txs.div_ceil(RUN_SLOTS_MAX)).max(1);
    progress("setup", 0, 1);
    let plan = setup(config)?;
    progress("setup", 1, 1);
    let blockhash = plan.genesis.hash();
    let signed = std::sync::atomic::AtomicU64::new(0);
    let total = config.txs as u64;
    let wires = sign_all(config, &plan, blockhash, &|n| {
        let done = signed.fetch_add(n, Ordering::Relaxed).saturating_add(n).min(total);
        progress("sign", done, total);
    });

    let temp;
    let dir = match &config.ledger {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    let executor = Arc::new(Executor::new(programs(), ExecutorConfig { log_messages: false }));
    if config.serial {
        run_serial(config, &plan.genesis, &dir, executor, &wires, slot_txs, progress)
    } else {
        run_pipeline(config, &plan.genesis, &dir, executor, wires, slot_txs, progress)
    }
}

#[derive(Default)]
struct Tally {
    committed: u64,
    failed: u64,
    rejected: u64,
    reasons: BTreeMap<String, u64>,
}

impl Tally {
    fn fail(&mut self, reason: String) {
        *self.reasons.entry(reason).or_default() += 1;
    }
}

fn reason(error: &braid_runtime::TransactionError) -> String {
    match error {
        braid_runtime::TransactionError::InstructionError(_, inner) => format!("{inner:?}"),
        other => format!("{other:?}"),
    }
}

fn run_pipeline(
    config: &BenchConfig,
    genesis: &Genesis,
    dir: &std::path::Path,
    executor: Arc<Executor>,
    wires: Vec<Vec<u8>>,
    slot_txs: usize,
    progress: Progress<'_>,
) -> Result<BenchReport, BenchError> {
    let pipeline_config = PipelineConfig {
        threads: config.threads,
        slot: SlotPolicy::Transactions(slot_txs),
        sigverify: config.sigverify,
        ..PipelineConfig::default()
    };
    let total = wires.len();
    let index_of: HashMap<Signature, usize> = wires.iter().enumerate().map(|(index, wire)| (first_signature(wire), index)).collect();
    let pipeline = Pipeline::start(dir, Some(genesis), executor, pipeline_config)?;
    let events = pipeline.events().clone();
    let started = Instant::now();
    let collector = std::thread::spawn(move || collect(events, index_of, started));
    let mut submitted_at = Vec::with_capacity(total);
    for wire in wires {
        submitted_at.push(started.elapsed());
        if pipeline.submit_blocking(wire).is_err() {
            break;
        }
        if submitted_at.len() % 8192 == 0 {
            progress("send", submitted_at.len() as u64, total as u64);
        }
    }
    let shared = Arc::clone(pipeline.shared());
    pipeline.shutdown()?;
    let (tally, commits, latencies_by_index) = collector.join().map_err(|_| BenchError::Setup("event collector panicked".into()))?;
    let elapsed = commits.last().map_or(started.elapsed(), |(_, at)| *at);
    progress("send", total as u64, total as u64);
    let mut latencies: Vec<Duration> = latencies_by_index
        .into_iter()
        .filter_map(|(index, committed_at)| committed_at.checked_sub(submitted_at[index]))
        .collect();
    latencies.sort_unstable();
    let counters = shared.counters();
    let last = commits.last().map(|(commit, _)| commit.clone());
    Ok(report(config, tally, elapsed, last.as_ref().map(|c| (c.state_hash, c.bank_hash)), commits.len() as u64, &latencies, StageTimes {
        sigverify_s: counters.sigverify_ns.load(Ordering::Relaxed) as f64 / 1e9,
        execute_s: counters.execute_ns.load(Ordering::Relaxed) as f64 / 1e9,
        commit_s: counters.commit_ns.load(Ordering::Relaxed) as f64 / 1e9,
    }))
}

type Commits = Vec<(braid_banking_stage::bank::SlotCommit, Duration)>;

/// The first signature of a transaction's wire bytes (after the one-byte count).
fn first_signature(wire: &[u8]) -> Signature {
    wire.get(1..65).and_then(|bytes| <[u8; 64]>::try_from(bytes).ok()).map(Signature).unwrap_or_default()
}

/// Consumes events until the pipeline stops; returns the tally, the commits with their
/// times, and (submission index, commit time) of each committed transaction.
fn collect(
    events: crossbeam_channel::Receiver<Event>,
    mut index_of: HashMap<Signature, usize>,
    started: Instant,
) -> (Tally, Commits, Vec<(usize, Duration)>) {
    let mut tally = Tally::default();
    let mut commits = Vec::new();
    let mut latencies = Vec::with_capacity(index_of.len());
    for event in events.iter() {
        match event {
            Event::Processed { status, .. } => {
                tally.committed += 1;
                if let Err(error) = &status {
                    tally.failed += 1;
                    tally.fail(reason(error));
                }
            }
            Event::Rejected { error, .. } => {
                tally.rejected += 1;
                tally.fail(reason(&error));
            }
            Event::SlotCommitted(commit) => {
                let at = started.elapsed();
                for signature in &commit.signatures {
                    if let Some(index) = index_of.remove(signature) {
                        latencies.push((index, at));
                    }
                }
                commits.push((commit, at));
            }
        }
    }
    (tally, commits, latencies)
}

fn report(
    config: &BenchConfig,
    tally: Tally,
    elapsed: Duration,
    hashes: Option<(Hash, Hash)>,
    slots: u64,
    latencies: &[Duration],
    stages: StageTimes,
) -> BenchReport {
    let elapsed_s = elapsed.as_secs_f64();
    let (state_hash, bank_hash) = hashes.map_or((String::new(), String::new()), |(s, b)| (s.to_hex(), b.to_hex()));
    BenchReport {
        workload: config.workload,
        txs: config.txs,
        committed: tally.committed,
        failed: tally.failed,
        failed_by_reason: tally.reasons,
        rejected: tally.rejected,
        elapsed_s,
        tps: if elapsed_s > 0.0 { tally.committed as f64 / elapsed_s } else { 0.0 },
        threads: if config.serial { 1 } else { config.threads },
        sigverify: config.sigverify,
        serial: config.serial,
        slots,
        state_hash,
        bank_hash,
        latency_p50_ms: percentile_ms(latencies, 50),
        latency_p99_ms: percentile_ms(latencies, 99),
        stages,
    }
}

/// The reference executor: one thread, submission order, no scheduler, same slots.
fn run_serial(
    config: &BenchConfig,
    genesis: &Genesis,
    dir: &std::path::Path,
    executor: Arc<Executor>,
    wires: &[Vec<u8>],
    slot_txs: usize,
    progress: Progress<'_>,
) -> Result<BenchReport, BenchError> {
    let (mut bank, pending) = Bank::open(dir, Some(genesis), executor)?;
    for block in &pending {
        bank.replay_block(block)?;
    }
    let mut tally = Tally::default();
    let mut stages = StageTimes::default();
    let mut last = None;
    let mut slots = 0u64;
    let mut admitted = 0usize;
    let started = Instant::now();
    for (index, wire) in wires.iter().enumerate() {
        let tx = match SanitizedTransaction::try_from_bytes(wire) {
            Ok(tx) => tx,
            Err(error) => {
                tally.rejected += 1;
                tally.fail(format!("{error:?}"));
                continue;
            }
        };
        if config.sigverify {
            let verify_started = Instant::now();
            let verdict = braid_runtime::sigverify::verify_transaction(&tx);
            stages.sigverify_s += verify_started.elapsed().as_secs_f64();
            if let Err(error) = verdict {
                tally.rejected += 1;
                tally.fail(reason(&error));
                continue;
            }
        }
        if let Err(error) = bank.admit(&tx) {
            tally.rejected += 1;
            tally.fail(reason(&error));
            continue;
        }
        admitted += 1;
        let execute_started = Instant::now();
        let processed = Bank::execute_and_store(bank.accounts_db(), bank.executor(), bank.slot(), &tx)
            .map_err(braid_banking_stage::bank::BankError::from)?;
        stages.execute_s += execute_started.elapsed().as_secs_f64();
        match processed {
            Ok(executed) => {
                tally.committed += 1;
                if let Err(error) = &executed.status {
                    tally.failed += 1;
                    tally.fail(reason(error));
                }
                bank.record(wire.clone(), &tx, &executed);
            }
            Err(error) => {
                bank.forget(&tx);
                tally.rejected += 1;
                tally.fail(reason(&error));
            }
        }
        if admitted % slot_txs == 0 {
            let commit_started = Instant::now();
            last = Some(bank.commit_slot()?);
            stages.commit_s += commit_started.elapsed().as_secs_f64();
            slots += 1;
        }
        if index % 8192 == 0 {
            progress("send", index as u64, wires.len() as u64);
        }
    }
    if bank.open_slot_len() > 0 {
        let commit_started = Instant::now();
        last = Some(bank.commit_slot()?);
        stages.commit_s += commit_started.elapsed().as_secs_f64();
        slots += 1;
    }
    let elapsed = started.elapsed();
    progress("send", wires.len() as u64, wires.len() as u64);
    Ok(report(config, tally, elapsed, last.map(|c| (c.state_hash, c.bank_hash)), slots, &[], stages))
}
