//! Account state: the shared [`Pool`], per-underwriter [`Position`]s and per-policy
//! [`Policy`] accounts, all fixed-size borsh behind a one-byte [`AccountKind`] tag.
//!
//! The tag makes a zeroed account (fresh from `create_account`) read as uninitialized and
//! stops one kind of account being passed where another is expected: the three kinds have
//! different lengths too, but the tag does not rely on that.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::{InstructionError, Pubkey};

/// Size of a pool account's data, in bytes.
pub const POOL_BYTES: usize = 1 + 32 * 4 + 1 + 8 * 8;
/// Size of a position account's data, in bytes.
pub const POSITION_BYTES: usize = 1 + 32 * 2 + 8;
/// Size of a policy account's data, in bytes.
pub const POLICY_BYTES: usize = 1 + 32 * 2 + 8 * 7 + 1;

/// What an account of this program holds; the first byte of its data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum AccountKind {
    /// Zeroed: created but not initialized.
    #[default]
    Uninitialized = 0,
    /// A [`Pool`].
    Pool = 1,
    /// A [`Position`].
    Position = 2,
    /// A [`Policy`].
    Policy = 3,
}

/// An underwriting pool for one covered asset: the shared hot account, written by every
/// instruction but `OpenPosition`.
///
/// Accounting: `total_capital` is what underwriters own (deposits + premiums − withdrawals −
/// payouts); the vault may hold more (tokens sent to it directly are ignored), never less.
/// `locked_capital` is the sum of the capital locked by active policies, `active_coverage`
/// the sum of their coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// [`AccountKind::Pool`] once initialized.
    pub kind: AccountKind,
    /// The token the capital, premiums and payouts are in.
    pub mint: Pubkey,
    /// The pool's token account, owned by `authority`.
    pub vault: Pubkey,
    /// The program-derived address that owns the vault: `[AUTHORITY_SEED, pool]`.
    pub authority: Pubkey,
    /// The price feed whose price triggers claims.
    pub oracle_feed: Pubkey,
    /// Bump seed of `authority`.
    pub authority_bump: u8,
    /// Premium as a fraction of coverage, in basis points.
    pub premium_rate_bps: u64,
    /// Capital locked per unit of coverage, in basis points (at least 100%).
    pub collateral_ratio_bps: u64,
    /// Oldest oracle price accepted while a policy is running, in slots.
    pub max_oracle_age_slots: u64,
    /// Slots after expiry during which a policy may still claim on a price set at or before
    /// its expiry.
    pub claim_grace_slots: u64,
    /// Capital owned by underwriters, in token units.
    pub total_capital: u64,
    /// Capital locked by active policies, in token units.
    pub locked_capital: u64,
    /// Shares outstanding over all positions.
    pub total_shares: u64,
    /// Coverage of all active policies, in token units.
    pub active_coverage: u64,
}

/// One underwriter's shares in one pool, at `[POSITION_SEED, pool, owner]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Position {
    /// [`AccountKind::Position`] once initialized.
    pub kind: AccountKind,
    /// The pool.
    pub pool: Pubkey,
    /// The underwriter: the only key that may deposit into or withdraw from it.
    pub owner: Pubkey,
    /// Shares held.
    pub shares: u64,
}

/// Where a policy is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum PolicyStatus {
    /// Bought, its capital locked; may claim or expire.
    #[default]
    Active = 0,
    /// Paid out its coverage (once, ever).
    Claimed = 1,
    /// Expired unclaimed; its capital was released.
    Expired = 2,
}

/// One policy, at `[POLICY_SEED, pool, holder, policy_id]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Policy {
    /// [`AccountKind::Policy`] once initialized.
    pub kind: AccountKind,
    /// The pool that underwrites it.
    pub pool: Pubkey,
    /// Who bought it and is paid on a claim.
    pub holder: Pubkey,
    /// The holder's id for it (part of its address).
    pub policy_id: u64,
    /// Paid on a claim, in token units.
    pub coverage: u64,
    /// Capital it locks while active, in token units.
    pub locked: u64,
    /// Premium paid, in token units.
    pub premium: u64,
    /// Pays when the oracle price is at or below this, in the feed's units.
    pub strike_price: i64,
    /// The slot it was bought in.
    pub start_slot: u64,
    /// Last slot of cover.
    pub expiry_slot: u64,
    /// Active, claimed or expired.
    pub status: PolicyStatus,
}

/// Decodes `data` as a `T` of exactly `len` bytes tagged `kind`. A zeroed account is
/// `UninitializedAccount`; anything else that is not a `T` is `InvalidAccountData`.
fn unpack_kind<T: BorshDeserialize>(
    data: &[u8],
    len: usize,
    kind: AccountKind,
) -> Result<T, InstructionError> {
    if data.len() != len {
        return Err(InstructionError::InvalidAccountData);
    }
    match data.first() {
        Some(&tag) if tag == kind as u8 => {
            T::try_from_slice(data).map_err(|_| InstructionError::InvalidAccountData)
        }
        Some(0) => Err(InstructionError::UninitializedAccount),
        _ => Err(InstructionError::InvalidAccountData),
    }
}

fn pack_exact<T: BorshSerialize>(
    value: &T,
    data: &mut [u8],
    len: usize,
) -> Result<(), InstructionError> {
    if data.len() != len {
        return Err(InstructionError::InvalidAccountData);
    }
    let mut cursor = data;
    value
        .serialize(&mut cursor)
        .map_err(|_| InstructionError::AccountDataTooSmall)
}

impl Pool {
    /// Decodes an initialized pool.
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        unpack_kind(data, POOL_BYTES, AccountKind::Pool)
    }

    /// Encodes into a pool account's data.
    pub fn pack(&self, data: &mut [u8]) -> Result<(), InstructionError> {
        pack_exact(self, data, POOL_BYTES)
    }

    /// Capital not locked by any policy: what policies may lock and underwriters withdraw.
    pub fn unlocked_capital(&self) -> u64 {
        self.total_capital.saturating_sub(self.locked_capital)
    }
}

impl Position {
    /// Decodes an initialized position.
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        unpack_kind(data, POSITION_BYTES, AccountKind::Position)
    }

    /// Encodes into a position account's data.
    pub fn pack(&self, data: &mut [u8]) -> Result<(), InstructionError> {
        pack_exact(self, data, POSITION_BYTES)
    }
}

impl Policy {
    /// Decodes an initialized policy.
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        unpack_kind(data, POLICY_BYTES, AccountKind::Policy)
    }

    /// Encodes into a policy account's data.
    pub fn pack(&self, data: &mut [u8]) -> Result<(), InstructionError> {
        pack_exact(self, data, POLICY_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_the_encoded_sizes() {
        let pool = Pool {
            kind: AccountKind::Pool,
            ..Pool::default()
        };
        assert_eq!(borsh::to_vec(&pool).unwrap().len(), POOL_BYTES);
        let position = Position {
            kind: AccountKind::Position,
            ..Position::default()
        };
        assert_eq!(borsh::to_vec(&position).unwrap().len(), POSITION_BYTES);
        let policy = Policy {
            kind: AccountKind::Policy,
            ..Policy::default()
        };
        assert_eq!(borsh::to_vec(&policy).unwrap().len(), POLICY_BYTES);
    }

    #[test]
    fn kinds_are_not_interchangeable() {
        let zero = vec![0u8; POOL_BYTES];
        assert_eq!(
            Pool::unpack(&zero),
            Err(InstructionError::UninitializedAccount)
        );
        let mut data = vec![0u8; POOL_BYTES];
        Pool {
            kind: AccountKind::Pool,
            ..Pool::default()
        }
        .pack(&mut data)
        .unwrap();
        data[0] = AccountKind::Policy as u8;
        assert_eq!(
            Pool::unpack(&data),
            Err(InstructionError::InvalidAccountData)
        );
        assert_eq!(
            Pool::unpack(&data[1..]),
            Err(InstructionError::InvalidAccountData)
        );
        assert_eq!(
            Policy::unpack(&[]),
            Err(InstructionError::InvalidAccountData)
        );
        let mut policy = vec![0u8; POLICY_BYTES];
        policy[0] = AccountKind::Policy as u8;
        *policy.last_mut().unwrap() = 9; // not a status
        assert_eq!(
            Policy::unpack(&policy),
            Err(InstructionError::InvalidAccountData)
        );
    }
}
