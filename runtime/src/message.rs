//! The message: what a transaction's signatures sign. Its header splits `account_keys`
//! into four contiguous ranges (writable signers, readonly signers, writable unsigned,
//! readonly unsigned); that split is the transaction's declared lock set.

use crate::{Hash, Pubkey};

/// Counts that split `account_keys` into signer/readonly ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageHeader {
    /// Keys `[0, num_required_signatures)` must sign.
    pub num_required_signatures: u8,
    /// The last this many signers are readonly.
    pub num_readonly_signed_accounts: u8,
    /// The last this many unsigned keys are readonly.
    pub num_readonly_unsigned_accounts: u8,
}

/// An instruction with its program and accounts as indexes into `account_keys`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompiledInstruction {
    /// Index of the program id in `account_keys`.
    pub program_id_index: u8,
    /// Indexes of the instruction's accounts in `account_keys`.
    pub accounts: Vec<u8>,
    /// Program-defined input.
    pub data: Vec<u8>,
}

/// A legacy Solana message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The lock split of `account_keys`.
    pub header: MessageHeader,
    /// Every account the transaction touches, fee payer first.
    pub account_keys: Vec<Pubkey>,
    /// A recent blockhash: the transaction expires when it leaves the last 150.
    pub recent_blockhash: Hash,
    /// The instructions, run in order.
    pub instructions: Vec<CompiledInstruction>,
}
