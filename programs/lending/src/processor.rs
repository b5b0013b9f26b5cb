//! The program: account checks, the state transitions of [`crate::state`], token moves.
//!
//! Each handler follows the same order: decode what it reads, check every identity (owner
//! programs, the market each account belongs to, vaults and mints against what the reserve
//! records, signers), run the pure transition, store the new state, and only then move
//! tokens through SPL Token. The runtime rolls the whole transaction back on any error, so
//! storing before the token calls cannot leave a half-done state; it does let the runtime
//! check our writes before each cross-program call under our own privileges.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_program_oracle::OracleError;
use braid_program_token::{Mint, TokenAccount};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::pda::create_program_address;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{Instruction, InstructionError, Pubkey};

use crate::error::LendingError;
use crate::instruction::LendingInstruction;
use crate::math::Decimal;
use crate::state::{
    LENDING_MARKET_LEN, LendingMarket, OBLIGATION_LEN, Obligation, PROGRAM_VERSION, RESERVE_LEN,
    Reserve, ReserveCollateral, ReserveConfig, ReserveLiquidity, price_to_decimal,
};
use crate::{ID, market_authority};

/// Compute units of `InitLendingMarket` (one PDA search).
pub const INIT_LENDING_MARKET_UNITS: u64 = 3_000;
/// Compute units of `InitReserve`, before its two token calls.
pub const INIT_RESERVE_UNITS: u64 = 6_000;
/// Compute units of `RefreshReserve` (interest compounding is logarithmic in the slots).
pub const REFRESH_RESERVE_UNITS: u64 = 3_000;
/// Compute units of `DepositReserveLiquidity` and `RedeemReserveCollateral`, before their
/// token calls.
pub const RESERVE_LIQUIDITY_UNITS: u64 = 4_000;
/// Compute units of `InitObligation`.
pub const INIT_OBLIGATION_UNITS: u64 = 1_500;
/// Compute units of `RefreshObligation` before its reserves.
pub const REFRESH_OBLIGATION_UNITS: u64 = 1_500;
/// Further compute units of `RefreshObligation` per deposit or borrow revalued.
pub const REFRESH_OBLIGATION_UNITS_PER_RESERVE: u64 = 1_500;
/// Compute units of the obligation instructions (deposit, withdraw, borrow, repay), before
/// their token call.
pub const OBLIGATION_UNITS: u64 = 4_000;
/// Compute units of `LiquidateObligation`, before its two token calls.
pub const LIQUIDATE_UNITS: u64 = 6_000;

/// Account positions of `InitLendingMarket`.
pub mod init_lending_market {
    /// The market account to initialize (writable, owned by this program, zeroed).
    pub const MARKET: usize = 0;
    /// The market's owner (signer).
    pub const OWNER: usize = 1;
}

/// Account positions of `InitReserve`.
pub mod init_reserve {
    /// The user's token account the initial liquidity comes from (writable).
    pub const SOURCE_LIQUIDITY: usize = 0;
    /// The user's token account that receives the collateral tokens (writable).
    pub const DESTINATION_COLLATERAL: usize = 1;
    /// The reserve account to initialize (writable, owned by this program, zeroed).
    pub const RESERVE: usize = 2;
    /// The mint of the token lent.
    pub const LIQUIDITY_MINT: usize = 3;
    /// The vault that holds the reserve's available liquidity (writable).
    pub const LIQUIDITY_SUPPLY: usize = 4;
    /// The reserve's collateral token mint (writable).
    pub const COLLATERAL_MINT: usize = 5;
    /// The token account that holds collateral deposited into obligations.
    pub const COLLATERAL_SUPPLY: usize = 6;
    /// The oracle price feed of the liquidity.
    pub const ORACLE: usize = 7;
    /// The market the reserve joins.
    pub const MARKET: usize = 8;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 9;
    /// The market's owner (signer).
    pub const MARKET_OWNER: usize = 10;
    /// The owner of the source liquidity account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 11;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 12;
}

/// Account positions of `RefreshReserve`.
pub mod refresh_reserve {
    /// The reserve to refresh (writable).
    pub const RESERVE: usize = 0;
    /// The reserve's oracle price feed.
    pub const ORACLE: usize = 1;
}

/// Account positions of `DepositReserveLiquidity`.
pub mod deposit_reserve_liquidity {
    /// The user's token account the liquidity comes from (writable).
    pub const SOURCE_LIQUIDITY: usize = 0;
    /// The user's token account that receives the collateral tokens (writable).
    pub const DESTINATION_COLLATERAL: usize = 1;
    /// The reserve (writable).
    pub const RESERVE: usize = 2;
    /// The reserve's liquidity vault (writable).
    pub const LIQUIDITY_SUPPLY: usize = 3;
    /// The reserve's collateral token mint (writable).
    pub const COLLATERAL_MINT: usize = 4;
    /// The reserve's market.
    pub const MARKET: usize = 5;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 6;
    /// The owner of the source liquidity account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 7;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 8;
}

/// Account positions of `RedeemReserveCollateral`.
pub mod redeem_reserve_collateral {
    /// The user's token account the collateral tokens are burnt from (writable).
    pub const SOURCE_COLLATERAL: usize = 0;
    /// The user's token account that receives the liquidity (writable).
    pub const DESTINATION_LIQUIDITY: usize = 1;
    /// The reserve (writable).
    pub const RESERVE: usize = 2;
    /// The reserve's collateral token mint (writable).
    pub const COLLATERAL_MINT: usize = 3;
    /// The reserve's liquidity vault (writable).
    pub const LIQUIDITY_SUPPLY: usize = 4;
    /// The reserve's market.
    pub const MARKET: usize = 5;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 6;
    /// The owner of the source collateral account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 7;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 8;
}

/// Account positions of `InitObligation`.
pub mod init_obligation {
    /// The obligation account to initialize (writable, owned by this program, zeroed).
    pub const OBLIGATION: usize = 0;
    /// The obligation's market.
    pub const MARKET: usize = 1;
    /// The obligation's owner (signer).
    pub const OWNER: usize = 2;
}

/// Account positions of `RefreshObligation`.
pub mod refresh_obligation {
    /// The obligation to refresh (writable).
    pub const OBLIGATION: usize = 0;
    /// The first of the reserves, one per account from here to the end: the reserve of each
    /// deposit in order, then of each borrow in order.
    pub const FIRST_RESERVE: usize = 1;
}

/// Account positions of `DepositObligationCollateral`.
pub mod deposit_obligation_collateral {
    /// The user's token account the collateral tokens come from (writable).
    pub const SOURCE_COLLATERAL: usize = 0;
    /// The reserve's collateral supply account (writable).
    pub const COLLATERAL_SUPPLY: usize = 1;
    /// The reserve of the collateral.
    pub const RESERVE: usize = 2;
    /// The obligation (writable).
    pub const OBLIGATION: usize = 3;
    /// The market.
    pub const MARKET: usize = 4;
    /// The obligation's owner (signer).
    pub const OBLIGATION_OWNER: usize = 5;
    /// The owner of the source collateral account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 6;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 7;
}

/// Account positions of `WithdrawObligationCollateral`.
pub mod withdraw_obligation_collateral {
    /// The reserve's collateral supply account (writable).
    pub const COLLATERAL_SUPPLY: usize = 0;
    /// The user's token account that receives the collateral tokens (writable).
    pub const DESTINATION_COLLATERAL: usize = 1;
    /// The reserve of the collateral.
    pub const RESERVE: usize = 2;
    /// The obligation (writable).
    pub const OBLIGATION: usize = 3;
    /// The market.
    pub const MARKET: usize = 4;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 5;
    /// The obligation's owner (signer).
    pub const OBLIGATION_OWNER: usize = 6;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 7;
}

/// Account positions of `BorrowObligationLiquidity`.
pub mod borrow_obligation_liquidity {
    /// The reserve's liquidity vault (writable).
    pub const LIQUIDITY_SUPPLY: usize = 0;
    /// The user's token account that receives the liquidity (writable).
    pub const DESTINATION_LIQUIDITY: usize = 1;
    /// The reserve borrowed from (writable).
    pub const RESERVE: usize = 2;
    /// The obligation (writable).
    pub const OBLIGATION: usize = 3;
    /// The market.
    pub const MARKET: usize = 4;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 5;
    /// The obligation's owner (signer).
    pub const OBLIGATION_OWNER: usize = 6;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 7;
}

/// Account positions of `RepayObligationLiquidity`.
pub mod repay_obligation_liquidity {
    /// The user's token account the repayment comes from (writable).
    pub const SOURCE_LIQUIDITY: usize = 0;
    /// The reserve's liquidity vault (writable).
    pub const LIQUIDITY_SUPPLY: usize = 1;
    /// The reserve repaid (writable).
    pub const RESERVE: usize = 2;
    /// The obligation (writable).
    pub const OBLIGATION: usize = 3;
    /// The market.
    pub const MARKET: usize = 4;
    /// The owner of the source liquidity account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 5;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 6;
}

/// Account positions of `LiquidateObligation`.
pub mod liquidate_obligation {
    /// The liquidator's token account the repayment comes from (writable).
    pub const SOURCE_LIQUIDITY: usize = 0;
    /// The liquidator's token account that receives the seized collateral (writable).
    pub const DESTINATION_COLLATERAL: usize = 1;
    /// The reserve of the debt repaid (writable).
    pub const REPAY_RESERVE: usize = 2;
    /// The repay reserve's liquidity vault (writable).
    pub const REPAY_LIQUIDITY_SUPPLY: usize = 3;
    /// The reserve of the collateral seized.
    pub const WITHDRAW_RESERVE: usize = 4;
    /// The withdraw reserve's collateral supply account (writable).
    pub const WITHDRAW_COLLATERAL_SUPPLY: usize = 5;
    /// The obligation liquidated (writable).
    pub const OBLIGATION: usize = 6;
    /// The market.
    pub const MARKET: usize = 7;
    /// The market's program-derived authority.
    pub const MARKET_AUTHORITY: usize = 8;
    /// The owner of the source liquidity account (signer).
    pub const USER_TRANSFER_AUTHORITY: usize = 9;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 10;
}

/// The lending program.
pub struct LendingProgram;

impl Program for LendingProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "lending"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        crate::error::LendingError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("LendingError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        let instruction = LendingInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        match instruction {
            LendingInstruction::InitLendingMarket { quote_currency } => {
                init_lending_market(ctx, quote_currency)
            }
            LendingInstruction::InitReserve {
                liquidity_amount,
                config,
            } => init_reserve(ctx, liquidity_amount, config),
            LendingInstruction::RefreshReserve => refresh_reserve(ctx),
            LendingInstruction::DepositReserveLiquidity { liquidity_amount } => {
                deposit_reserve_liquidity(ctx, liquidity_amount)
            }
            LendingInstruction::RedeemReserveCollateral { collateral_amount } => {
                redeem_reserve_collateral(ctx, collateral_amount)
            }
            LendingInstruction::InitObligation => init_obligation(ctx),
            LendingInstruction::RefreshObligation => refresh_obligation(ctx),
            LendingInstruction::DepositObligationCollateral { collateral_amount } => {
                deposit_obligation_collateral(ctx, collateral_amount)
            }
            LendingInstruction::WithdrawObligationCollateral { collateral_amount } => {
                withdraw_obligation_collateral(ctx, collateral_amount)
            }
            LendingInstruction::BorrowObligationLiquidity { liquidity_amount } => {
                borrow_obligation_liquidity(ctx, liquidity_amount)
            }
            LendingInstruction::RepayObligationLiquidity { liquidity_amount } => {
                repay_obligation_liquidity(ctx, liquidity_amount)
            }
            LendingInstruction::LiquidateObligation { liquidity_amount } => {
                liquidate_obligation(ctx, liquidity_amount)
            }
        }
    }
}

// ---- account access ----

/// Decodes this program's account at `position`, of exactly `len` bytes.
fn load<T: BorshDeserialize>(
    ctx: &InvokeContext<'_>,
    position: usize,
    len: usize,
) -> Result<T, LendingError> {
    let account = ctx
        .account(position)
        .map_err(|_| LendingError::InvalidAccountData)?;
    if account.owner != ID {
        return Err(LendingError::InvalidAccountOwner);
    }
    if account.data.len() != len {
        return Err(LendingError::InvalidAccountData);
    }
    // The layouts end in fixed-size fields or bounded vectors, so a prefix decode is exact
    // and the zero padding behind a short obligation is ignored.
    T::deserialize(&mut account.data.as_slice()).map_err(|_| LendingError::InvalidAccountData)
}

/// Encodes `state` into the account at `position`, zeroing the bytes behind it.
fn store<T: BorshSerialize>(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    state: &T,
) -> Result<(), InstructionError> {
    let bytes = borsh::to_vec(state).map_err(|_| LendingError::InvalidAccountData)?;
    let account = ctx.account_mut(position)?;
    let (head, tail) = account
        .data
        .split_at_mut_checked(bytes.len())
        .ok_or(LendingError::InvalidAccountData)?;
    head.copy_from_slice(&bytes);
    tail.fill(0);
    Ok(())
}

fn key(ctx: &InvokeContext<'_>, position: usize) -> Result<Pubkey, InstructionError> {
    ctx.key(position).copied()
}

fn check_signer(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if !ctx.is_signer(position)? {
        return Err(LendingError::InvalidSigner.into());
    }
    Ok(())
}

fn check_token_program(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if key(ctx, position)? != braid_program_token::ID {
        return Err(LendingError::InvalidTokenProgram.into());
    }
    Ok(())
}

fn check_key(
    ctx: &InvokeContext<'_>,
    position: usize,
    expected: &Pubkey,
) -> Result<(), InstructionError> {
    if key(ctx, position)? != *expected {
        return Err(LendingError::InvalidTokenAccount.into());
    }
    Ok(())
}

/// A user's token account must not be one of the market's own vaults.
fn check_not_key(
    ctx: &InvokeContext<'_>,
    position: usize,
    vault: &Pubkey,
) -> Result<(), InstructionError> {
    if key(ctx, position)? == *vault {
        return Err(LendingError::InvalidTokenAccount.into());
    }
    Ok(())
}

fn token_account(ctx: &InvokeContext<'_>, position: usize) -> Result<TokenAccount, LendingError> {
    let account = ctx
        .account(position)
        .map_err(|_| LendingError::InvalidTokenAccount)?;
    if account.owner != braid_program_token::ID {
        return Err(LendingError::InvalidAccountOwner);
    }
    TokenAccount::unpack(&account.data).map_err(|_| LendingError::InvalidTokenAccount)
}

fn mint(ctx: &InvokeContext<'_>, position: usize) -> Result<Mint, LendingError> {
    let account = ctx
        .account(position)
        .map_err(|_| LendingError::InvalidTokenAccount)?;
    if account.owner != braid_program_token::ID {
        return Err(LendingError::InvalidAccountOwner);
    }
    Mint::unpack(&account.data).map_err(|_| LendingError::InvalidTokenAccount)
}

/// The market at `position`, which must be initialized.
fn load_market(
    ctx: &InvokeContext<'_>,
    position: usize,
) -> Result<(Pubkey, LendingMarket), InstructionError> {
    let market: LendingMarket = load(ctx, position, LENDING_MARKET_LEN)?;
    if market.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    Ok((key(ctx, position)?, market))
}

/// Checks that the account at `position` is the market's program-derived authority.
fn check_authority(
    ctx: &InvokeContext<'_>,
    position: usize,
    market_key: &Pubkey,
    market: &LendingMarket,
) -> Result<(), InstructionError> {
    let expected = create_program_address(&[market_key.as_ref(), &[market.bump_seed]], &ID)
        .map_err(|_| LendingError::InvalidMarketAuthority)?;
    if key(ctx, position)? != expected {
        return Err(LendingError::InvalidMarketAuthority.into());
    }
    Ok(())
}

fn load_reserve(
    ctx: &InvokeContext<'_>,
    position: usize,
    market_key: &Pubkey,
) -> Result<(Pubkey, Reserve), InstructionError> {
    let reserve: Reserve = load(ctx, position, RESERVE_LEN)?;
    if reserve.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    if reserve.lending_market != *market_key {
        return Err(LendingError::InvalidMarket.into());
    }
    Ok((key(ctx, position)?, reserve))
}

fn load_obligation(
    ctx: &InvokeContext<'_>,
    position: usize,
    market_key: &Pubkey,
) -> Result<Obligation, InstructionError> {
    let obligation: Obligation = load(ctx, position, OBLIGATION_LEN)?;
    if obligation.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    if obligation.lending_market != *market_key {
        return Err(LendingError::InvalidMarket.into());
    }
    Ok(obligation)
}

fn check_obligation_owner(
    ctx: &InvokeContext<'_>,
    position: usize,
    obligation: &Obligation,
) -> Result<(), InstructionError> {
    check_signer(ctx, position)?;
    if key(ctx, position)? != obligation.owner {
        return Err(LendingError::InvalidObligationOwner.into());
    }
    Ok(())
}

/// The price of the feed at `position`, no older than `max_age_slots`.
fn oracle_price(
    ctx: &InvokeContext<'_>,
    position: usize,
    max_age_slots: u64,
) -> Result<Decimal, LendingError> {
    let account = ctx
        .account(position)
        .map_err(|_| LendingError::InvalidOracle)?;
    let price = braid_program_oracle::load_price(account, ctx.clock().slot, max_age_slots)
        .map_err(|error| match error {
            OracleError::WrongOwner => LendingError::InvalidAccountOwner,
            _ => LendingError::InvalidOraclePrice,
        })?;
    price_to_decimal(price.price, price.exponent)
}

// ---- token calls ----

/// Signer seeds of the market authority.
struct AuthoritySeeds {
    market: Pubkey,
    bump: [u8; 1],
}

impl AuthoritySeeds {
    fn new(market: Pubkey, state: &LendingMarket) -> Self {
        Self {
            market,
            bump: [state.bump_seed],
        }
    }
}

fn token_call(
    ctx: &mut InvokeContext<'_>,
    instruction: &Instruction,
    authority: Option<&AuthoritySeeds>,
) -> Result<(), InstructionError> {
    match authority {
        Some(seeds) => ctx.invoke_signed(instruction, &[&[seeds.market.as_ref(), &seeds.bump]]),
        None => ctx.invoke(instruction),
    }
}

fn transfer(
    ctx: &mut InvokeContext<'_>,
    (source, destination, authority): (usize, usize, usize),
    amount: u64,
    seeds: Option<&AuthoritySeeds>,
) -> Result<(), InstructionError> {
    let instruction = braid_program_token::instruction::transfer(
        &key(ctx, source)?,
        &key(ctx, destination)?,
        &key(ctx, authority)?,
        amount,
    );
    token_call(ctx, &instruction, seeds)
}

// ---- handlers ----

fn init_lending_market(
    ctx: &mut InvokeContext<'_>,
    quote_currency: [u8; 32],
) -> Result<(), InstructionError> {
    use init_lending_market::*;
    ctx.consume(INIT_LENDING_MARKET_UNITS)?;
    let market: LendingMarket = load(ctx, MARKET, LENDING_MARKET_LEN)?;
    if market.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    check_signer(ctx, OWNER)?;
    let market_key = key(ctx, MARKET)?;
    let market = LendingMarket {
        version: PROGRAM_VERSION,
        bump_seed: market_authority(&market_key).1,
        owner: key(ctx, OWNER)?,
        quote_currency,
    };
    store(ctx, MARKET, &market)
}

fn init_reserve(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
    config: ReserveConfig,
) -> Result<(), InstructionError> {
    use init_reserve::*;
    ctx.consume(INIT_RESERVE_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    check_signer(ctx, MARKET_OWNER)?;
    if key(ctx, MARKET_OWNER)? != market.owner {
        return Err(LendingError::InvalidMarketOwner.into());
    }
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    let existing: Reserve = load(ctx, RESERVE, RESERVE_LEN)?;
    if existing.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    config.validate()?;
    let authority = key(ctx, MARKET_AUTHORITY)?;
    let liquidity_mint_key = key(ctx, LIQUIDITY_MINT)?;
    let liquidity_mint = mint(ctx, LIQUIDITY_MINT)?;
    let collateral_mint_key = key(ctx, COLLATERAL_MINT)?;
    let collateral_mint = mint(ctx, COLLATERAL_MINT)?;
    let vault = token_account(ctx, LIQUIDITY_SUPPLY)?;
    let collateral_supply = token_account(ctx, COLLATERAL_SUPPLY)?;
    // The vaults start empty and only the authority can ever move, delegate or close them,
    // so their balances track the reserve exactly.
    let vault_ok = vault.mint == liquidity_mint_key
        && vault.owner == authority
        && vault.amount == 0
        && vault.delegate.is_none()
        && vault.close_authority.is_none()
        && !vault.is_frozen();
    let collateral_supply_ok = collateral_supply.mint == collateral_mint_key
        && collateral_supply.owner == authority
        && collateral_supply.delegate.is_none()
        && collateral_supply.close_authority.is_none()
        && !collateral_supply.is_frozen();
    let collateral_mint_ok = collateral_mint.mint_authority == Some(authority)
        && collateral_mint.supply == 0
        && collateral_mint.freeze_authority.is_none()
        && collateral_mint.decimals == liquidity_mint.decimals;
    if !(vault_ok && collateral_supply_ok && collateral_mint_ok) {
        return Err(LendingError::InvalidTokenAccount.into());
    }
    let vault_key = key(ctx, LIQUIDITY_SUPPLY)?;
    let collateral_supply_key = key(ctx, COLLATERAL_SUPPLY)?;
    check_not_key(ctx, SOURCE_LIQUIDITY, &vault_key)?;
    check_not_key(ctx, DESTINATION_COLLATERAL, &collateral_supply_key)?;
    let price = oracle_price(ctx, ORACLE, config.max_oracle_age_slots)?;
    let liquidity = ReserveLiquidity {
        mint: liquidity_mint_key,
        mint_decimals: liquidity_mint.decimals,
        supply: vault_key,
        oracle: key(ctx, ORACLE)?,
        market_price: price,
        ..ReserveLiquidity::default()
    };
    let collateral = ReserveCollateral {
        mint: collateral_mint_key,
        mint_total_supply: 0,
        supply: collateral_supply_key,
    };
    let (reserve, minted) = Reserve::new(
        ctx.clock().slot,
        market_key,
        liquidity,
        collateral,
        config,
        liquidity_amount,
    )?;
    store(ctx, RESERVE, &reserve)?;
    let seeds = AuthoritySeeds::new(market_key, &market);
    transfer(
        ctx,
        (SOURCE_LIQUIDITY, LIQUIDITY_SUPPLY, USER_TRANSFER_AUTHORITY),
        liquidity_amount,
        None,
    )?;
    let mint_to = braid_program_token::instruction::mint_to(
        &collateral_mint_key,
        &key(ctx, DESTINATION_COLLATERAL)?,
        &authority,
        minted,
    );
    token_call(ctx, &mint_to, Some(&seeds))
}

fn refresh_reserve(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use refresh_reserve::*;
    ctx.consume(REFRESH_RESERVE_UNITS)?;
    let mut reserve: Reserve = load(ctx, RESERVE, RESERVE_LEN)?;
    if reserve.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    if key(ctx, ORACLE)? != reserve.liquidity.oracle {
        return Err(LendingError::InvalidOracle.into());
    }
    let price = oracle_price(ctx, ORACLE, reserve.config.max_oracle_age_slots)?;
    reserve.refresh(ctx.clock().slot, price)?;
    store(ctx, RESERVE, &reserve)
}

fn deposit_reserve_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    use deposit_reserve_liquidity::*;
    ctx.consume(RESERVE_LIQUIDITY_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    let (_, mut reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_key(ctx, LIQUIDITY_SUPPLY, &reserve.liquidity.supply)?;
    check_key(ctx, COLLATERAL_MINT, &reserve.collateral.mint)?;
    check_not_key(ctx, SOURCE_LIQUIDITY, &reserve.liquidity.supply)?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    let collateral = reserve.deposit_liquidity(ctx.clock().slot, liquidity_amount)?;
    store(ctx, RESERVE, &reserve)?;
    transfer(
        ctx,
        (SOURCE_LIQUIDITY, LIQUIDITY_SUPPLY, USER_TRANSFER_AUTHORITY),
        liquidity_amount,
        None,
    )?;
    let mint_to = braid_program_token::instruction::mint_to(
        &key(ctx, COLLATERAL_MINT)?,
        &key(ctx, DESTINATION_COLLATERAL)?,
        &key(ctx, MARKET_AUTHORITY)?,
        collateral,
    );
    token_call(
        ctx,
        &mint_to,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn redeem_reserve_collateral(
    ctx: &mut InvokeContext<'_>,
    collateral_amount: u64,
) -> Result<(), InstructionError> {
    use redeem_reserve_collateral::*;
    ctx.consume(RESERVE_LIQUIDITY_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    let (_, mut reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_key(ctx, COLLATERAL_MINT, &reserve.collateral.mint)?;
    check_key(ctx, LIQUIDITY_SUPPLY, &reserve.liquidity.supply)?;
    check_not_key(ctx, DESTINATION_LIQUIDITY, &reserve.liquidity.supply)?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    let liquidity = reserve.redeem_collateral(ctx.clock().slot, collateral_amount)?;
    store(ctx, RESERVE, &reserve)?;
    let burn = braid_program_token::instruction::burn(
        &key(ctx, SOURCE_COLLATERAL)?,
        &key(ctx, COLLATERAL_MINT)?,
        &key(ctx, USER_TRANSFER_AUTHORITY)?,
        collateral_amount,
    );
    token_call(ctx, &burn, None)?;
    transfer(
        ctx,
        (LIQUIDITY_SUPPLY, DESTINATION_LIQUIDITY, MARKET_AUTHORITY),
        liquidity,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn init_obligation(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use init_obligation::*;
    ctx.consume(INIT_OBLIGATION_UNITS)?;
    let existing: Obligation = load(ctx, OBLIGATION, OBLIGATION_LEN)?;
    if existing.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    let (market_key, _) = load_market(ctx, MARKET)?;
    check_signer(ctx, OWNER)?;
    let obligation = Obligation::new(ctx.clock().slot, market_key, key(ctx, OWNER)?);
    store(ctx, OBLIGATION, &obligation)
}

fn refresh_obligation(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use refresh_obligation::*;
    ctx.consume(REFRESH_OBLIGATION_UNITS)?;
    let obligation: Obligation = load(ctx, OBLIGATION, OBLIGATION_LEN)?;
    if obligation.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    let count = ctx.num_accounts().saturating_sub(FIRST_RESERVE);
    let units = REFRESH_OBLIGATION_UNITS_PER_RESERVE
        .saturating_mul(u64::try_from(count).unwrap_or(u64::MAX));
    ctx.consume(units)?;
    let market_key = obligation.lending_market;
    let mut reserves = Vec::with_capacity(count);
    for position in FIRST_RESERVE..ctx.num_accounts() {
        reserves.push(load_reserve(ctx, position, &market_key)?);
    }
    let views: Vec<(Pubkey, &Reserve)> = reserves
        .iter()
        .map(|(key, reserve)| (*key, reserve))
        .collect();
    let mut obligation = obligation;
    obligation.refresh(ctx.clock().slot, &views)?;
    store(ctx, OBLIGATION, &obligation)
}

fn deposit_obligation_collateral(
    ctx: &mut InvokeContext<'_>,
    collateral_amount: u64,
) -> Result<(), InstructionError> {
    use deposit_obligation_collateral::*;
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, _) = load_market(ctx, MARKET)?;
    let (reserve_key, reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    let mut obligation = load_obligation(ctx, OBLIGATION, &market_key)?;
    check_key(ctx, COLLATERAL_SUPPLY, &reserve.collateral.supply)?;
    check_not_key(ctx, SOURCE_COLLATERAL, &reserve.collateral.supply)?;
    check_obligation_owner(ctx, OBLIGATION_OWNER, &obligation)?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    obligation.deposit_collateral(ctx.clock().slot, reserve_key, &reserve, collateral_amount)?;
    store(ctx, OBLIGATION, &obligation)?;
    transfer(
        ctx,
        (
            SOURCE_COLLATERAL,
            COLLATERAL_SUPPLY,
            USER_TRANSFER_AUTHORITY,
        ),
        collateral_amount,
        None,
    )
}

fn withdraw_obligation_collateral(
    ctx: &mut InvokeContext<'_>,
    collateral_amount: u64,
) -> Result<(), InstructionError> {
    use withdraw_obligation_collateral::*;
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    let (reserve_key, reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    let mut obligation = load_obligation(ctx, OBLIGATION, &market_key)?;
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_key(ctx, COLLATERAL_SUPPLY, &reserve.collateral.supply)?;
    check_not_key(ctx, DESTINATION_COLLATERAL, &reserve.collateral.supply)?;
    check_obligation_owner(ctx, OBLIGATION_OWNER, &obligation)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    obligation.withdraw_collateral(ctx.clock().slot, reserve_key, &reserve, collateral_amount)?;
    store(ctx, OBLIGATION, &obligation)?;
    transfer(
        ctx,
        (COLLATERAL_SUPPLY, DESTINATION_COLLATERAL, MARKET_AUTHORITY),
        collateral_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn borrow_obligation_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    use borrow_obligation_liquidity::*;
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    let (reserve_key, mut reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    let mut obligation = load_obligation(ctx, OBLIGATION, &market_key)?;
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_key(ctx, LIQUIDITY_SUPPLY, &reserve.liquidity.supply)?;
    check_not_key(ctx, DESTINATION_LIQUIDITY, &reserve.liquidity.supply)?;
    check_obligation_owner(ctx, OBLIGATION_OWNER, &obligation)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    obligation.borrow(
        ctx.clock().slot,
        reserve_key,
        &mut reserve,
        liquidity_amount,
    )?;
    store(ctx, RESERVE, &reserve)?;
    store(ctx, OBLIGATION, &obligation)?;
    transfer(
        ctx,
        (LIQUIDITY_SUPPLY, DESTINATION_LIQUIDITY, MARKET_AUTHORITY),
        liquidity_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn repay_obligation_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    use repay_obligation_liquidity::*;
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, _) = load_market(ctx, MARKET)?;
    let (reserve_key, mut reserve) = load_reserve(ctx, RESERVE, &market_key)?;
    let mut obligation = load_obligation(ctx, OBLIGATION, &market_key)?;
    check_key(ctx, LIQUIDITY_SUPPLY, &reserve.liquidity.supply)?;
    check_not_key(ctx, SOURCE_LIQUIDITY, &reserve.liquidity.supply)?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    let repay = obligation.repay(
        ctx.clock().slot,
        reserve_key,
        &mut reserve,
        liquidity_amount,
    )?;
    store(ctx, RESERVE, &reserve)?;
    store(ctx, OBLIGATION, &obligation)?;
    ctx.log(format_args!("repaid {repay}"));
    transfer(
        ctx,
        (SOURCE_LIQUIDITY, LIQUIDITY_SUPPLY, USER_TRANSFER_AUTHORITY),
        repay,
        None,
    )
}

fn liquidate_obligation(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    use liquidate_obligation::*;
    ctx.consume(LIQUIDATE_UNITS)?;
    let (market_key, market) = load_market(ctx, MARKET)?;
    let (repay_key, mut repay_reserve) = load_reserve(ctx, REPAY_RESERVE, &market_key)?;
    let (withdraw_key, withdraw_reserve) = load_reserve(ctx, WITHDRAW_RESERVE, &market_key)?;
    let mut obligation = load_obligation(ctx, OBLIGATION, &market_key)?;
    check_authority(ctx, MARKET_AUTHORITY, &market_key, &market)?;
    check_key(ctx, REPAY_LIQUIDITY_SUPPLY, &repay_reserve.liquidity.supply)?;
    check_key(
        ctx,
        WITHDRAW_COLLATERAL_SUPPLY,
        &withdraw_reserve.collateral.supply,
    )?;
    check_not_key(ctx, SOURCE_LIQUIDITY, &repay_reserve.liquidity.supply)?;
    check_not_key(
        ctx,
        DESTINATION_COLLATERAL,
        &withdraw_reserve.collateral.supply,
    )?;
    check_signer(ctx, USER_TRANSFER_AUTHORITY)?;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    // When both reserves are the same account, the withdraw side only reads the state as it
    // was loaded (freshness and bonus), which the repayment does not change.
    let liquidation = obligation.liquidate(
        ctx.clock().slot,
        repay_key,
        &mut repay_reserve,
        withdraw_key,
        &withdraw_reserve,
        liquidity_amount,
    )?;
    store(ctx, REPAY_RESERVE, &repay_reserve)?;
    store(ctx, OBLIGATION, &obligation)?;
    ctx.log(format_args!(
        "liquidated: repaid {}, seized {} collateral",
        liquidation.repay_amount, liquidation.withdraw_amount
    ));
    transfer(
        ctx,
        (
            SOURCE_LIQUIDITY,
            REPAY_LIQUIDITY_SUPPLY,
            USER_TRANSFER_AUTHORITY,
        ),
        liquidation.repay_amount,
        None,
    )?;
    transfer(
        ctx,
        (
            WITHDRAW_COLLATERAL_SUPPLY,
            DESTINATION_COLLATERAL,
            MARKET_AUTHORITY,
        ),
        liquidation.withdraw_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // small known key indices
mod tests {
    //! Each client builder lists every account at the position the processor names for it.

    use super::*;
    use crate::instruction::{self, ReserveAccounts};

    fn key(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    /// `instruction` has exactly the accounts of `expected`, each at its position.
    fn assert_positions(instruction: &Instruction, expected: &[(usize, Pubkey)]) {
        assert_eq!(instruction.accounts.len(), expected.len());
        for &(position, pubkey) in expected {
            assert_eq!(
                instruction.accounts[position].pubkey, pubkey,
                "position {position}"
            );
        }
    }

    /// A reserve whose keys are all distinct from each other and from [`Keys`].
    fn reserve_accounts(first: u8) -> ReserveAccounts {
        ReserveAccounts {
            reserve: key(first),
            lending_market: key(100),
            liquidity_mint: key(first + 1),
            liquidity_supply: key(first + 2),
            collateral_mint: key(first + 3),
            collateral_supply: key(first + 4),
            oracle: key(first + 5),
        }
    }

    /// The user-side keys, distinct from every reserve's.
    struct Keys {
        source: Pubkey,
        destination: Pubkey,
        user: Pubkey,
        owner: Pubkey,
        obligation: Pubkey,
    }

    const KEYS: Keys = Keys {
        source: Pubkey::new_from_array([200; 32]),
        destination: Pubkey::new_from_array([201; 32]),
        user: Pubkey::new_from_array([202; 32]),
        owner: Pubkey::new_from_array([203; 32]),
        obligation: Pubkey::new_from_array([204; 32]),
    };

    fn authority(accounts: &ReserveAccounts) -> Pubkey {
        market_authority(&accounts.lending_market).0
    }

    #[test]
    fn init_lending_market_positions() {
        let ix = instruction::init_lending_market(&key(100), &KEYS.owner, [0; 32]);
        assert_positions(
            &ix,
            &[
                (init_lending_market::MARKET, key(100)),
                (init_lending_market::OWNER, KEYS.owner),
            ],
        );
    }

    #[test]
    fn init_reserve_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::init_reserve(
            &r,
            &KEYS.owner,
            &KEYS.source,
            &KEYS.destination,
            &KEYS.user,
            1,
            ReserveConfig::default(),
        );
        assert_positions(
            &ix,
            &[
                (init_reserve::SOURCE_LIQUIDITY, KEYS.source),
                (init_reserve::DESTINATION_COLLATERAL, KEYS.destination),
                (init_reserve::RESERVE, r.reserve),
                (init_reserve::LIQUIDITY_MINT, r.liquidity_mint),
                (init_reserve::LIQUIDITY_SUPPLY, r.liquidity_supply),
                (init_reserve::COLLATERAL_MINT, r.collateral_mint),
                (init_reserve::COLLATERAL_SUPPLY, r.collateral_supply),
                (init_reserve::ORACLE, r.oracle),
                (init_reserve::MARKET, r.lending_market),
                (init_reserve::MARKET_AUTHORITY, authority(&r)),
                (init_reserve::MARKET_OWNER, KEYS.owner),
                (init_reserve::USER_TRANSFER_AUTHORITY, KEYS.user),
                (init_reserve::TOKEN_PROGRAM, braid_program_token::ID),
            ],
        );
    }

    #[test]
    fn refresh_reserve_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::refresh_reserve(&r.reserve, &r.oracle);
        assert_positions(
            &ix,
            &[
                (refresh_reserve::RESERVE, r.reserve),
                (refresh_reserve::ORACLE, r.oracle),
            ],
        );
    }

    #[test]
    fn deposit_reserve_liquidity_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::deposit_reserve_liquidity(
            &r,
            &KEYS.source,
            &KEYS.destination,
            &KEYS.user,
            1,
        );
        assert_positions(
            &ix,
            &[
                (deposit_reserve_liquidity::SOURCE_LIQUIDITY, KEYS.source),
                (
                    deposit_reserve_liquidity::DESTINATION_COLLATERAL,
                    KEYS.destination,
                ),
                (deposit_reserve_liquidity::RESERVE, r.reserve),
                (
                    deposit_reserve_liquidity::LIQUIDITY_SUPPLY,
                    r.liquidity_supply,
                ),
                (
                    deposit_reserve_liquidity::COLLATERAL_MINT,
                    r.collateral_mint,
                ),
                (deposit_reserve_liquidity::MARKET, r.lending_market),
                (deposit_reserve_liquidity::MARKET_AUTHORITY, authority(&r)),
                (
                    deposit_reserve_liquidity::USER_TRANSFER_AUTHORITY,
                    KEYS.user,
                ),
                (
                    deposit_reserve_liquidity::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn redeem_reserve_collateral_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::redeem_reserve_collateral(
            &r,
            &KEYS.source,
            &KEYS.destination,
            &KEYS.user,
            1,
        );
        assert_positions(
            &ix,
            &[
                (redeem_reserve_collateral::SOURCE_COLLATERAL, KEYS.source),
                (
                    redeem_reserve_collateral::DESTINATION_LIQUIDITY,
                    KEYS.destination,
                ),
                (redeem_reserve_collateral::RESERVE, r.reserve),
                (
                    redeem_reserve_collateral::COLLATERAL_MINT,
                    r.collateral_mint,
                ),
                (
                    redeem_reserve_collateral::LIQUIDITY_SUPPLY,
                    r.liquidity_supply,
                ),
                (redeem_reserve_collateral::MARKET, r.lending_market),
                (redeem_reserve_collateral::MARKET_AUTHORITY, authority(&r)),
                (
                    redeem_reserve_collateral::USER_TRANSFER_AUTHORITY,
                    KEYS.user,
                ),
                (
                    redeem_reserve_collateral::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn init_obligation_positions() {
        let ix = instruction::init_obligation(&KEYS.obligation, &key(100), &KEYS.owner);
        assert_positions(
            &ix,
            &[
                (init_obligation::OBLIGATION, KEYS.obligation),
                (init_obligation::MARKET, key(100)),
                (init_obligation::OWNER, KEYS.owner),
            ],
        );
    }

    #[test]
    fn refresh_obligation_positions() {
        let reserves = [key(10), key(20), key(30)];
        let ix = instruction::refresh_obligation(&KEYS.obligation, &reserves);
        let mut expected = vec![(refresh_obligation::OBLIGATION, KEYS.obligation)];
        expected.extend(
            reserves
                .iter()
                .enumerate()
                .map(|(index, reserve)| (refresh_obligation::FIRST_RESERVE + index, *reserve)),
        );
        assert_positions(&ix, &expected);
    }

    #[test]
    fn deposit_obligation_collateral_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::deposit_obligation_collateral(
            &r,
            &KEYS.obligation,
            &KEYS.source,
            &KEYS.owner,
            &KEYS.user,
            1,
        );
        assert_positions(
            &ix,
            &[
                (
                    deposit_obligation_collateral::SOURCE_COLLATERAL,
                    KEYS.source,
                ),
                (
                    deposit_obligation_collateral::COLLATERAL_SUPPLY,
                    r.collateral_supply,
                ),
                (deposit_obligation_collateral::RESERVE, r.reserve),
                (deposit_obligation_collateral::OBLIGATION, KEYS.obligation),
                (deposit_obligation_collateral::MARKET, r.lending_market),
                (deposit_obligation_collateral::OBLIGATION_OWNER, KEYS.owner),
                (
                    deposit_obligation_collateral::USER_TRANSFER_AUTHORITY,
                    KEYS.user,
                ),
                (
                    deposit_obligation_collateral::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn withdraw_obligation_collateral_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::withdraw_obligation_collateral(
            &r,
            &KEYS.obligation,
            &KEYS.destination,
            &KEYS.owner,
            1,
        );
        assert_positions(
            &ix,
            &[
                (
                    withdraw_obligation_collateral::COLLATERAL_SUPPLY,
                    r.collateral_supply,
                ),
                (
                    withdraw_obligation_collateral::DESTINATION_COLLATERAL,
                    KEYS.destination,
                ),
                (withdraw_obligation_collateral::RESERVE, r.reserve),
                (withdraw_obligation_collateral::OBLIGATION, KEYS.obligation),
                (withdraw_obligation_collateral::MARKET, r.lending_market),
                (
                    withdraw_obligation_collateral::MARKET_AUTHORITY,
                    authority(&r),
                ),
                (withdraw_obligation_collateral::OBLIGATION_OWNER, KEYS.owner),
                (
                    withdraw_obligation_collateral::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn borrow_obligation_liquidity_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::borrow_obligation_liquidity(
            &r,
            &KEYS.obligation,
            &KEYS.destination,
            &KEYS.owner,
            1,
        );
        assert_positions(
            &ix,
            &[
                (
                    borrow_obligation_liquidity::LIQUIDITY_SUPPLY,
                    r.liquidity_supply,
                ),
                (
                    borrow_obligation_liquidity::DESTINATION_LIQUIDITY,
                    KEYS.destination,
                ),
                (borrow_obligation_liquidity::RESERVE, r.reserve),
                (borrow_obligation_liquidity::OBLIGATION, KEYS.obligation),
                (borrow_obligation_liquidity::MARKET, r.lending_market),
                (borrow_obligation_liquidity::MARKET_AUTHORITY, authority(&r)),
                (borrow_obligation_liquidity::OBLIGATION_OWNER, KEYS.owner),
                (
                    borrow_obligation_liquidity::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn repay_obligation_liquidity_positions() {
        let r = reserve_accounts(10);
        let ix = instruction::repay_obligation_liquidity(
            &r,
            &KEYS.obligation,
            &KEYS.source,
            &KEYS.user,
            1,
        );
        assert_positions(
            &ix,
            &[
                (repay_obligation_liquidity::SOURCE_LIQUIDITY, KEYS.source),
                (
                    repay_obligation_liquidity::LIQUIDITY_SUPPLY,
                    r.liquidity_supply,
                ),
                (repay_obligation_liquidity::RESERVE, r.reserve),
                (repay_obligation_liquidity::OBLIGATION, KEYS.obligation),
                (repay_obligation_liquidity::MARKET, r.lending_market),
                (
                    repay_obligation_liquidity::USER_TRANSFER_AUTHORITY,
                    KEYS.user,
                ),
                (
                    repay_obligation_liquidity::TOKEN_PROGRAM,
                    braid_program_token::ID,
                ),
            ],
        );
    }

    #[test]
    fn liquidate_obligation_positions() {
        let repay = reserve_accounts(10);
        let withdraw = reserve_accounts(20);
        let ix = instruction::liquidate_obligation(
            &repay,
            &withdraw,
            &KEYS.obligation,
            &KEYS.source,
            &KEYS.destination,
            &KEYS.user,
            1,
        );
        assert_positions(
            &ix,
            &[
                (liquidate_obligation::SOURCE_LIQUIDITY, KEYS.source),
                (
                    liquidate_obligation::DESTINATION_COLLATERAL,
                    KEYS.destination,
                ),
                (liquidate_obligation::REPAY_RESERVE, repay.reserve),
                (
                    liquidate_obligation::REPAY_LIQUIDITY_SUPPLY,
                    repay.liquidity_supply,
                ),
                (liquidate_obligation::WITHDRAW_RESERVE, withdraw.reserve),
                (
                    liquidate_obligation::WITHDRAW_COLLATERAL_SUPPLY,
                    withdraw.collateral_supply,
                ),
                (liquidate_obligation::OBLIGATION, KEYS.obligation),
                (liquidate_obligation::MARKET, repay.lending_market),
                (liquidate_obligation::MARKET_AUTHORITY, authority(&repay)),
                (liquidate_obligation::USER_TRANSFER_AUTHORITY, KEYS.user),
                (liquidate_obligation::TOKEN_PROGRAM, braid_program_token::ID),
            ],
        );
    }
}
