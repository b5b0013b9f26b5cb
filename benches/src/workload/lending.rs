//! `lending`: deposits into and redemptions from `pools` reserves of one lending market.
//!
//! Every reserve lends [`Asset::A`] (a market may hold several reserves of one token) and has
//! its own oracle feed and collateral mint, so a user needs one liquidity account and one
//! collateral account per reserve. Setup gives each user [`USER_COLLATERAL`] collateral in
//! every reserve (deposited by the funder on the user's behalf), so redemptions have
//! something to redeem from the first transaction on.
//!
//! A transaction refreshes one reserve (pool 0 with probability `hot_ratio`, else a random
//! one; refreshing first is required, since every deposit or redemption marks the reserve
//! stale) and then, with even odds, deposits `1_000 + index` liquidity or redeems
//! `1_000 + index` collateral. With no borrows the exchange rate stays one to one and no
//! interest accrues, so amounts never round to zero and balances cannot run dry in any run
//! that keeps users' per-user volume below [`USER_COLLATERAL`]. Borrowing is left out: it
//! needs an obligation per user and a refresh of every reserve it touches, which would make
//! the workload about setup, not throughput.
//!
//! Writes per transaction: the payer, its liquidity account and its collateral account of
//! the reserve (its own), and the reserve, its liquidity vault and its collateral mint
//! (shared by every transaction on that reserve); the oracle feed and market are only read.
//!
//! Freshness over the run: prices are set in setup (slot 0) and the reserves accept prices
//! up to [`ORACLE_MAX_AGE_SLOTS`] old, far more than a run's slots.

use braid_program_lending::instruction::{self as lending, ReserveAccounts};
use braid_program_lending::state::{LENDING_MARKET_LEN, RESERVE_LEN, ReserveConfig};
use braid_program_lending::{ID, market_authority};
use braid_runtime::{Instruction, Pubkey};

use super::setup::Asset;
use super::{Draw, Generator, Setup, Template};
use crate::{BenchConfig, BenchError, RUN_SLOTS_MAX};

/// Oldest oracle price the reserves and insurance pools accept, in slots: prices are set
/// once in setup and must stay fresh for the whole run.
pub const ORACLE_MAX_AGE_SLOTS: u64 = 10_000;
const _: () = assert!(ORACLE_MAX_AGE_SLOTS > RUN_SLOTS_MAX as u64);
/// Collateral tokens each user holds in each reserve at the start.
pub const USER_COLLATERAL: u64 = 10_000_000_000;
/// The funder's initial deposit in each reserve.
const RESERVE_INITIAL: u64 = 1_000_000_000_000;
/// Smallest deposit or redemption; the index is added to make every one unique.
const AMOUNT_BASE: u64 = 1_000;
/// Every feed's price: 1.000000 (a stablecoin-like token).
const PRICE: i64 = 1_000_000;
/// Every feed's exponent: prices in millionths.
const PRICE_EXPONENT: i32 = -6;
/// A conventional stablecoin reserve: 75% LTV, kinked rate 0% / 8% at 80% / 100%.
const CONFIG: ReserveConfig = ReserveConfig {
    optimal_utilization_rate_percent: 80,
    loan_to_value_ratio_percent: 75,
    liquidation_bonus_percent: 5,
    liquidation_threshold_percent: 80,
    min_borrow_rate_percent: 0,
    optimal_borrow_rate_percent: 8,
    max_borrow_rate_percent: 100,
    max_oracle_age_slots: ORACLE_MAX_AGE_SLOTS,
};

/// One reserve's instructions, patched per transaction.
struct Reserve {
    refresh: Instruction,
    /// Deposit and redemption, patched at positions 0, 1 and 7 (source, destination, user).
    deposit: Template,
    redeem: Template,
}

/// Deposits and redemptions on the reserves.
pub(crate) struct Lending {
    reserves: Vec<Reserve>,
    /// Per user: their liquidity account.
    liquidity: Vec<Pubkey>,
    /// Per reserve, per user: their collateral account.
    collateral: Vec<Vec<Pubkey>>,
}

impl Lending {
    /// Creates the market, `config.pools` seeded reserves with their feeds, and every user's
    /// collateral accounts with [`USER_COLLATERAL`] each.
    pub fn setup(setup: &mut Setup, config: &BenchConfig) -> Result<Self, BenchError> {
        let liquidity = setup.holdings(Asset::A)?;
        let mint = setup.asset_mint(Asset::A)?;
        let funder = setup.funder();
        let users = setup.users().to_vec();
        let per_reserve = (users.len() as u64)
            .checked_mul(USER_COLLATERAL)
            .and_then(|users| users.checked_add(RESERVE_INITIAL))
            .ok_or_else(too_large)?;
        let funding = per_reserve
            .checked_mul(config.pools as u64)
            .ok_or_else(too_large)?;
        let source = setup.token_account(&mint, &funder, funding)?;

        let (market, create_market) = setup.account(LENDING_MARKET_LEN, &ID)?;
        let quote = *b"USD\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        setup.push(vec![
            create_market,
            lending::init_lending_market(&market, &funder, quote),
        ])?;
        let (authority, _) = market_authority(&market);

        let mut reserves = Vec::with_capacity(config.pools);
        let mut collateral = Vec::with_capacity(config.pools);
        for _ in 0..config.pools {
            let oracle = feed(setup, PRICE)?;
            let liquidity_supply = setup.token_account(&mint, &authority, 0)?;
            let collateral_mint = setup.mint(&authority)?;
            let collateral_supply = setup.token_account(&collateral_mint, &authority, 0)?;
            let funder_collateral = setup.token_account(&collateral_mint, &funder, 0)?;
            let (reserve, create_reserve) = setup.account(RESERVE_LEN, &ID)?;
            let accounts = ReserveAccounts {
                reserve,
                lending_market: market,
                liquidity_mint: mint,
                liquidity_supply,
                collateral_mint,
                collateral_supply,
                oracle,
            };
            let init = lending::init_reserve(
                &accounts,
                &funder,
                &source,
                &funder_collateral,
                &funder,
                RESERVE_INITIAL,
                CONFIG,
            );
            setup.push(vec![create_reserve, init])?;
            let deposit = Template::new(&[0, 1, 7], 1, |k, a| {
                lending::deposit_reserve_liquidity(&accounts, &k[0], &k[1], &k[2], a[0])
            })?;
            let redeem = Template::new(&[0, 1, 7], 1, |k, a| {
                lending::redeem_reserve_collateral(&accounts, &k[0], &k[1], &k[2], a[0])
            })?;
            let refresh = lending::refresh_reserve(&reserve, &oracle);
            let mut accounts_of_users = Vec::with_capacity(users.len());
            for user in &users {
                let (account, create) =
                    setup.account(braid_program_token::ACCOUNT_LEN, &braid_program_token::ID)?;
                setup.push(vec![
                    create,
                    braid_program_token::instruction::initialize_account3(
                        &account,
                        &collateral_mint,
                        user,
                    ),
                    refresh.clone(),
                    deposit.instantiate(&[source, account, funder], &[USER_COLLATERAL]),
                ])?;
                accounts_of_users.push(account);
            }
            reserves.push(Reserve {
                refresh,
                deposit,
                redeem,
            });
            collateral.push(accounts_of_users);
        }
        Ok(Self {
            reserves,
            liquidity,
            collateral,
        })
    }
}

fn too_large() -> BenchError {
    BenchError::InvalidConfig(
        "--accounts × --pools too large for the lending reserves' token supply".into(),
    )
}

/// A new oracle feed whose authority is the funder, priced at `price` (in millionths) now.
pub(crate) fn feed(setup: &mut Setup, price: i64) -> Result<Pubkey, BenchError> {
    let funder = setup.funder();
    let (feed, create) =
        setup.account(braid_program_oracle::FEED_BYTES, &braid_program_oracle::ID)?;
    setup.push(vec![
        create,
        braid_program_oracle::initialize_feed(&feed, &funder, PRICE_EXPONENT),
        braid_program_oracle::set_price(&feed, &funder, price, 0),
    ])?;
    Ok(feed)
}

impl Generator for Lending {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let user = draw.user();
        let index = draw.pool(self.reserves.len());
        let reserve = &self.reserves[index];
        let owner = draw.users[user];
        let (liquidity, collateral) = (self.liquidity[user], self.collateral[index][user]);
        let amount = [draw.amount(AMOUNT_BASE)];
        let action = if draw.coin() {
            reserve
                .deposit
                .instantiate(&[liquidity, collateral, owner], &amount)
        } else {
            reserve
                .redeem
                .instantiate(&[collateral, liquidity, owner], &amount)
        };
        (vec![reserve.refresh.clone(), action], user)
    }
}
