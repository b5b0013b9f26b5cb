//! Why a submitted transaction was not taken.

use braid_runtime::TransactionError;

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The node is full: retry later.
    #[error("node is busy: ingress queue full")]
    Busy,
    /// The engine has stopped.
    #[error("pipeline has stopped")]
    Stopped,
    /// The engine stopped on its own ([`crate::NodeState::health`] says why).
    #[error("the node stopped taking transactions")]
    Failed,
    /// The transaction can never land, and was not taken: it is malformed, a signature
    /// does not verify, or its fee payer cannot pay (a validator's pool checks on entry).
    #[error("transaction refused: {0}")]
    Refused(TransactionError),
}
