//! An order-independent hash of all accounts: a lattice hash (LtHash), as Solana's accounts
//! lattice hash.
//!
//! Each account hashes (blake3 in extendable-output mode) to [`LT_HASH_LANES`] 16-bit lanes;
//! the state is the lane-wise wrapping sum over all accounts. Adding is commutative, so
//! banking threads can fold their own writes (add the new value, subtract the old) in any
//! order and the sums agree bit for bit with serial execution. An account with zero lamports
//! does not exist and contributes nothing. The 32-byte [`LtHash::checksum`] of the lanes is
//! what bank hashes and manifests record.
//!
//! Key decision: 1024 × 16-bit lanes (2 KiB) rather than a sum of 256-bit digests, because a
//! small additive hash falls to generalised-birthday attacks; the lattice hash is what
//! Solana chose for the same job.

use crate::{Account, Hash, Pubkey};

/// Number of 16-bit lanes in a lattice hash.
pub const LT_HASH_LANES: usize = 1024;

/// A lattice hash: a multiset hash supporting add and remove.
#[derive(Clone, PartialEq, Eq)]
pub struct LtHash(pub [u16; LT_HASH_LANES]);

impl Default for LtHash {
    fn default() -> Self {
        Self::identity()
    }
}

impl std::fmt::Debug for LtHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LtHash({})", self.checksum())
    }
}

impl LtHash {
    /// The hash of no accounts.
    pub const fn identity() -> Self {
        Self([0; LT_HASH_LANES])
    }

    /// The hash of one account; [`identity`](Self::identity) if it has no lamports.
    pub fn of_account(key: &Pubkey, account: &Account) -> Self {
        if account.lamports == 0 {
            return Self::identity();
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&account.lamports.to_le_bytes());
        hasher.update(&(account.data.len() as u64).to_le_bytes());
        hasher.update(&account.data);
        hasher.update(&[u8::from(account.executable)]);
        hasher.update(account.owner.as_ref());
        hasher.update(key.as_ref());
        let mut bytes = [0u8; LT_HASH_LANES * 2];
        hasher.finalize_xof().fill(&mut bytes);
        let mut lanes = [0u16; LT_HASH_LANES];
        for (lane, pair) in lanes.iter_mut().zip(bytes.chunks_exact(2)) {
            *lane = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Self(lanes)
    }

    /// Adds `other`'s accounts to this set.
    pub fn mix_in(&mut self, other: &Self) {
        for (lane, add) in self.0.iter_mut().zip(other.0.iter()) {
            *lane = lane.wrapping_add(*add);
        }
    }

    /// Removes `other`'s accounts from this set.
    pub fn mix_out(&mut self, other: &Self) {
        for (lane, sub) in self.0.iter_mut().zip(other.0.iter()) {
            *lane = lane.wrapping_sub(*sub);
        }
    }

    /// Replaces one account's old value with its new value.
    pub fn update(&mut self, key: &Pubkey, old: Option<&Account>, new: &Account) {
        if let Some(old) = old {
            self.mix_out(&Self::of_account(key, old));
        }
        self.mix_in(&Self::of_account(key, new));
    }

    /// A 32-byte digest of the lanes.
    pub fn checksum(&self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        for lane in &self.0 {
            hasher.update(&lane.to_le_bytes());
        }
        Hash::new_from_array(*hasher.finalize().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(lamports: u64, data: &[u8]) -> Account {
        Account::with_data(lamports, data.to_vec(), &Pubkey::default())
    }

    #[test]
    fn order_of_updates_does_not_matter() {
        let keys: Vec<Pubkey> = (0..4u8).map(|n| Pubkey::new_from_array([n; 32])).collect();
        let mut forward = LtHash::identity();
        let mut backward = LtHash::identity();
        for key in &keys {
            forward.mix_in(&LtHash::of_account(key, &account(1, &[key.0[0]])));
        }
        for key in keys.iter().rev() {
            backward.mix_in(&LtHash::of_account(key, &account(1, &[key.0[0]])));
        }
        assert_eq!(forward, backward);
        forward.update(&keys[0], Some(&account(1, &[0])), &account(2, &[0]));
        assert_ne!(forward.checksum(), backward.checksum());
        forward.update(&keys[0], Some(&account(2, &[0])), &account(1, &[0]));
        assert_eq!(forward.checksum(), backward.checksum());
    }

    #[test]
    fn zero_lamport_accounts_are_absent() {
        let key = Pubkey::new_from_array([9; 32]);
        assert_eq!(
            LtHash::of_account(&key, &account(0, b"junk")),
            LtHash::identity()
        );
        let mut hash = LtHash::identity();
        hash.update(&key, None, &account(5, b"x"));
        hash.update(&key, Some(&account(5, b"x")), &account(0, b"x"));
        assert_eq!(hash, LtHash::identity());
    }
}
