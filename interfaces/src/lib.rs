//! What the parts of a Braid node share, whichever engine drives its slots (the single
//! node's pipeline or a validator's consensus) and whoever reads them (JSON-RPC, PubSub,
//! the load generator):
//!
//! - [`event`]: [`ExecutionEvent`], what the engine reports as transactions execute and
//!   slots commit, in order;
//! - [`state`]: [`NodeState`], what readers see of the engine while it runs (slot, latest
//!   blockhash, accounts, counters, health), and [`EngineFailure`], why it stopped;
//! - [`submit`]: [`SubmitError`], why a submitted transaction was not taken;
//! - [`budget`]: CPU time per stage, as typed counters ([`budget::CpuBudget`]);
//! - [`threads`]: CPU time by thread group, for any engine, from the kernel.
//!
//! It depends on the ledger and nothing above it, so the engines and the readers meet here
//! without depending on each other.

pub mod budget;
pub mod event;
pub mod state;
pub mod submit;
pub mod threads;

pub use event::ExecutionEvent;
pub use state::{EngineCounters, EngineFailure, NodeState};
pub use submit::SubmitError;
