//! `token`: SPL Token transfers of [`Asset::A`] between users' token accounts.
//!
//! Writes per transaction: the payer, its token account, and the recipient's token account
//! (another user's or, with probability `hot_ratio`, the hot owner's).

use braid_program_token as token;
use braid_runtime::{Instruction, Pubkey};

use super::setup::{Asset, keypair};
use super::{Draw, Generator, Setup};
use crate::BenchError;

/// Token transfers between users, a share of them to the hot token account.
pub(crate) struct TokenTransfers {
    /// Per user: their token account of [`Asset::A`].
    accounts: Vec<Pubkey>,
    hot: Pubkey,
}

impl TokenTransfers {
    /// Gives every user a funded token account, and the hot owner an empty one.
    pub fn setup(setup: &mut Setup) -> Result<Self, BenchError> {
        let accounts = setup.holdings(Asset::A)?;
        let mint = setup.asset_mint(Asset::A)?;
        let hot_owner = keypair(setup.seed(), b"hot", 0).pubkey();
        let hot = setup.token_account(&mint, &hot_owner, 0)?;
        Ok(Self { accounts, hot })
    }
}

impl Generator for TokenTransfers {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let from = draw.user();
        let to = if draw.hot() {
            self.hot
        } else {
            self.accounts[draw.other_user(from)]
        };
        let ix = token::instruction::transfer(
            &self.accounts[from],
            &to,
            &draw.users[from],
            draw.amount(1),
        );
        (vec![ix], from)
    }
}
