//! The program's instructions and client-side builders.
//!
//! Each variant documents its accounts in order with their flags: `[w]` writable, `[s]`
//! signer. The builders produce exactly those lists; the token program is listed (readonly)
//! whenever the instruction moves tokens, because a cross-program call may only target a
//! program among the caller's accounts. The processor names the same positions in one
//! module per instruction, e.g. [`processor::init_reserve`](mod@crate::processor::init_reserve).

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::{AccountMeta, Instruction, Pubkey};

use crate::state::ReserveConfig;
use crate::{ID, market_authority};

/// The program's instructions (borsh-encoded).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LendingInstruction {
    /// Initializes a market. Accounts: `[w] market` (owned by this program, zeroed),
    /// `[s] owner`.
    InitLendingMarket {
        /// What market values are denominated in.
        quote_currency: [u8; 32],
    },
    /// Initializes a reserve with an initial deposit. The client first creates the vault
    /// and collateral supply token accounts (owner: market authority) and the collateral
    /// mint (authority: market authority, no freeze authority, the liquidity's decimals).
    /// Accounts: `[w] source liquidity`, `[w] destination collateral`, `[w] reserve`
    /// (owned by this program, zeroed), `[] liquidity mint`, `[w] liquidity supply`,
    /// `[w] collateral mint`, `[] collateral supply`, `[] oracle feed`, `[] market`,
    /// `[] market authority`, `[s] market owner`, `[s] user transfer authority`,
    /// `[] token program`.
    InitReserve {
        /// Liquidity deposited at creation (must be positive).
        liquidity_amount: u64,
        /// Risk and interest parameters.
        config: ReserveConfig,
    },
    /// Accrues interest and reads the oracle price. Accounts: `[w] reserve`, `[] oracle`.
    RefreshReserve,
    /// Deposits liquidity for collateral tokens. Accounts: `[w] source liquidity`,
    /// `[w] destination collateral`, `[w] reserve`, `[w] liquidity supply`,
    /// `[w] collateral mint`, `[] market`, `[] market authority`,
    /// `[s] user transfer authority`, `[] token program`.
    DepositReserveLiquidity {
        /// Liquidity tokens to deposit.
        liquidity_amount: u64,
    },
    /// Burns collateral tokens for liquidity. Accounts: `[w] source collateral`,
    /// `[w] destination liquidity`, `[w] reserve`, `[w] collateral mint`,
    /// `[w] liquidity supply`, `[] market`, `[] market authority`,
    /// `[s] user transfer authority`, `[] token program`.
    RedeemReserveCollateral {
        /// Collateral tokens to redeem.
        collateral_amount: u64,
    },
    /// Initializes an obligation. Accounts: `[w] obligation` (owned by this program,
    /// zeroed), `[] market`, `[s] owner`.
    InitObligation,
    /// Revalues an obligation. Accounts: `[w] obligation`, then `[]` the reserve of each
    /// deposit in order, then of each borrow in order.
    RefreshObligation,
    /// Moves collateral tokens into an obligation. Accounts: `[w] source collateral`,
    /// `[w] reserve collateral supply`, `[] reserve`, `[w] obligation`, `[] market`,
    /// `[s] obligation owner`, `[s] user transfer authority`, `[] token program`.
    DepositObligationCollateral {
        /// Collateral tokens to deposit.
        collateral_amount: u64,
    },
    /// Moves collateral tokens out of an obligation. Accounts: `[w] reserve collateral
    /// supply`, `[w] destination collateral`, `[] reserve`, `[w] obligation`, `[] market`,
    /// `[] market authority`, `[s] obligation owner`, `[] token program`.
    WithdrawObligationCollateral {
        /// Collateral tokens to withdraw.
        collateral_amount: u64,
    },
    /// Borrows liquidity against an obligation's collateral. Accounts: `[w] liquidity
    /// supply`, `[w] destination liquidity`, `[w] reserve`, `[w] obligation`, `[] market`,
    /// `[] market authority`, `[s] obligation owner`, `[] token program`.
    BorrowObligationLiquidity {
        /// Liquidity tokens to borrow.
        liquidity_amount: u64,
    },
    /// Repays an obligation's debt (anyone may). Accounts: `[w] source liquidity`,
    /// `[w] liquidity supply`, `[w] reserve`, `[w] obligation`, `[] market`,
    /// `[s] user transfer authority`, `[] token program`.
    RepayObligationLiquidity {
        /// Most liquidity tokens to repay; any amount above the debt repays all of it.
        liquidity_amount: u64,
    },
    /// Repays part of an unhealthy obligation's debt and seizes collateral with a bonus.
    /// Accounts: `[w] source liquidity`, `[w] destination collateral`, `[w] repay reserve`,
    /// `[w] repay reserve liquidity supply`, `[] withdraw reserve`, `[w] withdraw reserve
    /// collateral supply`, `[w] obligation`, `[] market`, `[] market authority`,
    /// `[s] user transfer authority`, `[] token program`.
    LiquidateObligation {
        /// Most liquidity tokens to repay (capped at the close factor).
        liquidity_amount: u64,
    },
}

/// The accounts that make up one reserve, as a client knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReserveAccounts {
    /// The reserve's state account.
    pub reserve: Pubkey,
    /// Its market.
    pub lending_market: Pubkey,
    /// The token lent.
    pub liquidity_mint: Pubkey,
    /// The vault holding available liquidity.
    pub liquidity_supply: Pubkey,
    /// The collateral token mint.
    pub collateral_mint: Pubkey,
    /// The token account holding collateral deposited into obligations.
    pub collateral_supply: Pubkey,
    /// The oracle price feed.
    pub oracle: Pubkey,
}

impl ReserveAccounts {
    fn authority(&self) -> Pubkey {
        market_authority(&self.lending_market).0
    }
}

fn build(instruction: &LendingInstruction, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_with_borsh(ID, instruction, accounts)
}

fn token_program() -> AccountMeta {
    AccountMeta::new_readonly(braid_program_token::ID, false)
}

/// Builds `InitLendingMarket`.
pub fn init_lending_market(
    market: &Pubkey,
    owner: &Pubkey,
    quote_currency: [u8; 32],
) -> Instruction {
    build(
        &LendingInstruction::InitLendingMarket { quote_currency },
        vec![
            AccountMeta::new(*market, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// Builds `InitReserve`, depositing `liquidity_amount` from `source_liquidity` (owned by
/// `user_transfer_authority`) and minting collateral to `destination_collateral`.
pub fn init_reserve(
    accounts: &ReserveAccounts,
    market_owner: &Pubkey,
    source_liquidity: &Pubkey,
    destination_collateral: &Pubkey,
    user_transfer_authority: &Pubkey,
    liquidity_amount: u64,
    config: ReserveConfig,
) -> Instruction {
    build(
        &LendingInstruction::InitReserve {
            liquidity_amount,
            config,
        },
        vec![
            AccountMeta::new(*source_liquidity, false),
            AccountMeta::new(*destination_collateral, false),
            AccountMeta::new(accounts.reserve, false),
            AccountMeta::new_readonly(accounts.liquidity_mint, false),
            AccountMeta::new(accounts.liquidity_supply, false),
            AccountMeta::new(accounts.collateral_mint, false),
            AccountMeta::new_readonly(accounts.collateral_supply, false),
            AccountMeta::new_readonly(accounts.oracle, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(accounts.authority(), false),
            AccountMeta::new_readonly(*market_owner, true),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}

/// Builds `RefreshReserve`.
pub fn refresh_reserve(reserve: &Pubkey, oracle: &Pubkey) -> Instruction {
    build(
        &LendingInstruction::RefreshReserve,
        vec![
            AccountMeta::new(*reserve, false),
            AccountMeta::new_readonly(*oracle, false),
        ],
    )
}

/// Builds `DepositReserveLiquidity`.
pub fn deposit_reserve_liquidity(
    accounts: &ReserveAccounts,
    source_liquidity: &Pubkey,
    destination_collateral: &Pubkey,
    user_transfer_authority: &Pubkey,
    liquidity_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::DepositReserveLiquidity { liquidity_amount },
        vec![
            AccountMeta::new(*source_liquidity, false),
            AccountMeta::new(*destination_collateral, false),
            AccountMeta::new(accounts.reserve, false),
            AccountMeta::new(accounts.liquidity_supply, false),
            AccountMeta::new(accounts.collateral_mint, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(accounts.authority(), false),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}

/// Builds `RedeemReserveCollateral`.
pub fn redeem_reserve_collateral(
    accounts: &ReserveAccounts,
    source_collateral: &Pubkey,
    destination_liquidity: &Pubkey,
    user_transfer_authority: &Pubkey,
    collateral_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::RedeemReserveCollateral { collateral_amount },
        vec![
            AccountMeta::new(*source_collateral, false),
            AccountMeta::new(*destination_liquidity, false),
            AccountMeta::new(accounts.reserve, false),
            AccountMeta::new(accounts.collateral_mint, false),
            AccountMeta::new(accounts.liquidity_supply, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(accounts.authority(), false),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}

/// Builds `InitObligation`.
pub fn init_obligation(
    obligation: &Pubkey,
    lending_market: &Pubkey,
    owner: &Pubkey,
) -> Instruction {
    build(
        &LendingInstruction::InitObligation,
        vec![
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(*lending_market, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// Builds `RefreshObligation`; `reserves` lists the reserve of each deposit, then of each
/// borrow, in the obligation's order.
pub fn refresh_obligation(obligation: &Pubkey, reserves: &[Pubkey]) -> Instruction {
    let mut accounts = vec![AccountMeta::new(*obligation, false)];
    accounts.extend(
        reserves
            .iter()
            .map(|reserve| AccountMeta::new_readonly(*reserve, false)),
    );
    build(&LendingInstruction::RefreshObligation, accounts)
}

/// Builds `DepositObligationCollateral`.
pub fn deposit_obligation_collateral(
    accounts: &ReserveAccounts,
    obligation: &Pubkey,
    source_collateral: &Pubkey,
    obligation_owner: &Pubkey,
    user_transfer_authority: &Pubkey,
    collateral_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::DepositObligationCollateral { collateral_amount },
        vec![
            AccountMeta::new(*source_collateral, false),
            AccountMeta::new(accounts.collateral_supply, false),
            AccountMeta::new_readonly(accounts.reserve, false),
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(*obligation_owner, true),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}

/// Builds `WithdrawObligationCollateral`.
pub fn withdraw_obligation_collateral(
    accounts: &ReserveAccounts,
    obligation: &Pubkey,
    destination_collateral: &Pubkey,
    obligation_owner: &Pubkey,
    collateral_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::WithdrawObligationCollateral { collateral_amount },
        vec![
            AccountMeta::new(accounts.collateral_supply, false),
            AccountMeta::new(*destination_collateral, false),
            AccountMeta::new_readonly(accounts.reserve, false),
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(accounts.authority(), false),
            AccountMeta::new_readonly(*obligation_owner, true),
            token_program(),
        ],
    )
}

/// Builds `BorrowObligationLiquidity`.
pub fn borrow_obligation_liquidity(
    accounts: &ReserveAccounts,
    obligation: &Pubkey,
    destination_liquidity: &Pubkey,
    obligation_owner: &Pubkey,
    liquidity_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::BorrowObligationLiquidity { liquidity_amount },
        vec![
            AccountMeta::new(accounts.liquidity_supply, false),
            AccountMeta::new(*destination_liquidity, false),
            AccountMeta::new(accounts.reserve, false),
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(accounts.authority(), false),
            AccountMeta::new_readonly(*obligation_owner, true),
            token_program(),
        ],
    )
}

/// Builds `RepayObligationLiquidity`.
pub fn repay_obligation_liquidity(
    accounts: &ReserveAccounts,
    obligation: &Pubkey,
    source_liquidity: &Pubkey,
    user_transfer_authority: &Pubkey,
    liquidity_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::RepayObligationLiquidity { liquidity_amount },
        vec![
            AccountMeta::new(*source_liquidity, false),
            AccountMeta::new(accounts.liquidity_supply, false),
            AccountMeta::new(accounts.reserve, false),
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(accounts.lending_market, false),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}

/// Builds `LiquidateObligation`: repays `repay`'s liquidity from `source_liquidity` and
/// receives `withdraw`'s collateral tokens in `destination_collateral`.
pub fn liquidate_obligation(
    repay: &ReserveAccounts,
    withdraw: &ReserveAccounts,
    obligation: &Pubkey,
    source_liquidity: &Pubkey,
    destination_collateral: &Pubkey,
    user_transfer_authority: &Pubkey,
    liquidity_amount: u64,
) -> Instruction {
    build(
        &LendingInstruction::LiquidateObligation { liquidity_amount },
        vec![
            AccountMeta::new(*source_liquidity, false),
            AccountMeta::new(*destination_collateral, false),
            AccountMeta::new(repay.reserve, false),
            AccountMeta::new(repay.liquidity_supply, false),
            AccountMeta::new_readonly(withdraw.reserve, false),
            AccountMeta::new(withdraw.collateral_supply, false),
            AccountMeta::new(*obligation, false),
            AccountMeta::new_readonly(repay.lending_market, false),
            AccountMeta::new_readonly(repay.authority(), false),
            AccountMeta::new_readonly(*user_transfer_authority, true),
            token_program(),
        ],
    )
}
