//! What readers see of the engine while it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use braid_accounts_db::AccountsDb;
use braid_ledger::{Bank, SlotCommit};
use braid_runtime::Hash;

use crate::budget::CpuBudget;

/// Why the engine (the pipeline or a validator) stopped on its own: the node takes no
/// transactions after this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct EngineFailure {
    /// What went wrong, as one line.
    pub reason: String,
    /// The disk is full: nothing is damaged, and the node can keep serving reads until an
    /// operator frees space and restarts it.
    pub disk_full: bool,
}

/// Counters, readable while the engine runs.
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Transactions accepted by the pipeline's `submit`.
    pub received: AtomicU64,
    /// Transactions that passed sanitize and sigverify.
    pub verified: AtomicU64,
    /// Transactions refused (any reason).
    pub rejected: AtomicU64,
    /// Transactions executed (succeeded or failed with a fee).
    pub processed: AtomicU64,
    /// Of those, failed.
    pub failed: AtomicU64,
    /// Slots committed.
    pub slots: AtomicU64,
    /// Nanoseconds the sigverify stage spent on chunks (parse and verification), summed
    /// over its workers.
    pub sigverify_ns: AtomicU64,
    /// Nanoseconds banking threads spent executing.
    pub execute_ns: AtomicU64,
    /// Nanoseconds spent committing slots.
    pub commit_ns: AtomicU64,
}

/// What readers (RPC, PubSub, the load generator) see of the engine while it runs. The
/// engine updates it; everyone else reads.
pub struct NodeState {
    latest_blockhash: std::sync::Mutex<Hash>,
    slot: AtomicU64,
    /// The slot transactions now execute in (one or two past `slot` while a commit is in
    /// flight).
    open_slot: AtomicU64,
    transaction_count: AtomicU64,
    db: Arc<AccountsDb>,
    counters: EngineCounters,
    budget: CpuBudget,
    /// Why the pipeline stopped on its own, once it has.
    failure: std::sync::Mutex<Option<EngineFailure>>,
    /// The ledger directory's lock, held as long as anything can still reach the accounts
    /// database through this (its background compaction included). Last, so that it is
    /// released after `db`.
    _lock: Option<Arc<braid_ledger::LedgerLock>>,
}

impl NodeState {
    /// The state readers see of `bank`, before its next slot. The pipeline makes one when
    /// it starts; a node whose slots consensus decides makes one too and reports each
    /// commit with [`NodeState::committed`].
    pub fn for_bank(bank: &Bank) -> Arc<Self> {
        Arc::new(NodeState {
            latest_blockhash: std::sync::Mutex::new(bank.latest_blockhash()),
            slot: AtomicU64::new(bank.slot().saturating_sub(1)),
            open_slot: AtomicU64::new(bank.slot()),
            transaction_count: AtomicU64::new(bank.transaction_count()),
            db: Arc::clone(bank.accounts_db()),
            counters: EngineCounters::default(),
            budget: CpuBudget::default(),
            failure: std::sync::Mutex::new(None),
            _lock: bank.lock(),
        })
    }

    /// Reports a slot committed by an engine other than the pipeline (a validator): readers see its slot,
    /// its transactions and `latest_blockhash`, and transactions now run in the slot after.
    pub fn committed(&self, commit: &SlotCommit, latest_blockhash: Hash) {
        *self
            .latest_blockhash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = latest_blockhash;
        self.slot.store(commit.slot, Ordering::Release);
        self.open_slot
            .store(commit.slot.saturating_add(1), Ordering::Release);
        self.transaction_count
            .fetch_add(commit.signatures.len() as u64, Ordering::AcqRel);
        self.counters.slots.fetch_add(1, Ordering::Relaxed);
        self.counters
            .processed
            .fetch_add(commit.signatures.len() as u64, Ordering::Relaxed);
    }

    /// Records that the engine stopped on its own, unless a reason is already recorded:
    /// [`NodeState::health`] reports it.
    pub fn stopped(&self, why: EngineFailure) {
        let mut failure = self
            .failure
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if failure.is_none() {
            *failure = Some(why);
        }
    }

    /// Records a slot's seal as the pipeline makes it: clients sign over `latest_blockhash`
    /// now, and transactions execute in `open_slot`.
    pub fn sealed(&self, latest_blockhash: Hash, open_slot: u64) {
        *self
            .latest_blockhash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = latest_blockhash;
        self.open_slot.store(open_slot, Ordering::Release);
    }

    /// Records that the pipeline's `slot`, with `transactions` transactions, is durable.
    pub fn durable(&self, slot: u64, transactions: u64) {
        self.slot.store(slot, Ordering::Release);
        self.transaction_count
            .fetch_add(transactions, Ordering::AcqRel);
    }

    /// The newest blockhash clients should sign over.
    pub fn latest_blockhash(&self) -> Hash {
        *self
            .latest_blockhash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The last committed slot.
    pub fn slot(&self) -> u64 {
        self.slot.load(Ordering::Acquire)
    }

    /// The slot transactions execute in now: what a simulation's clock should say.
    pub fn open_slot(&self) -> u64 {
        self.open_slot.load(Ordering::Acquire)
    }

    /// Transactions committed.
    pub fn transaction_count(&self) -> u64 {
        self.transaction_count.load(Ordering::Acquire)
    }

    /// The accounts database (reads see executed but not yet committed writes).
    pub fn accounts_db(&self) -> &Arc<AccountsDb> {
        &self.db
    }

    /// The counters.
    pub fn counters(&self) -> &EngineCounters {
        &self.counters
    }

    /// CPU time spent in each stage so far.
    pub fn budget(&self) -> &CpuBudget {
        &self.budget
    }

    /// `Ok` while the pipeline runs (or was shut down in order); the reason once a fatal
    /// error stopped it (a failed commit, a dead thread). It takes no transactions then.
    pub fn health(&self) -> Result<(), EngineFailure> {
        match &*self
            .failure
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }
}
