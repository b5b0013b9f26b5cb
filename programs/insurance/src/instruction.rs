//! The instructions (borsh-encoded), the addresses they use, and client-side builders that
//! list every account with its writable and signer flags, in the order the processor names
//! in one module per instruction, e.g. [`processor::deposit`](mod@crate::processor::deposit).

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::pda::find_program_address;
use braid_runtime::{AccountMeta, Instruction, Pubkey, SYSTEM_PROGRAM_ID};

use crate::ID;
use crate::logic::{PolicyRequest, PoolParams};

/// Seed prefix of a pool's vault authority: `[AUTHORITY_SEED, pool]`.
pub const AUTHORITY_SEED: &[u8] = b"authority";
/// Seed prefix of position addresses: `[POSITION_SEED, pool, owner]`.
pub const POSITION_SEED: &[u8] = b"position";
/// Seed prefix of policy addresses: `[POLICY_SEED, pool, holder, policy_id (u64 LE)]`.
pub const POLICY_SEED: &[u8] = b"policy";

/// The program's instructions.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum InsuranceInstruction {
    /// Initializes a pool. Accounts: `[writable, signer] pool` (zeroed, owned by this
    /// program, [`POOL_BYTES`](crate::state::POOL_BYTES) long; its signature proves the
    /// initializer created it), `[] mint`, `[] vault` (an empty-of-delegates token account of
    /// `mint` owned by [`pool_authority`]), `[] oracle feed`. Send it in the transaction
    /// that creates the pool account, which that account signs anyway.
    InitializePool {
        /// The pool's parameters.
        params: PoolParams,
    },
    /// Creates the owner's position in a pool. Accounts: `[writable, signer] owner` (pays
    /// for the account), `[writable] position` ([`position_address`]), `[] pool`,
    /// `[] system program`.
    OpenPosition,
    /// Deposits capital for shares. Accounts: `[writable] pool`, `[writable] position`,
    /// `[writable] vault`, `[writable] source token account`, `[signer] owner`,
    /// `[] token program`.
    Deposit {
        /// Tokens to deposit.
        amount: u64,
    },
    /// Burns shares for capital. Accounts: `[writable] pool`, `[writable] position`,
    /// `[writable] vault`, `[writable] destination token account`, `[signer] owner`,
    /// `[] pool authority`, `[] token program`.
    Withdraw {
        /// Shares to burn.
        shares: u64,
    },
    /// Buys a policy, paying the premium. Accounts: `[writable] pool`, `[writable] policy`
    /// ([`policy_address`]), `[writable] vault`, `[writable] source token account`,
    /// `[writable, signer] holder` (pays for the account), `[] oracle feed`,
    /// `[] token program`, `[] system program`.
    BuyPolicy {
        /// What is bought.
        request: PolicyRequest,
    },
    /// Claims a policy's coverage. Accounts: `[writable] pool`, `[writable] policy`,
    /// `[writable] vault`, `[writable] destination token account`, `[signer] holder`,
    /// `[] pool authority`, `[] oracle feed`, `[] token program`.
    Claim,
    /// Releases an unclaimed policy's capital after its claim window; anyone may call it.
    /// Accounts: `[writable] pool`, `[writable] policy`.
    Expire,
}

/// The keys that identify a pool to its instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolKeys {
    /// The pool account.
    pub pool: Pubkey,
    /// Its vault token account.
    pub vault: Pubkey,
    /// Its oracle feed.
    pub oracle_feed: Pubkey,
}

/// The program-derived authority that owns `pool`'s vault, and its bump seed.
pub fn pool_authority(pool: &Pubkey) -> (Pubkey, u8) {
    find_program_address(&[AUTHORITY_SEED, pool.as_ref()], &ID)
}

/// The address of `owner`'s position in `pool`, and its bump seed.
pub fn position_address(pool: &Pubkey, owner: &Pubkey) -> (Pubkey, u8) {
    find_program_address(&[POSITION_SEED, pool.as_ref(), owner.as_ref()], &ID)
}

/// The address of `holder`'s policy `policy_id` in `pool`, and its bump seed.
pub fn policy_address(pool: &Pubkey, holder: &Pubkey, policy_id: u64) -> (Pubkey, u8) {
    find_program_address(
        &[
            POLICY_SEED,
            pool.as_ref(),
            holder.as_ref(),
            &policy_id.to_le_bytes(),
        ],
        &ID,
    )
}

/// Builds `InitializePool`.
pub fn initialize_pool(keys: &PoolKeys, mint: &Pubkey, params: PoolParams) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::InitializePool { params },
        vec![
            AccountMeta::new(keys.pool, true),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(keys.vault, false),
            AccountMeta::new_readonly(keys.oracle_feed, false),
        ],
    )
}

/// Builds `OpenPosition` for `owner` in `pool`.
pub fn open_position(pool: &Pubkey, owner: &Pubkey) -> Instruction {
    let (position, _) = position_address(pool, owner);
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::OpenPosition,
        vec![
            AccountMeta::new(*owner, true),
            AccountMeta::new(position, false),
            AccountMeta::new_readonly(*pool, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

/// Builds `Deposit` of `amount` from `source` (a token account `owner` controls).
pub fn deposit(keys: &PoolKeys, source: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    let (position, _) = position_address(&keys.pool, owner);
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::Deposit { amount },
        vec![
            AccountMeta::new(keys.pool, false),
            AccountMeta::new(position, false),
            AccountMeta::new(keys.vault, false),
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*owner, true),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `Withdraw` of `shares`, paying into `destination`.
pub fn withdraw(keys: &PoolKeys, destination: &Pubkey, owner: &Pubkey, shares: u64) -> Instruction {
    let (position, _) = position_address(&keys.pool, owner);
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::Withdraw { shares },
        vec![
            AccountMeta::new(keys.pool, false),
            AccountMeta::new(position, false),
            AccountMeta::new(keys.vault, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*owner, true),
            AccountMeta::new_readonly(pool_authority(&keys.pool).0, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `BuyPolicy`, paying the premium from `source` (a token account `holder` controls).
pub fn buy_policy(
    keys: &PoolKeys,
    source: &Pubkey,
    holder: &Pubkey,
    request: PolicyRequest,
) -> Instruction {
    let (policy, _) = policy_address(&keys.pool, holder, request.policy_id);
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::BuyPolicy { request },
        vec![
            AccountMeta::new(keys.pool, false),
            AccountMeta::new(policy, false),
            AccountMeta::new(keys.vault, false),
            AccountMeta::new(*source, false),
            AccountMeta::new(*holder, true),
            AccountMeta::new_readonly(keys.oracle_feed, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

/// Builds `Claim` of `holder`'s policy `policy_id`, paying into `destination`.
pub fn claim(
    keys: &PoolKeys,
    holder: &Pubkey,
    policy_id: u64,
    destination: &Pubkey,
) -> Instruction {
    let (policy, _) = policy_address(&keys.pool, holder, policy_id);
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::Claim,
        vec![
            AccountMeta::new(keys.pool, false),
            AccountMeta::new(policy, false),
            AccountMeta::new(keys.vault, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*holder, true),
            AccountMeta::new_readonly(pool_authority(&keys.pool).0, false),
            AccountMeta::new_readonly(keys.oracle_feed, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `Expire` of the policy account `policy` (anyone may send it).
pub fn expire(pool: &Pubkey, policy: &Pubkey) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &InsuranceInstruction::Expire,
        vec![
            AccountMeta::new(*pool, false),
            AccountMeta::new(*policy, false),
        ],
    )
}
