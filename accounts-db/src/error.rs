//! The crate's one error type.
//!
//! Every failure that comes from disk names the file and, where there is one, the byte
//! offset, so an operator can inspect the damage with `xxd` instead of guessing.

use std::path::PathBuf;

use braid_primitives::Pubkey;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the accounts database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done ("open", "fsync", "map", ...).
        operation: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A record inside a segment's committed range fails its checks.
    #[error("corrupt record in {path} at offset {offset}: {reason}")]
    CorruptRecord {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the record's first byte.
        offset: u64,
        /// Which check failed.
        reason: &'static str,
    },
    /// No manifest copy is valid (the named one is the newest candidate that was rejected).
    #[error("corrupt manifest {path} at offset {offset}: {reason}")]
    CorruptManifest {
        /// The manifest file.
        path: PathBuf,
        /// Byte offset where the check failed.
        offset: u64,
        /// Which check failed.
        reason: &'static str,
    },
    /// The directory holds segment files but no manifest: refusing to guess what was committed.
    #[error("{path} holds segment files but no manifest")]
    MissingManifest {
        /// The database directory.
        path: PathBuf,
    },
    /// The manifest names a segment file that does not exist.
    #[error("segment file {path} named by the manifest is missing")]
    MissingSegment {
        /// The missing file.
        path: PathBuf,
    },
    /// A segment file is shorter than the length the manifest says was committed.
    #[error("segment file {path} is {len} bytes, shorter than its committed {committed_len} bytes")]
    SegmentTruncated {
        /// The segment file.
        path: PathBuf,
        /// Its length on disk.
        len: u64,
        /// The committed length recorded in the manifest.
        committed_len: u64,
    },
    /// A write names a slot at or before the last committed (or committing) slot.
    #[error("slot {slot} is not after the committed slot {committed}")]
    SlotNotAfterCommitted {
        /// The slot requested.
        slot: u64,
        /// The last slot committed or being committed.
        committed: u64,
    },
    /// A write or commit names a slot other than the open one.
    #[error("slot {slot} requested while slot {open} is open")]
    SlotMismatch {
        /// The slot requested.
        slot: u64,
        /// The slot that holds uncommitted writes.
        open: u64,
    },
    /// A slot was sealed while an earlier sealed slot is not yet committed, or a sealed slot
    /// was committed out of turn.
    #[error("slot {sealed} is sealed and not yet committed; slot {slot} must wait for it")]
    SealPending {
        /// The slot requested.
        slot: u64,
        /// The slot sealed and awaiting its commit.
        sealed: u64,
    },
    /// `u64::MAX` is reserved as "no slot".
    #[error("slot {0} is reserved")]
    InvalidSlot(u64),
    /// Account data longer than [`ACCOUNT_DATA_BYTES_MAX`](crate::ACCOUNT_DATA_BYTES_MAX).
    #[error("account {key} has {len} bytes of data, more than the maximum")]
    DataTooLarge {
        /// The account.
        key: Pubkey,
        /// Its data length.
        len: usize,
    },
    /// A size or offset computation overflowed (a corrupt length from disk, or a full segment id
    /// space).
    #[error("arithmetic overflow computing {0}")]
    Overflow(&'static str),
    /// The options are inconsistent.
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
    /// An earlier commit failed part way; durability can no longer be promised until the
    /// database is reopened (as after an fsync failure, the page cache state is unknown).
    #[error("an earlier commit failed; reopen the database")]
    Poisoned,
}

impl Error {
    /// Whether the disk is full (`ENOSPC`, or a quota's `EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::Io { source, .. } if crate::disk::is_disk_full(source))
    }

    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            operation,
            path,
            source,
        }
    }
}
