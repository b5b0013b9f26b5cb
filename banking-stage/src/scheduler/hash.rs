//! Lock-table keys: each account key is hashed once, when its transaction is queued, and
//! every map afterwards reuses that hash.
//!
//! The hash is the workspace's seeded [`KeyHasher`]. The maps key on [`LockKey`], which
//! carries that hash, through a pass-through hasher: a transaction touches the lock table
//! four times per account (check, lock, unlock, and the pass's blocked set), so hashing once
//! saves most of the hashing work. Scheduling never iterates a hash map, so the random seeds
//! cannot change its output.

use std::hash::{BuildHasher, Hash, Hasher};

use braid_primitives::Pubkey;
use braid_primitives::key_hasher::{KeyHasherBuilder, folded_multiply, word};

/// Mixing constant for inputs that are not already hashed.
const PASS_THROUGH_MIX: u64 = 0x9e37_79b9_7f4a_7c15;
/// Bytes in one word.
const WORD_BYTES: usize = 8;

/// An account key with its hash from the scheduler's [`KeyHasherBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockKey {
    /// Compared first, so unequal keys usually differ at once.
    hash: u64,
    key: Pubkey,
}

impl LockKey {
    /// Hashes `key` with `hasher`.
    pub fn new(key: Pubkey, hasher: &KeyHasherBuilder) -> Self {
        // Straight to `write`: the derived `Hash` would also mix in the constant length.
        let mut state = hasher.build_hasher();
        state.write(key.as_array());
        Self {
            hash: state.finish(),
            key,
        }
    }

    /// A key whose hash [`LockKey::new`] computed before.
    pub fn from_parts(hash: u64, key: Pubkey) -> Self {
        Self { hash, key }
    }

    /// The hash.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

impl Hash for LockKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Builds [`PassThroughHasher`]s, for maps keyed by [`LockKey`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThroughBuild;

impl BuildHasher for PassThroughBuild {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// Returns the `u64` it is given: the key was hashed already.
#[derive(Clone, Copy, Debug)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only reached by keys other than `LockKey` and u64; mix them rather than misbehave.
        for chunk in bytes.chunks(WORD_BYTES) {
            self.0 = folded_multiply(self.0 ^ word(chunk), PASS_THROUGH_MIX);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_carry_the_hash_through_the_map() {
        let build = KeyHasherBuilder::new();
        let key = Pubkey::new_from_array([3; 32]);
        let lock_key = LockKey::new(key, &build);
        assert_eq!(PassThroughBuild.hash_one(lock_key), lock_key.hash);
        assert_eq!(lock_key, LockKey::new(key, &build));
        assert_ne!(
            lock_key,
            LockKey::new(Pubkey::new_from_array([4; 32]), &build)
        );
    }
}
