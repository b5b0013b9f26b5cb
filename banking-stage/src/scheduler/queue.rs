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
//!
//! # Layout
//!
//! One FIFO per priority (a *lane*), in a map by priority, and one FIFO for aged
//! transactions. Pushing appends to a lane; taking a transaction out leaves a dead entry
//! behind (a generation number tells live entries from dead ones), which scanning skips and
//! which is dropped once it reaches the lane's front, or by compaction when a lane is mostly
//! dead. So queueing and taking are O(1) apart from the lane lookup, where an ordered tree
//! of every transaction cost the scheduler two tree operations per transaction.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;

use super::locks::AccountIndex;

/// A lane is compacted when it holds at least this many dead entries and more dead than
/// live ones, so a scan never walks more than about twice the live entries.
const LANE_COMPACT_DEAD_MIN: usize = 64;

/// A waiting transaction's locks.
#[derive(Debug)]
pub struct QueuedTx {
    /// The caller's id.
    pub id: u64,
    /// Written accounts first, then read accounts; no duplicates.
    pub accounts: Vec<AccountIndex>,
    /// How many of `accounts` are written.
    pub write_len: usize,
}

impl QueuedTx {
    /// Every account with whether it is written.
    pub fn accesses(&self) -> impl Iterator<Item = (AccountIndex, bool)> + '_ {
        self.accounts
            .iter()
            .enumerate()
            .map(|(position, &index)| (index, position < self.write_len))
    }
}

/// A queued transaction's place: its slot and the generation it was queued under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    slot: u32,
    /// 64 bits so a slot reused for as long as the node runs never comes back to a
    /// generation one of its old dead entries still carries.
    generation: u64,
}

/// One FIFO of entries, some of them dead.
#[derive(Debug, Default)]
struct Lane {
    entries: VecDeque<Entry>,
    dead: usize,
}

impl Lane {
    /// Drops the dead entries among the first `walked`, keeping the order.
    fn compact_front(&mut self, slots: &[Slot], walked: usize) {
        let walked = walked.min(self.entries.len());
        let live: Vec<Entry> = self
            .entries
            .drain(..walked)
            .filter(|entry| is_live(slots, entry))
            .collect();
        self.dead = self.dead.saturating_sub(walked.saturating_sub(live.len()));
        for entry in live.into_iter().rev() {
            self.entries.push_front(entry);
        }
    }

    /// Compacts a lane that is mostly dead as a whole: each entry dies once, so compaction
    /// costs O(1) per entry over time.
    fn compact_if_mostly_dead(&mut self, slots: &[Slot]) {
        if self.dead >= LANE_COMPACT_DEAD_MIN && self.dead.saturating_mul(2) > self.entries.len() {
            self.entries.retain(|entry| is_live(slots, entry));
            self.dead = 0;
        }
    }

    /// Drops the dead entries at the front.
    fn pop_dead_front(&mut self, slots: &[Slot]) {
        while self
            .entries
            .front()
            .is_some_and(|entry| !is_live(slots, entry))
        {
            self.entries.pop_front();
            self.dead = self.dead.saturating_sub(1);
        }
    }
}

/// Whether `entry` is its slot's current entry (a taken or moved transaction leaves a dead
/// one behind).
fn is_live(slots: &[Slot], entry: &Entry) -> bool {
    slots
        .get(entry.slot as usize)
        .is_some_and(|slot| slot.generation == entry.generation)
}

/// Which lane a transaction is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LaneId {
    Aged,
    /// `u64::MAX - priority`, so ascending rank is descending priority.
    Rank(u64),
}

#[derive(Debug)]
struct Slot {
    generation: u64,
    lane: LaneId,
    seq: u64,
    tx: Option<QueuedTx>,
}

/// What a visitor does with the transaction it was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    /// Leave it waiting and go on.
    Keep,
    /// Take it out of the queue and go on.
    Take,
    /// Leave it waiting and stop.
    Stop,
}

/// Waiting transactions in scheduling order.
#[derive(Debug, Default)]
pub struct PendingQueue {
    aged: Lane,
    lanes: BTreeMap<u64, Lane>,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// The slot of each transaction by arrival, `None` once it has left the queue; index 0
    /// is sequence number `arrivals_base`. Only aging reads it.
    arrivals: VecDeque<Option<u32>>,
    arrivals_base: u64,
    next_seq: u64,
    /// Every sequence number below this one has been considered for aging.
    aged_below: u64,
    len: usize,
}

impl PendingQueue {
    /// Adds a transaction behind every older one of the same priority.
    pub fn push(&mut self, priority: u64, tx: QueuedTx) {
        let rank = u64::MAX.saturating_sub(priority);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        let lane = LaneId::Rank(rank);
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                entry.lane = lane;
                entry.seq = seq;
                entry.tx = Some(tx);
                slot
            }
            None => {
                // The caller bounds the queue far below u32::MAX transactions.
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Slot {
                    generation: 0,
                    lane,
                    seq,
                    tx: Some(tx),
                });
                slot
            }
        };
        let generation = self.slots[slot as usize].generation;
        self.arrivals.push_back(Some(slot));
        self.lanes
            .entry(rank)
            .or_default()
            .entries
            .push_back(Entry { slot, generation });
        self.len = self.len.saturating_add(1);
    }

    /// Moves every transaction with at least `age_limit` newer arrivals to the aged lane;
    /// returns how many moved.
    pub fn age(&mut self, age_limit: u64) -> usize {
        let limit_seq = self.next_seq.saturating_sub(age_limit);
        let mut moved = 0usize;
        let mut seq = self.aged_below.max(self.arrivals_base);
        while seq < limit_seq {
            let slot = self
                .arrivals
                .get(usize::try_from(seq.saturating_sub(self.arrivals_base)).unwrap_or(usize::MAX))
                .copied()
                .flatten();
            if let Some(slot) = slot
                && let LaneId::Rank(rank) = self.slots[slot as usize].lane
            {
                self.kill_in_rank_lane(slot, rank);
                let entry = &mut self.slots[slot as usize];
                entry.lane = LaneId::Aged;
                let generation = entry.generation;
                self.aged.entries.push_back(Entry { slot, generation });
                moved = moved.saturating_add(1);
            }
            seq = seq.saturating_add(1);
        }
        self.aged_below = self.aged_below.max(limit_seq);
        moved
    }

    /// Shows the waiting transactions to `visit` in scheduling order until it says
    /// [`Visit::Stop`] or the queue ends, and hands each it [`Visit::Take`]s to `taken`.
    ///
    /// Only the lanes the scan reaches are touched, so a pass that stops early costs the
    /// same however many distinct priorities wait.
    pub fn scan(
        &mut self,
        mut visit: impl FnMut(&QueuedTx) -> Visit,
        mut taken: impl FnMut(QueuedTx),
    ) {
        let mut next_lane = Some(LaneId::Aged);
        while let Some(lane_id) = next_lane {
            // The lane is out of the map while it is walked, so taking a transaction can
            // change everything else without looking the lane up again.
            let mut lane = match lane_id {
                LaneId::Aged => std::mem::take(&mut self.aged),
                LaneId::Rank(rank) => match self.lanes.remove(&rank) {
                    Some(lane) => lane,
                    None => break,
                },
            };
            let stop = self.scan_lane(&mut lane, &mut visit, &mut taken);
            next_lane = match lane_id {
                LaneId::Aged => self.lanes.keys().next().copied().map(LaneId::Rank),
                LaneId::Rank(rank) => self
                    .lanes
                    .range((Bound::Excluded(rank), Bound::Unbounded))
                    .next()
                    .map(|(&rank, _)| LaneId::Rank(rank)),
            };
            match lane_id {
                LaneId::Aged => self.aged = lane,
                LaneId::Rank(rank) => {
                    if !lane.entries.is_empty() {
                        self.lanes.insert(rank, lane);
                    }
                }
            }
            if stop {
                break;
            }
        }
    }

    /// Walks one lane (taken out of the queue by [`PendingQueue::scan`]); returns whether the
    /// visitor said stop.
    fn scan_lane(
        &mut self,
        lane: &mut Lane,
        visit: &mut impl FnMut(&QueuedTx) -> Visit,
        taken: &mut impl FnMut(QueuedTx),
    ) -> bool {
        let mut position = 0usize;
        let mut dead_walked = 0usize;
        let mut stop = false;
        while let Some(&entry) = lane.entries.get(position) {
            position = position.saturating_add(1);
            let Some(tx) = self.slots[entry.slot as usize]
                .tx
                .as_ref()
                .filter(|_| is_live(&self.slots, &entry))
            else {
                dead_walked = dead_walked.saturating_add(1);
                continue;
            };
            match visit(tx) {
                Visit::Keep => {}
                Visit::Stop => {
                    stop = true;
                    break;
                }
                Visit::Take => {
                    if let Some(tx) = self.take(entry.slot) {
                        lane.dead = lane.dead.saturating_add(1);
                        taken(tx);
                    }
                }
            }
        }
        // Entries taken behind a waiting one stay as dead entries that the next scan would
        // walk again: drop those this scan walked once they outnumber the live.
        if dead_walked >= LANE_COMPACT_DEAD_MIN && dead_walked.saturating_mul(2) > position {
            lane.compact_front(&self.slots, position);
        }
        // And a lane mostly dead as a whole (this scan took most of it) is compacted.
        lane.compact_if_mostly_dead(&self.slots);
        lane.pop_dead_front(&self.slots);
        stop
    }

    /// Marks the slot's current entry in rank lane `rank` dead (aging moved it), and keeps
    /// the lane's dead entries bounded: a lane left all dead goes, one mostly dead is
    /// compacted. Lanes a scan never reaches are thus never left holding dead entries.
    fn kill_in_rank_lane(&mut self, slot: u32, rank: u64) {
        let entry = &mut self.slots[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        let Some(mut lane) = self.lanes.remove(&rank) else {
            return;
        };
        lane.dead = lane.dead.saturating_add(1);
        lane.compact_if_mostly_dead(&self.slots);
        if lane.dead < lane.entries.len() {
            self.lanes.insert(rank, lane);
        }
    }

    /// Takes the transaction in `slot` out of the queue; its entry's lane counts it dead.
    fn take(&mut self, slot: u32) -> Option<QueuedTx> {
        let seq = self.slots.get(slot as usize)?.seq;
        let entry = &mut self.slots[slot as usize];
        let tx = entry.tx.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.free_slots.push(slot);
        self.len = self.len.saturating_sub(1);
        if let Some(arrival) = usize::try_from(seq.saturating_sub(self.arrivals_base))
            .ok()
            .and_then(|index| self.arrivals.get_mut(index))
        {
            *arrival = None;
        }
        // The log spans from the oldest waiting transaction to the newest, which aging keeps
        // short.
        while self.arrivals.front().is_some_and(Option::is_none) {
            self.arrivals.pop_front();
            self.arrivals_base = self.arrivals_base.saturating_add(1);
        }
        Some(tx)
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(id: u64) -> QueuedTx {
        QueuedTx {
            id,
            accounts: Vec::new(),
            write_len: 0,
        }
    }

    fn ids(queue: &mut PendingQueue) -> Vec<u64> {
        let mut ids = Vec::new();
        queue.scan(
            |tx| {
                ids.push(tx.id);
                Visit::Keep
            },
            |_| {},
        );
        ids
    }

    #[test]
    fn priority_then_arrival() {
        let mut queue = PendingQueue::default();
        queue.push(1, tx(10));
        queue.push(5, tx(11));
        queue.push(1, tx(12));
        queue.push(5, tx(13));
        assert_eq!(ids(&mut queue), [11, 13, 10, 12]);
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
        assert_eq!(ids(&mut queue), [0, 1, 2, 3]);
        assert_eq!(queue.age(2), 0, "aging is done once");
    }

    #[test]
    fn taking_leaves_the_rest_in_order_and_trims_the_arrival_log() {
        let mut queue = PendingQueue::default();
        for id in 0..200 {
            queue.push(id % 2, tx(id));
        }
        let mut taken = Vec::new();
        queue.scan(
            |tx| {
                if tx.id % 3 == 0 {
                    Visit::Take
                } else {
                    Visit::Keep
                }
            },
            |tx| taken.push(tx.id),
        );
        assert_eq!(taken.len(), 67);
        assert_eq!(queue.len(), 133);
        let left = ids(&mut queue);
        let mut expected: Vec<u64> = (0..200).filter(|id| id % 2 == 1 && id % 3 != 0).collect();
        expected.extend((0..200).filter(|id| id % 2 == 0 && id % 3 != 0));
        assert_eq!(left, expected);
        queue.scan(|_| Visit::Take, |_| {});
        assert!(queue.is_empty());
        assert!(queue.arrivals.is_empty());
        assert_eq!(queue.arrivals_base, 200);
        assert!(queue.lanes.is_empty());
    }

    #[test]
    fn a_mostly_dead_lane_is_compacted() {
        let mut queue = PendingQueue::default();
        for id in 0..1_000 {
            queue.push(1, tx(id));
        }
        // The front one stays; everything behind it goes.
        queue.scan(
            |tx| if tx.id == 0 { Visit::Keep } else { Visit::Take },
            |_| {},
        );
        let lane = queue.lanes.values().next().unwrap();
        assert_eq!(lane.entries.len(), 1);
        assert_eq!(lane.dead, 0);
    }

    #[test]
    fn lanes_emptied_by_aging_go_at_once() {
        let mut queue = PendingQueue::default();
        for id in 0..100 {
            queue.push(id, tx(id));
        }
        assert_eq!(queue.lanes.len(), 100);
        assert_eq!(queue.age(0), 100);
        assert!(
            queue.lanes.is_empty(),
            "no lane is left holding only dead entries"
        );
        assert_eq!(ids(&mut queue), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn stop_ends_the_scan() {
        let mut queue = PendingQueue::default();
        for id in 0..5 {
            queue.push(1, tx(id));
        }
        let mut seen = Vec::new();
        queue.scan(
            |tx| {
                seen.push(tx.id);
                if tx.id == 2 { Visit::Stop } else { Visit::Keep }
            },
            |_| {},
        );
        assert_eq!(seen, [0, 1, 2]);
    }
}
