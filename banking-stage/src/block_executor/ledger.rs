//! `braid ledger verify` on the block executor: a whole ledger replayed from genesis, each
//! block parsed and its signatures verified while the block before it executes.

use std::sync::Arc;
use std::time::Instant;

use braid_ledger::bank::{Bank, BankError};
use braid_ledger::blockstore::Block;
use braid_primitives::Hash;
use braid_runtime::executor::Executor;

use super::{BlockExecutor, Signatures, nanos, parse, wires_of};

/// Wall time spent in each stage of replaying blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayTimes {
    /// Parsing and verifying signatures.
    pub parse_ns: u64,
    /// Resolving, admitting, executing, recording and checking.
    pub execute_ns: u64,
    /// Sealing and committing: the state-hash fold and the accounts.
    pub commit_ns: u64,
}

/// What [`verify_ledger`] checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedLedger {
    /// The last slot (0 if the ledger holds no block).
    pub slot: u64,
    /// Its bank hash (the genesis hash if the ledger holds no block).
    pub bank_hash: Hash,
    /// Blocks replayed.
    pub blocks: usize,
    /// Transactions replayed.
    pub transactions: u64,
    /// Signatures verified.
    pub signatures: u64,
    /// Compute units the transactions consumed, as the blocks record them.
    pub compute_units: u64,
    /// Where the time went. With one thread the stages run one after another, so these are
    /// the cost of each on one core; with more, parsing overlaps execution.
    pub times: ReplayTimes,
}

/// Replays a whole ledger directory against a fresh in-memory state with `engine` and
/// checks every bank hash, applying the ledger's own rules: [`braid_ledger::verify_ledger`]
/// on the block executor, on at most its threads. Each block is parsed and its signatures
/// verified while the block before it executes. `progress` hears each block's slot and the
/// blocks done and in all.
pub fn verify_ledger(
    dir: &std::path::Path,
    executor: Arc<Executor>,
    engine: &BlockExecutor,
    progress: &mut (dyn FnMut(u64, usize, usize) + Send),
) -> Result<VerifiedLedger, BankError> {
    let genesis =
        braid_ledger::Genesis::read(dir)?.ok_or_else(|| BankError::NoGenesis(dir.to_owned()))?;
    let executor = braid_ledger::bank::executor_for(&genesis, executor);
    let blocks = braid_ledger::blockstore::read_blocks(dir)?;
    engine.pool.install(|| {
        let mut bank = Bank::in_memory(&genesis, executor)?;
        let mut verified = VerifiedLedger {
            slot: 0,
            bank_hash: bank.parent_bank_hash(),
            blocks: blocks.len(),
            transactions: 0,
            signatures: 0,
            compute_units: 0,
            times: ReplayTimes::default(),
        };
        let parse_block = |block: &Block| {
            let started = Instant::now();
            let parsed = parse(&wires_of(block), Signatures::Verify);
            (parsed, nanos(started.elapsed()))
        };
        let mut parsed = blocks.first().map(parse_block);
        for (index, block) in blocks.iter().enumerate() {
            let (this, parse_ns) = parsed.take().unwrap_or_default();
            verified.times.parse_ns = verified.times.parse_ns.saturating_add(parse_ns);
            verified.signatures = this
                .iter()
                .flatten()
                .fold(verified.signatures, |sum, (tx, _)| {
                    sum.saturating_add(tx.signatures().len() as u64)
                });
            let following = blocks.get(index.saturating_add(1));
            let mut times = verified.times;
            let (commit, next) = rayon::join(
                || engine.replay_parsed(&mut bank, block, this, &mut times),
                || following.map(parse_block),
            );
            let commit = commit?;
            verified.times = times;
            parsed = next;
            verified.slot = commit.slot;
            verified.bank_hash = commit.bank_hash;
            verified.transactions = verified
                .transactions
                .saturating_add(block.entries.len() as u64);
            verified.compute_units = block
                .entries
                .iter()
                .fold(verified.compute_units, |sum, entry| {
                    sum.saturating_add(entry.compute_units)
                });
            progress(commit.slot, index.saturating_add(1), blocks.len());
        }
        Ok(verified)
    })
}
