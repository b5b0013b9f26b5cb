//! The program: [`TokenProgram`], SPL Token's checks in SPL's order, against an
//! [`InvokeContext`].
//!
//! Each handler reads the accounts it needs by position, decodes them, checks what SPL checks
//! in the order SPL checks it (so the first error reported is SPL's), and only then writes.
//! Ownership of the accounts it *writes* is left to the runtime, as on Solana: changing the
//! data or debiting the lamports of an account the token program does not own fails the
//! instruction with the runtime's error. Where SPL checks ownership itself — the mint in
//! `InitializeAccount`, both accounts of a self-transfer or a zero-amount transfer, mint and
//! account of a zero-amount mint or burn, the account in `SyncNative` — so does this program,
//! with [`InstructionError::IncorrectProgramId`].

use braid_runtime::balances::TokenAmount;
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{Account, InstructionError, Pubkey, SYSTEM_PROGRAM_ID};

use crate::instruction::{AuthorityType, TokenInstruction};
use crate::state::{
    ACCOUNT_LEN, AccountState, MINT_LEN, MULTISIG_IS_INITIALIZED_OFFSET, MULTISIG_LEN, Mint,
    TokenAccount,
};
use crate::{ID, INCINERATOR_ID, NATIVE_MINT_ID, RENT_SYSVAR_ID, TokenError};

/// Compute units charged for every token instruction, before it is decoded (so malformed
/// data costs the same). A flat figure in the range SPL Token's instructions cost on Solana
/// (about 2,000 to 5,000 units for the common ones); a cross-program call adds the runtime's
/// own invocation charge.
pub const TOKEN_INSTRUCTION_UNITS: u64 = 2_000;

/// SPL Token as a native program. Register it with a runtime (or the harness) to use it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenProgram;

impl Program for TokenProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "spl-token"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        crate::error::TokenError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("TokenError", &error))
    }

    fn token_balance(&self, account: &Account) -> Option<TokenAmount> {
        // Only an initialized 165-byte account holds tokens (a mint is 82 bytes).
        let state = TokenAccount::unpack(&account.data).ok()?;
        Some(TokenAmount {
            mint: state.mint,
            owner: state.owner,
            amount: state.amount,
        })
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(TOKEN_INSTRUCTION_UNITS)?;
        // SPL reports undecodable data as `TokenError::InvalidInstruction` (custom code 12);
        // Braid reports it as the runtime's generic `InvalidInstructionData`, like every other
        // program, so a client can tell malformed data from a failed check.
        let instruction =
            TokenInstruction::unpack(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        ctx.log(format_args!("Instruction: {}", instruction.name()));
        process_instruction(ctx, instruction)
    }
}

/// Runs one decoded instruction against `ctx`.
pub fn process_instruction(
    ctx: &mut InvokeContext<'_>,
    instruction: TokenInstruction,
) -> Result<(), InstructionError> {
    match instruction {
        TokenInstruction::InitializeMint {
            decimals,
            mint_authority,
            freeze_authority,
        } => initialize_mint(ctx, decimals, mint_authority, freeze_authority, true),
        TokenInstruction::InitializeMint2 {
            decimals,
            mint_authority,
            freeze_authority,
        } => initialize_mint(ctx, decimals, mint_authority, freeze_authority, false),
        TokenInstruction::InitializeAccount => initialize_account(ctx, None, true),
        TokenInstruction::InitializeAccount2 { owner } => {
            initialize_account(ctx, Some(owner), true)
        }
        TokenInstruction::InitializeAccount3 { owner } => {
            initialize_account(ctx, Some(owner), false)
        }
        TokenInstruction::Transfer { amount } => transfer(ctx, amount, None),
        TokenInstruction::TransferChecked { amount, decimals } => {
            transfer(ctx, amount, Some(decimals))
        }
        TokenInstruction::Approve { amount } => approve(ctx, amount, None),
        TokenInstruction::ApproveChecked { amount, decimals } => {
            approve(ctx, amount, Some(decimals))
        }
        TokenInstruction::Revoke => revoke(ctx),
        TokenInstruction::SetAuthority {
            authority_type,
            new_authority,
        } => set_authority(ctx, authority_type, new_authority),
        TokenInstruction::MintTo { amount } => mint_to(ctx, amount, None),
        TokenInstruction::MintToChecked { amount, decimals } => {
            mint_to(ctx, amount, Some(decimals))
        }
        TokenInstruction::Burn { amount } => burn(ctx, amount, None),
        TokenInstruction::BurnChecked { amount, decimals } => burn(ctx, amount, Some(decimals)),
        TokenInstruction::CloseAccount => close_account(ctx),
        TokenInstruction::FreezeAccount => toggle_freeze(ctx, true),
        TokenInstruction::ThawAccount => toggle_freeze(ctx, false),
        TokenInstruction::SyncNative => sync_native(ctx),
        TokenInstruction::InitializeImmutableOwner => initialize_immutable_owner(ctx),
        // Multisig accounts are not supported; the rest need return data, which Braid lacks.
        TokenInstruction::InitializeMultisig { .. }
        | TokenInstruction::InitializeMultisig2 { .. }
        | TokenInstruction::GetAccountDataSize
        | TokenInstruction::AmountToUiAmount { .. }
        | TokenInstruction::UiAmountToAmount { .. } => {
            Err(InstructionError::InvalidInstructionData)
        }
    }
}

/// Fails with `NotEnoughAccountKeys` unless the instruction lists at least `count` accounts
/// (SPL takes each account in turn and fails on the first missing one).
fn require_accounts(ctx: &InvokeContext<'_>, count: usize) -> Result<(), InstructionError> {
    if ctx.num_accounts() < count {
        return Err(InstructionError::NotEnoughAccountKeys);
    }
    Ok(())
}

fn check_account_owner(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if ctx.account(position)?.owner != *ctx.program_id() {
        return Err(InstructionError::IncorrectProgramId);
    }
    Ok(())
}

/// Solana's `Rent::from_account_info` checks the key; Braid has no rent, so there is nothing
/// to read from it and no rent-exemption check follows.
fn check_rent_sysvar(ctx: &InvokeContext<'_>, position: usize) -> Result<(), InstructionError> {
    if *ctx.key(position)? != RENT_SYSVAR_ID {
        return Err(InstructionError::InvalidArgument);
    }
    Ok(())
}

fn load_account(
    ctx: &InvokeContext<'_>,
    position: usize,
) -> Result<TokenAccount, InstructionError> {
    Ok(TokenAccount::unpack(&ctx.account(position)?.data)?)
}

fn load_mint(ctx: &InvokeContext<'_>, position: usize) -> Result<Mint, InstructionError> {
    Ok(Mint::unpack(&ctx.account(position)?.data)?)
}

fn store_account(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    account: &TokenAccount,
) -> Result<(), InstructionError> {
    Ok(account.pack_into_slice(&mut ctx.account_mut(position)?.data)?)
}

fn store_mint(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    mint: &Mint,
) -> Result<(), InstructionError> {
    Ok(mint.pack_into_slice(&mut ctx.account_mut(position)?.data)?)
}

/// SPL's `validate_owner`: the authority account must be `expected` and must have signed.
/// An SPL multisig in its place (a token-owned 355-byte account) is not supported.
fn validate_owner(
    ctx: &InvokeContext<'_>,
    expected: &Pubkey,
    position: usize,
) -> Result<(), InstructionError> {
    if ctx.key(position)? != expected {
        return Err(TokenError::OwnerMismatch.into());
    }
    let authority = ctx.account(position)?;
    if authority.owner == *ctx.program_id() && authority.data.len() == MULTISIG_LEN {
        // SPL would decode the multisig and count its signers. An uninitialized one fails as
        // in SPL; an initialized one (which Braid cannot create) is refused.
        return Err(match authority.data.get(MULTISIG_IS_INITIALIZED_OFFSET) {
            Some(0) => InstructionError::UninitializedAccount,
            _ => InstructionError::InvalidAccountData,
        });
    }
    if !ctx.is_signer(position)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    Ok(())
}

fn check_decimals(mint: &Mint, expected_decimals: Option<u8>) -> Result<(), InstructionError> {
    match expected_decimals {
        Some(decimals) if decimals != mint.decimals => Err(TokenError::MintDecimalsMismatch.into()),
        _ => Ok(()),
    }
}

/// Accounts: mint, [rent sysvar].
fn initialize_mint(
    ctx: &mut InvokeContext<'_>,
    decimals: u8,
    mint_authority: Pubkey,
    freeze_authority: Option<Pubkey>,
    rent_sysvar: bool,
) -> Result<(), InstructionError> {
    require_accounts(ctx, 1)?;
    if rent_sysvar {
        check_rent_sysvar(ctx, 1)?;
    }
    let mut mint = Mint::unpack_unchecked(&ctx.account(0)?.data)?;
    if mint.is_initialized {
        return Err(TokenError::AlreadyInUse.into());
    }
    // No rent-exemption check: Braid has no rent.
    mint.mint_authority = Some(mint_authority);
    mint.decimals = decimals;
    mint.is_initialized = true;
    mint.freeze_authority = freeze_authority;
    store_mint(ctx, 0, &mint)
}

/// Accounts: account, mint, [owner], [rent sysvar].
fn initialize_account(
    ctx: &mut InvokeContext<'_>,
    owner: Option<Pubkey>,
    rent_sysvar: bool,
) -> Result<(), InstructionError> {
    require_accounts(ctx, 2)?;
    let mut next = 2;
    let owner = match owner {
        Some(owner) => owner,
        None => {
            next = 3;
            *ctx.key(2)?
        }
    };
    if rent_sysvar {
        check_rent_sysvar(ctx, next)?;
    }
    let mut account = TokenAccount::unpack_unchecked(&ctx.account(0)?.data)?;
    if account.is_initialized() {
        return Err(TokenError::AlreadyInUse.into());
    }
    let mint_key = *ctx.key(1)?;
    if mint_key == NATIVE_MINT_ID {
        // Wrapped SOL accounts are not supported.
        return Err(TokenError::NativeNotSupported.into());
    }
    check_account_owner(ctx, 1)?;
    Mint::unpack(&ctx.account(1)?.data).map_err(|_| TokenError::InvalidMint)?;

    account.mint = mint_key;
    account.owner = owner;
    account.close_authority = None;
    account.delegate = None;
    account.delegated_amount = 0;
    account.state = AccountState::Initialized;
    account.is_native = None;
    account.amount = 0;
    store_account(ctx, 0, &account)
}

/// Accounts: source, [mint], destination, authority.
fn transfer(
    ctx: &mut InvokeContext<'_>,
    amount: u64,
    expected_decimals: Option<u8>,
) -> Result<(), InstructionError> {
    let (mint_position, destination_position, authority_position): (Option<usize>, usize, usize) =
        match expected_decimals {
            Some(_) => (Some(1), 2, 3),
            None => (None, 1, 2),
        };
    require_accounts(ctx, authority_position.saturating_add(1))?;
    let mut source = load_account(ctx, 0)?;
    let mut destination = load_account(ctx, destination_position)?;

    if source.is_frozen() || destination.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if source.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    if source.mint != destination.mint {
        return Err(TokenError::MintMismatch.into());
    }
    if let Some(mint_position) = mint_position {
        if *ctx.key(mint_position)? != source.mint {
            return Err(TokenError::MintMismatch.into());
        }
        let mint = load_mint(ctx, mint_position)?;
        check_decimals(&mint, expected_decimals)?;
    }

    let self_transfer = ctx.key(0)? == ctx.key(destination_position)?;
    let authority_key = *ctx.key(authority_position)?;
    match source.delegate {
        Some(delegate) if delegate == authority_key => {
            validate_owner(ctx, &delegate, authority_position)?;
            if source.delegated_amount < amount {
                return Err(TokenError::InsufficientFunds.into());
            }
            if !self_transfer {
                source.delegated_amount = source
                    .delegated_amount
                    .checked_sub(amount)
                    .ok_or(TokenError::Overflow)?;
                if source.delegated_amount == 0 {
                    source.delegate = None;
                }
            }
        }
        _ => validate_owner(ctx, &source.owner, authority_position)?,
    }

    if self_transfer || amount == 0 {
        check_account_owner(ctx, 0)?;
        check_account_owner(ctx, destination_position)?;
    }
    // Nothing changes in a self-transfer, but only after every check above has passed.
    if self_transfer {
        return Ok(());
    }
    if source.is_native() {
        // SPL would move the lamports too; Braid has no wrapped SOL.
        return Err(TokenError::NativeNotSupported.into());
    }

    source.amount = source
        .amount
        .checked_sub(amount)
        .ok_or(TokenError::Overflow)?;
    destination.amount = destination
        .amount
        .checked_add(amount)
        .ok_or(TokenError::Overflow)?;
    store_account(ctx, 0, &source)?;
    store_account(ctx, destination_position, &destination)
}

/// Accounts: source, [mint], delegate, owner.
fn approve(
    ctx: &mut InvokeContext<'_>,
    amount: u64,
    expected_decimals: Option<u8>,
) -> Result<(), InstructionError> {
    let (mint_position, delegate_position, owner_position): (Option<usize>, usize, usize) =
        match expected_decimals {
            Some(_) => (Some(1), 2, 3),
            None => (None, 1, 2),
        };
    require_accounts(ctx, owner_position.saturating_add(1))?;
    let mut source = load_account(ctx, 0)?;
    if source.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if let Some(mint_position) = mint_position {
        if *ctx.key(mint_position)? != source.mint {
            return Err(TokenError::MintMismatch.into());
        }
        let mint = load_mint(ctx, mint_position)?;
        check_decimals(&mint, expected_decimals)?;
    }
    validate_owner(ctx, &source.owner, owner_position)?;
    source.delegate = Some(*ctx.key(delegate_position)?);
    source.delegated_amount = amount;
    store_account(ctx, 0, &source)
}

/// Accounts: source, owner.
fn revoke(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    require_accounts(ctx, 1)?;
    let mut source = load_account(ctx, 0)?;
    require_accounts(ctx, 2)?;
    if source.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    validate_owner(ctx, &source.owner, 1)?;
    source.delegate = None;
    source.delegated_amount = 0;
    store_account(ctx, 0, &source)
}

/// Accounts: mint or account, current authority.
fn set_authority(
    ctx: &mut InvokeContext<'_>,
    authority_type: AuthorityType,
    new_authority: Option<Pubkey>,
) -> Result<(), InstructionError> {
    require_accounts(ctx, 2)?;
    let data_len = ctx.account(0)?.data.len();
    if data_len == ACCOUNT_LEN {
        let mut account = load_account(ctx, 0)?;
        if account.is_frozen() {
            return Err(TokenError::AccountFrozen.into());
        }
        match authority_type {
            AuthorityType::AccountOwner => {
                validate_owner(ctx, &account.owner, 1)?;
                account.owner = new_authority.ok_or(TokenError::InvalidInstruction)?;
                account.delegate = None;
                account.delegated_amount = 0;
                if account.is_native() {
                    account.close_authority = None;
                }
            }
            AuthorityType::CloseAccount => {
                let authority = account.close_authority.unwrap_or(account.owner);
                validate_owner(ctx, &authority, 1)?;
                account.close_authority = new_authority;
            }
            AuthorityType::MintTokens | AuthorityType::FreezeAccount => {
                return Err(TokenError::AuthorityTypeNotSupported.into());
            }
        }
        store_account(ctx, 0, &account)
    } else if data_len == MINT_LEN {
        let mut mint = load_mint(ctx, 0)?;
        match authority_type {
            AuthorityType::MintTokens => {
                // A fixed supply stays fixed: no authority, no new one.
                let authority = mint.mint_authority.ok_or(TokenError::FixedSupply)?;
                validate_owner(ctx, &authority, 1)?;
                mint.mint_authority = new_authority;
            }
            AuthorityType::FreezeAccount => {
                let authority = mint.freeze_authority.ok_or(TokenError::MintCannotFreeze)?;
                validate_owner(ctx, &authority, 1)?;
                mint.freeze_authority = new_authority;
            }
            AuthorityType::AccountOwner | AuthorityType::CloseAccount => {
                return Err(TokenError::AuthorityTypeNotSupported.into());
            }
        }
        store_mint(ctx, 0, &mint)
    } else {
        Err(InstructionError::InvalidArgument)
    }
}

/// Accounts: mint, destination, mint authority.
fn mint_to(
    ctx: &mut InvokeContext<'_>,
    amount: u64,
    expected_decimals: Option<u8>,
) -> Result<(), InstructionError> {
    require_accounts(ctx, 3)?;
    let mut destination = load_account(ctx, 1)?;
    if destination.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if destination.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if *ctx.key(0)? != destination.mint {
        return Err(TokenError::MintMismatch.into());
    }
    let mut mint = load_mint(ctx, 0)?;
    check_decimals(&mint, expected_decimals)?;
    match mint.mint_authority {
        Some(authority) => validate_owner(ctx, &authority, 2)?,
        None => return Err(TokenError::FixedSupply.into()),
    }
    if amount == 0 {
        check_account_owner(ctx, 0)?;
        check_account_owner(ctx, 1)?;
    }
    destination.amount = destination
        .amount
        .checked_add(amount)
        .ok_or(TokenError::Overflow)?;
    mint.supply = mint
        .supply
        .checked_add(amount)
        .ok_or(TokenError::Overflow)?;
    store_account(ctx, 1, &destination)?;
    store_mint(ctx, 0, &mint)
}

/// Accounts: account, mint, owner or delegate.
fn burn(
    ctx: &mut InvokeContext<'_>,
    amount: u64,
    expected_decimals: Option<u8>,
) -> Result<(), InstructionError> {
    require_accounts(ctx, 3)?;
    let mut source = load_account(ctx, 0)?;
    let mut mint = load_mint(ctx, 1)?;
    if source.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if source.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if source.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    if *ctx.key(1)? != source.mint {
        return Err(TokenError::MintMismatch.into());
    }
    check_decimals(&mint, expected_decimals)?;

    if !source.is_owned_by_system_program_or_incinerator() {
        let authority_key = *ctx.key(2)?;
        match source.delegate {
            Some(delegate) if delegate == authority_key => {
                validate_owner(ctx, &delegate, 2)?;
                if source.delegated_amount < amount {
                    return Err(TokenError::InsufficientFunds.into());
                }
                source.delegated_amount = source
                    .delegated_amount
                    .checked_sub(amount)
                    .ok_or(TokenError::Overflow)?;
                if source.delegated_amount == 0 {
                    source.delegate = None;
                }
            }
            _ => validate_owner(ctx, &source.owner, 2)?,
        }
    }
    if amount == 0 {
        check_account_owner(ctx, 0)?;
        check_account_owner(ctx, 1)?;
    }
    source.amount = source
        .amount
        .checked_sub(amount)
        .ok_or(TokenError::Overflow)?;
    mint.supply = mint
        .supply
        .checked_sub(amount)
        .ok_or(TokenError::Overflow)?;
    store_account(ctx, 0, &source)?;
    store_mint(ctx, 1, &mint)
}

/// Accounts: account, destination, owner or close authority.
fn close_account(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    require_accounts(ctx, 3)?;
    let destination_key = *ctx.key(1)?;
    if *ctx.key(0)? == destination_key {
        return Err(InstructionError::InvalidAccountData);
    }
    let source = load_account(ctx, 0)?;
    if !source.is_native() && source.amount != 0 {
        return Err(TokenError::NonNativeHasBalance.into());
    }
    let authority = source.close_authority.unwrap_or(source.owner);
    if !source.is_owned_by_system_program_or_incinerator() {
        validate_owner(ctx, &authority, 2)?;
    } else if destination_key != INCINERATOR_ID {
        return Err(InstructionError::InvalidAccountData);
    }

    let lamports = ctx.account(0)?.lamports;
    ctx.account(1)?
        .lamports
        .checked_add(lamports)
        .ok_or(TokenError::Overflow)?;
    ctx.transfer_lamports(0, 1, lamports)?;
    // Delete the account: no lamports, no data, back to the System program (SPL's
    // `delete_account`). The store drops it at commit because its balance is zero.
    let account = ctx.account_mut(0)?;
    account.data.clear();
    account.owner = SYSTEM_PROGRAM_ID;
    Ok(())
}

/// Accounts: account, mint, freeze authority.
fn toggle_freeze(ctx: &mut InvokeContext<'_>, freeze: bool) -> Result<(), InstructionError> {
    require_accounts(ctx, 3)?;
    let mut source = load_account(ctx, 0)?;
    if freeze == source.is_frozen() {
        return Err(TokenError::InvalidState.into());
    }
    if source.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if *ctx.key(1)? != source.mint {
        return Err(TokenError::MintMismatch.into());
    }
    let mint = load_mint(ctx, 1)?;
    match mint.freeze_authority {
        Some(authority) => validate_owner(ctx, &authority, 2)?,
        None => return Err(TokenError::MintCannotFreeze.into()),
    }
    source.state = if freeze {
        AccountState::Frozen
    } else {
        AccountState::Initialized
    };
    store_account(ctx, 0, &source)
}

/// Accounts: native account. Every account Braid can create is non-native.
fn sync_native(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    require_accounts(ctx, 1)?;
    check_account_owner(ctx, 0)?;
    let account = load_account(ctx, 0)?;
    if account.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    Err(TokenError::NonNativeNotSupported.into())
}

/// Accounts: account. SPL Token accepts it on an uninitialized account and does nothing.
fn initialize_immutable_owner(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    require_accounts(ctx, 1)?;
    let account = TokenAccount::unpack_unchecked(&ctx.account(0)?.data)?;
    if account.is_initialized() {
        return Err(TokenError::AlreadyInUse.into());
    }
    ctx.log(format_args!(
        "Please upgrade to SPL Token 2022 for immutable owner support"
    ));
    Ok(())
}
