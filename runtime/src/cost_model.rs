//! What a transaction costs a block, and how much a block may hold: Solana's cost model
//! (a cost per signature, per write lock and per compute unit, a limit per block and per
//! writable account, and a limit on account data allocated per block), with Braid's values.
//!
//! One cost unit is about one nanosecond of one core of the reference machine (a shared
//! 2-vCPU Intel Xeon with AVX-512 IFMA) replaying the block. The values were measured there on
//! 2026-12-07 with `braid ledger verify --threads 1 --output json`, which replays on one
//! thread and reports where the time went (BENCHMARKS.md, "Issue 25: block limits"):
//!
//! - a signature, parsed and batch-verified: 17–19 µs → [`SIGNATURE_COST_UNITS`];
//! - a swap on one pool: 7,700 compute units, executed in 7.25 µs, so Braid's native
//!   programs' compute units are about a nanosecond each;
//! - a transfer: 150 compute units, but 2.3 µs to execute and 1.1 µs to commit, the fixed
//!   cost of loading, storing and hashing its two written accounts → [`WRITE_LOCK_COST_UNITS`].
//!
//! The limits follow from the slot: a block must replay within its 400 ms on the
//! validators' two cores ([`BLOCK_COST_UNITS_MAX`]), and one writable account's chain, which
//! runs on one core, within the slot on that core ([`ACCOUNT_COST_UNITS_MAX`]; signatures
//! are verified in parallel, so they do not count against an account). They never bind below
//! what the hardware executes: a hot pool's swaps (13,700 units each against one account) fit
//! 29k to a block, 73k/s, above the 60–100k/s one thread executes only when the commit is
//! counted too; transfers fit 39k to a block (99k TPS), above the single node's ~90k.
//!
//! Account data allocated per block is estimated before execution, as Solana does, from the
//! top-level System instructions that create or allocate accounts (data a program allocates
//! through a cross-program call is not counted, as on Solana). Producer and replica compute
//! the same estimate from the same bytes.

use crate::compute_budget::ComputeBudget;
use crate::sanitized::SanitizedTransaction;
use crate::{Pubkey, SYSTEM_PROGRAM_ID};

/// Cost of one signature: parsing and batch verification on one core.
pub const SIGNATURE_COST_UNITS: u64 = 18_000;
/// Cost of one written account: loading it, storing the write and hashing its old and new
/// values into the state hash.
pub const WRITE_LOCK_COST_UNITS: u64 = 1_000;
/// The slot a block must replay within, in milliseconds.
pub const SLOT_MS: u64 = 400;
/// Cores a validator replays on (the reference machine's).
pub const REPLAY_CORES: u64 = 2;
/// Cost units per core per millisecond: one per nanosecond.
pub const COST_UNITS_PER_CORE_MS: u64 = 1_000_000;
/// Most cost units one block may hold: the slot on every replay core.
pub const BLOCK_COST_UNITS_MAX: u64 = SLOT_MS * REPLAY_CORES * COST_UNITS_PER_CORE_MS;
/// Most cost units the transactions writing one account may hold in one block: the slot on
/// one core.
pub const ACCOUNT_COST_UNITS_MAX: u64 = SLOT_MS * COST_UNITS_PER_CORE_MS;
/// Most account data a block may allocate, in bytes: a quarter of the slot at the measured
/// 1.2 GB/s of sequential write and fsync (`dd … conv=fsync`), which is also Solana's
/// 100 MB.
pub const BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX: u64 = 100_000_000;

const _: () = assert!(ACCOUNT_COST_UNITS_MAX <= BLOCK_COST_UNITS_MAX);
// The largest transaction fits in a block: 1.4M compute units, 64 write locks, 127
// signatures.
const _: () = assert!(
    crate::compute_budget::COMPUTE_UNIT_LIMIT_MAX as u64
        + 64 * WRITE_LOCK_COST_UNITS
        + 127 * SIGNATURE_COST_UNITS
        <= ACCOUNT_COST_UNITS_MAX
);

/// A transaction's cost, before or after it executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionCost {
    /// Signatures × [`SIGNATURE_COST_UNITS`].
    pub signature_units: u64,
    /// Written accounts × [`WRITE_LOCK_COST_UNITS`].
    pub write_lock_units: u64,
    /// Compute units: the requested limit before execution, those consumed after.
    pub compute_units: u64,
    /// Account data it allocates, estimated from its System instructions, in bytes.
    pub allocated_bytes: u64,
}

impl TransactionCost {
    /// The cost of `tx`, whose written accounts are `writable`, with `compute_units`.
    pub fn new(tx: &SanitizedTransaction, writable: usize, compute_units: u64) -> Self {
        Self {
            signature_units: (tx.signatures().len() as u64).saturating_mul(SIGNATURE_COST_UNITS),
            write_lock_units: (writable as u64).saturating_mul(WRITE_LOCK_COST_UNITS),
            compute_units,
            allocated_bytes: allocated_bytes(tx),
        }
    }

    /// What it costs before executing: its requested compute-unit limit (a transaction whose
    /// budget does not decode is rejected unpaid at execution; it reserves nothing).
    pub fn estimate(tx: &SanitizedTransaction, writable: usize) -> Self {
        let limit = ComputeBudget::from_message(tx.message())
            .map_or(0, |budget| u64::from(budget.compute_unit_limit));
        Self::new(tx, writable, limit)
    }

    /// Whether it fits an empty block: if not, no block can ever hold it.
    pub fn fits_an_empty_block(&self) -> Result<(), BlockLimit> {
        if self.block_units() > BLOCK_COST_UNITS_MAX {
            return Err(BlockLimit::BlockCost);
        }
        if self.allocated_bytes > BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX {
            return Err(BlockLimit::AllocatedData);
        }
        if self.account_units() > ACCOUNT_COST_UNITS_MAX {
            return Err(BlockLimit::AccountCost(Pubkey::default()));
        }
        Ok(())
    }

    /// What it costs the block.
    pub fn block_units(&self) -> u64 {
        self.signature_units
            .saturating_add(self.write_lock_units)
            .saturating_add(self.compute_units)
    }

    /// What it costs each account it writes: its execution, not its signatures.
    pub fn account_units(&self) -> u64 {
        self.write_lock_units.saturating_add(self.compute_units)
    }
}

/// Which block limit a transaction would break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockLimit {
    /// [`BLOCK_COST_UNITS_MAX`].
    #[error("the block's cost would pass {BLOCK_COST_UNITS_MAX} units")]
    BlockCost,
    /// [`ACCOUNT_COST_UNITS_MAX`] for one written account.
    #[error("the cost of the transactions writing {0} would pass {ACCOUNT_COST_UNITS_MAX} units")]
    AccountCost(Pubkey),
    /// [`BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX`].
    #[error("the block would allocate more than {BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX} bytes")]
    AllocatedData,
}

/// A block's costs so far, per block and per written account.
#[derive(Clone, Debug, Default)]
pub struct CostTracker {
    block_units: u64,
    allocated_bytes: u64,
    accounts: std::collections::HashMap<Pubkey, u64, braid_primitives::KeyHasherBuilder>,
}

impl CostTracker {
    /// An empty block's.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `cost`, writing `writable`, fits.
    pub fn check(&self, cost: &TransactionCost, writable: &[Pubkey]) -> Result<(), BlockLimit> {
        if self.block_units.saturating_add(cost.block_units()) > BLOCK_COST_UNITS_MAX {
            return Err(BlockLimit::BlockCost);
        }
        if self.allocated_bytes.saturating_add(cost.allocated_bytes)
            > BLOCK_ACCOUNT_DATA_ALLOCATED_BYTES_MAX
        {
            return Err(BlockLimit::AllocatedData);
        }
        let account_units = cost.account_units();
        for key in writable {
            let held = self.accounts.get(key).copied().unwrap_or(0);
            if held.saturating_add(account_units) > ACCOUNT_COST_UNITS_MAX {
                return Err(BlockLimit::AccountCost(*key));
            }
        }
        Ok(())
    }

    /// Adds `cost`, writing `writable`, if it fits.
    pub fn try_add(
        &mut self,
        cost: &TransactionCost,
        writable: &[Pubkey],
    ) -> Result<(), BlockLimit> {
        self.check(cost, writable)?;
        self.add(cost, writable);
        Ok(())
    }

    /// Adds `cost`, writing `writable`, whether or not it fits: for a transaction that
    /// already ran within a reservation [`CostTracker::try_add`] accepted.
    pub fn add(&mut self, cost: &TransactionCost, writable: &[Pubkey]) {
        self.block_units = self.block_units.saturating_add(cost.block_units());
        self.allocated_bytes = self.allocated_bytes.saturating_add(cost.allocated_bytes);
        let account_units = cost.account_units();
        for key in writable {
            let held = self.accounts.entry(*key).or_insert(0);
            *held = held.saturating_add(account_units);
        }
    }

    /// Takes back `cost`, added earlier for `writable` (a reservation replaced by what the
    /// transaction really cost).
    pub fn remove(&mut self, cost: &TransactionCost, writable: &[Pubkey]) {
        self.block_units = self.block_units.saturating_sub(cost.block_units());
        self.allocated_bytes = self.allocated_bytes.saturating_sub(cost.allocated_bytes);
        let account_units = cost.account_units();
        for key in writable {
            if let Some(held) = self.accounts.get_mut(key) {
                *held = held.saturating_sub(account_units);
            }
        }
    }

    /// Cost units held by the block.
    pub fn block_units(&self) -> u64 {
        self.block_units
    }

    /// Account data bytes the block allocates.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated_bytes
    }
}

/// Bytes of account data `tx`'s top-level System instructions create or allocate: the
/// `space` of `CreateAccount` (tag 0), `CreateAccountWithSeed` (3), `Allocate` (8) and
/// `AllocateWithSeed` (9), decoded from their bincode layout. Anything that does not
/// decode allocates nothing here (the System program will refuse it).
pub fn allocated_bytes(tx: &SanitizedTransaction) -> u64 {
    let message = tx.message();
    let keys = tx.account_keys();
    message
        .instructions
        .iter()
        .filter(|instruction| {
            keys.get(usize::from(instruction.program_id_index)) == Some(&SYSTEM_PROGRAM_ID)
        })
        .filter_map(|instruction| system_space(&instruction.data))
        .fold(0u64, u64::saturating_add)
}

/// The `space` a System instruction's data asks for, if it allocates.
fn system_space(data: &[u8]) -> Option<u64> {
    let tag = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            data.get(at..at.checked_add(8)?)?.try_into().ok()?,
        ))
    };
    // A bincode string: u64 length, then the bytes. Returns the offset after it.
    let after_string = |at: usize| -> Option<usize> {
        let len = usize::try_from(u64_at(at)?).ok()?;
        at.checked_add(8)?.checked_add(len)
    };
    match tag {
        // lamports, space, owner
        0 => u64_at(12),
        // base, seed, lamports, space, owner
        3 => u64_at(after_string(36)?.checked_add(8)?),
        // space
        8 => u64_at(4),
        // base, seed, space, owner
        9 => u64_at(after_string(36)?),
        _ => None,
    }
}
