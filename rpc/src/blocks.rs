//! The recent blocks, by slot: what getBlock, getBlocks, getBlocksWithLimit and
//! getBlockTime answer from. Seeded from the ledger when the node starts and fed by the
//! pipeline's committed slots, keeping the newest [`BLOCKS_RETAINED`].
//!
//! A block here is its hashes and its transactions' signatures: getBlock answers with
//! `transactionDetails` `signatures` or `none`. Full transactions with their metadata need
//! the transaction history Braid does not record yet, and are refused as such.

use std::collections::BTreeMap;

use braid_banking_stage::pipeline::Event;
use braid_ledger::blockstore::Block;
use braid_runtime::{Hash, Signature};

/// Blocks kept for the block methods: about 67 minutes of 400 ms slots.
pub const BLOCKS_RETAINED: usize = 10_000;
/// Signatures kept across those blocks (64 MiB of them): busy blocks go sooner.
pub const SIGNATURES_RETAINED: usize = 1 << 20;
/// Widest range getBlocks answers (Solana's limit).
pub const BLOCKS_RANGE_MAX: u64 = 500_000;

/// One committed block as the block methods show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSummary {
    /// Its bank hash (Solana's `blockhash`).
    pub bank_hash: Hash,
    /// The previous block's bank hash (`previousBlockhash`).
    pub parent_bank_hash: Hash,
    /// Its transactions' first signatures, in block order.
    pub signatures: Vec<Signature>,
}

/// The newest committed blocks.
#[derive(Debug)]
pub struct BlockIndex {
    blocks: BTreeMap<u64, std::sync::Arc<BlockSummary>>,
    /// Signatures held across `blocks`.
    signatures: usize,
    /// The bank hash of the newest block, the parent of the next.
    last_bank_hash: Hash,
}

impl BlockIndex {
    /// An index holding the newest of `blocks` (a ledger's, oldest first), whose first
    /// block's parent is `genesis_hash`.
    pub fn new(genesis_hash: Hash, blocks: &[Block]) -> Self {
        let mut index = Self {
            blocks: BTreeMap::new(),
            signatures: 0,
            last_bank_hash: genesis_hash,
        };
        let from = blocks.len().saturating_sub(BLOCKS_RETAINED);
        for block in &blocks[from..] {
            let signatures = block
                .entries
                .iter()
                .filter_map(|entry| braid_runtime::transaction::first_signature(&entry.transaction))
                .collect();
            index.insert(
                block.slot,
                block.bank_hash,
                block.parent_bank_hash,
                signatures,
            );
        }
        index
    }

    fn insert(&mut self, slot: u64, bank_hash: Hash, parent: Hash, signatures: Vec<Signature>) {
        self.signatures = self.signatures.saturating_add(signatures.len());
        self.blocks.insert(
            slot,
            std::sync::Arc::new(BlockSummary {
                bank_hash,
                parent_bank_hash: parent,
                signatures,
            }),
        );
        self.last_bank_hash = bank_hash;
        while self.blocks.len() > BLOCKS_RETAINED
            || (self.signatures > SIGNATURES_RETAINED && self.blocks.len() > 1)
        {
            if let Some((_, oldest)) = self.blocks.pop_first() {
                self.signatures = self.signatures.saturating_sub(oldest.signatures.len());
            }
        }
    }

    /// Records a committed slot. A slot already indexed (read from the ledger at start
    /// while its event was on its way) is not recorded twice.
    pub fn apply(&mut self, event: &Event) {
        if let Event::SlotCommitted(commit) = event {
            if self
                .blocks
                .last_key_value()
                .is_some_and(|(newest, _)| *newest >= commit.slot)
            {
                return;
            }
            let parent = self.last_bank_hash;
            self.insert(
                commit.slot,
                commit.bank_hash,
                parent,
                commit.signatures.clone(),
            );
        }
    }

    /// The block of `slot`, if it is retained (shared, so a reader encodes it unlocked).
    pub fn get(&self, slot: u64) -> Option<std::sync::Arc<BlockSummary>> {
        self.blocks.get(&slot).cloned()
    }

    /// The retained slots from `start` to `end` inclusive, at most `limit` of them.
    pub fn slots(&self, start: u64, end: u64, limit: usize) -> Vec<u64> {
        if start > end {
            return Vec::new();
        }
        self.blocks
            .range(start..=end)
            .map(|(slot, _)| *slot)
            .take(limit)
            .collect()
    }

    /// The oldest retained slot.
    pub fn first(&self) -> Option<u64> {
        self.blocks.keys().next().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_ledger::bank::{CommitCost, SlotCommit};

    fn commit(slot: u64, hash: u8) -> Event {
        Event::SlotCommitted(SlotCommit {
            slot,
            bank_hash: Hash::new_from_array([hash; 32]),
            state_hash: Hash::default(),
            signatures: vec![Signature([hash; 64])],
            cost: CommitCost::default(),
        })
    }

    #[test]
    fn blocks_chain_their_hashes_and_the_oldest_go() {
        let genesis = Hash::new_from_array([9; 32]);
        let mut index = BlockIndex::new(genesis, &[]);
        index.apply(&commit(1, 1));
        index.apply(&commit(2, 2));
        assert_eq!(index.get(1).unwrap().parent_bank_hash, genesis);
        assert_eq!(
            index.get(2).unwrap().parent_bank_hash,
            Hash::new_from_array([1; 32])
        );
        assert_eq!(index.get(2).unwrap().signatures, vec![Signature([2; 64])]);
        assert_eq!(index.slots(0, 10, 10), vec![1, 2]);
        assert_eq!(index.slots(2, 10, 10), vec![2]);
        assert_eq!(index.slots(0, 10, 1), vec![1]);
        // A reversed range is empty, not a panic.
        assert_eq!(index.slots(10, 5, 10), Vec::<u64>::new());
        // A slot already indexed is not recorded again (with itself as parent).
        index.apply(&commit(2, 7));
        assert_eq!(
            index.get(2).unwrap().bank_hash,
            Hash::new_from_array([2; 32])
        );
        for slot in 3..=(BLOCKS_RETAINED as u64 + 2) {
            index.apply(&commit(slot, 3));
        }
        assert_eq!(index.first(), Some(3));
        assert!(index.get(2).is_none());
    }
}
