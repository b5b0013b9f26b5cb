//! The insurance program's errors, reported as `InstructionError::Custom(code)`.
//!
//! Codes are stable: new variants are appended, never renumbered. [`InsuranceError::ALL`]
//! lists every error in code order, and `TryFrom<u32>` turns a code back into its error.

use braid_program_oracle::OracleError;

/// Everything the insurance program rejects for its own reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum InsuranceError {
    /// Pool parameters out of range (premium rate not in `1..=10_000` bps, collateral ratio
    /// not in `10_000..=COLLATERAL_RATIO_BPS_MAX`).
    #[error("invalid pool parameters")]
    InvalidPoolParams = 0,
    /// The pool account was already initialized.
    #[error("pool already initialized")]
    AlreadyInitialized = 1,
    /// A position or policy belongs to another pool.
    #[error("account belongs to another pool")]
    WrongPool = 2,
    /// The vault is not the pool's vault, or at initialization not a clean token account of
    /// the pool's mint owned by the pool authority.
    #[error("wrong or unusable vault")]
    WrongVault = 3,
    /// The account given as the pool authority is not the pool's program-derived authority.
    #[error("wrong pool authority")]
    WrongAuthority = 4,
    /// The oracle feed is not the pool's feed, or is not an initialized feed.
    #[error("wrong oracle feed")]
    WrongOracle = 5,
    /// The position account is not the owner's position address for this pool.
    #[error("wrong position address")]
    WrongPositionAddress = 6,
    /// The policy account is not the holder's policy address for this pool and policy id.
    #[error("wrong policy address")]
    WrongPolicyAddress = 7,
    /// The signer does not own the position or hold the policy.
    #[error("signer does not own this position or policy")]
    NotOwner = 8,
    /// An amount, share count or coverage of zero.
    #[error("amount must be positive")]
    ZeroAmount = 9,
    /// The deposit is too small to buy a single share.
    #[error("deposit too small to mint a share")]
    DepositTooSmall = 10,
    /// Every unit of capital was paid out while shares remain: new shares cannot be priced.
    #[error("pool capital is depleted")]
    PoolDepleted = 11,
    /// The position holds fewer shares than asked for.
    #[error("insufficient shares")]
    InsufficientShares = 12,
    /// A withdrawal larger than the pool's unlocked capital.
    #[error("insufficient unlocked capital")]
    InsufficientUnlockedCapital = 13,
    /// The capital a policy would lock exceeds the pool's unlocked capital.
    #[error("insufficient pool capacity")]
    InsufficientCapacity = 14,
    /// The expiry slot is not in the future, or expiry plus grace overflows.
    #[error("invalid expiry slot")]
    InvalidExpiry = 15,
    /// The strike price is not positive.
    #[error("strike price must be positive")]
    InvalidStrike = 16,
    /// At purchase the oracle price is already at or below the strike.
    #[error("oracle price is already at or below the strike")]
    StrikeAlreadyReached = 17,
    /// The oracle price is too old for the rule it is used under.
    #[error("oracle price is stale")]
    StalePrice = 18,
    /// The oracle feed has no usable price (uninitialized, never set, or undecodable).
    #[error("oracle price unavailable")]
    OracleUnavailable = 19,
    /// During the grace period the feed holds a price set after expiry, which cannot
    /// trigger a payout.
    #[error("oracle price was set after the policy expired")]
    PriceAfterExpiry = 20,
    /// The oracle price is above the strike.
    #[error("oracle price is above the strike")]
    StrikeNotReached = 21,
    /// The claim window (expiry plus grace) has passed.
    #[error("claim window closed")]
    ClaimWindowClosed = 22,
    /// The policy already paid out or expired.
    #[error("policy is not active")]
    PolicyNotActive = 23,
    /// The policy's claim window is still open.
    #[error("policy has not expired yet")]
    PolicyNotExpired = 24,
    /// Checked arithmetic overflowed (amounts too large for the pool).
    #[error("arithmetic overflow")]
    Overflow = 25,
}

braid_runtime::custom_error_codes!(InsuranceError {
    InvalidPoolParams,
    AlreadyInitialized,
    WrongPool,
    WrongVault,
    WrongAuthority,
    WrongOracle,
    WrongPositionAddress,
    WrongPolicyAddress,
    NotOwner,
    ZeroAmount,
    DepositTooSmall,
    PoolDepleted,
    InsufficientShares,
    InsufficientUnlockedCapital,
    InsufficientCapacity,
    InvalidExpiry,
    InvalidStrike,
    StrikeAlreadyReached,
    StalePrice,
    OracleUnavailable,
    PriceAfterExpiry,
    StrikeNotReached,
    ClaimWindowClosed,
    PolicyNotActive,
    PolicyNotExpired,
    Overflow,
});

impl From<OracleError> for InsuranceError {
    /// Oracle codes live in the oracle's own space; a consumer reports them in its own so a
    /// `Custom` code always names an insurance error.
    fn from(error: OracleError) -> Self {
        match error {
            OracleError::StalePrice => InsuranceError::StalePrice,
            OracleError::WrongOwner => InsuranceError::WrongOracle,
            _ => InsuranceError::OracleUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        // Codes are part of the program's interface: appended, never renumbered.
        assert_eq!(InsuranceError::ALL.len(), 26);
        assert_eq!(InsuranceError::Overflow.code(), 25);
        assert_eq!(InsuranceError::try_from(26), Err(26));
    }
}
