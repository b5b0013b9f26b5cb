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
//!   readonly signers, writable unsigned, readonly unsigned; reserved keys are then demoted
//!   to read-only (one bit each, computed once), and [`writable_keys`] and
//!   [`readonly_keys`] list the result with no allocation.
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
//!
//! A v0 message is checked the same way over its static keys, with its lookups counted:
//! `UnsupportedVersion` while parsing; `EmptyAddressTableLookup` after the header;
//! `TooManyAccountLocks` over static and loaded keys together; instruction indexes may
//! reach loaded keys, but a program id must be static (`ProgramIdLoaded`). Its loaded
//! addresses are resolved later, against the tables at a slot
//! ([`SanitizedTransaction::resolve`]), and checked then for `AccountLoadedTwice`; until
//! then [`SanitizedTransaction::account_keys`] holds only the static keys.
//! 6. [`SanitizedTransaction::try_new`] only: `TooLarge` if the transaction would not fit a
//!    packet, last because the size is only known once the message is serialized.
//!
//! Signatures are not verified here; see [`crate::sigverify`].
//!
//! [`writable_keys`]: SanitizedTransaction::writable_keys
//! [`readonly_keys`]: SanitizedTransaction::readonly_keys

use crate::account_source::AccountSource;
use crate::address_lookup_table::LoadedAddresses;
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
    /// A message version other than legacy and 0.
    #[error("message version {0} is not supported")]
    UnsupportedVersion(u8),
    /// A v0 lookup loads no address.
    #[error("address table lookup {0} loads no address")]
    EmptyAddressTableLookup(usize),
    /// An instruction's program id is an address loaded from a table (it must be static).
    #[error("instruction {instruction} loads its program id from a lookup table")]
    ProgramIdLoaded {
        /// The instruction's position.
        instruction: usize,
    },
}

/// Below this many keys duplicates are found by comparing every pair; above, by sorting.
const PAIRWISE_DUPLICATE_SCAN_KEYS_MAX: usize = 8;

/// A transaction whose structure has been checked; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedTransaction {
    transaction: Transaction,
    message_bytes: Box<[u8]>,
    message_hash: Hash,
    /// Bit `i`: key `i` is declared writable but locked and treated as read-only (see
    /// [`SanitizedTransaction::is_writable`]).
    demoted: u64,
    /// A v0 transaction's addresses from its tables, once resolved.
    loaded: Option<LoadedAddresses>,
    /// Static keys, then loaded writable, then loaded readonly: a resolved v0
    /// transaction's keys (legacy transactions read the message's).
    keys: Option<Box<[Pubkey]>>,
}

/// Keys no transaction may write-lock, whatever its header says: the loaders and the
/// programs every runtime has. (Solana's reserved account keys, as far as Braid has them.)
pub const RESERVED_ACCOUNT_KEYS: [Pubkey; 3] = [
    crate::SYSTEM_PROGRAM_ID,
    crate::NATIVE_LOADER_ID,
    crate::compute_budget::ID,
];

// One bit per key in `demoted`.
const _: () = assert!(TX_ACCOUNT_LOCKS_MAX <= u64::BITS as usize);

/// Of `keys` (a transaction's, static then loaded), those declared writable but locked
/// read-only: the reserved ones. (A program an instruction invokes cannot be declared
/// writable at all: sanitizing refuses it.) The fee payer (key 0) is never demoted: it
/// must pay.
fn demotions(message: &Message, keys: &[Pubkey], loaded_writable: usize) -> u64 {
    keys.iter()
        .enumerate()
        .filter(|(index, key)| {
            *index > 0
                && declared_writable(message, loaded_writable, *index)
                && RESERVED_ACCOUNT_KEYS.contains(key)
        })
        .fold(0u64, |demoted, (index, _)| {
            demoted | 1u64.checked_shl(index as u32).unwrap_or(0)
        })
}

/// Whether key `index` is declared writable: by the header's ranges for a static key, by
/// its lookup list for a loaded one (the first `loaded_writable` after the static keys).
fn declared_writable(message: &Message, loaded_writable: usize, index: usize) -> bool {
    let statics = message.account_keys.len();
    if index < statics {
        is_writable_index(&message.header, statics, index)
    } else {
        index.saturating_sub(statics) < loaded_writable
    }
}

impl SanitizedTransaction {
    /// Parses wire bytes and checks every rule.
    pub fn try_from_bytes(bytes: &[u8]) -> Result<Self, SanitizeError> {
        let (transaction, message_offset) = crate::transaction::parse(bytes)?;
        sanitize(&transaction)?;
        let message_bytes: Box<[u8]> = bytes.get(message_offset..).unwrap_or_default().into();
        let message_hash = hash_raw_message(&message_bytes);
        let demoted = demotions(&transaction.message, &transaction.message.account_keys, 0);
        Ok(Self {
            transaction,
            message_bytes,
            message_hash,
            demoted,
            loaded: None,
            keys: None,
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
        let demoted = demotions(&transaction.message, &transaction.message.account_keys, 0);
        Ok(Self {
            transaction,
            message_bytes,
            message_hash,
            demoted,
            loaded: None,
            keys: None,
        })
    }

    /// Whether this is a v0 transaction that loads addresses from tables.
    pub fn has_lookups(&self) -> bool {
        !self.message().lookups().is_empty()
    }

    /// Whether its keys are all known: a legacy transaction, or a v0 one resolved.
    pub fn is_resolved(&self) -> bool {
        !self.has_lookups() || self.keys.is_some()
    }

    /// The addresses a resolved v0 transaction loaded from its tables.
    pub fn loaded_addresses(&self) -> Option<&LoadedAddresses> {
        self.loaded.as_ref()
    }

    /// Resolves a v0 transaction's lookups against the tables in `source` at `slot`
    /// (see [`crate::address_lookup_table`]), then checks the whole key list for
    /// duplicates. Nothing to do for a transaction without lookups.
    pub fn resolve<S: AccountSource + ?Sized>(
        &mut self,
        source: &S,
        slot: u64,
    ) -> Result<(), crate::TransactionError> {
        if !self.has_lookups() {
            return Ok(());
        }
        let loaded = crate::address_lookup_table::resolve(self.message().lookups(), source, slot)?;
        let message = &self.transaction.message;
        let mut keys = Vec::with_capacity(message.account_keys.len().saturating_add(loaded.len()));
        keys.extend_from_slice(&message.account_keys);
        keys.extend_from_slice(&loaded.writable);
        keys.extend_from_slice(&loaded.readonly);
        // Sanitizing bounded static plus looked-up keys by TX_ACCOUNT_LOCKS_MAX.
        if let Some(duplicate) = find_duplicate(&keys) {
            return Err(SanitizeError::AccountLoadedTwice(duplicate).into());
        }
        self.demoted = demotions(message, &keys, loaded.writable.len());
        self.keys = Some(keys.into_boxed_slice());
        self.loaded = Some(loaded);
        Ok(())
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

    /// The account keys, fee payer first: the message's, then (v0, once resolved) the
    /// loaded writable and readonly addresses. Instruction indexes refer to this list.
    pub fn account_keys(&self) -> &[Pubkey] {
        match &self.keys {
            Some(keys) => keys,
            None => &self.transaction.message.account_keys,
        }
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

    /// Whether key `index` is writable: declared writable by the header and not reserved
    /// ([`RESERVED_ACCOUNT_KEYS`]), which are demoted to read-only as Solana does. The
    /// executor demotes registered programs on top of this (`Executor::is_writable`), and the
    /// lock set follows the executor. Out-of-range indexes are not writable.
    pub fn is_writable(&self, index: usize) -> bool {
        let loaded_writable = self
            .loaded
            .as_ref()
            .map_or(0, |loaded| loaded.writable.len());
        index < self.account_keys().len()
            && declared_writable(self.message(), loaded_writable, index)
            && self.demoted & 1u64.checked_shl(index as u32).unwrap_or(0) == 0
    }

    /// Keys the transaction writes: its write locks, in key order.
    pub fn writable_keys(&self) -> impl Iterator<Item = &Pubkey> + Clone + '_ {
        self.account_keys()
            .iter()
            .enumerate()
            .filter(|(index, _)| self.is_writable(*index))
            .map(|(_, key)| key)
    }

    /// Keys the transaction only reads: its read locks, in key order (including demoted
    /// ones).
    pub fn readonly_keys(&self) -> impl Iterator<Item = &Pubkey> + Clone + '_ {
        self.account_keys()
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.is_writable(*index))
            .map(|(_, key)| key)
    }

    fn num_required_signatures(&self) -> usize {
        usize::from(self.message().header.num_required_signatures)
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
    let mut total = keys.len();
    for (position, lookup) in message.lookups().iter().enumerate() {
        let count = lookup
            .writable_indexes
            .len()
            .saturating_add(lookup.readonly_indexes.len());
        if count == 0 {
            return Err(SanitizeError::EmptyAddressTableLookup(position));
        }
        total = total.saturating_add(count);
    }
    if total > TX_ACCOUNT_LOCKS_MAX {
        return Err(SanitizeError::TooManyAccountLocks(total));
    }
    for (position, instruction) in message.instructions.iter().enumerate() {
        let out_of_range = |index: u8| SanitizeError::IndexOutOfRange {
            instruction: position,
            index,
        };
        let program = usize::from(instruction.program_id_index);
        if program >= total {
            return Err(out_of_range(instruction.program_id_index));
        }
        if program >= keys.len() {
            return Err(SanitizeError::ProgramIdLoaded {
                instruction: position,
            });
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
            .find(|&&i| usize::from(i) >= total)
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
