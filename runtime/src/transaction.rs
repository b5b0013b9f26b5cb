//! A transaction: signatures over a message.

use crate::{Message, Signature};

/// A legacy Solana transaction: one signature per required signer, then the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// `signatures[i]` is by `message.account_keys[i]`.
    pub signatures: Vec<Signature>,
    /// What the signatures sign.
    pub message: Message,
}
