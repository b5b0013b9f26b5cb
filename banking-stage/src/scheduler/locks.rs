//! The account table: every account a waiting or in-flight transaction names, interned to a
//! dense index, with its locks.
//!
//! For each account the table records which thread holds its write locks and which threads
//! hold read locks, with counts so a thread's lock goes away with its last transaction.
//! Locks are thread-aware: a lock held by thread `t` does not stop another transaction
//! from going to `t` too, behind it, because a thread runs its batches in order. So the
//! question the table answers is not "is this account free?" but "on which threads could
//! a transaction with this access run now?".
//!
//! Why interned: a transaction's accounts are hashed once, when it is queued; every check,
//! lock, unlock and blocked mark after that indexes a vector. Hashing each account at each of
//! those steps cost the scheduler about three quarters of its time (perf on `sched_lab`-style
//! runs of 11-account swaps: `LockTable::{access, lock, unlock}` and the hasher). An index is
//! released when no waiting or in-flight transaction names its account any more, so the table
//! holds at most the accounts of `pending_max` plus in-flight transactions.

use std::hash::BuildHasher;

use braid_primitives::{KeyHasherBuilder, Pubkey};
use hashbrown::HashTable;

/// Most banking threads one scheduler can feed (the width of a thread set): two cores run
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

    /// How many threads are in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
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

/// One account's locks, and the pass that last blocked it: what every check reads, kept
/// small so a pass's checks stay in cache (the key and per-thread read counts live apart).
#[derive(Clone, Debug)]
struct AccountLock {
    /// Waiting and in-flight transactions that name the account.
    refs: u32,
    /// Write locks, all held by `writer`.
    write_count: u32,
    writer: u8,
    /// Threads with at least one read lock; a writer's readers are on its own thread.
    readers: ThreadSet,
    /// The most recent batch to lock the account, so a conflict-free batch under
    /// construction can tell that a newcomer conflicts with its own contents.
    last_batch: u64,
    last_batch_thread: u8,
    last_batch_writes: bool,
    /// The pass in which a waiting transaction last claimed the account (0: never), and
    /// whether one of them writes it.
    blocked_pass: u64,
    blocked_write: bool,
}

/// Read locks per thread. A thread holds at most `thread_batches_max × batch_target`
/// transactions, which the scheduler's configuration check keeps within `u16`.
type ReadCounts = [u16; THREADS_MAX];

impl AccountLock {
    const FREE: Self = Self {
        refs: 0,
        write_count: 0,
        writer: 0,
        readers: ThreadSet::EMPTY,
        last_batch: 0,
        last_batch_thread: 0,
        last_batch_writes: false,
        blocked_pass: 0,
        blocked_write: false,
    };

    fn check(&self, read_counts: &ReadCounts) {
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
                .all(|thread| self.readers.contains(thread) == (read_counts[thread] > 0)),
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

/// An interned account: an index into the [`AccountTable`].
pub type AccountIndex = u32;

/// Interned accounts and their locks.
#[derive(Debug, Default)]
pub struct AccountTable {
    /// Key hash → index, storing only the index: a probe touches four bytes per slot.
    index: HashTable<AccountIndex>,
    hasher: KeyHasherBuilder,
    accounts: Vec<AccountLock>,
    /// Per index: its key's hash, and the read locks per thread.
    hashes: Vec<u64>,
    read_counts: Vec<ReadCounts>,
    free: Vec<AccountIndex>,
    locked: usize,
}

impl AccountTable {
    /// The index of `key`, interning it if needed, with one more reference.
    pub fn acquire(&mut self, key: Pubkey) -> AccountIndex {
        let hash = self.hasher.hash_one(key);
        let Self {
            index: table,
            accounts,
            hashes,
            read_counts,
            free,
            ..
        } = self;
        // Indices are told apart by hash alone. Two keys with one hash would share an index:
        // their transactions would be treated as conflicting and run in queue order, which
        // costs parallelism but never correctness, and the hasher's per-process random seed
        // keeps anyone from choosing such keys. Comparing the keys read a cold 32-byte key per
        // account and was the largest cost of queueing an 11-account swap (perf).
        let found = table
            .find(hash, |&index| hashes[index as usize] == hash)
            .copied();
        let index = match found {
            Some(index) => index,
            None => {
                let index = match free.pop() {
                    Some(index) => {
                        // A freed index has no locks, so its read counts are all zero.
                        accounts[index as usize] = AccountLock::FREE;
                        hashes[index as usize] = hash;
                        index
                    }
                    None => {
                        // The scheduler bounds the accounts it holds far below u32::MAX.
                        let index =
                            AccountIndex::try_from(accounts.len()).unwrap_or(AccountIndex::MAX);
                        accounts.push(AccountLock::FREE);
                        hashes.push(hash);
                        read_counts.push([0; THREADS_MAX]);
                        index
                    }
                };
                table.insert_unique(hash, index, |&index| hashes[index as usize]);
                index
            }
        };
        let account = &mut accounts[index as usize];
        account.refs = account.refs.saturating_add(1);
        index
    }

    /// Drops one reference taken by [`AccountTable::acquire`]; the last one frees the index.
    pub fn release(&mut self, index: AccountIndex) {
        let Some(account) = self.accounts.get_mut(index as usize) else {
            debug_assert!(false, "release of an unknown account index");
            return;
        };
        debug_assert!(account.refs > 0, "account reference underflow");
        account.refs = account.refs.saturating_sub(1);
        if account.refs == 0 {
            debug_assert!(
                account.write_count == 0 && account.readers.is_empty(),
                "an unreferenced account still locked"
            );
            let hash = self.hashes[index as usize];
            if let Ok(entry) = self.index.find_entry(hash, |&found| found == index) {
                entry.remove();
            }
            self.free.push(index);
        }
    }

    /// The index of `key` if it is interned (tests look accounts up by key).
    #[cfg(test)]
    pub fn find(&self, key: Pubkey) -> Option<AccountIndex> {
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&index| self.hashes[index as usize] == hash)
            .copied()
    }

    /// Where an access (a write when `write`) to the account could run, out of `all` threads.
    pub fn access(&self, index: AccountIndex, write: bool, all: ThreadSet) -> Access {
        let lock = &self.accounts[index as usize];
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
        let conflicts_with = (lock.last_batch != 0
            && (lock.write_count > 0 || !lock.readers.is_empty())
            && (write || lock.last_batch_writes))
            .then_some(LastBatch {
                id: lock.last_batch,
                thread: usize::from(lock.last_batch_thread),
            });
        Access {
            threads,
            conflicts_with,
        }
    }

    /// Whether a transaction that waits in pass `pass` claimed the account in a way an access
    /// (a write when `write`) conflicts with.
    pub fn is_blocked(&self, index: AccountIndex, write: bool, pass: u64) -> bool {
        let lock = &self.accounts[index as usize];
        lock.blocked_pass == pass && (lock.blocked_write || write)
    }

    /// Claims the account for a transaction that waits in pass `pass`.
    pub fn block(&mut self, index: AccountIndex, write: bool, pass: u64) {
        let lock = &mut self.accounts[index as usize];
        if lock.blocked_pass == pass {
            lock.blocked_write |= write;
        } else {
            lock.blocked_pass = pass;
            lock.blocked_write = write;
        }
    }

    /// Takes a lock for batch `batch` on `thread`; the caller has checked that it may.
    pub fn lock(&mut self, index: AccountIndex, write: bool, thread: usize, batch: u64) {
        let lock = &mut self.accounts[index as usize];
        if lock.write_count == 0 && lock.readers.is_empty() {
            self.locked = self.locked.saturating_add(1);
        }
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
            let counts = &mut self.read_counts[index as usize];
            counts[thread] = counts[thread].saturating_add(1);
            lock.readers.insert(thread);
        }
        if lock.last_batch == batch {
            lock.last_batch_writes |= write;
        } else {
            lock.last_batch = batch;
            lock.last_batch_thread = thread_byte;
            lock.last_batch_writes = write;
        }
        lock.check(&self.read_counts[index as usize]);
    }

    /// Releases a lock taken by [`AccountTable::lock`].
    pub fn unlock(&mut self, index: AccountIndex, write: bool, thread: usize) {
        let Some(lock) = self.accounts.get_mut(index as usize) else {
            debug_assert!(false, "unlock of an unknown account index");
            return;
        };
        if write {
            debug_assert!(
                lock.write_count > 0 && usize::from(lock.writer) == thread,
                "write lock underflow"
            );
            lock.write_count = lock.write_count.saturating_sub(1);
        } else {
            let counts = &mut self.read_counts[index as usize];
            debug_assert!(counts[thread] > 0, "read lock underflow");
            counts[thread] = counts[thread].saturating_sub(1);
            if counts[thread] == 0 {
                lock.readers.remove(thread);
            }
        }
        lock.check(&self.read_counts[index as usize]);
        if lock.write_count == 0 && lock.readers.is_empty() {
            lock.last_batch = 0;
            self.locked = self.locked.saturating_sub(1);
        }
    }

    /// Accounts with at least one lock.
    pub fn locked(&self) -> usize {
        self.locked
    }

    /// Accounts interned (named by a waiting or in-flight transaction).
    pub fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Pubkey {
        Pubkey::new_from_array([byte; 32])
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
        let mut table = AccountTable::default();
        let one = table.acquire(key(1));
        let two = table.acquire(key(2));
        table.lock(one, true, 2, 1);
        assert_eq!(table.access(one, false, all).threads, ThreadSet::only(2));
        assert_eq!(table.access(one, true, all).threads, ThreadSet::only(2));

        table.lock(two, false, 0, 1);
        assert_eq!(table.access(two, false, all).threads, all);
        assert_eq!(table.access(two, true, all).threads, ThreadSet::only(0));
        table.lock(two, false, 1, 2);
        assert!(table.access(two, true, all).threads.is_empty());
        assert_eq!(table.locked(), 2);

        table.unlock(two, false, 0);
        table.unlock(two, false, 1);
        table.unlock(one, true, 2);
        assert_eq!(table.locked(), 0);
        table.release(one);
        table.release(two);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn reports_the_last_batch_only_for_conflicting_access_while_locked() {
        let all = ThreadSet::first(2);
        let mut table = AccountTable::default();
        let one = table.acquire(key(1));
        table.lock(one, false, 1, 7);
        assert_eq!(table.access(one, false, all).conflicts_with, None);
        assert_eq!(
            table.access(one, true, all).conflicts_with,
            Some(LastBatch { id: 7, thread: 1 })
        );
        table.unlock(one, false, 1);
        assert_eq!(table.access(one, true, all).conflicts_with, None);
    }

    #[test]
    fn indices_are_shared_by_key_and_reused_once_released() {
        let mut table = AccountTable::default();
        let first = table.acquire(key(1));
        assert_eq!(table.acquire(key(1)), first);
        let second = table.acquire(key(2));
        assert_ne!(first, second);
        table.release(first);
        assert_eq!(table.len(), 2, "one reference to key 1 remains");
        table.release(first);
        assert_eq!(table.len(), 1);
        assert_eq!(table.acquire(key(3)), first, "the freed index is reused");
        assert_eq!(table.find(key(3)), Some(first));
        assert_eq!(table.find(key(1)), None);
    }

    #[test]
    fn a_block_lasts_for_its_pass_only() {
        let mut table = AccountTable::default();
        let one = table.acquire(key(1));
        table.block(one, false, 5);
        assert!(
            !table.is_blocked(one, false, 5),
            "readers do not block readers"
        );
        assert!(table.is_blocked(one, true, 5));
        table.block(one, true, 5);
        assert!(table.is_blocked(one, false, 5));
        assert!(!table.is_blocked(one, true, 6));
    }
}
