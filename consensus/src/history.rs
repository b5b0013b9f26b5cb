//! Every block this validator committed, with the certificate that decided it: what it
//! serves to validators that are catching up, from its first slot on and across restarts.
//!
//! One append-only file, `decided.log`: a record per height, in height order,
//!
//! ```text
//! length: u32 LE | blake3(payload)[..8] | payload = Borsh(height, certificate, block)
//! ```
//!
//! A record is appended and synced after its slot is committed and before the engine moves
//! on. A crash can leave a torn last record: opening keeps the records before it and
//! truncates the file there. A damaged record before the last is an error naming the file
//! and offset. Like the ledger, the file is never pruned.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use braid_accounts_db::disk::Disk;
use bytes::Bytes;
use malachitebft_app::types::core::CommitCertificate;

use crate::context::{BraidContext, Height};
use crate::error::ConsensusError;

/// The file's name inside a validator's consensus directory.
pub const HISTORY_FILE_NAME: &str = "decided.log";
/// Bytes before a record's payload: its length and checksum.
const RECORD_HEADER_BYTES: u64 = 12;
/// Largest payload a record may claim: a block, its certificate and change.
const RECORD_PAYLOAD_BYTES_MAX: u32 = 16 * 1024 * 1024;

/// The decided history. See the module documentation.
pub struct DecidedHistory {
    path: PathBuf,
    file: File,
    disk: Disk,
    /// Where each height's record starts, and its payload's length.
    index: BTreeMap<Height, (u64, u32)>,
    end: u64,
}

type Record = (Height, CommitCertificate<BraidContext>, Vec<u8>);

impl DecidedHistory {
    /// Opens (or creates) the history in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ConsensusError> {
        let disk = Disk::default();
        disk.create_dir_all(dir)
            .map_err(|source| ConsensusError::storage(dir, source))?;
        let path = dir.join(HISTORY_FILE_NAME);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        let file = disk
            .open(&options, &path)
            .map_err(|source| ConsensusError::storage(&path, source))?;
        let mut bytes = Vec::new();
        (&file)
            .read_to_end(&mut bytes)
            .map_err(|source| ConsensusError::storage(&path, source))?;
        let mut index = BTreeMap::new();
        let mut offset = 0usize;
        while offset < bytes.len() {
            let Some(header) = bytes.get(offset..offset.saturating_add(12)) else {
                break; // torn header
            };
            let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let start = offset.saturating_add(12);
            let Some(payload) = usize::try_from(length)
                .ok()
                .and_then(|length| bytes.get(start..start.saturating_add(length)))
            else {
                break; // torn payload
            };
            let last = start.saturating_add(payload.len()) == bytes.len();
            let valid = length <= RECORD_PAYLOAD_BYTES_MAX
                && blake3::hash(payload).as_bytes()[..8] == header[4..12];
            let height = valid
                .then(|| borsh::from_slice::<Record>(payload).ok())
                .flatten()
                .map(|(height, _, _)| height);
            match height {
                Some(height) => {
                    index.insert(height, (offset as u64, length));
                    offset = start.saturating_add(payload.len());
                }
                // A bad last record is a torn write; anything before it is damage.
                None if last => break,
                None => {
                    return Err(ConsensusError::storage(
                        &path,
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("damaged record at offset {offset}"),
                        ),
                    ));
                }
            }
        }
        let end = offset as u64;
        if end < bytes.len() as u64 {
            disk.set_len(&file, end)
                .and_then(|()| disk.sync_all(&file))
                .map_err(|source| ConsensusError::storage(&path, source))?;
        }
        Ok(Self {
            path,
            file,
            disk,
            index,
            end,
        })
    }

    /// Appends and syncs the record of `height`, decided by `certificate`, whose block
    /// encodes to `block`. A height already recorded is left as it is.
    pub fn append(
        &mut self,
        height: Height,
        certificate: &CommitCertificate<BraidContext>,
        block: &[u8],
    ) -> Result<(), ConsensusError> {
        if self.index.contains_key(&height) {
            return Ok(());
        }
        let payload =
            borsh::to_vec(&(height, certificate, block)).expect("Borsh into a Vec never fails");
        let length = u32::try_from(payload.len())
            .ok()
            .filter(|length| *length <= RECORD_PAYLOAD_BYTES_MAX)
            .ok_or_else(|| {
                ConsensusError::storage(
                    &self.path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "a decided block too large to record",
                    ),
                )
            })?;
        let mut record = Vec::with_capacity(payload.len().saturating_add(12));
        record.extend_from_slice(&length.to_le_bytes());
        record.extend_from_slice(&blake3::hash(&payload).as_bytes()[..8]);
        record.extend_from_slice(&payload);
        self.disk
            .write_all_at(&self.file, &record, self.end)
            .and_then(|()| self.disk.sync_data(&self.file))
            .map_err(|source| ConsensusError::storage(&self.path, source))?;
        self.index.insert(height, (self.end, length));
        self.end = self.end.saturating_add(record.len() as u64);
        Ok(())
    }

    /// The lowest height recorded.
    pub fn first(&self) -> Option<Height> {
        self.index.keys().next().copied()
    }

    /// The certificate and encoded block of `height`, if recorded.
    pub fn get(
        &self,
        height: Height,
    ) -> Result<Option<(CommitCertificate<BraidContext>, Bytes)>, ConsensusError> {
        let Some((offset, length)) = self.index.get(&height).copied() else {
            return Ok(None);
        };
        let mut payload = vec![0; length as usize];
        self.file
            .read_exact_at(&mut payload, offset.saturating_add(RECORD_HEADER_BYTES))
            .map_err(|source| ConsensusError::storage(&self.path, source))?;
        let (_, certificate, block): Record = borsh::from_slice(&payload).map_err(|error| {
            ConsensusError::storage(
                &self.path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("record at offset {offset}: {error}"),
                ),
            )
        })?;
        Ok(Some((certificate, Bytes::from(block))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::BlockId;
    use malachitebft_app::types::core::Round;

    fn certificate(height: u64) -> CommitCertificate<BraidContext> {
        CommitCertificate {
            height: Height(height),
            round: Round::new(0),
            value_id: BlockId([height as u8; 32]),
            commit_signatures: Vec::new(),
        }
    }

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = DecidedHistory::open(dir.path()).unwrap();
        history.append(Height(1), &certificate(1), b"one").unwrap();
        history.append(Height(2), &certificate(2), b"two").unwrap();
        history
            .append(Height(2), &certificate(2), b"again")
            .unwrap();
        drop(history);
        // A crash in the middle of the third record's write.
        let path = dir.path().join(HISTORY_FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3]);
        std::fs::write(&path, &bytes).unwrap();

        let mut history = DecidedHistory::open(dir.path()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole as u64);
        assert_eq!(history.first(), Some(Height(1)));
        let (cert, block) = history.get(Height(2)).unwrap().unwrap();
        assert_eq!(cert.value_id, BlockId([2; 32]));
        assert_eq!(&block[..], b"two");
        assert!(history.get(Height(3)).unwrap().is_none());
        history
            .append(Height(3), &certificate(3), b"three")
            .unwrap();
        drop(history);
        let history = DecidedHistory::open(dir.path()).unwrap();
        assert_eq!(&history.get(Height(3)).unwrap().unwrap().1[..], b"three");
    }

    #[test]
    fn a_damaged_record_before_the_last_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = DecidedHistory::open(dir.path()).unwrap();
        history.append(Height(1), &certificate(1), b"one").unwrap();
        history.append(Height(2), &certificate(2), b"two").unwrap();
        drop(history);
        let path = dir.path().join(HISTORY_FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[14] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        let error = DecidedHistory::open(dir.path()).err().unwrap();
        assert!(
            error.to_string().contains("damaged record at offset 0"),
            "{error}"
        );
    }
}
