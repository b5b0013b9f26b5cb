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
use braid_runtime::program::Program;
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

/// The lending program.
pub struct LendingProgram;

impl Program for LendingProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "lending"
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
    ctx.consume(INIT_LENDING_MARKET_UNITS)?;
    let market: LendingMarket = load(ctx, 0, LENDING_MARKET_LEN)?;
    if market.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    check_signer(ctx, 1)?;
    let market_key = key(ctx, 0)?;
    let market = LendingMarket {
        version: PROGRAM_VERSION,
        bump_seed: market_authority(&market_key).1,
        owner: key(ctx, 1)?,
        quote_currency,
    };
    store(ctx, 0, &market)
}

fn init_reserve(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
    config: ReserveConfig,
) -> Result<(), InstructionError> {
    ctx.consume(INIT_RESERVE_UNITS)?;
    let (market_key, market) = load_market(ctx, 8)?;
    check_signer(ctx, 10)?;
    if key(ctx, 10)? != market.owner {
        return Err(LendingError::InvalidMarketOwner.into());
    }
    check_authority(ctx, 9, &market_key, &market)?;
    check_signer(ctx, 11)?;
    check_token_program(ctx, 12)?;
    let existing: Reserve = load(ctx, 2, RESERVE_LEN)?;
    if existing.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    config.validate()?;
    let authority = key(ctx, 9)?;
    let liquidity_mint_key = key(ctx, 3)?;
    let liquidity_mint = mint(ctx, 3)?;
    let collateral_mint_key = key(ctx, 5)?;
    let collateral_mint = mint(ctx, 5)?;
    let vault = token_account(ctx, 4)?;
    let collateral_supply = token_account(ctx, 6)?;
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
    let vault_key = key(ctx, 4)?;
    let collateral_supply_key = key(ctx, 6)?;
    check_not_key(ctx, 0, &vault_key)?;
    check_not_key(ctx, 1, &collateral_supply_key)?;
    let price = oracle_price(ctx, 7, config.max_oracle_age_slots)?;
    let liquidity = ReserveLiquidity {
        mint: liquidity_mint_key,
        mint_decimals: liquidity_mint.decimals,
        supply: vault_key,
        oracle: key(ctx, 7)?,
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
    store(ctx, 2, &reserve)?;
    let seeds = AuthoritySeeds::new(market_key, &market);
    transfer(ctx, (0, 4, 11), liquidity_amount, None)?;
    let mint_to = braid_program_token::instruction::mint_to(
        &collateral_mint_key,
        &key(ctx, 1)?,
        &authority,
        minted,
    );
    token_call(ctx, &mint_to, Some(&seeds))
}

fn refresh_reserve(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    ctx.consume(REFRESH_RESERVE_UNITS)?;
    let mut reserve: Reserve = load(ctx, 0, RESERVE_LEN)?;
    if reserve.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    if key(ctx, 1)? != reserve.liquidity.oracle {
        return Err(LendingError::InvalidOracle.into());
    }
    let price = oracle_price(ctx, 1, reserve.config.max_oracle_age_slots)?;
    reserve.refresh(ctx.clock().slot, price)?;
    store(ctx, 0, &reserve)
}

fn deposit_reserve_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(RESERVE_LIQUIDITY_UNITS)?;
    let (market_key, market) = load_market(ctx, 5)?;
    let (_, mut reserve) = load_reserve(ctx, 2, &market_key)?;
    check_authority(ctx, 6, &market_key, &market)?;
    check_key(ctx, 3, &reserve.liquidity.supply)?;
    check_key(ctx, 4, &reserve.collateral.mint)?;
    check_not_key(ctx, 0, &reserve.liquidity.supply)?;
    check_signer(ctx, 7)?;
    check_token_program(ctx, 8)?;
    let collateral = reserve.deposit_liquidity(ctx.clock().slot, liquidity_amount)?;
    store(ctx, 2, &reserve)?;
    transfer(ctx, (0, 3, 7), liquidity_amount, None)?;
    let mint_to = braid_program_token::instruction::mint_to(
        &key(ctx, 4)?,
        &key(ctx, 1)?,
        &key(ctx, 6)?,
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
    ctx.consume(RESERVE_LIQUIDITY_UNITS)?;
    let (market_key, market) = load_market(ctx, 5)?;
    let (_, mut reserve) = load_reserve(ctx, 2, &market_key)?;
    check_authority(ctx, 6, &market_key, &market)?;
    check_key(ctx, 3, &reserve.collateral.mint)?;
    check_key(ctx, 4, &reserve.liquidity.supply)?;
    check_not_key(ctx, 1, &reserve.liquidity.supply)?;
    check_signer(ctx, 7)?;
    check_token_program(ctx, 8)?;
    let liquidity = reserve.redeem_collateral(ctx.clock().slot, collateral_amount)?;
    store(ctx, 2, &reserve)?;
    let burn = braid_program_token::instruction::burn(
        &key(ctx, 0)?,
        &key(ctx, 3)?,
        &key(ctx, 7)?,
        collateral_amount,
    );
    token_call(ctx, &burn, None)?;
    transfer(
        ctx,
        (4, 1, 6),
        liquidity,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn init_obligation(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    ctx.consume(INIT_OBLIGATION_UNITS)?;
    let existing: Obligation = load(ctx, 0, OBLIGATION_LEN)?;
    if existing.version != 0 {
        return Err(LendingError::AlreadyInitialized.into());
    }
    let (market_key, _) = load_market(ctx, 1)?;
    check_signer(ctx, 2)?;
    let obligation = Obligation::new(ctx.clock().slot, market_key, key(ctx, 2)?);
    store(ctx, 0, &obligation)
}

fn refresh_obligation(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    ctx.consume(REFRESH_OBLIGATION_UNITS)?;
    let obligation: Obligation = load(ctx, 0, OBLIGATION_LEN)?;
    if obligation.version != PROGRAM_VERSION {
        return Err(LendingError::Uninitialized.into());
    }
    let count = ctx.num_accounts().saturating_sub(1);
    let units = REFRESH_OBLIGATION_UNITS_PER_RESERVE
        .saturating_mul(u64::try_from(count).unwrap_or(u64::MAX));
    ctx.consume(units)?;
    let market_key = obligation.lending_market;
    let mut reserves = Vec::with_capacity(count);
    for position in 1..ctx.num_accounts() {
        reserves.push(load_reserve(ctx, position, &market_key)?);
    }
    let views: Vec<(Pubkey, &Reserve)> = reserves
        .iter()
        .map(|(key, reserve)| (*key, reserve))
        .collect();
    let mut obligation = obligation;
    obligation.refresh(ctx.clock().slot, &views)?;
    store(ctx, 0, &obligation)
}

fn deposit_obligation_collateral(
    ctx: &mut InvokeContext<'_>,
    collateral_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, _) = load_market(ctx, 4)?;
    let (reserve_key, reserve) = load_reserve(ctx, 2, &market_key)?;
    let mut obligation = load_obligation(ctx, 3, &market_key)?;
    check_key(ctx, 1, &reserve.collateral.supply)?;
    check_not_key(ctx, 0, &reserve.collateral.supply)?;
    check_obligation_owner(ctx, 5, &obligation)?;
    check_signer(ctx, 6)?;
    check_token_program(ctx, 7)?;
    obligation.deposit_collateral(ctx.clock().slot, reserve_key, &reserve, collateral_amount)?;
    store(ctx, 3, &obligation)?;
    transfer(ctx, (0, 1, 6), collateral_amount, None)
}

fn withdraw_obligation_collateral(
    ctx: &mut InvokeContext<'_>,
    collateral_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, market) = load_market(ctx, 4)?;
    let (reserve_key, reserve) = load_reserve(ctx, 2, &market_key)?;
    let mut obligation = load_obligation(ctx, 3, &market_key)?;
    check_authority(ctx, 5, &market_key, &market)?;
    check_key(ctx, 0, &reserve.collateral.supply)?;
    check_not_key(ctx, 1, &reserve.collateral.supply)?;
    check_obligation_owner(ctx, 6, &obligation)?;
    check_token_program(ctx, 7)?;
    obligation.withdraw_collateral(ctx.clock().slot, reserve_key, &reserve, collateral_amount)?;
    store(ctx, 3, &obligation)?;
    transfer(
        ctx,
        (0, 1, 5),
        collateral_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn borrow_obligation_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, market) = load_market(ctx, 4)?;
    let (reserve_key, mut reserve) = load_reserve(ctx, 2, &market_key)?;
    let mut obligation = load_obligation(ctx, 3, &market_key)?;
    check_authority(ctx, 5, &market_key, &market)?;
    check_key(ctx, 0, &reserve.liquidity.supply)?;
    check_not_key(ctx, 1, &reserve.liquidity.supply)?;
    check_obligation_owner(ctx, 6, &obligation)?;
    check_token_program(ctx, 7)?;
    obligation.borrow(
        ctx.clock().slot,
        reserve_key,
        &mut reserve,
        liquidity_amount,
    )?;
    store(ctx, 2, &reserve)?;
    store(ctx, 3, &obligation)?;
    transfer(
        ctx,
        (0, 1, 5),
        liquidity_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}

fn repay_obligation_liquidity(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(OBLIGATION_UNITS)?;
    let (market_key, _) = load_market(ctx, 4)?;
    let (reserve_key, mut reserve) = load_reserve(ctx, 2, &market_key)?;
    let mut obligation = load_obligation(ctx, 3, &market_key)?;
    check_key(ctx, 1, &reserve.liquidity.supply)?;
    check_not_key(ctx, 0, &reserve.liquidity.supply)?;
    check_signer(ctx, 5)?;
    check_token_program(ctx, 6)?;
    let repay = obligation.repay(
        ctx.clock().slot,
        reserve_key,
        &mut reserve,
        liquidity_amount,
    )?;
    store(ctx, 2, &reserve)?;
    store(ctx, 3, &obligation)?;
    ctx.log(format_args!("repaid {repay}"));
    transfer(ctx, (0, 1, 5), repay, None)
}

fn liquidate_obligation(
    ctx: &mut InvokeContext<'_>,
    liquidity_amount: u64,
) -> Result<(), InstructionError> {
    ctx.consume(LIQUIDATE_UNITS)?;
    let (market_key, market) = load_market(ctx, 7)?;
    let (repay_key, mut repay_reserve) = load_reserve(ctx, 2, &market_key)?;
    let (withdraw_key, withdraw_reserve) = load_reserve(ctx, 4, &market_key)?;
    let mut obligation = load_obligation(ctx, 6, &market_key)?;
    check_authority(ctx, 8, &market_key, &market)?;
    check_key(ctx, 3, &repay_reserve.liquidity.supply)?;
    check_key(ctx, 5, &withdraw_reserve.collateral.supply)?;
    check_not_key(ctx, 0, &repay_reserve.liquidity.supply)?;
    check_not_key(ctx, 1, &withdraw_reserve.collateral.supply)?;
    check_signer(ctx, 9)?;
    check_token_program(ctx, 10)?;
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
    store(ctx, 2, &repay_reserve)?;
    store(ctx, 6, &obligation)?;
    ctx.log(format_args!(
        "liquidated: repaid {}, seized {} collateral",
        liquidation.repay_amount, liquidation.withdraw_amount
    ));
    transfer(ctx, (0, 3, 9), liquidation.repay_amount, None)?;
    transfer(
        ctx,
        (5, 1, 8),
        liquidation.withdraw_amount,
        Some(&AuthoritySeeds::new(market_key, &market)),
    )
}
