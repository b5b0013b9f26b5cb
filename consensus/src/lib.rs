//! Braid replicas ordered by Malachite BFT.
//!
//! Heights are slots and the value decided is a block. The round's proposer executes
//! transactions from its pool into a block carrying its bank hash; every validator replays
//! the block on its own bank and votes for it only if it computes the same bank hash. A slot
//! is committed (and `finalized`) when Malachite decides its block.
//!
//! - [`context`]: Malachite's `Context` for Braid (heights, validators, votes, proposals);
//! - [`signing`]: ed25519 signatures over domain-separated encodings;
//! - [`codec`]: Borsh for every network and WAL message;
//! - [`block`]: the proposed block, its limits and its id;
//! - [`stream`]: a proposal as a stream of signed parts, sent while the block executes;
//! - [`genesis`]: the validator set as a genesis account;
//! - [`app`]: the application loop, one bank per validator;
//! - [`proposals`]: the blocks a validator built or accepted, on disk until decided;
//! - [`history`]: every committed block and its certificate, served to peers that sync;
//! - [`validator`]: starting a validator (engine and application) on a TCP address;
//! - [`error`]: the crate's error type.

pub mod app;
pub mod block;
pub mod codec;
pub mod context;
pub mod error;
pub mod genesis;
pub mod history;
pub mod pool;
pub mod proposals;
pub mod signing;
pub mod stream;
pub mod validator;

pub use app::{AppCounters, Fault, Finalized, Rejection, Reports};
pub use context::{Address, BraidContext, Height, ValidatorSet};
pub use error::ConsensusError;
pub use pool::{POOL_PER_PAYER_MAX, POOL_TRANSACTIONS_MAX, SubmitError};
pub use signing::{PrivateKey, PublicKey};
pub use validator::{Submitter, Validator, ValidatorConfig};
