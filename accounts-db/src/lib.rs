//! Braid's accounts database.
//!
//! This crate knows bytes, public keys and accounts; it knows nothing of transactions.
//!
//! - [`pubkey`]: account addresses.
//! - [`hash`]: 32-byte hashes.
//! - [`account`]: the account record.

pub mod account;
pub mod hash;
pub mod pubkey;

pub use account::{ACCOUNT_DATA_BYTES_MAX, Account};
pub use hash::{HASH_BYTES, Hash};
pub use pubkey::{PUBKEY_BYTES, ParsePubkeyError, Pubkey};
