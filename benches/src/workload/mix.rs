//! `mix`: a blend of every other workload, chosen per transaction by the seeded stream:
//! mostly payments, then trading, with lending and insurance as the long tail.
//!
//! Setup runs every part's setup over the same users, so the parts share the users' token
//! accounts of [`Asset::A`](super::setup::Asset::A): a user's transfers, swaps, deposits and
//! premiums conflict with each other, as one wallet's would. Each part keeps its own hot
//! account or pool.

use braid_runtime::Instruction;

use super::{Draw, Generator, Setup, amm, insurance, lending, token, transfer};
use crate::{BenchConfig, BenchError};

/// Shares, in percent, of transfer, token, amm, lending and insurance transactions.
pub const MIX_PERCENT: [u32; 5] = [40, 20, 25, 10, 5];
const _: () = assert!(total(MIX_PERCENT) == 100);

const fn total(shares: [u32; 5]) -> u32 {
    let (mut sum, mut i) = (0u32, 0usize);
    while i < shares.len() {
        sum = sum.saturating_add(shares[i]);
        i = i.saturating_add(1);
    }
    sum
}

/// The parts and their shares.
pub(crate) struct Mix {
    parts: Vec<(u32, Box<dyn Generator>)>,
}

impl Mix {
    /// Sets up every part.
    pub fn setup(setup: &mut Setup, config: &BenchConfig) -> Result<Self, BenchError> {
        let parts: [Box<dyn Generator>; 5] = [
            Box::new(transfer::Transfers::setup(setup)?),
            Box::new(token::TokenTransfers::setup(setup)?),
            Box::new(amm::Swaps::setup(setup, config)?),
            Box::new(lending::Lending::setup(setup, config)?),
            Box::new(insurance::Policies::setup(setup, config)?),
        ];
        Ok(Self {
            parts: MIX_PERCENT.into_iter().zip(parts).collect(),
        })
    }
}

impl Generator for Mix {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let mut roll = draw.below(100);
        for (share, part) in &self.parts {
            if roll < *share {
                return part.transaction(draw);
            }
            roll = roll.saturating_sub(*share);
        }
        // Unreachable while the shares sum to 100 (checked at compile time).
        self.parts[0].1.transaction(draw)
    }
}
