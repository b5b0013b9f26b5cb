//! The insurance program's errors, reported as `InstructionError::Custom(code)`.
//!
//! Codes are stable: new variants are appended, never renumbered. [`InsuranceError::ALL`]
//! lists every error in code order, and `TryFrom<u32>` turns a code back into its error.

use braid_program_oracle::OracleError;
use braid_runtime::InstructionError;

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

impl InsuranceError {
    /// Every variant, in code order: `ALL[code]` is the error with that code.
    pub const ALL: [InsuranceError; 26] = [
        InsuranceError::InvalidPoolParams,
        InsuranceError::AlreadyInitialized,
        InsuranceError::WrongPool,
        InsuranceError::WrongVault,
        InsuranceError::WrongAuthority,
        InsuranceError::WrongOracle,
        InsuranceError::WrongPositionAddress,
        InsuranceError::WrongPolicyAddress,
        InsuranceError::NotOwner,
        InsuranceError::ZeroAmount,
        InsuranceError::DepositTooSmall,
        InsuranceError::PoolDepleted,
        InsuranceError::InsufficientShares,
        InsuranceError::InsufficientUnlockedCapital,
        InsuranceError::InsufficientCapacity,
        InsuranceError::InvalidExpiry,
        InsuranceError::InvalidStrike,
        InsuranceError::StrikeAlreadyReached,
        InsuranceError::StalePrice,
        InsuranceError::OracleUnavailable,
        InsuranceError::PriceAfterExpiry,
        InsuranceError::StrikeNotReached,
        InsuranceError::ClaimWindowClosed,
        InsuranceError::PolicyNotActive,
        InsuranceError::PolicyNotExpired,
        InsuranceError::Overflow,
    ];

    /// The code carried by `InstructionError::Custom`.
    pub const fn code(self) -> u32 {
        self as u32
    }
}

impl From<InsuranceError> for InstructionError {
    fn from(error: InsuranceError) -> Self {
        InstructionError::Custom(error.code())
    }
}

impl TryFrom<u32> for InsuranceError {
    /// The code, returned unchanged when no variant has it.
    type Error = u32;

    fn try_from(code: u32) -> Result<Self, u32> {
        usize::try_from(code)
            .ok()
            .and_then(|index| Self::ALL.get(index))
            .copied()
            .ok_or(code)
    }
}

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

    /// The listed variants, in the order given. The `match` has no wildcard arm, so a variant
    /// added to the enum but not listed here fails to compile: the list is always complete.
    macro_rules! every_variant {
        ($($variant:ident),* $(,)?) => {{
            let _exhaustive = |error: InsuranceError| match error {
                $(InsuranceError::$variant)|* => (),
            };
            [$(InsuranceError::$variant),*]
        }};
    }

    fn every_variant() -> Vec<InsuranceError> {
        every_variant!(
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
            Overflow
        )
        .to_vec()
    }

    #[test]
    fn all_lists_every_variant_in_code_order() {
        assert_eq!(InsuranceError::ALL.len(), every_variant().len());
        for (index, error) in InsuranceError::ALL.into_iter().enumerate() {
            assert_eq!(usize::try_from(error.code()), Ok(index), "{error:?}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for error in every_variant() {
            assert_eq!(InsuranceError::try_from(error.code()), Ok(error));
            assert_eq!(
                InstructionError::from(error),
                InstructionError::Custom(error.code())
            );
        }
    }

    #[test]
    fn unused_codes_are_returned_unchanged() {
        let first_unused = u32::try_from(every_variant().len()).unwrap();
        assert_eq!(first_unused, 26);
        assert_eq!(InsuranceError::try_from(first_unused), Err(first_unused));
        assert_eq!(InsuranceError::try_from(u32::MAX), Err(u32::MAX));
    }
}
