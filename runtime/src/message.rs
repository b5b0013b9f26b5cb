//! The message: what a transaction's signatures sign. Its header splits `account_keys`
//! into four contiguous ranges (writable signers, readonly signers, writable unsigned,
//! readonly unsigned); that split is the transaction's declared lock set.
//!
//! Compiling instructions into a message follows Solana's legacy `Message::new`: the payer
//! comes first as a writable signer; every other key is placed by its merged privileges
//! (signer/writable bits OR-ed over all its uses) into one of the four classes; within a
//! class keys are in ascending byte order (Solana collects them in a `BTreeMap`, which the
//! test vectors confirm: the System program precedes ComputeBudget although it is used
//! later); program ids that are not also accounts are readonly and unsigned.
//!
//! Wire layout (legacy, no version prefix): the three header bytes, a compact-u16 count and
//! the 32-byte keys, the 32-byte recent blockhash, a compact-u16 count and the instructions,
//! each `program_id_index: u8`, compact-u16 count and account indexes, compact-u16 length
//! and data.
//!
//! A v0 message starts with the byte [`MESSAGE_VERSION_PREFIX`] (`0x80 | 0`), then the
//! legacy layout, then a compact-u16 count of address table lookups, each a 32-byte table
//! address and two compact-u16-counted lists of `u8` indexes into that table (writable,
//! then readonly). Its instructions index the static keys, then every lookup's writable
//! addresses, then every lookup's readonly addresses, in lookup order
//! ([`crate::address_lookup_table`] resolves them).

use std::collections::BTreeMap;

use crate::instruction::Instruction;
use crate::short_vec;
use crate::{Hash, Pubkey};

/// Domain separator Solana prefixes to message bytes before hashing them.
const MESSAGE_HASH_PREFIX: &[u8] = b"solana-tx-message-v1";
/// Bytes of the fixed header.
pub const MESSAGE_HEADER_BYTES: usize = 3;
/// The first byte of a versioned message: the high bit set, the version (0) below it.
pub const MESSAGE_VERSION_PREFIX: u8 = 0x80;

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

/// A v0 message's use of one address lookup table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAddressTableLookup {
    /// The table's address.
    pub account_key: Pubkey,
    /// Indexes of the table's addresses loaded writable.
    pub writable_indexes: Vec<u8>,
    /// Indexes of the table's addresses loaded readonly.
    pub readonly_indexes: Vec<u8>,
}

/// A Solana message: legacy, or v0 when it has address table lookups (possibly none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The lock split of `account_keys`.
    pub header: MessageHeader,
    /// The accounts named in the message itself (a v0 message's static keys), fee payer
    /// first.
    pub account_keys: Vec<Pubkey>,
    /// A recent blockhash: the transaction expires when it leaves the last 150.
    pub recent_blockhash: Hash,
    /// The instructions, run in order.
    pub instructions: Vec<CompiledInstruction>,
    /// `None` for a legacy message; a v0 message's lookups otherwise.
    pub address_table_lookups: Option<Vec<MessageAddressTableLookup>>,
}

/// Hashes serialized message bytes as Solana does: blake3 over a domain prefix and the bytes.
pub fn hash_raw_message(message_bytes: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(MESSAGE_HASH_PREFIX);
    hasher.update(message_bytes);
    Hash::new_from_array(*hasher.finalize().as_bytes())
}

/// Appends a compact-u16 length; lengths come from vectors that must fit a packet.
///
/// # Panics
///
/// If `len` exceeds `u16::MAX`. No parsed transaction can hold such a vector (its length was
/// itself a compact-u16), so this is reachable only by building one by hand.
fn push_len(len: usize, out: &mut Vec<u8>) {
    let len = u16::try_from(len).expect("vector longer than u16::MAX cannot be serialized");
    short_vec::encode_len(len, out);
}

/// Merged privileges of one key while compiling.
#[derive(Default, Clone, Copy)]
struct KeyFlags {
    is_signer: bool,
    is_writable: bool,
}

impl Message {
    /// Compiles `instructions` into a message with a default blockhash, `payer` first.
    ///
    /// # Panics
    ///
    /// If the instructions name more than 256 distinct keys, which no transaction can carry.
    pub fn new(instructions: &[Instruction], payer: Option<&Pubkey>) -> Self {
        Self::new_with_blockhash(instructions, payer, &Hash::default())
    }

    /// Compiles `instructions` into a message over `blockhash`, `payer` first.
    ///
    /// # Panics
    ///
    /// If the instructions name more than 256 distinct keys, which no transaction can carry.
    pub fn new_with_blockhash(
        instructions: &[Instruction],
        payer: Option<&Pubkey>,
        blockhash: &Hash,
    ) -> Self {
        let mut flags: BTreeMap<Pubkey, KeyFlags> = BTreeMap::new();
        for instruction in instructions {
            flags.entry(instruction.program_id).or_default();
            for meta in &instruction.accounts {
                let entry = flags.entry(meta.pubkey).or_default();
                entry.is_signer |= meta.is_signer;
                entry.is_writable |= meta.is_writable;
            }
        }
        if let Some(payer) = payer {
            flags.remove(payer);
        }

        let class_of = |wanted_signer: bool, wanted_writable: bool| {
            flags
                .iter()
                .filter(move |(_, f)| {
                    f.is_signer == wanted_signer && f.is_writable == wanted_writable
                })
                .map(|(key, _)| *key)
        };
        let mut account_keys: Vec<Pubkey> = payer.copied().into_iter().collect();
        account_keys.extend(class_of(true, true));
        let writable_signers = account_keys.len();
        account_keys.extend(class_of(true, false));
        let signers = account_keys.len();
        account_keys.extend(class_of(false, true));
        let writable = account_keys.len();
        account_keys.extend(class_of(false, false));

        let count =
            |n: usize| u8::try_from(n).expect("more than 255 keys of one kind in a message");
        let header = MessageHeader {
            num_required_signatures: count(signers),
            num_readonly_signed_accounts: count(signers.saturating_sub(writable_signers)),
            num_readonly_unsigned_accounts: count(account_keys.len().saturating_sub(writable)),
        };
        let index_of = |key: &Pubkey| {
            let position = account_keys
                .iter()
                .position(|k| k == key)
                .expect("every instruction key was collected above");
            u8::try_from(position).expect("more than 256 keys in a message")
        };
        let instructions = instructions
            .iter()
            .map(|instruction| CompiledInstruction {
                program_id_index: index_of(&instruction.program_id),
                accounts: instruction
                    .accounts
                    .iter()
                    .map(|meta| index_of(&meta.pubkey))
                    .collect(),
                data: instruction.data.clone(),
            })
            .collect();
        Self {
            header,
            account_keys,
            recent_blockhash: *blockhash,
            instructions,
            address_table_lookups: None,
        }
    }

    /// Compiles `instructions` into a v0 message over `blockhash`, `payer` first, loading
    /// from `tables` (each a table's address and its addresses) every key that is neither a
    /// signer nor a program id and that a table holds; the rest are static keys.
    ///
    /// # Panics
    ///
    /// As [`Message::new_with_blockhash`]; also if a table holds more than 256 addresses.
    pub fn new_v0(
        instructions: &[Instruction],
        payer: &Pubkey,
        blockhash: &Hash,
        tables: &[(Pubkey, Vec<Pubkey>)],
    ) -> Self {
        let legacy = Self::new_with_blockhash(instructions, Some(payer), blockhash);
        let programs: Vec<Pubkey> = instructions.iter().map(|ix| ix.program_id).collect();
        let mut lookups: Vec<MessageAddressTableLookup> = Vec::new();
        // (key, writable) of each loaded key, in the order instructions will index them.
        let mut loaded: Vec<(Pubkey, bool)> = Vec::new();
        let mut statics = Vec::new();
        for (index, key) in legacy.account_keys.iter().enumerate() {
            let found = (!legacy.is_signer(index) && !programs.contains(key))
                .then(|| {
                    tables.iter().find_map(|(table, addresses)| {
                        let at = addresses.iter().position(|address| address == key)?;
                        Some((
                            *table,
                            u8::try_from(at).expect("a table holds 256 addresses"),
                        ))
                    })
                })
                .flatten();
            match found {
                Some((table, at)) => {
                    let writable = legacy.is_writable(index);
                    let lookup = match lookups.iter_mut().position(|l| l.account_key == table) {
                        Some(position) => &mut lookups[position],
                        None => {
                            lookups.push(MessageAddressTableLookup {
                                account_key: table,
                                ..MessageAddressTableLookup::default()
                            });
                            lookups.last_mut().expect("just pushed")
                        }
                    };
                    if writable {
                        lookup.writable_indexes.push(at);
                    } else {
                        lookup.readonly_indexes.push(at);
                    }
                    loaded.push((*key, writable));
                }
                None => statics.push((index, *key)),
            }
        }
        // Instructions index static keys, then all writable, then all readonly loads, in
        // lookup order: the order resolution produces.
        let mut order: Vec<Pubkey> = statics.iter().map(|(_, key)| *key).collect();
        for writable in [true, false] {
            for lookup in &lookups {
                let indexes = if writable {
                    &lookup.writable_indexes
                } else {
                    &lookup.readonly_indexes
                };
                for &at in indexes {
                    let (_, addresses) = tables
                        .iter()
                        .find(|(table, _)| *table == lookup.account_key)
                        .expect("the lookup names a table");
                    order.push(addresses[usize::from(at)]);
                }
            }
        }
        let moved_readonly = loaded.iter().filter(|(_, writable)| !writable).count();
        let header = MessageHeader {
            num_readonly_unsigned_accounts: u8::try_from(
                usize::from(legacy.header.num_readonly_unsigned_accounts)
                    .saturating_sub(moved_readonly),
            )
            .expect("fewer than before"),
            ..legacy.header
        };
        let index_of = |old: u8| {
            let key = legacy.account_keys[usize::from(old)];
            u8::try_from(
                order
                    .iter()
                    .position(|k| *k == key)
                    .expect("every key is placed"),
            )
            .expect("at most 256 keys")
        };
        let instructions = legacy
            .instructions
            .iter()
            .map(|ix| CompiledInstruction {
                program_id_index: index_of(ix.program_id_index),
                accounts: ix.accounts.iter().map(|&i| index_of(i)).collect(),
                data: ix.data.clone(),
            })
            .collect();
        Self {
            header,
            account_keys: statics.into_iter().map(|(_, key)| key).collect(),
            recent_blockhash: *blockhash,
            instructions,
            address_table_lookups: Some(lookups),
        }
    }

    /// Whether this is a v0 message (its lookups may still be empty).
    pub fn is_versioned(&self) -> bool {
        self.address_table_lookups.is_some()
    }

    /// The lookups of a v0 message; empty for a legacy one.
    pub fn lookups(&self) -> &[MessageAddressTableLookup] {
        self.address_table_lookups.as_deref().unwrap_or_default()
    }

    /// How many bytes [`Message::serialize`] produces.
    pub fn serialized_len(&self) -> usize {
        let len_prefix = |n: usize| short_vec::encoded_len(u16::try_from(n).unwrap_or(u16::MAX));
        let mut total = MESSAGE_HEADER_BYTES
            .saturating_add(len_prefix(self.account_keys.len()))
            .saturating_add(
                self.account_keys
                    .len()
                    .saturating_mul(braid_primitives::PUBKEY_BYTES),
            )
            .saturating_add(braid_primitives::HASH_BYTES)
            .saturating_add(len_prefix(self.instructions.len()));
        for instruction in &self.instructions {
            total = total
                .saturating_add(1)
                .saturating_add(len_prefix(instruction.accounts.len()))
                .saturating_add(instruction.accounts.len())
                .saturating_add(len_prefix(instruction.data.len()))
                .saturating_add(instruction.data.len());
        }
        if let Some(lookups) = &self.address_table_lookups {
            total = total
                .saturating_add(1)
                .saturating_add(len_prefix(lookups.len()));
            for lookup in lookups {
                total = total
                    .saturating_add(braid_primitives::PUBKEY_BYTES)
                    .saturating_add(len_prefix(lookup.writable_indexes.len()))
                    .saturating_add(lookup.writable_indexes.len())
                    .saturating_add(len_prefix(lookup.readonly_indexes.len()))
                    .saturating_add(lookup.readonly_indexes.len());
            }
        }
        total
    }

    /// Solana's message bytes (with the version prefix for v0): what signatures sign.
    ///
    /// # Panics
    ///
    /// If a vector is longer than `u16::MAX`, which only a hand-built message can be.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.serialized_len());
        self.serialize_into(&mut out);
        out
    }

    /// Appends [`Message::serialize`]'s bytes to `out`.
    ///
    /// # Panics
    ///
    /// If a vector is longer than `u16::MAX`, which only a hand-built message can be.
    pub fn serialize_into(&self, out: &mut Vec<u8>) {
        if self.is_versioned() {
            out.push(MESSAGE_VERSION_PREFIX);
        }
        out.push(self.header.num_required_signatures);
        out.push(self.header.num_readonly_signed_accounts);
        out.push(self.header.num_readonly_unsigned_accounts);
        push_len(self.account_keys.len(), out);
        for key in &self.account_keys {
            out.extend_from_slice(key.as_ref());
        }
        out.extend_from_slice(self.recent_blockhash.as_ref());
        push_len(self.instructions.len(), out);
        for instruction in &self.instructions {
            out.push(instruction.program_id_index);
            push_len(instruction.accounts.len(), out);
            out.extend_from_slice(&instruction.accounts);
            push_len(instruction.data.len(), out);
            out.extend_from_slice(&instruction.data);
        }
        if let Some(lookups) = &self.address_table_lookups {
            push_len(lookups.len(), out);
            for lookup in lookups {
                out.extend_from_slice(lookup.account_key.as_ref());
                push_len(lookup.writable_indexes.len(), out);
                out.extend_from_slice(&lookup.writable_indexes);
                push_len(lookup.readonly_indexes.len(), out);
                out.extend_from_slice(&lookup.readonly_indexes);
            }
        }
    }

    /// Solana's message hash: [`hash_raw_message`] of [`Message::serialize`].
    pub fn hash(&self) -> Hash {
        hash_raw_message(&self.serialize())
    }

    /// Whether key `index` must sign.
    pub fn is_signer(&self, index: usize) -> bool {
        index < usize::from(self.header.num_required_signatures)
    }

    /// Whether key `index` is declared writable by the header's ranges. Sanitizing rejects
    /// writable program ids, so unlike Solana no demotion is needed here.
    pub fn is_writable(&self, index: usize) -> bool {
        is_writable_index(&self.header, self.account_keys.len(), index)
    }
}

/// Whether `index` falls in a writable range of a message with `num_keys` keys.
pub(crate) fn is_writable_index(header: &MessageHeader, num_keys: usize, index: usize) -> bool {
    let signers = usize::from(header.num_required_signatures);
    if index < signers {
        index < signers.saturating_sub(usize::from(header.num_readonly_signed_accounts))
    } else {
        index < num_keys.saturating_sub(usize::from(header.num_readonly_unsigned_accounts))
    }
}
