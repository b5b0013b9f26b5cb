//! The block executor's produce mode: a proposer's block, highest fee first, filled up to
//! the block limits.

use std::sync::Arc;

use braid_ledger::bank::{AccountsView, Bank, BankError, ProgramAccounts, Refusal};
use braid_runtime::TransactionError;
use braid_runtime::compute_budget::ComputeBudget;
use braid_runtime::cost_model::{CostTracker, TransactionCost};
use braid_runtime::sanitized::SanitizedTransaction;
use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;

use super::{BlockExecutor, Done, Prepared, Source, Work, dispatch, next_done};
use crate::scheduler::{PendingTx, Scheduler, SchedulerConfig};

impl BlockExecutor {
    /// The block engine's produce mode: executes `txs` (signatures verified) on `bank`'s
    /// open slot, which must be empty, and records them there, unsealed, in the order they
    /// completed. Higher priority fees go first; conflicting transactions of one priority
    /// keep the given order. Returns what was left out and why: a transaction not admitted
    /// (stale blockhash, already processed, lookups that do not resolve) or rejected
    /// untouched (it cannot pay its fee). `Err` is this node's own failure; the open slot
    /// is then left empty.
    pub fn produce(
        &self,
        bank: &mut Bank,
        txs: &[(&[u8], &SanitizedTransaction)],
    ) -> Result<Vec<(usize, Refusal)>, BankError> {
        self.produce_streaming(bank, txs, &mut |_| {})
    }

    /// [`BlockExecutor::produce`], calling `progress` with the bank each time more
    /// transactions are recorded ([`Bank::open_entries`] grows; what is there stays), so a
    /// proposer streams its block while it is still executing it.
    pub fn produce_streaming(
        &self,
        bank: &mut Bank,
        txs: &[(&[u8], &SanitizedTransaction)],
        progress: &mut (dyn FnMut(&Bank) + Send),
    ) -> Result<Vec<(usize, Refusal)>, BankError> {
        self.pool
            .install(|| self.produce_on_pool(bank, txs, progress))
    }

    fn produce_on_pool(
        &self,
        bank: &mut Bank,
        txs: &[(&[u8], &SanitizedTransaction)],
        progress: &mut (dyn FnMut(&Bank) + Send),
    ) -> Result<Vec<(usize, Refusal)>, BankError> {
        let slot = bank.slot();
        if bank.open_slot_len() != 0 {
            return Err(BankError::OpenSlotNotEmpty {
                slot,
                transactions: bank.open_slot_len(),
            });
        }
        let (db, executor) = (Arc::clone(bank.accounts_db()), Arc::clone(bank.executor()));
        let prepared: Vec<Result<(Prepared, u64), TransactionError>> = txs
            .par_iter()
            .map(|(_, tx)| {
                let mut tx = (*tx).clone();
                tx.resolve(&AccountsView(&db), slot)?;
                let priority = ComputeBudget::from_message(tx.message())
                    .map_or(0, |budget| budget.compute_unit_price);
                let (locks, write_len) = executor.lock_list(&tx);
                Ok((
                    Prepared {
                        tx,
                        locks,
                        write_len,
                    },
                    priority,
                ))
            })
            .collect();
        let mut produce = Produce {
            refused: Vec::new(),
            candidates: Vec::with_capacity(prepared.len()),
            positions: Vec::with_capacity(prepared.len()),
            priorities: Vec::with_capacity(prepared.len()),
            admitted: Vec::new(),
            tracker: CostTracker::new(),
        };
        for (position, prepared) in prepared.iter().enumerate() {
            match prepared {
                Ok((prepared, priority)) => {
                    produce.candidates.push(prepared);
                    produce.positions.push(position);
                    produce.priorities.push(*priority);
                }
                Err(error) => produce
                    .refused
                    .push((position, Refusal::NotAdmitted(error.clone()))),
            }
        }
        // Highest fee first; a stable sort keeps arrival order among equals.
        let mut order: Vec<usize> = (0..produce.candidates.len()).collect();
        order.sort_by_key(|&index| std::cmp::Reverse(produce.priorities[index]));
        produce.candidates = order
            .iter()
            .map(|&index| produce.candidates[index])
            .collect();
        produce.positions = order
            .iter()
            .map(|&index| produce.positions[index])
            .collect();
        produce.priorities = order
            .iter()
            .map(|&index| produce.priorities[index])
            .collect();

        let programs = ProgramAccounts::read(&db, &executor)?;
        let source = Source {
            db: &db,
            programs: &programs,
            executor: &executor,
            slot,
        };
        let candidates = produce.candidates.clone();
        let outcome = self.with_banking_threads(&source, &candidates, |work, done| {
            produce.run(bank, txs, self.threads, (work, done), progress)
        });
        if let Err(error) = outcome {
            for &index in &produce.admitted {
                bank.forget(&produce.candidates[index].tx);
            }
            bank.discard_open_slot()?;
            return Err(error.unwrap_or(BankError::ExecutionPanicked { slot }));
        }
        let mut refused = produce.refused;
        refused.sort_by_key(|(position, _)| *position);
        Ok(refused)
    }
}

/// The produce mode's state: candidates in the order they are offered (highest priority
/// first), and what the block holds so far.
struct Produce<'a> {
    refused: Vec<(usize, Refusal)>,
    candidates: Vec<&'a Prepared>,
    /// Each candidate's position in the caller's list.
    positions: Vec<usize>,
    priorities: Vec<u64>,
    /// Candidates admitted into the slot, to forget if the slot is discarded.
    admitted: Vec<usize>,
    /// What the block holds: the real cost of those done, and the estimate of those in
    /// flight.
    tracker: CostTracker,
}

impl Produce<'_> {
    /// Offers the candidates to the scheduler a window at a time, each only if its
    /// estimated cost still fits the block, and records each as it completes, replacing
    /// its estimate with its real cost. `Err(None)`: a banking thread failed.
    fn run(
        &mut self,
        bank: &mut Bank,
        txs: &[(&[u8], &SanitizedTransaction)],
        threads: usize,
        (work, done): (&[Sender<Work>], &Receiver<Done>),
        progress: &mut (dyn FnMut(&Bank) + Send),
    ) -> Result<(), Option<BankError>> {
        let config = SchedulerConfig::pipeline(threads);
        let mut scheduler = Scheduler::new(config).map_err(|_| None)?;
        // Enough to keep every thread's batches full; small enough that what is reserved
        // at the estimate, not the real cost, leaves little of the block unused.
        let window = threads
            .saturating_mul(config.thread_batches_max)
            .saturating_mul(config.batch_target)
            .saturating_mul(2);
        let mut estimates: Vec<Option<TransactionCost>> = vec![None; self.candidates.len()];
        let (mut next, mut outstanding) = (0usize, 0usize);
        loop {
            while outstanding < window && next < self.candidates.len() {
                let index = next;
                next = next.saturating_add(1);
                let prepared = self.candidates[index];
                let writable = &prepared.locks[..prepared.write_len];
                let estimate = TransactionCost::estimate(&prepared.tx, prepared.write_len);
                if let Err(limit) = self.tracker.try_add(&estimate, writable) {
                    self.refused
                        .push((self.positions[index], Refusal::OverLimit(limit)));
                    continue;
                }
                if let Err(error) = bank.admit(&prepared.tx) {
                    self.tracker.remove(&estimate, writable);
                    self.refused
                        .push((self.positions[index], Refusal::NotAdmitted(error)));
                    continue;
                }
                self.admitted.push(index);
                scheduler
                    .push(PendingTx {
                        id: index as u64,
                        priority: self.priorities[index],
                        accounts: prepared.locks.clone(),
                        write_len: prepared.write_len,
                    })
                    .map_err(|_| None)?;
                estimates[index] = Some(estimate);
                outstanding = outstanding.saturating_add(1);
            }
            dispatch(&mut scheduler, work).map_err(|()| None)?;
            if outstanding == 0 {
                return Ok(());
            }
            let completed = next_done(&mut scheduler, done).map_err(|()| None)?;
            let recorded_before = bank.open_slot_len();
            for (index, result) in completed {
                outstanding = outstanding.saturating_sub(1);
                let prepared = self.candidates.get(index).ok_or(None)?;
                let writable = &prepared.locks[..prepared.write_len];
                if let Some(estimate) = estimates.get_mut(index).and_then(Option::take) {
                    self.tracker.remove(&estimate, writable);
                }
                match result.map_err(|error| Some(BankError::from(error)))? {
                    Ok(executed) => {
                        // It consumed at most its limit, so it fits where its estimate did.
                        let cost = TransactionCost::new(
                            &prepared.tx,
                            prepared.write_len,
                            executed.compute_units_consumed,
                        );
                        self.tracker.add(&cost, writable);
                        let wire = txs[self.positions[index]].0;
                        bank.record(wire.to_vec(), &prepared.tx, &executed);
                    }
                    Err(error) => {
                        bank.forget(&prepared.tx);
                        self.refused
                            .push((self.positions[index], Refusal::Rejected(error)));
                    }
                }
            }
            if bank.open_slot_len() > recorded_before {
                progress(bank);
            }
        }
    }
}
