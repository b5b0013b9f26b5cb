//! `amm`: swaps on `pools` constant-product pools.
//!
//! All pools trade the same two tokens, [`Asset::A`] against [`Asset::B`], so a user needs
//! two token accounts whatever the number of pools; each pool has its own vaults, LP mint
//! and fee account. A transaction is one swap by a random user, in a random direction, on
//! pool 0 with probability `hot_ratio` and otherwise on a random pool.
//!
//! Writes per transaction: the payer and its two token accounts (its own), and the pool's
//! two vaults, LP mint and fee account (shared by every swap on that pool; the pool account
//! itself is only read). Swaps by different users on different pools write disjoint
//! accounts.
//!
//! Amounts: `1_000 + index` in, against reserves of [`POOL_RESERVE`] per side, so the price
//! stays close to one and the loose slippage bound (half the input) never trips.

use braid_program_amm::{self as amm, Fees, PoolKeys, TradeDirection};
use braid_runtime::{Instruction, Pubkey};

use super::setup::Asset;
use super::{Draw, Generator, Setup, Template};
use crate::{BenchConfig, BenchError};

/// Tokens of each side each pool starts with.
pub const POOL_RESERVE: u64 = 10_000_000_000_000;
/// Smallest swap input; the index is added to make every swap unique.
const SWAP_BASE: u64 = 1_000;
/// 0.25% trade fee and 0.05% protocol fee, as common constant-product pools charge.
const FEES: Fees = Fees {
    trade_fee_numerator: 25,
    trade_fee_denominator: 10_000,
    protocol_fee_numerator: 5,
    protocol_fee_denominator: 10_000,
};

/// Swaps on the pools.
pub(crate) struct Swaps {
    /// Per pool: swaps from A to B and from B to A, patched with the user's accounts
    /// (positions 2, 3 and 6: user, source, destination) and amounts.
    pools: Vec<[Template; 2]>,
    /// Per user: token accounts of A and B.
    accounts: Vec<[Pubkey; 2]>,
}

impl Swaps {
    /// Creates `config.pools` funded pools and gives every user funded A and B accounts.
    pub fn setup(setup: &mut Setup, config: &BenchConfig) -> Result<Self, BenchError> {
        let a = setup.holdings(Asset::A)?;
        let b = setup.holdings(Asset::B)?;
        let mint_a = setup.asset_mint(Asset::A)?;
        let mint_b = setup.asset_mint(Asset::B)?;
        let funder = setup.funder();
        let mut pools = Vec::with_capacity(config.pools);
        for _ in 0..config.pools {
            let (pool, create_pool) = setup.account(amm::POOL_BYTES, &amm::ID)?;
            let (authority, _) = amm::pool_authority(&pool);
            let pool_mint = setup.mint(&authority)?;
            let keys = PoolKeys {
                pool,
                token_a_vault: setup.token_account(&mint_a, &authority, POOL_RESERVE)?,
                token_b_vault: setup.token_account(&mint_b, &authority, POOL_RESERVE)?,
                pool_mint,
                fee_account: setup.token_account(&pool_mint, &funder, 0)?,
            };
            let lp = setup.token_account(&pool_mint, &funder, 0)?;
            setup.push(vec![
                create_pool,
                amm::instruction::initialize_pool(&keys, &lp, FEES),
            ])?;
            let swap = |direction| {
                Template::new(&[2, 3, 6], 2, |k, a| {
                    amm::instruction::swap(&keys, &k[0], &k[1], &k[2], direction, a[0], a[1])
                })
            };
            pools.push([swap(TradeDirection::AtoB)?, swap(TradeDirection::BtoA)?]);
        }
        Ok(Self {
            pools,
            accounts: a.into_iter().zip(b).map(|(a, b)| [a, b]).collect(),
        })
    }
}

impl Generator for Swaps {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let user = draw.user();
        let pool = &self.pools[draw.pool(self.pools.len())];
        let [a, b] = self.accounts[user];
        let (swap, source, destination) = if draw.coin() {
            (&pool[0], a, b)
        } else {
            (&pool[1], b, a)
        };
        let amount_in = draw.amount(SWAP_BASE);
        let keys = [draw.users[user], source, destination];
        (
            vec![swap.instantiate(&keys, &[amount_in, amount_in / 2])],
            user,
        )
    }
}
