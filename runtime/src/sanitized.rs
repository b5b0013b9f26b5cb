//! Sanitized transactions: parsed, every structural rule checked, lock set exposed.
//!
//! # Design
//!
//! A [`SanitizedTransaction`] is built once, when a transaction enters the node, and then
//! read by sigverify, dedup, the scheduler and the executor for every transaction. So the
//! constructor does all the work that can fail or allocate, and every accessor afterwards is
//! a field read or a slice of the header's ranges:
//!
//! - it owns the [`Transaction`], a copy of the serialized message bytes (sigverify needs
//!   exactly the signed bytes; when parsed from the wire they are copied from the input, so
//!   they are never re-serialized), and the message hash, computed once for the status
//!   cache;
//! - the header splits `account_keys` into four contiguous ranges, writable signers,
//!   readonly signers, writable unsigned, readonly unsigned. [`writable_keys`] and
//!   [`readonly_keys`] chain two slices each, so the scheduler's lock set costs no
//!   allocation and no per-key test.
//!
//! # Order of the rules
//!
//! Rejection reports the first broken rule in this order (tests pin it):
//!
//! 1. Encoding, from the wire only: more than [`PACKET_DATA_BYTES_MAX`] bytes is
//!    `TooLarge` before anything is parsed (oversized input costs nothing); then parsing
//!    front to back reports `Truncated` or `InvalidLength` (malformed compact-u16) where it
//!    meets them, and `TrailingBytes` once a whole transaction has been read.
//! 2. Header: `SignatureCountMismatch`, `NoFeePayer` (zero required signatures),
//!    `NoWritableSigner`, `HeaderExceedsAccountKeys`.
//! 3. `TooManyAccountLocks`, before anything that walks the keys, so that the later checks
//!    are bounded by [`TX_ACCOUNT_LOCKS_MAX`]. (On the wire a packet holds at most 38 keys,
//!    so this rule can only fire for a transaction built in memory and passed to
//!    [`SanitizedTransaction::try_new`].)
//! 4. Instructions, in order; for each: the program index (`IndexOutOfRange`, then
//!    `ProgramIdIsFeePayer`, then `ProgramIdNotReadonly`), then its account indexes.
//! 5. `AccountLoadedTwice`, naming the smallest duplicated key.
//! 6. [`SanitizedTransaction::try_new`] only: `TooLarge` if the transaction would not fit a
//!    packet, last because the size is only known once the message is serialized.
//!
//! Signatures are not verified here; see [`crate::sigverify`].
//!
//! [`writable_keys`]: SanitizedTransaction::writable_keys
//! [`readonly_keys`]: SanitizedTransaction::readonly_keys

use crate::message::{hash_raw_message, is_writable_index};
use crate::short_vec;
use crate::{Hash, Message, Pubkey, Signature, Transaction};
use braid_primitives::SIGNATURE_BYTES;

/// Largest serialized transaction, in bytes (Solana's packet data size).
pub const PACKET_DATA_BYTES_MAX: usize = 1232;
/// Most account keys (and so account locks) one transaction may declare.
pub const TX_ACCOUNT_LOCKS_MAX: usize = 64;

/// Why bytes are not a well-formed transaction. Each structural rule has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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

/// Below this many keys duplicates are found by comparing every pair; above, by sorting.
const PAIRWISE_DUPLICATE_SCAN_KEYS_MAX: usize = 8;

/// A transaction whose structure has been checked; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedTransaction {
    transaction: Transaction,
    message_bytes: Box<[u8]>,
    message_hash: Hash,
}

impl SanitizedTransaction {
    /// Parses wire bytes and checks every rule.
    pub fn try_from_bytes(bytes: &[u8]) -> Result<Self, SanitizeError> {
        let (transaction, message_offset) = crate::transaction::parse(bytes)?;
        sanitize(&transaction)?;
        let message_bytes: Box<[u8]> = bytes.get(message_offset..).unwrap_or_default().into();
        let message_hash = hash_raw_message(&message_bytes);
        Ok(Self {
            transaction,
            message_bytes,
            message_hash,
        })
    }

    /// Checks every rule of an in-memory transaction, including that it fits a packet.
    pub fn try_new(transaction: Transaction) -> Result<Self, SanitizeError> {
        sanitize(&transaction)?;
        let message_bytes: Box<[u8]> = transaction.message.serialize().into();
        let signature_count = u16::try_from(transaction.signatures.len()).unwrap_or(u16::MAX);
        let len = short_vec::encoded_len(signature_count)
            .saturating_add(transaction.signatures.len().saturating_mul(SIGNATURE_BYTES))
            .saturating_add(message_bytes.len());
        if len > PACKET_DATA_BYTES_MAX {
            return Err(SanitizeError::TooLarge { len });
        }
        let message_hash = hash_raw_message(&message_bytes);
        Ok(Self {
            transaction,
            message_bytes,
            message_hash,
        })
    }

    /// The transaction.
    pub fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    /// Gives the transaction back.
    pub fn into_transaction(self) -> Transaction {
        self.transaction
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.transaction.message
    }

    /// The signatures, one per required signer.
    pub fn signatures(&self) -> &[Signature] {
        &self.transaction.signatures
    }

    /// How many signatures the transaction carries (and so pays for).
    pub fn num_signatures(&self) -> usize {
        self.transaction.signatures.len()
    }

    /// The first signature, the transaction's id. Sanitizing guarantees there is one.
    pub fn signature(&self) -> &Signature {
        // `sanitize` rejects zero required signatures and a count mismatch.
        &self.transaction.signatures[0]
    }

    /// The exact bytes the signatures sign.
    pub fn message_bytes(&self) -> &[u8] {
        &self.message_bytes
    }

    /// Solana's message hash, the key of the status cache.
    pub fn message_hash(&self) -> &Hash {
        &self.message_hash
    }

    /// The account keys, fee payer first.
    pub fn account_keys(&self) -> &[Pubkey] {
        &self.transaction.message.account_keys
    }

    /// The fee payer: the first key, a writable signer.
    pub fn fee_payer(&self) -> &Pubkey {
        // `sanitize` guarantees a writable signer at index 0.
        &self.transaction.message.account_keys[0]
    }

    /// Whether key `index` signed.
    pub fn is_signer(&self, index: usize) -> bool {
        index < self.num_required_signatures()
    }

    /// Whether key `index` is declared writable (out-of-range indexes are not).
    pub fn is_writable(&self, index: usize) -> bool {
        let keys = self.account_keys().len();
        index < keys && is_writable_index(&self.message().header, keys, index)
    }

    /// Keys the transaction writes: its write locks, in key order.
    pub fn writable_keys(&self) -> impl Iterator<Item = &Pubkey> + Clone + '_ {
        let [signers, unsigned] = self.writable_key_slices();
        signers.iter().chain(unsigned)
    }

    /// The write locks as the header's two contiguous ranges: writable signers, then
    /// writable unsigned keys.
    pub fn writable_key_slices(&self) -> [&[Pubkey]; 2] {
        let (writable_signers, _, writable_unsigned, _) = self.key_ranges();
        [writable_signers, writable_unsigned]
    }

    /// The read locks as the header's two contiguous ranges: readonly signers, then
    /// readonly unsigned keys.
    pub fn readonly_key_slices(&self) -> [&[Pubkey]; 2] {
        let (_, readonly_signers, _, readonly_unsigned) = self.key_ranges();
        [readonly_signers, readonly_unsigned]
    }

    /// Keys the transaction only reads: its read locks, in key order.
    pub fn readonly_keys(&self) -> impl Iterator<Item = &Pubkey> + Clone + '_ {
        let [signers, unsigned] = self.readonly_key_slices();
        signers.iter().chain(unsigned)
    }

    fn num_required_signatures(&self) -> usize {
        usize::from(self.message().header.num_required_signatures)
    }

    /// The header's four ranges: writable signers, readonly signers, writable unsigned,
    /// readonly unsigned. Sanitizing guarantees the counts fit the keys.
    fn key_ranges(&self) -> (&[Pubkey], &[Pubkey], &[Pubkey], &[Pubkey]) {
        let header = &self.message().header;
        let keys = self.account_keys();
        let (signers, unsigned) = keys.split_at(self.num_required_signatures());
        let writable_signers = signers
            .len()
            .saturating_sub(usize::from(header.num_readonly_signed_accounts));
        let writable_unsigned = unsigned
            .len()
            .saturating_sub(usize::from(header.num_readonly_unsigned_accounts));
        let (ws, rs) = signers.split_at(writable_signers);
        let (wu, ru) = unsigned.split_at(writable_unsigned);
        (ws, rs, wu, ru)
    }
}

/// Checks the rules after parsing, in the order the module docs give.
fn sanitize(transaction: &Transaction) -> Result<(), SanitizeError> {
    let message = &transaction.message;
    let header = &message.header;
    let keys = &message.account_keys;
    let required = usize::from(header.num_required_signatures);
    if transaction.signatures.len() != required {
        return Err(SanitizeError::SignatureCountMismatch {
            signatures: transaction.signatures.len(),
            required: header.num_required_signatures,
        });
    }
    if required == 0 {
        return Err(SanitizeError::NoFeePayer);
    }
    if header.num_readonly_signed_accounts >= header.num_required_signatures {
        return Err(SanitizeError::NoWritableSigner);
    }
    let counted = required.saturating_add(usize::from(header.num_readonly_unsigned_accounts));
    if counted > keys.len() {
        return Err(SanitizeError::HeaderExceedsAccountKeys { keys: keys.len() });
    }
    if keys.len() > TX_ACCOUNT_LOCKS_MAX {
        return Err(SanitizeError::TooManyAccountLocks(keys.len()));
    }
    for (position, instruction) in message.instructions.iter().enumerate() {
        let out_of_range = |index: u8| SanitizeError::IndexOutOfRange {
            instruction: position,
            index,
        };
        let program = usize::from(instruction.program_id_index);
        if program >= keys.len() {
            return Err(out_of_range(instruction.program_id_index));
        }
        if program == 0 {
            return Err(SanitizeError::ProgramIdIsFeePayer {
                instruction: position,
            });
        }
        if is_writable_index(header, keys.len(), program) {
            return Err(SanitizeError::ProgramIdNotReadonly {
                instruction: position,
            });
        }
        if let Some(&index) = instruction
            .accounts
            .iter()
            .find(|&&i| usize::from(i) >= keys.len())
        {
            return Err(out_of_range(index));
        }
    }
    if let Some(duplicate) = find_duplicate(keys) {
        return Err(SanitizeError::AccountLoadedTwice(duplicate));
    }
    Ok(())
}

/// The smallest key that appears twice, without allocating: `keys` has at most
/// [`TX_ACCOUNT_LOCKS_MAX`] entries (checked before), so a stack array of references
/// suffices for sorting.
fn find_duplicate(keys: &[Pubkey]) -> Option<Pubkey> {
    if keys.len() <= PAIRWISE_DUPLICATE_SCAN_KEYS_MAX {
        let mut smallest: Option<Pubkey> = None;
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) && smallest.is_none_or(|s| *key < s) {
                smallest = Some(*key);
            }
        }
        return smallest;
    }
    let placeholder = Pubkey::default();
    let mut sorted = [&placeholder; TX_ACCOUNT_LOCKS_MAX];
    let sorted = sorted.get_mut(..keys.len())?;
    for (slot, key) in sorted.iter_mut().zip(keys) {
        *slot = key;
    }
    sorted.sort_unstable();
    sorted
        .windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| *pair[0])
}
