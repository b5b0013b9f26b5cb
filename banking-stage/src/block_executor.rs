//! The block executor: one engine that executes a block's transactions on the open slot
//! with the lock-table scheduler, banking threads and batched signature checks.
//!
//! This module is its *verify* mode: the block's order is fixed (a ledger block replayed at
//! start or by `braid ledger verify`, a proposal a replica judges). Transactions that do
//! not conflict run in parallel; those that conflict run in block order, because the
//! scheduler in [`SchedulerConfig::verify`] hands a transaction out only after every
//! conflicting one pushed before it has completed. Every transaction's result then depends
//! only on those before it that it conflicts with, so the result is serial replay's, bit for
//! bit: the same writes, entries, state hash and bank hash, and for a block that diverges,
//! the same first divergent entry and reason (`tests/block_executor.rs` checks both against
//! [`Bank::replay_block`] on random blocks with hot accounts).
//!
//! A block goes through three stages, each on at most [`BlockExecutor::threads`] threads:
//! 1. *prepare*: parse, resolve v0 lookups at the open slot, verify signatures in batches
//!    (`verify_batch_par`), and compute each lock list; all in parallel;
//! 2. *admit*: recent blockhash and not seen before, in block order, on the calling thread;
//! 3. *execute*: the scheduler packs the admitted prefix onto banking threads; results are
//!    recorded in block order and checked against what the block records, if it records
//!    outcomes.
//!
//! The calling thread stands in for the pipeline's scheduler thread and mostly waits. A block
//! that diverges leaves the bank as it found it (open slot empty, admissions forgotten).

use std::sync::Arc;
use std::time::Instant;

use braid_accounts_db::AccountsDb;
use braid_ledger::bank::{
    AccountsView, Bank, BankError, ProgramAccounts, SlotCommit, check_replayed,
};
use braid_ledger::blockstore::{Block, Entry};
use braid_primitives::Pubkey;
use braid_runtime::TransactionError;
use braid_runtime::cost_model::{BlockLimit, CostTracker, TransactionCost};
use braid_runtime::executor::{Executor, ProcessedTransaction};
use braid_runtime::sanitized::SanitizedTransaction;
use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;

mod ledger;
mod produce;

pub use ledger::{ReplayTimes, VerifiedLedger, verify_ledger};

use crate::scheduler::{PendingTx, Scheduler, SchedulerConfig, SchedulerError, THREADS_MAX};

/// Whether the block executor checks signatures.
#[derive(Clone, Copy)]
pub enum Signatures<'a> {
    /// Verify every signature, in batches.
    Verify,
    /// Every signature was verified already (a block this node built from transactions it
    /// verified on entry): do not spend the time again.
    AlreadyVerified,
    /// Verify, in batches, every transaction not marked `true` here (one mark per
    /// transaction, in block order; a replica marks the exact bytes its pool verified on
    /// entry). A missing mark means verify.
    VerifyUnmarked(&'a [bool]),
}

/// Whether a block must fit the block limits ([`braid_runtime::cost_model`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limits {
    /// A proposal: a block over a limit is refused.
    Enforce,
    /// A block already in the ledger, committed under the rules it was made with.
    Ignore,
}

/// Why a block is not what it claims, at its first divergent entry: what serial replay
/// would report there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The entry's position in the block.
    pub entry: usize,
    /// What went wrong with it.
    pub reason: Diverged,
}

/// What went wrong with a block's entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Diverged {
    /// The wire bytes are not a valid transaction.
    #[error("does not parse: {0}")]
    Parse(String),
    /// A v0 transaction's lookups do not resolve at the slot.
    #[error("lookups: {0}")]
    Lookups(String),
    /// A signature does not verify.
    #[error("signature: {0}")]
    Signature(TransactionError),
    /// Its blockhash is not recent or it was processed before.
    #[error("not admitted: {0}")]
    NotAdmitted(TransactionError),
    /// It could not pay its fee (rejected untouched), so no block may hold it.
    #[error("rejected: {0}")]
    Rejected(TransactionError),
    /// It executed differently from what the block records ([`check_replayed`]).
    #[error("{0}")]
    Outcome(String),
    /// With it the block passes a limit.
    #[error("over the block limits: {0}")]
    OverLimit(BlockLimit),
}

/// Why a [`BlockExecutor`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BlockExecutorError {
    /// The thread count is outside `1..=`[`THREADS_MAX`].
    #[error("block executor threads must be 1 to {THREADS_MAX}, not {0}")]
    Threads(usize),
    /// The thread pool could not start.
    #[error("cannot start the block executor's threads: {0}")]
    Pool(String),
}

/// A transaction ready to execute: parsed, resolved and checked, with its lock list.
struct Prepared {
    tx: SanitizedTransaction,
    locks: Vec<Pubkey>,
    write_len: usize,
}

/// A batch for one banking thread: the block positions to execute, in order.
struct Work {
    batch_id: u64,
    positions: Vec<usize>,
}

/// A banking thread's answer: each position's result, or the thread's panic.
struct Done {
    batch_id: u64,
    results: Vec<(
        usize,
        Result<ProcessedTransaction, braid_accounts_db::Error>,
    )>,
    panicked: bool,
}

/// The block engine's verify mode. See the module documentation.
pub struct BlockExecutor {
    threads: usize,
    pool: rayon::ThreadPool,
}

impl BlockExecutor {
    /// An executor that uses at most `threads` threads for all of a block's work: signature
    /// checks, execution and the state-hash fold (plus the calling thread, which waits).
    pub fn new(threads: usize) -> Result<Self, BlockExecutorError> {
        if !(1..=THREADS_MAX).contains(&threads) {
            return Err(BlockExecutorError::Threads(threads));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|index| format!("braid-block-{index}"))
            .build()
            .map_err(|error| BlockExecutorError::Pool(error.to_string()))?;
        Ok(Self { threads, pool })
    }

    /// The threads it uses.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Replays a ledger block on `bank`'s open slot, checks every outcome against the
    /// block's entries, commits it and checks its bank hash: [`Bank::replay_block`], in
    /// parallel, with the same result and the same errors. On a divergence the open slot is
    /// left empty.
    pub fn replay_block(&self, bank: &mut Bank, block: &Block) -> Result<SlotCommit, BankError> {
        self.pool.install(|| {
            let parsed = parse(&wires_of(block), Signatures::Verify);
            self.replay_parsed(bank, block, parsed, &mut ReplayTimes::default())
        })
    }

    /// [`BlockExecutor::replay_block`] on a block already [`parse`]d.
    /// Adds the wall time of executing and of committing to `times`.
    fn replay_parsed(
        &self,
        bank: &mut Bank,
        block: &Block,
        parsed: Vec<Parsed>,
        times: &mut ReplayTimes,
    ) -> Result<SlotCommit, BankError> {
        {
            let started = Instant::now();
            let wires = wires_of(block);
            if block.slot != bank.slot() {
                return Err(BankError::ReplayDiverged {
                    slot: block.slot,
                    entry: 0,
                    reason: format!(
                        "block is for slot {}, the bank is at slot {}",
                        block.slot,
                        bank.slot()
                    ),
                });
            }
            if let Err(divergence) =
                self.execute_parsed(bank, &wires, Some(&block.entries), parsed, Limits::Ignore)?
            {
                return Err(BankError::ReplayDiverged {
                    slot: block.slot,
                    entry: divergence.entry,
                    reason: divergence.reason.to_string(),
                });
            }
            let committing = Instant::now();
            let commit = bank.commit_replayed(block);
            times.execute_ns = times
                .execute_ns
                .saturating_add(nanos(committing.saturating_duration_since(started)));
            times.commit_ns = times.commit_ns.saturating_add(nanos(committing.elapsed()));
            commit
        }
    }

    /// Whether each of `wires` parses and its signatures verify, checked in batches on
    /// this executor's threads: what a replica does with a proposal's transactions as they
    /// arrive, before the block is complete. A `true` here may be passed on as
    /// [`Signatures::VerifyUnmarked`]; a `false` is checked again, and judged, in block
    /// order.
    pub fn verify_signatures<W: AsRef<[u8]> + Sync>(&self, wires: &[W]) -> Vec<bool> {
        self.pool.install(|| {
            parse(wires, Signatures::Verify)
                .iter()
                .map(|parsed| matches!(parsed, Ok((_, Ok(())))))
                .collect()
        })
    }

    /// Executes `wires` in this order on `bank`'s open slot, which must be empty, and
    /// records them there, unsealed. With `recorded`, each outcome must be what its entry
    /// records. `Ok(Err(_))` is the block's fault, at its first divergent entry; the open
    /// slot is then left empty. `Err` is this node's own failure (storage, a panic).
    pub fn execute_fixed<W: AsRef<[u8]> + Sync>(
        &self,
        bank: &mut Bank,
        wires: &[W],
        recorded: Option<&[Entry]>,
        signatures: Signatures<'_>,
        limits: Limits,
    ) -> Result<Result<(), Divergence>, BankError> {
        self.pool.install(|| {
            self.execute_parsed(bank, wires, recorded, parse(wires, signatures), limits)
        })
    }

    /// [`BlockExecutor::execute_fixed`] on a block already [`parse`]d.
    fn execute_parsed<W: AsRef<[u8]> + Sync>(
        &self,
        bank: &mut Bank,
        wires: &[W],
        recorded: Option<&[Entry]>,
        parsed: Vec<Parsed>,
        limits: Limits,
    ) -> Result<Result<(), Divergence>, BankError> {
        let slot = bank.slot();
        if bank.open_slot_len() != 0 {
            return Err(BankError::OpenSlotNotEmpty {
                slot,
                transactions: bank.open_slot_len(),
            });
        }
        let prepared = prepare(bank, parsed);
        // Serial replay stops at the first entry that fails; everything before it runs.
        let mut cutoff = prepared
            .iter()
            .position(Result::is_err)
            .unwrap_or(prepared.len());
        let mut admitted = 0usize;
        let mut refusal = None;
        for (position, prepared) in prepared.iter().enumerate().take(cutoff) {
            let Ok(prepared) = prepared else { break };
            if let Err(error) = bank.admit(&prepared.tx) {
                refusal = Some(Divergence {
                    entry: position,
                    reason: Diverged::NotAdmitted(error),
                });
                cutoff = position;
                break;
            }
            admitted = position.saturating_add(1);
        }
        let ready: Vec<&Prepared> = prepared[..cutoff].iter().flatten().collect();
        let executed = match self.execute(bank, slot, &ready) {
            Ok(executed) => executed,
            Err(error) => {
                undo(bank, &ready[..admitted])?;
                return Err(error);
            }
        };
        // Recorded in block order, whatever order they completed in.
        let mut tracker = CostTracker::new();
        for (position, (result, prepared)) in executed.into_iter().zip(&ready).enumerate() {
            let divergence = |reason| Divergence {
                entry: position,
                reason,
            };
            let executed = match result {
                Ok(executed) => executed,
                Err(error) => {
                    undo(bank, &ready[..admitted])?;
                    return Ok(Err(divergence(Diverged::Rejected(error))));
                }
            };
            if limits == Limits::Enforce {
                let cost = TransactionCost::new(
                    &prepared.tx,
                    prepared.write_len,
                    executed.compute_units_consumed,
                );
                let writable = &prepared.locks[..prepared.write_len];
                if let Err(limit) = tracker.try_add(&cost, writable) {
                    undo(bank, &ready[..admitted])?;
                    return Ok(Err(divergence(Diverged::OverLimit(limit))));
                }
            }
            bank.record(wires[position].as_ref().to_vec(), &prepared.tx, &executed);
            if let Some(entries) = recorded {
                let checked = match entries.get(position) {
                    Some(entry) => check_replayed(entry, &executed, bank.last_entry()),
                    None => Err("the block records no outcome for it".to_owned()),
                };
                if let Err(reason) = checked {
                    undo(bank, &ready[..admitted])?;
                    return Ok(Err(divergence(Diverged::Outcome(reason))));
                }
            }
        }
        let first_failure = refusal.or_else(|| {
            prepared.iter().enumerate().find_map(|(entry, prepared)| {
                let reason = prepared.as_ref().err()?.clone();
                Some(Divergence { entry, reason })
            })
        });
        if let Some(mut divergence) = first_failure {
            if let Diverged::Lookups(_) = divergence.reason {
                // Lookups were resolved against the state before the block; serial replay
                // resolves this entry after the ones before it, which may have created its
                // table (whose addresses are still unusable: the verdict is the same, but
                // not the reason). The open slot holds their writes now: ask it.
                divergence.reason = lookups_after_prefix(bank, wires[divergence.entry].as_ref());
            }
            undo(bank, &ready[..admitted])?;
            return Ok(Err(divergence));
        }
        Ok(Ok(()))
    }

    /// Executes `ready` (admitted, in block order) on the open slot, keeping that order
    /// between conflicting transactions: inline on one thread, else through the scheduler.
    /// Returns each transaction's result in block order.
    fn execute(
        &self,
        bank: &Bank,
        slot: u64,
        ready: &[&Prepared],
    ) -> Result<Vec<ProcessedTransaction>, BankError> {
        let (db, executor) = (bank.accounts_db(), bank.executor());
        if self.threads == 1 || ready.len() <= 1 {
            return ready
                .iter()
                .map(|prepared| {
                    Bank::execute(db, executor, slot, &prepared.tx).map_err(BankError::from)
                })
                .collect();
        }
        let programs = ProgramAccounts::read(db, executor)?;
        let source = Source {
            db,
            programs: &programs,
            executor,
            slot,
        };
        let results = self.with_banking_threads(&source, ready, |work, done| {
            schedule(SchedulerConfig::verify(self.threads), ready, work, done)
        });
        results
            .map_err(|()| BankError::ExecutionPanicked { slot })?
            .into_iter()
            .map(|result| result.map_err(BankError::from))
            .collect()
    }

    /// Runs `drive` (the scheduling loop) on this thread with [`BlockExecutor::threads`]
    /// banking threads executing `ready` for it, until it returns; the threads then stop.
    fn with_banking_threads<R>(
        &self,
        source: &Source<'_>,
        ready: &[&Prepared],
        drive: impl FnOnce(&[Sender<Work>], &Receiver<Done>) -> R,
    ) -> R {
        std::thread::scope(|scope| {
            let (done_sender, done) = crossbeam_channel::unbounded();
            let mut work = Vec::with_capacity(self.threads);
            for _ in 0..self.threads {
                let (sender, receiver) = crossbeam_channel::unbounded::<Work>();
                work.push(sender);
                let done_sender = done_sender.clone();
                scope.spawn(move || banking_thread(&receiver, &done_sender, source, ready));
            }
            drop(done_sender);
            let result = drive(&work, &done);
            drop(work);
            result
        })
    }
}

/// What a banking thread executes against.
struct Source<'a> {
    db: &'a Arc<AccountsDb>,
    programs: &'a ProgramAccounts,
    executor: &'a Executor,
    slot: u64,
}

/// A transaction parsed, with its signatures' verdict (`Ok` when not checked).
type Parsed = Result<(SanitizedTransaction, Result<(), TransactionError>), Diverged>;

/// The state-free half of preparing a block: parses every wire and verifies the
/// signatures in batches, in parallel. It needs nothing from the bank, so a ledger's next
/// block is parsed while this one executes.
fn parse<W: AsRef<[u8]> + Sync>(wires: &[W], signatures: Signatures<'_>) -> Vec<Parsed> {
    let parsed: Vec<Result<(SanitizedTransaction, bool), Diverged>> = wires
        .par_iter()
        .enumerate()
        .map(|(position, wire)| {
            let tx = SanitizedTransaction::try_from_bytes(wire.as_ref())
                .map_err(|error| Diverged::Parse(error.to_string()))?;
            let check = match signatures {
                Signatures::Verify => true,
                Signatures::AlreadyVerified => false,
                Signatures::VerifyUnmarked(verified) => {
                    !verified.get(position).copied().unwrap_or(false)
                }
            };
            Ok((tx, check))
        })
        .collect();
    let to_check: Vec<&SanitizedTransaction> = parsed
        .iter()
        .flatten()
        .filter(|(_, check)| *check)
        .map(|(tx, _)| tx)
        .collect();
    let mut verdicts = braid_runtime::sigverify::verify_batch_par(&to_check).into_iter();
    parsed
        .into_iter()
        .map(|parsed| {
            let (tx, check) = parsed?;
            let verdict = if check {
                verdicts.next().unwrap_or(Ok(()))
            } else {
                Ok(())
            };
            Ok((tx, verdict))
        })
        .collect()
}

/// The half of preparing a block that reads state: resolves v0 lookups at the open slot
/// and computes each lock list, in parallel. A transaction fails as serial replay checks
/// it: parse, then lookups, then signatures (signatures cover the message alone, so
/// checking them before resolving gives the same verdict).
fn prepare(bank: &Bank, parsed: Vec<Parsed>) -> Vec<Result<Prepared, Diverged>> {
    let (db, executor, slot) = (bank.accounts_db(), bank.executor(), bank.slot());
    parsed
        .into_par_iter()
        .map(|parsed| {
            let (mut tx, verdict) = parsed?;
            tx.resolve(&AccountsView(db), slot)
                .map_err(|error| Diverged::Lookups(error.to_string()))?;
            verdict.map_err(Diverged::Signature)?;
            let (locks, write_len) = executor.lock_list(&tx);
            Ok(Prepared {
                tx,
                locks,
                write_len,
            })
        })
        .collect()
}

/// Why `wire`'s lookups do not resolve at the open slot, as it stands.
fn lookups_after_prefix(bank: &Bank, wire: &[u8]) -> Diverged {
    let reason = match SanitizedTransaction::try_from_bytes(wire) {
        Ok(mut tx) => match tx.resolve(&AccountsView(bank.accounts_db()), bank.slot()) {
            Err(error) => error.to_string(),
            // Usable addresses at a slot do not depend on its transactions, so resolution
            // that failed before the block fails after its prefix too.
            Ok(()) => "resolved only after the transactions before it".to_owned(),
        },
        Err(error) => error.to_string(),
    };
    Diverged::Lookups(reason)
}

/// Forgets the admissions of `admitted` and empties the open slot.
fn undo(bank: &mut Bank, admitted: &[&Prepared]) -> Result<(), BankError> {
    for prepared in admitted {
        bank.forget(&prepared.tx);
    }
    bank.discard_open_slot()
}

/// A transaction's result as a banking thread reports it.
type Executed = Result<ProcessedTransaction, braid_accounts_db::Error>;

/// Runs the scheduler over `ready`, pushed in block order, until every transaction has
/// completed. Returns the results in block order. `Err` if a banking thread panicked or
/// went away.
fn schedule(
    config: SchedulerConfig,
    ready: &[&Prepared],
    work: &[Sender<Work>],
    done: &Receiver<Done>,
) -> Result<Vec<Executed>, ()> {
    let mut scheduler = Scheduler::new(config).map_err(|_| ())?;
    let mut results: Vec<Option<Executed>> =
        std::iter::repeat_with(|| None).take(ready.len()).collect();
    let (mut pushed, mut completed) = (0usize, 0usize);
    while completed < ready.len() {
        while pushed < ready.len() && scheduler.pending_len() < config.pending_max {
            let prepared = ready[pushed];
            let pending = PendingTx {
                id: pushed as u64,
                priority: 0,
                accounts: prepared.locks.clone(),
                write_len: prepared.write_len,
            };
            match scheduler.push(pending) {
                Ok(()) => pushed = pushed.saturating_add(1),
                // Sanitizing caps a transaction's accounts at the scheduler's limit, and
                // the queue has room: neither can happen.
                Err(SchedulerError::TooManyAccounts { .. } | SchedulerError::Full { .. }) => {
                    return Err(());
                }
                Err(_) => break,
            }
        }
        dispatch(&mut scheduler, work)?;
        for (position, result) in next_done(&mut scheduler, done)? {
            let slot = results.get_mut(position).ok_or(())?;
            if slot.replace(result).is_some() {
                return Err(());
            }
            completed = completed.saturating_add(1);
        }
    }
    results.into_iter().map(|result| result.ok_or(())).collect()
}

/// Sends the batches the scheduler packs now to their banking threads. `Err` if a thread
/// went away.
fn dispatch(scheduler: &mut Scheduler, work: &[Sender<Work>]) -> Result<(), ()> {
    for batch in scheduler.schedule() {
        let positions = batch
            .txs
            .iter()
            .map(|&id| usize::try_from(id).unwrap_or(usize::MAX))
            .collect();
        work[batch.thread]
            .send(Work {
                batch_id: batch.id,
                positions,
            })
            .map_err(|_| ())?;
    }
    Ok(())
}

/// Waits for the next batch a banking thread finished, completes it in the scheduler and
/// returns its results. `Err` if the thread panicked or went away.
fn next_done(
    scheduler: &mut Scheduler,
    done: &Receiver<Done>,
) -> Result<Vec<(usize, Executed)>, ()> {
    let answer = done.recv().map_err(|_| ())?;
    if answer.panicked {
        return Err(());
    }
    scheduler.complete(answer.batch_id).map_err(|_| ())?;
    Ok(answer.results)
}

/// Executes batches in order, storing each transaction's writes before the next runs.
fn banking_thread(
    work: &Receiver<Work>,
    done: &Sender<Done>,
    source: &Source<'_>,
    ready: &[&Prepared],
) {
    while let Ok(batch) = work.recv() {
        let mut results = Vec::with_capacity(batch.positions.len());
        let mut walls = braid_ledger::bank::ExecuteWalls::default();
        // A panic would otherwise leave the batch unanswered and the caller waiting.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for &position in &batch.positions {
                let processed = Bank::execute_cached(
                    source.db,
                    source.programs,
                    source.executor,
                    source.slot,
                    &ready[position].tx,
                    &mut walls,
                );
                results.push((position, processed));
            }
        }))
        .is_err();
        let answer = Done {
            batch_id: batch.batch_id,
            results,
            panicked,
        };
        if done.send(answer).is_err() {
            return;
        }
    }
}

/// A ledger block's wire bytes, in block order.
fn wires_of(block: &Block) -> Vec<&[u8]> {
    block
        .entries
        .iter()
        .map(|entry| entry.transaction.as_slice())
        .collect()
}

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
