//! Braid's banking stage: the parallel pipeline from wire bytes to executed, recorded
//! transactions.
//!
//! - [`pipeline`]: bounded ingress → sigverify workers (each parses, sanitizes and
//!   batch-verifies its own chunks; chunks leave in arrival order) → scheduler thread (owns the [`Bank`](braid_ledger::Bank): admission, dispatch,
//!   recording, slot commits) → banking threads (execute each batch in order) → events.
//! - [`block_executor`]: the same scheduler and banking threads executing a block whose
//!   order is fixed (replay, `braid ledger verify`, a replica judging a proposal), equal to
//!   serial replay bit for bit.
//! - [`scheduler`]: the lock table and priority queue that pack conflict-free batches; a
//!   plain data structure with no threads, so it is tested and benchmarked on its own.
//!
//! What it reports and shares with readers ([`braid_interfaces`]: events, state, the CPU
//! budget) is defined outside it, so a validator reports the same way.
//!
//! This crate knows no HTTP, no programs and no files: the bank and ledger are
//! `braid-ledger`'s, the programs arrive in the executor, and serving is `braid-rpc`'s.

pub mod block_executor;
pub mod pipeline;
pub mod scheduler;
