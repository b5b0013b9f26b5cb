//! Constant-product curve math: pure functions of reserves and amounts, no accounts.
//!
//! Everything is computed in `u128` from `u64` inputs, so products of two amounts cannot
//! overflow; conversions back to `u64` are checked. Every rounding favours the pool: the
//! trader receives floor amounts and pays ceiling amounts, so the reserves' product (and the
//! value behind each LP token) can only grow.
//!
//! The swap follows SPL token-swap's constant-product curve exactly:
//!
//! 1. fees are taken off the input: `in' = in - trade_fee - protocol_fee`;
//! 2. `new_destination = ceil(k / (source + in'))`, `out = destination - new_destination`
//!    (zero output fails);
//! 3. the curve part actually charged may be less than `in'`: `new_source =
//!    ceil(k / new_destination)`, `charged = new_source - source`. The trader keeps the
//!    difference, which bought nothing;
//! 4. the trader pays `charged + fees`; all of it enters the source vault.
//!
//! Deposits and withdrawals are proportional to the reserves (`pool_tokens / supply` of each),
//! rounded up when the user pays and down when the user receives.

use crate::AmmError;
use crate::state::Fees;

/// LP tokens minted to the creator of a pool (and to the first depositor into an empty one),
/// as in SPL token-swap: a fixed supply, independent of the deposited amounts, so no square
/// root is needed.
pub const INITIAL_SWAP_POOL_AMOUNT: u64 = 1_000_000_000;

/// `ceil(numerator / denominator)`; `None` when dividing by zero.
pub fn ceil_div(numerator: u128, denominator: u128) -> Option<u128> {
    let quotient = numerator.checked_div(denominator)?;
    if numerator.checked_rem(denominator)? == 0 {
        Some(quotient)
    } else {
        quotient.checked_add(1)
    }
}

/// The result of the curve alone, before fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurveSwap {
    /// Source tokens the curve takes: at most the amount offered.
    pub source_amount_swapped: u128,
    /// Destination tokens the curve gives out: at least one.
    pub destination_amount_swapped: u128,
}

/// Swaps `amount_in` source tokens on the curve `source_reserve * destination_reserve = k`,
/// without fees (steps 2 and 3 of the module documentation).
///
/// Fails with [`AmmError::ZeroTradingTokens`] when the output rounds to zero or a reserve is
/// empty.
pub fn swap_without_fees(
    amount_in: u128,
    source_reserve: u128,
    destination_reserve: u128,
) -> Result<CurveSwap, AmmError> {
    let invariant = source_reserve
        .checked_mul(destination_reserve)
        .ok_or(AmmError::CalculationFailure)?;
    let new_source = source_reserve
        .checked_add(amount_in)
        .ok_or(AmmError::CalculationFailure)?;
    // An empty reserve makes `k` zero: the curve is degenerate and must not pay out.
    if invariant == 0 {
        return Err(AmmError::ZeroTradingTokens);
    }
    let new_destination = ceil_div(invariant, new_source).ok_or(AmmError::ZeroTradingTokens)?;
    let destination_amount_swapped = destination_reserve
        .checked_sub(new_destination)
        .filter(|&out| out > 0)
        .ok_or(AmmError::ZeroTradingTokens)?;
    // `new_destination >= 1` since `k > 0`; the smallest source that still keeps the product
    // at least `k` with this destination reserve is all the trader has to pay.
    let charged_source = ceil_div(invariant, new_destination).ok_or(AmmError::ZeroTradingTokens)?;
    let source_amount_swapped = charged_source
        .checked_sub(source_reserve)
        .ok_or(AmmError::CalculationFailure)?;
    Ok(CurveSwap {
        source_amount_swapped,
        destination_amount_swapped,
    })
}

/// The result of a swap with fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapResult {
    /// Tokens the trader pays into the source vault: the curve's part plus both fees.
    pub amount_in: u64,
    /// Tokens the trader receives from the destination vault.
    pub amount_out: u64,
    /// The trade fee charged (stays in the pool).
    pub trade_fee: u64,
    /// The protocol fee charged (stays in the pool; the fee account is minted LP tokens).
    pub protocol_fee: u64,
    /// The source vault's balance afterwards.
    pub new_source_reserve: u64,
    /// The destination vault's balance afterwards.
    pub new_destination_reserve: u64,
}

/// A swap of up to `amount_in` with fees, checked against `minimum_amount_out`.
pub fn swap(
    amount_in: u64,
    minimum_amount_out: u64,
    source_reserve: u64,
    destination_reserve: u64,
    fees: &Fees,
) -> Result<SwapResult, AmmError> {
    let trade_fee = fees.trade_fee(amount_in)?;
    let protocol_fee = fees.protocol_fee(amount_in)?;
    let total_fees = trade_fee
        .checked_add(protocol_fee)
        .ok_or(AmmError::CalculationFailure)?;
    // An input smaller than its (rounded-up) fees buys nothing.
    let amount_less_fees = amount_in
        .checked_sub(total_fees)
        .ok_or(AmmError::ZeroTradingTokens)?;
    let curve = swap_without_fees(
        u128::from(amount_less_fees),
        u128::from(source_reserve),
        u128::from(destination_reserve),
    )?;
    // Both fit: the curve's part is at most `amount_less_fees`, its output below the reserve.
    let swapped =
        u64::try_from(curve.source_amount_swapped).map_err(|_| AmmError::CalculationFailure)?;
    let amount_out = u64::try_from(curve.destination_amount_swapped)
        .map_err(|_| AmmError::CalculationFailure)?;
    if amount_out < minimum_amount_out {
        return Err(AmmError::SlippageExceeded);
    }
    let amount_in = swapped
        .checked_add(total_fees)
        .ok_or(AmmError::CalculationFailure)?;
    let new_source_reserve = source_reserve
        .checked_add(amount_in)
        .ok_or(AmmError::CalculationFailure)?;
    let new_destination_reserve = destination_reserve
        .checked_sub(amount_out)
        .ok_or(AmmError::CalculationFailure)?;
    Ok(SwapResult {
        amount_in,
        amount_out,
        trade_fee,
        protocol_fee,
        new_source_reserve,
        new_destination_reserve,
    })
}

/// LP tokens minted to the fee account for a protocol fee of `protocol_fee` source tokens,
/// given the source reserve *after* the swap and the LP supply before the mint:
/// `floor(supply * protocol_fee / (2 * new_source_reserve))`.
///
/// At the pool's marginal price the whole pool is worth `2 * new_source_reserve` source
/// tokens, so this is the share of the pool the fee is worth, rounded down. It is a simpler
/// stand-in for SPL's single-sided-deposit formula (which needs a square root) and never mints
/// more than that formula: because the fee sits in the reserve the share is measured against,
/// `sqrt(k) / supply` cannot fall (see the `lp_value_never_decreases` property test).
pub fn protocol_fee_pool_tokens(
    protocol_fee: u64,
    new_source_reserve: u64,
    pool_supply: u64,
) -> Result<u64, AmmError> {
    let value = u128::from(new_source_reserve)
        .checked_mul(2)
        .ok_or(AmmError::CalculationFailure)?;
    if value == 0 {
        return Ok(0);
    }
    let tokens = u128::from(pool_supply)
        .checked_mul(u128::from(protocol_fee))
        .and_then(|product| product.checked_div(value))
        .ok_or(AmmError::CalculationFailure)?;
    u64::try_from(tokens).map_err(|_| AmmError::CalculationFailure)
}

/// Which way [`pool_tokens_to_trading_tokens`] rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundDirection {
    /// Down: for amounts the user receives.
    Floor,
    /// Up: for amounts the user pays.
    Ceiling,
}

/// The tokens of each side that `pool_tokens` out of `pool_supply` LP tokens stand for.
///
/// Rounding up follows SPL: an amount whose exact value is below one token is *not* rounded
/// up to one (it stays zero, which callers reject), so a tiny deposit is refused rather than
/// overcharged.
pub fn pool_tokens_to_trading_tokens(
    pool_tokens: u64,
    pool_supply: u64,
    token_a_reserve: u64,
    token_b_reserve: u64,
    round: RoundDirection,
) -> Result<(u128, u128), AmmError> {
    let share = |reserve: u64| -> Result<u128, AmmError> {
        let product = u128::from(pool_tokens)
            .checked_mul(u128::from(reserve))
            .ok_or(AmmError::CalculationFailure)?;
        let supply = u128::from(pool_supply);
        let amount = product
            .checked_div(supply)
            .ok_or(AmmError::ZeroTradingTokens)?;
        let remainder = product
            .checked_rem(supply)
            .ok_or(AmmError::ZeroTradingTokens)?;
        if round == RoundDirection::Ceiling && remainder > 0 && amount > 0 {
            amount.checked_add(1).ok_or(AmmError::CalculationFailure)
        } else {
            Ok(amount)
        }
    };
    Ok((share(token_a_reserve)?, share(token_b_reserve)?))
}

/// What a deposit-all moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deposit {
    /// LP tokens minted to the depositor.
    pub pool_tokens: u64,
    /// Token A paid in.
    pub token_a_amount: u64,
    /// Token B paid in.
    pub token_b_amount: u64,
}

/// A deposit of both tokens for `pool_tokens` LP tokens, paying at most the given maxima.
///
/// Into a pool with no LP supply (every LP token withdrawn), SPL's rule applies: the depositor
/// is minted [`INITIAL_SWAP_POOL_AMOUNT`] whatever `pool_tokens` says, and pays an amount equal
/// to the current reserves (so a pool emptied to zero cannot be restarted this way).
pub fn deposit_all(
    pool_tokens: u64,
    maximum_token_a_amount: u64,
    maximum_token_b_amount: u64,
    pool_supply: u64,
    token_a_reserve: u64,
    token_b_reserve: u64,
) -> Result<Deposit, AmmError> {
    let (pool_tokens, supply) = if pool_supply == 0 {
        (INITIAL_SWAP_POOL_AMOUNT, INITIAL_SWAP_POOL_AMOUNT)
    } else {
        (pool_tokens, pool_supply)
    };
    let (a, b) = pool_tokens_to_trading_tokens(
        pool_tokens,
        supply,
        token_a_reserve,
        token_b_reserve,
        RoundDirection::Ceiling,
    )?;
    let check = |amount: u128, maximum: u64| -> Result<u64, AmmError> {
        if amount > u128::from(maximum) {
            return Err(AmmError::SlippageExceeded);
        }
        if amount == 0 {
            return Err(AmmError::ZeroTradingTokens);
        }
        u64::try_from(amount).map_err(|_| AmmError::CalculationFailure)
    };
    Ok(Deposit {
        pool_tokens,
        token_a_amount: check(a, maximum_token_a_amount)?,
        token_b_amount: check(b, maximum_token_b_amount)?,
    })
}

/// What a withdraw-all moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawal {
    /// LP tokens burned.
    pub pool_tokens: u64,
    /// Token A paid out.
    pub token_a_amount: u64,
    /// Token B paid out.
    pub token_b_amount: u64,
}

/// A withdrawal of both tokens for `pool_tokens` burned LP tokens, receiving at least the
/// given minima. A side whose reserve is not empty must pay out at least one token.
pub fn withdraw_all(
    pool_tokens: u64,
    minimum_token_a_amount: u64,
    minimum_token_b_amount: u64,
    pool_supply: u64,
    token_a_reserve: u64,
    token_b_reserve: u64,
) -> Result<Withdrawal, AmmError> {
    let (a, b) = pool_tokens_to_trading_tokens(
        pool_tokens,
        pool_supply,
        token_a_reserve,
        token_b_reserve,
        RoundDirection::Floor,
    )?;
    let check = |amount: u128, reserve: u64, minimum: u64| -> Result<u64, AmmError> {
        // More LP tokens than the supply (the burn will refuse them) never pays beyond the
        // reserve.
        let amount = u64::try_from(amount.min(u128::from(reserve)))
            .map_err(|_| AmmError::CalculationFailure)?;
        if amount < minimum {
            return Err(AmmError::SlippageExceeded);
        }
        if amount == 0 && reserve != 0 {
            return Err(AmmError::ZeroTradingTokens);
        }
        Ok(amount)
    };
    Ok(Withdrawal {
        pool_tokens,
        token_a_amount: check(a, token_a_reserve, minimum_token_a_amount)?,
        token_b_amount: check(b, token_b_reserve, minimum_token_b_amount)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_FEES: Fees = Fees {
        trade_fee_numerator: 0,
        trade_fee_denominator: 0,
        protocol_fee_numerator: 0,
        protocol_fee_denominator: 0,
    };

    /// The reference vectors: (amount_in, source, destination) -> (charged, out).
    const VECTORS: [(u64, u64, u64, u64, u64); 4] = [
        (10, 4_000_000, 70_000_000_000, 10, 174_999),
        (20, 29_980, 10_000, 18, 6),
        (10, 20_000, 30_000, 10, 14),
        (100, 60_000, 30_000, 99, 49),
    ];

    #[test]
    fn reference_vectors() {
        for (amount_in, source, destination, charged, out) in VECTORS {
            let curve = swap_without_fees(
                u128::from(amount_in),
                u128::from(source),
                u128::from(destination),
            )
            .unwrap();
            assert_eq!(
                (
                    curve.source_amount_swapped,
                    curve.destination_amount_swapped
                ),
                (u128::from(charged), u128::from(out)),
                "{amount_in}, {source}, {destination}"
            );
            let result = swap(amount_in, out, source, destination, &NO_FEES).unwrap();
            assert_eq!(
                result,
                SwapResult {
                    amount_in: charged,
                    amount_out: out,
                    trade_fee: 0,
                    protocol_fee: 0,
                    new_source_reserve: source + charged,
                    new_destination_reserve: destination - out,
                }
            );
            assert_eq!(
                swap(amount_in, out + 1, source, destination, &NO_FEES),
                Err(AmmError::SlippageExceeded)
            );
        }
    }

    #[test]
    fn output_rounding_to_zero_fails() {
        assert_eq!(
            swap_without_fees(10, 70_000_000_000, 4_000_000),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            swap(10, 0, 70_000_000_000, 4_000_000, &NO_FEES),
            Err(AmmError::ZeroTradingTokens)
        );
    }

    #[test]
    fn empty_reserves_and_zero_input_fail() {
        assert_eq!(
            swap_without_fees(10, 0, 1_000),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            swap_without_fees(10, 1_000, 0),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            swap_without_fees(0, 1_000, 1_000),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            swap(0, 0, 1_000, 1_000, &NO_FEES),
            Err(AmmError::ZeroTradingTokens)
        );
    }

    #[test]
    fn extreme_reserves_do_not_overflow() {
        let max = u64::MAX;
        // The source vault would pass u64::MAX.
        assert_eq!(
            swap(max, 0, 1 << 32, 1 << 63, &NO_FEES),
            Err(AmmError::CalculationFailure)
        );
        assert_eq!(
            swap(1, 0, max, max, &NO_FEES),
            Err(AmmError::ZeroTradingTokens)
        );
        // Doubling the source reserve takes half the destination.
        let half = max / 2;
        let result = swap(half, 0, half, half, &NO_FEES).unwrap();
        assert_eq!(result.amount_out, half - half.div_ceil(2));
    }

    #[test]
    fn fees_come_off_the_input() {
        let fees = Fees {
            trade_fee_numerator: 25,
            trade_fee_denominator: 10_000,
            protocol_fee_numerator: 5,
            protocol_fee_denominator: 10_000,
        };
        // 1_000 in: trade fee ceil(2.5) = 3, protocol ceil(0.5) = 1; 996 reach the curve.
        let result = swap(1_000, 0, 1_000_000, 1_000_000, &fees).unwrap();
        let curve = swap_without_fees(996, 1_000_000, 1_000_000).unwrap();
        assert_eq!(result.trade_fee, 3);
        assert_eq!(result.protocol_fee, 1);
        assert_eq!(
            u128::from(result.amount_out),
            curve.destination_amount_swapped
        );
        assert_eq!(
            u128::from(result.amount_in),
            curve.source_amount_swapped + 4
        );
        // Two tokens cannot pay two one-token minimum fees and buy something.
        assert_eq!(
            swap(1, 0, 1_000, 1_000, &fees),
            Err(AmmError::ZeroTradingTokens)
        );
    }

    #[test]
    fn protocol_fee_tokens() {
        assert_eq!(protocol_fee_pool_tokens(10, 1_000, 1_000_000), Ok(5_000));
        assert_eq!(protocol_fee_pool_tokens(1, 1_000, 1_999), Ok(0));
        assert_eq!(protocol_fee_pool_tokens(0, 1_000, 1_000_000), Ok(0));
        assert_eq!(protocol_fee_pool_tokens(5, 0, 1_000_000), Ok(0));
        assert_eq!(
            protocol_fee_pool_tokens(u64::MAX, u64::MAX, u64::MAX),
            Ok(u64::MAX / 2)
        );
    }

    #[test]
    fn deposit_rounds_up_and_rejects_dust() {
        // 1/3 of (100, 200): 33.3 -> 34, 66.7 -> 67.
        let deposit = deposit_all(1, 34, 67, 3, 100, 200).unwrap();
        assert_eq!((deposit.token_a_amount, deposit.token_b_amount), (34, 67));
        assert_eq!(
            deposit_all(1, 33, 67, 3, 100, 200),
            Err(AmmError::SlippageExceeded)
        );
        assert_eq!(
            deposit_all(1, 34, 66, 3, 100, 200),
            Err(AmmError::SlippageExceeded)
        );
        // Half a token of A is not rounded up to one: refused.
        assert_eq!(
            deposit_all(1, 10, 10, 200, 100, 1_000),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            deposit_all(0, 10, 10, 200, 100, 1_000),
            Err(AmmError::ZeroTradingTokens)
        );
        // An exact share is not rounded.
        let deposit = deposit_all(10, 10, 20, 100, 100, 200).unwrap();
        assert_eq!((deposit.token_a_amount, deposit.token_b_amount), (10, 20));
    }

    #[test]
    fn deposit_into_zero_supply_mints_the_initial_amount() {
        let deposit = deposit_all(5, 100, 300, 0, 100, 300).unwrap();
        assert_eq!(
            deposit,
            Deposit {
                pool_tokens: INITIAL_SWAP_POOL_AMOUNT,
                token_a_amount: 100,
                token_b_amount: 300
            }
        );
        assert_eq!(
            deposit_all(5, 100, 300, 0, 0, 0),
            Err(AmmError::ZeroTradingTokens)
        );
    }

    #[test]
    fn withdraw_rounds_down() {
        let withdrawal = withdraw_all(1, 33, 66, 3, 100, 200).unwrap();
        assert_eq!(
            (withdrawal.token_a_amount, withdrawal.token_b_amount),
            (33, 66)
        );
        assert_eq!(
            withdraw_all(1, 34, 0, 3, 100, 200),
            Err(AmmError::SlippageExceeded)
        );
        assert_eq!(
            withdraw_all(1, 0, 67, 3, 100, 200),
            Err(AmmError::SlippageExceeded)
        );
        assert_eq!(
            withdraw_all(1, 0, 0, 1_000, 100, 200),
            Err(AmmError::ZeroTradingTokens)
        );
        assert_eq!(
            withdraw_all(0, 0, 0, 1_000, 100, 200),
            Err(AmmError::ZeroTradingTokens)
        );
        // All of the supply takes all of the reserves; more is capped at them.
        let all = withdraw_all(3, 0, 0, 3, 100, 200).unwrap();
        assert_eq!((all.token_a_amount, all.token_b_amount), (100, 200));
        let more = withdraw_all(u64::MAX, 0, 0, 3, 100, 200).unwrap();
        assert_eq!((more.token_a_amount, more.token_b_amount), (100, 200));
        assert_eq!(
            withdraw_all(1, 0, 0, 0, 100, 200),
            Err(AmmError::ZeroTradingTokens)
        );
    }
}
