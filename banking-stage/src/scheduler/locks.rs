//! The lock table: for each account, which thread holds its write locks and which threads
//! hold read locks, with counts so a thread's lock goes away with its last transaction.
//!
//! Locks are thread-aware: a lock held by thread `t` does not stop another transaction
//! from going to `t` too, behind it, because a thread runs its batches in order. So the
//! question the table answers is not "is this account free?" but "on which threads could
//! a transaction with this access run now?".

use std::collections::HashMap;

use super::hash::{LockKey, PassThroughBuild};

/// Most banking threads one scheduler can feed (the width of [`ThreadSet`]): two cores run
/// the real pipeline; the rest is for simulating wider machines.
pub const THREADS_MAX: usize = 32;

/// A set of thread indices below [`THREADS_MAX`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadSet(u32);

impl ThreadSet {
    /// No thread.
    pub const EMPTY: Self = Self(0);

    /// Threads `0..threads` (all of them when `threads >= THREADS_MAX`).
    pub fn first(threads: usize) -> Self {
        let missing = THREADS_MAX.saturating_sub(threads);
        Self(u32::MAX.checked_shr(missing as u32).unwrap_or(0))
    }

    /// Just `thread`.
    pub fn only(thread: usize) -> Self {
        Self(1u32.checked_shl(thread as u32).unwrap_or(0))
    }

    /// Whether `thread` is in the set.
    pub fn contains(self, thread: usize) -> bool {
        self.0 & Self::only(thread).0 != 0
    }

    /// Adds `thread`.
    pub fn insert(&mut self, thread: usize) {
        self.0 |= Self::only(thread).0;
    }

    /// Removes `thread`.
    pub fn remove(&mut self, thread: usize) {
        self.0 &= !Self::only(thread).0;
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The threads in both sets.
    pub fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The thread, when the set has exactly one.
    pub fn single(self) -> Option<usize> {
        (self.0.count_ones() == 1).then_some(self.0.trailing_zeros() as usize)
    }

    /// The threads in ascending order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..THREADS_MAX).filter(move |&thread| self.contains(thread))
    }
}

/// What one thread's batches hold on one account.
#[derive(Clone, Copy, Debug)]
pub struct AccountLock {
    /// Write locks, all held by `writer`.
    write_count: u32,
    writer: u8,
    /// Threads with at least one read lock; a writer's readers are on its own thread.
    readers: ThreadSet,
    /// Read locks per thread. A thread holds at most `thread_batches_max × batch_target`
    /// transactions, which the scheduler's configuration check keeps within `u16`.
    read_counts: [u16; THREADS_MAX],
    /// The most recent batch to lock the account, so a conflict-free batch under
    /// construction can tell that a newcomer conflicts with its own contents.
    last_batch: u64,
    last_batch_thread: u8,
    last_batch_writes: bool,
}

impl AccountLock {
    const FREE: Self = Self {
        write_count: 0,
        writer: 0,
        readers: ThreadSet::EMPTY,
        read_counts: [0; THREADS_MAX],
        last_batch: 0,
        last_batch_thread: 0,
        last_batch_writes: false,
    };

    fn is_free(&self) -> bool {
        self.write_count == 0 && self.readers.is_empty()
    }

    fn check(&self) {
        debug_assert!(
            self.write_count == 0
                || self
                    .readers
                    .intersect(ThreadSet::only(usize::from(self.writer)))
                    == self.readers,
            "a read lock on another thread than the writer's"
        );
        debug_assert!(
            (0..THREADS_MAX)
                .all(|thread| self.readers.contains(thread) == (self.read_counts[thread] > 0)),
            "reader set out of step with the reader counts"
        );
    }
}

/// The batch that most recently locked an account in a way a newcomer conflicts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastBatch {
    /// The batch.
    pub id: u64,
    /// Its thread.
    pub thread: usize,
}

/// Where an access may run now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Threads the access does not conflict with work on other threads.
    pub threads: ThreadSet,
    /// The last batch to lock the account, when the access conflicts with it.
    pub conflicts_with: Option<LastBatch>,
}

/// Account → locks held by in-flight batches. Free accounts have no entry.
#[derive(Debug, Default)]
pub struct LockTable {
    accounts: HashMap<LockKey, AccountLock, PassThroughBuild>,
}

impl LockTable {
    /// Where an access (a write when `write`) to `key` could run, out of `all` threads.
    pub fn access(&self, key: &LockKey, write: bool, all: ThreadSet) -> Access {
        let Some(lock) = self.accounts.get(key) else {
            return Access {
                threads: all,
                conflicts_with: None,
            };
        };
        let threads = if lock.write_count > 0 {
            ThreadSet::only(usize::from(lock.writer))
        } else if !write || lock.readers.is_empty() {
            all
        } else if lock.readers.single().is_some() {
            // Readers on one thread only: a write may queue behind them there.
            lock.readers
        } else {
            ThreadSet::EMPTY
        };
        let conflicts_with =
            (lock.last_batch != 0 && (write || lock.last_batch_writes)).then_some(LastBatch {
                id: lock.last_batch,
                thread: usize::from(lock.last_batch_thread),
            });
        Access {
            threads,
            conflicts_with,
        }
    }

    /// Takes a lock for batch `batch` on `thread`; the caller has checked that it may.
    pub fn lock(&mut self, key: LockKey, write: bool, thread: usize, batch: u64) {
        let lock = self.accounts.entry(key).or_insert(AccountLock::FREE);
        let thread_byte = thread as u8;
        if write {
            debug_assert!(
                lock.write_count == 0 || lock.writer == thread_byte,
                "write lock on two threads"
            );
            lock.write_count = lock.write_count.saturating_add(1);
            lock.writer = thread_byte;
        } else {
            debug_assert!(
                lock.write_count == 0 || lock.writer == thread_byte,
                "read lock beside another thread's write"
            );
            lock.read_counts[thread] = lock.read_counts[thread].saturating_add(1);
            lock.readers.insert(thread);
        }
        if lock.last_batch == batch {
            lock.last_batch_writes |= write;
        } else {
            lock.last_batch = batch;
            lock.last_batch_thread = thread_byte;
            lock.last_batch_writes = write;
        }
        lock.check();
    }

    /// Releases a lock taken by [`LockTable::lock`].
    pub fn unlock(&mut self, key: &LockKey, write: bool, thread: usize) {
        let Some(lock) = self.accounts.get_mut(key) else {
            debug_assert!(false, "unlock of an account with no locks");
            return;
        };
        if write {
            debug_assert!(
                lock.write_count > 0 && usize::from(lock.writer) == thread,
                "write lock underflow"
            );
            lock.write_count = lock.write_count.saturating_sub(1);
        } else {
            debug_assert!(lock.read_counts[thread] > 0, "read lock underflow");
            lock.read_counts[thread] = lock.read_counts[thread].saturating_sub(1);
            if lock.read_counts[thread] == 0 {
                lock.readers.remove(thread);
            }
        }
        lock.check();
        if lock.is_free() {
            self.accounts.remove(key);
        }
    }

    /// Accounts with at least one lock.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_primitives::Pubkey;

    fn key(byte: u8) -> LockKey {
        // Any hash will do, as long as a key always has the same one.
        LockKey::from_parts(u64::from(byte), Pubkey::new_from_array([byte; 32]))
    }

    #[test]
    fn thread_sets() {
        assert_eq!(ThreadSet::first(2).iter().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(ThreadSet::first(THREADS_MAX).iter().count(), THREADS_MAX);
        assert_eq!(ThreadSet::only(3).single(), Some(3));
        assert_eq!(ThreadSet::first(2).single(), None);
        assert!(ThreadSet::first(0).is_empty());
    }

    #[test]
    fn writes_pin_to_the_holder_and_readers_on_two_threads_block_writes() {
        let all = ThreadSet::first(4);
        let mut table = LockTable::default();
        table.lock(key(1), true, 2, 1);
        assert_eq!(
            table.access(&key(1), false, all).threads,
            ThreadSet::only(2)
        );
        assert_eq!(table.access(&key(1), true, all).threads, ThreadSet::only(2));

        table.lock(key(2), false, 0, 1);
        assert_eq!(table.access(&key(2), false, all).threads, all);
        assert_eq!(table.access(&key(2), true, all).threads, ThreadSet::only(0));
        table.lock(key(2), false, 1, 2);
        assert!(table.access(&key(2), true, all).threads.is_empty());

        table.unlock(&key(2), false, 0);
        table.unlock(&key(2), false, 1);
        table.unlock(&key(1), true, 2);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn reports_the_last_batch_only_for_conflicting_access() {
        let all = ThreadSet::first(2);
        let mut table = LockTable::default();
        table.lock(key(1), false, 1, 7);
        assert_eq!(table.access(&key(1), false, all).conflicts_with, None);
        assert_eq!(
            table.access(&key(1), true, all).conflicts_with,
            Some(LastBatch { id: 7, thread: 1 })
        );
    }
}
