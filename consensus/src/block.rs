//! The block a proposer builds and replicas replay: ordered transactions, the parent bank
//! hash they run on, and the bank hash and state hash the proposer got. Its id, the value
//! consensus decides, is blake3 over its encoding, so two blocks share an id only if they
//! are the same block.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_primitives::Hash;

use crate::context::{BlockId, Height};

/// Prefix of the bytes a block id hashes.
pub const BLOCK_DOMAIN: &[u8] = b"braid-consensus-block-v1";
/// Most bytes an encoded block may have (it streams in parts of at most
/// [`crate::stream::PART_BYTES_MAX`], and syncs whole). What a block may cost is bounded by
/// `braid_runtime::cost_model`; for the smallest transactions (transfers, about 215 bytes)
/// this byte limit binds first, at about 29,000 a block (the cost limit allows 39,000).
pub const BLOCK_BYTES_MAX: usize = 6 * 1024 * 1024;
/// Bytes no transaction is shorter than with its Borsh length: one signature (64), the
/// header (3), one key (32) and the blockhash (32), with their counts.
pub const TRANSACTION_BYTES_MIN: usize = 128;
/// Most transactions a block can hold: what [`BLOCK_BYTES_MAX`] allows, checked when a
/// block is decoded.
pub const BLOCK_TRANSACTIONS_MAX: usize = BLOCK_BYTES_MAX / TRANSACTION_BYTES_MIN;

/// A proposed block.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposedBlock {
    /// The slot it fills.
    pub slot: u64,
    /// The bank hash of the slot before, which it runs on.
    pub parent_bank_hash: [u8; 32],
    /// The bank hash after it, as the proposer computed it.
    pub bank_hash: [u8; 32],
    /// The state hash after it, as the proposer computed it.
    pub state_hash: [u8; 32],
    /// When it was proposed, in Unix seconds (history only: it enters no hash but the id).
    pub block_time: i64,
    /// The transactions, in execution order, as wire bytes.
    pub transactions: Vec<Vec<u8>>,
}

/// Why bytes are not a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The bytes do not decode.
    #[error("the block does not decode: {0}")]
    Malformed(String),
    /// More bytes than a block may have.
    #[error("the block has {0} bytes, more than {BLOCK_BYTES_MAX}")]
    TooLarge(usize),
    /// More transactions than a block may hold.
    #[error("the block has {0} transactions, more than {BLOCK_TRANSACTIONS_MAX}")]
    TooManyTransactions(usize),
}

impl ProposedBlock {
    /// Its encoding.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("Borsh into a Vec never fails")
    }

    /// The block `bytes` encode, within the limits.
    pub fn decode(bytes: &[u8]) -> Result<Self, BlockError> {
        if bytes.len() > BLOCK_BYTES_MAX {
            return Err(BlockError::TooLarge(bytes.len()));
        }
        let block: Self =
            borsh::from_slice(bytes).map_err(|error| BlockError::Malformed(error.to_string()))?;
        if block.transactions.len() > BLOCK_TRANSACTIONS_MAX {
            return Err(BlockError::TooManyTransactions(block.transactions.len()));
        }
        Ok(block)
    }

    /// Its id: blake3 over the domain and its encoding.
    pub fn id(&self) -> BlockId {
        id_of_encoded(&self.encode())
    }

    /// The height it fills.
    pub fn height(&self) -> Height {
        Height(self.slot)
    }

    /// Its bank hash.
    pub fn bank_hash(&self) -> Hash {
        Hash::new_from_array(self.bank_hash)
    }
}

/// The id of a block from its encoding.
pub fn id_of_encoded(bytes: &[u8]) -> BlockId {
    let mut hasher = blake3::Hasher::new();
    hasher.update(BLOCK_DOMAIN);
    hasher.update(bytes);
    BlockId(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> ProposedBlock {
        ProposedBlock {
            slot: 3,
            parent_bank_hash: [1; 32],
            bank_hash: [2; 32],
            state_hash: [3; 32],
            block_time: 1_700_000_000,
            transactions: vec![vec![4; 100], vec![5; 200]],
        }
    }

    #[test]
    fn a_block_round_trips_and_its_id_names_every_byte() {
        let block = block();
        let bytes = block.encode();
        assert_eq!(ProposedBlock::decode(&bytes), Ok(block.clone()));
        let mut later = block.clone();
        later.block_time += 1;
        assert_ne!(later.id(), block.id());
        assert_eq!(block.id(), id_of_encoded(&bytes));
    }

    #[test]
    fn truncated_oversized_and_overfull_blocks_are_errors() {
        let bytes = block().encode();
        assert!(matches!(
            ProposedBlock::decode(&bytes[..bytes.len() - 1]),
            Err(BlockError::Malformed(_))
        ));
        assert_eq!(
            ProposedBlock::decode(&vec![0; BLOCK_BYTES_MAX + 1]),
            Err(BlockError::TooLarge(BLOCK_BYTES_MAX + 1))
        );
        let mut full = block();
        full.transactions = vec![Vec::new(); BLOCK_TRANSACTIONS_MAX + 1];
        assert_eq!(
            ProposedBlock::decode(&full.encode()),
            Err(BlockError::TooManyTransactions(BLOCK_TRANSACTIONS_MAX + 1))
        );
    }
}
