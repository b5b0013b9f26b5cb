//! Braid's accounts database.
//!
//! This crate knows bytes, public keys and accounts; it knows nothing of transactions.
//!
//! Addresses, hashes and the account record come from `braid-primitives`.
//!
//! - [`db`]: [`AccountsDb`], the memory-mapped store with atomic, durable slot commits and
//!   crash recovery (design notes in its module docs).
//! - [`disk`]: the seam every durable write goes through, with fault injection for tests.
//! - [`format`]: the on-disk record and manifest layouts (specified in `FORMAT.md`).
//! - [`error`]: the crate's one error type.
//!
//! Internal: `segment` (one append-only memory-mapped file) and `index` (the sharded
//! Pubkey → location map).

pub mod db;
pub mod disk;
pub mod error;
pub mod format;
mod index;
mod segment;

pub use db::{AccountsDb, CompactionReport, Options, Recovered, SealedSlot, SlotWrite, Stats};
pub use disk::{Disk, DiskOp, FaultError, Faults};
pub use error::{Error, Result};
