//! The recent blocks and the transaction history in them, by slot, by signature and by
//! address: what getBlock, getBlocks, getBlockTime, getTransaction,
//! getSignaturesForAddress and getSignatureStatuses' `searchTransactionHistory` answer from.
//! Seeded from the ledger when the node starts and fed by the pipeline's committed slots.
//!
//! The index holds where things are, not the transactions: a transaction and its metadata
//! are read back from the ledger's block record ([`LedgerReader`]) when asked for, so the
//! history costs memory per signature and per address mention, not per byte of history.
//!
//! Retention: the newest [`BLOCKS_RETAINED`] blocks, at most [`SIGNATURES_RETAINED`]
//! transactions and [`ADDRESS_MENTIONS_RETAINED`] (address, transaction) pairs across them;
//! past any bound the oldest block goes (the ledger file keeps it).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use braid_interfaces::ExecutionEvent;
use braid_ledger::blockstore::{self, Block, LedgerError};
use braid_runtime::transaction::Transaction;
use braid_runtime::{Hash, Pubkey, Signature};

/// Blocks kept for the block methods: about 67 minutes of 400 ms slots.
pub const BLOCKS_RETAINED: usize = 10_000;
/// Transactions kept across those blocks (about 100 bytes of index each): busy blocks go
/// sooner.
pub const SIGNATURES_RETAINED: usize = 1 << 18;
/// (address, transaction) pairs kept for getSignaturesForAddress (16 bytes each).
pub const ADDRESS_MENTIONS_RETAINED: usize = 1 << 20;
/// Widest range getBlocks answers (Solana's limit).
pub const BLOCKS_RANGE_MAX: u64 = 500_000;

/// Where a transaction is: its slot and its position in that slot's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxLocation {
    /// The slot.
    pub slot: u64,
    /// Its index in the block's entries.
    pub index: u32,
}

/// One committed block as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSummary {
    /// Its bank hash (Solana's `blockhash`).
    pub bank_hash: Hash,
    /// The previous block's bank hash (`previousBlockhash`).
    pub parent_bank_hash: Hash,
    /// Its transactions' first signatures, in block order.
    pub signatures: Vec<Signature>,
    /// When it was sealed, in Unix seconds, if recorded.
    pub block_time: Option<i64>,
    /// Where its record starts in the ledger file, if known.
    pub ledger_offset: Option<u64>,
    /// The distinct addresses its transactions name, for dropping them from the address
    /// index when the block goes.
    addresses: Vec<Pubkey>,
}

/// Where the newest blocks start that fit `blocks_max` blocks and `transactions_max`
/// transactions (`sizes` are the blocks' transaction counts, oldest first). The newest block
/// is kept even if it alone is over the transaction bound, as the index keeps it.
fn newest_within(sizes: &[usize], blocks_max: usize, transactions_max: usize) -> usize {
    let mut from = sizes.len();
    let mut transactions = 0usize;
    for size in sizes.iter().rev().take(blocks_max) {
        transactions = transactions.saturating_add(*size);
        if transactions > transactions_max && from < sizes.len() {
            break;
        }
        from = from.saturating_sub(1);
    }
    from
}

/// Reads blocks back from a ledger file by offset, while the bank appends to it.
#[derive(Debug)]
pub struct LedgerReader {
    path: PathBuf,
    file: File,
}

impl LedgerReader {
    /// A reader of the ledger in `dir`.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(blockstore::LEDGER_FILE_NAME);
        let file = File::open(&path).map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, file })
    }

    /// The block whose record starts at `offset`.
    pub fn read(&self, offset: u64) -> Result<Block, LedgerError> {
        blockstore::read_block_at(&self.file, &self.path, offset)
    }
}

/// The newest committed blocks and the transactions in them.
#[derive(Debug)]
pub struct BlockIndex {
    blocks: BTreeMap<u64, Arc<BlockSummary>>,
    /// Signatures held across `blocks`.
    signatures: usize,
    /// The bank hash of the newest block, the parent of the next.
    last_bank_hash: Hash,
    by_signature: HashMap<Signature, TxLocation>,
    /// Each address's transactions, oldest first.
    by_address: HashMap<Pubkey, VecDeque<TxLocation>>,
    /// Entries held across `by_address`.
    address_mentions: usize,
    ledger: Option<Arc<LedgerReader>>,
}

impl BlockIndex {
    /// An empty index with no ledger behind it, whose first block's parent is
    /// `genesis_hash`.
    pub fn new(genesis_hash: Hash) -> Self {
        Self {
            blocks: BTreeMap::new(),
            signatures: 0,
            last_bank_hash: genesis_hash,
            by_signature: HashMap::new(),
            by_address: HashMap::new(),
            address_mentions: 0,
            ledger: None,
        }
    }

    /// An index of the ledger in `dir` (read once, here), which must exist: its newest
    /// blocks, and a reader for the transactions in them.
    pub fn open(genesis_hash: Hash, dir: &Path) -> Result<Self, LedgerError> {
        let mut index = Self::new(genesis_hash);
        let blocks = blockstore::read_located_blocks(dir)?;
        index.ledger = Some(Arc::new(LedgerReader::open(dir)?));
        // Only the newest blocks the bounds keep are parsed: a long ledger's older
        // transactions would be indexed only to be evicted again.
        let sizes: Vec<usize> = blocks
            .iter()
            .map(|(_, block)| block.entries.len())
            .collect();
        let from = newest_within(&sizes, BLOCKS_RETAINED, SIGNATURES_RETAINED);
        for (offset, block) in &blocks[from..] {
            index.insert_block(Some(*offset), block);
        }
        Ok(index)
    }

    /// The reader of the ledger behind this index, if any: whoever feeds [`apply`]
    /// reads each committed block with it, outside the index's lock.
    ///
    /// [`apply`]: Self::apply
    pub fn ledger(&self) -> Option<Arc<LedgerReader>> {
        self.ledger.clone()
    }

    /// Indexes `block`, whose record is at `offset`.
    pub fn insert_block(&mut self, offset: Option<u64>, block: &Block) {
        let mut mentions: Vec<(Pubkey, u32)> = Vec::new();
        let mut signatures = Vec::with_capacity(block.entries.len());
        for (index, entry) in block.entries.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            // Entries were sanitized before they were recorded, so they parse; if one did
            // not, its place is kept so later positions stay right.
            match Transaction::from_bytes(&entry.transaction) {
                Ok(tx) => {
                    signatures.push(tx.signatures.first().copied().unwrap_or_default());
                    mentions.extend(tx.message.account_keys.iter().map(|key| (*key, index)));
                    // A v0 transaction's loaded addresses are its addresses too.
                    if let Some(meta) = &entry.meta {
                        let loaded = &meta.loaded_addresses;
                        mentions.extend(
                            loaded
                                .writable
                                .iter()
                                .chain(&loaded.readonly)
                                .map(|key| (*key, index)),
                        );
                    }
                }
                Err(_) => signatures.push(Signature::default()),
            }
        }
        self.insert(
            block.slot,
            BlockSummary {
                bank_hash: block.bank_hash,
                parent_bank_hash: block.parent_bank_hash,
                signatures,
                block_time: block.block_time,
                ledger_offset: offset,
                addresses: Vec::new(),
            },
            mentions,
        );
    }

    fn insert(&mut self, slot: u64, mut summary: BlockSummary, mentions: Vec<(Pubkey, u32)>) {
        for (index, signature) in summary.signatures.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            self.by_signature
                .insert(*signature, TxLocation { slot, index });
        }
        let mut addresses = BTreeSet::new();
        for (address, index) in mentions {
            let list = self.by_address.entry(address).or_default();
            // A key named twice in one transaction is one mention.
            if list.back() != Some(&TxLocation { slot, index }) {
                list.push_back(TxLocation { slot, index });
                self.address_mentions = self.address_mentions.saturating_add(1);
            }
            addresses.insert(address);
        }
        summary.addresses = addresses.into_iter().collect();
        self.signatures = self.signatures.saturating_add(summary.signatures.len());
        self.last_bank_hash = summary.bank_hash;
        self.blocks.insert(slot, Arc::new(summary));
        while self.blocks.len() > BLOCKS_RETAINED
            || (self.blocks.len() > 1
                && (self.signatures > SIGNATURES_RETAINED
                    || self.address_mentions > ADDRESS_MENTIONS_RETAINED))
        {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        let Some((slot, oldest)) = self.blocks.pop_first() else {
            return;
        };
        self.signatures = self.signatures.saturating_sub(oldest.signatures.len());
        for signature in &oldest.signatures {
            // A signature seen again later (a replayed transaction is refused, but be
            // safe) keeps its newer location.
            if self
                .by_signature
                .get(signature)
                .is_some_and(|location| location.slot == slot)
            {
                self.by_signature.remove(signature);
            }
        }
        for address in &oldest.addresses {
            if let Some(list) = self.by_address.get_mut(address) {
                while list.front().is_some_and(|location| location.slot <= slot) {
                    list.pop_front();
                    self.address_mentions = self.address_mentions.saturating_sub(1);
                }
                if list.is_empty() {
                    self.by_address.remove(address);
                }
            }
        }
    }

    /// Records a committed slot: from its block as read back from the ledger when the
    /// caller could, else from the event alone (signatures, no addresses). A slot already
    /// indexed (read from the ledger at start while its event was on its way) is not
    /// recorded twice.
    pub fn apply(&mut self, event: &ExecutionEvent, block: Option<&Block>) {
        if let ExecutionEvent::SlotCommitted(commit) = event {
            if self
                .blocks
                .last_key_value()
                .is_some_and(|(newest, _)| *newest >= commit.slot)
            {
                return;
            }
            match block {
                Some(block) if block.slot == commit.slot => {
                    self.insert_block(commit.ledger_offset, block);
                }
                _ => {
                    let parent = self.last_bank_hash;
                    self.insert(
                        commit.slot,
                        BlockSummary {
                            bank_hash: commit.bank_hash,
                            parent_bank_hash: parent,
                            signatures: commit.signatures.clone(),
                            block_time: commit.block_time,
                            ledger_offset: commit.ledger_offset,
                            addresses: Vec::new(),
                        },
                        Vec::new(),
                    );
                }
            }
        }
    }

    /// The block of `slot`, if it is retained (shared, so a reader encodes it unlocked).
    pub fn get(&self, slot: u64) -> Option<Arc<BlockSummary>> {
        self.blocks.get(&slot).cloned()
    }

    /// Where the transaction with first signature `signature` is, if retained.
    pub fn locate(&self, signature: &Signature) -> Option<TxLocation> {
        self.by_signature.get(signature).copied()
    }

    /// Up to `limit` of `address`'s retained transactions, newest first, strictly older
    /// than `before` and strictly newer than `until` when given.
    pub fn mentions(
        &self,
        address: &Pubkey,
        before: Option<TxLocation>,
        until: Option<TxLocation>,
        limit: usize,
    ) -> Vec<(TxLocation, Signature)> {
        let Some(list) = self.by_address.get(address) else {
            return Vec::new();
        };
        list.iter()
            .rev()
            .filter(|location| before.is_none_or(|before| **location < before))
            .take_while(|location| until.is_none_or(|until| **location > until))
            .filter_map(|location| {
                let block = self.blocks.get(&location.slot)?;
                let signature = block
                    .signatures
                    .get(usize::try_from(location.index).ok()?)?;
                Some((*location, *signature))
            })
            .take(limit)
            .collect()
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
#[allow(clippy::arithmetic_side_effects)] // small known values in tests
mod tests {
    use super::*;
    use braid_ledger::bank::{CommitCost, SlotCommit};

    fn commit(slot: u64, hash: u8) -> ExecutionEvent {
        ExecutionEvent::SlotCommitted(SlotCommit {
            slot,
            bank_hash: Hash::new_from_array([hash; 32]),
            state_hash: Hash::default(),
            signatures: vec![Signature([hash; 64])],
            ledger_offset: None,
            block_time: Some(1_700_000_000),
            cost: CommitCost::default(),
        })
    }

    #[test]
    fn blocks_chain_their_hashes_and_the_oldest_go() {
        let genesis = Hash::new_from_array([9; 32]);
        let mut index = BlockIndex::new(genesis);
        index.apply(&commit(1, 1), None);
        index.apply(&commit(2, 2), None);
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
        index.apply(&commit(2, 7), None);
        assert_eq!(
            index.get(2).unwrap().bank_hash,
            Hash::new_from_array([2; 32])
        );
        for slot in 3..=(BLOCKS_RETAINED as u64 + 2) {
            index.apply(&commit(slot, 3), None);
        }
        assert_eq!(index.first(), Some(3));
        assert!(index.get(2).is_none());
    }

    #[test]
    fn only_the_newest_blocks_the_bounds_keep_are_read() {
        assert_eq!(newest_within(&[], 10, 10), 0);
        assert_eq!(newest_within(&[3, 3, 3], 10, 10), 0);
        assert_eq!(newest_within(&[3, 3, 3, 3], 10, 10), 1);
        assert_eq!(newest_within(&[1, 1, 1, 1], 2, 10), 2);
        // The newest block stays even when it alone is over the bound.
        assert_eq!(newest_within(&[1, 50], 10, 10), 1);
    }

    /// A block of transfers from `payers[i]` to a shared `to`, each a distinct signature.
    fn block_of(slot: u64, payers: &[Pubkey], to: Pubkey) -> Block {
        use braid_ledger::blockstore::{Entry, EntryStatus};
        use braid_runtime::message::Message;
        use braid_runtime::{CompiledInstruction, MessageHeader};
        let entries = payers
            .iter()
            .enumerate()
            .map(|(n, payer)| {
                let message = Message {
                    address_table_lookups: None,
                    header: MessageHeader {
                        num_required_signatures: 1,
                        num_readonly_signed_accounts: 0,
                        num_readonly_unsigned_accounts: 1,
                    },
                    account_keys: vec![*payer, to, braid_runtime::SYSTEM_PROGRAM_ID],
                    recent_blockhash: Hash::default(),
                    instructions: vec![CompiledInstruction {
                        program_id_index: 2,
                        accounts: vec![0, 1],
                        data: vec![2, 0, 0, 0],
                    }],
                };
                let mut tx = Transaction::new_unsigned(message);
                tx.signatures = vec![Signature([slot as u8 ^ (n as u8) << 4; 64])];
                Entry {
                    transaction: tx.to_bytes(),
                    status: EntryStatus::Ok,
                    fee: 5_000,
                    compute_units: 150,
                    meta: None,
                }
            })
            .collect();
        Block {
            slot,
            parent_bank_hash: Hash::default(),
            bank_hash: Hash::new_from_array([slot as u8; 32]),
            state_hash: Hash::default(),
            block_time: Some(1_700_000_000 + slot as i64),
            entries,
        }
    }

    #[test]
    fn transactions_are_found_by_signature_and_by_address_newest_first() {
        let (alice, bob, carol) = (
            Pubkey::new_from_array([1; 32]),
            Pubkey::new_from_array([2; 32]),
            Pubkey::new_from_array([3; 32]),
        );
        let mut index = BlockIndex::new(Hash::default());
        index.insert_block(Some(0), &block_of(1, &[alice, bob], carol));
        index.insert_block(Some(500), &block_of(2, &[alice], carol));
        let signature = |slot: u64, n: u8| Signature([slot as u8 ^ n << 4; 64]);
        let at = |slot, index| TxLocation { slot, index };
        assert_eq!(index.locate(&signature(1, 1)), Some(at(1, 1)));
        assert_eq!(index.locate(&Signature([0xEE; 64])), None);
        assert_eq!(index.get(2).unwrap().ledger_offset, Some(500));
        assert_eq!(index.get(2).unwrap().block_time, Some(1_700_000_002));
        let all = index.mentions(&carol, None, None, 10);
        assert_eq!(
            all,
            vec![
                (at(2, 0), signature(2, 0)),
                (at(1, 1), signature(1, 1)),
                (at(1, 0), signature(1, 0)),
            ]
        );
        assert_eq!(index.mentions(&alice, None, None, 10).len(), 2);
        assert_eq!(
            index.mentions(&bob, None, None, 10),
            vec![(at(1, 1), signature(1, 1))]
        );
        // `before` and `until` are exclusive; `limit` cuts from the newest.
        assert_eq!(index.mentions(&carol, Some(at(2, 0)), None, 10), all[1..]);
        assert_eq!(index.mentions(&carol, None, Some(at(1, 0)), 10), all[..2]);
        assert_eq!(index.mentions(&carol, None, None, 1), all[..1]);
        // The System program is an address too, as on Solana.
        assert_eq!(
            index
                .mentions(&braid_runtime::SYSTEM_PROGRAM_ID, None, None, 10)
                .len(),
            3
        );
        // When a block goes, its transactions leave both indexes.
        index.evict_oldest();
        assert_eq!(index.locate(&signature(1, 1)), None);
        assert!(index.mentions(&bob, None, None, 10).is_empty());
        assert!(!index.by_address.contains_key(&bob));
        assert_eq!(index.mentions(&carol, None, None, 10), all[..1]);
        assert_eq!(index.address_mentions, 3);
    }
}
