//! The lock-table scheduler: which pending transaction runs next, and on which banking thread.
//!
//! This is a plain data structure with no threads or channels inside, so its decisions can
//! be tested deterministically. The scheduler thread of the pipeline owns one [`Scheduler`]:
//! it [`push`](Scheduler::push)es transactions that passed sigverify and dedup, calls
//! [`schedule`](Scheduler::schedule) for batches to send to banking threads, and calls
//! [`complete`](Scheduler::complete) when a thread reports a batch done, which releases the
//! batch's account locks.
//!
//! # Design
//!
//! A pass walks the pending queue in order (see below) and puts each transaction on a
//! thread where it conflicts with nothing in flight *on other threads*. The lock table
//! records, for every locked account, the thread of its write locks and the threads of its
//! read locks. Locks are thread-aware (the idea of Agave's `thread_aware_account_locks`):
//!
//! - A transaction that conflicts with work on exactly one thread goes to that thread,
//!   behind that work, because a banking thread executes its batches in the order it
//!   receives them. A hot account (one AMM pool) thus serialises on one thread while the
//!   other threads take everything else.
//! - A transaction that conflicts with work on two or more threads waits.
//! - A transaction free to go anywhere goes to the thread with the fewest queued
//!   transactions (lowest index on ties), among threads with fewer than
//!   [`SchedulerConfig::thread_batches_max`] batches in flight.
//!
//! Batches hold at most [`SchedulerConfig::batch_target`] transactions; a pass sends its
//! partly filled batches too, so work never waits for a batch to fill. In
//! [`BatchMode::ConflictFree`] no two transactions in one batch conflict (what the runtime's
//! `execute_batch` expects): a transaction that conflicts with the batch being filled
//! closes it and starts the next one on the same thread. In [`BatchMode::Sequential`] a
//! batch may contain conflicting transactions and the banking thread must execute it in
//! order, each transaction seeing the writes of those before it; a hot account then fills
//! whole batches instead of one-transaction batches.
//!
//! # Shallow queues: why the pipeline's batches are small
//!
//! Every transaction in flight keeps its accounts on its thread, and every later
//! transaction on one of them must follow it there. So what a thread holds in flight decides
//! how far contention funnels: with four batches of 64 in flight, one batch of swaps touched
//! nearly all of 16 pools, every later swap followed it to that thread, and a simulated
//! 16-thread machine ran the swaps 1.05x faster than one thread where the conflict graph
//! allows 11.1x (the DeFi mix: 2.3x of 31x). [`SchedulerConfig::pipeline`] therefore keeps
//! two batches in flight per thread (one executing, one waiting, so no thread idles while
//! the scheduler answers its completion) of [`pipeline_batch_target`] transactions: 16 up to
//! two threads, 4 from eight threads on, which reaches 9.7x and 25x on the same simulations.
//! A pass looks past waiting transactions for as long as the threads with room could use
//! ([`SchedulerConfig::scan_misses_max`] counts per such thread). The measurements are in
//! BENCHMARKS.md (issue 26).
//!
//! # Cost per decision
//!
//! One scheduler thread decides for every banking thread, so its cost per transaction
//! bounds the whole machine. Accounts are interned when their transaction is queued (the
//! private `locks` module): every later check, lock, unlock and blocked mark indexes a
//! vector instead of hashing a key. The queue is one FIFO lane per priority (the private
//! `queue` module), so queueing and taking a transaction are O(1) apart from the lane's
//! lookup.
//!
//! # Order and determinism
//!
//! The queue order is: aged transactions first, in arrival order; then the others by
//! priority (fee per compute unit) descending, then arrival ascending. The key decision is
//! that **a transaction a pass cannot schedule blocks its accounts for the rest of the
//! pass**: a later transaction that conflicts with it is not scheduled in that pass either
//! (the blocked-account idea of Agave's greedy and prio-graph schedulers). So two
//! conflicting transactions always execute in queue order, and with equal priorities in
//! arrival order, whatever the number of threads and whenever batches complete; a parallel
//! run therefore reaches the state a serial run in arrival order reaches.
//!
//! Two modes share this one scheduler: producing a slot ([`SchedulerConfig::pipeline`],
//! priority order with aging) and judging a block whose order is fixed
//! ([`SchedulerConfig::verify`], push order: the result is the serial replay's).
//!
//! # Bounded waiting
//!
//! At most [`SchedulerConfig::pending_max`] transactions wait; beyond that
//! [`push`](Scheduler::push) fails with [`SchedulerError::Full`] so ingress can answer
//! "busy". Aging rule: once [`SchedulerConfig::age_limit`] newer transactions have been
//! accepted after a transaction, it is *aged*: it goes ahead of every non-aged transaction,
//! and aged transactions keep arrival order among themselves. From then on no newer
//! transaction can be scheduled ahead of it on a conflicting account; it waits only for
//! older transactions and for conflicting work already in flight. Aging counts arrivals,
//! not passes, so how often the caller runs passes does not change the order.
//!
//! A pass stops after examining [`SchedulerConfig::scan_max`] transactions or
//! [`SchedulerConfig::scan_misses_max`] unschedulable ones in a row per thread with room, so
//! a backlog behind a hot account does not make every pass walk the whole queue; aging still
//! brings every transaction to the front.

mod locks;
mod queue;

use std::collections::HashMap;

use braid_primitives::KeyHasherBuilder;
use braid_primitives::Pubkey;

pub use self::locks::THREADS_MAX;
use self::locks::{AccountIndex, AccountTable, ThreadSet};
use self::queue::{PendingQueue, QueuedTx, Visit};

/// Default number of banking threads (this machine has two cores).
pub const DEFAULT_THREADS: usize = 2;
/// Default target size of a batch.
pub const DEFAULT_BATCH_TARGET_TXS: usize = 64;
/// Default limit of batches in flight on one thread.
pub const DEFAULT_THREAD_BATCHES_MAX: usize = 4;
/// Default bound of the pending queue.
pub const DEFAULT_PENDING_MAX_TXS: usize = 65_536;
/// Default aging limit: newer arrivals after which a transaction goes to the front
/// (about 160 ms at 100k transactions per second, less than half a slot).
pub const DEFAULT_AGE_LIMIT_ARRIVALS: u64 = 16_384;
/// Default limit of transactions examined by one pass.
pub const DEFAULT_SCAN_MAX_TXS: usize = 4_096;
/// Default limit of unschedulable transactions in a row before a pass stops, per thread with
/// room when the pass starts: a pass looks past waiting transactions for work those threads
/// can take, and more of them need more (simulated transfers over 10,000 accounts on 32
/// threads: 20.0 of a bound of 32 at 64 misses in all, 22.5 at 1,024). But every pass walks
/// the waiting front again, which a hot account's backlog makes long, and after one
/// completion only one thread has room: at 1,024 in all, one pool's swaps on 32 simulated
/// threads cost the scheduler 15.8 us each, 254 misses per swap (BENCHMARKS.md, issue 26).
pub const DEFAULT_SCAN_MISSES_MAX_TXS: usize = 32;
/// Default limit of unschedulable transactions in a row before a pass stops, however many
/// threads have room: idle threads beside one hot account's thread can take nothing, and
/// letting 31 of them look 32 deep each cost 254 misses per swap (see above).
pub const DEFAULT_SCAN_MISSES_CAP_TXS: usize = 256;
const _: () = assert!(DEFAULT_SCAN_MISSES_MAX_TXS <= DEFAULT_SCAN_MISSES_CAP_TXS);
/// Batches a pipeline thread may have in flight: one executing and one waiting, so a
/// thread never idles while the scheduler answers its completion, and no more, because every
/// queued transaction keeps its accounts bound to the thread (see [`SchedulerConfig::pipeline`]).
pub const PIPELINE_THREAD_BATCHES_MAX: usize = 2;
/// Largest and smallest pipeline batch, in transactions ([`pipeline_batch_target`]).
pub const PIPELINE_BATCH_TARGET_MAX_TXS: usize = 16;
/// See [`PIPELINE_BATCH_TARGET_MAX_TXS`].
pub const PIPELINE_BATCH_TARGET_MIN_TXS: usize = 4;
/// Transactions in flight on all pipeline threads together that the batch size aims at,
/// before the limits above.
pub const PIPELINE_IN_FLIGHT_TARGET_TXS: usize = 32;
const _: () = assert!(PIPELINE_BATCH_TARGET_MIN_TXS <= PIPELINE_BATCH_TARGET_MAX_TXS);
const _: () = assert!(PIPELINE_BATCH_TARGET_MIN_TXS >= 1);

/// The pipeline's batch size for `threads` banking threads: 16 transactions up to two
/// threads, 8 at four, 4 from eight on.
///
/// Why it shrinks: a thread-aware lock keeps an account on the thread of every in-flight
/// batch that names it, and every later transaction on it follows there. A batch of 64 swaps
/// over 16 pools names nearly all of them, so with 64-transaction batches, four in flight,
/// every swap funnelled onto one thread (simulated: 1.05x on 16 threads where the conflict
/// graph allows 11.1x). Fewer transactions in flight per thread bind fewer accounts and
/// release them sooner; with 4 per batch and two batches the same swaps reach 9.7x
/// (BENCHMARKS.md, issue 26). Smaller batches cost more passes and messages per
/// transaction, so up to two threads keep 16: two batches of 16 already bring those swaps
/// to 1.98x on two simulated threads (1.01x with four batches of 64).
pub const fn pipeline_batch_target(threads: usize) -> usize {
    let target = match PIPELINE_IN_FLIGHT_TARGET_TXS.checked_div(threads) {
        Some(target) => target,
        None => PIPELINE_IN_FLIGHT_TARGET_TXS,
    };
    if target < PIPELINE_BATCH_TARGET_MIN_TXS {
        PIPELINE_BATCH_TARGET_MIN_TXS
    } else if target > PIPELINE_BATCH_TARGET_MAX_TXS {
        PIPELINE_BATCH_TARGET_MAX_TXS
    } else {
        target
    }
}
/// Default limit of accounts one transaction may lock (the runtime's limit of keys).
pub const DEFAULT_TX_ACCOUNTS_MAX: usize = braid_runtime::sanitized::TX_ACCOUNT_LOCKS_MAX;
/// Spare lock lists kept for reuse per in-flight batch slot.
const LOCK_LIST_POOL_PER_SLOT: usize = 2;
/// Spare account-index lists kept for queued transactions.
const INDEX_POOL_MAX: usize = 1_024;

/// Whether the transactions of one batch may conflict with each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchMode {
    /// No two transactions of a batch conflict, so a thread may execute them all against
    /// the state before the batch (the runtime's `execute_batch` contract). A hot account
    /// yields batches of one transaction.
    #[default]
    ConflictFree,
    /// A batch may contain conflicting transactions; the thread must execute them in order,
    /// each seeing the writes of those before it.
    Sequential,
}

/// How a [`Scheduler`] packs and bounds work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Banking threads, 1 to [`THREADS_MAX`].
    pub threads: usize,
    /// Transactions per batch, at least 1; a batch is sent when it has this many or the
    /// pass ends.
    pub batch_target: usize,
    /// Batches one thread may have in flight (sent, not completed), at least 1.
    pub thread_batches_max: usize,
    /// Transactions that may wait, at least 1.
    pub pending_max: usize,
    /// Newer arrivals after which a waiting transaction is aged (0: pure arrival order).
    pub age_limit: u64,
    /// Transactions one pass examines at most, at least 1.
    pub scan_max: usize,
    /// Unschedulable transactions in a row after which a pass stops, per thread with room
    /// when it starts, at least 1.
    pub scan_misses_max: usize,
    /// Unschedulable transactions in a row after which a pass stops whatever the threads
    /// with room, at least 1.
    pub scan_misses_cap: usize,
    /// Accounts (writes plus reads, before removing duplicates) one transaction may name.
    pub tx_accounts_max: usize,
    /// Whether a batch may contain conflicting transactions.
    pub batch_mode: BatchMode,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            threads: DEFAULT_THREADS,
            batch_target: DEFAULT_BATCH_TARGET_TXS,
            thread_batches_max: DEFAULT_THREAD_BATCHES_MAX,
            pending_max: DEFAULT_PENDING_MAX_TXS,
            age_limit: DEFAULT_AGE_LIMIT_ARRIVALS,
            scan_max: DEFAULT_SCAN_MAX_TXS,
            scan_misses_max: DEFAULT_SCAN_MISSES_MAX_TXS,
            scan_misses_cap: DEFAULT_SCAN_MISSES_CAP_TXS,
            tx_accounts_max: DEFAULT_TX_ACCOUNTS_MAX,
            batch_mode: BatchMode::ConflictFree,
        }
    }
}

impl SchedulerConfig {
    /// What the pipeline runs with on `threads` banking threads, and what the simulation of
    /// wider machines simulates: sequential batches of [`pipeline_batch_target`]
    /// transactions, [`PIPELINE_THREAD_BATCHES_MAX`] in flight per thread.
    pub fn pipeline(threads: usize) -> Self {
        Self {
            threads,
            batch_target: pipeline_batch_target(threads),
            thread_batches_max: PIPELINE_THREAD_BATCHES_MAX,
            batch_mode: BatchMode::Sequential,
            ..Self::default()
        }
    }

    /// The pipeline's configuration for judging a block whose order is fixed (replaying a
    /// block, verifying a proposal): transactions are placed in the order they are pushed,
    /// whatever their priorities, so any two that conflict execute in block order and the
    /// result is the serial replay's, while the rest run in parallel. Age limit 0 makes every
    /// transaction aged at the next pass, and aged transactions keep arrival order.
    pub fn verify(threads: usize) -> Self {
        Self {
            age_limit: 0,
            ..Self::pipeline(threads)
        }
    }
}

/// Why the scheduler refused an operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    /// The configuration is unusable; the text names the field.
    #[error("invalid scheduler configuration: {0}")]
    InvalidConfig(&'static str),
    /// The pending queue holds its maximum; the transaction was not queued.
    #[error("scheduler is busy: {capacity} transactions already pending")]
    Full {
        /// The configured [`SchedulerConfig::pending_max`].
        capacity: usize,
    },
    /// The transaction names more accounts than allowed; it was not queued.
    #[error("transaction {id} names {count} accounts, more than the {max} allowed")]
    TooManyAccounts {
        /// The transaction's id.
        id: u64,
        /// Writes plus reads as given.
        count: usize,
        /// The configured [`SchedulerConfig::tx_accounts_max`].
        max: usize,
    },
    /// No batch with this id is in flight (never sent, or already completed).
    #[error("batch {0} is not in flight")]
    UnknownBatch(u64),
}

/// A transaction to schedule: its id, priority and declared accounts.
///
/// The accounts are one list, written ones first, so a transaction reaches the scheduler
/// in a single allocation that becomes its lock list: a second vector for the reads,
/// allocated by a verify worker and freed by the scheduler thread, cost that thread more
/// than the rest of a push (perf, `mi_free` under `Scheduler::push`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTx {
    /// The caller's handle; returned in [`ScheduledBatch::txs`]. The scheduler does not
    /// require ids to be unique.
    pub id: u64,
    /// Fee per compute unit; higher goes first.
    pub priority: u64,
    /// Declared accounts: the first [`PendingTx::write_len`] are written, the rest only
    /// read. A key listed twice counts once, as written if any listing writes it.
    pub accounts: Vec<Pubkey>,
    /// How many of `accounts`, from the front, are written (at most `accounts.len()`; a
    /// larger value counts as all of them).
    pub write_len: usize,
}

impl PendingTx {
    /// A transaction that writes `writes` and reads `reads`.
    pub fn new(id: u64, priority: u64, mut writes: Vec<Pubkey>, reads: &[Pubkey]) -> Self {
        let write_len = writes.len();
        writes.extend_from_slice(reads);
        Self {
            id,
            priority,
            accounts: writes,
            write_len,
        }
    }
}

/// Transactions sent to one banking thread, to be executed in order and then completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledBatch {
    /// Pass back to [`Scheduler::complete`] when the batch is done.
    pub id: u64,
    /// The banking thread, below [`SchedulerConfig::threads`].
    pub thread: usize,
    /// Transaction ids in execution order.
    pub txs: Vec<u64>,
}

/// Counters since the scheduler was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedulerMetrics {
    /// Transactions accepted by [`Scheduler::push`].
    pub pushed: u64,
    /// Pushes refused because the queue was full.
    pub rejected_full: u64,
    /// Pushes refused for naming too many accounts.
    pub rejected_too_many_accounts: u64,
    /// Calls to [`Scheduler::schedule`].
    pub passes: u64,
    /// Transactions put in a batch.
    pub scheduled: u64,
    /// Times a pass examined a transaction and left it waiting (retries).
    pub passed_over: u64,
    /// Transactions moved to the front by the aging rule.
    pub aged: u64,
    /// Batches sent.
    pub batches: u64,
    /// Batches closed early because a transaction conflicted with the batch itself
    /// ([`BatchMode::ConflictFree`]).
    pub batches_split: u64,
    /// Batches completed.
    pub completed: u64,
}

/// An account locked by an in-flight batch.
#[derive(Clone, Copy, Debug)]
struct LockedKey {
    index: AccountIndex,
    write: bool,
}

/// A batch being filled during a pass.
#[derive(Debug)]
struct OpenBatch {
    id: u64,
    txs: Vec<u64>,
    locks: Vec<LockedKey>,
}

/// A batch sent and not yet completed.
#[derive(Debug)]
struct InFlight {
    thread: usize,
    tx_count: usize,
    locks: Vec<LockedKey>,
}

/// One banking thread as the scheduler sees it.
#[derive(Debug, Default)]
struct ThreadState {
    /// Batches sent and not completed.
    batches: usize,
    /// Transactions in those batches and in `open`.
    txs: usize,
    open: Option<OpenBatch>,
}

/// The threads and their batches: everything a pass changes except the queue and locks.
#[derive(Debug)]
struct Dispatch {
    threads: Vec<ThreadState>,
    in_flight: HashMap<u64, InFlight, KeyHasherBuilder>,
    lock_pool: Vec<Vec<LockedKey>>,
    lock_pool_max: usize,
    next_batch_id: u64,
    batch_target: usize,
    thread_batches_max: usize,
    /// Threads below their in-flight limit.
    available: ThreadSet,
}

impl Dispatch {
    fn has_room(&self, thread: usize) -> bool {
        self.threads[thread].batches < self.thread_batches_max
    }

    /// The open batch of `thread`, opening one if needed.
    fn open_batch(&mut self, thread: usize) -> &mut OpenBatch {
        let Self {
            threads,
            lock_pool,
            next_batch_id,
            batch_target,
            ..
        } = self;
        threads[thread].open.get_or_insert_with(|| {
            let id = *next_batch_id;
            *next_batch_id = next_batch_id.saturating_add(1);
            OpenBatch {
                id,
                txs: Vec::with_capacity(*batch_target),
                locks: lock_pool.pop().unwrap_or_default(),
            }
        })
    }

    /// Sends the open batch of `thread`, if any.
    fn send(
        &mut self,
        thread: usize,
        sent: &mut Vec<ScheduledBatch>,
        metrics: &mut SchedulerMetrics,
    ) {
        let state = &mut self.threads[thread];
        let Some(batch) = state.open.take() else {
            return;
        };
        debug_assert!(!batch.txs.is_empty(), "an open batch is never empty");
        state.batches = state.batches.saturating_add(1);
        if state.batches >= self.thread_batches_max {
            self.available.remove(thread);
        }
        self.in_flight.insert(
            batch.id,
            InFlight {
                thread,
                tx_count: batch.txs.len(),
                locks: batch.locks,
            },
        );
        sent.push(ScheduledBatch {
            id: batch.id,
            thread,
            txs: batch.txs,
        });
        metrics.batches = metrics.batches.saturating_add(1);
    }
}

/// The scheduler: pending queue, lock table and the batches in flight on each thread.
///
/// ```
/// use braid_primitives::Pubkey;
/// use braid_banking_stage::scheduler::{PendingTx, Scheduler, SchedulerConfig};
///
/// let mut scheduler = Scheduler::new(SchedulerConfig::default()).unwrap();
/// let pool = Pubkey::new_from_array([1; 32]);
/// for id in 0..3 {
///     scheduler.push(PendingTx::new(id, 10, vec![pool], &[])).unwrap();
/// }
/// let batches = scheduler.schedule();
/// // All three write the pool: one thread, in arrival order, one batch each.
/// assert_eq!(batches.iter().map(|b| (b.thread, b.txs.clone())).collect::<Vec<_>>(),
///            [(0, vec![0]), (0, vec![1]), (0, vec![2])]);
/// for batch in &batches {
///     scheduler.complete(batch.id).unwrap();
/// }
/// assert_eq!(scheduler.in_flight(), 0);
/// ```
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    all_threads: ThreadSet,
    pending: PendingQueue,
    accounts: AccountTable,
    dispatch: Dispatch,
    /// Passes run so far: the number that marks an account blocked in the current pass.
    pass: u64,
    /// Spare index lists for queued transactions.
    index_pool: Vec<Vec<AccountIndex>>,
    metrics: SchedulerMetrics,
}

impl Scheduler {
    /// A scheduler with nothing pending; refuses a configuration with a zero or
    /// out-of-range field.
    pub fn new(config: SchedulerConfig) -> Result<Self, SchedulerError> {
        let checks = [
            (
                config.threads == 0 || config.threads > THREADS_MAX,
                "threads must be 1..=THREADS_MAX",
            ),
            (config.batch_target == 0, "batch_target must be at least 1"),
            (
                config
                    .thread_batches_max
                    .saturating_mul(config.batch_target)
                    > usize::from(u16::MAX),
                "thread_batches_max × batch_target must be at most 65535 (a read-lock count)",
            ),
            (
                config.thread_batches_max == 0,
                "thread_batches_max must be at least 1",
            ),
            (config.pending_max == 0, "pending_max must be at least 1"),
            (config.scan_max == 0, "scan_max must be at least 1"),
            (
                config.scan_misses_max == 0,
                "scan_misses_max must be at least 1",
            ),
            (
                config.scan_misses_cap == 0,
                "scan_misses_cap must be at least 1",
            ),
            (
                interned_accounts_max(&config) > AccountIndex::MAX as usize,
                "pending and in-flight transactions could name more accounts than an index holds",
            ),
        ];
        if let Some((_, reason)) = checks.iter().find(|(bad, _)| *bad) {
            return Err(SchedulerError::InvalidConfig(reason));
        }
        let all_threads = ThreadSet::first(config.threads);
        let slots = config.threads.saturating_mul(config.thread_batches_max);
        Ok(Self {
            config,
            all_threads,
            pending: PendingQueue::default(),
            accounts: AccountTable::default(),
            dispatch: Dispatch {
                threads: (0..config.threads)
                    .map(|_| ThreadState::default())
                    .collect(),
                in_flight: HashMap::with_capacity_and_hasher(slots, KeyHasherBuilder::new()),
                lock_pool: Vec::new(),
                lock_pool_max: slots.saturating_mul(LOCK_LIST_POOL_PER_SLOT),
                next_batch_id: 1,
                batch_target: config.batch_target,
                thread_batches_max: config.thread_batches_max,
                available: all_threads,
            },
            pass: 0,
            index_pool: Vec::new(),
            metrics: SchedulerMetrics::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Queues a transaction. Fails, leaving the scheduler unchanged, when
    /// [`SchedulerConfig::pending_max`] transactions already wait or the transaction names
    /// more than [`SchedulerConfig::tx_accounts_max`] accounts.
    pub fn push(&mut self, tx: PendingTx) -> Result<(), SchedulerError> {
        let count = tx.accounts.len();
        if count > self.config.tx_accounts_max {
            self.metrics.rejected_too_many_accounts =
                self.metrics.rejected_too_many_accounts.saturating_add(1);
            return Err(SchedulerError::TooManyAccounts {
                id: tx.id,
                count,
                max: self.config.tx_accounts_max,
            });
        }
        if self.pending.len() >= self.config.pending_max {
            self.metrics.rejected_full = self.metrics.rejected_full.saturating_add(1);
            return Err(SchedulerError::Full {
                capacity: self.config.pending_max,
            });
        }
        // The caller's buffer becomes the lock list. Deduplicating in place keeps the
        // written keys first, and a read of a written key drops out (it is written).
        // Quadratic, which is cheap for the few accounts allowed.
        let PendingTx {
            id,
            priority,
            mut accounts,
            write_len: declared_writes,
        } = tx;
        let (mut kept, mut write_len) = (0usize, 0usize);
        for index in 0..accounts.len() {
            let key = accounts[index];
            if !accounts[..kept].contains(&key) {
                accounts[kept] = key;
                kept = kept.saturating_add(1);
                if index < declared_writes {
                    write_len = kept;
                }
            }
        }
        accounts.truncate(kept);
        let mut indices = self.index_pool.pop().unwrap_or_default();
        indices.extend(accounts.iter().map(|&key| self.accounts.acquire(key)));
        let queued = QueuedTx {
            id,
            accounts: indices,
            write_len,
        };
        self.pending.push(priority, queued);
        self.metrics.pushed = self.metrics.pushed.saturating_add(1);
        Ok(())
    }

    /// Runs one scheduling pass and returns the batches to send, each to its thread.
    ///
    /// A thread must execute its batches in the order they are returned, across passes.
    pub fn schedule(&mut self) -> Vec<ScheduledBatch> {
        let Self {
            config,
            all_threads,
            pending,
            accounts,
            dispatch,
            pass,
            index_pool,
            metrics,
        } = self;
        metrics.passes = metrics.passes.saturating_add(1);
        *pass = pass.saturating_add(1);
        let pass = *pass;
        let aged = pending.age(config.age_limit);
        metrics.aged = metrics.aged.saturating_add(aged as u64);
        let mut sent = Vec::new();
        if pending.is_empty() {
            return sent;
        }
        let mut scanned = 0usize;
        let mut misses = 0usize;
        let misses_max = config
            .scan_misses_max
            .saturating_mul(dispatch.available.len())
            .min(config.scan_misses_cap);
        let mut scheduled = 0u64;
        pending.scan(
            |tx| {
                if dispatch.available.is_empty()
                    || scanned >= config.scan_max
                    || misses >= misses_max
                {
                    return Visit::Stop;
                }
                scanned = scanned.saturating_add(1);
                let Some(placement) = place(
                    tx,
                    *all_threads,
                    config.batch_mode,
                    accounts,
                    pass,
                    dispatch,
                ) else {
                    for (index, write) in tx.accesses() {
                        accounts.block(index, write, pass);
                    }
                    misses = misses.saturating_add(1);
                    metrics.passed_over = metrics.passed_over.saturating_add(1);
                    return Visit::Keep;
                };
                misses = 0;
                let thread = placement.thread;
                if placement.split {
                    dispatch.send(thread, &mut sent, metrics);
                    metrics.batches_split = metrics.batches_split.saturating_add(1);
                }
                let batch = dispatch.open_batch(thread);
                for (index, write) in tx.accesses() {
                    accounts.lock(index, write, thread, batch.id);
                    batch.locks.push(LockedKey { index, write });
                }
                batch.txs.push(tx.id);
                let full = batch.txs.len() >= config.batch_target;
                let state = &mut dispatch.threads[thread];
                state.txs = state.txs.saturating_add(1);
                scheduled = scheduled.saturating_add(1);
                if full {
                    dispatch.send(thread, &mut sent, metrics);
                }
                Visit::Take
            },
            |mut tx| {
                // The in-flight batch now holds the references; keep the list's buffer.
                if index_pool.len() < INDEX_POOL_MAX {
                    tx.accounts.clear();
                    index_pool.push(tx.accounts);
                }
            },
        );
        for thread in 0..dispatch.threads.len() {
            dispatch.send(thread, &mut sent, metrics);
        }
        metrics.scheduled = metrics.scheduled.saturating_add(scheduled);
        sent
    }

    /// Releases the locks of a batch its thread has finished. Fails, changing nothing, for
    /// an id that is not in flight.
    pub fn complete(&mut self, batch_id: u64) -> Result<(), SchedulerError> {
        let batch = self
            .dispatch
            .in_flight
            .remove(&batch_id)
            .ok_or(SchedulerError::UnknownBatch(batch_id))?;
        for locked in &batch.locks {
            self.accounts
                .unlock(locked.index, locked.write, batch.thread);
            self.accounts.release(locked.index);
        }
        let state = &mut self.dispatch.threads[batch.thread];
        debug_assert!(
            state.batches > 0 && state.txs >= batch.tx_count,
            "thread load underflow"
        );
        state.batches = state.batches.saturating_sub(1);
        state.txs = state.txs.saturating_sub(batch.tx_count);
        if self.dispatch.has_room(batch.thread) {
            self.dispatch.available.insert(batch.thread);
        }
        if self.dispatch.lock_pool.len() < self.dispatch.lock_pool_max {
            let mut list = batch.locks;
            list.clear();
            self.dispatch.lock_pool.push(list);
        }
        self.metrics.completed = self.metrics.completed.saturating_add(1);
        Ok(())
    }

    /// Transactions waiting to be scheduled.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Batches sent and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.dispatch.in_flight.len()
    }

    /// Transactions in batches sent and not yet completed.
    pub fn in_flight_txs(&self) -> usize {
        self.dispatch.threads.iter().map(|thread| thread.txs).sum()
    }

    /// Accounts currently locked by in-flight batches.
    pub fn locked_accounts(&self) -> usize {
        self.accounts.locked()
    }

    /// Accounts named by a waiting or in-flight transaction (the interned accounts).
    pub fn known_accounts(&self) -> usize {
        self.accounts.len()
    }

    /// The counters.
    pub fn metrics(&self) -> SchedulerMetrics {
        self.metrics
    }
}

/// The most accounts the table can hold at once: every waiting and in-flight transaction's,
/// each naming at most `tx_accounts_max`.
fn interned_accounts_max(config: &SchedulerConfig) -> usize {
    let in_flight = config
        .threads
        .saturating_mul(config.thread_batches_max)
        .saturating_mul(config.batch_target);
    config
        .pending_max
        .saturating_add(in_flight)
        .saturating_mul(config.tx_accounts_max)
}

/// Where a transaction goes in this pass.
#[derive(Clone, Copy, Debug)]
struct Placement {
    thread: usize,
    /// Whether the thread's open batch must be sent first, because the transaction
    /// conflicts with it and batches are conflict-free.
    split: bool,
}

/// Picks a thread for `tx`, or `None` when it must wait this pass.
fn place(
    tx: &QueuedTx,
    all: ThreadSet,
    mode: BatchMode,
    accounts: &AccountTable,
    pass: u64,
    dispatch: &Dispatch,
) -> Option<Placement> {
    let mut threads = dispatch.available;
    let mut split_thread = None;
    for (index, write) in tx.accesses() {
        // A waiting transaction holds the account: any access if it writes, writes if it
        // reads.
        if accounts.is_blocked(index, write, pass) {
            return None;
        }
        let access = accounts.access(index, write, all);
        threads = threads.intersect(access.threads);
        if threads.is_empty() {
            return None;
        }
        if mode == BatchMode::ConflictFree
            && let Some(last) = access.conflicts_with
            && dispatch.threads[last.thread]
                .open
                .as_ref()
                .is_some_and(|open| open.id == last.id)
        {
            split_thread = Some(last.thread);
        }
    }
    if let Some(thread) = split_thread {
        // Conflicting with the open batch of `thread` pins the transaction there; it needs
        // room for that batch and one more.
        debug_assert_eq!(
            threads.single(),
            Some(thread),
            "open-batch conflict on another thread"
        );
        let room = dispatch.threads[thread].batches.saturating_add(1) < dispatch.thread_batches_max;
        return room.then_some(Placement {
            thread,
            split: true,
        });
    }
    let thread = threads
        .iter()
        .min_by_key(|&thread| dispatch.threads[thread].txs)?;
    Some(Placement {
        thread,
        split: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Pubkey {
        Pubkey::new_from_array([byte; 32])
    }

    fn tx(id: u64, writes: &[u8], reads: &[u8]) -> PendingTx {
        let reads: Vec<Pubkey> = reads.iter().copied().map(key).collect();
        PendingTx::new(id, 1, writes.iter().copied().map(key).collect(), &reads)
    }

    /// The first queued transaction's accounts (as the keys they were interned from, out of
    /// `candidates`) and written count.
    fn first_queued(scheduler: &mut Scheduler, candidates: &[Pubkey]) -> (Vec<Pubkey>, usize) {
        let mut first = None;
        let Scheduler {
            pending, accounts, ..
        } = scheduler;
        pending.scan(
            |tx| {
                let keys = tx
                    .accounts
                    .iter()
                    .map(|&index| {
                        *candidates
                            .iter()
                            .find(|&&key| accounts.find(key) == Some(index))
                            .expect("an interned candidate")
                    })
                    .collect();
                first = Some((keys, tx.write_len));
                Visit::Stop
            },
            |_| {},
        );
        first.unwrap()
    }

    #[test]
    fn duplicates_are_removed_and_a_read_also_written_is_a_write() {
        let mut scheduler = Scheduler::new(SchedulerConfig::default()).unwrap();
        scheduler.push(tx(0, &[1, 2, 1], &[2, 3, 3])).unwrap();
        let (accounts, write_len) = first_queued(&mut scheduler, &[key(1), key(2), key(3)]);
        assert_eq!(accounts, [key(1), key(2), key(3)]);
        assert_eq!(write_len, 2);
    }

    #[test]
    fn a_write_len_past_the_list_writes_every_account() {
        let mut scheduler = Scheduler::new(SchedulerConfig::default()).unwrap();
        let pending = PendingTx {
            id: 0,
            priority: 1,
            accounts: vec![key(1), key(2), key(1)],
            write_len: 7,
        };
        scheduler.push(pending).unwrap();
        let (accounts, write_len) = first_queued(&mut scheduler, &[key(1), key(2)]);
        assert_eq!(accounts, [key(1), key(2)]);
        assert_eq!(write_len, 2);
    }

    #[test]
    fn invalid_configs_are_refused() {
        for config in [
            SchedulerConfig {
                threads: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                threads: THREADS_MAX + 1,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                batch_target: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                thread_batches_max: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                pending_max: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                scan_max: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                scan_misses_max: 0,
                ..SchedulerConfig::default()
            },
            SchedulerConfig {
                scan_misses_cap: 0,
                ..SchedulerConfig::default()
            },
            // 2^30 waiting transactions of 64 accounts: more than a u32 index can name.
            SchedulerConfig {
                pending_max: 1 << 30,
                tx_accounts_max: 64,
                ..SchedulerConfig::default()
            },
        ] {
            assert!(
                matches!(
                    Scheduler::new(config),
                    Err(SchedulerError::InvalidConfig(_))
                ),
                "{config:?}"
            );
        }
    }

    #[test]
    fn locks_are_released_on_completion() {
        let mut scheduler = Scheduler::new(SchedulerConfig::default()).unwrap();
        scheduler.push(tx(0, &[1], &[2])).unwrap();
        scheduler.push(tx(1, &[3], &[2])).unwrap();
        let batches = scheduler.schedule();
        assert_eq!(scheduler.locked_accounts(), 3);
        for batch in batches {
            scheduler.complete(batch.id).unwrap();
        }
        assert_eq!(scheduler.locked_accounts(), 0);
        assert_eq!(scheduler.in_flight_txs(), 0);
        assert!(
            scheduler
                .dispatch
                .threads
                .iter()
                .all(|thread| thread.open.is_none())
        );
    }

    #[test]
    fn a_conflict_with_the_open_batch_splits_it_only_in_conflict_free_mode() {
        for (mode, expected) in [
            (BatchMode::ConflictFree, vec![vec![0], vec![1, 2]]),
            (BatchMode::Sequential, vec![vec![0, 1, 2]]),
        ] {
            let config = SchedulerConfig {
                threads: 1,
                batch_mode: mode,
                ..SchedulerConfig::default()
            };
            let mut scheduler = Scheduler::new(config).unwrap();
            scheduler.push(tx(0, &[1], &[])).unwrap();
            scheduler.push(tx(1, &[2], &[1])).unwrap();
            scheduler.push(tx(2, &[3], &[1])).unwrap();
            let txs: Vec<Vec<u64>> = scheduler
                .schedule()
                .into_iter()
                .map(|batch| batch.txs)
                .collect();
            assert_eq!(txs, expected, "{mode:?}");
        }
    }
}
