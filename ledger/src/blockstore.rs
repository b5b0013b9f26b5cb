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
//! | 0 | 4 | magic `BLK2` ([`RECORD_MAGIC`]; `BLK1` records are still read) |
//! | 4 | 4 | payload length `n` |
//! | 8 | `n` | payload (a [`Block`], below) |
//! | 8 + n | 32 | blake3 of bytes `[0, 8 + n)` |
//!
//! `BLK2` payload: slot u64, parent bank hash (32), bank hash (32), state hash (32), block
//! time i64 (Unix seconds; `i64::MIN` for none), entry count u32, then per entry:
//! transaction length u16, transaction wire bytes, status u8 (0 committed ok, 1 committed
//! with a failed instruction), fee u64, compute units u64, metadata length u32 (0 for none),
//! metadata: an [`EntryMeta`] in bincode's standard serde encoding.
//!
//! `BLK1` payload (written before transaction history): the same without the block time and
//! without the metadata length and bytes.
//!
//! The block time and metadata are history, not state: neither enters the bank hash, and
//! replay checks the metadata against its own execution wherever both exist.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use braid_accounts_db::Disk;
use braid_primitives::Hash;
use braid_runtime::TransactionError;
use braid_runtime::address_lookup_table::LoadedAddresses;
use braid_runtime::balances::TransactionBalances;
use braid_runtime::invoke_context::InnerInstruction;
use serde::{Deserialize, Serialize};

/// Magic bytes at the start of every record written now.
pub const RECORD_MAGIC: [u8; 4] = *b"BLK2";
/// Magic bytes of records written before blocks carried history (read, never written).
pub const RECORD_MAGIC_V1: [u8; 4] = *b"BLK1";
/// Bytes of a record before its payload: magic and payload length.
pub const RECORD_HEADER_BYTES: usize = 8;
/// Bytes of a record's trailing checksum.
pub const RECORD_CHECKSUM_BYTES: usize = 32;
/// Largest payload a record may claim, in bytes; anything larger is corruption.
pub const RECORD_PAYLOAD_BYTES_MAX: usize = 1 << 30;
/// The ledger's file name inside its directory.
pub const LEDGER_FILE_NAME: &str = "blocks.log";

const BLOCK_FIXED_BYTES: usize = 8 + 32 * 3 + 8 + 4;
const ENTRY_FIXED_BYTES: usize = 2 + 1 + 8 + 8 + 4;
const V1_ENTRY_FIXED_BYTES: usize = 2 + 1 + 8 + 8;
/// Largest metadata one entry may carry, in bytes (logs are capped far below this).
const ENTRY_META_BYTES_MAX: usize = 1 << 24;
/// The block time that means "none".
const NO_BLOCK_TIME: i64 = i64::MIN;

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
    /// What else the execution reported, if the bank recorded it.
    pub meta: Option<Box<EntryMeta>>,
}

/// A committed transaction's history beyond its outcome: what RPC's transaction metadata
/// reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    /// Why it failed (`None` when it succeeded).
    pub err: Option<TransactionError>,
    /// Its log messages.
    pub logs: Vec<String>,
    /// Lamport and token balances before and after it.
    pub balances: TransactionBalances,
    /// The addresses it loaded from lookup tables (v0), which its balances also index.
    pub loaded_addresses: LoadedAddresses,
    /// Its cross-program calls.
    pub inner_instructions: Vec<InnerInstruction>,
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
    /// When the slot was sealed, in Unix seconds, if known (history only: not hashed).
    pub block_time: Option<i64>,
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
    /// A transaction's metadata cannot be recorded.
    #[error("transaction metadata cannot be recorded: {0}")]
    Meta(String),
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
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// [`encode`](Self::encode), appending to `out`: the ledger reuses one buffer for every
    /// block rather than allocating (and the allocator mapping and unmapping) megabytes per
    /// slot. On error `out` holds part of the encoding after what it held before.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), LedgerError> {
        let entries_bytes: usize = self
            .entries
            .iter()
            .map(|e| ENTRY_FIXED_BYTES.saturating_add(e.transaction.len()))
            .sum();
        out.reserve(BLOCK_FIXED_BYTES.saturating_add(entries_bytes));
        out.extend_from_slice(&self.slot.to_le_bytes());
        out.extend_from_slice(self.parent_bank_hash.as_ref());
        out.extend_from_slice(self.bank_hash.as_ref());
        out.extend_from_slice(self.state_hash.as_ref());
        out.extend_from_slice(&self.block_time.unwrap_or(NO_BLOCK_TIME).to_le_bytes());
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
            let meta = match &entry.meta {
                Some(meta) => bincode::serde::encode_to_vec(meta, bincode::config::standard())
                    .map_err(|error| LedgerError::Meta(error.to_string()))?,
                None => Vec::new(),
            };
            if meta.len() > ENTRY_META_BYTES_MAX {
                return Err(LedgerError::Meta(format!(
                    "{} bytes of metadata, more than {ENTRY_META_BYTES_MAX}",
                    meta.len()
                )));
            }
            // In range: just checked against a limit below u32::MAX.
            out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
            out.extend_from_slice(&meta);
        }
        Ok(())
    }

    /// Parses a `BLK2` payload; `None` if it is malformed.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        Self::decode_version(bytes, 2)
    }

    /// Parses a payload written as `version` 1 (`BLK1`) or 2 (`BLK2`).
    fn decode_version(bytes: &[u8], version: u8) -> Option<Self> {
        let v2 = version >= 2;
        let mut reader = Reader(bytes);
        let slot = reader.u64()?;
        let parent_bank_hash = reader.hash()?;
        let bank_hash = reader.hash()?;
        let state_hash = reader.hash()?;
        let block_time = if v2 {
            Some(i64::from_le_bytes(reader.take(8)?.try_into().ok()?))
                .filter(|&time| time != NO_BLOCK_TIME)
        } else {
            None
        };
        let count = reader.u32()?;
        let entry_fixed = if v2 {
            ENTRY_FIXED_BYTES
        } else {
            V1_ENTRY_FIXED_BYTES
        };
        // Each entry takes at least its fixed bytes: refuse counts the bytes can't hold
        // before allocating for them.
        if usize::try_from(count).ok()?.checked_mul(entry_fixed)? > reader.0.len() {
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
            let meta = if v2 {
                let len = usize::try_from(reader.u32()?).ok()?;
                if len > ENTRY_META_BYTES_MAX {
                    return None;
                }
                let bytes = reader.take(len)?;
                if len == 0 {
                    None
                } else {
                    let config = bincode::config::standard().with_limit::<ENTRY_META_BYTES_MAX>();
                    let (meta, used): (EntryMeta, usize) =
                        bincode::serde::decode_from_slice(bytes, config).ok()?;
                    (used == len).then_some(())?;
                    Some(Box::new(meta))
                }
            } else {
                None
            };
            entries.push(Entry {
                transaction,
                status,
                fee,
                compute_units,
                meta,
            });
        }
        reader.0.is_empty().then_some(Self {
            slot,
            parent_bank_hash,
            bank_hash,
            state_hash,
            block_time,
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
    /// Where the next record starts: the file's length.
    end: u64,
    last_slot: Option<u64>,
    disk: Disk,
    poisoned: bool,
    /// The last record [`append`](Self::append) built, kept for its capacity.
    scratch: Vec<u8>,
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
        let blocks: Vec<Block> = blocks.into_iter().map(|(_, block)| block).collect();
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
                end: offset as u64,
                last_slot,
                disk,
                poisoned: false,
                scratch: Vec::new(),
            },
            blocks,
        ))
    }

    /// Appends `block` and syncs it to disk: when this returns, the block survives a crash.
    /// Returns the offset its record starts at ([`read_block_at`] reads it back).
    pub fn append(&mut self, block: &Block) -> Result<u64, LedgerError> {
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
        // The record is built in place: header with a length to patch, payload, checksum.
        let mut record = std::mem::take(&mut self.scratch);
        record.clear();
        record.extend_from_slice(&RECORD_MAGIC);
        record.extend_from_slice(&0u32.to_le_bytes());
        let encoded = block.encode_into(&mut record);
        let payload_len = record.len().saturating_sub(RECORD_HEADER_BYTES);
        let len = encoded.and_then(|()| {
            u32::try_from(payload_len).map_err(|_| LedgerError::TransactionTooLong(payload_len))
        });
        let len = match len {
            Ok(len) => len,
            Err(error) => {
                self.scratch = record;
                return Err(error);
            }
        };
        record[RECORD_MAGIC.len()..RECORD_HEADER_BYTES].copy_from_slice(&len.to_le_bytes());
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
        let record_len = record.len() as u64;
        self.scratch = record;
        if let Err(source) = written {
            self.poisoned = true;
            return Err(io(source));
        }
        self.last_slot = Some(block.slot);
        let offset = self.end;
        self.end = self.end.saturating_add(record_len);
        Ok(offset)
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
    Ok(read_located_blocks(dir)?
        .into_iter()
        .map(|(_, block)| block)
        .collect())
}

/// [`read_blocks`], each block with the offset of its record in the ledger file.
pub fn read_located_blocks(dir: &Path) -> Result<Vec<(u64, Block)>, LedgerError> {
    let path = dir.join(LEDGER_FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => scan(&bytes, &path).map(|(blocks, _)| blocks),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(LedgerError::Io { path, source }),
    }
}

/// Reads the block whose record starts at `offset` of the ledger file `file` (at `path`,
/// for errors): an offset [`Ledger::append`] returned or [`read_located_blocks`] reported.
/// Safe while another handle appends, since records are never rewritten.
pub fn read_block_at(file: &File, path: &Path, offset: u64) -> Result<Block, LedgerError> {
    use std::os::unix::fs::FileExt;
    let io = |source| LedgerError::Io {
        path: path.to_owned(),
        source,
    };
    let corrupt = |reason| LedgerError::Corrupt {
        path: path.to_owned(),
        offset,
        reason,
    };
    let mut header = [0u8; RECORD_HEADER_BYTES];
    file.read_exact_at(&mut header, offset).map_err(io)?;
    let payload_len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if payload_len > RECORD_PAYLOAD_BYTES_MAX {
        return Err(corrupt("record length out of range"));
    }
    let record_len = RECORD_HEADER_BYTES
        .saturating_add(payload_len)
        .saturating_add(RECORD_CHECKSUM_BYTES);
    let mut record = vec![0u8; record_len];
    file.read_exact_at(&mut record, offset).map_err(io)?;
    match parse_record(&record) {
        Ok((block, _)) => Ok(block),
        Err(RecordFault::Torn) => Err(corrupt("record cut short")),
        Err(RecordFault::Bad(reason)) => Err(corrupt(reason)),
    }
}

/// Parses records from the start of `bytes`: the complete blocks with their offsets, and
/// the length they span (anything after it is a torn tail).
#[allow(clippy::type_complexity)] // a pair, documented above
fn scan(bytes: &[u8], path: &Path) -> Result<(Vec<(u64, Block)>, usize), LedgerError> {
    let mut blocks: Vec<(u64, Block)> = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        match parse_record(&bytes[offset..]) {
            Ok((block, len)) => {
                if let Some((_, last)) = blocks.last()
                    && block.slot <= last.slot
                {
                    let path = path.to_owned();
                    return Err(LedgerError::Corrupt {
                        path,
                        offset: offset as u64,
                        reason: "slots out of order",
                    });
                }
                blocks.push((offset as u64, block));
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
            && (rest[..RECORD_MAGIC.len()] == RECORD_MAGIC
                || rest[..RECORD_MAGIC.len()] == RECORD_MAGIC_V1)
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
    let version = if bytes[..4] == RECORD_MAGIC {
        2
    } else if bytes[..4] == RECORD_MAGIC_V1 {
        1
    } else {
        return Err(RecordFault::Bad("bad record magic"));
    };
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
    let block = Block::decode_version(&bytes[RECORD_HEADER_BYTES..body_end], version)
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
            block_time: (!slot.is_multiple_of(3)).then_some(1_700_000_000 + slot as i64),
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
                    // Every third entry has no history, as a quiet executor records.
                    meta: (n % 3 != 2).then(|| Box::new(meta(n))),
                })
                .collect(),
        }
    }

    fn meta(n: usize) -> EntryMeta {
        use braid_runtime::InstructionError;
        use braid_runtime::balances::{TokenAmount, TokenBalance};
        let token = |amount| TokenBalance {
            account_index: 1,
            program_id: braid_primitives::Pubkey::new_from_array([7; 32]),
            amount: TokenAmount {
                mint: braid_primitives::Pubkey::new_from_array([8; 32]),
                owner: braid_primitives::Pubkey::new_from_array([9; 32]),
                amount,
            },
        };
        EntryMeta {
            err: (n % 2 == 1).then_some(TransactionError::InstructionError(
                0,
                InstructionError::Custom(n as u32),
            )),
            logs: vec![format!("Program log: entry {n}"); n % 4],
            balances: TransactionBalances {
                pre_lamports: vec![10_000, 1],
                post_lamports: vec![5_000, 1],
                pre_tokens: vec![token(n as u64)],
                post_tokens: vec![token(n as u64 + 1)],
            },
            loaded_addresses: LoadedAddresses {
                writable: vec![braid_primitives::Pubkey::new_from_array([n as u8; 32])],
                readonly: Vec::new(),
            },
            inner_instructions: vec![InnerInstruction {
                index: 0,
                stack_height: 2,
                program_id_index: 3,
                accounts: vec![0, 1],
                data: vec![n as u8; n],
            }],
        }
    }

    /// `block` as a `BLK1` record: what ledgers written before history hold.
    fn v1_record(block: &Block) -> Vec<u8> {
        let mut payload = Vec::new();
        payload.extend_from_slice(&block.slot.to_le_bytes());
        payload.extend_from_slice(block.parent_bank_hash.as_ref());
        payload.extend_from_slice(block.bank_hash.as_ref());
        payload.extend_from_slice(block.state_hash.as_ref());
        payload.extend_from_slice(&(block.entries.len() as u32).to_le_bytes());
        for entry in &block.entries {
            payload.extend_from_slice(&(entry.transaction.len() as u16).to_le_bytes());
            payload.extend_from_slice(&entry.transaction);
            payload.push(entry.status as u8);
            payload.extend_from_slice(&entry.fee.to_le_bytes());
            payload.extend_from_slice(&entry.compute_units.to_le_bytes());
        }
        let mut record = RECORD_MAGIC_V1.to_vec();
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&payload);
        let checksum = blake3::hash(&record);
        record.extend_from_slice(checksum.as_bytes());
        record
    }

    /// The history encoding pinned byte for byte: errors are recorded by variant position,
    /// so a reordered error enum would misread every ledger written before it.
    #[test]
    fn history_bytes_are_pinned() {
        use braid_runtime::InstructionError;
        let meta = EntryMeta {
            err: Some(TransactionError::InstructionError(
                2,
                InstructionError::Custom(7),
            )),
            logs: vec!["ok".into()],
            ..EntryMeta::default()
        };
        let bytes = bincode::serde::encode_to_vec(&meta, bincode::config::standard()).unwrap();
        assert_eq!(
            bytes,
            [
                1, 17, 2, 0, 7, // Some(InstructionError(2, Custom(7)))
                1, 2, b'o', b'k', // one log line
                0, 0, 0, 0, // no balances
                0, 0, // no loaded addresses
                0, // no inner instructions
            ]
        );
        let rent = EntryMeta {
            err: Some(TransactionError::InsufficientFundsForRent { account_index: 3 }),
            ..EntryMeta::default()
        };
        let bytes = bincode::serde::encode_to_vec(&rent, bincode::config::standard()).unwrap();
        assert_eq!(bytes[..3], [1, 16, 3]);
    }

    #[test]
    fn v1_records_read_without_history_and_appends_follow_them() {
        let dir = tempfile::tempdir().unwrap();
        let old = block(1, 4);
        std::fs::write(dir.path().join(LEDGER_FILE_NAME), v1_record(&old)).unwrap();
        let (mut ledger, blocks) = Ledger::open(dir.path()).unwrap();
        let without_history = Block {
            block_time: None,
            entries: old
                .entries
                .iter()
                .map(|entry| Entry {
                    meta: None,
                    ..entry.clone()
                })
                .collect(),
            ..old.clone()
        };
        assert_eq!(blocks, vec![without_history.clone()]);
        let offset = ledger.append(&block(2, 3)).unwrap();
        assert_eq!(offset, v1_record(&old).len() as u64);
        drop(ledger);
        let located = read_located_blocks(dir.path()).unwrap();
        assert_eq!(located, vec![(0, without_history), (offset, block(2, 3))]);
        let path = dir.path().join(LEDGER_FILE_NAME);
        let file = File::open(&path).unwrap();
        assert_eq!(read_block_at(&file, &path, offset).unwrap(), block(2, 3));
        // An offset that is not a record's start is an error, not a panic or a block.
        for bad in [1, offset + 1, offset + 10_000] {
            assert!(read_block_at(&file, &path, bad).is_err(), "offset {bad}");
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
