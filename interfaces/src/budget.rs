//! The CPU budget: thread CPU time spent in each pipeline stage, as typed counters.
//!
//! Every figure is CPU time of the thread doing the work ([`braid_primitives::cpu_time`]),
//! read around a chunk, a batch or a loop step rather than around one transaction (a
//! reading costs a few hundred nanoseconds). Two stages share a thread's reading by wall-time
//! share: a banking thread's batch CPU is split between execution and storing the writes in
//! the proportion of the (cheap, monotonic) wall time each took. Divided by the committed
//! transactions, the counters give CPU microseconds per transaction per stage: the table
//! `braid bench` prints and BENCHMARKS.md records.

use std::sync::atomic::{AtomicU64, Ordering};

/// A measured stage, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Parse and sanitize the wire bytes, extract the lock set and priority (sigverify
    /// workers).
    Parse,
    /// Verify signatures (sigverify workers).
    Sigverify,
    /// Admission: recent blockhash, status cache (scheduler thread).
    Admit,
    /// Lock bookkeeping and dispatch of batches (scheduler thread).
    Schedule,
    /// Run the programs, including account reads (banking threads).
    Execute,
    /// Store each transaction's writes in the open slot (banking threads).
    Store,
    /// Record completions in the block and send events (scheduler thread).
    Record,
    /// Fold the slot's writes into the state hash (all cores).
    HashFold,
    /// Append the block to the ledger and sync it.
    LedgerAppend,
    /// Commit the accounts database (append records, msync, fsync the manifest).
    AccountsCommit,
}

/// Every stage, in pipeline order.
pub const STAGES: [Stage; 10] = [
    Stage::Parse,
    Stage::Sigverify,
    Stage::Admit,
    Stage::Schedule,
    Stage::Execute,
    Stage::Store,
    Stage::Record,
    Stage::HashFold,
    Stage::LedgerAppend,
    Stage::AccountsCommit,
];

impl Stage {
    /// The stage's name in reports (snake case).
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Parse => "parse",
            Stage::Sigverify => "sigverify",
            Stage::Admit => "admit",
            Stage::Schedule => "schedule",
            Stage::Execute => "execute",
            Stage::Store => "store",
            Stage::Record => "record",
            Stage::HashFold => "hash_fold",
            Stage::LedgerAppend => "ledger_append",
            Stage::AccountsCommit => "accounts_commit",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

const _: () = {
    let mut index = 0;
    while index < STAGES.len() {
        assert!(
            STAGES[index].index() == index,
            "STAGES lists every stage in order"
        );
        index += 1;
    }
};

/// CPU nanoseconds per stage, added to by whichever thread does the work.
#[derive(Debug, Default)]
pub struct CpuBudget {
    ns: [AtomicU64; STAGES.len()],
}

impl CpuBudget {
    /// Adds `ns` CPU nanoseconds to `stage`.
    pub fn add(&self, stage: Stage, ns: u64) {
        self.ns[stage.index()].fetch_add(ns, Ordering::Relaxed);
    }

    /// CPU nanoseconds spent in `stage` so far.
    pub fn get(&self, stage: Stage) -> u64 {
        self.ns[stage.index()].load(Ordering::Relaxed)
    }

    /// Every stage with its CPU nanoseconds, in pipeline order.
    pub fn snapshot(&self) -> Vec<(Stage, u64)> {
        STAGES
            .iter()
            .map(|&stage| (stage, self.get(stage)))
            .collect()
    }
}

/// Splits `cpu_ns` between two parts in proportion to their wall times (all to the first
/// when neither took measurable time).
pub fn split_by_wall(cpu_ns: u64, first_wall_ns: u64, second_wall_ns: u64) -> (u64, u64) {
    let total = u128::from(first_wall_ns).saturating_add(u128::from(second_wall_ns));
    let first = u128::from(cpu_ns)
        .saturating_mul(u128::from(first_wall_ns))
        .checked_div(total)
        .map_or(cpu_ns, |first| {
            u64::try_from(first).unwrap_or(cpu_ns).min(cpu_ns)
        });
    (first, cpu_ns.saturating_sub(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_per_stage() {
        let budget = CpuBudget::default();
        budget.add(Stage::Execute, 5);
        budget.add(Stage::Execute, 7);
        budget.add(Stage::HashFold, 1);
        assert_eq!(budget.get(Stage::Execute), 12);
        let snapshot = budget.snapshot();
        assert_eq!(snapshot.len(), STAGES.len());
        assert_eq!(snapshot[Stage::HashFold.index()], (Stage::HashFold, 1));
        assert_eq!(snapshot[0], (Stage::Parse, 0));
    }

    #[test]
    fn wall_shares_split_cpu_exactly() {
        assert_eq!(split_by_wall(100, 3, 1), (75, 25));
        assert_eq!(split_by_wall(100, 0, 0), (100, 0));
        assert_eq!(
            split_by_wall(u64::MAX, u64::MAX, u64::MAX),
            (u64::MAX / 2, u64::MAX - u64::MAX / 2)
        );
        let (a, b) = split_by_wall(7, 1, 2);
        assert_eq!(a + b, 7);
    }
}
