//! The load generator: drives the whole pipeline and reports throughput (`braid bench`).
//!
//! A run has three phases:
//!
//! 1. **Setup** (not measured): derive `accounts` keypairs from the seed, then build the
//!    workload's starting state — mints, token accounts, pools, reserves, feeds — by executing
//!    the real setup instructions in the in-process [`Harness`]. Its accounts become the
//!    genesis of the measured ledger, so the generator never needs to know a program's account
//!    layout. The workloads, their setup and what each transaction writes are in [`Workload`]'s
//!    module (`workload/`): `transfer`, `token`, `amm`, `lending`, `insurance` and `mix`.
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
//!
//! Against a running node or network ([`remote`], `braid bench --rpc-url`) the same setup
//! and transactions go over JSON-RPC instead, and each transaction is timed to `finalized`.
//!
//! [`Harness`]: braid_runtime::harness::Harness

pub mod open_loop;
pub mod remote;
pub mod simulate;
pub mod sweep;
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use braid_banking_stage::pipeline::{Pipeline, PipelineConfig, SlotPolicy};
use braid_interfaces::ExecutionEvent;
use braid_interfaces::budget::CpuBudget;
use braid_ledger::bank::{Bank, Outcome};
use braid_ledger::genesis::Genesis;
use braid_primitives::KeyHasherBuilder;
use braid_primitives::cpu_time::{CpuTimer, process_cpu_ns};
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::sigverify::BatchSizer;
use braid_runtime::{Hash, Signature, Transaction};
use rayon::prelude::*;

pub use workload::{POOLS_MAX, Workload};
use workload::{Plan, setup::pseudo_signed};

/// Lamports each generated account starts with.
pub const ACCOUNT_FUNDS_LAMPORTS: u64 = 1_000_000_000_000;
/// Tokens each generated account starts with, per test token (a million at six decimals).
pub const ACCOUNT_TOKENS: u64 = 1_000_000_000_000;
/// Decimals of generated mints.
pub const MINT_DECIMALS: u8 = 6;
/// Default transactions per slot.
pub const SLOT_TXS_DEFAULT: usize = 20_000;
/// Most slots a run may span: transactions are signed over the genesis blockhash, which
/// stays valid for 150 slots.
pub const RUN_SLOTS_MAX: usize = 140;

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
    /// Share of transactions, in `[0, 1)`, sent with a corrupted signature: the pipeline must
    /// reject each, so the run measures what an attacker's bad signatures cost. Spread
    /// evenly (one per `1/share` transactions), so `0.016` puts about one in each 64.
    pub bad_signatures: f64,
    /// Thread counts at which to simulate the scheduler on this run's transactions with
    /// their measured costs ([`simulate`]); none by default.
    pub simulate_threads: Vec<usize>,
    /// Offer a fixed rate for a fixed time instead of sending `txs` as fast as possible
    /// ([`open_loop`]).
    pub open_loop: Option<open_loop::OpenLoop>,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            workload: Workload::Mix,
            accounts: 10_000,
            pools: 16,
            hot_ratio: 0.0,
            txs: 200_000,
            threads: braid_banking_stage::scheduler::DEFAULT_THREADS,
            seed: 42,
            sigverify: true,
            serial: false,
            ledger: None,
            slot_txs: SLOT_TXS_DEFAULT,
            bad_signatures: 0.0,
            simulate_threads: Vec::new(),
            open_loop: None,
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
    /// The ledger failed (the serial reference).
    #[error(transparent)]
    Bank(#[from] braid_ledger::bank::BankError),
    /// The pipeline failed.
    #[error(transparent)]
    Pipeline(#[from] braid_banking_stage::pipeline::PipelineError),
    /// The temporary ledger could not be created.
    #[error("cannot create a ledger directory: {0}")]
    Io(#[from] std::io::Error),
    /// The sweep's plot could not be drawn or written.
    #[error("cannot write the plot {0}")]
    Plot(String),
    /// A running node could not be asked or told something (remote runs).
    #[error("{what}: {source}")]
    Remote {
        /// What the load generator was doing.
        what: String,
        /// Why it failed.
        source: Box<braid_rpc::client::ClientError>,
    },
    /// A node refused a setup transaction (remote runs).
    #[error("{tx} was refused: {source}")]
    SetupRejected {
        /// The transaction.
        tx: Box<SetupTransactionId>,
        /// The node's answer.
        source: Box<braid_rpc::client::ClientError>,
    },
    /// A setup transaction executed and failed (remote runs).
    #[error("{tx} failed: {error}")]
    SetupFailed {
        /// The transaction.
        tx: Box<SetupTransactionId>,
        /// Why it failed.
        error: braid_runtime::TransactionError,
    },
    /// A setup transaction was not finalized in time (remote runs).
    #[error("{tx} was not finalized: nothing was for {seconds} s")]
    SetupTimeout {
        /// The transaction.
        tx: Box<SetupTransactionId>,
        /// How long nothing was finalized.
        seconds: u64,
    },
}

/// Which setup transaction of a remote run an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupTransactionId {
    /// Its number in setup order (0: the faucet's transfer to the funder).
    pub number: u64,
    /// The programs it calls, or what it is.
    pub what: String,
    /// Its signature.
    pub signature: braid_runtime::Signature,
}

impl std::fmt::Display for SetupTransactionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "setup transaction {} ({}) {}",
            self.number, self.what, self.signature
        )
    }
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
    /// CPU microseconds per committed transaction, per stage (pipeline runs only).
    pub cpu_budget: Option<CpuBudgetReport>,
    /// Transactions per second this machine's cores can batch-verify, measured on this
    /// run's own transactions just before it (signed runs only): the hardware ceiling.
    pub sigverify_ceiling_tps: Option<f64>,
    /// `tps` as a share of [`BenchReport::sigverify_ceiling_tps`].
    pub ceiling_share: Option<f64>,
    /// The scheduler simulated on this run's transactions and measured costs, per thread
    /// count asked for (`--simulate-threads`).
    pub simulated: Vec<simulate::SimulatedThreads>,
    /// What an open-loop run offered, its 99.9th percentile latency and its memory.
    pub open_loop: Option<open_loop::OpenLoopStats>,
    /// A run against a running node (`--rpc-url`): its own counts, flattened into the
    /// JSON (absent from in-process reports).
    #[serde(flatten)]
    pub remote: Option<remote::RemoteStats>,
}

impl BenchReport {
    /// The report as readable lines (what `braid bench` prints without `--output json`); a
    /// remote run's is one line.
    pub fn to_text(&self) -> String {
        if let Some(remote) = &self.remote {
            return self.remote_text(remote);
        }
        let failed: Vec<String> = self
            .failed_by_reason
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        let text = format!(
            "workload {} | threads {} | sigverify {} | serial {}\n\
             transactions {} | committed {} | failed {}{} | rejected {}\n\
             elapsed {:.3} s | {:.0} TPS | latency p50 {:.1} ms, p99 {:.1} ms | slots {}\n\
             stages: sigverify {:.3} s, execute {:.3} s, commit {:.3} s\n\
             state hash {}",
            self.workload,
            self.threads,
            self.sigverify,
            self.serial,
            self.txs,
            self.committed,
            self.failed,
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed.join(", "))
            },
            self.rejected,
            self.elapsed_s,
            self.tps,
            self.latency_p50_ms,
            self.latency_p99_ms,
            self.slots,
            self.stages.sigverify_s,
            self.stages.execute_s,
            self.stages.commit_s,
            self.state_hash,
        );
        let text = match (self.sigverify_ceiling_tps, self.ceiling_share) {
            (Some(ceiling), Some(share)) => format!(
                "{text}\nsigverify ceiling {ceiling:.0} TPS (all cores, batches sized as the \
                 workers would) | this run reached {:.0}% of it",
                share * 100.0
            ),
            _ => text,
        };
        let mut text = match &self.cpu_budget {
            Some(budget) => format!("{text}\n{}", budget.to_text()),
            None => text,
        };
        if let Some(open) = &self.open_loop {
            text.push_str(&format!(
                "\nopen loop: offered {} TPS, submitted {:.0}/s, dropped busy {} | latency p999 {:.1} ms | RSS {:.0} → peak {:.0} → {:.0} MiB",
                open.offered_tps,
                open.submitted_tps,
                open.dropped_busy,
                open.latency_p999_ms,
                open.rss_start_mib,
                open.rss_peak_mib,
                open.rss_end_mib
            ));
            const MIB: f64 = (1 << 20) as f64;
            text.push_str(&format!(
                "\naccounts disk {:.0} → peak {:.0} → {:.0} MiB ({:.0} MiB live) | ledger {:.0} MiB",
                open.accounts_disk_start_bytes as f64 / MIB,
                open.accounts_disk_peak_bytes as f64 / MIB,
                open.accounts_disk_end_bytes as f64 / MIB,
                open.accounts_live_end_bytes as f64 / MIB,
                open.ledger_bytes as f64 / MIB
            ));
            if !open.rss_per_minute_mib.is_empty() {
                let minutes: Vec<String> = open
                    .rss_per_minute_mib
                    .iter()
                    .map(|mib| format!("{mib:.0}"))
                    .collect();
                text.push_str(&format!("\nRSS per minute (MiB): {}", minutes.join(" ")));
            }
        }
        if !self.simulated.is_empty() {
            text.push_str(
                "\nsimulated scheduler (measured costs; speedup with the scheduler's own cost, \
                 policy without it):\n  threads  speedup  policy   bound  sched ns/tx  \
                 decisions/s  batch  projected TPS",
            );
            for point in &self.simulated {
                text.push_str(&format!(
                    "\n  {:>7} {:>8.2} {:>7.2} {:>7.2} {:>12.0} {:>11.2}M {:>6.1} {:>14}",
                    point.threads,
                    point.speedup,
                    point.policy_speedup,
                    point.bound,
                    point.scheduler_ns_per_tx,
                    point.decisions_per_sec.unwrap_or(0.0) / 1e6,
                    point.batch_txs,
                    point
                        .projected_tps
                        .map_or_else(|| "-".to_owned(), |tps| format!("{tps:.0}")),
                ));
            }
        }
        text
    }
}

/// Where the CPU went, per committed transaction: each pipeline stage from its threads' CPU
/// time, the load generator's own threads, and the rest of the process.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpuBudgetReport {
    /// Each stage's CPU microseconds per transaction, in pipeline order.
    pub stages: Vec<StageCpu>,
    /// Sum of the stages.
    pub stages_total_us: f64,
    /// The load generator's threads: submitting and collecting events (the client's cost).
    pub client_us: f64,
    /// The whole process over the measured phase.
    pub process_us: f64,
    /// Process CPU not in a stage or the client: waking and idling worker pools, channel
    /// and allocator work between measured sections.
    pub unattributed_us: f64,
}

/// One stage's CPU per transaction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageCpu {
    /// The stage's name (see `braid_interfaces::budget::Stage`).
    pub stage: &'static str,
    /// CPU microseconds per committed transaction.
    pub us_per_tx: f64,
}

impl CpuBudgetReport {
    fn new(budget: &CpuBudget, client_ns: u64, process_ns: u64, committed: u64) -> Self {
        let per_tx = |ns: u64| {
            if committed == 0 {
                0.0
            } else {
                ns as f64 / committed as f64 / 1_000.0
            }
        };
        let stages: Vec<StageCpu> = budget
            .snapshot()
            .into_iter()
            .map(|(stage, ns)| StageCpu {
                stage: stage.name(),
                us_per_tx: per_tx(ns),
            })
            .collect();
        let stages_total_ns: u64 = budget.snapshot().iter().map(|(_, ns)| *ns).sum();
        Self {
            stages,
            stages_total_us: per_tx(stages_total_ns),
            client_us: per_tx(client_ns),
            process_us: per_tx(process_ns),
            unattributed_us: per_tx(
                process_ns
                    .saturating_sub(stages_total_ns)
                    .saturating_sub(client_ns),
            ),
        }
    }

    /// The budget as aligned text lines: one per stage, then the totals.
    pub fn to_text(&self) -> String {
        let mut text = String::from("CPU µs per transaction:");
        for stage in &self.stages {
            text.push_str(&format!("\n  {:<16} {:>8.2}", stage.stage, stage.us_per_tx));
        }
        text.push_str(&format!(
            "\n  {:<16} {:>8.2}\n  {:<16} {:>8.2}\n  {:<16} {:>8.2}\n  {:<16} {:>8.2}",
            "stages total",
            self.stages_total_us,
            "client",
            self.client_us,
            "unattributed",
            self.unattributed_us,
            "process",
            self.process_us
        ));
        text
    }
}

/// Pre-signs every transaction on all cores. When signatures won't be verified, a unique
/// pseudo-signature (a hash of the message) stands in: signing is the clients' cost and would
/// only slow the setup, and signatures must still tell transactions apart.
fn sign_all(
    config: &BenchConfig,
    plan: &Plan,
    blockhash: Hash,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Vec<u8>> {
    (0..config.txs)
        .into_par_iter()
        .map(|index| {
            let (ixs, payer) = plan.transaction(index);
            let payer = &plan.users[payer];
            let tx = if config.sigverify {
                Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &[payer], blockhash)
            } else {
                pseudo_signed(braid_runtime::Message::new_with_blockhash(
                    &ixs,
                    Some(&payer.pubkey()),
                    &blockhash,
                ))
            };
            if index.is_multiple_of(4096) {
                progress(4096);
            }
            let mut wire = tx.to_bytes();
            if has_bad_signature(index, config.bad_signatures) {
                corrupt_first_signature(&mut wire);
            }
            wire
        })
        .collect()
}

/// Whether transaction `index` is one of the `share` sent with a bad signature: the ones
/// where `⌊(index + 1)·share⌋` steps up, so they are spread evenly.
pub fn has_bad_signature(index: usize, share: f64) -> bool {
    share > 0.0 && (index.saturating_add(1) as f64 * share).floor() > (index as f64 * share).floor()
}

/// Flips one bit of the first signature's `s` half: still well-formed bytes, never valid.
fn corrupt_first_signature(wire: &mut [u8]) {
    // The compact-u16 signature count takes one byte for fewer than 128 signatures; the
    // first signature follows, and its `s` half starts 32 bytes in.
    const S_BYTE: usize = 1 + 32 + 8;
    if let Some(byte) = wire.get_mut(S_BYTE) {
        *byte ^= 1;
    }
}

/// The `per_mille`-th per-mille of sorted latencies, in milliseconds (500: the median).
pub(crate) fn percentile_ms(sorted: &[Duration], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = sorted.len().saturating_sub(1).saturating_mul(per_mille) / 1_000;
    sorted
        .get(rank)
        .map_or(0.0, |latency| latency.as_secs_f64() * 1_000.0)
}

/// Progress callbacks: `(phase, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// A workload ready to measure: its genesis and its pre-signed wire transactions.
pub struct Prepared {
    /// The starting state.
    pub genesis: Genesis,
    /// The transactions, in submission order.
    pub transactions: Vec<Vec<u8>>,
    /// Transactions per slot for this run.
    pub slot_txs: usize,
}

/// Checks every parameter of `config`.
fn validate(config: &BenchConfig) -> Result<(), BenchError> {
    if config.accounts < 2 {
        return Err(BenchError::InvalidConfig(
            "--accounts must be at least 2".into(),
        ));
    }
    if config.txs == 0 {
        return Err(BenchError::InvalidConfig("--txs must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&config.hot_ratio) {
        return Err(BenchError::InvalidConfig(
            "--hot-ratio must be between 0 and 1".into(),
        ));
    }
    if config.workload.uses_pools() && !(1..=POOLS_MAX).contains(&config.pools) {
        return Err(BenchError::InvalidConfig(format!(
            "--pools must be between 1 and {POOLS_MAX}"
        )));
    }
    if !(0.0..1.0).contains(&config.bad_signatures) {
        return Err(BenchError::InvalidConfig(
            "--bad-signatures must be at least 0 and below 1".into(),
        ));
    }
    if config.bad_signatures > 0.0 && !config.sigverify {
        return Err(BenchError::InvalidConfig(
            "--bad-signatures needs signature verification (drop --no-sigverify)".into(),
        ));
    }
    if let Some(&threads) = config
        .simulate_threads
        .iter()
        .find(|&&threads| threads == 0 || threads > braid_banking_stage::scheduler::THREADS_MAX)
    {
        return Err(BenchError::InvalidConfig(format!(
            "--simulate-threads {threads}: each must be 1 to {}",
            braid_banking_stage::scheduler::THREADS_MAX
        )));
    }
    if config.threads == 0 && !config.serial {
        return Err(BenchError::InvalidConfig(
            "--threads must be at least 1".into(),
        ));
    }
    Ok(())
}

/// Validates `config`, builds the workload's starting state and pre-signs its transactions
/// (phases 1 and 2 of a run; also what the criterion benches execute).
pub fn prepare(config: &BenchConfig, progress: Progress<'_>) -> Result<Prepared, BenchError> {
    validate(config)?;
    let slot_txs = config
        .slot_txs
        .max(config.txs.div_ceil(RUN_SLOTS_MAX))
        .max(1);
    progress("setup", 0, 1);
    let plan = workload::plan(config)?;
    progress("setup", 1, 1);
    let blockhash = plan.start.hash();
    let signed = std::sync::atomic::AtomicU64::new(0);
    let total = config.txs as u64;
    let transactions = sign_all(config, &plan, blockhash, &|n| {
        let done = signed
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n)
            .min(total);
        progress("sign", done, total);
    });
    Ok(Prepared {
        genesis: plan.start,
        transactions,
        slot_txs,
    })
}

/// Runs the load generator.
pub fn run(config: &BenchConfig, progress: Progress<'_>) -> Result<BenchReport, BenchError> {
    if let Some(load) = config.open_loop {
        return run_open_loop(config, load, progress);
    }
    let Prepared {
        genesis,
        transactions: wires,
        slot_txs,
    } = prepare(config, progress)?;
    let (dir, _temp) = ledger_dir(config)?;
    let executor = bench_executor();
    let simulated = if config.simulate_threads.is_empty() {
        Vec::new()
    } else {
        progress("simulate", 0, 1);
        let costs = simulate::measure_costs(&genesis, Arc::clone(&executor), &wires)?;
        let simulated = simulate::simulate(
            &costs,
            &config.simulate_threads,
            simulate::SchedulerCost::Measured,
        )?;
        progress("simulate", 1, 1);
        simulated
    };
    let ceiling = config.sigverify.then(|| {
        progress("calibrate", 0, 1);
        let ceiling = sigverify_ceiling_tps(&wires, CALIBRATION_TIME);
        progress("calibrate", 1, 1);
        ceiling
    });
    let mut report = if config.serial {
        run_serial(config, &genesis, &dir, executor, &wires, slot_txs, progress)
    } else {
        run_pipeline(config, &genesis, &dir, executor, wires, slot_txs, progress)
    }?;
    if let Some(ceiling) = ceiling.filter(|ceiling| *ceiling > 0.0) {
        report.sigverify_ceiling_tps = Some(ceiling);
        report.ceiling_share = Some(report.tps / ceiling);
    }
    report.simulated = simulated;
    if let Some(budget) = &report.cpu_budget {
        for point in &mut report.simulated {
            point.projected_tps = Some(simulate::project_tps(budget, point));
        }
    }
    Ok(report)
}

/// Validates an open-loop run, builds its starting state and runs it on a fresh ledger.
fn run_open_loop(
    config: &BenchConfig,
    load: open_loop::OpenLoop,
    progress: Progress<'_>,
) -> Result<BenchReport, BenchError> {
    let invalid = |message: &str| Err(BenchError::InvalidConfig(message.to_owned()));
    if load.rate == 0 || load.duration.is_zero() {
        return invalid("--rate and --duration must both be above 0");
    }
    let total = u128::from(load.rate).saturating_mul(load.duration.as_millis()) / 1_000;
    if total > u128::from(open_loop::OPEN_LOOP_TXS_MAX) {
        return Err(BenchError::InvalidConfig(format!(
            "--rate × --duration offers {total} transactions, more than {}",
            open_loop::OPEN_LOOP_TXS_MAX
        )));
    }
    if config.serial || config.bad_signatures > 0.0 || !config.simulate_threads.is_empty() {
        return invalid(
            "--rate/--duration runs the pipeline only: no --serial, --bad-signatures or \
             --simulate-threads",
        );
    }
    let checked = BenchConfig {
        txs: 1,
        open_loop: None,
        ..config.clone()
    };
    validate(&checked)?;
    progress("setup", 0, 1);
    let plan = workload::plan(config)?;
    progress("setup", 1, 1);
    let (dir, _temp) = ledger_dir(config)?;
    let executor = bench_executor();
    open_loop::run(config, load, plan, &dir, executor, progress)
}

/// The run's ledger directory: `--ledger`, or a temporary one (removed when the guard drops).
fn ledger_dir(config: &BenchConfig) -> Result<(PathBuf, Option<tempfile::TempDir>), BenchError> {
    Ok(match &config.ledger {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().to_owned(), Some(temp))
        }
    })
}

/// Every built-in program, without log collection (a benchmark reads no logs).
fn bench_executor() -> Arc<Executor> {
    Arc::new(Executor::new(
        braid_builtins::registry(),
        ExecutorConfig::QUIET,
    ))
}

/// How long the sigverify calibration runs.
pub const CALIBRATION_TIME: Duration = Duration::from_secs(1);
/// Transactions the calibration verifies over and over.
const CALIBRATION_SAMPLE_TXS: usize = 8_192;

/// Transactions per second all cores batch-verify, in batches of the size the pipeline's
/// workers would choose for it ([`BatchSizer`], learned on one pass before the clock
/// starts), over (a sample of) `wires`, for at least `time`: the most a signed run could
/// reach if nothing but signature verification cost anything. Parsing is done before the
/// clock starts. The sample is verified over and over, so after the first pass its
/// signers' keys are remembered ([`braid_runtime::sigverify::DECODED_KEYS_MAX`] per
/// thread), as a run's are when its signers are fewer than that.
pub fn sigverify_ceiling_tps(wires: &[Vec<u8>], time: Duration) -> f64 {
    let sample: Vec<SanitizedTransaction> = wires
        .iter()
        .take(CALIBRATION_SAMPLE_TXS)
        .filter_map(|wire| SanitizedTransaction::try_from_bytes(wire).ok())
        .collect();
    if sample.is_empty() {
        return 0.0;
    }
    let mut sizer = BatchSizer::new();
    sizer.verify(&sample);
    let size = sizer.batch_transactions();
    let started = Instant::now();
    let mut verified = 0usize;
    while verified == 0 || started.elapsed() < time {
        let results: usize = sample
            .par_chunks(size)
            .map(|batch| braid_runtime::sigverify::verify_batch_sized(batch, size).len())
            .sum();
        verified = verified.saturating_add(results);
    }
    verified as f64 / started.elapsed().as_secs_f64()
}

#[derive(Default)]
pub(crate) struct Tally {
    committed: u64,
    failed: u64,
    rejected: u64,
    reasons: BTreeMap<String, u64>,
}

impl Tally {
    fn fail(&mut self, reason: String) {
        let count = self.reasons.entry(reason).or_default();
        *count = count.saturating_add(1);
    }

    fn processed(&mut self, status: &Result<(), braid_runtime::TransactionError>) {
        self.committed = self.committed.saturating_add(1);
        if let Err(error) = status {
            self.failed = self.failed.saturating_add(1);
            self.fail(error.reason());
        }
    }

    fn reject(&mut self, reason: String) {
        self.rejected = self.rejected.saturating_add(1);
        self.fail(reason);
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
    // The collector looks up every committed signature while the pipeline runs, on the
    // same cores: with SipHash over 64-byte keys it took 3-4% of the machine's CPU (perf).
    let index_of: HashMap<Signature, usize, KeyHasherBuilder> = wires
        .iter()
        .enumerate()
        .map(|(index, wire)| {
            (
                braid_runtime::transaction::first_signature(wire).unwrap_or_default(),
                index,
            )
        })
        .collect();
    let pipeline = Pipeline::start(dir, Some(genesis), executor, pipeline_config)?;
    let events = pipeline.events().clone();
    let process_started_ns = process_cpu_ns();
    let submitter = CpuTimer::start();
    let started = Instant::now();
    let collector = std::thread::spawn(move || {
        let timer = CpuTimer::start();
        let collected = collect(events, index_of, started);
        (collected, timer.elapsed_ns())
    });
    let mut submitted_at = Vec::with_capacity(total);
    for wire in wires {
        submitted_at.push(started.elapsed());
        if pipeline.submit_blocking(wire).is_err() {
            break;
        }
        if submitted_at.len().is_multiple_of(8192) {
            progress("send", submitted_at.len() as u64, total as u64);
        }
    }
    let shared = Arc::clone(pipeline.shared());
    let submitter_ns = submitter.elapsed_ns();
    pipeline.shutdown()?;
    let ((tally, commits, latencies_by_index), collector_ns) = collector
        .join()
        .map_err(|_| BenchError::Setup("event collector panicked".into()))?;
    let process_ns = process_cpu_ns().saturating_sub(process_started_ns);
    let elapsed = commits.last().map_or(started.elapsed(), |(_, at)| *at);
    progress("send", total as u64, total as u64);
    let mut latencies: Vec<Duration> = latencies_by_index
        .into_iter()
        .filter_map(|(index, committed_at)| committed_at.checked_sub(submitted_at[index]))
        .collect();
    latencies.sort_unstable();
    let counters = shared.counters();
    let last = commits.last().map(|(commit, _)| commit.clone());
    let cpu_budget = CpuBudgetReport::new(
        shared.budget(),
        submitter_ns.saturating_add(collector_ns),
        process_ns,
        tally.committed,
    );
    let mut report = report(
        config,
        tally,
        elapsed,
        last.as_ref().map(|c| (c.state_hash, c.bank_hash)),
        commits.len() as u64,
        &latencies,
        StageTimes {
            sigverify_s: counters.sigverify_ns.load(Ordering::Relaxed) as f64 / 1e9,
            execute_s: counters.execute_ns.load(Ordering::Relaxed) as f64 / 1e9,
            commit_s: counters.commit_ns.load(Ordering::Relaxed) as f64 / 1e9,
        },
    );
    report.cpu_budget = Some(cpu_budget);
    Ok(report)
}

type Commits = Vec<(braid_ledger::bank::SlotCommit, Duration)>;

/// Consumes events until the pipeline stops; returns the tally, the commits with their
/// times, and (submission index, commit time) of each committed transaction.
fn collect(
    events: crossbeam_channel::Receiver<ExecutionEvent>,
    mut index_of: HashMap<Signature, usize, KeyHasherBuilder>,
    started: Instant,
) -> (Tally, Commits, Vec<(usize, Duration)>) {
    let mut tally = Tally::default();
    let mut commits = Vec::new();
    let mut latencies = Vec::with_capacity(index_of.len());
    for event in events.iter() {
        match event {
            ExecutionEvent::Processed { status, .. } => tally.processed(&status),
            ExecutionEvent::Rejected { error, .. } => tally.reject(error.reason()),
            ExecutionEvent::SlotCommitted(commit) => {
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

pub(crate) fn report(
    config: &BenchConfig,
    tally: Tally,
    elapsed: Duration,
    hashes: Option<(Hash, Hash)>,
    slots: u64,
    latencies: &[Duration],
    stages: StageTimes,
) -> BenchReport {
    let elapsed_s = elapsed.as_secs_f64();
    let (state_hash, bank_hash) = hashes.map_or((String::new(), String::new()), |(s, b)| {
        (s.to_hex(), b.to_hex())
    });
    BenchReport {
        workload: config.workload,
        txs: config.txs,
        committed: tally.committed,
        failed: tally.failed,
        failed_by_reason: tally.reasons,
        rejected: tally.rejected,
        elapsed_s,
        tps: if elapsed_s > 0.0 {
            tally.committed as f64 / elapsed_s
        } else {
            0.0
        },
        threads: if config.serial { 1 } else { config.threads },
        sigverify: config.sigverify,
        serial: config.serial,
        slots,
        state_hash,
        bank_hash,
        latency_p50_ms: percentile_ms(latencies, 500),
        latency_p99_ms: percentile_ms(latencies, 990),
        stages,
        cpu_budget: None,
        sigverify_ceiling_tps: None,
        ceiling_share: None,
        simulated: Vec::new(),
        open_loop: None,
        remote: None,
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
                tally.reject(format!("{error:?}"));
                continue;
            }
        };
        if config.sigverify {
            let verify_started = Instant::now();
            let verdict = braid_runtime::sigverify::verify_transaction(&tx);
            stages.sigverify_s += verify_started.elapsed().as_secs_f64();
            if let Err(error) = verdict {
                tally.reject(error.reason());
                continue;
            }
        }
        let execute_started = Instant::now();
        let outcome = bank.process(wire, &tx)?;
        stages.execute_s += execute_started.elapsed().as_secs_f64();
        match outcome {
            Outcome::NotAdmitted(error) => {
                tally.reject(error.reason());
                continue;
            }
            // Admitted transactions count toward the slot whatever execution says, as in
            // the pipeline.
            Outcome::Rejected(error) => tally.reject(error.reason()),
            Outcome::Recorded(executed) => tally.processed(&executed.status),
        }
        admitted = admitted.saturating_add(1);
        if admitted.is_multiple_of(slot_txs) {
            let commit_started = Instant::now();
            last = Some(bank.commit_slot()?);
            stages.commit_s += commit_started.elapsed().as_secs_f64();
            slots = slots.saturating_add(1);
        }
        if index.is_multiple_of(8192) {
            progress("send", index as u64, wires.len() as u64);
        }
    }
    if bank.open_slot_len() > 0 {
        let commit_started = Instant::now();
        last = Some(bank.commit_slot()?);
        stages.commit_s += commit_started.elapsed().as_secs_f64();
        slots = slots.saturating_add(1);
    }
    let elapsed = started.elapsed();
    progress("send", wires.len() as u64, wires.len() as u64);
    Ok(report(
        config,
        tally,
        elapsed,
        last.map(|c| (c.state_hash, c.bank_hash)),
        slots,
        &[],
        stages,
    ))
}
