//! The ledger: an append-only file of blocks, one per slot, each checksummed.
//!
//! A block records the order in which a slot's transactions were committed (their wire
//! bytes, so the ledger alone can rebuild state), their outcomes, and the slot's hashes.
//! The banking stage appends a block and syncs it *before* it commits the slot's accounts,
//! so every slot reported as committed can be replayed from the ledger after a crash.
//!
//! Key decision: a torn tail is expected (a crash mid-append) and silently truncated; a bad
//! record *followed by more data* cannot come from a crash of an append-only writer, so it is
//! corruption and [`Ledger::open`] refuses with the file and offset.
//!
//! # Format (`blocks.log`, all integers little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `BLK1` ([`RECORD_MAGIC`]) |
//! | 4 | 4 | payload length `n` |
//! | 8 | `n` | payload (a [`Block`], below) |
//! | 8 + n | 32 | blake3 of bytes `[0, 8 + n)` |
//!
//! Payload: slot u64, parent bank hash (32), bank hash (32), state hash (32), entry count
//! u32, then per entry: transaction length u16, transaction wire bytes, status u8
//! (0 committed ok, 1 committed with a failed instruction), fee u64, compute units u64.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use braid_accounts_db::Disk;
use braid_primitives::Hash;

/// Magic bytes at the start of every record.
pub const RECORD_MAGIC: [u8; 4] = *b"BLK1";
/// Bytes of a record before its payload: magic and payload length.
pub const RECORD_HEADER_BYTES: usize = 8;
/// Bytes of a record's trailing checksum.
pub const RECORD_CHECKSUM_BYTES: usize = 32;
/// Largest payload a record may claim, in bytes; anything larger is corruption.
pub const RECORD_PAYLOAD_BYTES_MAX: usize = 1 << 30;
/// The ledger's file name inside its directory.
pub const LEDGER_FILE_NAME: &str = "blocks.log";

const BLOCK_FIXED_BYTES: usize = 8 + 32 * 3 + 4;
const ENTRY_FIXED_BYTES: usize = 2 + 1 + 8 + 8;

/// The outcome recorded for a committed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EntryStatus {
    /// It succeeded.
    Ok = 0,
    /// An instruction failed; only the fee was charged.
    Failed = 1,
}

/// One committed transaction in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The transaction's wire bytes.
    pub transaction: Vec<u8>,
    /// Whether it succeeded.
    pub status: EntryStatus,
    /// Lamports charged.
    pub fee: u64,
    /// Compute units consumed.
    pub compute_units: u64,
}

/// A slot's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The slot.
    pub slot: u64,
    /// The previous block's bank hash (the genesis hash for the first block).
    pub parent_bank_hash: Hash,
    /// This slot's bank hash.
    pub bank_hash: Hash,
    /// The state hash after this slot.
    pub state_hash: Hash,
    /// Committed transactions, in commit order.
    pub entries: Vec<Entry>,
}

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// An I/O error on the ledger file.
    #[error("ledger I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A record is damaged and more data follows it.
    #[error("ledger {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A block does not follow the previous one.
    #[error("block for slot {slot} does not follow slot {last}")]
    OutOfOrder {
        /// The new block's slot.
        slot: u64,
        /// The last block's slot.
        last: u64,
    },
    /// A transaction is too long to record.
    #[error("transaction of {0} bytes is too long to record")]
    TransactionTooLong(usize),
    /// An earlier append failed part way, leaving a partial record at the end of the file;
    /// appending after it would bury it mid-file, so the ledger must be reopened (which cuts
    /// it off as a torn tail).
    #[error("an earlier append to {0} failed; reopen the ledger")]
    Poisoned(PathBuf),
}

impl LedgerError {
    /// Whether this is the disk being full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::Io { source, .. } if braid_accounts_db::disk::is_disk_full(source))
    }
}

impl Block {
    /// Serializes the payload.
    pub fn encode(&self) -> Result<Vec<u8>, LedgerError> {
        let entries_bytes: usize = self
            .entries
            .iter()
            .map(|e| ENTRY_FIXED_BYTES.saturating_add(e.transaction.len()))
            .sum();
        let mut out = Vec::with_capacity(BLOCK_FIXED_BYTES.saturating_add(entries_bytes));
        out.extend_from_slice(&self.slot.to_le_bytes());
        out.extend_from_slice(self.parent_bank_hash.as_ref());
        out.extend_from_slice(self.bank_hash.as_ref());
        out.extend_from_slice(self.state_hash.as_ref());
        let count = u32::try_from(self.entries.len())
            .map_err(|_| LedgerError::TransactionTooLong(usize::MAX))?;
        out.extend_from_slice(&count.to_le_bytes());
        for entry in &self.entries {
            let len = u16::try_from(entry.transaction.len())
                .map_err(|_| LedgerError::TransactionTooLong(entry.transaction.len()))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&entry.transaction);
            out.push(entry.status as u8);
            out.extend_from_slice(&entry.fee.to_le_bytes());
            out.extend_from_slice(&entry.compute_units.to_le_bytes());
        }
        Ok(out)
    }

    /// Parses a payload; `None` if it is malformed.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader(bytes);
        let slot = reader.u64()?;
        let parent_bank_hash = reader.hash()?;
        let bank_hash = reader.hash()?;
        let state_hash = reader.hash()?;
        let count = reader.u32()?;
        // Each entry takes at least ENTRY_FIXED_BYTES: refuse counts the bytes can't hold
        // before allocating for them.
        if usize::try_from(count)
            .ok()?
            .checked_mul(ENTRY_FIXED_BYTES)?
            > reader.0.len()
        {
            return None;
        }
        let mut entries = Vec::with_capacity(usize::try_from(count).ok()?);
        for _ in 0..count {
            let len = usize::from(reader.u16()?);
            let transaction = reader.take(len)?.to_vec();
            let status = match reader.take(1)?[0] {
                0 => EntryStatus::Ok,
                1 => EntryStatus::Failed,
                _ => return None,
            };
            let fee = reader.u64()?;
            let compute_units = reader.u64()?;
            entries.push(Entry {
                transaction,
                status,
                fee,
                compute_units,
            });
        }
        reader.0.is_empty().then_some(Self {
            slot,
            parent_bank_hash,
            bank_hash,
            state_hash,
            entries,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn hash(&mut self) -> Option<Hash> {
        Some(Hash::new_from_array(self.take(32)?.try_into().ok()?))
    }
}

/// An open ledger: the blocks read at open, and the file to append to.
pub struct Ledger {
    path: PathBuf,
    file: File,
    last_slot: Option<u64>,
    disk: Disk,
    poisoned: bool,
}

impl Ledger {
    /// Opens (or creates) the ledger in `dir`, truncating a torn tail, and returns it with
    /// every complete block in order.
    pub fn open(dir: &Path) -> Result<(Self, Vec<Block>), LedgerError> {
        Self::open_with(dir, Disk::default())
    }

    /// [`open`](Self::open), with every durable write going through `disk`.
    pub fn open_with(dir: &Path, disk: Disk) -> Result<(Self, Vec<Block>), LedgerError> {
        let path = dir.join(LEDGER_FILE_NAME);
        let io = |source| LedgerError::Io {
            path: path.clone(),
            source,
        };
        disk.create_dir_all(dir).map_err(io)?;
        let mut file = disk
            .open(
                OpenOptions::new().read(true).append(true).create(true),
                &path,
            )
            .map_err(io)?;
        // The file's name must survive a crash as well as its contents: sync the directory
        // that holds it (once per open; a no-op cost next to a slot's fsyncs).
        disk.sync_dir(dir).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;

        let (blocks, offset) = scan(&bytes, &path)?;
        if offset < bytes.len() {
            // A crash mid-append: drop the partial record so the next append starts clean.
            disk.set_len(&file, offset as u64).map_err(io)?;
            disk.sync_all(&file).map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let last_slot = blocks.last().map(|block| block.slot);
        Ok((
            Self {
                path,
                file,
                last_slot,
                disk,
                poisoned: false,
            },
            blocks,
        ))
    }

    /// Appends `block` and syncs it to disk: when this returns, the block survives a crash.
    pub fn append(&mut self, block: &Block) -> Result<(), LedgerError> {
        if self.poisoned {
            return Err(LedgerError::Poisoned(self.path.clone()));
        }
        if let Some(last) = self.last_slot
            && block.slot <= last
        {
            return Err(LedgerError::OutOfOrder {
                slot: block.slot,
                last,
            });
        }
        let payload = block.encode()?;
        let len = u32::try_from(payload.len())
            .map_err(|_| LedgerError::TransactionTooLong(payload.len()))?;
        let mut record = Vec::with_capacity(
            RECORD_HEADER_BYTES
                .saturating_add(payload.len())
                .saturating_add(RECORD_CHECKSUM_BYTES),
        );
        record.extend_from_slice(&RECORD_MAGIC);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&payload);
        let checksum = blake3::hash(&record);
        record.extend_from_slice(checksum.as_bytes());
        let io = |source| LedgerError::Io {
            path: self.path.clone(),
            source,
        };
        let written = self
            .disk
            .write_all(&self.file, &record)
            .and_then(|()| self.disk.sync_data(&self.file));
        if let Err(source) = written {
            self.poisoned = true;
            return Err(io(source));
        }
        self.last_slot = Some(block.slot);
        Ok(())
    }

    /// The slot of the last block, if any.
    pub fn last_slot(&self) -> Option<u64> {
        self.last_slot
    }

    /// The ledger file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads every complete block of the ledger in `dir` without modifying it (a torn tail is
/// ignored, as [`Ledger::open`] would truncate it). No ledger file reads as no blocks.
pub fn read_blocks(dir: &Path) -> Result<Vec<Block>, LedgerError> {
    let path = dir.join(LEDGER_FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => scan(&bytes, &path).map(|(blocks, _)| blocks),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(LedgerError::Io { path, source }),
    }
}

/// Parses records from the start of `bytes`: the complete blocks, and the length they span
/// (anything after it is a torn tail).
fn scan(bytes: &[u8], path: &Path) -> Result<(Vec<Block>, usize), LedgerError> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        match parse_record(&bytes[offset..]) {
            Ok((block, len)) => {
                if let Some(last) = blocks.last()
                    && block.slot <= last.slot
                {
                    let path = path.to_owned();
                    return Err(LedgerError::Corrupt {
                        path,
                        offset: offset as u64,
                        reason: "slots out of order",
                    });
                }
                blocks.push(block);
                offset = offset.saturating_add(len);
            }
            Err(RecordFault::Torn) => break,
            // A file whose length reached the disk before its data reads back as zeros
            // after a crash: an interrupted append, not damage.
            Err(RecordFault::Bad(_)) if is_unwritten_tail(&bytes[offset..]) => break,
            Err(RecordFault::Bad(reason)) => {
                return Err(LedgerError::Corrupt {
                    path: path.to_owned(),
                    offset: offset as u64,
                    reason,
                });
            }
        }
    }
    Ok((blocks, offset))
}

/// Whether `rest` (everything from a bad record to the end of the file) is what an
/// interrupted append leaves when the file's length reached the disk before its data:
/// zeros, or the record's header followed by zeros.
fn is_unwritten_tail(rest: &[u8]) -> bool {
    let zeros = |bytes: &[u8]| bytes.iter().all(|&byte| byte == 0);
    zeros(rest)
        || (rest.len() >= RECORD_HEADER_BYTES
            && rest[..RECORD_MAGIC.len()] == RECORD_MAGIC
            && zeros(&rest[RECORD_HEADER_BYTES..]))
}

enum RecordFault {
    /// The record runs past the end of the file: an interrupted append.
    Torn,
    /// The record is damaged.
    Bad(&'static str),
}

/// Parses the record at the start of `bytes`, returning the block and the record's length.
fn parse_record(bytes: &[u8]) -> Result<(Block, usize), RecordFault> {
    if bytes.len() < RECORD_HEADER_BYTES {
        return Err(RecordFault::Torn);
    }
    if bytes[..4] != RECORD_MAGIC {
        return Err(RecordFault::Bad("bad record magic"));
    }
    let payload_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if payload_len > RECORD_PAYLOAD_BYTES_MAX {
        return Err(RecordFault::Bad("record length out of range"));
    }
    let body_end = RECORD_HEADER_BYTES.saturating_add(payload_len);
    let record_len = body_end.saturating_add(RECORD_CHECKSUM_BYTES);
    if bytes.len() < record_len {
        return Err(RecordFault::Torn);
    }
    let last_record = bytes.len() == record_len;
    let checksum = blake3::hash(&bytes[..body_end]);
    if checksum.as_bytes()[..] != bytes[body_end..record_len] {
        // Only the last record can have been torn by a crash; anything else is damage.
        return Err(if last_record {
            RecordFault::Torn
        } else {
            RecordFault::Bad("checksum mismatch")
        });
    }
    let block = Block::decode(&bytes[RECORD_HEADER_BYTES..body_end])
        .ok_or(RecordFault::Bad("malformed block"))?;
    Ok((block, record_len))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // small known values in tests
mod tests {
    use super::*;

    fn block(slot: u64, entries: usize) -> Block {
        Block {
            slot,
            parent_bank_hash: Hash::new_from_array([1; 32]),
            bank_hash: Hash::new_from_array([slot as u8; 32]),
            state_hash: Hash::new_from_array([3; 32]),
            entries: (0..entries)
                .map(|n| Entry {
                    transaction: vec![n as u8; 100 + n],
                    status: if n % 2 == 0 {
                        EntryStatus::Ok
                    } else {
                        EntryStatus::Failed
                    },
                    fee: 5_000,
                    compute_units: 150,
                })
                .collect(),
        }
    }

    fn file_len(dir: &Path) -> u64 {
        std::fs::metadata(dir.join(LEDGER_FILE_NAME)).unwrap().len()
    }

    #[test]
    fn blocks_round_trip_through_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ledger, blocks) = Ledger::open(dir.path()).unwrap();
        assert!(blocks.is_empty());
        ledger.append(&block(1, 3)).unwrap();
        ledger.append(&block(2, 0)).unwrap();
        assert!(matches!(
            ledger.append(&block(2, 1)),
            Err(LedgerError::OutOfOrder { slot: 2, last: 2 })
        ));
        drop(ledger);
        let (ledger, blocks) = Ledger::open(dir.path()).unwrap();
        assert_eq!(blocks, vec![block(1, 3), block(2, 0)]);
        assert_eq!(ledger.last_slot(), Some(2));
    }

    #[test]
    fn a_torn_tail_is_truncated_at_every_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ledger, _) = Ledger::open(dir.path()).unwrap();
        ledger.append(&block(1, 2)).unwrap();
        let first_len = file_len(dir.path());
        ledger.append(&block(2, 2)).unwrap();
        let full_len = file_len(dir.path());
        drop(ledger);
        let full = std::fs::read(dir.path().join(LEDGER_FILE_NAME)).unwrap();
        for cut in first_len..full_len {
            std::fs::write(dir.path().join(LEDGER_FILE_NAME), &full[..cut as usize]).unwrap();
            let (_, blocks) = Ledger::open(dir.path()).unwrap();
            assert_eq!(blocks, vec![block(1, 2)], "cut at {cut}");
            assert_eq!(file_len(dir.path()), first_len);
        }
    }

    #[test]
    fn a_tail_of_zeros_is_truncated_as_an_interrupted_append() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ledger, _) = Ledger::open(dir.path()).unwrap();
        ledger.append(&block(1, 2)).unwrap();
        let first_len = file_len(dir.path());
        drop(ledger);
        let path = dir.path().join(LEDGER_FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        // Zeros shorter than a header, and longer than a whole record.
        for zeros in [3, 4_096] {
            bytes.truncate(first_len as usize);
            bytes.resize(first_len as usize + zeros, 0);
            std::fs::write(&path, &bytes).unwrap();
            let (mut ledger, blocks) = Ledger::open(dir.path()).unwrap();
            assert_eq!(blocks, vec![block(1, 2)], "{zeros} zeros");
            assert_eq!(file_len(dir.path()), first_len);
            // Appending carries on after the cut.
            ledger.append(&block(2, 2)).unwrap();
            drop(ledger);
            assert_eq!(Ledger::open(dir.path()).unwrap().1.len(), 2);
            bytes = std::fs::read(&path).unwrap();
        }
        // The last record's header on disk, its body still zeros: torn too.
        bytes.truncate(first_len as usize);
        let header_and_zeros = {
            let mut record = RECORD_MAGIC.to_vec();
            record.extend_from_slice(&100u32.to_le_bytes());
            record.resize(RECORD_HEADER_BYTES + 100 + 32, 0);
            record
        };
        bytes.extend_from_slice(&header_and_zeros);
        std::fs::write(&path, &bytes).unwrap();
        let (_, blocks) = Ledger::open(dir.path()).unwrap();
        assert_eq!(blocks, vec![block(1, 2)]);
        assert_eq!(file_len(dir.path()), first_len);
        bytes = std::fs::read(&path).unwrap();
        // Zeros followed by anything else are damage, not a torn append.
        bytes.truncate(first_len as usize);
        bytes.resize(first_len as usize + 64, 0);
        bytes.push(1);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Ledger::open(dir.path()),
            Err(LedgerError::Corrupt { .. })
        ));
    }

    #[test]
    fn damage_before_the_tail_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ledger, _) = Ledger::open(dir.path()).unwrap();
        ledger.append(&block(1, 2)).unwrap();
        ledger.append(&block(2, 2)).unwrap();
        drop(ledger);
        let path = dir.path().join(LEDGER_FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        match Ledger::open(dir.path()) {
            Err(LedgerError::Corrupt {
                offset: 0,
                reason: "checksum mismatch",
                ..
            }) => {}
            other => panic!("expected corruption at 0, got {:?}", other.map(|(_, b)| b)),
        }
        bytes[20] ^= 0xFF;
        bytes[0] = b'X';
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Ledger::open(dir.path()),
            Err(LedgerError::Corrupt {
                offset: 0,
                reason: "bad record magic",
                ..
            })
        ));
    }

    #[test]
    fn malformed_payloads_never_panic() {
        for len in 0..200 {
            let junk: Vec<u8> = (0..len).map(|n| (n * 37 % 251) as u8).collect();
            let _ = Block::decode(&junk);
        }
        let mut huge_count = block(1, 0).encode().unwrap();
        let count_at = BLOCK_FIXED_BYTES - 4;
        huge_count[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Block::decode(&huge_count), None);
    }
}
