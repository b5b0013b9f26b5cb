//! The runtime's errors: why a transaction was rejected or why one of its instructions failed.
//!
//! Rejection (a [`TransactionError`] other than `InstructionError`) leaves state untouched and
//! charges no fee. An `InstructionError` means the transaction executed and failed: its fee is
//! charged and every other change is rolled back.

use crate::{Pubkey, SanitizeError};

/// Why an instruction failed. The runtime-rule variants name exactly which rule broke.
///
/// Serialized as Solana serializes its own (`"InvalidArgument"`, `{"Custom": 18}`), so RPC
/// clients read it as data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum InstructionError {
    /// A program-specific error code; each program documents its own.
    #[error("custom program error: {0:#x}")]
    Custom(u32),
    /// The instruction data could not be decoded.
    #[error("invalid instruction data")]
    InvalidInstructionData,
    /// An argument is invalid.
    #[error("invalid program argument")]
    InvalidArgument,
    /// An account's data is not what the program expects.
    #[error("invalid account data for instruction")]
    InvalidAccountData,
    /// An account's data is too small.
    #[error("account data too small for instruction")]
    AccountDataTooSmall,
    /// An account lacks the lamports the instruction needs.
    #[error("insufficient funds for instruction")]
    InsufficientFunds,
    /// An account is owned by the wrong program.
    #[error("incorrect program id for instruction")]
    IncorrectProgramId,
    /// A required signature is missing.
    #[error("missing required signature for instruction")]
    MissingRequiredSignature,
    /// The account is already initialized.
    #[error("instruction requires an uninitialized account")]
    AccountAlreadyInitialized,
    /// The account is not initialized.
    #[error("instruction requires an initialized account")]
    UninitializedAccount,
    /// Fewer accounts than the instruction needs.
    #[error("insufficient account keys for instruction")]
    NotEnoughAccountKeys,
    /// An account the instruction needs is not one of its accounts.
    #[error("an account required by the instruction is missing")]
    MissingAccount,
    /// A checked arithmetic operation overflowed.
    #[error("program arithmetic overflowed")]
    ArithmeticOverflow,
    /// Seeds do not derive a valid program address.
    #[error("invalid seeds, address must fall off the curve")]
    InvalidSeeds,
    /// A seed is longer than 32 bytes, or there are more than 16.
    #[error("length of the seed is too long for address generation")]
    MaxSeedLengthExceeded,
    /// The account already holds lamports or data where none was expected.
    #[error("account already in use")]
    AccountAlreadyInUse,

    // Runtime rules, checked after every instruction and every cross-program call.
    /// The sum of lamports over the instruction's accounts changed.
    #[error("sum of account balances before and after instruction do not match")]
    UnbalancedInstruction,
    /// A program other than the owner debited an account.
    #[error("instruction spent from the balance of an account it does not own")]
    ExternalAccountLamportSpend,
    /// A program other than the owner changed an account's data.
    #[error("instruction modified data of an account it does not own")]
    ExternalAccountDataModified,
    /// A readonly account's lamports changed.
    #[error("instruction changed the balance of a read-only account")]
    ReadonlyLamportChange,
    /// A readonly account's data changed.
    #[error("instruction modified data of a read-only account")]
    ReadonlyDataModified,
    /// An account's executable flag changed.
    #[error("instruction changed executable bit of an account")]
    ExecutableModified,
    /// An executable account's lamports changed.
    #[error("instruction changed the balance of an executable account")]
    ExecutableLamportChange,
    /// An executable account's data changed.
    #[error("instruction changed executable accounts data")]
    ExecutableDataModified,
    /// The owner changed illegally: not by the owner, not writable, or with non-zero data.
    #[error("instruction illegally modified the program id of an account")]
    ModifiedProgramId,
    /// Data grew past [`braid_primitives::ACCOUNT_DATA_BYTES_MAX`].
    #[error("account data size exceeds the 10 MiB limit")]
    InvalidRealloc,
    /// A cross-program call asked for a signer or writable privilege the caller lacks.
    #[error("cross-program invocation with unauthorized signer or writable account")]
    PrivilegeEscalation,
    /// A program was called while it is already on the call stack (other than by itself).
    #[error("cross-program invocation reentrancy not allowed for this instruction")]
    ReentrancyNotAllowed,
    /// Cross-program calls nested deeper than the limit.
    #[error("cross-program invocation call depth too deep")]
    CallDepth,
    /// The transaction ran out of compute units.
    #[error("computational budget exceeded")]
    ComputationalBudgetExceeded,
    /// The instruction names a program that is not registered.
    #[error("unsupported program id")]
    UnsupportedProgramId,
    /// A program called in a cross-program invocation is not among the caller's accounts.
    #[error("cross-program invocation of a program that is not among the caller's accounts")]
    UnknownCalleeProgram,
    /// The program panicked instead of returning.
    #[error("program failed to complete")]
    ProgramFailedToComplete,
    /// An account is owned by a program other than the one the instruction needs.
    #[error("Provided owner is not allowed")]
    IllegalOwner,
    /// The account may no longer be changed (e.g. a frozen lookup table).
    #[error("account is immutable")]
    Immutable,
    /// The signer is not the account's authority.
    #[error("incorrect authority provided")]
    IncorrectAuthority,
    /// The account is not owned by the program the instruction expects.
    #[error("invalid account owner")]
    InvalidAccountOwner,
}

/// Why a transaction was rejected, or (`InstructionError`) why it failed after paying its fee.
///
/// Serialized in Solana's shape (`"BlockhashNotFound"`,
/// `{"InstructionError": [0, {"Custom": 18}]}`). The ledger records a failed transaction's
/// error by variant position (bincode, in the block's history), so variants here and in
/// [`InstructionError`] are only ever appended: never reordered or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum TransactionError {
    /// The bytes are not a well-formed transaction.
    #[error("malformed transaction: {0}")]
    Sanitize(#[from] SanitizeError),
    /// A signature does not verify.
    #[error("transaction did not pass signature verification")]
    SignatureFailure,
    /// The recent blockhash is not one of the last 150.
    #[error("blockhash not found")]
    BlockhashNotFound,
    /// The same message was already processed.
    #[error("this transaction has already been processed")]
    AlreadyProcessed,
    /// The fee payer does not exist.
    #[error("attempt to debit an account but found no record of a prior credit")]
    AccountNotFound,
    /// The fee payer cannot pay the fee.
    #[error("insufficient funds for fee")]
    InsufficientFundsForFee,
    /// The fee payer is not a system-owned account.
    #[error("this account may not be used to pay transaction fees")]
    InvalidAccountForFee,
    /// An instruction names a program that is not registered.
    #[error("attempt to load a program that does not exist: {0}")]
    ProgramAccountNotFound(Pubkey),
    /// A compute-budget instruction appears twice.
    #[error("transaction contains a duplicate compute budget instruction {0}")]
    DuplicateInstruction(u8),
    /// The node is full; the transaction was not queued and may be sent again.
    #[error("node is busy, try again")]
    Busy,
    /// The accounts the transaction names hold more data than
    /// [`LOADED_ACCOUNTS_DATA_BYTES_MAX`](crate::executor::LOADED_ACCOUNTS_DATA_BYTES_MAX);
    /// the fee was charged, nothing else changed.
    #[error("transaction loads more account data than allowed")]
    MaxLoadedAccountsDataSizeExceeded,
    /// A v0 transaction names a lookup table that does not exist or is no longer usable.
    #[error("transaction loads an address table account that doesn't exist")]
    AddressLookupTableNotFound,
    /// A v0 transaction names a lookup table the Address Lookup Table program does not own.
    #[error("transaction loads an address table account with an invalid owner")]
    InvalidAddressLookupTableOwner,
    /// A v0 transaction names a lookup table whose data is malformed.
    #[error("transaction loads an address table account with invalid data")]
    InvalidAddressLookupTableData,
    /// A v0 transaction looks up an index its table does not (yet) hold.
    #[error("transaction address table lookup uses an invalid index")]
    InvalidAddressLookupTableIndex,
    /// A table the transaction resolved when it was scheduled resolves differently when
    /// it runs (it became unusable in between); nothing was charged.
    #[error("transaction's address table lookups resolved differently when it ran")]
    AddressLookupTableChanged,
    /// The transaction would leave account `account_index` holding lamports but not
    /// rent-exempt ([`crate::rent`]). Refused unpaid when it is the fee payer's fee that
    /// would do it; otherwise the fee was charged and nothing else changed.
    #[error("transaction results in an account ({account_index}) with insufficient funds for rent")]
    InsufficientFundsForRent {
        /// The account's index in the transaction's keys.
        account_index: u8,
    },
    /// Instruction `.0` failed with `.1`; the fee was charged, nothing else changed.
    #[error("error processing instruction {0}: {1}")]
    InstructionError(u8, InstructionError),
    /// No block could hold it: alone it passes a block limit (`cost_model`).
    #[error("transaction would exceed max block cost limit")]
    WouldExceedMaxBlockCostLimit,
}

impl TransactionError {
    /// A short name for counting failures by cause: the instruction error's variant for a
    /// failed instruction (which instruction does not matter), else the transaction error's
    /// variant, e.g. `Custom(18)` or `BlockhashNotFound`.
    pub fn reason(&self) -> String {
        match self {
            TransactionError::InstructionError(_, inner) => format!("{inner:?}"),
            other => format!("{other:?}"),
        }
    }
}
