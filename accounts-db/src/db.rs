//! The accounts database: open/recover, the open slot, atomic durable commits, reads,
//! ordered iteration and compaction.
//!
//! # Design
//!
//! Accounts live in append-only *segments* (see [`crate::segment`]); the newest record of each
//! key is found through a sharded in-memory index (see [`crate::index`]). Writes of the open
//! slot sit in per-shard maps until [`AccountsDb::commit`] appends them as records and makes
//! them durable. A commit is:
//!
//! 1. append every record of the slot to the active segment (rolling to new segments, each
//!    created, sized and fsynced together with its directory entry before use);
//! 2. `msync` the appended byte ranges;
//! 3. write the manifest — commit sequence, slot, state hash and every live segment's
//!    committed length, checksummed — into the copy *not* holding the previous commit
//!    (`manifest-a` for even sequences, `manifest-b` for odd), and fsync it;
//! 4. point the index at the new records.
//!
//! Key decision: two manifest copies written alternately, as LMDB's and redb's meta pages.
//! A crash at any point leaves the copy with the previous commit untouched, and a torn new
//! copy fails its checksum, so [`AccountsDb::open`] takes the newest copy that verifies,
//! cuts every segment back to the committed length it records (discarding torn tails), and
//! rebuilds the index by scanning and verifying every committed record. Nothing between the
//! data and the manifest needs a write-ahead log: records past a committed length simply do
//! not exist.
//!
//! Compaction copies the live records of mostly-dead segments into new segments, swaps the
//! index entries that still point at the old copies, and drops the old segments from the
//! next manifest. Their files are deleted only once *both* manifest copies have stopped
//! naming them, so falling back to the older copy never finds a segment missing.
//!
//! Deletions are tombstone records (zero lamports). A tombstone stays indexed and on disk
//! while an older record of its key might still be in some other segment; compaction drops
//! it once every other segment was created after the tombstone's slot was committed.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};

use crate::disk::Disk;
use crate::error::{Error, Result};
use crate::format::{
    Manifest, RECORD_HEADER_BYTES, SegmentEntry, decode_record, encode_record_header, record_bytes,
};
use crate::index::{
    KeyHasherBuilder, KeyMap, Location, Padded, SEGMENT_ID_LIMIT, SHARD_COUNT, Shard, shard_of,
};
use crate::segment::{Segment, parse_segment_file_name, segment_file_name};
use braid_primitives::{ACCOUNT_DATA_BYTES_MAX, Account, Hash, Pubkey};

/// Marks "no slot" in the atomics; a caller may not use this slot.
const NO_SLOT: u64 = u64::MAX;
const MANIFEST_NAMES: [&str; 2] = ["manifest-a", "manifest-b"];
const MANIFEST_TEMP_SUFFIX: &str = ".tmp";

/// Tuning knobs for [`AccountsDb::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Capacity of a segment in bytes (a record larger than this gets a segment of its own).
    /// Files reserve their whole capacity on disk when created, so a full disk is an error
    /// then and never a fault during a write.
    pub segment_bytes: u32,
    /// A segment whose live bytes fall below this percentage of its size is compacted.
    /// Every compacted segment ends at least this live, so disk use after a compaction is at
    /// most `100 / percent` times the live data (1.67× at the default 60).
    pub compaction_live_percent: u8,
    /// Run [`AccountsDb::compact`] on a background thread at this interval.
    pub background_compaction: Option<Duration>,
    /// The storage operations: the real disk, or one that fails on purpose in tests.
    pub disk: Disk,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            compaction_live_percent: 60,
            background_compaction: None,
            disk: Disk::default(),
        }
    }
}

impl Options {
    fn validate(&self) -> Result<()> {
        if self.segment_bytes < 4096 {
            return Err(Error::InvalidOptions("segment_bytes must be at least 4096"));
        }
        if self.compaction_live_percent > 100 {
            return Err(Error::InvalidOptions(
                "compaction_live_percent must be at most 100",
            ));
        }
        if self
            .background_compaction
            .is_some_and(|interval| interval.is_zero())
        {
            return Err(Error::InvalidOptions(
                "background_compaction interval must be positive",
            ));
        }
        Ok(())
    }
}

/// What [`AccountsDb::open`] found.
#[derive(Debug)]
pub struct Recovered {
    /// Commit sequence number of the manifest used; 0 when nothing was ever committed.
    pub sequence: u64,
    /// The last committed slot (0 when nothing was committed).
    pub slot: u64,
    /// The state hash committed with it.
    pub state_hash: Hash,
    /// Why the other manifest copy was not used, if it was damaged (normal after a crash
    /// during a commit; a bit flip in the newest copy makes open fall back one commit).
    pub rejected_manifest: Option<Error>,
}

/// Sizes, for monitoring and the index-memory budget.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Committed accounts (with lamports).
    pub accounts: u64,
    /// Committed deletions still indexed (their tombstone record is on disk).
    pub tombstones: u64,
    /// Bytes of records the index points at, headers and padding included.
    pub live_bytes: u64,
    /// Bytes written to segment files (live, dead, and segments awaiting deletion).
    pub disk_bytes: u64,
    /// Heap bytes of the index hash maps (keys included).
    pub index_bytes: u64,
    /// Segments in use.
    pub segments: u64,
    /// Writes in the open slot.
    pub pending_writes: u64,
    /// Background compactions that returned an error.
    pub compaction_errors: u64,
}

/// What one [`AccountsDb::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Segments rewritten and retired.
    pub segments_compacted: u64,
    /// Bytes those segments occupied.
    pub bytes_before: u64,
    /// Bytes copied into new segments.
    pub bytes_after: u64,
    /// Tombstones dropped for good.
    pub tombstones_dropped: u64,
}

enum Backing {
    Directory { path: PathBuf, dir: File },
    Memory,
}

struct Retired {
    path: Option<PathBuf>,
    bytes: u64,
    /// Sequence of the last manifest that still named the segment.
    last_named_by: u64,
}

/// State only the committing (or compaction-installing) thread touches.
struct Writer {
    active: Option<Arc<Segment>>,
    /// Segments appended to since the last commit that are no longer active.
    rolled: Vec<Arc<Segment>>,
    /// The segment list as the next manifest will record it.
    segments: BTreeMap<u32, SegmentEntry>,
    sequence: u64,
    slot: u64,
    state_hash: Hash,
    poisoned: bool,
    retired: Vec<Retired>,
    manifest_exists: [bool; 2],
    /// The slot [`AccountsDb::seal`] handed over and [`AccountsDb::commit_sealed`] has not
    /// yet made durable.
    sealed: Option<u64>,
}

struct Inner {
    shards: Box<[Padded<RwLock<Shard>>]>,
    /// Segment id → segment, for readers. Lock order: a shard lock may be held while taking
    /// this one, never the other way round.
    ///
    /// Every read takes it, so it is a [`ShardedLock`]: a reader locks only the sub-lock its
    /// thread is registered to (one of eight, each on its own cache line), so readers on
    /// different threads rarely share a lock word. Writes (a new segment, a compaction) are
    /// rare.
    segments: ShardedLock<Vec<Option<Arc<Segment>>>>,
    writer: Mutex<Writer>,
    /// Stores hold it shared; a commit takes it exclusively to hand the open slot over.
    /// Sharded like `segments`: every store takes it, a commit once per slot.
    gate: ShardedLock<()>,
    open_slot: AtomicU64,
    /// The last slot committed or being committed: stores must name a later one.
    claimed_slot: AtomicU64,
    last_committed: RwLock<(u64, Hash)>,
    next_segment_id: AtomicU32,
    compaction: Mutex<()>,
    compaction_errors: AtomicU64,
    backing: Backing,
    options: Options,
}

struct Background {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

/// A memory-mapped accounts database with atomic, durable slot commits.
///
/// All methods take `&self`; share it between threads with an `Arc`. Writes go into the open
/// slot ([`store`](Self::store), [`put`](Self::put), [`delete`](Self::delete)) and become durable
/// with [`commit`](Self::commit). Reads ([`get`](Self::get)) see the open slot first, then the
/// committed state.
pub struct AccountsDb {
    inner: Arc<Inner>,
    background: Option<Background>,
}

impl std::fmt::Debug for AccountsDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (slot, hash) = self.last_committed();
        f.debug_struct("AccountsDb")
            .field("last_committed_slot", &slot)
            .field("state_hash", &hash)
            .finish_non_exhaustive()
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // A panic never leaves shared state half-updated here (updates are single inserts), so a
    // poisoned lock is still consistent.
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read_mostly<T>(lock: &ShardedLock<T>) -> ShardedLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_mostly<T>(lock: &ShardedLock<T>) -> ShardedLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn below_threshold(live: u64, written: u64, percent: u8) -> bool {
    written > 0
        && u128::from(live).saturating_mul(100)
            < u128::from(written).saturating_mul(u128::from(percent))
}

fn sync_dir(disk: &Disk, dir: &File, path: &Path) -> Result<()> {
    disk.sync_dir_file(dir, path)
        .map_err(Error::io("fsync directory", path))
}

fn to_u32(value: u64, what: &'static str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Overflow(what))
}

fn live_account(account: &Account) -> Option<Account> {
    (account.lamports != 0).then(|| account.clone())
}

impl AccountsDb {
    /// Opens (creating if empty) the database in `dir` and recovers it: the newest valid
    /// manifest wins, torn tails past the committed lengths are cut off, every committed
    /// record is verified and the index is rebuilt.
    ///
    /// Errors: [`Error::CorruptManifest`] if no manifest copy verifies,
    /// [`Error::CorruptRecord`] for a damaged committed record, [`Error::MissingSegment`],
    /// [`Error::SegmentTruncated`], [`Error::MissingManifest`], [`Error::Io`].
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Self, Recovered)> {
        options.validate()?;
        let path = dir.as_ref().to_path_buf();
        let disk = &options.disk;
        disk.create_dir_all(&path)
            .map_err(Error::io("create directory", &path))?;
        // The directory's own entry must survive a crash too (a ledger creates `accounts/`).
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            disk.sync_dir(parent)
                .map_err(Error::io("fsync directory", parent))?;
        }
        let dir_file = File::open(&path).map_err(Error::io("open directory", &path))?;

        let mut segment_files = BTreeMap::new();
        for entry in fs::read_dir(&path).map_err(Error::io("list directory", &path))? {
            let entry = entry.map_err(Error::io("list directory", &path))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = parse_segment_file_name(name) {
                segment_files.insert(id, entry.path());
            } else if name.starts_with("manifest-") && name.ends_with(MANIFEST_TEMP_SUFFIX) {
                // A fresh database's first manifest, interrupted before its rename.
                disk.remove_file(&entry.path())
                    .map_err(Error::io("remove", entry.path()))?;
            }
        }

        let mut copies = Vec::with_capacity(2);
        for name in MANIFEST_NAMES {
            let manifest_path = path.join(name);
            let copy = match fs::read(&manifest_path) {
                Ok(bytes) => Some(Manifest::decode(&bytes).map_err(|(offset, reason)| {
                    Error::CorruptManifest {
                        path: manifest_path.clone(),
                        offset,
                        reason,
                    }
                })),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => return Err(Error::io("read", &manifest_path)(error)),
            };
            copies.push(copy);
        }
        let mut manifest_exists = [copies[0].is_some(), copies[1].is_some()];
        let mut best: Option<Manifest> = None;
        let mut rejected = None;
        for copy in copies.into_iter().flatten() {
            match copy {
                Ok(manifest) => {
                    if best
                        .as_ref()
                        .is_none_or(|best| manifest.sequence > best.sequence)
                    {
                        best = Some(manifest);
                    }
                }
                Err(error) => rejected = Some(error),
            }
        }
        let (manifest, rejected_manifest) = match (best, rejected) {
            (Some(manifest), rejected) => (manifest, rejected),
            (None, Some(error)) => return Err(error),
            (None, None) if !segment_files.is_empty() => {
                return Err(Error::MissingManifest { path });
            }
            (None, None) => {
                let fresh = Manifest {
                    sequence: 0,
                    slot: 0,
                    state_hash: Hash::default(),
                    next_segment_id: 0,
                    segments: Vec::new(),
                };
                write_fresh_manifest(disk, &path, &dir_file, &fresh)?;
                manifest_exists[0] = true;
                (fresh, None)
            }
        };

        let mut segments = Vec::with_capacity(manifest.segments.len());
        let mut entries = BTreeMap::new();
        let mut directory_changed = false;
        for entry in &manifest.segments {
            let segment_path = path.join(segment_file_name(entry.id));
            if segment_files.remove(&entry.id).is_none() {
                return Err(Error::MissingSegment { path: segment_path });
            }
            let len = fs::metadata(&segment_path)
                .map_err(Error::io("stat", &segment_path))?
                .len();
            if len < entry.committed_len {
                return Err(Error::SegmentTruncated {
                    path: segment_path,
                    len,
                    committed_len: entry.committed_len,
                });
            }
            if len > entry.committed_len {
                // The torn tail of an interrupted commit, or unused preallocated capacity.
                let file = OpenOptions::new()
                    .write(true)
                    .open(&segment_path)
                    .map_err(Error::io("open", &segment_path))?;
                disk.set_len(&file, entry.committed_len)
                    .map_err(Error::io("truncate", &segment_path))?;
                disk.sync_all(&file)
                    .map_err(Error::io("fsync", &segment_path))?;
            }
            if entry.committed_len == 0 {
                // Nothing to map; the next manifest drops it and a later open removes the file.
                continue;
            }
            let segment = Segment::open_sealed(segment_path, entry.id, entry.committed_len)?;
            segments.push(Arc::new(segment));
            entries.insert(entry.id, *entry);
        }
        for orphan in segment_files.values() {
            // Created by a commit or compaction that never reached a manifest.
            disk.remove_file(orphan)
                .map_err(Error::io("remove", orphan))?;
            directory_changed = true;
        }
        if directory_changed {
            sync_dir(disk, &dir_file, &path)?;
        }

        let shards = rebuild_index(&segments, manifest.slot)?;
        let next_segment_id = segments
            .last()
            .map_or(Ok(0), |last| {
                last.id.checked_add(1).ok_or(Error::Overflow("segment id"))
            })?
            .max(manifest.next_segment_id);
        let recovered = Recovered {
            sequence: manifest.sequence,
            slot: manifest.slot,
            state_hash: manifest.state_hash,
            rejected_manifest,
        };
        let writer = Writer {
            active: None,
            rolled: Vec::new(),
            segments: entries,
            sequence: manifest.sequence,
            slot: manifest.slot,
            state_hash: manifest.state_hash,
            poisoned: false,
            sealed: None,
            retired: Vec::new(),
            manifest_exists,
        };
        let db = Self::assemble(
            shards,
            segments,
            writer,
            next_segment_id,
            Backing::Directory {
                path,
                dir: dir_file,
            },
            options,
        )?;
        Ok((db, recovered))
    }

    /// An empty database in anonymous memory, with default options: the same code path as
    /// on disk, minus the files and syncs. For tests and the harness.
    pub fn in_memory() -> Self {
        Self {
            inner: new_inner(
                Vec::new(),
                Vec::new(),
                fresh_writer(),
                0,
                Backing::Memory,
                Options::default(),
            ),
            background: None,
        }
    }

    /// An empty in-memory database with `options`.
    pub fn in_memory_with(options: Options) -> Result<Self> {
        options.validate()?;
        Self::assemble(
            Vec::new(),
            Vec::new(),
            fresh_writer(),
            0,
            Backing::Memory,
            options,
        )
    }

    fn assemble(
        shards: Vec<Shard>,
        segments: Vec<Arc<Segment>>,
        writer: Writer,
        next_segment_id: u32,
        backing: Backing,
        options: Options,
    ) -> Result<Self> {
        let interval = options.background_compaction;
        let inner = new_inner(shards, segments, writer, next_segment_id, backing, options);
        let background = match interval {
            Some(interval) => Some(spawn_background(&inner, interval)?),
            None => None,
        };
        Ok(Self { inner, background })
    }

    /// The account at `key` as the open slot sees it: the open slot's (or a committing
    /// slot's) write if any, else the committed record. `None` if it does not exist.
    ///
    /// A committed record that fails to decode (possible only if the file was modified
    /// behind the database's back) reads as `None`; use [`try_get`](Self::try_get) to see the
    /// error.
    pub fn get(&self, key: &Pubkey) -> Option<Account> {
        self.try_get(key).ok().flatten()
    }

    /// [`get`](Self::get), reporting a record that fails to decode.
    pub fn try_get(&self, key: &Pubkey) -> Result<Option<Account>> {
        let shard = read(&self.inner.shards[shard_of(key)].0);
        if !shard.pending.is_empty()
            && let Some(write) = shard.pending.get(key)
        {
            return Ok(live_account(&write.account));
        }
        if let Some(committing) = &shard.committing
            && let Some(write) = committing.get(key)
        {
            return Ok(live_account(&write.account));
        }
        self.inner.read_indexed(&shard.index, key)
    }

    /// The account at `key` as of the last completed commit, ignoring the open slot.
    pub fn get_committed(&self, key: &Pubkey) -> Result<Option<Account>> {
        let shard = read(&self.inner.shards[shard_of(key)].0);
        self.inner.read_indexed(&shard.index, key)
    }

    /// Writes `accounts` into the open slot `slot` (zero lamports deletes). The first write
    /// after a commit opens `slot`; later writes must name the same slot until it commits.
    ///
    /// The slot's first write of a key also reads the key's value before the slot (see
    /// [`SlotWrite::previous`]). A record that fails to decode then fails the store, and
    /// the accounts before it in `accounts` stay written.
    pub fn store(&self, slot: u64, accounts: &[(Pubkey, Account)]) -> Result<()> {
        for (key, account) in accounts {
            check_data_len(key, account)?;
        }
        let _gate = self.inner.enter_slot(slot)?;
        for (key, account) in accounts {
            self.inner.stage(*key, account.clone())?;
        }
        Ok(())
    }

    /// [`store`](Self::store), taking the accounts rather than copying them: what a banking
    /// thread uses, so the written data is neither cloned nor freed on the hot path.
    pub fn store_owned(&self, slot: u64, accounts: Vec<(Pubkey, Account)>) -> Result<()> {
        for (key, account) in &accounts {
            check_data_len(key, account)?;
        }
        let _gate = self.inner.enter_slot(slot)?;
        for (key, account) in accounts {
            self.inner.stage(key, account)?;
        }
        Ok(())
    }

    /// Writes one account into the open slot `slot`, taking ownership (no copy).
    pub fn put(&self, slot: u64, key: Pubkey, account: Account) -> Result<()> {
        check_data_len(&key, &account)?;
        let _gate = self.inner.enter_slot(slot)?;
        self.inner.stage(key, account)
    }

    /// Deletes `key` in the open slot `slot` (the same as storing zero lamports).
    pub fn delete(&self, slot: u64, key: &Pubkey) -> Result<()> {
        self.put(slot, *key, Account::default())
    }

    /// Commits the open slot as `slot` with `state_hash`, atomically and durably: when this
    /// returns `Ok`, the slot survives a crash or power loss; if it is interrupted, reopening
    /// finds the previous commit intact. `slot` must be after the last committed slot (any
    /// slot for the first commit) and equal to the open slot if writes are pending. A slot
    /// with no writes still commits (the slot and hash advance).
    ///
    /// An I/O error poisons the database: later commits fail with [`Error::Poisoned`]
    /// until it is reopened, since after a failed fsync the page cache cannot be trusted.
    pub fn commit(&self, slot: u64, state_hash: Hash) -> Result<()> {
        let sealed = self.seal(slot)?;
        self.commit_sealed(sealed, state_hash)
    }

    /// The first half of [`commit`](Self::commit): hands the open slot's writes over as
    /// slot `slot` and returns at once, so writes to the next slot can begin while this one
    /// is hashed and written. Until [`commit_sealed`](Self::commit_sealed) returns, reads see
    /// the sealed writes (under any newer ones), [`get_committed`](Self::get_committed) still
    /// sees the slot before, and the sealed slot is lost on a crash. One slot at a time: a
    /// second seal before the first commits is [`Error::SealPending`].
    pub fn seal(&self, slot: u64) -> Result<SealedSlot> {
        let inner = &*self.inner;
        let mut writer = lock(&inner.writer);
        if writer.poisoned {
            return Err(Error::Poisoned);
        }
        if let Some(sealed) = writer.sealed {
            return Err(Error::SealPending { slot, sealed });
        }
        if slot == NO_SLOT {
            return Err(Error::InvalidSlot(slot));
        }
        if writer.sequence > 0 && slot <= writer.slot {
            return Err(Error::SlotNotAfterCommitted {
                slot,
                committed: writer.slot,
            });
        }
        let _gate = write_mostly(&inner.gate);
        let open = inner.open_slot.load(Ordering::Acquire);
        if open != NO_SLOT && open != slot {
            return Err(Error::SlotMismatch { slot, open });
        }
        inner.claimed_slot.store(slot, Ordering::Release);
        inner.open_slot.store(NO_SLOT, Ordering::Release);
        let mut batches = Vec::new();
        for (index, shard) in inner.shards.iter().enumerate() {
            let mut shard = write(&shard.0);
            if shard.pending.is_empty() {
                continue;
            }
            // The next slot likely writes about as many accounts: sized up front, its map
            // does not rehash over and over on the banking threads as it fills.
            let capacity = shard.pending.len();
            let pending = std::mem::replace(
                &mut shard.pending,
                KeyMap::with_capacity_and_hasher(capacity, KeyHasherBuilder::new()),
            );
            let pending = Arc::new(pending);
            shard.committing = Some(Arc::clone(&pending));
            batches.push((index, pending));
        }
        writer.sealed = Some(slot);
        Ok(SealedSlot { slot, batches })
    }

    /// The second half of [`commit`](Self::commit): makes a sealed slot durable with
    /// `state_hash`. Must follow its [`seal`](Self::seal) before the next seal.
    pub fn commit_sealed(&self, sealed: SealedSlot, state_hash: Hash) -> Result<()> {
        let inner = &*self.inner;
        let mut writer = lock(&inner.writer);
        if writer.poisoned {
            return Err(Error::Poisoned);
        }
        if writer.sealed != Some(sealed.slot) {
            return Err(Error::SealPending {
                slot: sealed.slot,
                sealed: writer.sealed.unwrap_or(NO_SLOT),
            });
        }
        let result = inner.commit_locked(&mut writer, sealed.slot, state_hash, &sealed.batches);
        writer.sealed = None;
        if result.is_err() {
            writer.poisoned = true;
            for (index, _) in &sealed.batches {
                write(&inner.shards[*index].0).committing = None;
            }
        }
        result
    }

    /// Copies of the open slot's writes (a deletion reads as zero lamports), each with the
    /// key's value before the slot, in no particular order: what a caller needs to hash a
    /// slot it may yet [`discard`](Self::discard).
    pub fn open_writes(&self) -> Vec<(Pubkey, SlotWrite)> {
        let _gate = write_mostly(&self.inner.gate);
        let mut writes = Vec::new();
        for shard in &self.inner.shards {
            let shard = read(&shard.0);
            writes.extend(
                shard
                    .pending
                    .iter()
                    .map(|(key, write)| (*key, write.clone())),
            );
        }
        writes
    }

    /// Drops every write of the open slot `slot`, as if it had never been written: for a
    /// replica that executed a proposed block to check it and must now execute another. A
    /// sealed slot is not touched. `slot` must be the open slot, if one is open.
    pub fn discard(&self, slot: u64) -> Result<()> {
        let inner = &*self.inner;
        let _gate = write_mostly(&inner.gate);
        let open = inner.open_slot.load(Ordering::Acquire);
        if open == NO_SLOT {
            return Ok(());
        }
        if open != slot {
            return Err(Error::SlotMismatch { slot, open });
        }
        for shard in &inner.shards {
            let mut shard = write(&shard.0);
            if !shard.pending.is_empty() {
                shard.pending = KeyMap::with_hasher(KeyHasherBuilder::new());
            }
        }
        inner.open_slot.store(NO_SLOT, Ordering::Release);
        Ok(())
    }

    /// The last committed slot and its state hash (`(0, Hash::default())` before any commit).
    pub fn last_committed(&self) -> (u64, Hash) {
        *read(&self.inner.last_committed)
    }

    /// Calls `f` on every committed account in ascending pubkey order, and returns the slot
    /// and state hash of the commit it walked. Commits wait while the index is snapshotted
    /// (a few tens of milliseconds per million accounts), not while `f` runs.
    pub fn for_each_committed(&self, mut f: impl FnMut(&Pubkey, &Account)) -> Result<(u64, Hash)> {
        let (entries, table, slot, state_hash) = {
            let writer = lock(&self.inner.writer);
            let table = read_mostly(&self.inner.segments).clone();
            let mut entries = Vec::new();
            for shard in self.inner.shards.iter() {
                let shard = read(&shard.0);
                let start = entries.len();
                entries.extend(
                    shard
                        .index
                        .iter()
                        .filter(|(_, location)| !location.is_tombstone())
                        .map(|(key, location)| (*key, *location)),
                );
                entries[start..].sort_unstable_by_key(|entry| entry.0);
            }
            (entries, table, writer.slot, writer.state_hash)
        };
        for (key, location) in entries {
            let account = read_location(&table, location)?;
            f(&key, &account);
        }
        Ok((slot, state_hash))
    }

    /// Rewrites segments whose live ratio is below
    /// [`Options::compaction_live_percent`]. Readers never wait; commits wait only while the
    /// new locations are installed (no I/O happens under the commit lock).
    pub fn compact(&self) -> Result<CompactionReport> {
        self.inner.compact()
    }

    /// Current sizes.
    pub fn stats(&self) -> Stats {
        let inner = &*self.inner;
        let mut stats = Stats {
            compaction_errors: inner.compaction_errors.load(Ordering::Relaxed),
            ..Stats::default()
        };
        for shard in inner.shards.iter() {
            let shard = read(&shard.0);
            stats.accounts = stats.accounts.saturating_add(shard.accounts);
            let tombstones = (shard.index.len() as u64).saturating_sub(shard.accounts);
            stats.tombstones = stats.tombstones.saturating_add(tombstones);
            stats.index_bytes = stats.index_bytes.saturating_add(shard.index_bytes());
            stats.pending_writes = stats
                .pending_writes
                .saturating_add(shard.pending.len() as u64);
        }
        let writer = lock(&inner.writer);
        let table = read_mostly(&inner.segments);
        for id in writer.segments.keys() {
            if let Some(Some(segment)) = table.get(*id as usize) {
                stats.segments = stats.segments.saturating_add(1);
                stats.live_bytes = stats.live_bytes.saturating_add(segment.live());
                stats.disk_bytes = stats.disk_bytes.saturating_add(segment.written());
            }
        }
        for retired in &writer.retired {
            stats.disk_bytes = stats.disk_bytes.saturating_add(retired.bytes);
        }
        stats
    }
}

impl Drop for AccountsDb {
    fn drop(&mut self) {
        if let Some(background) = self.background.take() {
            drop(background.stop);
            let _ = background.thread.join();
        }
    }
}

fn fresh_writer() -> Writer {
    Writer {
        active: None,
        rolled: Vec::new(),
        segments: BTreeMap::new(),
        sequence: 0,
        slot: 0,
        state_hash: Hash::default(),
        poisoned: false,
        sealed: None,
        retired: Vec::new(),
        manifest_exists: [false; 2],
    }
}

/// `shards` empty means a fresh, empty index.
fn new_inner(
    mut shards: Vec<Shard>,
    segments: Vec<Arc<Segment>>,
    writer: Writer,
    next_segment_id: u32,
    backing: Backing,
    options: Options,
) -> Arc<Inner> {
    if shards.is_empty() {
        shards = (0..SHARD_COUNT).map(|_| Shard::new()).collect();
    }
    let mut table = Vec::new();
    for segment in segments {
        let index = segment.id as usize;
        if table.len() <= index {
            table.resize(index.saturating_add(1), None);
        }
        table[index] = Some(segment);
    }
    let claimed = if writer.sequence > 0 {
        writer.slot
    } else {
        NO_SLOT
    };
    Arc::new(Inner {
        shards: shards
            .into_iter()
            .map(|shard| Padded(RwLock::new(shard)))
            .collect(),
        segments: ShardedLock::new(table),
        last_committed: RwLock::new((writer.slot, writer.state_hash)),
        writer: Mutex::new(writer),
        gate: ShardedLock::new(()),
        open_slot: AtomicU64::new(NO_SLOT),
        claimed_slot: AtomicU64::new(claimed),
        next_segment_id: AtomicU32::new(next_segment_id),
        compaction: Mutex::new(()),
        compaction_errors: AtomicU64::new(0),
        backing,
        options,
    })
}

fn check_data_len(key: &Pubkey, account: &Account) -> Result<()> {
    if account.data.len() > ACCOUNT_DATA_BYTES_MAX {
        return Err(Error::DataTooLarge {
            key: *key,
            len: account.data.len(),
        });
    }
    Ok(())
}

fn spawn_background(inner: &Arc<Inner>, interval: Duration) -> Result<Background> {
    let weak = Arc::downgrade(inner);
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("accounts-db-compact".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let Some(inner) = weak.upgrade() else { break };
                if inner.compact().is_err() {
                    inner.compaction_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .map_err(Error::io("spawn compaction thread", "<thread>"))?;
    Ok(Background { stop, thread })
}

fn write_fresh_manifest(disk: &Disk, path: &Path, dir: &File, manifest: &Manifest) -> Result<()> {
    // Written aside and renamed so that a crash never leaves a half-written first manifest,
    // which open could not tell apart from a damaged one.
    let final_path = path.join(MANIFEST_NAMES[0]);
    let temp_path = path.join(format!("{}{MANIFEST_TEMP_SUFFIX}", MANIFEST_NAMES[0]));
    let file = disk
        .open(
            OpenOptions::new().write(true).create(true).truncate(true),
            &temp_path,
        )
        .map_err(Error::io("create", &temp_path))?;
    disk.write_all_at(&file, &manifest.encode(), 0)
        .map_err(Error::io("write", &temp_path))?;
    disk.sync_all(&file)
        .map_err(Error::io("fsync", &temp_path))?;
    disk.rename(&temp_path, &final_path)
        .map_err(Error::io("rename", &final_path))?;
    sync_dir(disk, dir, path)
}

fn read_location(table: &[Option<Arc<Segment>>], location: Location) -> Result<Account> {
    let segment = table
        .get(location.segment() as usize)
        .and_then(Option::as_ref)
        // Lazily: the error names a file, and formatting that name on every read cost more
        // than the rest of the read (BENCHMARKS.md, "Issue 10, third pass").
        .ok_or_else(|| Error::CorruptRecord {
            path: PathBuf::from(segment_file_name(location.segment())),
            offset: u64::from(location.offset),
            reason: "index points at a segment that is not loaded",
        })?;
    let corrupt = |reason| Error::CorruptRecord {
        path: segment.path.clone(),
        offset: u64::from(location.offset),
        reason,
    };
    let bytes = segment
        .published_from(u64::from(location.offset))
        .ok_or_else(|| corrupt("index points past the segment's end"))?;
    Ok(decode_record(bytes, false).map_err(corrupt)?.to_account())
}

/// The segment and size of the record at `location`, which a commit has just replaced, for
/// live-byte accounting. `previous` is the value the slot kept from its first write of the
/// key (see [`SlotWrite`]): when it agrees with the record's kind (a live record, or a
/// tombstone for `None`), the size follows from its data length and the record, long out
/// of the CPU caches, is not read back.
///
/// A tombstone is sized as one without data, which is how every tombstone is written; a
/// file crafted with data in one would only skew this count, which steers compaction.
fn replaced_record(
    table: &[Option<Arc<Segment>>],
    location: Location,
    previous: Option<&Account>,
) -> Option<(Arc<Segment>, u64)> {
    // The kept value and the index come from the same shard under the same lock rules, so
    // their kinds always agree; the read-back is a release-build safety net only.
    debug_assert_eq!(
        previous.is_none(),
        location.is_tombstone(),
        "a kept old value disagrees with the record it replaced"
    );
    if previous.is_some() == location.is_tombstone() {
        return record_size_at(table, location);
    }
    let segment = table.get(location.segment() as usize)?.as_ref()?;
    let data_len = previous.map_or(0, |account| account.data.len());
    let bytes = record_bytes(data_len as u64)?;
    Some((Arc::clone(segment), bytes))
}

/// Record size of the record at `location`, for live-byte accounting.
fn record_size_at(
    table: &[Option<Arc<Segment>>],
    location: Location,
) -> Option<(Arc<Segment>, u64)> {
    let segment = table.get(location.segment() as usize)?.as_ref()?;
    let bytes = segment.published_from(u64::from(location.offset))?;
    let view = decode_record(bytes, false).ok()?;
    Some((Arc::clone(segment), view.total_bytes))
}

/// One account a slot wrote: the value written and the value the slots before left.
///
/// Key decision: the old value is read when the slot first writes the key, not when the
/// slot commits. The state-hash fold needs it then, and by then a large account set has
/// pushed it out of the CPU caches; whoever writes an account has just read it. The cost:
/// the open slot holds two copies of each account it writes, and the first write of a key
/// decodes the old record under its shard's write lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWrite {
    account: Account,
    previous: Option<Account>,
}

impl SlotWrite {
    /// The value the slot wrote last (zero lamports: deleted, and no data).
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The key's value before the slot: the last commit's, or the value of the slot that
    /// was committing when this slot first wrote the key. `None` if it did not exist.
    pub fn previous(&self) -> Option<&Account> {
        self.previous.as_ref()
    }
}

/// A slot's writes, handed over by [`AccountsDb::seal`] and awaiting
/// [`AccountsDb::commit_sealed`].
#[derive(Debug)]
pub struct SealedSlot {
    slot: u64,
    batches: Vec<(usize, Arc<KeyMap<SlotWrite>>)>,
}

impl SealedSlot {
    /// The slot.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// The accounts the slot wrote, with their values before it, shard by shard; the order
    /// within a shard is a hash map's, so only order-independent folds may use it.
    pub fn shards(&self) -> impl Iterator<Item = &KeyMap<SlotWrite>> {
        self.batches.iter().map(|(_, batch)| batch.as_ref())
    }

    /// How many accounts the slot wrote.
    pub fn len(&self) -> usize {
        self.batches.iter().map(|(_, batch)| batch.len()).sum()
    }

    /// Whether the slot wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// Where a rebuild found damage: segment position in the manifest, byte offset, the error.
type Damage = (usize, u64, Error);
/// A rebuild worker's shards (with their indices), or the first damage it found.
type Rebuilt = (Vec<(usize, Shard)>, Option<Damage>);

/// Rebuilds the index from every committed record, verifying each checksum. Work is split by
/// shard across the available cores: every thread walks all record headers (cheap) but
/// verifies and indexes only the records whose keys fall in its shards, so each record is
/// hashed exactly once and no merge step is needed.
fn rebuild_index(segments: &[Arc<Segment>], committed_slot: u64) -> Result<Vec<Shard>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, SHARD_COUNT);
    let results: Vec<Rebuilt> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || rebuild_shards(segments, committed_slot, worker, threads))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        Some((0, 0, Error::Overflow("index rebuild thread panicked"))),
                    )
                })
            })
            .collect()
    });
    // Report the first damage in file order, whichever thread found it.
    let mut first_error: Option<Damage> = None;
    let mut shards: Vec<Option<Shard>> = (0..SHARD_COUNT).map(|_| None).collect();
    for (built, error) in results {
        if let Some(error) = error
            && first_error
                .as_ref()
                .is_none_or(|first| (error.0, error.1) < (first.0, first.1))
        {
            first_error = Some(error);
        }
        for (index, shard) in built {
            shards[index] = Some(shard);
        }
    }
    if let Some((_, _, error)) = first_error {
        return Err(error);
    }
    Ok(shards
        .into_iter()
        .map(|shard| shard.unwrap_or_else(Shard::new))
        .collect())
}

/// One rebuild worker: the shards `worker`, `worker + workers`, ...; on damage, the position
/// (segment index, offset) and the error.
fn rebuild_shards(
    segments: &[Arc<Segment>],
    committed_slot: u64,
    worker: usize,
    workers: usize,
) -> Rebuilt {
    let mut shards: Vec<Shard> = (0..SHARD_COUNT).map(|_| Shard::new()).collect();
    let mine = |shard: usize| shard.checked_rem(workers) == Some(worker);
    let by_id = |id: u32| {
        segments
            .binary_search_by_key(&id, |segment| segment.id)
            .ok()
            .map(|index| &segments[index])
    };
    for (position, segment) in segments.iter().enumerate() {
        let bytes = segment.published_from(0).unwrap_or(&[]);
        let mut offset = 0usize;
        while offset < bytes.len() {
            let corrupt = |reason| {
                let error = Error::CorruptRecord {
                    path: segment.path.clone(),
                    offset: offset as u64,
                    reason,
                };
                (position, offset as u64, error)
            };
            // Headers are walked unverified to find record boundaries; the owner of the
            // key verifies the whole record below. A damaged length field still fails: it
            // either breaks the walk here or the owner's checksum.
            let view = match decode_record(&bytes[offset..], false) {
                Ok(view) => view,
                Err(reason) => return (Vec::new(), Some(corrupt(reason))),
            };
            let Some(end) = usize::try_from(view.total_bytes)
                .ok()
                .and_then(|total| offset.checked_add(total))
            else {
                return (Vec::new(), Some(corrupt("record length overflows")));
            };
            let shard_index = shard_of(&view.key);
            if mine(shard_index) {
                if let Err(reason) = decode_record(&bytes[offset..], true) {
                    return (Vec::new(), Some(corrupt(reason)));
                }
                if view.slot > committed_slot {
                    return (
                        Vec::new(),
                        Some(corrupt("record slot is after the committed slot")),
                    );
                }
                let Ok(offset32) = u32::try_from(offset) else {
                    return (Vec::new(), Some(corrupt("record offset overflows")));
                };
                let location = Location::new(segment.id, offset32, view.lamports == 0);
                let shard = &mut shards[shard_index];
                let replace = match shard.index.get(&view.key) {
                    None => true,
                    Some(previous) => {
                        let previous_view =
                            by_id(previous.segment()).and_then(|previous_segment| {
                                let bytes =
                                    previous_segment.published_from(u64::from(previous.offset))?;
                                Some((previous_segment, decode_record(bytes, false).ok()?))
                            });
                        let Some((previous_segment, previous_view)) = previous_view else {
                            return (
                                Vec::new(),
                                Some(corrupt("index refers to an unreadable record")),
                            );
                        };
                        // Equal slots cannot happen (a slot writes a key once); the later
                        // copy wins if they ever do.
                        if view.slot >= previous_view.slot {
                            previous_segment.sub_live(previous_view.total_bytes);
                            true
                        } else {
                            false
                        }
                    }
                };
                if replace {
                    segment.add_live(view.total_bytes);
                    shard.index.insert(view.key, location);
                }
            }
            offset = end;
        }
    }
    let built = shards
        .into_iter()
        .enumerate()
        .filter(|(index, _)| mine(*index))
        .map(|(index, mut shard)| {
            shard.accounts = shard
                .index
                .values()
                .filter(|location| !location.is_tombstone())
                .count() as u64;
            (index, shard)
        })
        .collect();
    (built, None)
}

impl Inner {
    fn read_indexed(&self, index: &KeyMap<Location>, key: &Pubkey) -> Result<Option<Account>> {
        let Some(&location) = index.get(key) else {
            return Ok(None);
        };
        if location.is_tombstone() {
            return Ok(None);
        }
        let table = read_mostly(&self.segments);
        read_location(&table, location).map(Some)
    }

    fn enter_slot(&self, slot: u64) -> Result<ShardedLockReadGuard<'_, ()>> {
        if slot == NO_SLOT {
            return Err(Error::InvalidSlot(slot));
        }
        let gate = read_mostly(&self.gate);
        let claimed = self.claimed_slot.load(Ordering::Acquire);
        if claimed != NO_SLOT && slot <= claimed {
            return Err(Error::SlotNotAfterCommitted {
                slot,
                committed: claimed,
            });
        }
        match self
            .open_slot
            .compare_exchange(NO_SLOT, slot, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(gate),
            Err(open) if open == slot => Ok(gate),
            Err(open) => Err(Error::SlotMismatch { slot, open }),
        }
    }

    fn stage(&self, key: Pubkey, account: Account) -> Result<()> {
        // Deletions keep no data in memory.
        let account = if account.lamports == 0 {
            Account::default()
        } else {
            account
        };
        let mut shard = write(&self.shards[shard_of(&key)].0);
        let Shard {
            index,
            pending,
            committing,
            ..
        } = &mut *shard;
        match pending.entry(key) {
            Entry::Occupied(mut staged) => staged.get_mut().account = account,
            Entry::Vacant(vacant) => {
                // The slot's first write of the key. Before the slot, the key held the
                // committing slot's write if there is one, else the committed record; the
                // committing slot is committed before this slot can be sealed, so this is
                // what the state-hash fold must take out. Whoever stores has just read the
                // key, so this read hits the caches a read at commit time would miss.
                let previous = match committing.as_ref().and_then(|sealed| sealed.get(&key)) {
                    Some(sealed) => live_account(&sealed.account),
                    None => self.read_indexed(index, &key)?,
                };
                vacant.insert(SlotWrite { account, previous });
            }
        }
        Ok(())
    }

    fn allocate_segment_id(&self) -> Result<u32> {
        self.next_segment_id
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |id| {
                id.checked_add(1).filter(|next| *next <= SEGMENT_ID_LIMIT)
            })
            .map_err(|_| Error::Overflow("segment id"))
    }

    /// Creates a segment with room for at least `min_bytes` and makes it visible to readers.
    fn new_segment(&self, min_bytes: u64) -> Result<Arc<Segment>> {
        let id = self.allocate_segment_id()?;
        let capacity = min_bytes.max(u64::from(self.options.segment_bytes));
        let segment = match &self.backing {
            Backing::Directory { path, dir } => {
                let segment = Segment::create(path, id, capacity, &self.options.disk)?;
                sync_dir(&self.options.disk, dir, path)?;
                segment
            }
            Backing::Memory => Segment::create_anonymous(id, capacity)?,
        };
        let segment = Arc::new(segment);
        let mut table = write_mostly(&self.segments);
        let index = id as usize;
        if table.len() <= index {
            table.resize(
                index.checked_add(1).ok_or(Error::Overflow("segment id"))?,
                None,
            );
        }
        table[index] = Some(Arc::clone(&segment));
        Ok(segment)
    }

    /// The active segment if `bytes` fit, else a new one.
    fn writable_segment(&self, writer: &mut Writer, bytes: u64) -> Result<Arc<Segment>> {
        if let Some(active) = &writer.active {
            let end = active
                .written()
                .checked_add(bytes)
                .ok_or(Error::Overflow("segment append"))?;
            if end <= active.capacity() {
                return Ok(Arc::clone(active));
            }
        }
        let segment = self.new_segment(bytes)?;
        writer.segments.insert(
            segment.id,
            SegmentEntry {
                id: segment.id,
                committed_len: 0,
                created_after_slot: writer.slot,
            },
        );
        if let Some(previous) = writer.active.replace(Arc::clone(&segment)) {
            writer.rolled.push(previous);
        }
        Ok(segment)
    }

    fn commit_locked(
        &self,
        writer: &mut Writer,
        slot: u64,
        state_hash: Hash,
        batches: &[(usize, Arc<KeyMap<SlotWrite>>)],
    ) -> Result<()> {
        // 1. Append.
        let tombstone = Account::default();
        let padding = [0u8; crate::format::RECORD_ALIGN_BYTES];
        let mut placed = Vec::with_capacity(batches.len());
        for (shard_index, batch) in batches {
            let mut to_write = Vec::with_capacity(batch.len());
            {
                let shard = read(&self.shards[*shard_index].0);
                for (key, write) in batch.iter() {
                    let account = &write.account;
                    // Deleting what does not exist (or is already deleted) writes nothing.
                    if account.lamports == 0
                        && shard
                            .index
                            .get(key)
                            .is_none_or(|location| location.is_tombstone())
                    {
                        continue;
                    }
                    to_write.push((key, write));
                }
            }
            let mut out = Vec::with_capacity(to_write.len());
            for (key, write) in to_write {
                let account = &write.account;
                let is_tombstone = account.lamports == 0;
                let account = if is_tombstone { &tombstone } else { account };
                let header = encode_record_header(slot, key, account);
                let bytes = record_bytes(account.data.len() as u64)
                    .ok_or(Error::Overflow("record length"))?;
                let padding_len = usize::try_from(bytes)
                    .ok()
                    .and_then(|bytes| bytes.checked_sub(RECORD_HEADER_BYTES))
                    .and_then(|rest| rest.checked_sub(account.data.len()))
                    .ok_or(Error::Overflow("record padding"))?;
                let segment = self.writable_segment(writer, bytes)?;
                let offset = segment.append(&[&header, &account.data, &padding[..padding_len]])?;
                segment.add_live(bytes);
                out.push((
                    *key,
                    Location::new(segment.id, to_u32(offset, "record offset")?, is_tombstone),
                    write.previous.as_ref(),
                ));
            }
            placed.push(out);
        }

        // 2. Make the records durable before any manifest names them.
        let rolled = std::mem::take(&mut writer.rolled);
        for segment in rolled.iter().chain(writer.active.iter()) {
            let entry = writer
                .segments
                .get_mut(&segment.id)
                .ok_or(Error::Overflow("segment missing from the manifest list"))?;
            let written = segment.written();
            segment.sync_range(entry.committed_len, written, &self.options.disk)?;
            entry.committed_len = written;
        }

        // 3. The manifest: the commit point.
        let sequence = writer
            .sequence
            .checked_add(1)
            .ok_or(Error::Overflow("commit sequence"))?;
        let manifest = Manifest {
            sequence,
            slot,
            state_hash,
            next_segment_id: self.next_segment_id.load(Ordering::Acquire),
            segments: writer.segments.values().copied().collect(),
        };
        self.write_manifest(writer, &manifest)?;
        writer.sequence = sequence;
        writer.slot = slot;
        writer.state_hash = state_hash;

        // 4. Point the index at the new records.
        for ((shard_index, _), out) in batches.iter().zip(placed) {
            let mut shard = write(&self.shards[*shard_index].0);
            let table = read_mostly(&self.segments);
            for (key, location, previous_account) in out {
                let previous = shard.index.insert(key, location);
                if !location.is_tombstone() {
                    shard.accounts = shard.accounts.saturating_add(1);
                }
                if let Some(previous) = previous {
                    if !previous.is_tombstone() {
                        shard.accounts = shard.accounts.saturating_sub(1);
                    }
                    if let Some((segment, bytes)) =
                        replaced_record(&table, previous, previous_account)
                    {
                        segment.sub_live(bytes);
                    }
                }
            }
            shard.committing = None;
        }
        *write(&self.last_committed) = (slot, state_hash);

        // 5. Segments no manifest copy names any more can go. The slot is durable already,
        // so a file that will not go is kept for the next commit to retry (and a reopen
        // removes it as an orphan) instead of failing a commit that has happened.
        let current = writer.sequence;
        let disk = &self.options.disk;
        writer.retired.retain(|retired| {
            if retired.last_named_by.saturating_add(2) > current {
                return true;
            }
            match &retired.path {
                Some(path) => disk
                    .remove_file(path)
                    .is_err_and(|error| error.kind() != std::io::ErrorKind::NotFound),
                None => false,
            }
        });
        Ok(())
    }

    fn write_manifest(&self, writer: &mut Writer, manifest: &Manifest) -> Result<()> {
        let Backing::Directory { path, dir } = &self.backing else {
            return Ok(());
        };
        let copy = usize::from(!manifest.sequence.is_multiple_of(2));
        let manifest_path = path.join(MANIFEST_NAMES[copy]);
        let bytes = manifest.encode();
        let disk = &self.options.disk;
        let file = disk
            .open(
                OpenOptions::new().write(true).create(true).truncate(false),
                &manifest_path,
            )
            .map_err(Error::io("open", &manifest_path))?;
        disk.write_all_at(&file, &bytes, 0)
            .map_err(Error::io("write", &manifest_path))?;
        disk.set_len(&file, bytes.len() as u64)
            .map_err(Error::io("truncate", &manifest_path))?;
        disk.sync_all(&file)
            .map_err(Error::io("fsync", &manifest_path))?;
        if !writer.manifest_exists[copy] {
            sync_dir(disk, dir, path)?;
            writer.manifest_exists[copy] = true;
        }
        Ok(())
    }

    fn compact(&self) -> Result<CompactionReport> {
        let _one_at_a_time = lock(&self.compaction);
        let percent = self.options.compaction_live_percent;
        let (victims, horizon, created_after_slot) = {
            let mut writer = lock(&self.writer);
            if writer.poisoned {
                return Err(Error::Poisoned);
            }
            let table = read_mostly(&self.segments);
            // A mostly-dead active segment is sealed so it can be compacted too; otherwise a
            // small, hot working set would keep one whole segment of garbage forever.
            if writer
                .active
                .as_ref()
                .is_some_and(|active| below_threshold(active.live(), active.written(), percent))
            {
                writer.active = None;
            }
            let active_id = writer.active.as_ref().map(|active| active.id);
            let mut victims = Vec::new();
            let mut horizon = u64::MAX;
            for entry in writer.segments.values() {
                let Some(Some(segment)) = table.get(entry.id as usize) else {
                    continue;
                };
                if Some(entry.id) != active_id
                    && below_threshold(segment.live(), segment.written(), percent)
                {
                    victims.push(Arc::clone(segment));
                } else {
                    horizon = horizon.min(entry.created_after_slot);
                }
            }
            (victims, horizon, writer.slot)
        };
        if victims.is_empty() {
            return Ok(CompactionReport::default());
        }
        let mut outputs: Vec<Arc<Segment>> = Vec::new();
        let result = self.compact_victims(&victims, horizon, created_after_slot, &mut outputs);
        if result.is_err() {
            let mut table = write_mostly(&self.segments);
            for output in &outputs {
                if let Some(slot) = table.get_mut(output.id as usize) {
                    *slot = None;
                }
                if matches!(self.backing, Backing::Directory { .. }) {
                    let _ = self.options.disk.remove_file(&output.path);
                }
            }
        }
        result
    }

    fn compact_victims(
        &self,
        victims: &[Arc<Segment>],
        horizon: u64,
        created_after_slot: u64,
        outputs: &mut Vec<Arc<Segment>>,
    ) -> Result<CompactionReport> {
        let mut report = CompactionReport::default();
        let mut moves = Vec::new();
        let mut drops = Vec::new();
        for victim in victims {
            let bytes = victim.published_from(0).unwrap_or(&[]);
            report.bytes_before = report.bytes_before.saturating_add(bytes.len() as u64);
            let mut offset = 0usize;
            while offset < bytes.len() {
                let corrupt = |reason| Error::CorruptRecord {
                    path: victim.path.clone(),
                    offset: offset as u64,
                    reason,
                };
                let view = decode_record(&bytes[offset..], true).map_err(corrupt)?;
                let total = usize::try_from(view.total_bytes)
                    .map_err(|_| corrupt("record length overflows"))?;
                let end = offset
                    .checked_add(total)
                    .ok_or_else(|| corrupt("record length overflows"))?;
                let old = Location::new(
                    victim.id,
                    to_u32(offset as u64, "record offset")?,
                    view.lamports == 0,
                );
                let live = read(&self.shards[shard_of(&view.key)].0)
                    .index
                    .get(&view.key)
                    == Some(&old);
                if live {
                    if old.is_tombstone() && view.slot <= horizon {
                        drops.push((view.key, old));
                    } else {
                        let output = match outputs.last() {
                            Some(output)
                                if output
                                    .written()
                                    .checked_add(view.total_bytes)
                                    .is_some_and(|end| end <= output.capacity()) =>
                            {
                                Arc::clone(output)
                            }
                            _ => {
                                let output = self.new_segment(view.total_bytes)?;
                                outputs.push(Arc::clone(&output));
                                output
                            }
                        };
                        // The record is copied verbatim: same slot, same checksum.
                        let new_offset = output.append(&[&bytes[offset..end]])?;
                        let new = Location::new(
                            output.id,
                            to_u32(new_offset, "record offset")?,
                            old.is_tombstone(),
                        );
                        moves.push((view.key, old, new, view.total_bytes, Arc::clone(&output)));
                        report.bytes_after = report.bytes_after.saturating_add(view.total_bytes);
                    }
                }
                offset = end;
            }
        }
        for output in outputs.iter() {
            output.sync_range(0, output.written(), &self.options.disk)?;
        }

        // Install: swap entries that still point at the old copies. Entries a commit
        // overwrote meanwhile stay as they are; their copies are dead on arrival.
        let mut writer = lock(&self.writer);
        if writer.poisoned {
            return Err(Error::Poisoned);
        }
        for (key, old, new, bytes, output) in moves {
            let mut shard = write(&self.shards[shard_of(&key)].0);
            if shard.index.get(&key) == Some(&old) {
                shard.index.insert(key, new);
                output.add_live(bytes);
            }
        }
        for (key, old) in drops {
            let mut shard = write(&self.shards[shard_of(&key)].0);
            if shard.index.get(&key) == Some(&old) {
                shard.index.remove(&key);
                report.tombstones_dropped = report.tombstones_dropped.saturating_add(1);
            }
        }
        for output in outputs.iter() {
            writer.segments.insert(
                output.id,
                SegmentEntry {
                    id: output.id,
                    committed_len: output.written(),
                    created_after_slot,
                },
            );
        }
        let last_named_by = writer.sequence;
        let mut table = write_mostly(&self.segments);
        for victim in victims {
            writer.segments.remove(&victim.id);
            if let Some(slot) = table.get_mut(victim.id as usize) {
                *slot = None;
            }
            writer.retired.push(Retired {
                path: matches!(self.backing, Backing::Directory { .. })
                    .then(|| victim.path.clone()),
                bytes: victim.written(),
                last_named_by,
            });
            report.segments_compacted = report.segments_compacted.saturating_add(1);
        }
        Ok(report)
    }
}
