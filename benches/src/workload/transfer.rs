//! `transfer`: System transfers of lamports between generated users.
//!
//! Writes per transaction: the payer (a random user) and the recipient, another random user
//! or, with probability `hot_ratio`, one hot account every hot transfer credits.

use braid_program_system::instruction as system;
use braid_runtime::{Instruction, Pubkey};

use super::setup::keypair;
use super::{Draw, Generator, Setup};
use crate::{ACCOUNT_FUNDS_LAMPORTS, BenchError};

/// Transfers between users, a share of them to the hot account.
pub(crate) struct Transfers {
    hot: Pubkey,
}

impl Transfers {
    /// Funds the hot account (users are funded by [`Setup::new`]).
    pub fn setup(setup: &mut Setup) -> Result<Self, BenchError> {
        let hot = keypair(setup.seed(), b"hot", 0).pubkey();
        setup.airdrop(&hot, ACCOUNT_FUNDS_LAMPORTS)?;
        Ok(Self { hot })
    }
}

impl Generator for Transfers {
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize) {
        let from = draw.user();
        let to = if draw.hot() {
            self.hot
        } else {
            draw.users[draw.other_user(from)]
        };
        (
            vec![system::transfer(&draw.users[from], &to, draw.amount(1))],
            from,
        )
    }
}
