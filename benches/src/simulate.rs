//! Parallelism beyond this machine: the real scheduler, fed a run's own transactions with
//! their measured execution costs, on `N` simulated banking threads.
//!
//! 1. **Costs** ([`measure_costs`]): every transaction executes once, serially and in
//!    submission order, on an in-memory bank at the run's genesis, through the same
//!    [`Bank::process`] lifecycle as every other path; each one's wall time is its cost.
//! 2. **Schedule** ([`simulate`]): the pipeline's [`Scheduler`] (same configuration, same
//!    sequential batches) packs the transactions for `N` threads. Time is simulated: a thread
//!    runs its batches in order, a batch takes the sum of its transactions' costs, and a batch
//!    completes (releasing its locks) at its simulated end. The makespan speedup is the serial
//!    sum of costs over the simulated makespan.
//! 3. **Bound** ([`critical_path_ns`]): with unlimited threads a transaction can start only
//!    when every earlier transaction it conflicts with has finished, so the longest such
//!    chain bounds any schedule. The speedup bound at `N` threads is
//!    `total / max(critical path, total / N)`.
//!
//! What it leaves out, by design: scheduler and commit overhead (measured separately in the
//! CPU budget) and memory-bandwidth contention between real cores.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use braid_banking_stage::scheduler::{BatchMode, PendingTx, Scheduler, SchedulerConfig};
use braid_ledger::bank::{Bank, Outcome};
use braid_ledger::genesis::Genesis;
use braid_primitives::Pubkey;
use braid_runtime::executor::Executor;
use braid_runtime::sanitized::SanitizedTransaction;
use std::sync::Arc;

use crate::BenchError;

/// One transaction as the simulation sees it.
#[derive(Debug, Clone)]
pub struct CostedTx {
    /// Accounts it writes.
    pub writes: Vec<Pubkey>,
    /// Accounts it only reads.
    pub reads: Vec<Pubkey>,
    /// Measured execution cost, in nanoseconds.
    pub cost_ns: u64,
}

/// The simulated speedup at one thread count.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimulatedThreads {
    /// Simulated banking threads.
    pub threads: usize,
    /// Serial cost over the simulated makespan.
    pub speedup: f64,
    /// The most any schedule could reach at this thread count (critical-path bound).
    pub bound: f64,
}

/// Executes `wires` serially on an in-memory bank at `genesis` and returns each admitted
/// transaction with its lock set and its measured cost (rejected ones are left out: the
/// pipeline never schedules them).
pub fn measure_costs(
    genesis: &Genesis,
    executor: Arc<Executor>,
    wires: &[Vec<u8>],
) -> Result<Vec<CostedTx>, BenchError> {
    let mut bank = Bank::in_memory(genesis, Arc::clone(&executor))?;
    let mut costed = Vec::with_capacity(wires.len());
    for wire in wires {
        let Ok(tx) = SanitizedTransaction::try_from_bytes(wire) else {
            continue;
        };
        let started = Instant::now();
        let outcome = bank.process(wire, &tx)?;
        let cost_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Outcome::Recorded(_) = outcome {
            let (writes, reads) = executor.lock_set(&tx);
            costed.push(CostedTx {
                writes,
                reads,
                cost_ns: cost_ns.max(1),
            });
        }
    }
    Ok(costed)
}

/// The makespan, in nanoseconds, of `txs` scheduled by the real scheduler on `threads`
/// simulated threads.
pub fn simulated_makespan_ns(txs: &[CostedTx], threads: usize) -> Result<u64, BenchError> {
    let config = SchedulerConfig {
        threads,
        batch_mode: BatchMode::Sequential,
        ..SchedulerConfig::default()
    };
    let pending_max = config.pending_max;
    let mut scheduler =
        Scheduler::new(config).map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
    // Batches in flight by simulated end time (then id, for a total order).
    let mut ends: BTreeMap<(u64, u64), ()> = BTreeMap::new();
    let mut free_at = vec![0u64; threads];
    let mut now = 0u64;
    let mut next = 0usize;
    let mut makespan = 0u64;
    loop {
        // Admit as the pipeline does: while there is room.
        while next < txs.len() && scheduler.pending_len() < pending_max / 2 {
            let tx = &txs[next];
            scheduler
                .push(PendingTx::new(next as u64, 0, tx.writes.clone(), &tx.reads))
                .map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
            next = next.saturating_add(1);
        }
        for batch in scheduler.schedule() {
            let duration: u64 = batch
                .txs
                .iter()
                .filter_map(|id| txs.get(*id as usize))
                .map(|tx| tx.cost_ns)
                .sum();
            let thread = &mut free_at[batch.thread];
            let start = now.max(*thread);
            let end = start.saturating_add(duration);
            *thread = end;
            ends.insert((end, batch.id), ());
        }
        let Some(((end, id), ())) = ends.pop_first() else {
            // Nothing in flight and this pass scheduled nothing: done, or stuck.
            if next >= txs.len() && scheduler.pending_len() == 0 {
                return Ok(makespan);
            }
            return Err(BenchError::Setup(
                "the simulated scheduler stalled with work pending".into(),
            ));
        };
        now = end;
        makespan = makespan.max(end);
        scheduler
            .complete(id)
            .map_err(|error| BenchError::Setup(error.to_string()))?;
    }
}

/// The longest chain of conflicting transactions, in nanoseconds: with unlimited threads,
/// each transaction starts when every earlier one it conflicts with has finished.
pub fn critical_path_ns(txs: &[CostedTx]) -> u64 {
    #[derive(Default, Clone, Copy)]
    struct Account {
        /// When the last writer finishes.
        written: u64,
        /// When the last reader since that write finishes.
        read: u64,
    }
    let mut accounts: HashMap<Pubkey, Account> = HashMap::new();
    let mut longest = 0u64;
    for tx in txs {
        let mut start = 0u64;
        for key in &tx.writes {
            let account = accounts.get(key).copied().unwrap_or_default();
            start = start.max(account.written).max(account.read);
        }
        for key in &tx.reads {
            start = start.max(accounts.get(key).map_or(0, |account| account.written));
        }
        let finish = start.saturating_add(tx.cost_ns);
        for key in &tx.writes {
            accounts.insert(
                *key,
                Account {
                    written: finish,
                    read: 0,
                },
            );
        }
        for key in &tx.reads {
            let account = accounts.entry(*key).or_default();
            account.read = account.read.max(finish);
        }
        longest = longest.max(finish);
    }
    longest
}

/// The simulated speedup and its bound at each of `thread_counts`.
pub fn simulate(
    txs: &[CostedTx],
    thread_counts: &[usize],
) -> Result<Vec<SimulatedThreads>, BenchError> {
    let total: u64 = txs.iter().map(|tx| tx.cost_ns).sum();
    let critical = critical_path_ns(txs).max(1);
    thread_counts
        .iter()
        .map(|&threads| {
            let makespan = simulated_makespan_ns(txs, threads)?.max(1);
            let floor = critical.max(total.div_ceil(threads.max(1) as u64)).max(1);
            Ok(SimulatedThreads {
                threads,
                speedup: total as f64 / makespan as f64,
                bound: total as f64 / floor as f64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(writes: &[u8], reads: &[u8], cost_ns: u64) -> CostedTx {
        let key = |byte: &u8| Pubkey::new_from_array([*byte; 32]);
        CostedTx {
            writes: writes.iter().map(key).collect(),
            reads: reads.iter().map(key).collect(),
            cost_ns,
        }
    }

    #[test]
    fn independent_transactions_spread_over_every_thread() {
        let txs: Vec<CostedTx> = (0..=255u8).map(|i| tx(&[i], &[], 1_000)).collect();
        assert_eq!(critical_path_ns(&txs), 1_000);
        let results = simulate(&txs, &[1, 4]).unwrap();
        assert_eq!(results[0].speedup, 1.0);
        assert_eq!(results[0].bound, 1.0);
        assert_eq!(results[1].bound, 4.0);
        assert!(
            results[1].speedup > 3.0 && results[1].speedup <= 4.0,
            "{results:?}"
        );
    }

    #[test]
    fn one_hot_account_is_one_chain() {
        let txs: Vec<CostedTx> = (0..64u8).map(|i| tx(&[0, i + 1], &[], 500)).collect();
        assert_eq!(critical_path_ns(&txs), 64 * 500);
        let results = simulate(&txs, &[8]).unwrap();
        assert_eq!(results[0].bound, 1.0);
        assert_eq!(results[0].speedup, 1.0);
    }

    #[test]
    fn readers_share_and_writers_wait_for_them() {
        // Two readers of account 9 run side by side; the writer of 9 waits for both.
        let txs = [tx(&[1], &[9], 100), tx(&[2], &[9], 300), tx(&[9], &[], 50)];
        assert_eq!(critical_path_ns(&txs), 350);
    }
}
