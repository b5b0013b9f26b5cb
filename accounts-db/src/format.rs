//! On-disk layouts: the account record and the manifest, byte by byte.
//!
//! `accounts-db/FORMAT.md` is the specification; every constant here mirrors a row of its
//! tables, and the `const _: () = assert!(...)` lines check that the fields tile each layout
//! with no gap or overlap. All integers are little-endian.
//!
//! Key decision: checksums are the first 16 bytes of BLAKE3 rather than CRC32C. BLAKE3 is
//! already a dependency, a 128-bit checksum makes an undetected torn or flipped record
//! astronomically unlikely (a 32-bit CRC collides once in four billion damaged records), and
//! it runs once per record at commit and at open, not on the read path.

use braid_primitives::{ACCOUNT_DATA_BYTES_MAX, Account, HASH_BYTES, Hash, PUBKEY_BYTES, Pubkey};

// ----- record -----

/// Offset of the slot the record was written in (u64).
pub const RECORD_SLOT_OFFSET: usize = 0;
/// Offset of the account's public key (32 bytes).
pub const RECORD_PUBKEY_OFFSET: usize = 8;
/// Offset of the lamports (u64); zero marks a deletion (tombstone).
pub const RECORD_LAMPORTS_OFFSET: usize = 40;
/// Offset of the owner program id (32 bytes).
pub const RECORD_OWNER_OFFSET: usize = 48;
/// Offset of the data length (u64).
pub const RECORD_DATA_LEN_OFFSET: usize = 80;
/// Offset of the executable flag (u8, 0 or 1).
pub const RECORD_EXECUTABLE_OFFSET: usize = 88;
/// Offset of the reserved bytes (must be zero).
pub const RECORD_RESERVED_OFFSET: usize = 89;
/// Number of reserved bytes.
pub const RECORD_RESERVED_BYTES: usize = 7;
/// Offset of the checksum: the first 16 bytes of BLAKE3 over bytes `0..96` and the data.
pub const RECORD_CHECKSUM_OFFSET: usize = 96;
/// Length of a record checksum.
pub const RECORD_CHECKSUM_BYTES: usize = 16;
/// Length of the fixed header; the data starts here.
pub const RECORD_HEADER_BYTES: usize = 112;
/// Records start at multiples of this; the gap after the data is zero.
pub const RECORD_ALIGN_BYTES: usize = 8;

const _: () = assert!(RECORD_PUBKEY_OFFSET == RECORD_SLOT_OFFSET + 8);
const _: () = assert!(RECORD_LAMPORTS_OFFSET == RECORD_PUBKEY_OFFSET + PUBKEY_BYTES);
const _: () = assert!(RECORD_OWNER_OFFSET == RECORD_LAMPORTS_OFFSET + 8);
const _: () = assert!(RECORD_DATA_LEN_OFFSET == RECORD_OWNER_OFFSET + PUBKEY_BYTES);
const _: () = assert!(RECORD_EXECUTABLE_OFFSET == RECORD_DATA_LEN_OFFSET + 8);
const _: () = assert!(RECORD_RESERVED_OFFSET == RECORD_EXECUTABLE_OFFSET + 1);
const _: () = assert!(RECORD_CHECKSUM_OFFSET == RECORD_RESERVED_OFFSET + RECORD_RESERVED_BYTES);
const _: () = assert!(RECORD_HEADER_BYTES == RECORD_CHECKSUM_OFFSET + RECORD_CHECKSUM_BYTES);
const _: () = assert!(RECORD_HEADER_BYTES.is_multiple_of(RECORD_ALIGN_BYTES));
const _: () = assert!(RECORD_ALIGN_BYTES.is_power_of_two());
/// The largest record must fit a u32 segment offset.
pub const RECORD_BYTES_MAX: usize =
    RECORD_HEADER_BYTES + ACCOUNT_DATA_BYTES_MAX + RECORD_ALIGN_BYTES;
const _: () = assert!(RECORD_BYTES_MAX < u32::MAX as usize);

/// Bytes a record with `data_len` bytes of data occupies, padding included.
pub fn record_bytes(data_len: u64) -> Option<u64> {
    let unpadded = data_len.checked_add(RECORD_HEADER_BYTES as u64)?;
    let mask = (RECORD_ALIGN_BYTES as u64).checked_sub(1)?;
    Some(unpadded.checked_add(mask)? & !mask)
}

fn checksum(header_prefix: &[u8], data: &[u8]) -> [u8; RECORD_CHECKSUM_BYTES] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(header_prefix);
    hasher.update(data);
    let mut out = [0u8; RECORD_CHECKSUM_BYTES];
    hasher.finalize_xof().fill(&mut out);
    out
}

/// The header of a record holding `account` at `key`, written in `slot`.
pub fn encode_record_header(
    slot: u64,
    key: &Pubkey,
    account: &Account,
) -> [u8; RECORD_HEADER_BYTES] {
    let mut header = [0u8; RECORD_HEADER_BYTES];
    header[RECORD_SLOT_OFFSET..][..8].copy_from_slice(&slot.to_le_bytes());
    header[RECORD_PUBKEY_OFFSET..][..PUBKEY_BYTES].copy_from_slice(key.as_ref());
    header[RECORD_LAMPORTS_OFFSET..][..8].copy_from_slice(&account.lamports.to_le_bytes());
    header[RECORD_OWNER_OFFSET..][..PUBKEY_BYTES].copy_from_slice(account.owner.as_ref());
    header[RECORD_DATA_LEN_OFFSET..][..8]
        .copy_from_slice(&(account.data.len() as u64).to_le_bytes());
    header[RECORD_EXECUTABLE_OFFSET] = u8::from(account.executable);
    let sum = checksum(&header[..RECORD_CHECKSUM_OFFSET], &account.data);
    header[RECORD_CHECKSUM_OFFSET..][..RECORD_CHECKSUM_BYTES].copy_from_slice(&sum);
    header
}

/// A record decoded in place.
#[derive(Debug)]
pub struct RecordView<'a> {
    /// Slot the record was written in.
    pub slot: u64,
    /// The account's key.
    pub key: Pubkey,
    /// Lamports; zero is a tombstone.
    pub lamports: u64,
    /// Owner program.
    pub owner: Pubkey,
    /// Executable flag.
    pub executable: bool,
    /// The data, borrowed from the segment.
    pub data: &'a [u8],
    /// Bytes the record occupies including padding.
    pub total_bytes: u64,
}

impl RecordView<'_> {
    /// Copies the record out as an [`Account`].
    pub fn to_account(&self) -> Account {
        Account {
            lamports: self.lamports,
            owner: self.owner,
            executable: self.executable,
            data: self.data.to_vec(),
        }
    }
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[offset..][..8]);
    u64::from_le_bytes(word)
}

fn key_at(bytes: &[u8], offset: usize) -> Pubkey {
    let mut key = [0u8; PUBKEY_BYTES];
    key.copy_from_slice(&bytes[offset..][..PUBKEY_BYTES]);
    Pubkey(key)
}

/// Decodes the record at the start of `bytes` (which runs to the end of the committed range).
/// `verify` checks the checksum, the reserved bytes and the padding; open and compaction
/// verify, the read path trusts what open already verified.
pub fn decode_record(bytes: &[u8], verify: bool) -> Result<RecordView<'_>, &'static str> {
    let header = bytes
        .get(..RECORD_HEADER_BYTES)
        .ok_or("header runs past the committed length")?;
    let data_len = u64_at(header, RECORD_DATA_LEN_OFFSET);
    if data_len > ACCOUNT_DATA_BYTES_MAX as u64 {
        return Err("data length exceeds the 10 MiB maximum");
    }
    let total_bytes = record_bytes(data_len).ok_or("record length overflows")?;
    let total = usize::try_from(total_bytes).map_err(|_| "record length overflows")?;
    let data_end = RECORD_HEADER_BYTES
        .checked_add(usize::try_from(data_len).map_err(|_| "data length overflows")?)
        .ok_or("data length overflows")?;
    let record = bytes
        .get(..total)
        .ok_or("record runs past the committed length")?;
    let executable = match header[RECORD_EXECUTABLE_OFFSET] {
        0 => false,
        1 => true,
        _ => return Err("executable flag is neither 0 nor 1"),
    };
    let data = &record[RECORD_HEADER_BYTES..data_end];
    if verify {
        if header[RECORD_RESERVED_OFFSET..][..RECORD_RESERVED_BYTES]
            .iter()
            .any(|&byte| byte != 0)
        {
            return Err("reserved header bytes are not zero");
        }
        if record[data_end..].iter().any(|&byte| byte != 0) {
            return Err("padding bytes are not zero");
        }
        let expected = checksum(&header[..RECORD_CHECKSUM_OFFSET], data);
        if header[RECORD_CHECKSUM_OFFSET..][..RECORD_CHECKSUM_BYTES] != expected {
            return Err("checksum mismatch");
        }
    }
    Ok(RecordView {
        slot: u64_at(header, RECORD_SLOT_OFFSET),
        key: key_at(header, RECORD_PUBKEY_OFFSET),
        lamports: u64_at(header, RECORD_LAMPORTS_OFFSET),
        owner: key_at(header, RECORD_OWNER_OFFSET),
        executable,
        data,
        total_bytes,
    })
}

// ----- manifest -----

/// The manifest's magic number, "BRDMANI1".
pub const MANIFEST_MAGIC: [u8; 8] = *b"BRDMANI1";
/// Offset of the magic.
pub const MANIFEST_MAGIC_OFFSET: usize = 0;
/// Offset of the format version (u32).
pub const MANIFEST_VERSION_OFFSET: usize = 8;
/// Offset of the number of segment entries (u32).
pub const MANIFEST_SEGMENT_COUNT_OFFSET: usize = 12;
/// Offset of the commit sequence number (u64); the higher valid copy wins.
pub const MANIFEST_SEQUENCE_OFFSET: usize = 16;
/// Offset of the committed slot (u64).
pub const MANIFEST_SLOT_OFFSET: usize = 24;
/// Offset of the state hash the caller committed with the slot (32 bytes).
pub const MANIFEST_STATE_HASH_OFFSET: usize = 32;
/// Offset of the next unused segment id (u32).
pub const MANIFEST_NEXT_SEGMENT_ID_OFFSET: usize = 64;
/// Offset of the reserved u32 (must be zero).
pub const MANIFEST_RESERVED_OFFSET: usize = 68;
/// Length of the fixed manifest header; segment entries follow.
pub const MANIFEST_HEADER_BYTES: usize = 72;
/// The version this code writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// Offset within a segment entry of the segment id (u32).
pub const SEGMENT_ENTRY_ID_OFFSET: usize = 0;
/// Offset within a segment entry of the reserved u32 (must be zero).
pub const SEGMENT_ENTRY_RESERVED_OFFSET: usize = 4;
/// Offset within a segment entry of the committed length (u64).
pub const SEGMENT_ENTRY_COMMITTED_LEN_OFFSET: usize = 8;
/// Offset within a segment entry of the slot committed when the segment was created (u64).
pub const SEGMENT_ENTRY_CREATED_AFTER_SLOT_OFFSET: usize = 16;
/// Length of one segment entry.
pub const SEGMENT_ENTRY_BYTES: usize = 24;
/// Length of the manifest checksum (BLAKE3, full 32 bytes) that follows the entries.
pub const MANIFEST_CHECKSUM_BYTES: usize = 32;

const _: () = assert!(MANIFEST_VERSION_OFFSET == MANIFEST_MAGIC_OFFSET + MANIFEST_MAGIC.len());
const _: () = assert!(MANIFEST_SEGMENT_COUNT_OFFSET == MANIFEST_VERSION_OFFSET + 4);
const _: () = assert!(MANIFEST_SEQUENCE_OFFSET == MANIFEST_SEGMENT_COUNT_OFFSET + 4);
const _: () = assert!(MANIFEST_SLOT_OFFSET == MANIFEST_SEQUENCE_OFFSET + 8);
const _: () = assert!(MANIFEST_STATE_HASH_OFFSET == MANIFEST_SLOT_OFFSET + 8);
const _: () = assert!(MANIFEST_NEXT_SEGMENT_ID_OFFSET == MANIFEST_STATE_HASH_OFFSET + HASH_BYTES);
const _: () = assert!(MANIFEST_RESERVED_OFFSET == MANIFEST_NEXT_SEGMENT_ID_OFFSET + 4);
const _: () = assert!(MANIFEST_HEADER_BYTES == MANIFEST_RESERVED_OFFSET + 4);
const _: () = assert!(SEGMENT_ENTRY_RESERVED_OFFSET == SEGMENT_ENTRY_ID_OFFSET + 4);
const _: () = assert!(SEGMENT_ENTRY_COMMITTED_LEN_OFFSET == SEGMENT_ENTRY_RESERVED_OFFSET + 4);
const _: () =
    assert!(SEGMENT_ENTRY_CREATED_AFTER_SLOT_OFFSET == SEGMENT_ENTRY_COMMITTED_LEN_OFFSET + 8);
const _: () = assert!(SEGMENT_ENTRY_BYTES == SEGMENT_ENTRY_CREATED_AFTER_SLOT_OFFSET + 8);

/// One segment as the manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentEntry {
    /// Segment id; the file is `seg-{id:010}.dat`.
    pub id: u32,
    /// Bytes of the segment that belong to committed slots; anything after is a torn tail.
    pub committed_len: u64,
    /// The last committed slot when the segment was created: the segment holds no record
    /// that a tombstone from a later slot could need to shadow.
    pub created_after_slot: u64,
}

/// A decoded manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Commit sequence number: 0 for a fresh database, +1 per manifest written.
    pub sequence: u64,
    /// The last committed slot.
    pub slot: u64,
    /// Its state hash.
    pub state_hash: Hash,
    /// The next segment id to hand out (ids are never reused).
    pub next_segment_id: u32,
    /// The live segments, in id order.
    pub segments: Vec<SegmentEntry>,
}

impl Manifest {
    /// The manifest as bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let entries_bytes = self.segments.len().saturating_mul(SEGMENT_ENTRY_BYTES);
        let mut out = Vec::with_capacity(
            MANIFEST_HEADER_BYTES
                .saturating_add(entries_bytes)
                .saturating_add(MANIFEST_CHECKSUM_BYTES),
        );
        out.extend_from_slice(&MANIFEST_MAGIC);
        out.extend_from_slice(&MANIFEST_VERSION.to_le_bytes());
        // More than u32::MAX segments would need > 100 TB of segment files; saturate, and the
        // checksum/length check on read rejects the result rather than misreading it.
        let count = u32::try_from(self.segments.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&self.slot.to_le_bytes());
        out.extend_from_slice(self.state_hash.as_ref());
        out.extend_from_slice(&self.next_segment_id.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for entry in &self.segments {
            out.extend_from_slice(&entry.id.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&entry.committed_len.to_le_bytes());
            out.extend_from_slice(&entry.created_after_slot.to_le_bytes());
        }
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// Decodes a manifest; on failure, the byte offset and the failed check. Bytes after the
    /// checksum are ignored (a shorter manifest may overwrite a longer one in place).
    pub fn decode(bytes: &[u8]) -> Result<Self, (u64, &'static str)> {
        let header = bytes
            .get(..MANIFEST_HEADER_BYTES)
            .ok_or((0, "shorter than the manifest header"))?;
        if header[..MANIFEST_MAGIC.len()] != MANIFEST_MAGIC {
            return Err((MANIFEST_MAGIC_OFFSET as u64, "bad magic"));
        }
        let mut word = [0u8; 4];
        word.copy_from_slice(&header[MANIFEST_SEGMENT_COUNT_OFFSET..][..4]);
        let count = u32::from_le_bytes(word);
        let entries_bytes = usize::try_from(count)
            .ok()
            .and_then(|count| count.checked_mul(SEGMENT_ENTRY_BYTES))
            .ok_or((
                MANIFEST_SEGMENT_COUNT_OFFSET as u64,
                "segment count overflows",
            ))?;
        let checksum_offset = MANIFEST_HEADER_BYTES.checked_add(entries_bytes).ok_or((
            MANIFEST_SEGMENT_COUNT_OFFSET as u64,
            "segment count overflows",
        ))?;
        let checksum_end = checksum_offset
            .checked_add(MANIFEST_CHECKSUM_BYTES)
            .ok_or((
                MANIFEST_SEGMENT_COUNT_OFFSET as u64,
                "segment count overflows",
            ))?;
        let stored = bytes
            .get(checksum_offset..checksum_end)
            .ok_or((checksum_offset as u64, "truncated before its checksum"))?;
        if blake3::hash(&bytes[..checksum_offset]).as_bytes()[..] != stored[..] {
            return Err((checksum_offset as u64, "checksum mismatch"));
        }
        // Past the checksum, a bad field is a writer bug, not damage; still never trust it.
        word.copy_from_slice(&header[MANIFEST_VERSION_OFFSET..][..4]);
        if u32::from_le_bytes(word) != MANIFEST_VERSION {
            return Err((MANIFEST_VERSION_OFFSET as u64, "unsupported version"));
        }
        word.copy_from_slice(&header[MANIFEST_NEXT_SEGMENT_ID_OFFSET..][..4]);
        let next_segment_id = u32::from_le_bytes(word);
        let mut hash = [0u8; HASH_BYTES];
        hash.copy_from_slice(&header[MANIFEST_STATE_HASH_OFFSET..][..HASH_BYTES]);
        let mut segments = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for (index, raw) in bytes[MANIFEST_HEADER_BYTES..checksum_offset]
            .chunks_exact(SEGMENT_ENTRY_BYTES)
            .enumerate()
        {
            word.copy_from_slice(&raw[SEGMENT_ENTRY_ID_OFFSET..][..4]);
            let id = u32::from_le_bytes(word);
            let offset = index
                .checked_mul(SEGMENT_ENTRY_BYTES)
                .and_then(|o| o.checked_add(MANIFEST_HEADER_BYTES))
                .unwrap_or(usize::MAX) as u64;
            if id >= next_segment_id {
                return Err((offset, "segment id not below the next segment id"));
            }
            if segments
                .last()
                .is_some_and(|last: &SegmentEntry| last.id >= id)
            {
                return Err((offset, "segment ids not increasing"));
            }
            segments.push(SegmentEntry {
                id,
                committed_len: u64_at(raw, SEGMENT_ENTRY_COMMITTED_LEN_OFFSET),
                created_after_slot: u64_at(raw, SEGMENT_ENTRY_CREATED_AFTER_SLOT_OFFSET),
            });
        }
        Ok(Self {
            sequence: u64_at(header, MANIFEST_SEQUENCE_OFFSET),
            slot: u64_at(header, MANIFEST_SLOT_OFFSET),
            state_hash: Hash(hash),
            next_segment_id,
            segments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_detects_flips() {
        let account = Account::with_data(7, vec![1, 2, 3, 4, 5], &Pubkey([9; 32]));
        let key = Pubkey([3; 32]);
        let header = encode_record_header(42, &key, &account);
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(&account.data);
        bytes.resize(record_bytes(5).unwrap() as usize, 0);
        assert_eq!(bytes.len(), 120);
        let view = decode_record(&bytes, true).unwrap();
        assert_eq!((view.slot, view.key, view.total_bytes), (42, key, 120));
        assert_eq!(view.to_account(), account);
        for index in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[index] ^= 0x10;
            assert!(
                decode_record(&damaged, true).is_err(),
                "flip at {index} undetected"
            );
        }
    }

    #[test]
    fn manifest_round_trips_and_detects_flips() {
        let manifest = Manifest {
            sequence: 5,
            slot: 77,
            state_hash: Hash([4; 32]),
            next_segment_id: 9,
            segments: vec![
                SegmentEntry {
                    id: 2,
                    committed_len: 100,
                    created_after_slot: 3,
                },
                SegmentEntry {
                    id: 8,
                    committed_len: 0,
                    created_after_slot: 70,
                },
            ],
        };
        let bytes = manifest.encode();
        assert_eq!(
            bytes.len(),
            MANIFEST_HEADER_BYTES + 2 * SEGMENT_ENTRY_BYTES + 32
        );
        assert_eq!(Manifest::decode(&bytes).unwrap(), manifest);
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0xff; 40]);
        assert_eq!(Manifest::decode(&longer).unwrap(), manifest);
        for index in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[index] ^= 1;
            assert!(
                Manifest::decode(&damaged).is_err(),
                "flip at {index} undetected"
            );
        }
    }
}
