//! The in-memory index: Pubkey → where the account's newest record lives, plus the open
//! slot's writes, split into shards by the key's first byte.
//!
//! Key decision: shards partition the key space by *range* (top bits of the first byte), not
//! by hash, so walking the shards in order and sorting each one yields every account in
//! pubkey order — what state hashing and snapshots need — without a global ordered map on
//! the read path. Inside a shard a hash map gives O(1) reads. An entry is 8 bytes
//! ([`Location`]); with the 32-byte key and hashbrown's control byte, a bucket is 41 bytes, so
//! even at the lowest load factor after a resize (7/16) an account costs under 64 bytes
//! beyond its key.

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use braid_primitives::KeyHasherBuilder;

use braid_primitives::Pubkey;

use crate::db::SlotWrite;

/// Number of shards (a power of two; shard = first key byte >> [`SHARD_SHIFT`]).
pub(crate) const SHARD_COUNT: usize = 64;
const SHARD_SHIFT: u32 = 2;
const _: () = assert!(SHARD_COUNT == 256 >> SHARD_SHIFT);

pub(crate) fn shard_of(key: &Pubkey) -> usize {
    usize::from(key.0[0].wrapping_shr(SHARD_SHIFT))
}

/// Bit of [`Location::segment`] marking a tombstone: the key's newest record is a deletion
/// that must stay on disk while older records of the key might still be.
const TOMBSTONE_BIT: u32 = 1 << 31;
/// Segment ids must stay below this so the tombstone bit is free.
pub(crate) const SEGMENT_ID_LIMIT: u32 = TOMBSTONE_BIT;

/// Where a record lives: segment id (with the tombstone bit) and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    segment: u32,
    pub offset: u32,
}

impl Location {
    pub fn new(segment: u32, offset: u32, tombstone: bool) -> Self {
        let flag = if tombstone { TOMBSTONE_BIT } else { 0 };
        Self {
            segment: segment | flag,
            offset,
        }
    }

    pub fn segment(self) -> u32 {
        self.segment & !TOMBSTONE_BIT
    }

    pub fn is_tombstone(self) -> bool {
        self.segment & TOMBSTONE_BIT != 0
    }
}

pub(crate) type KeyMap<V> = HashMap<Pubkey, V, KeyHasherBuilder>;

/// One shard: committed locations and the open slot's writes for its key range.
pub(crate) struct Shard {
    pub index: KeyMap<Location>,
    /// Writes of the open slot (zero lamports = delete), each with its value before the slot.
    pub pending: KeyMap<SlotWrite>,
    /// Writes of the slot being committed: visible to readers until the index takes over.
    pub committing: Option<Arc<KeyMap<SlotWrite>>>,
    /// Index entries that are not tombstones.
    pub accounts: u64,
}

impl Shard {
    pub fn new() -> Self {
        Self {
            index: KeyMap::with_hasher(KeyHasherBuilder::new()),
            pending: KeyMap::with_hasher(KeyHasherBuilder::new()),
            committing: None,
            accounts: 0,
        }
    }

    /// Heap bytes of the index map, from hashbrown's layout: buckets (a power of two at load
    /// factor ≤ 7/8) of (key, value) plus one control byte each, plus one group of trailing
    /// control bytes.
    pub fn index_bytes(&self) -> u64 {
        let capacity = self.index.capacity();
        if capacity == 0 {
            return 0;
        }
        let buckets = if capacity < 8 {
            capacity.saturating_add(1).next_power_of_two()
        } else {
            capacity.saturating_mul(8).div_ceil(7).next_power_of_two()
        };
        let bucket_bytes = std::mem::size_of::<(Pubkey, Location)>().saturating_add(1);
        (buckets.saturating_mul(bucket_bytes).saturating_add(16)) as u64
    }
}

/// Pads a shard lock to its own cache lines so readers on different cores do not bounce
/// each other's lock words.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_eight_bytes_and_flag_round_trips() {
        assert_eq!(std::mem::size_of::<Location>(), 8);
        assert_eq!(std::mem::size_of::<(Pubkey, Location)>(), 40);
        let location = Location::new(77, 1234, true);
        assert_eq!(
            (location.segment(), location.offset, location.is_tombstone()),
            (77, 1234, true)
        );
        assert!(!Location::new(77, 1234, false).is_tombstone());
    }

    #[test]
    fn shards_follow_key_order() {
        let mut previous = 0;
        for first in 0..=255u8 {
            let shard = shard_of(&Pubkey([first; 32]));
            assert!(shard >= previous && shard < SHARD_COUNT);
            previous = shard;
        }
    }
}
