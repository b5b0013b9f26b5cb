//! The pipeline: wire bytes in, durable slots out.
//!
//! ```text
//! submit ─► ingress ─► sigverify ────► scheduler thread ─► banking threads ─┐
//! (bytes)   (bounded)  (workers: each  (bank: admit,       (execute each   │
//!                       parses and     lock table,         batch in order, │
//!                       verifies its   record, commit) ◄── store writes) ──┘
//!                       own chunks)
//! ```
//!
//! Every queue is bounded. When the scheduler's pending queue is full it stops taking
//! verified transactions, sigverify blocks, ingress fills and [`Pipeline::submit`] answers
//! [`SubmitError::Busy`]: memory never grows without bound.
//!
//! Sigverify keeps arrival order: workers verify chunks side by side and pass them on in the
//! order they were taken (the private `sigverify` module). So the scheduler sees
//! transactions in submission order and, with equal priorities, conflicting transactions
//! execute in submission order whatever the thread count: a parallel run reaches the same
//! state as a serial one.
//!
//! Key decision: banking threads execute a batch's transactions one after another, storing
//! each one's writes before the next runs
//! ([`BatchMode::Sequential`](crate::scheduler::BatchMode::Sequential)), so the scheduler
//! may queue conflicting transactions behind each other on one thread. A hot account then fills
//! whole batches on one thread instead of trickling out one transaction per batch.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use braid_accounts_db::AccountsDb;
use braid_primitives::KeyHasherBuilder;
use braid_runtime::cost_model::{CostTracker, TransactionCost};
use braid_runtime::executor::{Executor, ProcessedTransaction};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Hash, Pubkey, Signature, TransactionError};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::scheduler::{PendingTx, Scheduler, SchedulerConfig};
use braid_interfaces::budget::{Stage, split_by_wall};
use braid_interfaces::{EngineFailure, ExecutionEvent, NodeState, SubmitError};
use braid_ledger::{
    Bank, BankError, CommittedSlot, ExecuteWalls, Genesis, PendingCommit, ProgramAccounts,
    SlotCommit,
};
use braid_primitives::cpu_time::CpuTimer;

mod sigverify;
use sigverify::SigverifyStage;
pub use sigverify::{
    CHUNK_TXS as SIGVERIFY_CHUNK_TXS, QUEUED_CHUNKS_PER_WORKER,
    WORKERS_MAX as SIGVERIFY_THREADS_MAX,
};

/// Default slot length.
pub const SLOT_DURATION_DEFAULT: Duration = Duration::from_millis(400);
/// Default capacity of the ingress queue, in transactions.
pub const INGRESS_CAPACITY_TXS_DEFAULT: usize = 65_536;
/// Capacity of the event queue, in events.
pub const EVENTS_CAPACITY: usize = 1 << 20;

/// When a slot ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotPolicy {
    /// After this much time (a node).
    Duration(Duration),
    /// After this many admitted transactions, or when the pipeline is flushed (the load
    /// generator and tests: slot contents then depend only on submission order).
    Transactions(usize),
}

/// Why the pipeline could not start, or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The bank failed: opening, replaying or committing the ledger or the accounts.
    #[error(transparent)]
    Bank(#[from] BankError),
    /// The configuration is inconsistent.
    #[error("pipeline configuration: {0}")]
    Config(String),
    /// A pipeline thread could not be started.
    #[error("cannot start thread {thread}: {source}")]
    Spawn {
        /// The thread's name.
        thread: String,
        /// Why.
        source: std::io::Error,
    },
    /// A pipeline thread panicked.
    #[error("pipeline thread {0} panicked")]
    Panicked(String),
    /// The block executor that replays the ledger at start could not start.
    #[error(transparent)]
    BlockExecutor(#[from] crate::block_executor::BlockExecutorError),
}

/// How a pipeline error reads to the node's readers once the pipeline stopped on it.
fn failure_of(error: &PipelineError) -> EngineFailure {
    EngineFailure {
        reason: error.to_string(),
        disk_full: error.is_disk_full(),
    }
}

impl PipelineError {
    /// Whether the disk holding the ledger is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::Bank(error) if error.is_disk_full())
    }
}

/// How the pipeline runs.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Banking threads.
    pub threads: usize,
    /// When slots end.
    pub slot: SlotPolicy,
    /// Verify signatures (the load generator can measure without).
    pub sigverify: bool,
    /// Sigverify worker threads (parse, sanitize and verify, each on its own chunks); at
    /// least one and at most [`SIGVERIFY_THREADS_MAX`].
    pub sigverify_threads: usize,
    /// Capacity of the ingress queue, in transactions.
    pub ingress_capacity: usize,
    /// Largest batch a banking thread receives, in transactions; `None` for
    /// [`crate::scheduler::pipeline_batch_target`] of the thread count.
    pub batch_target: Option<usize>,
    /// Report each processed transaction's account keys (for subscriptions that filter by
    /// account); off for the load generator, which would only pay for the copies.
    pub detailed_events: bool,
    /// With [`SlotPolicy::Duration`], end slots on time even when they are empty, so the
    /// slot and the latest blockhash keep moving on an idle node as on a Solana validator
    /// (clients wait for a new blockhash before re-sending); off, an idle pipeline commits
    /// nothing.
    pub empty_slots: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            threads: crate::scheduler::DEFAULT_THREADS,
            slot: SlotPolicy::Duration(SLOT_DURATION_DEFAULT),
            sigverify: true,
            sigverify_threads: std::thread::available_parallelism().map_or(1, usize::from),
            ingress_capacity: INGRESS_CAPACITY_TXS_DEFAULT,
            batch_target: None,
            detailed_events: false,
            empty_slots: false,
        }
    }
}

/// A verified transaction on its way to execution. It travels boxed: the scheduler thread
/// moves each one four times (backlog, pending map, batch, banking thread), and moving
/// the 300-odd bytes each time was a quarter of that thread's CPU (perf, `memmove`).
pub(crate) struct Verified {
    wire: Vec<u8>,
    tx: SanitizedTransaction,
    /// Declared locks (written first, `write_len` of them) and priority, computed in the
    /// parallel sigverify stage so the single scheduler thread only moves them.
    locks: Vec<braid_runtime::Pubkey>,
    write_len: usize,
    priority: u64,
    /// What it may cost a block, from what it asks for (also computed in parallel).
    estimate: TransactionCost,
}

/// How a [`Verified`] travels: boxed, so that moving it moves a pointer. (Clippy's
/// `vec_box` would call a `Vec<Box<Verified>>` needless; the alias states the intent.)
pub(crate) type VerifiedBox = Box<Verified>;

impl Verified {
    fn new(wire: Vec<u8>, tx: SanitizedTransaction, executor: &Executor) -> VerifiedBox {
        let priority = braid_runtime::compute_budget::ComputeBudget::from_message(tx.message())
            .map_or(0, |budget| budget.compute_unit_price);
        // The executor's lock set: a registered program listed as writable is read-locked,
        // exactly as execution will treat it.
        let (locks, write_len) = executor.lock_list(&tx);
        let estimate = TransactionCost::estimate(&tx, write_len);
        Box::new(Self {
            wire,
            tx,
            locks,
            write_len,
            priority,
            estimate,
        })
    }
}

/// A transaction a banking thread is done with: what the scheduler thread records. The
/// parsed transaction is dropped on the banking thread, which has cycles to spare.
struct Completed {
    wire: Vec<u8>,
    account_keys: Vec<Pubkey>,
    signature: Signature,
    blockhash: Hash,
    message_hash: Hash,
    processed: ProcessedTransaction,
    /// What the slot reserved for it.
    estimate: TransactionCost,
    /// What it cost, once executed (its compute units consumed in place of its limit).
    cost: TransactionCost,
}

struct Work {
    batch_id: u64,
    slot: u64,
    txs: Vec<VerifiedBox>,
}

struct Done {
    batch_id: u64,
    results: Vec<Completed>,
    failure: Option<BatchFailure>,
}

/// Why a banking thread could not finish a batch.
enum BatchFailure {
    /// Storing a transaction's writes failed.
    Store(braid_accounts_db::Error),
    /// The thread panicked outside any program (programs' panics fail their instruction).
    Panicked,
}

/// A running pipeline. Dropping it without [`Pipeline::shutdown`] stops it without
/// committing the open slot.
pub struct Pipeline {
    ingress: Option<Sender<Vec<u8>>>,
    events: Receiver<ExecutionEvent>,
    shared: Arc<NodeState>,
    threads: Vec<JoinHandle<()>>,
    scheduler_thread: Option<JoinHandle<Result<(), PipelineError>>>,
}

impl Pipeline {
    /// Opens the ledger in `dir` (creating it from `genesis` on first start), replays any
    /// blocks newer than the committed accounts, and starts the threads.
    pub fn start(
        dir: &Path,
        genesis: Option<&Genesis>,
        executor: Arc<Executor>,
        config: PipelineConfig,
    ) -> Result<Self, PipelineError> {
        let (mut bank, pending) = Bank::open(dir, genesis, executor)?;
        if !pending.is_empty() {
            let threads = config
                .sigverify_threads
                .clamp(1, crate::scheduler::THREADS_MAX);
            let engine = crate::block_executor::BlockExecutor::new(threads)?;
            for block in &pending {
                engine.replay_block(&mut bank, block)?;
            }
        }
        Self::start_with_bank(bank, config)
    }

    /// Starts the threads on an already opened bank.
    pub fn start_with_bank(bank: Bank, config: PipelineConfig) -> Result<Self, PipelineError> {
        let threads_count = config.threads.clamp(1, crate::scheduler::THREADS_MAX);
        // Read before any thread starts: a failed read refuses the start.
        let programs = Arc::new(
            ProgramAccounts::read(bank.accounts_db(), bank.executor())
                .map_err(|error| PipelineError::Bank(BankError::AccountsDb(error)))?,
        );
        let shared = NodeState::for_bank(&bank);
        let (ingress_tx, ingress_rx) = bounded::<Vec<u8>>(config.ingress_capacity.max(1));
        let workers = config.sigverify_threads.clamp(1, SIGVERIFY_THREADS_MAX);
        let (verified_tx, verified_rx) = bounded::<Vec<VerifiedBox>>(
            workers.saturating_mul(sigverify::QUEUED_CHUNKS_PER_WORKER),
        );
        let (events_tx, events_rx) = bounded::<ExecutionEvent>(EVENTS_CAPACITY);
        let (done_tx, done_rx) = bounded::<Done>(threads_count.saturating_mul(8));
        let mut threads = Vec::new();

        let stage = Arc::new(SigverifyStage::new(
            workers,
            ingress_rx,
            verified_tx,
            events_tx.clone(),
            Arc::clone(&shared),
            Arc::clone(bank.executor()),
            config.sigverify,
        ));
        for index in 0..workers {
            let (stage, shared_sv) = (Arc::clone(&stage), Arc::clone(&shared));
            let name = format!("braid-sigverify-{index}");
            threads.push(spawn(&name, {
                let name = name.clone();
                move || {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        stage.run_worker();
                    }));
                    if run.is_err() {
                        // The chunk it held is lost, so nothing after it can be delivered.
                        stage.stop();
                        shared_sv.stopped(failure_of(&PipelineError::Panicked(name)));
                    }
                }
            })?);
        }
        // The workers hold the only references: when the last one ends, the verified
        // queue closes and the scheduler drains and stops.
        drop(stage);

        let mut work_senders = Vec::with_capacity(threads_count);
        for index in 0..threads_count {
            let (work_tx, work_rx) =
                bounded::<Work>(crate::scheduler::PIPELINE_THREAD_BATCHES_MAX.saturating_add(1));
            work_senders.push(work_tx);
            let (db, executor) = (Arc::clone(bank.accounts_db()), Arc::clone(bank.executor()));
            let programs = Arc::clone(&programs);
            let (done, shared_w) = (done_tx.clone(), Arc::clone(&shared));
            let detailed_events = config.detailed_events;
            threads.push(spawn(&format!("braid-banking-{index}"), move || {
                let source = BankingSource {
                    db: &db,
                    programs: &programs,
                    executor: &executor,
                };
                banking_loop(&work_rx, &done, &source, &shared_w, detailed_events)
            })?);
        }
        drop(done_tx);

        let mut scheduler_config = SchedulerConfig::pipeline(threads_count);
        if let Some(batch_target) = config.batch_target {
            scheduler_config.batch_target = batch_target.max(1);
        }
        let scheduler = Scheduler::new(scheduler_config)
            .map_err(|error| PipelineError::Config(error.to_string()))?;
        // One slot commit in flight at a time: the bank enforces it, the channels match it.
        let (commits_tx, commits_rx) = bounded::<PendingCommit>(1);
        let (committed_tx, committed_rx) = bounded::<Result<CommittedSlot, BankError>>(1);
        threads.push(spawn("braid-committer", move || {
            while let Ok(pending) = commits_rx.recv() {
                if committed_tx.send(pending.commit()).is_err() {
                    return;
                }
            }
        })?);
        let shared_s = Arc::clone(&shared);
        let slot_policy = config.slot;
        let empty_slots = config.empty_slots;
        let scheduler_thread = std::thread::Builder::new()
            .name("braid-scheduler".into())
            .spawn(move || {
                let shared = Arc::clone(&shared_s);
                let scheduler_loop = SchedulerLoop {
                    bank,
                    scheduler,
                    verified: verified_rx,
                    done: done_rx,
                    work: work_senders,
                    events: events_tx,
                    shared: shared_s,
                    policy: slot_policy,
                    empty_slots,
                    backlog: VecDeque::new(),
                    pending: HashMap::with_hasher(KeyHasherBuilder::new()),
                    next_id: 0,
                    admitted_in_slot: 0,
                    slot_cost: CostTracker::new(),
                    cost_full: false,
                    slot_started: Instant::now(),
                    metrics: SlotMetrics::default(),
                    commits: commits_tx,
                    committed: committed_rx,
                    in_flight: None,
                };
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scheduler_loop.run()))
                        .unwrap_or_else(|_| Err(PipelineError::Panicked("braid-scheduler".into())));
                if let Err(error) = &result {
                    // Logged once, here, where it happens; readers see it through health().
                    tracing::error!(target: "braid::pipeline", "pipeline stopped: {error}");
                    shared.stopped(failure_of(error));
                }
                result
            })
            .map_err(|error| PipelineError::Spawn {
                thread: "braid-scheduler".into(),
                source: error,
            })?;

        Ok(Self {
            ingress: Some(ingress_tx),
            events: events_rx,
            shared,
            threads,
            scheduler_thread: Some(scheduler_thread),
        })
    }

    /// Submits a transaction's wire bytes; `Busy` if the ingress queue is full.
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        let ingress = self.ingress.as_ref().ok_or(SubmitError::Stopped)?;
        // Nothing executes after a failure: taking the transaction would lose it silently.
        if self.shared.health().is_err() {
            return Err(SubmitError::Failed);
        }
        match ingress.try_send(wire) {
            Ok(()) => {
                self.shared
                    .counters()
                    .received
                    .fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }

    /// Submits, waiting while the node is busy.
    pub fn submit_blocking(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        let ingress = self.ingress.as_ref().ok_or(SubmitError::Stopped)?;
        if self.shared.health().is_err() {
            return Err(SubmitError::Failed);
        }
        ingress.send(wire).map_err(|_| SubmitError::Stopped)?;
        self.shared
            .counters()
            .received
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The event stream.
    pub fn events(&self) -> &Receiver<ExecutionEvent> {
        &self.events
    }

    /// State shared with readers.
    pub fn shared(&self) -> &Arc<NodeState> {
        &self.shared
    }

    /// Stops taking transactions, executes everything already submitted, commits the last
    /// slot, and joins the threads.
    pub fn shutdown(mut self) -> Result<(), PipelineError> {
        drop(self.ingress.take());
        let result = match self.scheduler_thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(PipelineError::Panicked("braid-scheduler".into())),
            None => Ok(()),
        };
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        result
    }
}

fn spawn(
    name: &str,
    body: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, PipelineError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|error| PipelineError::Spawn {
            thread: name.into(),
            source: error,
        })
}

fn elapsed_ns(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What a banking thread executes against.
struct BankingSource<'a> {
    db: &'a AccountsDb,
    /// The registered programs' accounts that cannot change, read when the pipeline
    /// started.
    programs: &'a ProgramAccounts,
    executor: &'a Executor,
}

/// Executes batches in order, storing each transaction's writes before the next runs.
fn banking_loop(
    work: &Receiver<Work>,
    done: &Sender<Done>,
    source: &BankingSource<'_>,
    shared: &NodeState,
    detailed_events: bool,
) {
    while let Ok(batch) = work.recv() {
        let started = Instant::now();
        let timer = CpuTimer::start();
        let mut walls = ExecuteWalls::default();
        let mut results = Vec::with_capacity(batch.txs.len());
        let (slot, txs) = (batch.slot, batch.txs);
        // A panic here would otherwise leave the batch unanswered and the scheduler waiting
        // for it forever; reported instead, it stops the pipeline with a typed error.
        let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for verified in txs {
                let processed = Bank::execute_cached(
                    source.db,
                    source.programs,
                    source.executor,
                    slot,
                    &verified.tx,
                    &mut walls,
                )
                .map_err(BatchFailure::Store)?;
                let account_keys = if detailed_events {
                    verified.tx.account_keys().to_vec()
                } else {
                    Vec::new()
                };
                let cost = match &processed {
                    Ok(executed) => TransactionCost::new(
                        &verified.tx,
                        verified.write_len,
                        executed.compute_units_consumed,
                    ),
                    Err(_) => verified.estimate,
                };
                results.push(Completed {
                    estimate: verified.estimate,
                    cost,
                    account_keys,
                    signature: *verified.tx.signature(),
                    blockhash: verified.tx.message().recent_blockhash,
                    message_hash: *verified.tx.message_hash(),
                    wire: verified.wire,
                    processed,
                });
            }
            Ok(())
        }))
        .unwrap_or(Err(BatchFailure::Panicked))
        .err();
        let (execute_cpu, store_cpu) =
            split_by_wall(timer.elapsed_ns(), walls.execute_ns, walls.store_ns);
        shared.budget().add(Stage::Execute, execute_cpu);
        shared.budget().add(Stage::Store, store_cpu);
        shared
            .counters()
            .execute_ns
            .fetch_add(elapsed_ns(started), Ordering::Relaxed);
        if done
            .send(Done {
                batch_id: batch.batch_id,
                results,
                failure,
            })
            .is_err()
        {
            return;
        }
    }
}

struct SchedulerLoop {
    bank: Bank,
    scheduler: Scheduler,
    verified: Receiver<Vec<VerifiedBox>>,
    done: Receiver<Done>,
    work: Vec<Sender<Work>>,
    events: Sender<ExecutionEvent>,
    shared: Arc<NodeState>,
    policy: SlotPolicy,
    /// End slots on time even when empty ([`PipelineConfig::empty_slots`]).
    empty_slots: bool,
    /// Verified, not yet admitted (the rest of a chunk when a slot filled up).
    backlog: VecDeque<VerifiedBox>,
    /// Admitted, not yet handed to a thread.
    pending: HashMap<u64, VerifiedBox, KeyHasherBuilder>,
    next_id: u64,
    admitted_in_slot: usize,
    /// The open slot's cost: what its executed transactions cost and what those in flight
    /// may, against the block limits (`braid_runtime::cost_model`).
    slot_cost: CostTracker,
    /// A transaction did not fit the open slot: it waits at the backlog's head for the next.
    cost_full: bool,
    slot_started: Instant,
    metrics: SlotMetrics,
    /// Sealed slots to the committer thread, and their commits back.
    commits: Sender<PendingCommit>,
    committed: Receiver<Result<CommittedSlot, BankError>>,
    /// The sealed slot whose commit is in flight (at most one), with its metrics.
    in_flight: Option<SlotReport>,
}

/// What happened in one slot, reported through `tracing` when it commits (target
/// `braid::slot`). Sigverify rejections are counted where they happen and appear in the
/// cumulative [`EngineCounters`].
#[derive(Debug, Default)]
struct SlotMetrics {
    admitted: u64,
    scheduled: u64,
    passed_over_before: u64,
    committed: u64,
    failed: std::collections::BTreeMap<String, u64>,
    rejected: std::collections::BTreeMap<String, u64>,
    execute_ns_before: u64,
    sigverify_ns_before: u64,
    verified_before: u64,
}

/// One sealed slot's metrics, reported when its commit is durable.
#[derive(Debug)]
struct SlotReport {
    slot: u64,
    received: u64,
    verified: u64,
    retried: u64,
    /// Summed over sigverify workers, so it can exceed the slot's wall time.
    sigverify_ms: u64,
    execute_ms: u64,
    slot_ms: u64,
    metrics: SlotMetrics,
}

impl SlotReport {
    fn trace(&self, commit: &SlotCommit) {
        debug_assert_eq!(self.slot, commit.slot);
        let metrics = &self.metrics;
        tracing::info!(
            target: "braid::slot",
            slot = commit.slot,
            received = self.received,
            verified = self.verified,
            admitted = metrics.admitted,
            scheduled = metrics.scheduled,
            retried = self.retried,
            committed = metrics.committed,
            failed = ?metrics.failed,
            rejected = ?metrics.rejected,
            sigverify_ms = self.sigverify_ms,
            execute_ms = self.execute_ms,
            commit_ms = commit.cost.commit_wall_ns / 1_000_000,
            slot_ms = self.slot_ms,
            "slot committed"
        );
    }
}

/// Adds one to a per-reason count.
fn count(counts: &mut std::collections::BTreeMap<String, u64>, error: &TransactionError) {
    let entry = counts.entry(error.reason()).or_default();
    *entry = entry.saturating_add(1);
}

impl SchedulerLoop {
    fn run(mut self) -> Result<(), PipelineError> {
        let mut input_open = true;
        loop {
            self.drain_completions()?;
            self.drain_commits()?;
            let slot_full = self.slot_full();
            if !slot_full && input_open {
                input_open = self.admit_verified()?;
            }
            self.dispatch();
            let idle = self.scheduler.in_flight() == 0 && self.pending.is_empty();
            let flushing = !input_open && idle;
            if idle && (slot_full || (flushing && self.bank.open_slot_len() > 0)) {
                self.seal()?;
                continue;
            }
            if flushing {
                self.wait_for_commit()?;
                return Ok(());
            }
            self.wait(input_open)?;
        }
    }

    fn slot_full(&self) -> bool {
        if self.cost_full {
            return true;
        }
        match self.policy {
            SlotPolicy::Duration(duration) => {
                self.slot_started.elapsed() >= duration
                    && (self.empty_slots || self.bank.open_slot_len() > 0)
            }
            SlotPolicy::Transactions(count) => self.admitted_in_slot >= count,
        }
    }

    /// Blocks until a completion or a verified chunk arrives, or the slot's time is up.
    fn wait(&mut self, input_open: bool) -> Result<(), PipelineError> {
        let timeout = match self.policy {
            SlotPolicy::Duration(duration) => duration
                .saturating_sub(self.slot_started.elapsed())
                .max(Duration::from_millis(1)),
            SlotPolicy::Transactions(_) => Duration::from_millis(50),
        };
        let room = self.has_room() && self.backlog.is_empty();
        crossbeam_channel::select! {
            recv(self.done) -> done => {
                if let Ok(done) = done {
                    self.complete(done)?;
                }
            }
            recv(if input_open && room { self.verified.clone() } else { crossbeam_channel::never() }) -> chunk => {
                if let Ok(chunk) = chunk {
                    self.backlog.extend(chunk);
                    self.admit_backlog();
                }
            }
            recv(self.committed) -> committed => {
                match committed {
                    Ok(committed) => self.finish(committed)?,
                    Err(_) => return Err(PipelineError::Panicked("braid-committer".into())),
                }
            }
            default(timeout) => {}
        }
        Ok(())
    }

    fn drain_completions(&mut self) -> Result<(), PipelineError> {
        while let Ok(done) = self.done.try_recv() {
            self.complete(done)?;
        }
        Ok(())
    }

    /// Takes back a slot commit that has finished, without waiting.
    fn drain_commits(&mut self) -> Result<(), PipelineError> {
        if let Ok(committed) = self.committed.try_recv() {
            self.finish(committed)?;
        }
        Ok(())
    }

    /// Waits until the slot in flight (if any) is durable and taken back.
    fn wait_for_commit(&mut self) -> Result<(), PipelineError> {
        if self.in_flight.is_some() {
            let committed = self
                .committed
                .recv()
                .map_err(|_| PipelineError::Panicked("braid-committer".into()))?;
            self.finish(committed)?;
        }
        Ok(())
    }

    fn complete(&mut self, done: Done) -> Result<(), PipelineError> {
        let timer = CpuTimer::start();
        let result = self.record(done);
        self.shared.budget().add(Stage::Record, timer.elapsed_ns());
        result
    }

    /// Records a finished batch in the open slot's block and reports each transaction.
    fn record(&mut self, done: Done) -> Result<(), PipelineError> {
        match done.failure {
            Some(BatchFailure::Store(error)) => {
                return Err(PipelineError::Bank(BankError::AccountsDb(error)));
            }
            Some(BatchFailure::Panicked) => {
                return Err(PipelineError::Panicked("braid-banking".into()));
            }
            None => {}
        }
        let completed = self.scheduler.complete(done.batch_id);
        // Every completion answers a batch this loop dispatched.
        debug_assert!(completed.is_ok(), "{completed:?}");
        let slot = self.bank.slot();
        for completed in done.results {
            let signature = completed.signature;
            // Block units and allocations only. One account's chain runs on one banking
            // thread in order, so a slot that ends on time (a node's 400 ms) holds at most a
            // slot of one core's work on it, which is the per-account limit on a machine like
            // the one the limits were calibrated on; slots that end by count (the load
            // generator's) are not held to it.
            self.slot_cost.remove(&completed.estimate, &[]);
            match completed.processed {
                Ok(executed) => {
                    self.slot_cost.add(&completed.cost, &[]);
                    self.bank
                        .record_signed(completed.wire, signature, &executed);
                    let counters = &self.shared.counters();
                    counters.processed.fetch_add(1, Ordering::Relaxed);
                    self.metrics.committed = self.metrics.committed.saturating_add(1);
                    if let Err(error) = &executed.status {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                        count(&mut self.metrics.failed, error);
                    }
                    let _ = self.events.send(ExecutionEvent::Processed {
                        signature,
                        slot,
                        status: executed.status,
                        logs: executed.logs,
                        account_keys: completed.account_keys,
                    });
                }
                Err(error) => {
                    self.bank
                        .forget_message(&completed.blockhash, &completed.message_hash);
                    self.shared
                        .counters()
                        .rejected
                        .fetch_add(1, Ordering::Relaxed);
                    count(&mut self.metrics.rejected, &error);
                    let _ = self
                        .events
                        .send(ExecutionEvent::Rejected { signature, error });
                }
            }
        }
        Ok(())
    }

    fn has_room(&self) -> bool {
        self.scheduler.pending_len() < self.scheduler.config().pending_max / 2 && !self.slot_full()
    }

    /// Admits verified transactions while there is room; returns whether input is still open
    /// (or buffered).
    fn admit_verified(&mut self) -> Result<bool, PipelineError> {
        let timer = CpuTimer::start();
        let open = self.admit_available();
        self.shared.budget().add(Stage::Admit, timer.elapsed_ns());
        Ok(open)
    }

    /// [`SchedulerLoop::admit_verified`]'s work.
    fn admit_available(&mut self) -> bool {
        loop {
            self.admit_backlog_untimed();
            if !self.has_room() {
                return true;
            }
            match self.verified.try_recv() {
                Ok(chunk) => self.backlog.extend(chunk),
                Err(crossbeam_channel::TryRecvError::Empty) => return true,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return !self.backlog.is_empty();
                }
            }
        }
    }

    /// Admits from the backlog, in order, until it is empty or there is no room.
    fn admit_backlog(&mut self) {
        let timer = CpuTimer::start();
        self.admit_backlog_untimed();
        self.shared.budget().add(Stage::Admit, timer.elapsed_ns());
    }

    fn admit_backlog_untimed(&mut self) {
        while self.has_room() {
            let Some(verified) = self.backlog.pop_front() else {
                return;
            };
            self.admit_one(verified);
        }
    }

    fn admit_one(&mut self, mut verified: VerifiedBox) {
        if self.slot_cost.try_add(&verified.estimate, &[]).is_err() {
            if verified.estimate.fits_an_empty_block().is_ok() {
                // The slot is full: this one opens the next.
                self.cost_full = true;
                self.backlog.push_front(verified);
                return;
            }
            self.reject(&verified, TransactionError::WouldExceedMaxBlockCostLimit);
            return;
        }
        if let Err(error) = self.bank.admit(&verified.tx) {
            self.slot_cost.remove(&verified.estimate, &[]);
            self.reject(&verified, error);
            return;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let pending = PendingTx {
            id,
            priority: verified.priority,
            accounts: std::mem::take(&mut verified.locks),
            write_len: verified.write_len,
        };
        if let Err(error) = self.scheduler.push(pending) {
            // Admission stops at half of pending_max and sanitize caps accounts at the
            // scheduler's limit, so this is unreachable; refuse rather than lose it.
            debug_assert!(false, "scheduler refused an admitted transaction: {error}");
            self.bank.forget(&verified.tx);
            self.slot_cost.remove(&verified.estimate, &[]);
            self.shared
                .counters()
                .rejected
                .fetch_add(1, Ordering::Relaxed);
            let signature = *verified.tx.signature();
            let _ = self.events.send(ExecutionEvent::Rejected {
                signature,
                error: TransactionError::Busy,
            });
            return;
        }
        self.pending.insert(id, verified);
        self.admitted_in_slot = self.admitted_in_slot.saturating_add(1);
        self.metrics.admitted = self.metrics.admitted.saturating_add(1);
    }

    /// Refuses `verified` before admission: it changed nothing.
    fn reject(&mut self, verified: &Verified, error: TransactionError) {
        self.shared
            .counters()
            .rejected
            .fetch_add(1, Ordering::Relaxed);
        count(&mut self.metrics.rejected, &error);
        let signature = *verified.tx.signature();
        let _ = self
            .events
            .send(ExecutionEvent::Rejected { signature, error });
    }

    fn dispatch(&mut self) {
        let timer = CpuTimer::start();
        self.dispatch_untimed();
        self.shared
            .budget()
            .add(Stage::Schedule, timer.elapsed_ns());
    }

    fn dispatch_untimed(&mut self) {
        for batch in self.scheduler.schedule() {
            let slot = self.bank.slot();
            self.metrics.scheduled = self
                .metrics
                .scheduled
                .saturating_add(batch.txs.len() as u64);
            let txs: Vec<VerifiedBox> = batch
                .txs
                .iter()
                .filter_map(|id| self.pending.remove(id))
                .collect();
            debug_assert_eq!(
                txs.len(),
                batch.txs.len(),
                "scheduled an unknown transaction"
            );
            if self.work[batch.thread]
                .send(Work {
                    batch_id: batch.id,
                    slot,
                    txs,
                })
                .is_err()
            {
                // The thread is gone only if the pipeline is being torn down.
                let _ = self.scheduler.complete(batch.id);
            }
        }
    }

    /// Ends the open slot: once the previous slot is durable, seals this one, hands its
    /// commit to the committer thread and opens the next slot at once.
    fn seal(&mut self) -> Result<(), PipelineError> {
        self.wait_for_commit()?;
        let pending = self.bank.seal_slot()?;
        let report = self.slot_report(pending.slot());
        self.commits
            .send(pending)
            .map_err(|_| PipelineError::Panicked("braid-committer".into()))?;
        self.in_flight = Some(report);
        // Sealing made the previous slot's bank hash a recent blockhash.
        self.shared
            .sealed(self.bank.latest_blockhash(), self.bank.slot());
        self.admitted_in_slot = 0;
        self.slot_cost = CostTracker::new();
        self.cost_full = false;
        self.slot_started = Instant::now();
        Ok(())
    }

    /// Takes back a finished slot commit: the slot is durable, so it is reported.
    fn finish(&mut self, committed: Result<CommittedSlot, BankError>) -> Result<(), PipelineError> {
        let report = self.in_flight.take();
        let commit = self.bank.finish_slot(committed?);
        let budget = &self.shared.budget();
        budget.add(Stage::HashFold, commit.cost.hash_fold_cpu_ns);
        budget.add(Stage::LedgerAppend, commit.cost.ledger_append_cpu_ns);
        budget.add(Stage::AccountsCommit, commit.cost.accounts_commit_cpu_ns);
        let counters = &self.shared.counters();
        counters
            .commit_ns
            .fetch_add(commit.cost.commit_wall_ns, Ordering::Relaxed);
        counters.slots.fetch_add(1, Ordering::Relaxed);
        // Committed transactions only: the bank's count already includes the next slot's.
        self.shared
            .durable(commit.slot, commit.signatures.len() as u64);
        if let Some(report) = report {
            report.trace(&commit);
        }
        let _ = self.events.send(ExecutionEvent::SlotCommitted(commit));
        Ok(())
    }

    /// The sealed slot's metrics, and a fresh count for the next slot.
    fn slot_report(&mut self, slot: u64) -> SlotReport {
        let counters = &self.shared.counters();
        let execute_ns = counters.execute_ns.load(Ordering::Relaxed);
        let sigverify_ns = counters.sigverify_ns.load(Ordering::Relaxed);
        let verified = counters.verified.load(Ordering::Relaxed);
        let passed_over = self.scheduler.metrics().passed_over;
        let metrics = std::mem::replace(
            &mut self.metrics,
            SlotMetrics {
                passed_over_before: passed_over,
                execute_ns_before: execute_ns,
                sigverify_ns_before: sigverify_ns,
                verified_before: verified,
                ..SlotMetrics::default()
            },
        );
        SlotReport {
            slot,
            received: counters.received.load(Ordering::Relaxed),
            verified: verified.saturating_sub(metrics.verified_before),
            retried: passed_over.saturating_sub(metrics.passed_over_before),
            sigverify_ms: sigverify_ns.saturating_sub(metrics.sigverify_ns_before) / 1_000_000,
            execute_ms: execute_ns.saturating_sub(metrics.execute_ns_before) / 1_000_000,
            slot_ms: self.slot_started.elapsed().as_millis() as u64,
            metrics,
        }
    }
}
