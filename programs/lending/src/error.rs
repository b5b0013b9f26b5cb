//! The lending program's errors.
//!
//! Every failure the program itself detects is a [`LendingError`], reported to the runtime
//! as `InstructionError::Custom(code)` with the variant's discriminant as the code. The codes
//! are part of the program's interface: clients match on them, so variants are only ever
//! appended. [`LendingError::ALL`] lists every error in code order, and `TryFrom<u32>` turns
//! a code back into its error.

/// The program's errors, reported as `InstructionError::Custom(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum LendingError {
    /// The account to initialize already holds state.
    #[error("account is already initialized")]
    AlreadyInitialized = 0,
    /// The account holds no state of the expected kind.
    #[error("account is not initialized")]
    Uninitialized = 1,
    /// The account is not owned by the program that should own it.
    #[error("account is not owned by the expected program")]
    InvalidAccountOwner = 2,
    /// The account's data cannot be decoded or has the wrong size.
    #[error("account data is malformed or has the wrong size")]
    InvalidAccountData = 3,
    /// An account that must sign did not.
    #[error("a required signature is missing")]
    InvalidSigner = 4,
    /// The signer is not the market's owner.
    #[error("signer is not the market owner")]
    InvalidMarketOwner = 5,
    /// A reserve or obligation belongs to a different market than the one given.
    #[error("account belongs to a different market")]
    InvalidMarket = 6,
    /// The market authority account is not the market's program-derived authority.
    #[error("market authority is not the market's program-derived address")]
    InvalidMarketAuthority = 7,
    /// The reserve configuration is out of range or inconsistent.
    #[error("invalid reserve configuration")]
    InvalidConfig = 8,
    /// A token account or mint is not the one the reserve records, or is unusable.
    #[error("token account or mint does not match the reserve")]
    InvalidTokenAccount = 9,
    /// The token program account is not SPL Token.
    #[error("token program account is not SPL Token")]
    InvalidTokenProgram = 10,
    /// The oracle account is not the reserve's price feed.
    #[error("oracle account is not the reserve's price feed")]
    InvalidOracle = 11,
    /// The oracle price is stale, non-positive or unusable.
    #[error("oracle price is stale or invalid")]
    InvalidOraclePrice = 12,
    /// An amount of zero was requested.
    #[error("amount must be greater than zero")]
    ZeroAmount = 13,
    /// The amount converts to zero tokens after rounding in the protocol's favour.
    #[error("amount is too small to convert to a non-zero amount")]
    AmountRoundsToZero = 14,
    /// The reserve has less available liquidity than requested.
    #[error("insufficient liquidity available in the reserve")]
    InsufficientLiquidity = 15,
    /// The reserve was not refreshed in this slot (or was changed since).
    #[error("reserve is stale and must be refreshed in the current slot")]
    ReserveStale = 16,
    /// The obligation was not refreshed in this slot (or was changed since).
    #[error("obligation is stale and must be refreshed in the current slot")]
    ObligationStale = 17,
    /// The signer is not the obligation's owner.
    #[error("signer is not the obligation owner")]
    InvalidObligationOwner = 18,
    /// The obligation already holds the maximum number of deposits or borrows.
    #[error("obligation has no room for another reserve")]
    ObligationReserveLimit = 19,
    /// The obligation has no collateral deposited in the given reserve.
    #[error("obligation has no collateral in this reserve")]
    ObligationCollateralNotFound = 20,
    /// The obligation has no borrow from the given reserve.
    #[error("obligation has no borrow from this reserve")]
    ObligationBorrowNotFound = 21,
    /// More collateral was requested than the obligation holds.
    #[error("withdrawal exceeds the deposited collateral")]
    InsufficientCollateral = 22,
    /// The withdrawal would leave the borrows above the allowed borrow value.
    #[error("withdrawal would leave the obligation under-collateralized")]
    WithdrawTooLarge = 23,
    /// The borrow would take the borrows above the allowed borrow value.
    #[error("borrow exceeds the obligation's remaining borrow capacity")]
    BorrowTooLarge = 24,
    /// The obligation is healthy and cannot be liquidated.
    #[error("obligation is healthy and cannot be liquidated")]
    ObligationHealthy = 25,
    /// The reserves passed to refresh an obligation do not match its deposits and borrows.
    #[error("reserve accounts do not match the obligation's deposits and borrows")]
    InvalidObligationReserves = 26,
    /// Arithmetic overflowed, divided by zero, or the clock moved backwards.
    #[error("math overflow")]
    MathOverflow = 27,
}

braid_runtime::custom_error_codes!(LendingError {
    AlreadyInitialized,
    Uninitialized,
    InvalidAccountOwner,
    InvalidAccountData,
    InvalidSigner,
    InvalidMarketOwner,
    InvalidMarket,
    InvalidMarketAuthority,
    InvalidConfig,
    InvalidTokenAccount,
    InvalidTokenProgram,
    InvalidOracle,
    InvalidOraclePrice,
    ZeroAmount,
    AmountRoundsToZero,
    InsufficientLiquidity,
    ReserveStale,
    ObligationStale,
    InvalidObligationOwner,
    ObligationReserveLimit,
    ObligationCollateralNotFound,
    ObligationBorrowNotFound,
    InsufficientCollateral,
    WithdrawTooLarge,
    BorrowTooLarge,
    ObligationHealthy,
    InvalidObligationReserves,
    MathOverflow,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        // Codes are part of the program's interface: appended, never renumbered.
        assert_eq!(LendingError::ALL.len(), 28);
        assert_eq!(LendingError::MathOverflow.code(), 27);
        assert_eq!(LendingError::try_from(28), Err(28));
    }
}
