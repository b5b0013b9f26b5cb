//! Address lookup tables as the runtime reads them: the account layout (Solana's, byte
//! for byte, so clients parse it unchanged) and the resolution of a v0 message's lookups
//! into the addresses it loads.
//!
//! The program that creates and changes tables is a program crate; the runtime needs only
//! to read them, before scheduling (the loaded addresses are locked) and again when the
//! transaction executes.
//!
//! # Why resolution is deterministic
//!
//! A table's usable addresses at slot `s` do not depend on anything else executed in `s`:
//! addresses appended in `s` become usable in `s + 1`; a table deactivated in `s` stays
//! usable for [`DEACTIVATION_COOLDOWN_SLOTS`] more; a table can be closed only once it is
//! unusable. So a transaction resolves the same way whichever order a slot's transactions
//! run in, live or in replay, although it does not lock the tables it reads.
//!
//! # Layout
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | state: 0 uninitialized, 1 lookup table (u32 LE) |
//! | 4 | 8 | deactivation slot (`u64::MAX`: active) |
//! | 12 | 8 | last extended slot |
//! | 20 | 1 | address count when the last extended slot began |
//! | 21 | 1 | authority present (1) or not (0: frozen) |
//! | 22 | 32 | authority, when present |
//! | 54 | 2 | padding |
//! | 56 | 32 × n | addresses |

use crate::account_source::AccountSource;
use crate::message::MessageAddressTableLookup;
use crate::{Pubkey, TransactionError};

/// The Address Lookup Table program's id (Solana's).
pub const ID: Pubkey = Pubkey::from_str_const("AddressLookupTab1e1111111111111111111111111");
/// Bytes before the addresses.
pub const LOOKUP_TABLE_META_BYTES: usize = 56;
/// Most addresses one table holds (a `u8` index reaches them all).
pub const LOOKUP_TABLE_ADDRESSES_MAX: usize = 256;
/// Slots a deactivated table stays usable (Solana's slot-hashes depth).
pub const DEACTIVATION_COOLDOWN_SLOTS: u64 = 512;

const STATE_LOOKUP_TABLE: u32 = 1;
const AUTHORITY_OFFSET: usize = 22;

const _: () = assert!(AUTHORITY_OFFSET + 32 + 2 == LOOKUP_TABLE_META_BYTES);
const _: () = assert!(LOOKUP_TABLE_ADDRESSES_MAX == u8::MAX as usize + 1);

/// Addresses a v0 transaction loads from its tables, writable ones first, each in lookup
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadedAddresses {
    /// Loaded writable.
    pub writable: Vec<Pubkey>,
    /// Loaded readonly.
    pub readonly: Vec<Pubkey>,
}

impl LoadedAddresses {
    /// How many addresses.
    pub fn len(&self) -> usize {
        self.writable.len().saturating_add(self.readonly.len())
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A table's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupTableMeta {
    /// The slot it was deactivated in; `u64::MAX` while active.
    pub deactivation_slot: u64,
    /// The last slot addresses were appended in.
    pub last_extended_slot: u64,
    /// How many addresses it held when that slot's first append began.
    pub last_extended_slot_start_index: u8,
    /// Who may change it; `None` once frozen.
    pub authority: Option<Pubkey>,
}

impl LookupTableMeta {
    /// A new, active, empty table's header.
    pub fn new(authority: Pubkey) -> Self {
        Self {
            deactivation_slot: u64::MAX,
            last_extended_slot: 0,
            last_extended_slot_start_index: 0,
            authority: Some(authority),
        }
    }

    /// Whether it is active (not deactivated).
    pub fn is_active(&self) -> bool {
        self.deactivation_slot == u64::MAX
    }

    /// Whether lookups may use it at `slot`: active, or deactivated no more than
    /// [`DEACTIVATION_COOLDOWN_SLOTS`] ago.
    pub fn is_usable(&self, slot: u64) -> bool {
        self.is_active()
            || slot.saturating_sub(self.deactivation_slot) <= DEACTIVATION_COOLDOWN_SLOTS
    }

    /// Writes the header into the first [`LOOKUP_TABLE_META_BYTES`] of `data`.
    ///
    /// # Panics
    ///
    /// If `data` is shorter than that; callers size tables first.
    pub fn write(&self, data: &mut [u8]) {
        let meta = &mut data[..LOOKUP_TABLE_META_BYTES];
        meta.fill(0);
        meta[..4].copy_from_slice(&STATE_LOOKUP_TABLE.to_le_bytes());
        meta[4..12].copy_from_slice(&self.deactivation_slot.to_le_bytes());
        meta[12..20].copy_from_slice(&self.last_extended_slot.to_le_bytes());
        meta[20] = self.last_extended_slot_start_index;
        if let Some(authority) = &self.authority {
            meta[21] = 1;
            meta[AUTHORITY_OFFSET..AUTHORITY_OFFSET + 32].copy_from_slice(authority.as_ref());
        }
    }
}

/// A table read from an account's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupTable<'a> {
    /// Its header.
    pub meta: LookupTableMeta,
    /// Its addresses, as stored (32 bytes each).
    addresses: &'a [u8],
}

/// Why bytes are not a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LookupTableError {
    /// Shorter than a header, not in the lookup-table state, or a malformed field.
    #[error("not a lookup table")]
    Invalid,
    /// Initialized as something else or not at all.
    #[error("lookup table is not initialized")]
    Uninitialized,
}

impl<'a> LookupTable<'a> {
    /// Reads a table; the address bytes must be whole addresses.
    pub fn parse(data: &'a [u8]) -> Result<Self, LookupTableError> {
        let meta = data
            .get(..LOOKUP_TABLE_META_BYTES)
            .ok_or(LookupTableError::Invalid)?;
        let u64_at = |at: usize| {
            let bytes = meta.get(at..).and_then(|rest| rest.get(..8));
            u64::from_le_bytes(bytes.and_then(|b| b.try_into().ok()).unwrap_or([0; 8]))
        };
        match u32::from_le_bytes(meta[..4].try_into().unwrap_or([0; 4])) {
            STATE_LOOKUP_TABLE => {}
            0 => return Err(LookupTableError::Uninitialized),
            _ => return Err(LookupTableError::Invalid),
        }
        let authority = match meta[21] {
            0 => None,
            1 => Some(Pubkey::new_from_array(
                meta[AUTHORITY_OFFSET..AUTHORITY_OFFSET + 32]
                    .try_into()
                    .unwrap_or([0; 32]),
            )),
            _ => return Err(LookupTableError::Invalid),
        };
        let addresses = &data[LOOKUP_TABLE_META_BYTES..];
        if !addresses.len().is_multiple_of(32) || addresses.len() / 32 > LOOKUP_TABLE_ADDRESSES_MAX
        {
            return Err(LookupTableError::Invalid);
        }
        Ok(Self {
            meta: LookupTableMeta {
                deactivation_slot: u64_at(4),
                last_extended_slot: u64_at(12),
                last_extended_slot_start_index: meta[20],
                authority,
            },
            addresses,
        })
    }

    /// How many addresses it holds.
    pub fn len(&self) -> usize {
        self.addresses.len() / 32
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// Address `index`, if it holds that many.
    pub fn address(&self, index: usize) -> Option<Pubkey> {
        let start = index.checked_mul(32)?;
        let bytes = self.addresses.get(start..start.checked_add(32)?)?;
        Some(Pubkey::new_from_array(bytes.try_into().ok()?))
    }

    /// How many of its addresses lookups may use at `slot`: those appended before it.
    pub fn active_len(&self, slot: u64) -> usize {
        if slot > self.meta.last_extended_slot {
            self.len()
        } else {
            usize::from(self.meta.last_extended_slot_start_index).min(self.len())
        }
    }
}

/// Resolves `lookups` against the tables in `source` as they stand at `slot`.
///
/// Errors, in Solana's terms: a missing or unusable (deactivated past its cooldown) table
/// is `AddressLookupTableNotFound`; a table not owned by the program,
/// `InvalidAddressLookupTableOwner`; one that does not parse,
/// `InvalidAddressLookupTableData`; an index past its usable addresses,
/// `InvalidAddressLookupTableIndex`.
pub fn resolve<S: AccountSource + ?Sized>(
    lookups: &[MessageAddressTableLookup],
    source: &S,
    slot: u64,
) -> Result<LoadedAddresses, TransactionError> {
    let mut loaded = LoadedAddresses::default();
    for lookup in lookups {
        let account = source
            .get_account(&lookup.account_key)
            .ok_or(TransactionError::AddressLookupTableNotFound)?;
        if account.owner != ID {
            return Err(TransactionError::InvalidAddressLookupTableOwner);
        }
        let table = LookupTable::parse(&account.data)
            .map_err(|_| TransactionError::InvalidAddressLookupTableData)?;
        if !table.meta.is_usable(slot) {
            return Err(TransactionError::AddressLookupTableNotFound);
        }
        let active = table.active_len(slot);
        let address = |index: &u8| {
            let index = usize::from(*index);
            if index < active {
                table.address(index)
            } else {
                None
            }
            .ok_or(TransactionError::InvalidAddressLookupTableIndex)
        };
        for index in &lookup.writable_indexes {
            loaded.writable.push(address(index)?);
        }
        for index in &lookup.readonly_indexes {
            loaded.readonly.push(address(index)?);
        }
    }
    // Writable first, then readonly, each in lookup order: Solana's order, and the one
    // instruction indexes assume.
    Ok(loaded)
}
