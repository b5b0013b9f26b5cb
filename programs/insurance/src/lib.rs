//! Parametric cover: underwriters pool capital per covered asset, buyers pay a premium for a
//! policy that pays a fixed coverage if an oracle price falls to a strike before expiry.
//!
//! # Accounts
//!
//! - **Pool** (one per covered asset, the only shared hot account): the capital's mint, a
//!   vault token account owned by the pool's program-derived authority
//!   `[AUTHORITY_SEED, pool]`, the oracle feed, the parameters (premium rate and collateral
//!   ratio in basis points, max oracle age and claim grace period in slots) and the
//!   accounting (total and locked capital, total shares, active coverage). The client creates
//!   it with System `create_account` and initializes it in the same transaction.
//! - **Position** (per underwriter per pool, at `[POSITION_SEED, pool, owner]`): the
//!   underwriter's shares. Shares are a number in the position, not an SPL mint: they are
//!   not transferable, which keeps a deposit to three writes (pool, position, vault) plus the
//!   depositor's token account, and lets independent underwriters write disjoint accounts.
//! - **Policy** (one per policy, at `[POLICY_SEED, pool, holder, policy_id]`): coverage,
//!   strike, expiry, locked capital and a status flag, so a policy pays at most once.
//!
//! # Economics
//!
//! See [`logic`]: deposits mint shares pro rata (rounded down), withdrawals pay pro rata
//! (rounded down) out of unlocked capital only; a policy's premium is
//! `ceil(coverage × rate)` and it locks `ceil(coverage × collateral ratio)`, with the ratio
//! at least 100% so the pool is always solvent; capacity is checked before the premium is
//! added. A purchase is refused when the fresh oracle price is already at or below the
//! strike.
//!
//! # Claims
//!
//! [`logic::check_claim`] defines the rule: with `E` the expiry, `G` the grace period, `A`
//! the max oracle age and a feed price `p` set in slot `s`, a claim at slot `now` pays iff
//! the policy is active, `now ≤ E + G`, `s ≤ E`, `min(now, E) − s ≤ A` and `p ≤ strike`.
//! Before expiry that is an ordinary fresh price; during the grace period a price that was
//! fresh at expiry still counts, however stale it has become, but a price set after expiry
//! never does. After `E + G` anyone may [`Expire`](InsuranceInstruction::Expire) the policy
//! to release its capital.
//!
//! # Errors
//!
//! [`InsuranceError`] codes are reported as `InstructionError::Custom`; oracle errors are
//! translated into this space. Malformed instruction data is `InvalidInstructionData`,
//! accounts not owned by this program `IncorrectProgramId`, undecodable or mistyped accounts
//! `InvalidAccountData`, zeroed ones `UninitializedAccount`.

pub mod error;
pub mod instruction;
pub mod logic;
pub mod processor;
pub mod state;

use braid_runtime::Pubkey;

pub use error::InsuranceError;
pub use instruction::{
    InsuranceInstruction, PoolKeys, buy_policy, claim, deposit, expire, initialize_pool,
    open_position, policy_address, pool_authority, position_address, withdraw,
};
pub use logic::{PolicyRequest, PoolParams};
pub use processor::InsuranceProgram;
pub use state::{POLICY_BYTES, POOL_BYTES, POSITION_BYTES, Policy, PolicyStatus, Pool, Position};

/// The program's id ("Insurance" is not base58: it has an `I`).
pub const ID: Pubkey = Pubkey::from_str_const("ParametricCover1111111111111111111111111111");
/// Compute units every instruction costs for its own work (cross-program calls are charged
/// separately by the runtime and the callee).
pub const INSURANCE_INSTRUCTION_UNITS: u64 = 1_500;
/// Lamports a new position account is funded with, paid by its owner: rent-exempt for its
/// size.
pub const POSITION_LAMPORTS: u64 = braid_runtime::rent::minimum_balance(POSITION_BYTES as u64);
/// Lamports a new policy account is funded with, paid by its holder: rent-exempt for its
/// size.
pub const POLICY_LAMPORTS: u64 = braid_runtime::rent::minimum_balance(POLICY_BYTES as u64);
