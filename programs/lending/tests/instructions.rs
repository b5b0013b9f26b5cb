//! Each instruction through the harness: the happy path and its errors, with exact codes.

#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_lending::LendingError::*;
use braid_program_lending::instruction as lending;
use braid_program_lending::state::{LENDING_MARKET_LEN, OBLIGATION_LEN, RESERVE_LEN};
use braid_runtime::keypair::Keypair;
use common::*;

#[test]
fn init_lending_market() {
    let mut env = Env::new();
    let market = env.create_market();
    let ix = lending::init_lending_market(&market, &env.payer.pubkey(), [0; 32]);
    assert_eq!(env.err(&[ix], &[]), custom(0, AlreadyInitialized));

    let fresh = env.create_owned(&braid_program_lending::ID, LENDING_MARKET_LEN);
    let mut ix = lending::init_lending_market(&fresh, &Keypair::new().pubkey(), [0; 32]);
    ix.accounts[1].is_signer = false;
    assert_eq!(env.err(&[ix], &[]), custom(0, InvalidSigner));

    let foreign = env.create_owned(&braid_program_token::ID, LENDING_MARKET_LEN);
    let ix = lending::init_lending_market(&foreign, &env.payer.pubkey(), [0; 32]);
    assert_eq!(env.err(&[ix], &[]), custom(0, InvalidAccountOwner));

    let short = env.create_owned(&braid_program_lending::ID, LENDING_MARKET_LEN - 1);
    let ix = lending::init_lending_market(&short, &env.payer.pubkey(), [0; 32]);
    assert_eq!(env.err(&[ix], &[]), custom(0, InvalidAccountData));
}

#[test]
fn init_reserve_happy_path_and_errors() {
    let mut f = Fixture::new();
    // The fixture's reserves: initial deposit in the vault, collateral minted one to one.
    let usdc = f.env.reserve(&f.usdc.reserve);
    assert_eq!(usdc.liquidity.available_amount, USDC_INITIAL);
    assert_eq!(usdc.collateral.mint_total_supply, USDC_INITIAL);
    assert_eq!(
        usdc.liquidity.market_price,
        braid_program_lending::Decimal::ONE
    );
    assert_eq!(usdc.config, USDC_CONFIG);
    assert_eq!(f.env.balance(&f.usdc.liquidity_supply), USDC_INITIAL);
    assert_eq!(f.env.supply(&f.usdc.collateral_mint), USDC_INITIAL);

    let (market, mint, feed) = (f.market, f.usdc_mint, f.usdc_feed);
    let accounts = f.env.reserve_accounts(&market, &mint, USDC_DECIMALS, &feed);

    // Someone other than the market owner.
    let intruder = Keypair::new();
    let mut ix = f.env.init_reserve_ix(&accounts, 10, USDC_CONFIG);
    ix.accounts[10].pubkey = intruder.pubkey();
    assert_eq!(
        f.env.err(&[ix], &[&intruder]),
        custom(0, InvalidMarketOwner)
    );

    let mut bad = USDC_CONFIG;
    bad.liquidation_threshold_percent = bad.loan_to_value_ratio_percent;
    let ix = f.env.init_reserve_ix(&accounts, 10, bad);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, InvalidConfig));

    let ix = f.env.init_reserve_ix(&accounts, 0, USDC_CONFIG);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, ZeroAmount));

    // A vault the market authority does not own.
    let payer = f.env.payer.pubkey();
    let mut wrong = accounts;
    wrong.liquidity_supply = f.env.create_token_account(&mint, &payer);
    let ix = f.env.init_reserve_ix(&wrong, 10, USDC_CONFIG);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, InvalidTokenAccount));

    // An oracle price older than the reserve accepts.
    f.env.h.warp_to_slot(MAX_ORACLE_AGE_SLOTS + 1);
    let ix = f.env.init_reserve_ix(&accounts, 10, USDC_CONFIG);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, InvalidOraclePrice));
    f.env.set_price(&feed, USDC_PRICE);
    let ix = f.env.init_reserve_ix(&accounts, 10, USDC_CONFIG);
    f.env.ok(&[ix], &[]);

    // The same reserve twice.
    let ix = f.env.init_reserve_ix(&f.usdc, 10, USDC_CONFIG);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, AlreadyInitialized));
}

#[test]
fn refresh_reserve() {
    let mut f = Fixture::new();
    let ix = lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed);
    f.env.ok(&[ix], &[]);
    let reserve = f.env.reserve(&f.usdc.reserve);
    assert!(!reserve.last_update.is_stale(0));

    let ix = lending::refresh_reserve(&f.usdc.reserve, &f.sol_feed);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, InvalidOracle));

    f.env.h.warp_to_slot(MAX_ORACLE_AGE_SLOTS + 1);
    let ix = lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, InvalidOraclePrice));

    let blank = f.env.create_owned(&braid_program_lending::ID, RESERVE_LEN);
    let ix = lending::refresh_reserve(&blank, &f.usdc_feed);
    assert_eq!(f.env.err(&[ix], &[]), custom(0, Uninitialized));
}

#[test]
fn deposit_reserve_liquidity() {
    let mut f = Fixture::new();
    let user = f.user(5_000_000, 0);
    let key = user.key.pubkey();

    // Without a refresh in this slot the reserve is stale.
    f.env.h.warp_to_slot(1);
    let deposit =
        lending::deposit_reserve_liquidity(&f.usdc, &user.usdc, &user.cusdc, &key, 1_000_000);
    assert_eq!(
        f.env.err(std::slice::from_ref(&deposit), &[&user.key]),
        custom(0, ReserveStale)
    );

    let refresh = lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed);
    f.env.set_price(&f.usdc_feed.clone(), USDC_PRICE);
    let zero = lending::deposit_reserve_liquidity(&f.usdc, &user.usdc, &user.cusdc, &key, 0);
    assert_eq!(
        f.env.err(&[refresh.clone(), zero], &[&user.key]),
        custom(1, ZeroAmount)
    );

    let mut wrong_vault = deposit.clone();
    wrong_vault.accounts[3].pubkey = f.sol.liquidity_supply;
    assert_eq!(
        f.env.err(&[refresh.clone(), wrong_vault], &[&user.key]),
        custom(1, InvalidTokenAccount)
    );

    let mut wrong_program = deposit.clone();
    wrong_program.accounts[8].pubkey = braid_program_oracle::ID;
    assert_eq!(
        f.env.err(&[refresh.clone(), wrong_program], &[&user.key]),
        custom(1, InvalidTokenProgram)
    );

    // Two deposits need two refreshes: the first marks the reserve stale.
    assert_eq!(
        f.env.err(
            &[refresh.clone(), deposit.clone(), deposit.clone()],
            &[&user.key]
        ),
        custom(2, ReserveStale)
    );

    f.env.ok(
        &[refresh.clone(), deposit.clone(), refresh, deposit],
        &[&user.key],
    );
    assert_eq!(f.env.balance(&user.usdc), 3_000_000);
    assert_eq!(f.env.balance(&user.cusdc), 2_000_000);
    assert_eq!(
        f.env.balance(&f.usdc.liquidity_supply),
        USDC_INITIAL + 2_000_000
    );
    assert_eq!(
        f.env.reserve(&f.usdc.reserve).liquidity.available_amount,
        USDC_INITIAL + 2_000_000
    );
}

#[test]
fn redeem_reserve_collateral() {
    let mut f = Fixture::new();
    let lender = f.lender(1_000_000_000);
    let key = lender.key.pubkey();
    let refresh = lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed);
    let redeem =
        lending::redeem_reserve_collateral(&f.usdc, &lender.cusdc, &lender.usdc, &key, 400_000_000);
    f.env.ok(&[refresh.clone(), redeem], &[&lender.key]);
    assert_eq!(f.env.balance(&lender.usdc), 400_000_000);
    assert_eq!(f.env.balance(&lender.cusdc), 600_000_000);
    assert_eq!(
        f.env.supply(&f.usdc.collateral_mint),
        USDC_INITIAL + 600_000_000
    );

    let zero = lending::redeem_reserve_collateral(&f.usdc, &lender.cusdc, &lender.usdc, &key, 0);
    assert_eq!(
        f.env.err(&[refresh.clone(), zero], &[&lender.key]),
        custom(1, ZeroAmount)
    );

    // A borrower takes most of the liquidity; the lender cannot redeem past what is left.
    let (borrower, obligation) = f.collateralized_borrower(100_000_000_000);
    let borrow = lending::borrow_obligation_liquidity(
        &f.usdc,
        &obligation,
        &borrower.usdc,
        &borrower.key.pubkey(),
        1_500_000_000,
    );
    let ixs = f.fresh(&obligation, borrow);
    f.env.ok(&ixs, &[&borrower.key]);
    let redeem =
        lending::redeem_reserve_collateral(&f.usdc, &lender.cusdc, &lender.usdc, &key, 600_000_000);
    assert_eq!(
        f.env.err(&[refresh, redeem], &[&lender.key]),
        custom(1, InsufficientLiquidity)
    );
}

#[test]
fn obligations_init_refresh_and_deposit() {
    let mut f = Fixture::new();
    let (borrower, obligation) = f.collateralized_borrower(10_000_000_000);
    let state = f.env.obligation(&obligation);
    assert_eq!(state.owner, borrower.key.pubkey());
    assert_eq!(state.deposits.len(), 1);
    assert_eq!(state.deposits[0].deposited_amount, 10_000_000_000);

    let ix = lending::init_obligation(&obligation, &f.market, &borrower.key.pubkey());
    assert_eq!(
        f.env.err(&[ix], &[&borrower.key]),
        custom(0, AlreadyInitialized)
    );
    let blank = f
        .env
        .create_owned(&braid_program_lending::ID, OBLIGATION_LEN);
    let ix = lending::init_obligation(&blank, &f.usdc.reserve, &borrower.key.pubkey());
    assert_eq!(
        f.env.err(&[ix], &[&borrower.key]),
        custom(0, InvalidAccountData)
    );

    // Refresh values 10 SOL at $100: $1,000, allowed $500, unhealthy at $600.
    let mut ixs = f.refresh_reserves();
    ixs.push(f.env.refresh_obligation_ix(&obligation));
    f.env.ok(&ixs, &[]);
    let state = f.env.obligation(&obligation);
    assert_eq!(
        state.deposited_value,
        braid_program_lending::Decimal::from_u64(1_000)
    );
    assert_eq!(
        state.allowed_borrow_value,
        braid_program_lending::Decimal::from_u64(500)
    );
    assert_eq!(
        state.unhealthy_borrow_value,
        braid_program_lending::Decimal::from_u64(600)
    );

    let missing = lending::refresh_obligation(&obligation, &[]);
    assert_eq!(
        f.env.err(&[missing], &[]),
        custom(0, InvalidObligationReserves)
    );
    let wrong = lending::refresh_obligation(&obligation, &[f.usdc.reserve]);
    let refresh_usdc = lending::refresh_reserve(&f.usdc.reserve, &f.usdc_feed);
    assert_eq!(
        f.env.err(&[refresh_usdc, wrong], &[]),
        custom(1, InvalidObligationReserves)
    );
    f.env.h.warp_to_slot(1);
    let stale = f.env.refresh_obligation_ix(&obligation);
    assert_eq!(f.env.err(&[stale], &[]), custom(0, ReserveStale));

    // Only the owner deposits into an obligation.
    let other = f.user(0, 0);
    let ix = lending::deposit_obligation_collateral(
        &f.sol,
        &obligation,
        &other.csol,
        &other.key.pubkey(),
        &other.key.pubkey(),
        1,
    );
    let refresh_sol = lending::refresh_reserve(&f.sol.reserve, &f.sol_feed);
    let sol_feed = f.sol_feed;
    f.env.set_price(&sol_feed, SOL_PRICE);
    assert_eq!(
        f.env.err(&[refresh_sol, ix], &[&other.key]),
        custom(1, InvalidObligationOwner)
    );
}

#[test]
fn withdraw_obligation_collateral() {
    let mut f = Fixture::new();
    let (borrower, obligation) = f.collateralized_borrower(10_000_000_000);
    let key = borrower.key.pubkey();
    // $500 of borrowing power; borrow $300 of it.
    let borrow = lending::borrow_obligation_liquidity(
        &f.usdc,
        &obligation,
        &borrower.usdc,
        &key,
        300_000_000,
    );
    let ixs = f.fresh(&obligation, borrow);
    f.env.ok(&ixs, &[&borrower.key]);

    let withdraw = |amount| {
        lending::withdraw_obligation_collateral(&f.sol, &obligation, &borrower.csol, &key, amount)
    };
    // Without the obligation refresh.
    let mut ixs = f.refresh_reserves();
    ixs.push(withdraw(1));
    f.env.h.warp_to_slot(1);
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(2, ObligationStale)
    );
    // 4.1 SOL out leaves $590 × 50% = $295 < $300.
    let ixs = f.fresh(&obligation, withdraw(4_100_000_000));
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(3, WithdrawTooLarge)
    );
    let ixs = f.fresh(&obligation, withdraw(10_000_000_001));
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(3, InsufficientCollateral)
    );
    // Exactly $300 allowed is not enough once a slot of interest has accrued on the $300.
    let ixs = f.fresh(&obligation, withdraw(4_000_000_000));
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(3, WithdrawTooLarge)
    );
    // 3.9 SOL out leaves $610 × 50% = $305.
    let ixs = f.fresh(&obligation, withdraw(3_900_000_000));
    f.env.ok(&ixs, &[&borrower.key]);
    assert_eq!(f.env.balance(&borrower.csol), 3_900_000_000);
    assert_eq!(f.env.balance(&f.sol.collateral_supply), 6_100_000_000);
    assert_eq!(
        f.env.obligation(&obligation).deposits[0].deposited_amount,
        6_100_000_000
    );
}

#[test]
fn borrow_obligation_liquidity() {
    let mut f = Fixture::new();
    let (borrower, obligation) = f.collateralized_borrower(10_000_000_000);
    let key = borrower.key.pubkey();
    let borrow = |amount| {
        lending::borrow_obligation_liquidity(&f.usdc, &obligation, &borrower.usdc, &key, amount)
    };

    let ixs = f.fresh(&obligation, borrow(500_000_001));
    assert_eq!(f.env.err(&ixs, &[&borrower.key]), custom(3, BorrowTooLarge));
    let mut ixs = f.refresh_reserves();
    ixs.push(borrow(1));
    f.env.h.warp_to_slot(1);
    let (usdc_feed, sol_feed) = (f.usdc_feed, f.sol_feed);
    f.env.set_price(&usdc_feed, USDC_PRICE);
    f.env.set_price(&sol_feed, SOL_PRICE);
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(2, ObligationStale)
    );

    let ixs = f.fresh(&obligation, borrow(500_000_000));
    f.env.ok(&ixs, &[&borrower.key]);
    assert_eq!(f.env.balance(&borrower.usdc), 500_000_000);
    assert_eq!(
        f.env.balance(&f.usdc.liquidity_supply),
        USDC_INITIAL - 500_000_000
    );
    let state = f.env.obligation(&obligation);
    assert_eq!(
        state.borrows[0].borrowed_amount_wads,
        braid_program_lending::Decimal::from_u64(500_000_000)
    );

    // A richer borrower cannot take more than the vault holds.
    let (whale, whale_obligation) = f.collateralized_borrower(1_000_000_000_000);
    let ix = lending::borrow_obligation_liquidity(
        &f.usdc,
        &whale_obligation,
        &whale.usdc,
        &whale.key.pubkey(),
        500_000_001,
    );
    let ixs = f.fresh(&whale_obligation, ix);
    assert_eq!(
        f.env.err(&ixs, &[&whale.key]),
        custom(3, InsufficientLiquidity)
    );
}

#[test]
fn repay_obligation_liquidity() {
    let mut f = Fixture::new();
    let (borrower, obligation) = f.collateralized_borrower(10_000_000_000);
    let key = borrower.key.pubkey();
    let borrow = lending::borrow_obligation_liquidity(
        &f.usdc,
        &obligation,
        &borrower.usdc,
        &key,
        100_000_000,
    );
    let ixs = f.fresh(&obligation, borrow);
    f.env.ok(&ixs, &[&borrower.key]);
    let usdc_mint = f.usdc_mint;
    let borrower_usdc = borrower.usdc;
    f.env.mint_to(&usdc_mint, &borrower_usdc, 1_000_000);

    // No debt to the SOL reserve.
    let ix = lending::repay_obligation_liquidity(&f.sol, &obligation, &borrower.sol, &key, 1);
    let ixs = f.fresh(&obligation, ix);
    assert_eq!(
        f.env.err(&ixs, &[&borrower.key]),
        custom(3, ObligationBorrowNotFound)
    );

    // Interest accrues for 1000 slots; repaying "everything" pays the debt rounded up.
    f.env.h.warp_to_slot(1_000);
    let (usdc_feed, sol_feed) = (f.usdc_feed, f.sol_feed);
    f.env.set_price(&usdc_feed, USDC_PRICE);
    f.env.set_price(&sol_feed, SOL_PRICE);
    let ix =
        lending::repay_obligation_liquidity(&f.usdc, &obligation, &borrower.usdc, &key, u64::MAX);
    let ixs = f.fresh(&obligation, ix);
    f.env.ok(&ixs, &[&borrower.key]);
    // Utilization 10%: rate = 10/80 × 8% = 1%; 1000 slots on 100 USDC ≈ 12.68 micro-USDC,
    // rounded up to 13.
    assert_eq!(f.env.balance(&borrower.usdc), 101_000_000 - 100_000_013);
    assert!(f.env.obligation(&obligation).borrows.is_empty());
    assert_eq!(f.env.balance(&f.usdc.liquidity_supply), USDC_INITIAL + 13);
}

#[test]
fn liquidating_a_healthy_obligation_fails() {
    let mut f = Fixture::new();
    let (borrower, obligation) = f.collateralized_borrower(10_000_000_000);
    let borrow = lending::borrow_obligation_liquidity(
        &f.usdc,
        &obligation,
        &borrower.usdc,
        &borrower.key.pubkey(),
        500_000_000,
    );
    let ixs = f.fresh(&obligation, borrow);
    f.env.ok(&ixs, &[&borrower.key]);
    let liquidator = f.user(1_000_000_000, 0);
    let ix = lending::liquidate_obligation(
        &f.usdc,
        &f.sol,
        &obligation,
        &liquidator.usdc,
        &liquidator.csol,
        &liquidator.key.pubkey(),
        100_000_000,
    );
    let ixs = f.fresh(&obligation, ix);
    assert_eq!(
        f.env.err(&ixs, &[&liquidator.key]),
        custom(3, ObligationHealthy)
    );
}
