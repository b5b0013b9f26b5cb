//! What the engine reports.

use braid_ledger::SlotCommit;
use braid_runtime::{Pubkey, Signature, TransactionError};

/// What the engine reports, in order: each transaction as it executes (a validator reports
/// a block's transactions once it is decided), then its slot once it is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionEvent {
    /// A transaction executed in `slot` (succeeded, or failed and paid its fee); it is
    /// durable once that slot's [`ExecutionEvent::SlotCommitted`] arrives.
    Processed {
        /// Its first signature.
        signature: Signature,
        /// The slot it executed in.
        slot: u64,
        /// Its outcome.
        status: Result<(), TransactionError>,
        /// Its program logs (empty unless the executor records them).
        logs: Vec<String>,
        /// Every account it named: always from a validator; from the pipeline only with
        /// its `detailed_events` (empty otherwise, so a load generator does not pay for them).
        account_keys: Vec<Pubkey>,
    },
    /// A transaction was refused and changed nothing.
    Rejected {
        /// Its first signature (default if it did not parse).
        signature: Signature,
        /// Why.
        error: TransactionError,
    },
    /// A slot is committed: its transactions survive a crash.
    SlotCommitted(SlotCommit),
}
