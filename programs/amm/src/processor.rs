//! The program: [`AmmProgram`], checking accounts and moving tokens through SPL Token.
//!
//! Each handler checks, before any token moves, that every account is the one the pool names
//! (vaults, LP mint, fee account, authority, token program) and that the pool account is the
//! AMM's and initialized; then it computes the amounts with [`crate::curve`] from the vault
//! balances and moves tokens with cross-program calls. User-side transfers and burns are plain
//! calls, so only the user's own signature can authorize them; vault-side transfers and LP
//! mints are signed with the pool authority's seeds. The token program checks what it owns
//! (a user account's mint matches the vault's, the user signed, balances suffice), so those
//! failures carry token error codes.
//!
//! Trades read only what they need: the pool state (one borsh decode, no allocation), and
//! the `amount` field of each vault (and the LP `supply` when a protocol fee is minted) at
//! its fixed offset in SPL's layout, with no full unpack. A vault's other fields were checked
//! at initialization and can never change: its owner is the pool authority, which signs only
//! transfers out of it.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_program_token::state::{ACCOUNT_AMOUNT_OFFSET, MINT_SUPPLY_OFFSET};
use braid_program_token::{ACCOUNT_LEN, MINT_LEN, Mint, TokenAccount};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{InstructionError, Pubkey};

use crate::curve::{self, INITIAL_SWAP_POOL_AMOUNT};
use crate::instruction::{AUTHORITY_SEED, AmmInstruction, pool_authority};
use crate::state::{Fees, POOL_VERSION, Pool};
use crate::{AmmError, ID};

/// Compute units charged for every instruction before it is decoded, so malformed data is
/// not free.
pub const DECODE_UNITS: u64 = 200;
/// Compute units for `InitializePool`'s own work: four unpacks and a program-address search
/// (cross-program calls are charged separately by the runtime and the token program).
pub const INITIALIZE_POOL_UNITS: u64 = 5_000;
/// Compute units for a swap's own work: the pool decode, key checks and the curve.
pub const SWAP_UNITS: u64 = 1_500;
/// Compute units for a deposit's own work.
pub const DEPOSIT_ALL_UNITS: u64 = 1_500;
/// Compute units for a withdrawal's own work.
pub const WITHDRAW_ALL_UNITS: u64 = 1_500;

/// Account positions of `InitializePool`.
pub mod initialize_pool {
    /// The pool state account.
    pub const POOL: usize = 0;
    /// The pool's program-derived authority.
    pub const AUTHORITY: usize = 1;
    /// The pool's vault of token A.
    pub const VAULT_A: usize = 2;
    /// The pool's vault of token B.
    pub const VAULT_B: usize = 3;
    /// The LP token mint.
    pub const POOL_MINT: usize = 4;
    /// The LP token account that receives protocol fees.
    pub const FEE_ACCOUNT: usize = 5;
    /// The LP token account that receives the initial LP tokens.
    pub const DESTINATION: usize = 6;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 7;
}

/// Account positions of `Swap`.
pub mod swap {
    /// The pool state account.
    pub const POOL: usize = 0;
    /// The pool's program-derived authority.
    pub const AUTHORITY: usize = 1;
    /// The user, who signs for their token accounts.
    pub const USER: usize = 2;
    /// The user's token account paying in.
    pub const SOURCE: usize = 3;
    /// The vault receiving the input token.
    pub const SOURCE_VAULT: usize = 4;
    /// The vault paying out.
    pub const DESTINATION_VAULT: usize = 5;
    /// The user's token account receiving the output.
    pub const DESTINATION: usize = 6;
    /// The LP token mint.
    pub const POOL_MINT: usize = 7;
    /// The LP token account that receives protocol fees.
    pub const FEE_ACCOUNT: usize = 8;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 9;
}

/// Account positions of `DepositAll`.
pub mod deposit_all {
    /// The pool state account.
    pub const POOL: usize = 0;
    /// The pool's program-derived authority.
    pub const AUTHORITY: usize = 1;
    /// The user, who signs for their token accounts.
    pub const USER: usize = 2;
    /// The user's token A account paying in.
    pub const SOURCE_A: usize = 3;
    /// The user's token B account paying in.
    pub const SOURCE_B: usize = 4;
    /// The pool's vault of token A.
    pub const VAULT_A: usize = 5;
    /// The pool's vault of token B.
    pub const VAULT_B: usize = 6;
    /// The LP token mint.
    pub const POOL_MINT: usize = 7;
    /// The user's LP token account receiving LP tokens.
    pub const DESTINATION: usize = 8;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 9;
}

/// Account positions of `WithdrawAll`.
pub mod withdraw_all {
    /// The pool state account.
    pub const POOL: usize = 0;
    /// The pool's program-derived authority.
    pub const AUTHORITY: usize = 1;
    /// The user, who signs for their token accounts.
    pub const USER: usize = 2;
    /// The LP token mint.
    pub const POOL_MINT: usize = 3;
    /// The user's LP token account burning LP tokens.
    pub const SOURCE: usize = 4;
    /// The pool's vault of token A.
    pub const VAULT_A: usize = 5;
    /// The pool's vault of token B.
    pub const VAULT_B: usize = 6;
    /// The user's token A account receiving.
    pub const DESTINATION_A: usize = 7;
    /// The user's token B account receiving.
    pub const DESTINATION_B: usize = 8;
    /// SPL Token.
    pub const TOKEN_PROGRAM: usize = 9;
}

/// The constant-product AMM. Register it (and the token program) with a runtime to use it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AmmProgram;

impl Program for AmmProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "amm"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        crate::error::AmmError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("AmmError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(DECODE_UNITS)?;
        let instruction = AmmInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        match instruction {
            AmmInstruction::InitializePool { fees } => initialize_pool(ctx, fees),
            AmmInstruction::Swap {
                amount_in,
                minimum_amount_out,
            } => swap(ctx, amount_in, minimum_amount_out),
            AmmInstruction::DepositAll {
                pool_tokens,
                maximum_token_a_amount,
                maximum_token_b_amount,
            } => deposit_all(
                ctx,
                pool_tokens,
                maximum_token_a_amount,
                maximum_token_b_amount,
            ),
            AmmInstruction::WithdrawAll {
                pool_tokens,
                minimum_token_a_amount,
                minimum_token_b_amount,
            } => withdraw_all(
                ctx,
                pool_tokens,
                minimum_token_a_amount,
                minimum_token_b_amount,
            ),
        }
    }
}

fn initialize_pool(ctx: &mut InvokeContext<'_>, fees: Fees) -> Result<(), InstructionError> {
    use initialize_pool::*;
    ctx.consume(INITIALIZE_POOL_UNITS)?;
    let pool_key = *ctx.key(POOL)?;
    let pool_account = ctx.account(POOL)?;
    if pool_account.owner != ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    let existing = Pool::try_from_slice(&pool_account.data)
        .map_err(|_| InstructionError::InvalidAccountData)?;
    if existing.version != 0 {
        return Err(AmmError::AlreadyInUse.into());
    }
    let (authority, authority_bump) = pool_authority(&pool_key);
    if *ctx.key(AUTHORITY)? != authority {
        return Err(AmmError::InvalidProgramAddress.into());
    }
    check_token_program(ctx, TOKEN_PROGRAM)?;

    let vault_a = unpack_token_account(ctx, VAULT_A)?;
    let vault_b = unpack_token_account(ctx, VAULT_B)?;
    let fee_account = unpack_token_account(ctx, FEE_ACCOUNT)?;
    let destination = unpack_token_account(ctx, DESTINATION)?;
    let pool_mint_key = *ctx.key(POOL_MINT)?;
    let pool_mint = unpack_mint(ctx, POOL_MINT)?;

    // SPL token-swap's checks, in its order.
    if vault_a.owner != authority || vault_b.owner != authority {
        return Err(AmmError::InvalidOwner.into());
    }
    if fee_account.owner == authority || destination.owner == authority {
        return Err(AmmError::InvalidOutputOwner.into());
    }
    if pool_mint.mint_authority != Some(authority) {
        return Err(AmmError::InvalidOwner.into());
    }
    if vault_a.mint == vault_b.mint {
        return Err(AmmError::RepeatedMint.into());
    }
    if vault_a.amount == 0 || vault_b.amount == 0 {
        return Err(AmmError::EmptySupply.into());
    }
    if vault_a.delegate.is_some() || vault_b.delegate.is_some() {
        return Err(AmmError::InvalidDelegate.into());
    }
    if vault_a.close_authority.is_some() || vault_b.close_authority.is_some() {
        return Err(AmmError::InvalidCloseAuthority.into());
    }
    if pool_mint.supply != 0 {
        return Err(AmmError::InvalidSupply.into());
    }
    if pool_mint.freeze_authority.is_some() {
        return Err(AmmError::InvalidFreezeAuthority.into());
    }
    if fee_account.mint != pool_mint_key {
        return Err(AmmError::IncorrectPoolMint.into());
    }
    fees.validate()?;

    let pool = Pool {
        version: POOL_VERSION,
        authority_bump,
        authority,
        token_a_vault: *ctx.key(VAULT_A)?,
        token_b_vault: *ctx.key(VAULT_B)?,
        token_a_mint: vault_a.mint,
        token_b_mint: vault_b.mint,
        pool_mint: pool_mint_key,
        fee_account: *ctx.key(FEE_ACCOUNT)?,
        fees,
    };
    let destination_key = *ctx.key(DESTINATION)?;
    let mint = braid_program_token::instruction::mint_to(
        &pool_mint_key,
        &destination_key,
        &authority,
        INITIAL_SWAP_POOL_AMOUNT,
    );
    invoke_as_authority(ctx, &mint, &pool_key, authority_bump)?;

    let account = ctx.account_mut(POOL)?;
    pool.serialize(&mut account.data.as_mut_slice())
        .map_err(|_| InstructionError::AccountDataTooSmall)?;
    ctx.log(format_args!(
        "initialized pool: reserves {} / {}, LP supply {}",
        vault_a.amount, vault_b.amount, INITIAL_SWAP_POOL_AMOUNT
    ));
    Ok(())
}

fn swap(
    ctx: &mut InvokeContext<'_>,
    amount_in: u64,
    minimum_amount_out: u64,
) -> Result<(), InstructionError> {
    use swap::*;
    ctx.consume(SWAP_UNITS)?;
    let (pool_key, pool) = load_pool(ctx, POOL, AUTHORITY, USER, TOKEN_PROGRAM)?;
    let source_vault = *ctx.key(SOURCE_VAULT)?;
    let destination_vault = *ctx.key(DESTINATION_VAULT)?;
    let a_to_b = source_vault == pool.token_a_vault && destination_vault == pool.token_b_vault;
    let b_to_a = source_vault == pool.token_b_vault && destination_vault == pool.token_a_vault;
    if !(a_to_b || b_to_a) {
        return Err(if source_vault == destination_vault {
            AmmError::InvalidInput
        } else {
            AmmError::IncorrectSwapAccount
        }
        .into());
    }
    let source = *ctx.key(SOURCE)?;
    let destination = *ctx.key(DESTINATION)?;
    if source == source_vault || destination == destination_vault {
        return Err(AmmError::InvalidInput.into());
    }
    if *ctx.key(POOL_MINT)? != pool.pool_mint {
        return Err(AmmError::IncorrectPoolMint.into());
    }
    if *ctx.key(FEE_ACCOUNT)? != pool.fee_account {
        return Err(AmmError::IncorrectFeeAccount.into());
    }

    let source_reserve = vault_amount(ctx, SOURCE_VAULT)?;
    let destination_reserve = vault_amount(ctx, DESTINATION_VAULT)?;
    let result = curve::swap(
        amount_in,
        minimum_amount_out,
        source_reserve,
        destination_reserve,
        &pool.fees,
    )?;
    ctx.log(format_args!(
        "swap: in {} out {}",
        result.amount_in, result.amount_out
    ));

    let user = *ctx.key(USER)?;
    let pay =
        braid_program_token::instruction::transfer(&source, &source_vault, &user, result.amount_in);
    ctx.invoke(&pay)?;
    if result.protocol_fee > 0 {
        let supply = mint_supply(ctx, POOL_MINT)?;
        let fee_tokens = curve::protocol_fee_pool_tokens(
            result.protocol_fee,
            result.new_source_reserve,
            supply,
        )?;
        if fee_tokens > 0 {
            let mint = braid_program_token::instruction::mint_to(
                &pool.pool_mint,
                &pool.fee_account,
                &pool.authority,
                fee_tokens,
            );
            invoke_as_authority(ctx, &mint, &pool_key, pool.authority_bump)?;
        }
    }
    let receive = braid_program_token::instruction::transfer(
        &destination_vault,
        &destination,
        &pool.authority,
        result.amount_out,
    );
    invoke_as_authority(ctx, &receive, &pool_key, pool.authority_bump)
}

fn deposit_all(
    ctx: &mut InvokeContext<'_>,
    pool_tokens: u64,
    maximum_token_a_amount: u64,
    maximum_token_b_amount: u64,
) -> Result<(), InstructionError> {
    use deposit_all::*;
    ctx.consume(DEPOSIT_ALL_UNITS)?;
    let (pool_key, pool) = load_pool(ctx, POOL, AUTHORITY, USER, TOKEN_PROGRAM)?;
    check_vaults(ctx, &pool, VAULT_A, VAULT_B)?;
    let source_a = *ctx.key(SOURCE_A)?;
    let source_b = *ctx.key(SOURCE_B)?;
    if source_a == pool.token_a_vault || source_b == pool.token_b_vault {
        return Err(AmmError::InvalidInput.into());
    }
    if *ctx.key(POOL_MINT)? != pool.pool_mint {
        return Err(AmmError::IncorrectPoolMint.into());
    }

    let deposit = curve::deposit_all(
        pool_tokens,
        maximum_token_a_amount,
        maximum_token_b_amount,
        mint_supply(ctx, POOL_MINT)?,
        vault_amount(ctx, VAULT_A)?,
        vault_amount(ctx, VAULT_B)?,
    )?;
    ctx.log(format_args!(
        "deposit: {} A + {} B for {} LP",
        deposit.token_a_amount, deposit.token_b_amount, deposit.pool_tokens
    ));

    let user = *ctx.key(USER)?;
    let destination = *ctx.key(DESTINATION)?;
    let pay_a = braid_program_token::instruction::transfer(
        &source_a,
        &pool.token_a_vault,
        &user,
        deposit.token_a_amount,
    );
    ctx.invoke(&pay_a)?;
    let pay_b = braid_program_token::instruction::transfer(
        &source_b,
        &pool.token_b_vault,
        &user,
        deposit.token_b_amount,
    );
    ctx.invoke(&pay_b)?;
    let mint = braid_program_token::instruction::mint_to(
        &pool.pool_mint,
        &destination,
        &pool.authority,
        deposit.pool_tokens,
    );
    invoke_as_authority(ctx, &mint, &pool_key, pool.authority_bump)
}

fn withdraw_all(
    ctx: &mut InvokeContext<'_>,
    pool_tokens: u64,
    minimum_token_a_amount: u64,
    minimum_token_b_amount: u64,
) -> Result<(), InstructionError> {
    use withdraw_all::*;
    ctx.consume(WITHDRAW_ALL_UNITS)?;
    let (pool_key, pool) = load_pool(ctx, POOL, AUTHORITY, USER, TOKEN_PROGRAM)?;
    check_vaults(ctx, &pool, VAULT_A, VAULT_B)?;
    let destination_a = *ctx.key(DESTINATION_A)?;
    let destination_b = *ctx.key(DESTINATION_B)?;
    if destination_a == pool.token_a_vault || destination_b == pool.token_b_vault {
        return Err(AmmError::InvalidInput.into());
    }
    if *ctx.key(POOL_MINT)? != pool.pool_mint {
        return Err(AmmError::IncorrectPoolMint.into());
    }

    let withdrawal = curve::withdraw_all(
        pool_tokens,
        minimum_token_a_amount,
        minimum_token_b_amount,
        mint_supply(ctx, POOL_MINT)?,
        vault_amount(ctx, VAULT_A)?,
        vault_amount(ctx, VAULT_B)?,
    )?;
    ctx.log(format_args!(
        "withdraw: {} LP for {} A + {} B",
        withdrawal.pool_tokens, withdrawal.token_a_amount, withdrawal.token_b_amount
    ));

    let user = *ctx.key(USER)?;
    let source = *ctx.key(SOURCE)?;
    let burn = braid_program_token::instruction::burn(
        &source,
        &pool.pool_mint,
        &user,
        withdrawal.pool_tokens,
    );
    ctx.invoke(&burn)?;
    // A side with an empty reserve pays nothing; skip its call rather than move zero.
    if withdrawal.token_a_amount > 0 {
        let pay_a = braid_program_token::instruction::transfer(
            &pool.token_a_vault,
            &destination_a,
            &pool.authority,
            withdrawal.token_a_amount,
        );
        invoke_as_authority(ctx, &pay_a, &pool_key, pool.authority_bump)?;
    }
    if withdrawal.token_b_amount > 0 {
        let pay_b = braid_program_token::instruction::transfer(
            &pool.token_b_vault,
            &destination_b,
            &pool.authority,
            withdrawal.token_b_amount,
        );
        invoke_as_authority(ctx, &pay_b, &pool_key, pool.authority_bump)?;
    }
    Ok(())
}

/// Decodes an initialized pool at `pool`, and checks the checks every trade shares: the
/// authority account is the pool's, the user signed, the token program is SPL Token.
fn load_pool(
    ctx: &InvokeContext<'_>,
    pool: usize,
    authority: usize,
    user: usize,
    token_program: usize,
) -> Result<(Pubkey, Pool), InstructionError> {
    let account = ctx.account(pool)?;
    if account.owner != ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    let state =
        Pool::try_from_slice(&account.data).map_err(|_| InstructionError::InvalidAccountData)?;
    if !state.is_initialized() {
        return Err(AmmError::Uninitialized.into());
    }
    if *ctx.key(authority)? != state.authority {
        return Err(AmmError::InvalidProgramAddress.into());
    }
    // The token program would refuse the user's transfer anyway; failing here is cheaper
    // and names the real problem.
    if !ctx.is_signer(user)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    check_token_program(ctx, token_program)?;
    Ok((*ctx.key(pool)?, state))
}

fn check_vaults(
    ctx: &InvokeContext<'_>,
    pool: &Pool,
    vault_a: usize,
    vault_b: usize,
) -> Result<(), InstructionError> {
    if *ctx.key(vault_a)? != pool.token_a_vault || *ctx.key(vault_b)? != pool.token_b_vault {
        return Err(AmmError::IncorrectSwapAccount.into());
    }
    Ok(())
}

fn check_token_program(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if *ctx.key(position)? != braid_program_token::ID {
        return Err(AmmError::IncorrectTokenProgramId.into());
    }
    Ok(())
}

/// Calls the token program signed by the pool authority.
fn invoke_as_authority(
    ctx: &mut InvokeContext<'_>,
    instruction: &braid_runtime::Instruction,
    pool: &Pubkey,
    bump: u8,
) -> Result<(), InstructionError> {
    let bump = [bump];
    ctx.invoke_signed(instruction, &[&[AUTHORITY_SEED, pool.as_ref(), &bump]])
}

/// The `u64` at `offset` in the data of a token-program-owned account of `len` bytes.
fn read_token_u64(
    ctx: &InvokeContext<'_>,
    position: usize,
    len: usize,
    offset: usize,
) -> Result<u64, InstructionError> {
    let account = ctx.account(position)?;
    if account.owner != braid_program_token::ID {
        return Err(AmmError::IncorrectTokenProgramId.into());
    }
    if account.data.len() != len {
        return Err(InstructionError::InvalidAccountData);
    }
    let bytes = account
        .data
        .get(offset..)
        .and_then(|rest| rest.first_chunk::<8>())
        .ok_or(InstructionError::InvalidAccountData)?;
    Ok(u64::from_le_bytes(*bytes))
}

/// A vault's balance: the pool's reserve of that token.
fn vault_amount(ctx: &InvokeContext<'_>, position: usize) -> Result<u64, InstructionError> {
    read_token_u64(ctx, position, ACCOUNT_LEN, ACCOUNT_AMOUNT_OFFSET)
}

/// The LP mint's supply.
fn mint_supply(ctx: &InvokeContext<'_>, position: usize) -> Result<u64, InstructionError> {
    read_token_u64(ctx, position, MINT_LEN, MINT_SUPPLY_OFFSET)
}

fn unpack_token_account(
    ctx: &InvokeContext<'_>,
    position: usize,
) -> Result<TokenAccount, InstructionError> {
    let account = ctx.account(position)?;
    if account.owner != braid_program_token::ID {
        return Err(AmmError::IncorrectTokenProgramId.into());
    }
    Ok(TokenAccount::unpack(&account.data)?)
}

fn unpack_mint(ctx: &InvokeContext<'_>, position: usize) -> Result<Mint, InstructionError> {
    let account = ctx.account(position)?;
    if account.owner != braid_program_token::ID {
        return Err(AmmError::IncorrectTokenProgramId.into());
    }
    Ok(Mint::unpack(&account.data)?)
}
