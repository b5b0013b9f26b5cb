//! The token program's error codes: SPL Token's `TokenError`, same variants, same numbers.
//!
//! A program error reaches the runtime as [`InstructionError::Custom`] carrying the code, so a
//! client (or a test) decodes a failure with [`TokenError::try_from`] or
//! [`TokenError::from_instruction_error`].

use braid_runtime::InstructionError;

/// SPL Token's errors. The discriminant of each variant is its on-chain code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u32)]
pub enum TokenError {
    /// Lamport balance below rent-exempt threshold. (Never returned: Braid has no rent.)
    #[error("Lamport balance below rent-exempt threshold")]
    NotRentExempt = 0,
    /// Insufficient funds for the operation requested.
    #[error("Insufficient funds")]
    InsufficientFunds = 1,
    /// Invalid Mint.
    #[error("Invalid Mint")]
    InvalidMint = 2,
    /// Account not associated with this Mint.
    #[error("Account not associated with this Mint")]
    MintMismatch = 3,
    /// Owner does not match.
    #[error("Owner does not match")]
    OwnerMismatch = 4,
    /// This token's supply is fixed and new tokens cannot be minted.
    #[error("Fixed supply")]
    FixedSupply = 5,
    /// The account cannot be initialized because it is already being used.
    #[error("Already in use")]
    AlreadyInUse = 6,
    /// Invalid number of provided signers.
    #[error("Invalid number of provided signers")]
    InvalidNumberOfProvidedSigners = 7,
    /// Invalid number of required signers.
    #[error("Invalid number of required signers")]
    InvalidNumberOfRequiredSigners = 8,
    /// State is uninitialized.
    #[error("State is unititialized")]
    UninitializedState = 9,
    /// Instruction does not support native tokens.
    #[error("Instruction does not support native tokens")]
    NativeNotSupported = 10,
    /// Non-native account can only be closed if its balance is zero.
    #[error("Non-native account can only be closed if its balance is zero")]
    NonNativeHasBalance = 11,
    /// Invalid instruction.
    #[error("Invalid instruction")]
    InvalidInstruction = 12,
    /// State is invalid for the requested operation.
    #[error("State is invalid for requested operation")]
    InvalidState = 13,
    /// Operation overflowed.
    #[error("Operation overflowed")]
    Overflow = 14,
    /// Account does not support the specified authority type.
    #[error("Account does not support specified authority type")]
    AuthorityTypeNotSupported = 15,
    /// This token mint cannot freeze accounts.
    #[error("This token mint cannot freeze accounts")]
    MintCannotFreeze = 16,
    /// The account is frozen; all account operations will fail.
    #[error("Account is frozen")]
    AccountFrozen = 17,
    /// Mint decimals mismatch between the client and the mint.
    #[error("The provided decimals value different from the Mint decimals")]
    MintDecimalsMismatch = 18,
    /// Instruction does not support non-native tokens.
    #[error("Instruction does not support non-native tokens")]
    NonNativeNotSupported = 19,
}

braid_runtime::custom_error_codes!(TokenError {
    NotRentExempt,
    InsufficientFunds,
    InvalidMint,
    MintMismatch,
    OwnerMismatch,
    FixedSupply,
    AlreadyInUse,
    InvalidNumberOfProvidedSigners,
    InvalidNumberOfRequiredSigners,
    UninitializedState,
    NativeNotSupported,
    NonNativeHasBalance,
    InvalidInstruction,
    InvalidState,
    Overflow,
    AuthorityTypeNotSupported,
    MintCannotFreeze,
    AccountFrozen,
    MintDecimalsMismatch,
    NonNativeNotSupported,
});

impl TokenError {
    /// The token error an instruction failed with, if it is one.
    pub fn from_instruction_error(error: &InstructionError) -> Option<Self> {
        match error {
            InstructionError::Custom(code) => Self::try_from(*code).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spls() {
        // The numbers SPL Token publishes, spelled out so a reordering cannot go unnoticed.
        let expected = [
            (TokenError::NotRentExempt, 0),
            (TokenError::InsufficientFunds, 1),
            (TokenError::InvalidMint, 2),
            (TokenError::MintMismatch, 3),
            (TokenError::OwnerMismatch, 4),
            (TokenError::FixedSupply, 5),
            (TokenError::AlreadyInUse, 6),
            (TokenError::InvalidNumberOfProvidedSigners, 7),
            (TokenError::InvalidNumberOfRequiredSigners, 8),
            (TokenError::UninitializedState, 9),
            (TokenError::NativeNotSupported, 10),
            (TokenError::NonNativeHasBalance, 11),
            (TokenError::InvalidInstruction, 12),
            (TokenError::InvalidState, 13),
            (TokenError::Overflow, 14),
            (TokenError::AuthorityTypeNotSupported, 15),
            (TokenError::MintCannotFreeze, 16),
            (TokenError::AccountFrozen, 17),
            (TokenError::MintDecimalsMismatch, 18),
            (TokenError::NonNativeNotSupported, 19),
        ];
        for (error, code) in expected {
            assert_eq!(error.code(), code);
            assert_eq!(
                InstructionError::from(error),
                InstructionError::Custom(code)
            );
            assert_eq!(TokenError::try_from(code), Ok(error));
            assert_eq!(
                TokenError::from_instruction_error(&InstructionError::Custom(code)),
                Some(error)
            );
        }
        assert_eq!(TokenError::try_from(20), Err(20));
        assert_eq!(TokenError::try_from(u32::MAX), Err(u32::MAX));
        assert_eq!(
            TokenError::from_instruction_error(&InstructionError::InvalidArgument),
            None
        );
    }
}
