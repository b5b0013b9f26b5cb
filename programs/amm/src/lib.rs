//! A constant-product automated market maker as a native Braid program, with SPL token-swap's
//! semantics.
//!
//! - [`curve`]: the pure math — swap on `x * y = k` with fees, proportional deposits and
//!   withdrawals, protocol-fee LP tokens — each rounding in the pool's favour.
//! - [`state`]: the [`Pool`] account and its [`Fees`].
//! - [`instruction`]: [`AmmInstruction`] (borsh) and the client builders
//!   [`initialize_pool`](instruction::initialize_pool), [`swap`](instruction::swap),
//!   [`deposit_all`](instruction::deposit_all), [`withdraw_all`](instruction::withdraw_all),
//!   with [`pool_authority`].
//! - [`processor`]: [`AmmProgram`], the program itself.
//! - [`error`]: [`AmmError`], reported as
//!   [`InstructionError::Custom`](braid_runtime::InstructionError::Custom).
//!
//! # Design
//!
//! A pool is a state account owned by this program naming two vaults (SPL token accounts
//! owned by the pool's program-derived authority, `[b"authority", pool]`), an LP mint whose
//! mint authority is that same address, and an LP fee account. The reserves are the vaults'
//! balances, never a copy in the pool account, so they cannot drift from the tokens actually
//! held, and trades leave the pool account untouched (read-only) while the vaults carry the
//! write locks. Everything a trade touches belongs to its one pool or to the trader, so trades
//! on different pools never conflict.
//!
//! As in SPL token-swap, the creator funds both vaults and `InitializePool` mints them a fixed
//! [`INITIAL_SWAP_POOL_AMOUNT`](curve::INITIAL_SWAP_POOL_AMOUNT) of LP tokens; after that,
//! deposits and withdrawals move both tokens in proportion to the reserves.
//!
//! Tokens move only through SPL Token cross-program calls: user to vault with the user's own
//! signature passed through (a plain call, so the pool's authority can never move a user's
//! tokens), vault to user and LP mints signed with the authority's seeds.
//!
//! # Fees
//!
//! A swap charges a trade fee and a protocol fee, each a fraction of the input rounded up.
//! Both stay in the source vault; the trade fee simply raises every LP token's value, while for
//! the protocol fee the fee account is minted LP tokens worth it
//! ([`curve::protocol_fee_pool_tokens`]), as SPL's owner trade fee is. Left out from SPL: the
//! host fee, the owner withdrawal fee, single-sided deposits and withdrawals, and curves other
//! than constant product.

pub mod curve;
pub mod error;
pub mod instruction;
pub mod processor;
pub mod state;

use braid_runtime::Pubkey;

pub use error::AmmError;
pub use instruction::{AmmInstruction, PoolKeys, TradeDirection, pool_authority};
pub use processor::AmmProgram;
pub use state::{Fees, POOL_BYTES, Pool};

/// The program's id.
pub const ID: Pubkey = Pubkey::from_str_const("AMM1111111111111111111111111111111111111111");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_base58() {
        assert_eq!(
            ID.to_string(),
            "AMM1111111111111111111111111111111111111111"
        );
        assert_ne!(ID, Pubkey::default());
    }
}
