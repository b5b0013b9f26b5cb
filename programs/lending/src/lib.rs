//! Lending with SPL token-lending's semantics as a native Braid program.
//!
//! A [`LendingMarket`](state::LendingMarket) groups [`Reserve`](state::Reserve)s, one per
//! token. Depositors put liquidity into a reserve and receive its collateral tokens; the
//! collateral tokens can be redeemed for liquidity at an exchange rate that rises as
//! borrowers pay interest, or deposited into an [`Obligation`](state::Obligation) to borrow
//! other reserves' liquidity against them. Interest is a kinked function of utilization,
//! compounded per slot. When the value of an obligation's debts exceeds its collateral's
//! value at the liquidation thresholds, anyone may repay up to half of a debt and seize
//! collateral worth the repaid value plus a bonus.
//!
//! - [`math`]: [`Decimal`], an 18-place fixed-point number with checked,
//!   explicitly rounded arithmetic over a 256-bit intermediate.
//! - [`state`]: the account layouts and every state transition as a pure function.
//! - [`instruction`]: [`LendingInstruction`](instruction::LendingInstruction) and client
//!   builders that list every account with its flags.
//! - [`processor`]: [`LendingProgram`], which checks accounts,
//!   calls the transitions and moves tokens through SPL Token.
//! - [`error`]: [`LendingError`], reported as custom error codes.
//!
//! # Design
//!
//! Accounts are created by the client (System `create_account` with this program or SPL
//! Token as owner) and initialized by this program in the same transaction, as in SPL. The
//! market's program-derived authority ([`market_authority`]) owns every vault and mints every
//! collateral token, so tokens leave the market only through this program's checks.
//!
//! Freshness replaces reading the whole market on every instruction: `RefreshReserve`
//! accrues interest and reads the oracle, `RefreshObligation` revalues one user's position
//! from fresh reserves, and every instruction that moves value requires what it reads to be
//! fresh in the current slot and marks what it changes stale. Shared accounts are only the
//! reserves; each user writes their own obligation and token accounts.
//!
//! Rounding always favours the protocol: interest, debts and repayments round up; collateral
//! minted, liquidity redeemed, deposit values and seized collateral round down.
//!
//! # Not implemented (compared with SPL token-lending)
//!
//! Origination and host fees, flash loans, reserve config updates and market owner changes,
//! and the `u64::MAX` "everything" amount for deposits and withdrawals (repay and liquidate
//! accept any amount above the debt).

pub mod error;
pub mod instruction;
pub mod math;
pub mod processor;
pub mod state;

use braid_runtime::Pubkey;
use braid_runtime::pda::find_program_address;

pub use error::LendingError;
pub use math::Decimal;
pub use processor::LendingProgram;

/// The program's id.
pub const ID: Pubkey = Pubkey::from_str_const("Lending111111111111111111111111111111111111");

/// The market's authority: the program-derived address (seeds `[market]`) that owns every
/// vault and collateral mint of `market`, and its bump seed.
pub fn market_authority(market: &Pubkey) -> (Pubkey, u8) {
    find_program_address(&[market.as_ref()], &ID)
}
