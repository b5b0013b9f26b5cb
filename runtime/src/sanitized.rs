//! Sanitized transactions: parsed, every structural rule checked, lock set exposed.

/// Largest serialized transaction, in bytes (Solana's packet data size).
pub const PACKET_DATA_BYTES_MAX: usize = 1232;
/// Most account keys (and so account locks) one transaction may declare.
pub const TX_ACCOUNT_LOCKS_MAX: usize = 64;

/// Why bytes are not a well-formed transaction. Each structural rule has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SanitizeError {
    /// The serialized transaction is larger than a packet.
    #[error("transaction is {len} bytes, more than the {PACKET_DATA_BYTES_MAX}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// Bytes remain after the transaction.
    #[error("{extra} trailing bytes after the transaction")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The input ends inside the transaction.
    #[error("transaction is truncated")]
    Truncated,
    /// A compact-u16 length is malformed (overlong, non-canonical or over 16 bits).
    #[error("malformed compact-u16 length")]
    InvalidLength,
    /// The number of signatures differs from the header's required signatures.
    #[error("{signatures} signatures but the header requires {required}")]
    SignatureCountMismatch {
        /// Signatures present.
        signatures: usize,
        /// `num_required_signatures`.
        required: u8,
    },
    /// `num_required_signatures` is zero: there is no fee payer.
    #[error("transaction has no signer to pay the fee")]
    NoFeePayer,
    /// `num_readonly_signed_accounts` ≥ `num_required_signatures`: no writable signer.
    #[error("every signer is readonly, so none can pay the fee")]
    NoWritableSigner,
    /// The header counts more keys than `account_keys` has.
    #[error("header counts more accounts than the {keys} account keys")]
    HeaderExceedsAccountKeys {
        /// `account_keys.len()`.
        keys: usize,
    },
    /// An instruction names an account or program index beyond `account_keys`.
    #[error("instruction {instruction} refers to account index {index}, out of range")]
    IndexOutOfRange {
        /// The instruction's position.
        instruction: usize,
        /// The bad index.
        index: u8,
    },
    /// An instruction's program id is the fee payer (index 0).
    #[error("instruction {instruction} names the fee payer as its program")]
    ProgramIdIsFeePayer {
        /// The instruction's position.
        instruction: usize,
    },
    /// An instruction's program id is declared writable.
    #[error("instruction {instruction} names a writable account as its program")]
    ProgramIdNotReadonly {
        /// The instruction's position.
        instruction: usize,
    },
    /// The same key appears twice in `account_keys`.
    #[error("account {0} is loaded twice")]
    AccountLoadedTwice(crate::Pubkey),
    /// More than [`TX_ACCOUNT_LOCKS_MAX`] account keys.
    #[error("transaction locks {0} accounts, more than the limit of {TX_ACCOUNT_LOCKS_MAX}")]
    TooManyAccountLocks(usize),
}
