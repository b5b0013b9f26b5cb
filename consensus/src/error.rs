//! The crate's one error type.

use crate::context::BlockId;

/// Why a validator stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The bank failed: storage, or a decided block that does not replay.
    #[error("bank: {0}")]
    Bank(#[from] braid_ledger::bank::BankError),
    /// The network decided a block this node judged invalid: its state has diverged from
    /// the others', and it stops rather than commit what it cannot reproduce.
    #[error(
        "the network decided block {block} at height {height}, which this node judged invalid: its state has diverged"
    )]
    Diverged {
        /// The height.
        height: u64,
        /// The decided block.
        block: BlockId,
    },
    /// The network decided a block this node never received.
    #[error("the network decided block {block} at height {height}, which this node does not have")]
    UnknownDecision {
        /// The height.
        height: u64,
        /// The decided block.
        block: BlockId,
    },
    /// A saved proposal could not be written, read or removed.
    #[error("{path}: {source}")]
    Storage {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The consensus engine stopped or could not start.
    #[error("consensus engine: {0}")]
    Engine(String),
    /// The engine's channels closed.
    #[error("the consensus engine stopped")]
    EngineStopped,
    /// The genesis validator set does not decode, is empty, names a validator twice, or
    /// has no voting power.
    #[error("invalid validator set in the genesis")]
    InvalidValidatorSet,
    /// A fault a test injected stopped this validator, as if it had been killed.
    #[error("stopped by an injected fault: {0}")]
    FaultInjected(&'static str),
    /// The genesis lists no validators: it was not made for a network of validators.
    #[error("the genesis lists no validators (make one with `braid genesis --validators N`)")]
    NoValidatorSet,
}

impl ConsensusError {
    /// [`ConsensusError::Storage`] for `path`.
    pub(crate) fn storage(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Storage {
            path: path.to_owned(),
            source,
        }
    }
}
