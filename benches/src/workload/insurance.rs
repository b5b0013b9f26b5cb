//! `insurance`: policy purchases from `pools` underwriting pools.
//!
//! Every pool insures against a fall of its own oracle feed's price and holds
//! [`Asset::A`] capital deposited by the funder (its only underwriter). A transaction is
//! one user buying a policy with a fresh id (the transaction's index) of [`COVERAGE`] from
//! pool 0 with probability `hot_ratio`, else from a random pool, paying the premium from
//! its token account. Strikes are far below the price and expiries far beyond the run, so
//! every purchase is valid; each pool's capital covers every transaction of the run buying
//! from it, so capacity never runs out.
//!
//! Writes per transaction: the payer (it funds the new policy account), its token account,
//! the new policy account (its own), and the pool and its vault (shared by every purchase
//! from that pool); the feed is only read.

use braid_program_insurance::{self as insurance, PolicyRequest, PoolKeys, PoolParams};
use braid_runtime::{Instruction, Pubkey};

use super::lending::{ORACLE_MAX_AGE_SLOTS, feed};
use super::setup::Asset;
use super::{Draw, Generator, Setup};
use crate::{BenchConfig, BenchError};

/// Coverage of every policy, in token units.
pub const COVERAGE: u64 = 1_000_000;
/// The feeds' price (100.000000) and the policies' strike (half of it).
const PRICE: i64 = 100_000_000;
const STRIKE: i64 = 50_000_000;
/// Last slot of cover: far past any run.
const EXPIRY_SLOT: u64 = 1_000_000;
/// 1% premium, 150% collateral.
const PARAMS: PoolParams = PoolParams {
    premium_rate_bps: 100,
    collateral_ratio_bps: 15_000,
    max_oracle_age_slots: ORACLE_MAX_AGE_SLOTS,
    claim_grace_slots: 100,
};
const BPS: u64 = 10_000;

/// Policy purchases from the pools.
pub(crate) struct Policies {
    pools: Vec<PoolKeys>,
    /// Per user: their token account of [`Asset::A`].
    accounts: Vec<Pubkey>,
}

impl Policies {
    /// Creates `config.pools` pools, each with a feed and capital for `config.txs` policies.
    pub fn setup(setup: &mut Setup, config: &BenchConfig) -> Result<Self, BenchError> {
        let accounts = setup.holdings(Asset::A)?;
        let mint = setup.asset_mint(Asset::A)?;
        let funder = setup.funder();
        // A policy locks coverage × the collateral ratio; premiums add capital but are not
        // counted, so the bound holds even if every transaction buys from one pool.
        let locked = COVERAGE
            .checked_mul(PARAMS.collateral_ratio_bps)
            .map(|x| x.div_ceil(BPS));
        let capital = locked
            .and_then(|locked| locked.checked_mul(config.txs as u64))
            .ok_or_else(too_large)?;
        let funding = capital
            .checked_mul(config.pools as u64)
            .ok_or_else(too_large)?;
        let source = setup.token_account(&mint, &funder, funding)?;
        let mut pools = Vec::with_capacity(config.pools);
        for _ in 0..config.pools {
            let oracle_feed = feed(setup, PRICE)?;
            let (pool, create_pool) =
                setup.signing_account(insurance::POOL_BYTES, &insurance::ID)?;
            let (authority, _) = insurance::pool_authority(&pool);
            let vault = setup.token_account(&mint, &authority, 0)?;
            let keys = PoolKeys {
                pool,
                vault,
                oracle_feed,
            };
            setup.push(vec![
                create_pool,
                insurance::initialize_pool(&keys, &mint, PARAMS),
            ])?;
            setup.push(vec![
                insurance::open_position(&pool, &funder),
                insurance::deposit(&keys, &source, &funder, capital),
            ])?;
            pools.push(keys);
        }
        Ok(Self { pools, accounts })
    }
}

fn too_large() -> BenchError {
    BenchError::InvalidConfig("--txs × --pools too large for the insurance pools' capital".into())
}

impl Generator for Policies {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let user = draw.user();
        let pool = &self.pools[draw.pool(self.pools.len())];
        let request = PolicyRequest {
            policy_id: draw.index as u64,
            coverage: COVERAGE,
            strike_price: STRIKE,
            expiry_slot: EXPIRY_SLOT,
        };
        (
            vec![insurance::buy_policy(
                pool,
                &self.accounts[user],
                &draw.users[user],
                request,
            )],
            user,
        )
    }
}
