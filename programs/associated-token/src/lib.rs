//! Solana's Associated Token Account program, at Solana's id with Solana's instructions, so
//! that client helpers such as spl-token's `getOrCreateAssociatedTokenAccount` work
//! unchanged.
//!
//! A wallet's associated token account for a mint lives at the program-derived address of
//! `[wallet, token program, mint]`. Instruction data: empty or `0` is `Create`, `1` is
//! `CreateIdempotent`, `2` is `RecoverNested`.
//!
//! Create and CreateIdempotent take `[writable, signer] funding`, `[writable] associated
//! account`, `[] wallet`, `[] mint`, `[] system program`, `[] token program`. They create
//! the account rent-exempt (Solana's 2,039,280 lamports for 165 bytes), owned by the token
//! program, then mark its owner immutable and initialize it for the wallet, through calls to
//! the System and Token programs. CreateIdempotent succeeds without change when the account
//! already exists for that wallet and mint.
//!
//! RecoverNested takes `[writable] nested account`, `[] nested mint`, `[writable]
//! destination`, `[] owner account`, `[] owner mint`, `[writable, signer] wallet`, `[] token
//! program`: it moves the tokens from an associated account owned by another associated
//! account (a common mistake) to the wallet's own, and closes it.

use braid_program_token::{ACCOUNT_LEN, Mint, TokenAccount};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::pda::find_program_address;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{AccountMeta, Instruction, InstructionError, Pubkey, SYSTEM_PROGRAM_ID};

/// The program's id (Solana's).
pub const ID: Pubkey = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/// Lamports a token account needs to be rent-exempt on Solana: `(128 + 165) × 3480 × 2`.
pub const TOKEN_ACCOUNT_RENT_EXEMPT_LAMPORTS: u64 = 2_039_280;
/// Compute units each instruction costs, beyond the calls it makes.
pub const ASSOCIATED_TOKEN_INSTRUCTION_UNITS: u64 = 1_500;

/// The program's errors, reported as `InstructionError::Custom(code)` (Solana's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum AssociatedTokenError {
    /// The account exists but is not the wallet's token account for the mint.
    #[error("Associated token account owner does not match address derivation")]
    InvalidOwner = 0,
}

braid_runtime::custom_error_codes!(AssociatedTokenError { InvalidOwner });

/// Account positions of Create and CreateIdempotent.
pub mod create {
    /// `[writable, signer]` pays for the new account.
    pub const FUNDING: usize = 0;
    /// `[writable]` the associated token account.
    pub const ASSOCIATED: usize = 1;
    /// `[]` the wallet that will own the tokens.
    pub const WALLET: usize = 2;
    /// `[]` the mint.
    pub const MINT: usize = 3;
    /// `[]` the System program.
    pub const SYSTEM_PROGRAM: usize = 4;
    /// `[]` the Token program.
    pub const TOKEN_PROGRAM: usize = 5;
}

/// Account positions of RecoverNested.
pub mod recover_nested {
    /// `[writable]` the associated account owned by another associated account.
    pub const NESTED: usize = 0;
    /// `[]` its mint.
    pub const NESTED_MINT: usize = 1;
    /// `[writable]` the wallet's associated account for the nested mint.
    pub const DESTINATION: usize = 2;
    /// `[]` the associated account that owns the nested one.
    pub const OWNER_ACCOUNT: usize = 3;
    /// `[]` that account's mint.
    pub const OWNER_MINT: usize = 4;
    /// `[writable, signer]` the wallet.
    pub const WALLET: usize = 5;
    /// `[]` the Token program.
    pub const TOKEN_PROGRAM: usize = 6;
}

/// The associated token account of `wallet` for `mint`, and its bump seed.
pub fn associated_token_address(wallet: &Pubkey, mint: &Pubkey) -> (Pubkey, u8) {
    find_program_address(
        &[
            wallet.as_ref(),
            braid_program_token::ID.as_ref(),
            mint.as_ref(),
        ],
        &ID,
    )
}

fn create_instruction(funding: &Pubkey, wallet: &Pubkey, mint: &Pubkey, tag: u8) -> Instruction {
    let (associated, _) = associated_token_address(wallet, mint);
    Instruction {
        program_id: ID,
        accounts: vec![
            AccountMeta::new(*funding, true),
            AccountMeta::new(associated, false),
            AccountMeta::new_readonly(*wallet, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
        data: vec![tag],
    }
}

/// Builds `Create`: `funding` pays for `wallet`'s associated account for `mint`.
pub fn create(funding: &Pubkey, wallet: &Pubkey, mint: &Pubkey) -> Instruction {
    create_instruction(funding, wallet, mint, 0)
}

/// Builds `CreateIdempotent`.
pub fn create_idempotent(funding: &Pubkey, wallet: &Pubkey, mint: &Pubkey) -> Instruction {
    create_instruction(funding, wallet, mint, 1)
}

/// Builds `RecoverNested` for `wallet`: tokens of `nested_mint` held by the wallet's
/// associated account for `owner_mint` go to the wallet's associated account for
/// `nested_mint`.
pub fn recover_nested(wallet: &Pubkey, owner_mint: &Pubkey, nested_mint: &Pubkey) -> Instruction {
    let (owner_account, _) = associated_token_address(wallet, owner_mint);
    let (destination, _) = associated_token_address(wallet, nested_mint);
    let (nested, _) = associated_token_address(&owner_account, nested_mint);
    Instruction {
        program_id: ID,
        accounts: vec![
            AccountMeta::new(nested, false),
            AccountMeta::new_readonly(*nested_mint, false),
            AccountMeta::new(destination, false),
            AccountMeta::new_readonly(owner_account, false),
            AccountMeta::new_readonly(*owner_mint, false),
            AccountMeta::new(*wallet, true),
            AccountMeta::new_readonly(braid_program_token::ID, false),
        ],
        data: vec![2],
    }
}

/// The Associated Token Account program.
pub struct AssociatedTokenProgram;

impl Program for AssociatedTokenProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "associated-token"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        AssociatedTokenError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("AssociatedTokenError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(ASSOCIATED_TOKEN_INSTRUCTION_UNITS)?;
        match data {
            [] | [0] => create_account(ctx, false),
            [1] => create_account(ctx, true),
            [2] => recover(ctx),
            _ => Err(InstructionError::InvalidInstructionData),
        }
    }
}

fn check_token_program(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if *ctx.key(position)? != braid_program_token::ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    Ok(())
}

/// The token account at `position`, if the Token program owns it and it unpacks as an
/// initialized account.
fn token_account(
    ctx: &InvokeContext<'_>,
    position: usize,
) -> Result<Option<TokenAccount>, InstructionError> {
    let account = ctx.account(position)?;
    if account.owner != braid_program_token::ID {
        return Ok(None);
    }
    Ok(TokenAccount::unpack(&account.data).ok())
}

fn create_account(ctx: &mut InvokeContext<'_>, idempotent: bool) -> Result<(), InstructionError> {
    use create::*;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    if *ctx.key(SYSTEM_PROGRAM)? != SYSTEM_PROGRAM_ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    let (funding, associated, wallet, mint) = (
        *ctx.key(FUNDING)?,
        *ctx.key(ASSOCIATED)?,
        *ctx.key(WALLET)?,
        *ctx.key(MINT)?,
    );
    let (expected, bump) = associated_token_address(&wallet, &mint);
    if associated != expected {
        ctx.log(format_args!(
            "Error: Associated address does not match seed derivation"
        ));
        return Err(InstructionError::InvalidSeeds);
    }
    if idempotent && let Some(existing) = token_account(ctx, ASSOCIATED)? {
        if existing.owner != wallet {
            return Err(AssociatedTokenError::InvalidOwner.into());
        }
        if existing.mint != mint {
            return Err(InstructionError::InvalidAccountData);
        }
        return Ok(());
    }
    // As SPL: anything but an unowned address is refused before any call is made.
    if ctx.account(ASSOCIATED)?.owner != SYSTEM_PROGRAM_ID {
        return Err(InstructionError::IllegalOwner);
    }
    if ctx.account(MINT)?.owner != braid_program_token::ID {
        return Err(InstructionError::IllegalOwner);
    }
    braid_program_system::cpi::create_program_account(
        ctx,
        &funding,
        ASSOCIATED,
        TOKEN_ACCOUNT_RENT_EXEMPT_LAMPORTS,
        ACCOUNT_LEN as u64,
        &braid_program_token::ID,
        &[
            wallet.as_ref(),
            braid_program_token::ID.as_ref(),
            mint.as_ref(),
            &[bump],
        ],
    )?;
    ctx.invoke(&braid_program_token::instruction::initialize_immutable_owner(&associated))?;
    ctx.invoke(&braid_program_token::instruction::initialize_account3(
        &associated,
        &mint,
        &wallet,
    ))
}

fn recover(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use recover_nested::*;
    check_token_program(ctx, TOKEN_PROGRAM)?;
    let (nested, nested_mint, destination, owner_account, owner_mint, wallet) = (
        *ctx.key(NESTED)?,
        *ctx.key(NESTED_MINT)?,
        *ctx.key(DESTINATION)?,
        *ctx.key(OWNER_ACCOUNT)?,
        *ctx.key(OWNER_MINT)?,
        *ctx.key(WALLET)?,
    );
    if !ctx.is_signer(WALLET)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let (expected_owner, owner_bump) = associated_token_address(&wallet, &owner_mint);
    if owner_account != expected_owner {
        return Err(InstructionError::InvalidSeeds);
    }
    if destination != associated_token_address(&wallet, &nested_mint).0
        || nested != associated_token_address(&owner_account, &nested_mint).0
    {
        return Err(InstructionError::InvalidSeeds);
    }
    if ctx.account(OWNER_MINT)?.owner != braid_program_token::ID {
        return Err(InstructionError::IllegalOwner);
    }
    let owner_state = token_account(ctx, OWNER_ACCOUNT)?.ok_or(InstructionError::IllegalOwner)?;
    if owner_state.owner != wallet {
        return Err(AssociatedTokenError::InvalidOwner.into());
    }
    let nested_state = token_account(ctx, NESTED)?.ok_or(InstructionError::IllegalOwner)?;
    if nested_state.owner != owner_account {
        return Err(AssociatedTokenError::InvalidOwner.into());
    }
    let mint_account = ctx.account(NESTED_MINT)?;
    if mint_account.owner != braid_program_token::ID {
        return Err(InstructionError::IllegalOwner);
    }
    let decimals = Mint::unpack(&mint_account.data)
        .map_err(|_| InstructionError::InvalidAccountData)?
        .decimals;
    let seeds: &[&[u8]] = &[
        wallet.as_ref(),
        braid_program_token::ID.as_ref(),
        owner_mint.as_ref(),
        &[owner_bump],
    ];
    ctx.invoke_signed(
        &braid_program_token::instruction::transfer_checked(
            &nested,
            &nested_mint,
            &destination,
            &owner_account,
            nested_state.amount,
            decimals,
        ),
        &[seeds],
    )?;
    ctx.invoke_signed(
        &braid_program_token::instruction::close_account(&nested, &wallet, &owner_account),
        &[seeds],
    )
}
