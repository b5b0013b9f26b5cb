//! The blocks a validator built or accepted, kept on disk until their height is decided.
//!
//! Malachite's write-ahead log remembers the block ids this validator proposed and voted
//! for, and replays them after a crash: it proposes the same id again rather than ask for a
//! new block (two blocks for one round would be equivocation), and it may decide a block
//! this validator accepted before the crash. The blocks themselves are the application's to
//! keep: without them, a restarted validator could neither stream its block again nor
//! commit a decided one. So each block is written here, synced, before the engine hears of
//! it, and read back on start.
//!
//! One file per proposal, `<height>-<round>-<id prefix>.block`, holding a
//! [`SavedProposal`] in Borsh; written aside and renamed into place, so a crash leaves the
//! whole file or none. Files for decided heights are removed.

use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};
use braid_accounts_db::disk::Disk;
use malachitebft_core_types::Round;

use crate::context::{Address, BlockId, Height};
use crate::error::ConsensusError;

/// A block as a validator saw it proposed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SavedProposal {
    /// The height.
    pub height: Height,
    /// The round it was proposed in.
    pub round: Round,
    /// The round of the polka its proposer cited, or nil.
    pub valid_round: Round,
    /// Who proposed it.
    pub proposer: Address,
    /// Whether this validator built it.
    pub own: bool,
    /// The encoded block.
    pub block: Vec<u8>,
}

const SUFFIX: &str = ".block";

/// The directory of saved proposals.
pub struct ProposalStore {
    dir: PathBuf,
    disk: Disk,
}

impl ProposalStore {
    /// The store in `dir`, created if missing.
    pub fn open(dir: &Path) -> Result<Self, ConsensusError> {
        let disk = Disk::default();
        disk.create_dir_all(dir)
            .map_err(|source| ConsensusError::storage(dir, source))?;
        Ok(Self {
            dir: dir.to_owned(),
            disk,
        })
    }

    fn path(&self, height: Height, round: Round, id: BlockId) -> PathBuf {
        let round = round
            .as_u32()
            .map_or_else(|| "nil".to_owned(), |r| r.to_string());
        let prefix: String = id.0[..8].iter().map(|byte| format!("{byte:02x}")).collect();
        self.dir
            .join(format!("{}-{round}-{prefix}{SUFFIX}", height.0))
    }

    /// Saves `proposal` of block `id`, durably.
    pub fn save(&self, proposal: &SavedProposal, id: BlockId) -> Result<(), ConsensusError> {
        let path = self.path(proposal.height, proposal.round, id);
        let temp = path.with_extension("tmp");
        let bytes = borsh::to_vec(proposal).expect("Borsh into a Vec never fails");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        let file = self
            .disk
            .open(&options, &temp)
            .map_err(|source| ConsensusError::storage(&temp, source))?;
        self.disk
            .write_all(&file, &bytes)
            .and_then(|()| self.disk.sync_all(&file))
            .map_err(|source| ConsensusError::storage(&temp, source))?;
        self.disk
            .rename(&temp, &path)
            .and_then(|()| self.disk.sync_dir(&self.dir))
            .map_err(|source| ConsensusError::storage(&path, source))
    }

    /// The saved proposals at `height` or above, by height and round. A file that does not
    /// decode is an error naming it; files that are not saved proposals are left alone.
    pub fn load(&self, height: Height) -> Result<Vec<SavedProposal>, ConsensusError> {
        let mut saved = Vec::new();
        for (path, at) in self.entries()? {
            if at >= height {
                let bytes = std::fs::read(&path)
                    .map_err(|source| ConsensusError::storage(&path, source))?;
                let proposal: SavedProposal = borsh::from_slice(&bytes).map_err(|error| {
                    ConsensusError::storage(
                        &path,
                        std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()),
                    )
                })?;
                saved.push(proposal);
            }
        }
        saved.sort_by_key(|proposal| (proposal.height, proposal.round.as_i64()));
        Ok(saved)
    }

    /// Removes the proposals for `height` and below: decided, they are in the ledger.
    pub fn prune(&self, height: Height) -> Result<(), ConsensusError> {
        for (path, at) in self.entries()? {
            if at <= height {
                self.disk
                    .remove_file(&path)
                    .map_err(|source| ConsensusError::storage(&path, source))?;
            }
        }
        Ok(())
    }

    /// Every saved proposal's file and height.
    fn entries(&self) -> Result<Vec<(PathBuf, Height)>, ConsensusError> {
        let mut entries = Vec::new();
        let listing = std::fs::read_dir(&self.dir)
            .map_err(|source| ConsensusError::storage(&self.dir, source))?;
        for entry in listing {
            let path = entry
                .map_err(|source| ConsensusError::storage(&self.dir, source))?
                .path();
            let height = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(SUFFIX))
                .and_then(|stem| stem.split('-').next())
                .and_then(|height| height.parse().ok());
            if let Some(height) = height {
                entries.push((path, Height(height)));
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(height: u64, round: u32, block: &[u8]) -> (SavedProposal, BlockId) {
        let saved = SavedProposal {
            height: Height(height),
            round: Round::new(round),
            valid_round: Round::Nil,
            proposer: Address([7; 32]),
            own: round == 0,
            block: block.to_vec(),
        };
        (saved, crate::block::id_of_encoded(block))
    }

    #[test]
    fn saved_proposals_come_back_until_their_height_is_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProposalStore::open(&dir.path().join("proposals")).unwrap();
        let three = proposal(3, 0, b"three");
        let four = proposal(4, 1, b"four");
        let four_zero = proposal(4, 0, b"four-zero");
        for (saved, id) in [&three, &four, &four_zero] {
            store.save(saved, *id).unwrap();
        }
        std::fs::write(dir.path().join("proposals/unrelated.txt"), b"x").unwrap();
        assert_eq!(
            store.load(Height(4)).unwrap(),
            vec![four_zero.0.clone(), four.0.clone()]
        );
        store.prune(Height(3)).unwrap();
        assert_eq!(store.load(Height(0)).unwrap().len(), 2);
        // A reopened store sees the same files.
        let reopened = ProposalStore::open(&dir.path().join("proposals")).unwrap();
        store.prune(Height(4)).unwrap();
        assert!(reopened.load(Height(0)).unwrap().is_empty());
        assert!(dir.path().join("proposals/unrelated.txt").exists());
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProposalStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("5-0-00.block"), b"\x01").unwrap();
        let error = store.load(Height(5)).unwrap_err();
        assert!(error.to_string().contains("5-0-00.block"), "{error}");
    }
}
