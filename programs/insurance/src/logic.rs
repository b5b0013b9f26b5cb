//! The pool's accounting as pure state transitions: no accounts, no tokens, no runtime.
//!
//! The processor decodes accounts, calls one of these, moves exactly the tokens it returns,
//! and writes the state back; the property tests drive these functions directly, thousands of
//! sequences per run. Every product is taken in `u128` and every result checked back into
//! `u64`, and every rounding favours the pool:
//!
//! - shares minted for a deposit round down (the depositor gets no more than paid for);
//! - tokens paid for burned shares round down;
//! - premiums and locked capital round up.
//!
//! Solvency: the collateral ratio is at least 100% ([`BPS_DENOMINATOR`]), so every policy
//! locks at least its coverage, and a claim (which pays the coverage and releases the lock)
//! can never take capital that other policies have locked: `locked ≤ capital` survives every
//! transition.

use braid_program_oracle::Price;

use crate::error::InsuranceError;
use crate::state::{Policy, PolicyStatus, Pool, Position};

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Highest collateral ratio a pool may require, in basis points (10× coverage).
pub const COLLATERAL_RATIO_BPS_MAX: u64 = 100_000;

/// The configurable parameters of a pool, fixed at initialization.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct PoolParams {
    /// Premium as a fraction of coverage, in basis points: `1..=10_000`.
    pub premium_rate_bps: u64,
    /// Capital locked per unit of coverage, in basis points:
    /// `10_000..=COLLATERAL_RATIO_BPS_MAX`.
    pub collateral_ratio_bps: u64,
    /// Oldest oracle price accepted while a policy runs, in slots.
    pub max_oracle_age_slots: u64,
    /// Slots after expiry during which a claim may use a price set at or before expiry.
    pub claim_grace_slots: u64,
}

impl PoolParams {
    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), InsuranceError> {
        let rate_ok = (1..=BPS_DENOMINATOR).contains(&self.premium_rate_bps);
        let ratio_ok =
            (BPS_DENOMINATOR..=COLLATERAL_RATIO_BPS_MAX).contains(&self.collateral_ratio_bps);
        if rate_ok && ratio_ok {
            Ok(())
        } else {
            Err(InsuranceError::InvalidPoolParams)
        }
    }
}

/// What a buyer asks for.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct PolicyRequest {
    /// The holder's id for the policy (part of its address, so one holder may hold many).
    pub policy_id: u64,
    /// Paid on a claim, in token units.
    pub coverage: u64,
    /// Pays when the oracle price is at or below this, in the feed's units
    /// (`price × 10^exponent`).
    pub strike_price: i64,
    /// Last slot of cover.
    pub expiry_slot: u64,
}

/// The premium and locked capital of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// `ceil(coverage × premium_rate_bps / 10_000)`, in token units.
    pub premium: u64,
    /// `ceil(coverage × collateral_ratio_bps / 10_000)`, in token units.
    pub locked: u64,
}

/// `ceil(amount × bps / 10_000)`.
pub fn mul_bps_ceil(amount: u64, bps: u64) -> Result<u64, InsuranceError> {
    let product = u128::from(amount)
        .checked_mul(u128::from(bps))
        .ok_or(InsuranceError::Overflow)?;
    let quotient = product.div_ceil(u128::from(BPS_DENOMINATOR));
    u64::try_from(quotient).map_err(|_| InsuranceError::Overflow)
}

/// `floor(a × b / c)` in `u128`, for `c > 0`.
fn mul_div_floor(a: u64, b: u64, c: u64) -> Result<u64, InsuranceError> {
    let product = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(InsuranceError::Overflow)?;
    let quotient = product
        .checked_div(u128::from(c))
        .ok_or(InsuranceError::Overflow)?;
    u64::try_from(quotient).map_err(|_| InsuranceError::Overflow)
}

fn add(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_add(b).ok_or(InsuranceError::Overflow)
}

fn sub(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_sub(b).ok_or(InsuranceError::Overflow)
}

/// Adds `amount` of capital to the pool for `position`; returns the shares minted.
///
/// The first deposit (no shares outstanding) mints one share per token; later ones mint
/// `floor(amount × total_shares / total_capital)`. If claims have paid out every token while
/// shares remain, shares have no price and deposits fail with
/// [`InsuranceError::PoolDepleted`].
pub fn deposit(
    pool: &mut Pool,
    position: &mut Position,
    amount: u64,
) -> Result<u64, InsuranceError> {
    if amount == 0 {
        return Err(InsuranceError::ZeroAmount);
    }
    let shares = if pool.total_shares == 0 {
        amount
    } else if pool.total_capital == 0 {
        return Err(InsuranceError::PoolDepleted);
    } else {
        mul_div_floor(amount, pool.total_shares, pool.total_capital)?
    };
    if shares == 0 {
        return Err(InsuranceError::DepositTooSmall);
    }
    let total_capital = add(pool.total_capital, amount)?;
    let total_shares = add(pool.total_shares, shares)?;
    let position_shares = add(position.shares, shares)?;
    pool.total_capital = total_capital;
    pool.total_shares = total_shares;
    position.shares = position_shares;
    Ok(shares)
}

/// Burns `shares` of `position`; returns the tokens owed, `floor(shares × capital /
/// total_shares)`, which must not exceed the unlocked capital.
pub fn withdraw(
    pool: &mut Pool,
    position: &mut Position,
    shares: u64,
) -> Result<u64, InsuranceError> {
    if shares == 0 {
        return Err(InsuranceError::ZeroAmount);
    }
    if position.shares < shares {
        return Err(InsuranceError::InsufficientShares);
    }
    let amount = mul_div_floor(shares, pool.total_capital, pool.total_shares)?;
    if amount > pool.unlocked_capital() {
        return Err(InsuranceError::InsufficientUnlockedCapital);
    }
    let total_capital = sub(pool.total_capital, amount)?;
    let total_shares = sub(pool.total_shares, shares)?;
    position.shares = sub(position.shares, shares)?;
    pool.total_capital = total_capital;
    pool.total_shares = total_shares;
    Ok(amount)
}

/// The premium and the capital `coverage` would lock in `pool`.
pub fn quote(pool: &Pool, coverage: u64) -> Result<Quote, InsuranceError> {
    Ok(Quote {
        premium: mul_bps_ceil(coverage, pool.premium_rate_bps)?,
        locked: mul_bps_ceil(coverage, pool.collateral_ratio_bps)?,
    })
}

/// Sells cover: checks the request against the market price and the pool's capacity, locks
/// capital and adds the premium to the capital.
///
/// Capacity is the unlocked capital *before* this premium arrives: a buyer's own premium
/// never backs their own cover. A request whose strike is already reached by
/// `market_price` is refused, since it would be a certain payout.
pub fn buy_policy(
    pool: &mut Pool,
    request: &PolicyRequest,
    market_price: i64,
    now: u64,
) -> Result<Quote, InsuranceError> {
    if request.coverage == 0 {
        return Err(InsuranceError::ZeroAmount);
    }
    if request.strike_price <= 0 {
        return Err(InsuranceError::InvalidStrike);
    }
    if request.expiry_slot <= now
        || request
            .expiry_slot
            .checked_add(pool.claim_grace_slots)
            .is_none()
    {
        return Err(InsuranceError::InvalidExpiry);
    }
    if market_price <= request.strike_price {
        return Err(InsuranceError::StrikeAlreadyReached);
    }
    let quote = quote(pool, request.coverage)?;
    if quote.locked > pool.unlocked_capital() {
        return Err(InsuranceError::InsufficientCapacity);
    }
    let locked_capital = add(pool.locked_capital, quote.locked)?;
    let active_coverage = add(pool.active_coverage, request.coverage)?;
    let total_capital = add(pool.total_capital, quote.premium)?;
    pool.locked_capital = locked_capital;
    pool.active_coverage = active_coverage;
    pool.total_capital = total_capital;
    Ok(quote)
}

/// The last slot a claim on `policy` may be made in: expiry plus the pool's grace period.
pub fn claim_deadline(pool: &Pool, policy: &Policy) -> Result<u64, InsuranceError> {
    add(policy.expiry_slot, pool.claim_grace_slots)
}

/// Whether `price` entitles `policy` to its payout at slot `now`.
///
/// The rule, with `E` the expiry slot, `G` the grace period, `A` the pool's max oracle age
/// and `p` the price set in slot `s`:
///
/// 1. the policy is active;
/// 2. `now ≤ E + G` (the claim window);
/// 3. `s ≤ E` (only prices observed during cover count);
/// 4. `min(now, E) − s ≤ A`: before expiry the price must be fresh now; during the grace
///    period it must have been fresh *at expiry*, however stale it is now, so an oracle that
///    stopped updating around expiry does not cost the holder a payout it had earned;
/// 5. `p ≤ strike`.
///
/// Checked in that order; the first failure is the error.
pub fn check_claim(
    pool: &Pool,
    policy: &Policy,
    price: &Price,
    now: u64,
) -> Result<(), InsuranceError> {
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive);
    }
    if now > claim_deadline(pool, policy)? {
        return Err(InsuranceError::ClaimWindowClosed);
    }
    if price.slot > policy.expiry_slot {
        return Err(InsuranceError::PriceAfterExpiry);
    }
    let reference = now.min(policy.expiry_slot);
    if reference.saturating_sub(price.slot) > pool.max_oracle_age_slots {
        return Err(InsuranceError::StalePrice);
    }
    if price.price > policy.strike_price {
        return Err(InsuranceError::StrikeNotReached);
    }
    Ok(())
}

/// Pays `policy` out if [`check_claim`] allows: releases its lock, removes its coverage
/// from the capital and marks it claimed. Returns the payout (always exactly the coverage).
pub fn claim(
    pool: &mut Pool,
    policy: &mut Policy,
    price: &Price,
    now: u64,
) -> Result<u64, InsuranceError> {
    check_claim(pool, policy, price, now)?;
    let payout = policy.coverage;
    let total_capital = sub(pool.total_capital, payout)?;
    let locked_capital = sub(pool.locked_capital, policy.locked)?;
    let active_coverage = sub(pool.active_coverage, policy.coverage)?;
    pool.total_capital = total_capital;
    pool.locked_capital = locked_capital;
    pool.active_coverage = active_coverage;
    policy.status = PolicyStatus::Claimed;
    Ok(payout)
}

/// Ends an unclaimed policy once its claim window has passed (`now > E + G`), releasing its
/// locked capital. Returns the capital released.
pub fn expire(pool: &mut Pool, policy: &mut Policy, now: u64) -> Result<u64, InsuranceError> {
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive);
    }
    if now <= claim_deadline(pool, policy)? {
        return Err(InsuranceError::PolicyNotExpired);
    }
    let locked_capital = sub(pool.locked_capital, policy.locked)?;
    let active_coverage = sub(pool.active_coverage, policy.coverage)?;
    pool.locked_capital = locked_capital;
    pool.active_coverage = active_coverage;
    policy.status = PolicyStatus::Expired;
    Ok(policy.locked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AccountKind;

    fn pool() -> Pool {
        Pool {
            kind: AccountKind::Pool,
            premium_rate_bps: 250,
            collateral_ratio_bps: 15_000,
            max_oracle_age_slots: 10,
            claim_grace_slots: 20,
            ..Pool::default()
        }
    }

    fn price(price: i64, slot: u64) -> Price {
        Price {
            price,
            confidence: 0,
            exponent: 0,
            slot,
        }
    }

    #[test]
    fn rounding_favours_the_pool() {
        assert_eq!(mul_bps_ceil(1, 1), Ok(1));
        assert_eq!(mul_bps_ceil(10_000, 1), Ok(1));
        assert_eq!(mul_bps_ceil(10_001, 1), Ok(2));
        assert_eq!(mul_bps_ceil(0, 10_000), Ok(0));
        assert_eq!(mul_bps_ceil(u64::MAX, 10_000), Ok(u64::MAX));
        assert_eq!(
            mul_bps_ceil(u64::MAX, 10_001),
            Err(InsuranceError::Overflow)
        );

        let mut pool = pool();
        let (mut a, mut b) = (Position::default(), Position::default());
        assert_eq!(deposit(&mut pool, &mut a, 1_000), Ok(1_000));
        pool.total_capital = 1_003; // premiums
        // 10 × 1000 / 1003 = 9.97 → 9 shares.
        assert_eq!(deposit(&mut pool, &mut b, 10), Ok(9));
        assert_eq!(
            deposit(&mut pool, &mut b, 1),
            Err(InsuranceError::DepositTooSmall)
        );
        // 9 × 1013 / 1009 = 9.03 → 9 tokens.
        assert_eq!(withdraw(&mut pool, &mut b, 9), Ok(9));
        assert_eq!(
            withdraw(&mut pool, &mut b, 1),
            Err(InsuranceError::InsufficientShares)
        );
        assert_eq!(
            withdraw(&mut pool, &mut a, 0),
            Err(InsuranceError::ZeroAmount)
        );
    }

    #[test]
    fn capacity_excludes_the_buyers_own_premium() {
        let mut pool = pool();
        let mut a = Position::default();
        deposit(&mut pool, &mut a, 1_500).unwrap();
        let request = PolicyRequest {
            policy_id: 0,
            coverage: 1_001,
            strike_price: 50,
            expiry_slot: 100,
        };
        // Locks ceil(1001 × 1.5) = 1502 > 1500, even though the premium (26) would cover it.
        assert_eq!(
            buy_policy(&mut pool, &request, 60, 0),
            Err(InsuranceError::InsufficientCapacity)
        );
        let request = PolicyRequest {
            coverage: 1_000,
            ..request
        };
        assert_eq!(
            buy_policy(&mut pool, &request, 60, 0),
            Ok(Quote {
                premium: 25,
                locked: 1_500
            })
        );
        assert_eq!(
            (
                pool.total_capital,
                pool.locked_capital,
                pool.active_coverage
            ),
            (1_525, 1_500, 1_000)
        );
        // Only the premium is unlocked, and it is withdrawable.
        assert_eq!(
            withdraw(&mut pool, &mut a, 1_000),
            Err(InsuranceError::InsufficientUnlockedCapital)
        );
        assert_eq!(withdraw(&mut pool, &mut a, 16), Ok(16));
    }

    #[test]
    fn buy_rejects_bad_requests() {
        let mut pool = pool();
        deposit(&mut pool, &mut Position::default(), 1_000_000).unwrap();
        let ok = PolicyRequest {
            policy_id: 0,
            coverage: 100,
            strike_price: 50,
            expiry_slot: 100,
        };
        let cases = [
            (
                PolicyRequest { coverage: 0, ..ok },
                60,
                0,
                InsuranceError::ZeroAmount,
            ),
            (
                PolicyRequest {
                    strike_price: 0,
                    ..ok
                },
                60,
                0,
                InsuranceError::InvalidStrike,
            ),
            (ok, 60, 100, InsuranceError::InvalidExpiry),
            (
                PolicyRequest {
                    expiry_slot: u64::MAX,
                    ..ok
                },
                60,
                0,
                InsuranceError::InvalidExpiry,
            ),
            (ok, 50, 0, InsuranceError::StrikeAlreadyReached),
        ];
        for (request, market, now, error) in cases {
            let before = pool.clone();
            assert_eq!(buy_policy(&mut pool, &request, market, now), Err(error));
            assert_eq!(pool, before);
        }
    }

    #[test]
    fn claim_rule_at_its_edges() {
        let mut pool = pool();
        deposit(&mut pool, &mut Position::default(), 1_000_000).unwrap();
        let request = PolicyRequest {
            policy_id: 0,
            coverage: 100,
            strike_price: 50,
            expiry_slot: 100,
        };
        let quote = buy_policy(&mut pool, &request, 60, 0).unwrap();
        let policy = Policy {
            coverage: 100,
            locked: quote.locked,
            strike_price: 50,
            expiry_slot: 100,
            ..Policy::default()
        };
        let check = |p: Price, now| check_claim(&pool, &policy, &p, now);
        // Before expiry: fresh price required (age ≤ 10).
        assert_eq!(check(price(50, 40), 50), Ok(()));
        assert_eq!(check(price(50, 39), 50), Err(InsuranceError::StalePrice));
        assert_eq!(
            check(price(51, 50), 50),
            Err(InsuranceError::StrikeNotReached)
        );
        // Grace period (101..=120): a price fresh at expiry (slot ≥ 90) still counts.
        assert_eq!(check(price(10, 90), 120), Ok(()));
        assert_eq!(check(price(10, 100), 101), Ok(()));
        assert_eq!(check(price(10, 89), 101), Err(InsuranceError::StalePrice));
        assert_eq!(
            check(price(10, 101), 101),
            Err(InsuranceError::PriceAfterExpiry)
        );
        assert_eq!(
            check(price(10, 100), 121),
            Err(InsuranceError::ClaimWindowClosed)
        );

        let mut claimed = policy.clone();
        let mut after = pool.clone();
        assert_eq!(
            claim(&mut after, &mut claimed, &price(50, 100), 100),
            Ok(100)
        );
        assert_eq!(after.total_capital, pool.total_capital - 100);
        assert_eq!((after.locked_capital, after.active_coverage), (0, 0));
        assert_eq!(
            claim(&mut after, &mut claimed, &price(50, 100), 100),
            Err(InsuranceError::PolicyNotActive)
        );
        assert_eq!(
            expire(&mut after, &mut claimed, 1_000),
            Err(InsuranceError::PolicyNotActive)
        );

        let mut expiring = policy.clone();
        let mut after = pool.clone();
        assert_eq!(
            expire(&mut after, &mut expiring, 120),
            Err(InsuranceError::PolicyNotExpired)
        );
        assert_eq!(expire(&mut after, &mut expiring, 121), Ok(quote.locked));
        assert_eq!(after.total_capital, pool.total_capital);
        assert_eq!(
            (after.locked_capital, expiring.status),
            (0, PolicyStatus::Expired)
        );
    }

    #[test]
    fn depleted_pool_refuses_deposits() {
        let mut pool = pool();
        pool.total_shares = 5;
        assert_eq!(
            deposit(&mut pool, &mut Position::default(), 1),
            Err(InsuranceError::PoolDepleted)
        );
    }

    #[test]
    fn params_ranges() {
        let ok = PoolParams {
            premium_rate_bps: 1,
            collateral_ratio_bps: BPS_DENOMINATOR,
            max_oracle_age_slots: 0,
            claim_grace_slots: 0,
        };
        assert_eq!(ok.validate(), Ok(()));
        for bad in [
            PoolParams {
                premium_rate_bps: 0,
                ..ok
            },
            PoolParams {
                premium_rate_bps: BPS_DENOMINATOR + 1,
                ..ok
            },
            PoolParams {
                collateral_ratio_bps: BPS_DENOMINATOR - 1,
                ..ok
            },
            PoolParams {
                collateral_ratio_bps: COLLATERAL_RATIO_BPS_MAX + 1,
                ..ok
            },
        ] {
            assert_eq!(bad.validate(), Err(InsuranceError::InvalidPoolParams));
        }
    }
}
