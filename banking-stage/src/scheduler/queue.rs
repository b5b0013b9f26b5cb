//! The pending queue: transactions in scheduling order, with aging.
//!
//! Order is (aged first, then priority descending, then arrival ascending). A transaction is
//! *aged* once `age_limit` newer transactions have been accepted after it; aged
//! transactions go before all others and among themselves strictly by arrival, so nothing
//! that arrives later can pass them again. Aging counts arrivals rather than passes so
//! that how often the caller runs passes does not change the order.
//!
//! Because a transaction ages no later than any transaction that arrived after it, two
//! transactions of equal priority stay in arrival order whether or not either has aged.

use std::collections::{BTreeMap, VecDeque};

use braid_primitives::Pubkey;

use braid_primitives::KeyHasherBuilder;

use super::hash::LockKey;

/// Accounts per transaction whose hashes are kept; later ones are hashed when needed.
pub const HASHED_ACCOUNTS_INLINE: usize = 4;

/// A position in the queue; smaller goes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueKey {
    /// 0 for aged transactions, 1 for the rest.
    tier: u8,
    /// `u64::MAX - priority`, or 0 once aged.
    rank: u64,
    /// Arrival sequence number.
    seq: u64,
}

const TIER_AGED: u8 = 0;
const TIER_FRESH: u8 = 1;

/// A waiting transaction's locks.
#[derive(Debug)]
pub struct QueuedTx {
    /// The caller's id.
    pub id: u64,
    /// Written accounts first, then read accounts; no duplicates.
    pub accounts: Vec<Pubkey>,
    /// How many of `accounts` are written.
    pub write_len: usize,
    /// Hashes of the first [`HASHED_ACCOUNTS_INLINE`] accounts.
    pub hashes: [u64; HASHED_ACCOUNTS_INLINE],
}

impl QueuedTx {
    /// Takes `accounts` (written first, no duplicates) and hashes the first few.
    pub fn new(
        id: u64,
        accounts: Vec<Pubkey>,
        write_len: usize,
        hasher: &KeyHasherBuilder,
    ) -> Self {
        let mut hashes = [0; HASHED_ACCOUNTS_INLINE];
        for (hash, key) in hashes.iter_mut().zip(&accounts) {
            *hash = LockKey::new(*key, hasher).hash();
        }
        Self {
            id,
            accounts,
            write_len,
            hashes,
        }
    }

    /// Every account with whether it is written.
    pub fn accesses<'a>(
        &'a self,
        hasher: &'a KeyHasherBuilder,
    ) -> impl Iterator<Item = (LockKey, bool)> + 'a {
        self.accounts.iter().enumerate().map(move |(index, key)| {
            let lock_key = match self.hashes.get(index) {
                Some(&hash) => LockKey::from_parts(hash, *key),
                None => LockKey::new(*key, hasher),
            };
            (lock_key, index < self.write_len)
        })
    }
}

/// Waiting transactions in scheduling order.
#[derive(Debug, Default)]
pub struct PendingQueue {
    /// Queue position → index in `slots`; the transactions live outside the tree so its
    /// nodes stay small and cache-friendly.
    order: BTreeMap<QueueKey, u32>,
    slots: Vec<Option<QueuedTx>>,
    free_slots: Vec<u32>,
    /// The rank of each transaction by arrival, `None` once it has left the queue; index 0 is
    /// sequence number `arrivals_base`. Only aging reads it, to find a transaction's key.
    arrivals: VecDeque<Option<u64>>,
    arrivals_base: u64,
    next_seq: u64,
    /// Every sequence number below this one has been considered for aging.
    aged_below: u64,
}

impl PendingQueue {
    /// Adds a transaction behind every older one of the same priority.
    pub fn push(&mut self, priority: u64, tx: QueuedTx) {
        let rank = u64::MAX.saturating_sub(priority);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        self.arrivals.push_back(Some(rank));
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(tx);
                slot
            }
            None => {
                // The caller bounds the queue far below u32::MAX transactions.
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some(tx));
                slot
            }
        };
        self.order.insert(
            QueueKey {
                tier: TIER_FRESH,
                rank,
                seq,
            },
            slot,
        );
    }

    /// Moves every transaction with at least `age_limit` newer arrivals to the aged tier;
    /// returns how many moved.
    pub fn age(&mut self, age_limit: u64) -> usize {
        let limit_seq = self.next_seq.saturating_sub(age_limit);
        let mut moved = 0usize;
        let mut seq = self.aged_below.max(self.arrivals_base);
        while seq < limit_seq {
            if let Some(rank) = self.arrival(seq) {
                let fresh = QueueKey {
                    tier: TIER_FRESH,
                    rank,
                    seq,
                };
                if let Some(slot) = self.order.remove(&fresh) {
                    self.order.insert(
                        QueueKey {
                            tier: TIER_AGED,
                            rank: 0,
                            seq,
                        },
                        slot,
                    );
                    moved = moved.saturating_add(1);
                }
            }
            seq = seq.saturating_add(1);
        }
        self.aged_below = self.aged_below.max(limit_seq);
        moved
    }

    fn arrival_index(&self, seq: u64) -> Option<usize> {
        usize::try_from(seq.checked_sub(self.arrivals_base)?).ok()
    }

    fn arrival(&self, seq: u64) -> Option<u64> {
        self.arrivals
            .get(self.arrival_index(seq)?)
            .copied()
            .flatten()
    }

    /// Waiting transactions in scheduling order.
    pub fn iter(&self) -> impl Iterator<Item = (&QueueKey, &QueuedTx)> {
        self.order.iter().filter_map(|(key, &slot)| {
            let tx = self.slots.get(slot as usize)?.as_ref();
            debug_assert!(tx.is_some(), "queue entry without its transaction");
            Some((key, tx?))
        })
    }

    /// Takes a transaction out of the queue.
    pub fn remove(&mut self, key: &QueueKey) -> Option<QueuedTx> {
        let slot = self.order.remove(key)?;
        let tx = self.slots.get_mut(slot as usize)?.take()?;
        self.free_slots.push(slot);
        if let Some(index) = self.arrival_index(key.seq)
            && let Some(slot) = self.arrivals.get_mut(index)
        {
            *slot = None;
        }
        // Only the front is trimmed: the log spans from the oldest waiting transaction to
        // the newest, which aging keeps short.
        while self.arrivals.front().is_some_and(Option::is_none) {
            self.arrivals.pop_front();
            self.arrivals_base = self.arrivals_base.saturating_add(1);
        }
        Some(tx)
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(id: u64) -> QueuedTx {
        QueuedTx::new(id, Vec::new(), 0, &KeyHasherBuilder::new())
    }

    fn ids(queue: &PendingQueue) -> Vec<u64> {
        queue.iter().map(|(_, tx)| tx.id).collect()
    }

    #[test]
    fn priority_then_arrival() {
        let mut queue = PendingQueue::default();
        queue.push(1, tx(10));
        queue.push(5, tx(11));
        queue.push(1, tx(12));
        queue.push(5, tx(13));
        assert_eq!(ids(&queue), [11, 13, 10, 12]);
    }

    #[test]
    fn aged_transactions_go_first_in_arrival_order() {
        let mut queue = PendingQueue::default();
        queue.push(1, tx(0));
        queue.push(2, tx(1));
        queue.push(9, tx(2));
        queue.push(9, tx(3));
        // Two newer arrivals age the first two.
        assert_eq!(queue.age(2), 2);
        assert_eq!(ids(&queue), [0, 1, 2, 3]);
        assert_eq!(queue.age(2), 0, "aging is done once");
    }

    #[test]
    fn removal_trims_the_arrival_log() {
        let mut queue = PendingQueue::default();
        for id in 0..4 {
            queue.push(id, tx(id));
        }
        let keys: Vec<QueueKey> = queue.iter().map(|(key, _)| *key).collect();
        for key in &keys {
            assert!(queue.remove(key).is_some());
        }
        assert!(queue.is_empty());
        assert!(queue.arrivals.is_empty());
        assert_eq!(queue.arrivals_base, 4);
    }
}
