//! Performance samples for getRecentPerformanceSamples: how many transactions and slots
//! each minute saw, as Solana's explorers and wallets read them to show a node's rate.
//!
//! Fed by the committed slots; a sample closes at the first commit at least
//! [`SAMPLE_PERIOD`] after the previous one closed, so its `samplePeriodSecs` is the
//! period it actually covered, rounded down. The newest [`SAMPLES_RETAINED`] are kept.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use braid_interfaces::ExecutionEvent;

/// How long one sample covers (Solana's 60 s).
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(60);
/// Samples kept: twelve hours of them (Solana's 720).
pub const SAMPLES_RETAINED: usize = 720;

/// One closed sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceSample {
    /// The last slot it covers.
    pub slot: u64,
    /// Transactions committed in it.
    pub num_transactions: u64,
    /// The same: Braid has no vote transactions.
    pub num_non_vote_transactions: u64,
    /// Slots committed in it.
    pub num_slots: u64,
    /// Seconds it covered.
    pub sample_period_secs: u16,
}

/// The recent samples and the one being counted.
#[derive(Debug)]
pub struct PerformanceSamples {
    period: Duration,
    closed: VecDeque<PerformanceSample>,
    started: Instant,
    transactions: u64,
    slots: u64,
}

impl PerformanceSamples {
    /// Samples of `period` each, counting from `now`.
    pub fn new(period: Duration, now: Instant) -> Self {
        Self {
            period,
            closed: VecDeque::new(),
            started: now,
            transactions: 0,
            slots: 0,
        }
    }

    /// Counts a committed slot seen at `now`, closing the sample if its period is over.
    pub fn apply(&mut self, event: &ExecutionEvent, now: Instant) {
        let ExecutionEvent::SlotCommitted(commit) = event else {
            return;
        };
        self.transactions = self
            .transactions
            .saturating_add(commit.signatures.len() as u64);
        self.slots = self.slots.saturating_add(1);
        let covered = now.saturating_duration_since(self.started);
        if covered >= self.period {
            self.closed.push_front(PerformanceSample {
                slot: commit.slot,
                num_transactions: self.transactions,
                num_non_vote_transactions: self.transactions,
                num_slots: self.slots,
                sample_period_secs: u16::try_from(covered.as_secs()).unwrap_or(u16::MAX),
            });
            self.closed.truncate(SAMPLES_RETAINED);
            (self.started, self.transactions, self.slots) = (now, 0, 0);
        }
    }

    /// Up to `limit` closed samples, newest first.
    pub fn recent(&self, limit: usize) -> Vec<PerformanceSample> {
        self.closed.iter().take(limit).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_ledger::bank::SlotCommit;
    use braid_runtime::{Hash, Signature};

    fn commit(slot: u64, transactions: usize) -> ExecutionEvent {
        ExecutionEvent::SlotCommitted(SlotCommit {
            slot,
            bank_hash: Hash::default(),
            state_hash: Hash::default(),
            signatures: vec![Signature::default(); transactions],
            ledger_offset: None,
            block_time: None,
            cost: Default::default(),
        })
    }

    #[test]
    fn a_sample_closes_once_its_period_is_over_and_the_newest_come_first() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut samples = PerformanceSamples::new(Duration::from_secs(2), start);
        samples.apply(&commit(1, 3), at(400));
        samples.apply(&commit(2, 0), at(800));
        assert!(samples.recent(10).is_empty(), "nothing closed yet");
        samples.apply(&commit(3, 5), at(2_100));
        samples.apply(&commit(4, 7), at(4_500));
        assert_eq!(
            samples.recent(10),
            vec![
                PerformanceSample {
                    slot: 4,
                    num_transactions: 7,
                    num_non_vote_transactions: 7,
                    num_slots: 1,
                    sample_period_secs: 2,
                },
                PerformanceSample {
                    slot: 3,
                    num_transactions: 8,
                    num_non_vote_transactions: 8,
                    num_slots: 3,
                    sample_period_secs: 2,
                },
            ]
        );
        assert_eq!(samples.recent(1).len(), 1);
        // Other events count nothing.
        samples.apply(
            &ExecutionEvent::Rejected {
                signature: Signature::default(),
                error: braid_runtime::TransactionError::Busy,
            },
            at(9_000),
        );
        assert_eq!(samples.recent(10).len(), 2);
    }
}
