//! Braid's accounts database.
//!
//! This crate knows bytes, public keys and accounts; it knows nothing of transactions.
//!
//! - [`pubkey`]: account addresses.
//! - [`hash`]: 32-byte hashes.
//! - [`account`]: the account record.
//! - [`db`]: [`AccountsDb`], the memory-mapped store with atomic, durable slot commits and
//!   crash recovery (design notes in its module docs).
//! - [`format`]: the on-disk record and manifest layouts (specified in `FORMAT.md`).
//! - [`error`]: the crate's one error type.
//!
//! Internal: `segment` (one append-only memory-mapped file) and `index` (the sharded
//! Pubkey → location map).

pub mod account;
pub mod db;
pub mod error;
pub mod format;
pub mod hash;
mod index;
pub mod pubkey;
mod segment;

pub use account::{ACCOUNT_DATA_BYTES_MAX, Account};
pub use db::{AccountsDb, CompactionReport, Options, Recovered, Stats};
pub use error::{Error, Result};
pub use hash::{HASH_BYTES, Hash};
pub use index::{KeyHasher, KeyHasherBuilder};
pub use pubkey::{PUBKEY_BYTES, ParsePubkeyError, Pubkey};
