//! SPL Token as a native Braid program.
//!
//! Same program id (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`), same instruction tags and
//! encoding, same 82-byte mint and 165-byte account layouts, same checks in the same order and
//! the same error codes, so bytes built by SPL's client libraries run here unchanged and token
//! accounts read back exactly as SPL would have written them.
//!
//! - [`state`]: [`Mint`] and [`TokenAccount`] with SPL's packed layouts and named offsets.
//! - [`instruction`]: [`TokenInstruction`] (pack/unpack) and client-side builders that give
//!   every account SPL's signer and writable flags.
//! - [`processor`]: [`TokenProgram`], the program itself.
//! - [`error`]: [`TokenError`], SPL's error codes, reported as
//!   [`InstructionError::Custom`](braid_runtime::InstructionError::Custom).
//!
//! # Design
//!
//! A native program sees only its instruction's accounts, through the runtime's
//! `InvokeContext`. Each handler decodes what it reads into plain structs, checks, and packs
//! back into the account's existing bytes only what it changes, so a failed check never leaves
//! a partial write (and the runtime rolls back the whole transaction anyway). All arithmetic is
//! checked: minting adds to the destination and to the supply, burning subtracts from both,
//! transfers move between two accounts of the same mint, so a mint's supply is always the sum
//! of its accounts' balances. Compute is charged as a flat
//! [`TOKEN_INSTRUCTION_UNITS`] per instruction.
//!
//! # Differences from SPL Token
//!
//! - **Rent is the runtime's.** `InitializeMint`, `InitializeAccount` and
//!   `InitializeAccount2` take the rent sysvar account as SPL does (its key must be
//!   [`RENT_SYSVAR_ID`], else `InvalidArgument`), but nothing is read from it and
//!   [`TokenError::NotRentExempt`] is never returned: on a ledger that requires rent
//!   exemption the runtime refuses an account left below it
//!   (`TransactionError::InsufficientFundsForRent`), whatever program made it.
//! - **Malformed instruction data** fails with `InstructionError::InvalidInstructionData`, not
//!   SPL's custom error 12 ([`TokenError::InvalidInstruction`]).
//! - **Not supported**: multisig authorities (`InitializeMultisig`, `InitializeMultisig2` fail
//!   with `InvalidInstructionData`; a multisig account given as an authority is refused);
//!   native (wrapped SOL) accounts (`InitializeAccount*` for the native mint and `Transfer`
//!   from a native account fail with [`TokenError::NativeNotSupported`], `SyncNative` with
//!   [`TokenError::NonNativeNotSupported`]); instructions that answer through return data
//!   (`GetAccountDataSize`, `AmountToUiAmount`, `UiAmountToAmount` fail with
//!   `InvalidInstructionData`).
//! - **Supported**, with SPL's semantics: `InitializeMint`, `InitializeMint2`,
//!   `InitializeAccount`, `InitializeAccount2`, `InitializeAccount3`, `Transfer`,
//!   `TransferChecked`, `Approve`, `ApproveChecked`, `Revoke`, `SetAuthority`, `MintTo`,
//!   `MintToChecked`, `Burn`, `BurnChecked`, `CloseAccount`, `FreezeAccount`, `ThawAccount`,
//!   `InitializeImmutableOwner` (a no-op, as in SPL Token).
//! - `CloseAccount` deletes the account as SPL's on-chain program does: all lamports to the
//!   destination, data emptied, owner back to the System program; with zero lamports the
//!   account no longer exists once the transaction commits.

pub mod error;
pub mod instruction;
pub mod processor;
pub mod state;

use braid_runtime::Pubkey;

pub use error::TokenError;
pub use instruction::TokenInstruction;
pub use processor::{TOKEN_INSTRUCTION_UNITS, TokenProgram};
pub use state::{ACCOUNT_LEN, AccountState, MINT_LEN, Mint, TokenAccount};

/// SPL Token's program id.
pub const ID: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The rent sysvar's address: listed by `InitializeMint`, `InitializeAccount` and
/// `InitializeAccount2`, as in SPL.
pub const RENT_SYSVAR_ID: Pubkey =
    Pubkey::from_str_const("SysvarRent111111111111111111111111111111111");
/// The wrapped SOL mint (not supported).
pub const NATIVE_MINT_ID: Pubkey =
    Pubkey::from_str_const("So11111111111111111111111111111111111111112");
/// The incinerator: tokens held for it (or for the System program) may be burned by anyone.
pub const INCINERATOR_ID: Pubkey =
    Pubkey::from_str_const("1nc1nerator11111111111111111111111111111111");

/// The program id (same as [`ID`]).
pub const fn id() -> Pubkey {
    ID
}
