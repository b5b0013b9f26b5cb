//! Braid's ledger: the bank that turns executed transactions into durable slots, the block
//! file that lets any node replay them, and the genesis every replay starts from.
//!
//! - [`genesis`]: the starting accounts, stored beside the ledger (`genesis.bin`).
//! - [`blockstore`]: the append-only, checksummed block file (`blocks.log`).
//! - [`bank`]: the one lifecycle of a transaction (admit → execute and store → record) and
//!   of a slot (state-hash fold → bank hash → block appended and synced → accounts
//!   committed), replay, and [`bank::verify_ledger`].
//!
//! The bank is the only place that joins the runtime (which executes against any
//! [`AccountSource`](braid_runtime::account_source::AccountSource)) to the accounts database
//! (which stores bytes and knows no transactions): [`bank::AccountsView`] is that join, and
//! [`bank::ProgramAccounts`] the copy of registered programs' accounts banking threads read
//! instead of the database.

pub mod bank;
pub mod blockstore;
pub mod genesis;

pub use bank::{
    AccountsView, Bank, BankError, COMPACTION_INTERVAL, CommitCost, CommittedSlot, ExecuteWalls,
    LOCK_FILE_NAME, LedgerLock, OpenSlot, Outcome, PendingCommit, ProgramAccounts, Refusal,
    SlotCommit, accounts_options, verify_ledger,
};
pub use blockstore::{Block, Entry, EntryStatus, Ledger, LedgerError};
pub use genesis::{Genesis, GenesisError};
