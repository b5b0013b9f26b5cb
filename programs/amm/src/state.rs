//! Pool state (borsh, fixed size) and fee parameters.
//!
//! A pool stores only addresses and fees, never reserves: the reserves *are* the vaults' token
//! balances, read fresh by every instruction, as SPL token-swap does. So a swap, deposit or
//! withdrawal never writes the pool account: it is listed read-only and many transactions can
//! read it at once, while the vaults (also one pair per pool) carry the write locks.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::Pubkey;

use crate::AmmError;

/// [`Pool::version`] of an initialized pool. Zero (a freshly created, zeroed account) means
/// uninitialized.
pub const POOL_VERSION: u8 = 1;
/// Size of a pool account's data, in bytes: version, bump, seven keys, four `u64` fee terms.
pub const POOL_BYTES: usize = 1 + 1 + 7 * 32 + 4 * 8;

/// Trading fees, each a fraction `numerator / denominator` of the amount a trader pays in.
///
/// The trade fee stays in the pool, raising the value of every LP token. The protocol fee
/// also stays in the pool, but the pool's fee account is minted LP tokens worth it (see
/// [`crate::curve::protocol_fee_pool_tokens`]), as SPL token-swap's owner trade fee does.
/// A fraction with a zero numerator is no fee (its denominator may then be zero, as in SPL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct Fees {
    /// Trade fee numerator.
    pub trade_fee_numerator: u64,
    /// Trade fee denominator.
    pub trade_fee_denominator: u64,
    /// Protocol fee numerator.
    pub protocol_fee_numerator: u64,
    /// Protocol fee denominator.
    pub protocol_fee_denominator: u64,
}

impl Fees {
    /// Checks each fraction is a proper fraction (or zero) and that together they are below
    /// 100%, so a swap can always pay its fees out of its input.
    pub fn validate(&self) -> Result<(), AmmError> {
        let trade = (
            u128::from(self.trade_fee_numerator),
            u128::from(self.trade_fee_denominator),
        );
        let protocol = (
            u128::from(self.protocol_fee_numerator),
            u128::from(self.protocol_fee_denominator),
        );
        for (numerator, denominator) in [trade, protocol] {
            if numerator != 0 && numerator >= denominator {
                return Err(AmmError::InvalidFee);
            }
        }
        // A zero fraction may have a zero denominator: count it as 0/1 in the sum.
        let denominator_or_one = |d: u128| d.max(1);
        let (trade_den, protocol_den) =
            (denominator_or_one(trade.1), denominator_or_one(protocol.1));
        // t/T + p/P < 1  <=>  t*P + p*T < T*P; each term is below 2^128 (u64 * u64).
        let sum_numerator = trade
            .0
            .checked_mul(protocol_den)
            .zip(protocol.0.checked_mul(trade_den))
            .and_then(|(a, b)| a.checked_add(b))
            .ok_or(AmmError::InvalidFee)?;
        let sum_denominator = trade_den
            .checked_mul(protocol_den)
            .ok_or(AmmError::InvalidFee)?;
        if sum_numerator >= sum_denominator {
            return Err(AmmError::InvalidFee);
        }
        Ok(())
    }

    /// The trade fee on `amount`, rounded up.
    pub fn trade_fee(&self, amount: u64) -> Result<u64, AmmError> {
        fee(amount, self.trade_fee_numerator, self.trade_fee_denominator)
    }

    /// The protocol fee on `amount`, rounded up.
    pub fn protocol_fee(&self, amount: u64) -> Result<u64, AmmError> {
        fee(
            amount,
            self.protocol_fee_numerator,
            self.protocol_fee_denominator,
        )
    }
}

/// `ceil(amount * numerator / denominator)`, zero for a zero fraction. SPL floors and then
/// charges at least one token; rounding up charges the same minimum and never less than the
/// exact fee, so the rounding favours the pool everywhere.
fn fee(amount: u64, numerator: u64, denominator: u64) -> Result<u64, AmmError> {
    if numerator == 0 || amount == 0 {
        return Ok(0);
    }
    let product = u128::from(amount)
        .checked_mul(u128::from(numerator))
        .ok_or(AmmError::CalculationFailure)?;
    let fee =
        crate::curve::ceil_div(product, u128::from(denominator)).ok_or(AmmError::InvalidFee)?;
    u64::try_from(fee).map_err(|_| AmmError::CalculationFailure)
}

/// A pool's state, in the pool account (owned by the AMM program).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// [`POOL_VERSION`] once initialized; zero before.
    pub version: u8,
    /// Bump seed of [`Pool::authority`], so signing for it needs no search.
    pub authority_bump: u8,
    /// The pool's program-derived authority (`[AUTHORITY_SEED, pool]`): owner of both vaults
    /// and mint authority of the LP mint. Stored so instructions compare keys instead of
    /// re-deriving it.
    pub authority: Pubkey,
    /// Vault holding the pool's token A (a token account owned by the authority).
    pub token_a_vault: Pubkey,
    /// Vault holding the pool's token B.
    pub token_b_vault: Pubkey,
    /// Mint of token A.
    pub token_a_mint: Pubkey,
    /// Mint of token B.
    pub token_b_mint: Pubkey,
    /// The LP token mint (mint authority: the pool authority).
    pub pool_mint: Pubkey,
    /// LP token account that receives the protocol fee.
    pub fee_account: Pubkey,
    /// Fee parameters.
    pub fees: Fees,
}

impl Pool {
    /// Whether `InitializePool` has run on this state.
    pub fn is_initialized(&self) -> bool {
        self.version == POOL_VERSION
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_bytes_is_the_borsh_size() {
        let pool = Pool {
            version: POOL_VERSION,
            ..Pool::default()
        };
        assert_eq!(borsh::to_vec(&pool).unwrap().len(), POOL_BYTES);
    }

    #[test]
    fn fee_validation() {
        let fees = |t: u64, td: u64, p: u64, pd: u64| Fees {
            trade_fee_numerator: t,
            trade_fee_denominator: td,
            protocol_fee_numerator: p,
            protocol_fee_denominator: pd,
        };
        assert_eq!(fees(0, 0, 0, 0).validate(), Ok(()));
        assert_eq!(fees(25, 10_000, 5, 10_000).validate(), Ok(()));
        assert_eq!(fees(1, 2, 0, 0).validate(), Ok(()));
        assert_eq!(fees(1, 0, 0, 0).validate(), Err(AmmError::InvalidFee));
        assert_eq!(fees(2, 2, 0, 0).validate(), Err(AmmError::InvalidFee));
        assert_eq!(fees(0, 0, 3, 2).validate(), Err(AmmError::InvalidFee));
        assert_eq!(fees(1, 2, 1, 2).validate(), Err(AmmError::InvalidFee));
        assert_eq!(fees(1, 2, 1, 3).validate(), Ok(()));
        let max = u64::MAX;
        assert_eq!(
            fees(max - 1, max, max - 1, max).validate(),
            Err(AmmError::InvalidFee)
        );
    }

    #[test]
    fn fees_round_up() {
        let fees = Fees {
            trade_fee_numerator: 25,
            trade_fee_denominator: 10_000,
            protocol_fee_numerator: 0,
            protocol_fee_denominator: 0,
        };
        assert_eq!(fees.trade_fee(0), Ok(0));
        assert_eq!(fees.trade_fee(1), Ok(1));
        assert_eq!(fees.trade_fee(400), Ok(1));
        assert_eq!(fees.trade_fee(401), Ok(2));
        assert_eq!(fees.trade_fee(u64::MAX), Ok(46_116_860_184_273_880));
        assert_eq!(fees.protocol_fee(1_000), Ok(0));
    }
}
