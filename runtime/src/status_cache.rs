//! Replay protection: the message hashes of processed transactions, kept while their
//! blockhash is recent.
//!
//! A message contains its recent blockhash, so two identical messages share a blockhash:
//! entries are grouped by blockhash and a whole group is dropped when that blockhash expires.

use std::collections::{HashMap, HashSet};

use braid_primitives::KeyHasherBuilder;

use crate::{Hash, TransactionError};

/// Message hashes already processed, by recent blockhash.
#[derive(Debug, Clone, Default)]
pub struct StatusCache {
    /// Message hashes are uniformly random blake3 outputs; the seeded key hasher is several
    /// times cheaper than SipHash here, and nothing iterates these maps in an order that
    /// could reach a result.
    by_blockhash: HashMap<Hash, HashSet<Hash, KeyHasherBuilder>, KeyHasherBuilder>,
}

impl StatusCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a message with this hash and blockhash was already processed.
    pub fn contains(&self, blockhash: &Hash, message_hash: &Hash) -> bool {
        self.by_blockhash
            .get(blockhash)
            .is_some_and(|set| set.contains(message_hash))
    }

    /// Records a processed message; `Err(AlreadyProcessed)` if it was already recorded.
    pub fn insert(&mut self, blockhash: Hash, message_hash: Hash) -> Result<(), TransactionError> {
        if self
            .by_blockhash
            .entry(blockhash)
            .or_default()
            .insert(message_hash)
        {
            Ok(())
        } else {
            Err(TransactionError::AlreadyProcessed)
        }
    }

    /// Forgets one message (it was rejected unpaid, so it may be sent again).
    pub fn remove(&mut self, blockhash: &Hash, message_hash: &Hash) {
        if let Some(set) = self.by_blockhash.get_mut(blockhash) {
            set.remove(message_hash);
            if set.is_empty() {
                self.by_blockhash.remove(blockhash);
            }
        }
    }

    /// Forgets every message signed over `blockhash` (it expired, so they can't replay).
    pub fn purge(&mut self, blockhash: &Hash) {
        self.by_blockhash.remove(blockhash);
    }

    /// How many messages are remembered.
    pub fn len(&self) -> usize {
        self.by_blockhash.values().map(HashSet::len).sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_blockhash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_insert_is_a_replay_until_purged() {
        let (blockhash, message) = (Hash::new_from_array([1; 32]), Hash::new_from_array([2; 32]));
        let mut cache = StatusCache::new();
        assert_eq!(cache.insert(blockhash, message), Ok(()));
        assert_eq!(
            cache.insert(blockhash, message),
            Err(TransactionError::AlreadyProcessed)
        );
        assert!(cache.contains(&blockhash, &message));
        cache.remove(&blockhash, &message);
        assert!(!cache.contains(&blockhash, &message));
        assert!(cache.is_empty());
        cache.insert(blockhash, message).unwrap();
        cache.purge(&blockhash);
        assert!(!cache.contains(&blockhash, &message));
        assert!(cache.is_empty());
    }
}
