//! The AMM's instructions (borsh) and client-side builders that list every account with its
//! writable and signer flags.
//!
//! Account lists follow SPL token-swap's, minus what Braid does not need (no host fee account,
//! no withdraw-fee account). The pool account is read-only except in `InitializePool`: the
//! reserves live in the vaults, so trades write only the vaults, the LP mint, the fee account
//! and the user's own token accounts.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::pda::find_program_address;
use braid_runtime::{AccountMeta, Instruction, Pubkey};

use crate::ID;
use crate::state::Fees;

/// Seed prefix of a pool's authority: `[AUTHORITY_SEED, pool]`.
pub const AUTHORITY_SEED: &[u8] = b"authority";

/// The AMM's instructions. The doc of each variant lists its accounts as `[flags] name`
/// (`w` writable, `s` signer).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AmmInstruction {
    /// Initializes a pool over two funded vaults and mints [`INITIAL_SWAP_POOL_AMOUNT`] LP
    /// tokens to `destination`: the vaults' balances are the first deposit.
    ///
    /// Accounts: `[w] pool` (zeroed, [`POOL_BYTES`] long, owned by the AMM), `[] authority`,
    /// `[] vault A`, `[] vault B` (token accounts owned by the authority, funded),
    /// `[w] LP mint` (mint authority: the authority, zero supply, no freeze authority),
    /// `[] fee account` (LP token account), `[w] destination` (LP token account),
    /// `[] token program`.
    ///
    /// [`INITIAL_SWAP_POOL_AMOUNT`]: crate::curve::INITIAL_SWAP_POOL_AMOUNT
    /// [`POOL_BYTES`]: crate::state::POOL_BYTES
    InitializePool {
        /// Trade and protocol fees.
        fees: Fees,
    },
    /// Swaps up to `amount_in` of one token for at least `minimum_amount_out` of the other.
    /// The direction is given by which vault is listed first.
    ///
    /// Accounts: `[] pool`, `[] authority`, `[s] user transfer authority`, `[w] user source`,
    /// `[w] source vault`, `[w] destination vault`, `[w] user destination`, `[w] LP mint`,
    /// `[w] fee account`, `[] token program`.
    Swap {
        /// The most source tokens to pay (fees included); the curve may charge less.
        amount_in: u64,
        /// The fewest destination tokens to accept.
        minimum_amount_out: u64,
    },
    /// Deposits both tokens in proportion for `pool_tokens` LP tokens.
    ///
    /// Accounts: `[] pool`, `[] authority`, `[s] user transfer authority`, `[w] user token A`,
    /// `[w] user token B`, `[w] vault A`, `[w] vault B`, `[w] LP mint`,
    /// `[w] LP destination`, `[] token program`.
    DepositAll {
        /// LP tokens wanted.
        pool_tokens: u64,
        /// The most token A to pay.
        maximum_token_a_amount: u64,
        /// The most token B to pay.
        maximum_token_b_amount: u64,
    },
    /// Burns `pool_tokens` LP tokens for both tokens in proportion.
    ///
    /// Accounts: `[] pool`, `[] authority`, `[s] user transfer authority`, `[w] LP mint`,
    /// `[w] LP source`, `[w] vault A`, `[w] vault B`, `[w] user token A`,
    /// `[w] user token B`, `[] token program`.
    WithdrawAll {
        /// LP tokens to burn.
        pool_tokens: u64,
        /// The fewest token A to accept.
        minimum_token_a_amount: u64,
        /// The fewest token B to accept.
        minimum_token_b_amount: u64,
    },
}

/// A pool's addresses, as a client knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolKeys {
    /// The pool state account.
    pub pool: Pubkey,
    /// Vault of token A.
    pub token_a_vault: Pubkey,
    /// Vault of token B.
    pub token_b_vault: Pubkey,
    /// The LP mint.
    pub pool_mint: Pubkey,
    /// The protocol fee account (an LP token account).
    pub fee_account: Pubkey,
}

impl PoolKeys {
    /// The pool's authority.
    pub fn authority(&self) -> Pubkey {
        pool_authority(&self.pool).0
    }
}

/// Which way a swap trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeDirection {
    /// Pay token A, receive token B.
    AtoB,
    /// Pay token B, receive token A.
    BtoA,
}

/// The authority of `pool` (owner of its vaults, mint authority of its LP mint) and its bump.
pub fn pool_authority(pool: &Pubkey) -> (Pubkey, u8) {
    find_program_address(&[AUTHORITY_SEED, pool.as_ref()], &ID)
}

/// Builds `InitializePool`. Send it in the transaction that creates the pool account (System
/// `CreateAccount` with [`POOL_BYTES`](crate::state::POOL_BYTES) and the AMM as owner) and
/// funds the vaults, so no one else can initialize the account first.
pub fn initialize_pool(keys: &PoolKeys, destination: &Pubkey, fees: Fees) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &AmmInstruction::InitializePool { fees },
        vec![
            AccountMeta::new(keys.pool, false),
            AccountMeta::new_readonly(keys.authority(), false),
            AccountMeta::new_readonly(keys.token_a_vault, false),
            AccountMeta::new_readonly(keys.token_b_vault, false),
            AccountMeta::new(keys.pool_mint, false),
            AccountMeta::new_readonly(keys.fee_account, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `Swap`: `user` (owner or delegate of `source`, signing) pays from `source` and
/// receives into `destination`.
pub fn swap(
    keys: &PoolKeys,
    user: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    direction: TradeDirection,
    amount_in: u64,
    minimum_amount_out: u64,
) -> Instruction {
    let (source_vault, destination_vault) = match direction {
        TradeDirection::AtoB => (keys.token_a_vault, keys.token_b_vault),
        TradeDirection::BtoA => (keys.token_b_vault, keys.token_a_vault),
    };
    Instruction::new_with_borsh(
        ID,
        &AmmInstruction::Swap {
            amount_in,
            minimum_amount_out,
        },
        vec![
            AccountMeta::new_readonly(keys.pool, false),
            AccountMeta::new_readonly(keys.authority(), false),
            AccountMeta::new_readonly(*user, true),
            AccountMeta::new(*source, false),
            AccountMeta::new(source_vault, false),
            AccountMeta::new(destination_vault, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new(keys.pool_mint, false),
            AccountMeta::new(keys.fee_account, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `DepositAll`: `user` (signing) pays from `source_a` and `source_b` and receives LP
/// tokens into `destination`.
#[allow(clippy::too_many_arguments)] // one per account and amount, as in SPL's builder
pub fn deposit_all(
    keys: &PoolKeys,
    user: &Pubkey,
    source_a: &Pubkey,
    source_b: &Pubkey,
    destination: &Pubkey,
    pool_tokens: u64,
    maximum_token_a_amount: u64,
    maximum_token_b_amount: u64,
) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &AmmInstruction::DepositAll {
            pool_tokens,
            maximum_token_a_amount,
            maximum_token_b_amount,
        },
        vec![
            AccountMeta::new_readonly(keys.pool, false),
            AccountMeta::new_readonly(keys.authority(), false),
            AccountMeta::new_readonly(*user, true),
            AccountMeta::new(*source_a, false),
            AccountMeta::new(*source_b, false),
            AccountMeta::new(keys.token_a_vault, false),
            AccountMeta::new(keys.token_b_vault, false),
            AccountMeta::new(keys.pool_mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}

/// Builds `WithdrawAll`: `user` (signing) burns LP tokens from `source` and receives into
/// `destination_a` and `destination_b`.
#[allow(clippy::too_many_arguments)] // one per account and amount, as in SPL's builder
pub fn withdraw_all(
    keys: &PoolKeys,
    user: &Pubkey,
    source: &Pubkey,
    destination_a: &Pubkey,
    destination_b: &Pubkey,
    pool_tokens: u64,
    minimum_token_a_amount: u64,
    minimum_token_b_amount: u64,
) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &AmmInstruction::WithdrawAll {
            pool_tokens,
            minimum_token_a_amount,
            minimum_token_b_amount,
        },
        vec![
            AccountMeta::new_readonly(keys.pool, false),
            AccountMeta::new_readonly(keys.authority(), false),
            AccountMeta::new_readonly(*user, true),
            AccountMeta::new(keys.pool_mint, false),
            AccountMeta::new(*source, false),
            AccountMeta::new(keys.token_a_vault, false),
            AccountMeta::new(keys.token_b_vault, false),
            AccountMeta::new(*destination_a, false),
            AccountMeta::new(*destination_b, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
    )
}
