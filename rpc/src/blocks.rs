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
    blocks: BTreeMap<u64, BlockSummary>,
    /// The bank hash of the newest block, the parent of the next.
    last_bank_hash: Hash,
}

impl BlockIndex {
    /// An index holding the newest of `blocks` (a ledger's, oldest first), whose first
    /// block's parent is `genesis_hash`.
    pub fn new(genesis_hash: Hash, blocks: &[Block]) -> Self {
        let mut index = Self {
            blocks: BTreeMap::new(),
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
        self.blocks.insert(
            slot,
            BlockSummary {
                bank_hash,
                parent_bank_hash: parent,
                signatures,
            },
        );
        self.last_bank_hash = bank_hash;
        while self.blocks.len() > BLOCKS_RETAINED {
            self.blocks.pop_first();
        }
    }

    /// Records a committed slot.
    pub fn apply(&mut self, event: &Event) {
        if let Event::SlotCommitted(commit) = event {
            let parent = self.last_bank_hash;
            self.insert(
                commit.slot,
                commit.bank_hash,
                parent,
                commit.signatures.clone(),
            );
        }
    }

    /// The block of `slot`, if it is retained.
    pub fn get(&self, slot: u64) -> Option<&BlockSummary> {
        self.blocks.get(&slot)
    }

    /// The retained slots from `start` to `end` inclusive, at most `limit` of them.
    pub fn slots(&self, start: u64, end: u64, limit: usize) -> Vec<u64> {
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
        for slot in 3..=(BLOCKS_RETAINED as u64 + 2) {
            index.apply(&commit(slot, 3));
        }
        assert_eq!(index.first(), Some(3));
        assert!(index.get(2).is_none());
    }
}
