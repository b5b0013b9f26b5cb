//! The System program's errors, with Solana's codes.

/// Errors the System program reports as `InstructionError::Custom(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum SystemError {
    /// The account to create already holds lamports, data or a non-system owner.
    #[error("an account with the same address already exists")]
    AccountAlreadyInUse = 0,
    /// The source holds fewer lamports than asked for.
    #[error("account does not have enough lamports for the operation")]
    ResultWithNegativeLamports = 1,
    /// Not used by Braid; kept so the codes match Solana's.
    #[error("cannot assign account to this program id")]
    InvalidProgramId = 2,
    /// The requested space exceeds 10 MiB.
    #[error("cannot allocate account data of this length")]
    InvalidAccountDataLength = 3,
    /// The seed is longer than 32 bytes.
    #[error("length of requested seed is too long")]
    MaxSeedLengthExceeded = 4,
    /// The address does not derive from the base, seed and owner.
    #[error("provided address does not match addressed derived from seed")]
    AddressWithSeedMismatch = 5,
}

braid_runtime::custom_error_codes!(SystemError {
    AccountAlreadyInUse,
    ResultWithNegativeLamports,
    InvalidProgramId,
    InvalidAccountDataLength,
    MaxSeedLengthExceeded,
    AddressWithSeedMismatch,
});
