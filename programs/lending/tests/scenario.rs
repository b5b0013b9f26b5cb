//! End to end through the harness: deposit, borrow, interest, a price fall, liquidation.

#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_lending::instruction as lending;
use braid_program_lending::state::SLOTS_PER_YEAR;
use common::*;

const WAD: u128 = 1_000_000_000_000_000_000;

/// `ceil(a × b / 10^18)` for values whose product fits in u128 (factors near one).
fn ceil_wad_mul(a: u128, b: u128) -> u128 {
    (a * b).div_ceil(WAD)
}

/// The documented interest formula, written out independently of the program's decimal
/// type: `(1 + ceil(rate / SLOTS_PER_YEAR))^slots` by squaring, each product rounded up.
fn compound_factor(annual_rate_raw: u128, slots: u64) -> u128 {
    let mut base = WAD + annual_rate_raw.div_ceil(u128::from(SLOTS_PER_YEAR));
    let (mut result, mut n) = (WAD, slots);
    while n > 0 {
        if n & 1 == 1 {
            result = ceil_wad_mul(result, base);
        }
        n >>= 1;
        if n > 0 {
            base = ceil_wad_mul(base, base);
        }
    }
    result
}

#[test]
fn deposit_borrow_accrue_crash_liquidate() {
    let mut f = Fixture::new();

    // A lender supplies 9,000 USDC: one collateral token per token while no interest accrued.
    let lender = f.lender(9_000_000_000);
    assert_eq!(f.env.balance(&lender.cusdc), 9_000_000_000);
    assert_eq!(f.env.balance(&f.usdc.liquidity_supply), 10_000_000_000);

    // A borrower posts 100 SOL ($10,000 at $100) and borrows 4,000 USDC (LTV 50%: $5,000).
    let (borrower, obligation) = f.collateralized_borrower(100_000_000_000);
    assert_eq!(f.env.balance(&f.sol.collateral_supply), 100_000_000_000);
    let borrow = lending::borrow_obligation_liquidity(
        &f.usdc,
        &obligation,
        &borrower.usdc,
        &borrower.key.pubkey(),
        4_000_000_000,
    );
    let ixs = f.fresh(&obligation, borrow);
    f.env.ok(&ixs, &[&borrower.key]);
    assert_eq!(f.env.balance(&borrower.usdc), 4_000_000_000);
    assert_eq!(f.env.balance(&f.usdc.liquidity_supply), 6_000_000_000);
    let reserve = f.env.reserve(&f.usdc.reserve);
    assert_eq!(reserve.liquidity.available_amount, 6_000_000_000);
    assert_eq!(
        reserve.liquidity.borrowed_amount_wads.raw(),
        4_000_000_000 * WAD
    );

    // A million slots pass; SOL falls to $65.
    let slots = 1_000_000;
    f.env.h.warp_to_slot(slots);
    let usdc_feed = f.usdc_feed;
    let sol_feed = f.sol_feed;
    f.env.set_price(&usdc_feed, USDC_PRICE);
    f.env.set_price(&sol_feed, 65_000_000);
    let mut ixs = f.refresh_reserves();
    ixs.push(f.env.refresh_obligation_ix(&obligation));
    f.env.ok(&ixs, &[]);

    // Utilization 4,000 / 10,000 = 40%, half the optimal 80%: rate = 0% + 0.5 × 8% = 4%.
    let factor = compound_factor(4 * WAD / 100, slots);
    let exact = ((0.04 / SLOTS_PER_YEAR as f64).ln_1p() * slots as f64).exp();
    // Rounding up at each squaring adds at most about one ulp per slot, always upwards.
    let excess = factor as f64 / WAD as f64 - exact;
    assert!(
        excess > -1e-15 && excess < slots as f64 * 2e-18,
        "factor {factor} vs {exact}"
    );
    let debt_raw = 4_000_000_000 * factor; // ceil(4e9·10^18 × factor / 10^18) is exact
    let reserve = f.env.reserve(&f.usdc.reserve);
    assert_eq!(reserve.liquidity.cumulative_borrow_rate_wads.raw(), factor);
    assert_eq!(reserve.liquidity.borrowed_amount_wads.raw(), debt_raw);
    let state = f.env.obligation(&obligation);
    assert_eq!(state.borrows[0].borrowed_amount_wads.raw(), debt_raw);
    // $1 per USDC with 6 decimals: value = debt / 10^6, rounded up.
    assert_eq!(state.borrowed_value.raw(), debt_raw.div_ceil(1_000_000));
    // The SOL reserve has no borrows (0% rate), so 100 cSOL = 100 SOL = $6,500.
    assert_eq!(state.deposited_value.raw(), 6_500 * WAD);
    assert_eq!(state.allowed_borrow_value.raw(), 3_250 * WAD);
    assert_eq!(state.unhealthy_borrow_value.raw(), 3_900 * WAD);
    assert!(
        state.is_unhealthy(),
        "≈$4,002 borrowed against a $3,900 threshold"
    );

    // A liquidator asks to repay 3,000 USDC; the close factor caps it at half the debt.
    let liquidator = f.user(10_000_000_000, 0);
    let liquidate = lending::liquidate_obligation(
        &f.usdc,
        &f.sol,
        &obligation,
        &liquidator.usdc,
        &liquidator.csol,
        &liquidator.key.pubkey(),
        3_000_000_000,
    );
    let ixs = f.fresh(&obligation, liquidate);
    f.env.ok(&ixs, &[&liquidator.key]);
    let settle_raw = debt_raw / 2; // debt × 50%, rounded down
    let repay = settle_raw.div_ceil(WAD) as u64; // the liquidator pays the settled debt rounded up
    let settle_value_raw = settle_raw / 1_000_000; // × $1 / 10^6, rounded down
    let withdraw_value_raw = settle_value_raw * 11 / 10; // + 10% bonus, rounded down
    let seized = (100_000_000_000u128 * withdraw_value_raw / (6_500 * WAD)) as u64;
    // ≈ 4,002.03 / 2 USDC, and that value × 1.1 / $65 in SOL.
    assert_eq!(repay, 2_001_014_971);
    assert_eq!(seized, 33_863_330_275);
    assert_eq!(f.env.balance(&liquidator.usdc), 10_000_000_000 - repay);
    assert_eq!(f.env.balance(&liquidator.csol), seized);
    assert_eq!(
        f.env.balance(&f.usdc.liquidity_supply),
        6_000_000_000 + repay
    );
    assert_eq!(
        f.env.balance(&f.sol.collateral_supply),
        100_000_000_000 - seized
    );
    assert_eq!(f.env.balance(&borrower.usdc), 4_000_000_000);
    let state = f.env.obligation(&obligation);
    assert_eq!(
        state.borrows[0].borrowed_amount_wads.raw(),
        debt_raw - settle_raw
    );
    assert_eq!(state.deposits[0].deposited_amount, 100_000_000_000 - seized);
    let reserve = f.env.reserve(&f.usdc.reserve);
    assert_eq!(reserve.liquidity.available_amount, 6_000_000_000 + repay);
    assert_eq!(
        reserve.liquidity.borrowed_amount_wads.raw(),
        debt_raw - settle_raw
    );

    // The liquidator redeems the seized cSOL one to one (the SOL reserve earned nothing).
    let redeem = lending::redeem_reserve_collateral(
        &f.sol,
        &liquidator.csol,
        &liquidator.sol,
        &liquidator.key.pubkey(),
        seized,
    );
    let ixs = vec![
        lending::refresh_reserve(&f.sol.reserve, &f.sol_feed),
        redeem,
    ];
    f.env.ok(&ixs, &[&liquidator.key]);
    assert_eq!(f.env.balance(&liquidator.sol), seized);
    assert_eq!(f.env.balance(&liquidator.csol), 0);
    assert_eq!(
        f.env.supply(&f.sol.collateral_mint),
        101_000_000_000 - seized
    );

    // The lender's cUSDC now redeems for its share of the interest: 1,000 cUSDC of
    // 10,000 are worth a tenth of total liquidity, rounded down.
    let total_raw = (6_000_000_000 + u128::from(repay)) * WAD + debt_raw - settle_raw;
    let expected = (total_raw / 10 / WAD) as u64;
    assert_eq!(expected, 1_000_202_994);
    let redeem = lending::redeem_reserve_collateral(
        &f.usdc,
        &lender.cusdc,
        &lender.usdc,
        &lender.key.pubkey(),
        1_000_000_000,
    );
    let ixs = vec![
        lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed),
        redeem,
    ];
    f.env.ok(&ixs, &[&lender.key]);
    assert_eq!(f.env.balance(&lender.usdc), expected);
    assert_eq!(f.env.balance(&lender.cusdc), 8_000_000_000);
}
