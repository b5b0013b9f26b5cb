//! The programs a `braid` node (and `braid ledger verify`) runs.
//!
//! A ledger can only be replayed with the programs it was written with, so the node, the
//! verifier and the load generator share one registry: every program in this repository,
//! defined once in [`braid_benches::programs`].

use braid_runtime::program::ProgramRegistry;

/// The node's program registry: system, token, counter and the DeFi programs.
pub fn programs() -> ProgramRegistry {
    braid_benches::programs()
}
