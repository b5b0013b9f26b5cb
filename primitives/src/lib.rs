//! The types every Braid crate shares, at the bottom of the dependency graph: the storage
//! crate and the runtime both build on them, and neither on the other.
//!
//! - [`pubkey`]: account addresses.
//! - [`hash`]: 32-byte hashes (blockhashes, bank and state hashes).
//! - [`signature`]: 64-byte ed25519 signatures (verification lives in the runtime).
//! - [`account`]: the account record, and the data-size limit every layer enforces.
//! - [`key_hasher`]: the one seeded hasher for maps keyed by addresses and hashes.
//! - [`cpu_time`]: the calling thread's CPU time, for per-stage budgets.
//!
//! This crate holds values and their text forms only; it never does I/O or cryptography.

pub mod account;
pub mod cpu_time;
pub mod hash;
pub mod key_hasher;
pub mod pubkey;
pub mod signature;

pub use account::{ACCOUNT_DATA_BYTES_MAX, Account};
pub use hash::{HASH_BYTES, Hash};
pub use key_hasher::{KeyHasher, KeyHasherBuilder};
pub use pubkey::{PUBKEY_BYTES, ParsePubkeyError, Pubkey};
pub use signature::{ParseSignatureError, SIGNATURE_BYTES, Signature};

/// Lamports per SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
