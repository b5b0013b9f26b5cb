//! The System program: Solana's checks, in Solana's order, over Braid's program interface.

use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::pda::create_with_seed;
use braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{InstructionError, Pubkey};

use crate::instruction::SystemInstruction;
use crate::{ID, SystemError};

/// Compute units every System instruction costs (Solana's figure for the builtin).
pub const SYSTEM_INSTRUCTION_UNITS: u64 = 150;
/// Longest seed for `*WithSeed` addresses, in bytes.
pub const SEED_BYTES_MAX: usize = 32;
/// Largest encoded instruction the decoder will read, in bytes: nothing larger fits a packet.
const INSTRUCTION_BYTES_MAX: usize = 1232;

/// The System program.
pub struct SystemProgram;

impl Program for SystemProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "system"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        crate::error::SystemError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("SystemError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(SYSTEM_INSTRUCTION_UNITS)?;
        // Like Solana's `limited_deserialize`: bounded, trailing bytes allowed.
        let config = bincode::config::legacy().with_limit::<INSTRUCTION_BYTES_MAX>();
        let (instruction, _): (SystemInstruction, usize) =
            bincode::serde::decode_from_slice(data, config)
                .map_err(|_| InstructionError::InvalidInstructionData)?;
        match instruction {
            SystemInstruction::CreateAccount {
                lamports,
                space,
                owner,
            } => {
                let to = *ctx.key(1)?;
                let to_signed = ctx.is_signer(1)?;
                create_account(ctx, 0, 1, &to, lamports, space, &owner, to_signed)
            }
            SystemInstruction::CreateAccountWithSeed {
                base,
                seed,
                lamports,
                space,
                owner,
            } => {
                let to = *ctx.key(1)?;
                check_seed_address(&to, &base, &seed, &owner)?;
                let base_signed = signed_by(ctx, &base, &[0, 2])?;
                create_account(ctx, 0, 1, &to, lamports, space, &owner, base_signed)
            }
            SystemInstruction::Assign { owner } => {
                let signed = ctx.is_signer(0)?;
                assign(ctx, 0, &owner, signed)
            }
            SystemInstruction::AssignWithSeed { base, seed, owner } => {
                check_seed_address(ctx.key(0)?, &base, &seed, &owner)?;
                let signed = signed_by(ctx, &base, &[1])?;
                assign(ctx, 0, &owner, signed)
            }
            SystemInstruction::Transfer { lamports } => {
                let signed = ctx.is_signer(0)?;
                transfer(ctx, 0, 1, lamports, signed)
            }
            SystemInstruction::TransferWithSeed {
                lamports,
                from_seed,
                from_owner,
            } => {
                let base = *ctx.key(1)?;
                check_seed_address(ctx.key(0)?, &base, &from_seed, &from_owner)?;
                let signed = ctx.is_signer(1)?;
                ctx.key(2)?;
                transfer(ctx, 0, 2, lamports, signed)
            }
            SystemInstruction::Allocate { space } => {
                let signed = ctx.is_signer(0)?;
                allocate(ctx, 0, space, signed)
            }
            SystemInstruction::AllocateWithSeed {
                base,
                seed,
                space,
                owner,
            } => {
                check_seed_address(ctx.key(0)?, &base, &seed, &owner)?;
                let signed = signed_by(ctx, &base, &[1])?;
                allocate(ctx, 0, space, signed)?;
                assign(ctx, 0, &owner, signed)
            }
            SystemInstruction::AdvanceNonceAccount
            | SystemInstruction::WithdrawNonceAccount(_)
            | SystemInstruction::InitializeNonceAccount(_)
            | SystemInstruction::AuthorizeNonceAccount(_)
            | SystemInstruction::UpgradeNonceAccount => {
                Err(InstructionError::InvalidInstructionData)
            }
        }
    }
}

/// Whether `base` is one of the accounts at `positions` and signed.
fn signed_by(
    ctx: &InvokeContext<'_>,
    base: &Pubkey,
    positions: &[usize],
) -> Result<bool, InstructionError> {
    for &position in positions {
        if position < ctx.num_accounts() && ctx.key(position)? == base {
            return ctx.is_signer(position);
        }
    }
    Ok(false)
}

fn check_seed_address(
    address: &Pubkey,
    base: &Pubkey,
    seed: &str,
    owner: &Pubkey,
) -> Result<(), InstructionError> {
    if seed.len() > SEED_BYTES_MAX {
        return Err(SystemError::MaxSeedLengthExceeded.into());
    }
    let derived =
        create_with_seed(base, seed, owner).map_err(|_| SystemError::AddressWithSeedMismatch)?;
    if derived != *address {
        return Err(SystemError::AddressWithSeedMismatch.into());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // mirrors Solana's create_account; each argument is distinct
fn create_account(
    ctx: &mut InvokeContext<'_>,
    from: usize,
    to: usize,
    to_address: &Pubkey,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
    to_signed: bool,
) -> Result<(), InstructionError> {
    debug_assert_eq!(ctx.key(to)?, to_address);
    if ctx.account(to)?.lamports > 0 {
        return Err(SystemError::AccountAlreadyInUse.into());
    }
    allocate(ctx, to, space, to_signed)?;
    assign(ctx, to, owner, to_signed)?;
    let from_signed = ctx.is_signer(from)?;
    transfer(ctx, from, to, lamports, from_signed)
}

fn allocate(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    space: u64,
    signed: bool,
) -> Result<(), InstructionError> {
    if !signed {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let account = ctx.account(position)?;
    if !account.data.is_empty() || account.owner != ID {
        return Err(SystemError::AccountAlreadyInUse.into());
    }
    let space = usize::try_from(space)
        .ok()
        .filter(|&space| space <= ACCOUNT_DATA_BYTES_MAX)
        .ok_or(SystemError::InvalidAccountDataLength)?;
    ctx.account_mut(position)?.data = vec![0; space];
    Ok(())
}

fn assign(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    owner: &Pubkey,
    signed: bool,
) -> Result<(), InstructionError> {
    if ctx.account(position)?.owner == *owner {
        return Ok(());
    }
    if !signed {
        return Err(InstructionError::MissingRequiredSignature);
    }
    ctx.account_mut(position)?.owner = *owner;
    Ok(())
}

fn transfer(
    ctx: &mut InvokeContext<'_>,
    from: usize,
    to: usize,
    lamports: u64,
    signed: bool,
) -> Result<(), InstructionError> {
    if !signed {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let source = ctx.account(from)?;
    if !source.data.is_empty() {
        // Solana: "Transfer: `from` must not carry data".
        return Err(InstructionError::InvalidArgument);
    }
    if lamports > source.lamports {
        return Err(SystemError::ResultWithNegativeLamports.into());
    }
    ctx.key(to)?;
    ctx.transfer_lamports(from, to, lamports)
}
