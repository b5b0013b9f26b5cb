//! One append-only segment: a memory map over a file (or anonymous memory) that a single
//! writer fills front to back while any number of readers copy out published records.
//!
//! Key decision: access goes through raw pointers ([`memmap2::MmapRaw`]) and never through a
//! `&[u8]` of the whole map, so no reference ever covers bytes another thread is writing.
//! The writer copies into the unpublished tail and then publishes it with a release store
//! of `written`; readers only ever borrow ranges below `written` (acquire), which are never
//! written again. That makes concurrent reads during appends sound without a lock.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::disk::Disk;
use crate::error::{Error, Result};

/// File name of segment `id`.
pub(crate) fn segment_file_name(id: u32) -> String {
    format!("seg-{id:010}.dat")
}

/// Parses a segment file name back to its id.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".dat")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(crate) struct Segment {
    pub id: u32,
    /// The file, or a `<memory>` pseudo path used in error messages.
    pub path: PathBuf,
    /// `None` for anonymous (in-memory) segments: nothing to sync.
    file: Option<File>,
    map: MmapRaw,
    /// Bytes published to readers; everything below is immutable.
    written: AtomicU64,
    /// Bytes of records still referenced by the index (tombstones included).
    live: AtomicU64,
}

impl Segment {
    /// Creates an empty file-backed segment able to hold `capacity` bytes. The file's blocks
    /// are reserved up front (`posix_fallocate`) and synced with its directory entry, so that
    /// later commits only need to sync data ranges, and a full disk is an error here instead
    /// of a SIGBUS when a write through the map finds no block behind it.
    pub fn create(dir: &Path, id: u32, capacity: u64, disk: &Disk) -> Result<Self> {
        let path = dir.join(segment_file_name(id));
        let file = disk
            .open(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true),
                &path,
            )
            .map_err(Error::io("create", &path))?;
        disk.allocate(&file, capacity)
            .map_err(Error::io("reserve disk space for", &path))?;
        disk.sync_all(&file).map_err(Error::io("fsync", &path))?;
        let len = usize::try_from(capacity).map_err(|_| Error::Overflow("segment capacity"))?;
        // Raw maps are safe to create; the obligations (the file lives in the database
        // directory, which this process owns while open, so nothing truncates it under the
        // map) fall on the pointer accesses below.
        let map = MmapOptions::new()
            .len(len)
            .map_raw(&file)
            .map_err(Error::io("map", &path))?;
        Ok(Self {
            id,
            path,
            file: Some(file),
            map,
            written: AtomicU64::new(0),
            live: AtomicU64::new(0),
        })
    }

    /// Creates an anonymous segment for the in-memory mode.
    pub fn create_anonymous(id: u32, capacity: u64) -> Result<Self> {
        let path = PathBuf::from(format!("<memory>/{}", segment_file_name(id)));
        let len = usize::try_from(capacity).map_err(|_| Error::Overflow("segment capacity"))?;
        let map = MmapOptions::new()
            .len(len)
            .map_anon()
            .map_err(Error::io("map anonymous", &path))?;
        Ok(Self {
            id,
            path,
            file: None,
            map: MmapRaw::from(map),
            written: AtomicU64::new(0),
            live: AtomicU64::new(0),
        })
    }

    /// Opens an existing segment after a restart, read-only, covering exactly the committed
    /// bytes: any torn tail has already been cut off by the caller.
    pub fn open_sealed(path: PathBuf, id: u32, committed_len: u64) -> Result<Self> {
        let file = File::open(&path).map_err(Error::io("open", &path))?;
        let len = usize::try_from(committed_len).map_err(|_| Error::Overflow("segment length"))?;
        // The file was truncated to `committed_len` before mapping, so the whole mapping is
        // backed by the file.
        let map = MmapOptions::new()
            .len(len)
            .map_raw_read_only(&file)
            .map_err(Error::io("map", &path))?;
        Ok(Self {
            id,
            path,
            file: Some(file),
            map,
            written: AtomicU64::new(committed_len),
            live: AtomicU64::new(0),
        })
    }

    pub fn capacity(&self) -> u64 {
        self.map.len() as u64
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    pub fn live(&self) -> u64 {
        self.live.load(Ordering::Relaxed)
    }

    pub fn add_live(&self, bytes: u64) {
        let _ = self
            .live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                Some(live.saturating_add(bytes))
            });
    }

    pub fn sub_live(&self, bytes: u64) {
        let _ = self
            .live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                Some(live.saturating_sub(bytes))
            });
    }

    /// The published bytes from `offset` to the end of what has been written.
    pub fn published_from(&self, offset: u64) -> Option<&[u8]> {
        let written = self.written();
        let len = usize::try_from(written.checked_sub(offset)?).ok()?;
        let start = usize::try_from(offset).ok()?;
        // SAFETY: `offset..written` lies inside the mapping (written <= capacity, enforced by
        // `append`), and published bytes are never written again, so no one mutates them
        // while this shared borrow (tied to `&self`, which keeps the mapping alive) exists.
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(start), len) })
    }

    /// Writes `parts` back to back at the current end and publishes them; returns the offset
    /// they start at. The caller must be this segment's only writer (the commit path holds the
    /// writer lock; compaction owns its output segments until it installs them).
    pub fn append(&self, parts: &[&[u8]]) -> Result<u64> {
        let start = self.written.load(Ordering::Relaxed);
        let mut end = start;
        for part in parts {
            end = end
                .checked_add(part.len() as u64)
                .ok_or(Error::Overflow("segment append"))?;
        }
        if end > self.capacity() {
            return Err(Error::Overflow("segment append past capacity"));
        }
        let mut cursor = usize::try_from(start).map_err(|_| Error::Overflow("segment offset"))?;
        for part in parts {
            // SAFETY: `cursor..cursor + part.len()` is inside the mapping (checked against
            // capacity above) and above `written`, so no reader borrows it; only the single
            // writer touches it. Sealed (read-only) segments are never appended to: their
            // `written` equals their capacity, so the capacity check above rejects any append.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    part.as_ptr(),
                    self.map.as_mut_ptr().add(cursor),
                    part.len(),
                );
            }
            cursor = cursor
                .checked_add(part.len())
                .ok_or(Error::Overflow("segment offset"))?;
        }
        self.written.store(end, Ordering::Release);
        Ok(start)
    }

    /// Makes bytes `from..to` durable (a no-op for anonymous segments).
    pub fn sync_range(&self, from: u64, to: u64, disk: &Disk) -> Result<()> {
        if self.file.is_none() || to <= from {
            return Ok(());
        }
        let offset = usize::try_from(from).map_err(|_| Error::Overflow("sync offset"))?;
        let len = usize::try_from(to.checked_sub(from).ok_or(Error::Overflow("sync range"))?)
            .map_err(|_| Error::Overflow("sync length"))?;
        disk.msync(|| self.map.flush_range(offset, len))
            .map_err(Error::io("msync", &self.path))
    }
}
