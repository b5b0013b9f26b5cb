//! The AMM's error codes, reported as [`InstructionError::Custom`](braid_runtime::InstructionError::Custom).
//!
//! The variants follow SPL token-swap's `SwapError` in meaning (not in number): a client that
//! knows token-swap recognises every failure. Errors that only the runtime or the token program
//! can detect (a missing signature on a token transfer, a mint mismatch between a user's account
//! and a vault, an unfunded user) surface with their own codes from the token program.

/// The AMM's errors. The discriminant of each variant is its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u32)]
pub enum AmmError {
    /// `InitializePool` on a pool account that is already initialized.
    #[error("pool account is already initialized")]
    AlreadyInUse = 0,
    /// A pool instruction on a pool account that was never initialized.
    #[error("pool account is not initialized")]
    Uninitialized = 1,
    /// The authority account is not the pool's program-derived authority.
    #[error("authority is not the pool's program-derived address")]
    InvalidProgramAddress = 2,
    /// A vault is not owned by the pool authority, or the LP mint's mint authority is not it.
    #[error("vault or LP mint is not controlled by the pool authority")]
    InvalidOwner = 3,
    /// The fee account or the initial LP destination is owned by the pool authority, which
    /// would lock those LP tokens in the pool forever.
    #[error("LP token output account is owned by the pool authority")]
    InvalidOutputOwner = 4,
    /// The LP mint already has a supply at initialization.
    #[error("LP mint supply is not zero")]
    InvalidSupply = 5,
    /// The LP mint has a freeze authority, which could freeze LP holders.
    #[error("LP mint has a freeze authority")]
    InvalidFreezeAuthority = 6,
    /// A vault has a delegate, who could spend the pool's tokens.
    #[error("vault has a delegate")]
    InvalidDelegate = 7,
    /// A vault has a close authority, who could close it.
    #[error("vault has a close authority")]
    InvalidCloseAuthority = 8,
    /// Both vaults hold the same mint.
    #[error("both vaults hold the same mint")]
    RepeatedMint = 9,
    /// A vault is empty at initialization: the first deposit must fund both sides.
    #[error("vault is empty")]
    EmptySupply = 10,
    /// The LP mint is not the pool's, or the fee account does not hold the LP mint.
    #[error("LP mint is not the pool's")]
    IncorrectPoolMint = 11,
    /// The protocol fee account is not the pool's.
    #[error("fee account is not the pool's")]
    IncorrectFeeAccount = 12,
    /// A vault account is not one of the pool's vaults.
    #[error("vault is not one of the pool's")]
    IncorrectSwapAccount = 13,
    /// A user account is the pool's own vault, or a swap names the same vault twice.
    #[error("a user account is a pool vault, or the same vault is used twice")]
    InvalidInput = 14,
    /// The token program account is not SPL Token, or a token account is not owned by it.
    #[error("token program or token account owner is not SPL Token")]
    IncorrectTokenProgramId = 15,
    /// A fee fraction is malformed, or the fees together reach 100%.
    #[error("invalid fee parameters")]
    InvalidFee = 16,
    /// The instruction would move zero tokens on a side that must move some: a swap whose
    /// output rounds to zero, a deposit or withdrawal too small for one token.
    #[error("amount rounds to zero tokens")]
    ZeroTradingTokens = 17,
    /// The result is worse than the caller's limit: swap output below `minimum_amount_out`,
    /// deposit above a maximum, withdrawal below a minimum.
    #[error("slippage limit exceeded")]
    SlippageExceeded = 18,
    /// An amount does not fit the integer types (a reserve would pass `u64::MAX`).
    #[error("calculation overflow")]
    CalculationFailure = 19,
}

braid_runtime::custom_error_codes!(AmmError {
    AlreadyInUse,
    Uninitialized,
    InvalidProgramAddress,
    InvalidOwner,
    InvalidOutputOwner,
    InvalidSupply,
    InvalidFreezeAuthority,
    InvalidDelegate,
    InvalidCloseAuthority,
    RepeatedMint,
    EmptySupply,
    IncorrectPoolMint,
    IncorrectFeeAccount,
    IncorrectSwapAccount,
    InvalidInput,
    IncorrectTokenProgramId,
    InvalidFee,
    ZeroTradingTokens,
    SlippageExceeded,
    CalculationFailure,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        // Codes are part of the program's interface: appended, never renumbered.
        assert_eq!(AmmError::ALL.len(), 20);
        assert_eq!(AmmError::CalculationFailure.code(), 19);
        assert_eq!(AmmError::try_from(20), Err(20));
    }
}
