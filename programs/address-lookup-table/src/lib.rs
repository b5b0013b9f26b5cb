//! Solana's Address Lookup Table program, at Solana's id
//! ([`braid_runtime::address_lookup_table::ID`]) with Solana's instruction encoding,
//! account layout and checks, so clients build and read tables unchanged and v0
//! transactions load addresses from them.
//!
//! The table layout and how a transaction's lookups resolve belong to the runtime
//! ([`braid_runtime::address_lookup_table`]); this crate changes tables.
//!
//! - `CreateLookupTable { recent_slot, bump_seed }`: accounts `[w] table, [] authority,
//!   [w, s] payer, [] system program`. The table's address derives from
//!   `[authority, recent_slot LE]`; `recent_slot` must be one of the last
//!   [`DEACTIVATION_COOLDOWN_SLOTS`] slots (or the current one), so a closed table's address
//!   can never be created again. The table is funded rent-exempt by the payer.
//! - `FreezeLookupTable`: `[w] table, [s] authority`: no authority any more; it can never
//!   change again.
//! - `ExtendLookupTable { new_addresses }`: `[w] table, [s] authority, [w, s] payer,
//!   [] system program` (the last two only if the table needs more lamports). Addresses
//!   appended in a slot are usable from the next slot.
//! - `DeactivateLookupTable`: `[w] table, [s] authority`: lookups may use it for
//!   [`DEACTIVATION_COOLDOWN_SLOTS`] more slots, then it can be closed.
//! - `CloseLookupTable`: `[w] table, [s] authority, [w] recipient`: a fully deactivated
//!   table's lamports go to the recipient and the account is deleted.
//!
//! Differences from Solana: the authority need not sign `CreateLookupTable` (as on Solana
//! since the relaxed-signer feature); the recent slot may also be the current slot.

use braid_runtime::address_lookup_table::{
    DEACTIVATION_COOLDOWN_SLOTS, ID, LOOKUP_TABLE_ADDRESSES_MAX, LOOKUP_TABLE_META_BYTES,
    LookupTable, LookupTableMeta,
};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::program::Program;
use braid_runtime::{AccountMeta, Instruction, InstructionError, Pubkey, SYSTEM_PROGRAM_ID};

/// Compute units each instruction costs (Solana's), beyond the calls it makes.
pub const LOOKUP_TABLE_INSTRUCTION_UNITS: u64 = 750;
/// Largest encoded instruction read, in bytes: nothing larger fits a packet.
const INSTRUCTION_BYTES_MAX: usize = 1232;

/// The program's instructions, encoded as Solana encodes them (bincode, a `u32` tag).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LookupTableInstruction {
    /// Creates an empty table at the address derived from the authority and `recent_slot`.
    CreateLookupTable {
        /// A recent slot, part of the address.
        recent_slot: u64,
        /// The bump that makes the address a program address.
        bump_seed: u8,
    },
    /// Removes the authority for good.
    FreezeLookupTable,
    /// Appends addresses.
    ExtendLookupTable {
        /// The addresses to append.
        new_addresses: Vec<Pubkey>,
    },
    /// Starts the cooldown after which the table can be closed.
    DeactivateLookupTable,
    /// Deletes a fully deactivated table.
    CloseLookupTable,
}

/// The address of the table `authority` creates with `recent_slot`, and its bump.
pub fn derive_lookup_table_address(authority: &Pubkey, recent_slot: u64) -> (Pubkey, u8) {
    braid_runtime::pda::find_program_address(&[authority.as_ref(), &recent_slot.to_le_bytes()], &ID)
}

fn instruction(data: &LookupTableInstruction, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_with_bincode(ID, data, accounts)
}

/// `CreateLookupTable`, with the table's address.
pub fn create_lookup_table(
    authority: &Pubkey,
    payer: &Pubkey,
    recent_slot: u64,
) -> (Instruction, Pubkey) {
    let (table, bump_seed) = derive_lookup_table_address(authority, recent_slot);
    let create = instruction(
        &LookupTableInstruction::CreateLookupTable {
            recent_slot,
            bump_seed,
        },
        vec![
            AccountMeta::new(table, false),
            AccountMeta::new_readonly(*authority, false),
            AccountMeta::new(*payer, true),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    );
    (create, table)
}

/// `ExtendLookupTable`; `payer` funds the larger table if it needs more lamports.
pub fn extend_lookup_table(
    table: &Pubkey,
    authority: &Pubkey,
    payer: Option<&Pubkey>,
    new_addresses: Vec<Pubkey>,
) -> Instruction {
    let mut accounts = vec![
        AccountMeta::new(*table, false),
        AccountMeta::new_readonly(*authority, true),
    ];
    if let Some(payer) = payer {
        accounts.push(AccountMeta::new(*payer, true));
        accounts.push(AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false));
    }
    instruction(
        &LookupTableInstruction::ExtendLookupTable { new_addresses },
        accounts,
    )
}

/// `FreezeLookupTable`.
pub fn freeze_lookup_table(table: &Pubkey, authority: &Pubkey) -> Instruction {
    instruction(
        &LookupTableInstruction::FreezeLookupTable,
        vec![
            AccountMeta::new(*table, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `DeactivateLookupTable`.
pub fn deactivate_lookup_table(table: &Pubkey, authority: &Pubkey) -> Instruction {
    instruction(
        &LookupTableInstruction::DeactivateLookupTable,
        vec![
            AccountMeta::new(*table, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `CloseLookupTable`, paying the table's lamports to `recipient`.
pub fn close_lookup_table(table: &Pubkey, authority: &Pubkey, recipient: &Pubkey) -> Instruction {
    instruction(
        &LookupTableInstruction::CloseLookupTable,
        vec![
            AccountMeta::new(*table, false),
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(*recipient, false),
        ],
    )
}

/// The program. Register it with a runtime to use it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressLookupTableProgram;

impl Program for AddressLookupTableProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "address-lookup-table"
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(LOOKUP_TABLE_INSTRUCTION_UNITS)?;
        let config = bincode::config::legacy().with_limit::<INSTRUCTION_BYTES_MAX>();
        let (instruction, _): (LookupTableInstruction, usize) =
            bincode::serde::decode_from_slice(data, config)
                .map_err(|_| InstructionError::InvalidInstructionData)?;
        match instruction {
            LookupTableInstruction::CreateLookupTable {
                recent_slot,
                bump_seed,
            } => create(ctx, recent_slot, bump_seed),
            LookupTableInstruction::FreezeLookupTable => freeze(ctx),
            LookupTableInstruction::ExtendLookupTable { new_addresses } => {
                extend(ctx, new_addresses)
            }
            LookupTableInstruction::DeactivateLookupTable => deactivate(ctx),
            LookupTableInstruction::CloseLookupTable => close(ctx),
        }
    }
}

const TABLE: usize = 0;
const AUTHORITY: usize = 1;
const PAYER: usize = 2;
const SYSTEM_PROGRAM: usize = 3;
const RECIPIENT: usize = 2;

fn create(
    ctx: &mut InvokeContext<'_>,
    recent_slot: u64,
    bump_seed: u8,
) -> Result<(), InstructionError> {
    let (table, authority, payer) = (*ctx.key(TABLE)?, *ctx.key(AUTHORITY)?, *ctx.key(PAYER)?);
    if !ctx.account(TABLE)?.data.is_empty() || ctx.account(TABLE)?.owner == ID {
        ctx.log(format_args!("Table account must not be allocated"));
        return Err(InstructionError::AccountAlreadyInitialized);
    }
    if !ctx.is_signer(PAYER)? {
        ctx.log(format_args!("Payer account must be a signer"));
        return Err(InstructionError::MissingRequiredSignature);
    }
    let slot = ctx.clock().slot;
    if recent_slot > slot || slot.saturating_sub(recent_slot) > DEACTIVATION_COOLDOWN_SLOTS {
        ctx.log(format_args!("{recent_slot} is not a recent slot"));
        return Err(InstructionError::InvalidInstructionData);
    }
    let slot_bytes = recent_slot.to_le_bytes();
    let bump = [bump_seed];
    let seeds: [&[u8]; 3] = [authority.as_ref(), &slot_bytes, &bump];
    let derived = braid_runtime::pda::create_program_address(&seeds, &ID)
        .map_err(|_| InstructionError::InvalidArgument)?;
    if derived != table {
        ctx.log(format_args!(
            "Table address must match derived address: {derived}"
        ));
        return Err(InstructionError::InvalidArgument);
    }
    if *ctx.key(SYSTEM_PROGRAM)? != SYSTEM_PROGRAM_ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    let bytes = LOOKUP_TABLE_META_BYTES as u64;
    braid_program_system::cpi::create_program_account(
        ctx,
        &payer,
        TABLE,
        braid_runtime::rent::minimum_balance(bytes).max(1),
        bytes,
        &ID,
        &seeds,
    )?;
    LookupTableMeta::new(authority).write(&mut ctx.account_mut(TABLE)?.data);
    Ok(())
}

/// The table at [`TABLE`], checked as every change needs it: owned by this program,
/// parsed, not frozen, and changed by its authority, who signed.
fn authorized(ctx: &mut InvokeContext<'_>) -> Result<LookupTableMeta, InstructionError> {
    if ctx.account(TABLE)?.owner != ID {
        return Err(InstructionError::InvalidAccountOwner);
    }
    if !ctx.is_signer(AUTHORITY)? {
        ctx.log(format_args!("Authority account must be a signer"));
        return Err(InstructionError::MissingRequiredSignature);
    }
    let authority = *ctx.key(AUTHORITY)?;
    let meta = LookupTable::parse(&ctx.account(TABLE)?.data)
        .map_err(|_| InstructionError::InvalidAccountData)?
        .meta;
    match meta.authority {
        None => {
            ctx.log(format_args!("Lookup table is frozen"));
            Err(InstructionError::Immutable)
        }
        Some(expected) if expected != authority => Err(InstructionError::IncorrectAuthority),
        Some(_) => Ok(meta),
    }
}

fn freeze(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    let mut meta = authorized(ctx)?;
    if !meta.is_active() {
        ctx.log(format_args!("Deactivated tables cannot be frozen"));
        return Err(InstructionError::InvalidArgument);
    }
    if LookupTable::parse(&ctx.account(TABLE)?.data)
        .map_err(|_| InstructionError::InvalidAccountData)?
        .is_empty()
    {
        ctx.log(format_args!("Empty lookup tables cannot be frozen"));
        return Err(InstructionError::InvalidInstructionData);
    }
    meta.authority = None;
    meta.write(&mut ctx.account_mut(TABLE)?.data);
    Ok(())
}

fn extend(ctx: &mut InvokeContext<'_>, new_addresses: Vec<Pubkey>) -> Result<(), InstructionError> {
    let mut meta = authorized(ctx)?;
    if !meta.is_active() {
        ctx.log(format_args!("Deactivated tables cannot be extended"));
        return Err(InstructionError::InvalidArgument);
    }
    if new_addresses.is_empty() {
        ctx.log(format_args!("Must extend with at least one address"));
        return Err(InstructionError::InvalidInstructionData);
    }
    let old_len = LookupTable::parse(&ctx.account(TABLE)?.data)
        .map_err(|_| InstructionError::InvalidAccountData)?
        .len();
    let new_len = old_len.saturating_add(new_addresses.len());
    if new_len > LOOKUP_TABLE_ADDRESSES_MAX {
        ctx.log(format_args!(
            "Extended lookup table length {new_len} would exceed max capacity of \
             {LOOKUP_TABLE_ADDRESSES_MAX}"
        ));
        return Err(InstructionError::InvalidInstructionData);
    }
    let slot = ctx.clock().slot;
    if slot != meta.last_extended_slot {
        meta.last_extended_slot = slot;
        // Below 256: a table holding 256 addresses cannot be extended (checked above).
        meta.last_extended_slot_start_index =
            u8::try_from(old_len).map_err(|_| InstructionError::InvalidAccountData)?;
    }
    let table = ctx.account_mut(TABLE)?;
    meta.write(&mut table.data);
    for address in &new_addresses {
        table.data.extend_from_slice(address.as_ref());
    }
    let bytes = table.data.len() as u64;
    let held = table.lamports;
    let required = braid_runtime::rent::minimum_balance(bytes)
        .max(1)
        .saturating_sub(held);
    if required > 0 {
        let payer = *ctx.key(PAYER)?;
        if !ctx.is_signer(PAYER)? {
            ctx.log(format_args!("Payer account must be a signer"));
            return Err(InstructionError::MissingRequiredSignature);
        }
        if *ctx.key(SYSTEM_PROGRAM)? != SYSTEM_PROGRAM_ID {
            return Err(InstructionError::IncorrectProgramId);
        }
        let table = *ctx.key(TABLE)?;
        ctx.invoke(&braid_program_system::instruction::transfer(
            &payer, &table, required,
        ))?;
    }
    Ok(())
}

fn deactivate(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    let mut meta = authorized(ctx)?;
    if !meta.is_active() {
        ctx.log(format_args!("Lookup table is already deactivated"));
        return Err(InstructionError::InvalidArgument);
    }
    meta.deactivation_slot = ctx.clock().slot;
    meta.write(&mut ctx.account_mut(TABLE)?.data);
    Ok(())
}

fn close(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    let meta = authorized(ctx)?;
    if ctx.key(TABLE)? == ctx.key(RECIPIENT)? {
        ctx.log(format_args!(
            "Lookup table cannot be the recipient of reclaimed lamports"
        ));
        return Err(InstructionError::InvalidArgument);
    }
    let slot = ctx.clock().slot;
    if meta.is_active() {
        ctx.log(format_args!("Lookup table is not deactivated"));
        return Err(InstructionError::InvalidArgument);
    }
    if meta.is_usable(slot) {
        let remaining = DEACTIVATION_COOLDOWN_SLOTS
            .saturating_sub(slot.saturating_sub(meta.deactivation_slot))
            .saturating_add(1);
        ctx.log(format_args!(
            "Table cannot be closed until it's fully deactivated in {remaining} blocks"
        ));
        return Err(InstructionError::InvalidArgument);
    }
    let lamports = ctx.account(TABLE)?.lamports;
    ctx.transfer_lamports(TABLE, RECIPIENT, lamports)?;
    ctx.account_mut(TABLE)?.data.clear();
    Ok(())
}
