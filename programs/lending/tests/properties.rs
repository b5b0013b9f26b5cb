//! Property tests of the pure state transitions the program runs (1000 cases each).
//!
//! A "world" holds a USDC reserve, a SOL reserve and one obligation that deposits SOL
//! collateral and borrows USDC. Random sequences of deposits, withdrawals, borrows,
//! repayments, redemptions, waits and price moves run through exactly the methods the
//! processor calls, each preceded by the refreshes a transaction would include.

#![allow(clippy::arithmetic_side_effects)]

use braid_program_lending::LendingError;
use braid_program_lending::math::Decimal;
use braid_program_lending::state::{
    LENDING_MARKET_LEN, LendingMarket, OBLIGATION_LEN, Obligation, ObligationCollateral,
    ObligationLiquidity, RESERVE_LEN, Reserve, ReserveCollateral, ReserveConfig, ReserveLiquidity,
    price_to_decimal,
};
use braid_runtime::Pubkey;
use proptest::prelude::*;

const USDC: Pubkey = Pubkey::new_from_array([1; 32]);
const SOL: Pubkey = Pubkey::new_from_array([2; 32]);
const MARKET: Pubkey = Pubkey::new_from_array([3; 32]);

fn config(ltv: u8, threshold: u8, bonus: u8) -> ReserveConfig {
    ReserveConfig {
        optimal_utilization_rate_percent: 80,
        loan_to_value_ratio_percent: ltv,
        liquidation_bonus_percent: bonus,
        liquidation_threshold_percent: threshold,
        min_borrow_rate_percent: 2,
        optimal_borrow_rate_percent: 10,
        max_borrow_rate_percent: 150,
        max_oracle_age_slots: 10,
    }
}

fn reserve(decimals: u8, initial: u64, config: ReserveConfig) -> Reserve {
    let liquidity = ReserveLiquidity {
        mint_decimals: decimals,
        ..ReserveLiquidity::default()
    };
    Reserve::new(
        0,
        MARKET,
        liquidity,
        ReserveCollateral::default(),
        config,
        initial,
    )
    .unwrap()
    .0
}

#[derive(Debug, Clone)]
enum Op {
    /// Deposit SOL for cSOL and put the cSOL into the obligation.
    Deposit(u64),
    /// Withdraw cSOL from the obligation.
    Withdraw(u64),
    /// Borrow USDC.
    Borrow(u64),
    /// Repay USDC.
    Repay(u64),
    /// A lender deposits USDC.
    Supply(u64),
    /// A lender redeems cUSDC.
    Redeem(u64),
    /// Slots pass.
    Wait(u64),
    /// The SOL price changes (in micro-dollars).
    Price(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..1_000_000_000_000).prop_map(Op::Deposit),
        (1u64..1_000_000_000_000).prop_map(Op::Withdraw),
        (1u64..200_000_000_000).prop_map(Op::Borrow),
        (1u64..200_000_000_000).prop_map(Op::Repay),
        (1u64..500_000_000_000).prop_map(Op::Supply),
        (1u64..500_000_000_000).prop_map(Op::Redeem),
        (0u64..5_000_000).prop_map(Op::Wait),
        (1_000_000u64..1_000_000_000).prop_map(Op::Price),
    ]
}

fn market_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..1_000_000_000_000).prop_map(Op::Deposit),
        (1u64..1_000_000_000_000).prop_map(Op::Withdraw),
        (1u64..200_000_000_000).prop_map(Op::Borrow),
        (1u64..200_000_000_000).prop_map(Op::Repay),
        (1u64..500_000_000_000).prop_map(Op::Supply),
        (1u64..500_000_000_000).prop_map(Op::Redeem),
    ]
}

struct World {
    slot: u64,
    usdc: Reserve,
    sol: Reserve,
    obligation: Obligation,
    sol_price: Decimal,
    /// Token balances of the two vaults as SPL Token would hold them.
    usdc_vault: u64,
    sol_vault: u64,
    /// cUSDC held by lenders.
    lender_cusdc: u64,
}

impl World {
    fn new(sol_price_micros: u64, ltv: u8, threshold: u8) -> Self {
        let usdc = reserve(6, 1_000_000_000_000, config(75, 80, 5));
        let sol = reserve(9, 1_000_000_000, config(ltv, threshold, 10));
        let mut world = World {
            slot: 0,
            usdc_vault: usdc.liquidity.available_amount,
            sol_vault: sol.liquidity.available_amount,
            lender_cusdc: usdc.collateral.mint_total_supply,
            usdc,
            sol,
            obligation: Obligation::new(0, MARKET, Pubkey::new_from_array([9; 32])),
            sol_price: price_to_decimal(sol_price_micros as i64, -6).unwrap(),
        };
        world.refresh();
        world
    }

    /// The refreshes a transaction includes before it acts.
    fn refresh(&mut self) {
        self.usdc.refresh(self.slot, Decimal::ONE).unwrap();
        self.sol.refresh(self.slot, self.sol_price).unwrap();
        let (usdc, sol) = (&self.usdc, &self.sol);
        let views: Vec<(Pubkey, &Reserve)> = self
            .obligation
            .deposits
            .iter()
            .map(|d| d.deposit_reserve)
            .chain(self.obligation.borrows.iter().map(|b| b.borrow_reserve))
            .map(|key| (key, if key == USDC { usdc } else { sol }))
            .collect();
        self.obligation.refresh(self.slot, &views).unwrap();
    }

    fn apply(&mut self, op: &Op) -> Result<(), LendingError> {
        self.refresh();
        let slot = self.slot;
        match *op {
            Op::Deposit(amount) => {
                let collateral = self.sol.deposit_liquidity(slot, amount)?;
                self.sol_vault += amount;
                self.sol.refresh(slot, self.sol_price)?;
                self.obligation
                    .deposit_collateral(slot, SOL, &self.sol, collateral)
            }
            Op::Withdraw(amount) => self
                .obligation
                .withdraw_collateral(slot, SOL, &self.sol, amount),
            Op::Borrow(amount) => {
                self.obligation.borrow(slot, USDC, &mut self.usdc, amount)?;
                self.usdc_vault -= amount;
                Ok(())
            }
            Op::Repay(amount) => {
                let paid = self.obligation.repay(slot, USDC, &mut self.usdc, amount)?;
                assert!(paid <= amount);
                self.usdc_vault += paid;
                Ok(())
            }
            Op::Supply(amount) => {
                let minted = self.usdc.deposit_liquidity(slot, amount)?;
                self.usdc_vault += amount;
                self.lender_cusdc += minted;
                Ok(())
            }
            Op::Redeem(amount) => {
                let amount = amount.min(self.lender_cusdc);
                let paid = self.usdc.redeem_collateral(slot, amount)?;
                self.usdc_vault -= paid;
                self.lender_cusdc -= amount;
                Ok(())
            }
            Op::Wait(slots) => {
                self.slot += slots;
                Ok(())
            }
            Op::Price(micros) => {
                self.sol_price = price_to_decimal(micros as i64, -6)?;
                Ok(())
            }
        }
    }

    fn debt(&self) -> Decimal {
        self.obligation
            .borrows
            .iter()
            .map(|b| b.borrowed_amount_wads)
            .fold(Decimal::ZERO, |a, b| a.checked_add(b).unwrap())
    }
}

fn check_conservation(world: &World) -> Result<(), TestCaseError> {
    for (reserve, vault) in [
        (&world.usdc, world.usdc_vault),
        (&world.sol, world.sol_vault),
    ] {
        prop_assert_eq!(
            reserve.liquidity.available_amount,
            vault,
            "available = vault balance"
        );
        let total = reserve.liquidity.total_supply().unwrap();
        prop_assert_eq!(
            total,
            Decimal::from_u64(reserve.liquidity.available_amount)
                .checked_add(reserve.liquidity.borrowed_amount_wads)
                .unwrap()
        );
    }
    prop_assert_eq!(world.usdc.collateral.mint_total_supply, world.lender_cusdc);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Vault balances equal available liquidity, and available + borrowed = total, after any
    /// sequence, whichever operations fail.
    #[test]
    fn liquidity_is_conserved(price in 1_000_000u64..1_000_000_000, ops in prop::collection::vec(op(), 1..16)) {
        let mut world = World::new(price, 50, 60);
        for op in &ops {
            let _ = world.apply(op);
            check_conservation(&world)?;
        }
    }

    /// Interest only ever grows the cumulative borrow rate and the debts.
    #[test]
    fn cumulative_borrow_rate_never_decreases(price in 1_000_000u64..1_000_000_000, ops in prop::collection::vec(op(), 1..16)) {
        let mut world = World::new(price, 50, 60);
        for op in &ops {
            let before = (world.usdc.liquidity.cumulative_borrow_rate_wads, world.sol.liquidity.cumulative_borrow_rate_wads);
            let debt_before = world.debt();
            let result = world.apply(op);
            world.refresh();
            prop_assert!(world.usdc.liquidity.cumulative_borrow_rate_wads >= before.0);
            prop_assert!(world.sol.liquidity.cumulative_borrow_rate_wads >= before.1);
            if matches!(op, Op::Wait(_) | Op::Price(_) | Op::Deposit(_) | Op::Withdraw(_) | Op::Supply(_) | Op::Redeem(_)) {
                prop_assert!(world.debt() >= debt_before, "{:?} {:?}", op, result);
            }
        }
    }

    /// A successful borrow or withdrawal leaves borrows within the allowed value, so the
    /// obligation is healthy when revalued at the same prices.
    #[test]
    fn borrow_and_withdraw_never_leave_an_obligation_unhealthy(
        price in 1_000_000u64..1_000_000_000,
        ltv in 1u8..90,
        gap in 1u8..10,
        ops in prop::collection::vec(op(), 1..16),
    ) {
        let mut world = World::new(price, ltv, ltv + gap);
        for op in &ops {
            let result = world.apply(op);
            if result.is_ok() && matches!(op, Op::Borrow(_) | Op::Withdraw(_)) {
                world.refresh();
                prop_assert!(world.obligation.borrowed_value <= world.obligation.allowed_borrow_value);
                prop_assert!(!world.obligation.is_unhealthy());
            }
        }
    }

    /// Without a price move or time passing, no instruction makes a healthy obligation
    /// liquidatable.
    #[test]
    fn only_prices_or_interest_make_an_obligation_liquidatable(
        price in 1_000_000u64..1_000_000_000,
        setup in prop::collection::vec(op(), 0..12),
        ops in prop::collection::vec(market_op(), 1..12),
    ) {
        let mut world = World::new(price, 50, 60);
        for op in &setup {
            let _ = world.apply(op);
        }
        world.refresh();
        for op in &ops {
            let healthy = !world.obligation.is_unhealthy();
            let _ = world.apply(op);
            world.refresh();
            if healthy {
                prop_assert!(!world.obligation.is_unhealthy(), "{:?} made it unhealthy", op);
            }
        }
    }

    /// Liquidation fails on a healthy obligation; on an unhealthy one it repays at most half
    /// the debt (plus rounding up to a whole token) and seizes at most the deposit.
    #[test]
    fn only_unhealthy_obligations_are_liquidated(
        price in 1_000_000u64..1_000_000_000,
        deposit in 1_000_000u64..1_000_000_000_000,
        borrow_percent in 1u128..=100,
        price_percent in 20u64..=110,
        wait in 0u64..50_000_000,
        setup in prop::collection::vec(op(), 0..6),
        amount in 1u64..u64::MAX,
    ) {
        let mut world = World::new(price, 50, 60);
        let _ = world.apply(&Op::Deposit(deposit));
        // Borrow a share of the capacity (USDC is $1 with 6 decimals).
        world.refresh();
        let capacity = world.obligation.allowed_borrow_value.raw() / 1_000_000_000_000;
        let _ = world.apply(&Op::Borrow((capacity * borrow_percent / 100) as u64));
        for op in &setup {
            let _ = world.apply(op);
        }
        let _ = world.apply(&Op::Price(price * price_percent / 100));
        let _ = world.apply(&Op::Wait(wait));
        world.refresh();
        let before = world.obligation.clone();
        let usdc_before = world.usdc;
        let slot = world.slot;
        let sol = world.sol;
        let result = world.obligation.liquidate(slot, USDC, &mut world.usdc, SOL, &sol, amount);
        if !before.is_unhealthy() {
            prop_assert!(result.is_err());
            if !before.borrows.is_empty() && !before.deposits.is_empty() {
                prop_assert_eq!(result, Err(LendingError::ObligationHealthy));
            }
            prop_assert_eq!(&world.obligation, &before);
            prop_assert_eq!(world.usdc, usdc_before);
        } else if let Ok(liquidation) = result {
            let debt = before.borrows[0].borrowed_amount_wads;
            prop_assert!(liquidation.settle_amount <= debt);
            if debt >= Decimal::from_u64(2) {
                prop_assert!(liquidation.settle_amount <= debt.mul_ceil(Decimal::from_percent(50)).unwrap());
            }
            prop_assert!(liquidation.repay_amount <= amount.max(1).max(liquidation.settle_amount.to_u64_ceil().unwrap()));
            prop_assert_eq!(liquidation.repay_amount, liquidation.settle_amount.to_u64_ceil().unwrap());
            prop_assert!(liquidation.withdraw_amount <= before.deposits[0].deposited_amount);
        }
    }
}

#[test]
fn account_sizes_match_the_layouts() {
    assert_eq!(
        borsh::to_vec(&LendingMarket::default()).unwrap().len(),
        LENDING_MARKET_LEN
    );
    assert_eq!(
        borsh::to_vec(&Reserve::default()).unwrap().len(),
        RESERVE_LEN
    );
    let full = Obligation {
        deposits: vec![ObligationCollateral::default(); 4],
        borrows: vec![ObligationLiquidity::default(); 4],
        ..Obligation::default()
    };
    assert_eq!(borsh::to_vec(&full).unwrap().len(), OBLIGATION_LEN);
}

#[test]
fn kinked_interest_curve() {
    let mut r = reserve(6, 1_000, config(50, 60, 5));
    // 0% utilization: the minimum rate.
    assert_eq!(r.current_borrow_rate().unwrap(), Decimal::from_percent(2));
    // 40% (half of optimal): 2% + 0.5 × 8% = 6%.
    r.liquidity.available_amount = 600;
    r.liquidity.borrowed_amount_wads = Decimal::from_u64(400);
    assert_eq!(r.current_borrow_rate().unwrap(), Decimal::from_percent(6));
    // 80%: the optimal rate.
    r.liquidity.available_amount = 200;
    r.liquidity.borrowed_amount_wads = Decimal::from_u64(800);
    assert_eq!(r.current_borrow_rate().unwrap(), Decimal::from_percent(10));
    // 90%: halfway from optimal to max = 10% + 0.5 × 140% = 80%.
    r.liquidity.available_amount = 100;
    r.liquidity.borrowed_amount_wads = Decimal::from_u64(900);
    assert_eq!(r.current_borrow_rate().unwrap(), Decimal::from_percent(80));
    // 100%: the maximum.
    r.liquidity.available_amount = 0;
    r.liquidity.borrowed_amount_wads = Decimal::from_u64(1000);
    assert_eq!(r.current_borrow_rate().unwrap(), Decimal::from_percent(150));
}

#[test]
fn config_validation() {
    assert_eq!(config(50, 60, 5).validate(), Ok(()));
    assert_eq!(
        config(60, 60, 5).validate(),
        Err(LendingError::InvalidConfig)
    );
    assert_eq!(
        config(50, 101, 5).validate(),
        Err(LendingError::InvalidConfig)
    );
    assert_eq!(
        config(50, 60, 101).validate(),
        Err(LendingError::InvalidConfig)
    );
    let mut c = config(50, 60, 5);
    c.min_borrow_rate_percent = 20;
    assert_eq!(c.validate(), Err(LendingError::InvalidConfig));
    c = config(50, 60, 5);
    c.optimal_utilization_rate_percent = 101;
    assert_eq!(c.validate(), Err(LendingError::InvalidConfig));
}

#[test]
fn oracle_prices_convert_exactly() {
    assert_eq!(
        price_to_decimal(1_500_000, -6).unwrap(),
        Decimal::from_raw(1_500_000_000_000_000_000)
    );
    assert_eq!(price_to_decimal(3, 2).unwrap(), Decimal::from_u64(300));
    assert_eq!(
        price_to_decimal(0, 0),
        Err(LendingError::InvalidOraclePrice)
    );
    assert_eq!(
        price_to_decimal(-1, 0),
        Err(LendingError::InvalidOraclePrice)
    );
    assert_eq!(
        price_to_decimal(1, -19),
        Err(LendingError::InvalidOraclePrice)
    );
    assert_eq!(
        price_to_decimal(i64::MAX, 18),
        Err(LendingError::MathOverflow)
    );
}

#[test]
fn full_repayment_rounds_up() {
    let mut usdc = reserve(6, 1_000_000, config(75, 80, 5));
    let mut sol = reserve(6, 1_000_000, config(50, 60, 5));
    usdc.refresh(0, Decimal::ONE).unwrap();
    sol.refresh(0, Decimal::ONE).unwrap();
    let mut ob = Obligation::new(0, MARKET, Pubkey::default());
    ob.deposit_collateral(0, SOL, &sol, 1_000_000).unwrap();
    ob.refresh(0, &[(SOL, &sol)]).unwrap();
    ob.borrow(0, USDC, &mut usdc, 100_000).unwrap();
    // A third of a token unit of interest accrues.
    usdc.refresh(0, Decimal::ONE).unwrap();
    ob.refresh(0, &[(SOL, &sol), (USDC, &usdc)]).unwrap();
    ob.borrows[0].borrowed_amount_wads =
        Decimal::from_raw(100_000 * 1_000_000_000_000_000_000 + 333_333_333_333_333_333);
    let paid = ob.repay(0, USDC, &mut usdc, u64::MAX).unwrap();
    assert_eq!(paid, 100_001);
    assert!(ob.borrows.is_empty());
    // A partial repayment pays exactly what was asked.
    let mut ob2 = Obligation::new(0, MARKET, Pubkey::default());
    usdc.refresh(0, Decimal::ONE).unwrap();
    ob2.deposit_collateral(0, SOL, &sol, 1_000_000).unwrap();
    ob2.refresh(0, &[(SOL, &sol)]).unwrap();
    ob2.borrow(0, USDC, &mut usdc, 10).unwrap();
    usdc.refresh(0, Decimal::ONE).unwrap();
    ob2.refresh(0, &[(SOL, &sol), (USDC, &usdc)]).unwrap();
    assert_eq!(ob2.repay(0, USDC, &mut usdc, 4).unwrap(), 4);
    assert_eq!(ob2.borrows[0].borrowed_amount_wads, Decimal::from_u64(6));
}
