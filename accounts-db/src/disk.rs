//! The one seam every durable write of the node's storage goes through: segment space
//! reservation, msync, file writes, truncation, fsync, rename and removal, for the accounts
//! database and (through the ledger crate) the block store.
//!
//! Key decision: the seam is a concrete value ([`Disk`]) rather than a trait object, so the
//! production path costs one branch on an `Option` per system call. Tests build a [`Disk`]
//! with [`Faults`] to make the Nth operation fail with `EIO` or `ENOSPC`, in the spirit of
//! SQLite's I/O-error tests: every error path of a commit is then walked by a loop instead of
//! waiting for a real disk to fail. Reads are not routed here: a failed read is already an
//! error at its call site, and recovery is tested by reopening.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A storage operation that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiskOp {
    /// `pwrite` or `write` of file contents (a failed write may leave a prefix behind).
    Write,
    /// `posix_fallocate`: reserving a segment's blocks.
    Allocate,
    /// Creating a file or directory (a full disk or inode table refuses it).
    Create,
    /// `ftruncate`: cutting a torn tail or resizing a manifest.
    Truncate,
    /// `msync` of a mapped range.
    Msync,
    /// `fsync`/`fdatasync` of a file or directory.
    Fsync,
    /// `rename`.
    Rename,
    /// `unlink`.
    Remove,
}

/// The error an injected fault returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// `EIO`: the device failed.
    Io,
    /// `ENOSPC`: the disk is full.
    NoSpace,
}

impl FaultError {
    fn errno(self) -> i32 {
        match self {
            Self::Io => libc::EIO,
            Self::NoSpace => libc::ENOSPC,
        }
    }
}

/// A fault plan: the `fail_at`-th operation (counting from 1) fails, and with
/// [`Faults::persistent`] every operation after it too (a disk that stays full).
#[derive(Debug)]
pub struct Faults {
    fail_at: u64,
    error: FaultError,
    persistent: bool,
    seen: AtomicU64,
    first: Mutex<Option<(u64, DiskOp)>>,
    /// How many of each operation were attempted.
    tally: Mutex<std::collections::BTreeMap<DiskOp, u64>>,
    /// The operations that name a path (creating, syncing a directory, renaming,
    /// removing), in order: for tests of what reaches the disk when.
    trace: Mutex<Vec<(DiskOp, std::path::PathBuf)>>,
}

impl Faults {
    /// Operation number `fail_at` (1-based) fails once with `error`; 0 never fails, which
    /// counts the operations of a run.
    pub fn once(fail_at: u64, error: FaultError) -> Arc<Self> {
        Arc::new(Self::new(fail_at, error, false))
    }

    /// Operation number `fail_at` and every later one fail with `error`.
    pub fn persistent(fail_at: u64, error: FaultError) -> Arc<Self> {
        Arc::new(Self::new(fail_at, error, true))
    }

    /// A plan that never fails: for counting a run's operations.
    pub fn counting() -> Arc<Self> {
        Arc::new(Self::new(0, FaultError::Io, false))
    }

    fn new(fail_at: u64, error: FaultError, persistent: bool) -> Self {
        Self {
            fail_at,
            error,
            persistent,
            seen: AtomicU64::new(0),
            first: Mutex::new(None),
            tally: Mutex::new(std::collections::BTreeMap::new()),
            trace: Mutex::new(Vec::new()),
        }
    }

    /// Operations attempted so far.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    /// The first injected failure: its number and operation.
    pub fn fired(&self) -> Option<(u64, DiskOp)> {
        *self
            .first
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The operations that named a path, in order: `Create` of a file or directory,
    /// `Fsync` of a directory, `Rename` (the new name) and `Remove`.
    pub fn trace(&self) -> Vec<(DiskOp, std::path::PathBuf)> {
        self.trace
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    fn record(&self, op: DiskOp, path: &Path) {
        self.trace
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push((op, path.to_owned()));
    }

    /// How many of each operation were attempted so far.
    pub fn operations(&self) -> std::collections::BTreeMap<DiskOp, u64> {
        self.tally
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    fn check(&self, op: DiskOp) -> std::io::Result<()> {
        let n = self.seen.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        let mut tally = self
            .tally
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let count = tally.entry(op).or_insert(0);
        *count = count.saturating_add(1);
        drop(tally);
        let fails =
            self.fail_at != 0 && (n == self.fail_at || (self.persistent && n > self.fail_at));
        if !fails {
            return Ok(());
        }
        self.first
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get_or_insert((n, op));
        Err(std::io::Error::from_raw_os_error(self.error.errno()))
    }
}

/// The storage operations, real unless built with [`Disk::with_faults`].
#[derive(Debug, Clone, Default)]
pub struct Disk {
    faults: Option<Arc<Faults>>,
}

impl Disk {
    /// A disk whose operations fail as `faults` says.
    pub fn with_faults(faults: Arc<Faults>) -> Self {
        Self {
            faults: Some(faults),
        }
    }

    fn check(&self, op: DiskOp) -> std::io::Result<()> {
        self.faults
            .as_ref()
            .map_or(Ok(()), |faults| faults.check(op))
    }

    /// [`check`](Self::check) for an operation on `path`, which the trace records.
    fn check_path(&self, op: DiskOp, path: &Path) -> std::io::Result<()> {
        if let Some(faults) = &self.faults {
            faults.record(op, path);
        }
        self.check(op)
    }

    /// Writes all of `bytes` at `offset`. An injected failure first writes half of them,
    /// as a real short write before `ENOSPC` or a crash mid-write would.
    pub fn write_all_at(&self, file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
        if let Err(error) = self.check(DiskOp::Write) {
            let _ = file.write_all_at(&bytes[..bytes.len() / 2], offset);
            return Err(error);
        }
        file.write_all_at(bytes, offset)
    }

    /// Appends all of `bytes` at the file's position (with the same half-write on failure).
    pub fn write_all(&self, mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
        if let Err(error) = self.check(DiskOp::Write) {
            let _ = file.write_all(&bytes[..bytes.len() / 2]);
            return Err(error);
        }
        file.write_all(bytes)
    }

    /// Reserves `len` bytes of disk for `file` and sets its length to at least `len`. On a
    /// filesystem without `fallocate`, glibc writes the blocks instead, which is slower but
    /// reserves them too.
    pub fn allocate(&self, file: &File, len: u64) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        self.check(DiskOp::Allocate)?;
        let len = libc::off_t::try_from(len)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        loop {
            // SAFETY: the descriptor is open and owned by `file` for the duration of the call.
            match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
                0 => return Ok(()),
                libc::EINTR => continue,
                errno => return Err(std::io::Error::from_raw_os_error(errno)),
            }
        }
    }

    /// Opens `path` with `options`; when they may create it, this is a [`DiskOp::Create`].
    pub fn open(&self, options: &std::fs::OpenOptions, path: &Path) -> std::io::Result<File> {
        self.check_path(DiskOp::Create, path)?;
        options.open(path)
    }

    /// Creates `path` and its missing parents, and makes each new name durable by syncing
    /// the directory that holds it.
    pub fn create_dir_all(&self, path: &Path) -> std::io::Result<()> {
        if path.is_dir() {
            return Ok(());
        }
        // The missing directories, outermost first.
        let missing: Vec<&Path> = path
            .ancestors()
            .take_while(|ancestor| !ancestor.as_os_str().is_empty() && !ancestor.is_dir())
            .collect();
        self.check_path(DiskOp::Create, path)?;
        std::fs::create_dir_all(path)?;
        for created in missing.into_iter().rev() {
            self.sync_dir(parent_dir(created))?;
        }
        Ok(())
    }

    /// Sets the file's length.
    pub fn set_len(&self, file: &File, len: u64) -> std::io::Result<()> {
        self.check(DiskOp::Truncate)?;
        file.set_len(len)
    }

    /// `fsync`: the file's data and metadata.
    pub fn sync_all(&self, file: &File) -> std::io::Result<()> {
        self.check(DiskOp::Fsync)?;
        file.sync_all()
    }

    /// `fdatasync`: the file's data (and the metadata needed to read it back).
    pub fn sync_data(&self, file: &File) -> std::io::Result<()> {
        self.check(DiskOp::Fsync)?;
        file.sync_data()
    }

    /// Makes a directory's entries durable (new, renamed and removed names).
    pub fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.check_path(DiskOp::Fsync, dir)?;
        File::open(dir)?.sync_all()
    }

    /// [`sync_dir`](Self::sync_dir) through a directory already open at `path`.
    pub fn sync_dir_file(&self, dir: &File, path: &Path) -> std::io::Result<()> {
        self.check_path(DiskOp::Fsync, path)?;
        dir.sync_all()
    }

    /// `msync` of a mapped range: `flush` performs it.
    pub fn msync(&self, flush: impl FnOnce() -> std::io::Result<()>) -> std::io::Result<()> {
        self.check(DiskOp::Msync)?;
        flush()
    }

    /// Renames `from` to `to`.
    pub fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.check_path(DiskOp::Rename, to)?;
        std::fs::rename(from, to)
    }

    /// Removes a file.
    pub fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.check_path(DiskOp::Remove, path)?;
        std::fs::remove_file(path)
    }
}

/// The directory holding `path`: its parent, or `.` for a bare name.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Whether `error` says the disk is full (`ENOSPC`, or `EDQUOT` for a quota).
pub fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("ledger")), Path::new("."));
        assert_eq!(parent_dir(Path::new("/srv/ledger")), Path::new("/srv"));
        assert_eq!(parent_dir(Path::new("a/b")), Path::new("a"));
    }

    #[test]
    fn creating_nested_directories_syncs_each_new_name() {
        let root = tempfile::tempdir().unwrap();
        let faults = Faults::counting();
        let disk = Disk::with_faults(Arc::clone(&faults));
        let nested = root.path().join("a").join("b");
        disk.create_dir_all(&nested).unwrap();
        let synced: Vec<_> = faults
            .trace()
            .into_iter()
            .filter(|(op, _)| *op == DiskOp::Fsync)
            .map(|(_, path)| path)
            .collect();
        assert_eq!(synced, [root.path().to_owned(), root.path().join("a")]);
        // Already there: nothing to do.
        disk.create_dir_all(&nested).unwrap();
        assert_eq!(faults.trace().len(), 3);
    }
}
