//! The last [`RECENT_BLOCKHASHES_MAX`] blockhashes: a transaction is valid only while its
//! recent blockhash is one of them.

use std::collections::VecDeque;

use crate::Hash;

/// How many recent blockhashes stay valid (Solana's 150).
pub const RECENT_BLOCKHASHES_MAX: usize = 150;

/// Recent blockhashes, newest last.
#[derive(Debug, Clone, Default)]
pub struct BlockhashQueue {
    hashes: VecDeque<Hash>,
}

impl BlockhashQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            hashes: VecDeque::with_capacity(RECENT_BLOCKHASHES_MAX),
        }
    }

    /// Makes `hash` the newest blockhash; returns the one that expired, if any.
    pub fn register(&mut self, hash: Hash) -> Option<Hash> {
        let expired = if self.hashes.len() == RECENT_BLOCKHASHES_MAX {
            self.hashes.pop_front()
        } else {
            None
        };
        self.hashes.push_back(hash);
        expired
    }

    /// Whether `hash` is one of the recent blockhashes. A linear scan of at most 150 hashes
    /// is cheaper than maintaining a map beside the queue.
    pub fn is_valid(&self, hash: &Hash) -> bool {
        self.hashes.iter().rev().any(|recent| recent == hash)
    }

    /// The newest blockhash.
    pub fn latest(&self) -> Option<Hash> {
        self.hashes.back().copied()
    }

    /// The recent blockhashes, oldest first (for snapshots and replay).
    pub fn iter(&self) -> impl Iterator<Item = &Hash> {
        self.hashes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_expires_after_150_newer_ones() {
        let mut queue = BlockhashQueue::new();
        let hash = |n: u8| Hash::new_from_array([n; 32]);
        queue.register(hash(0));
        for n in 1..150u8 {
            assert_eq!(queue.register(hash(n)), None);
        }
        assert!(queue.is_valid(&hash(0)));
        assert_eq!(queue.register(hash(150)), Some(hash(0)));
        assert!(!queue.is_valid(&hash(0)));
        assert!(queue.is_valid(&hash(1)));
        assert_eq!(queue.latest(), Some(hash(150)));
    }
}
