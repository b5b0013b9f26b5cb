//! Genesis: the accounts a ledger starts from, stored beside the ledger so that replay can
//! rebuild every slot from nothing.
//!
//! Programs are code, not data: whoever starts a node registers them; genesis holds their
//! executable accounts like any other account. The genesis hash (blake3 of the file) is the
//! first recent blockhash and the parent bank hash of the first slot.
//!
//! # Format (`genesis.bin`, little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `BRGENES2` (rules follow) or `BRGENES1` (no rules: none apply) |
//! | 8 | 8 | creation parameter: slot length in milliseconds |
//! | 16 | 8 | `BRGENES2` only: rules, a bit set; bit 0: rent exemption required |
//! | 16 or 24 | 8 | account count `n` |
//! | … | … | `n` accounts: pubkey (32), lamports u64, owner (32), executable u8, data length u32, data |
//! | end − 32 | 32 | blake3 of everything before it |
//!
//! A genesis with no rules is written as `BRGENES1`, so its hash is what it always was.

use std::path::{Path, PathBuf};

use braid_accounts_db::Disk;
use braid_primitives::{ACCOUNT_DATA_BYTES_MAX, Account, Hash, Pubkey};

/// Magic bytes opening a genesis file without rules.
pub const GENESIS_MAGIC: [u8; 8] = *b"BRGENES1";
/// Magic bytes opening a genesis file with a rules word.
pub const GENESIS_MAGIC_RULES: [u8; 8] = *b"BRGENES2";
/// Rules bit: accounts a transaction leaves with lamports must be rent-exempt.
const RULE_RENT_EXEMPTION: u64 = 1;
/// The genesis file's name inside a ledger directory.
pub const GENESIS_FILE_NAME: &str = "genesis.bin";
const ACCOUNT_FIXED_BYTES: usize = 32 + 8 + 32 + 1 + 4;
const HEADER_BYTES: usize = 24;
const CHECKSUM_BYTES: usize = 32;

/// The starting state of a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Slot length, in milliseconds, the ledger was created with.
    pub slot_ms: u64,
    /// Initial accounts, in ascending key order (duplicates are an error).
    pub accounts: Vec<(Pubkey, Account)>,
    /// Whether accounts a transaction leaves with lamports must be rent-exempt
    /// (`braid_runtime::rent`): a rule of the ledger, so every replay applies it the same.
    pub rent_exemption: bool,
}

/// Why a genesis file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// An I/O error.
    #[error("genesis I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is damaged.
    #[error("genesis file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two accounts have the same key.
    #[error("genesis lists account {0} twice")]
    DuplicateAccount(Pubkey),
}

impl Genesis {
    /// A genesis with `accounts` (sorted here) and the given slot length.
    pub fn new(slot_ms: u64, mut accounts: Vec<(Pubkey, Account)>) -> Result<Self, GenesisError> {
        accounts.sort_by_key(|(key, _)| *key);
        if let Some(pair) = accounts.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(GenesisError::DuplicateAccount(pair[0].0));
        }
        Ok(Self {
            slot_ms,
            accounts,
            rent_exemption: false,
        })
    }

    /// This genesis, requiring rent exemption or not.
    pub fn with_rent_exemption(mut self, rent_exemption: bool) -> Self {
        self.rent_exemption = rent_exemption;
        self
    }

    /// The serialized file contents.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.rent_exemption {
            out.extend_from_slice(&GENESIS_MAGIC_RULES);
            out.extend_from_slice(&self.slot_ms.to_le_bytes());
            out.extend_from_slice(&RULE_RENT_EXEMPTION.to_le_bytes());
        } else {
            out.extend_from_slice(&GENESIS_MAGIC);
            out.extend_from_slice(&self.slot_ms.to_le_bytes());
        }
        out.extend_from_slice(&(self.accounts.len() as u64).to_le_bytes());
        for (key, account) in &self.accounts {
            out.extend_from_slice(key.as_ref());
            out.extend_from_slice(&account.lamports.to_le_bytes());
            out.extend_from_slice(account.owner.as_ref());
            out.push(u8::from(account.executable));
            // Accounts hold at most 10 MiB, so the length always fits in u32.
            out.extend_from_slice(&(account.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&account.data);
        }
        let checksum = blake3::hash(&out);
        out.extend_from_slice(checksum.as_bytes());
        out
    }

    /// Parses file contents; `path` names the file in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self, GenesisError> {
        let corrupt = |reason| GenesisError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let body_len = bytes
            .len()
            .checked_sub(CHECKSUM_BYTES)
            .ok_or_else(|| corrupt("file too short"))?;
        let (body, checksum) = bytes.split_at(body_len);
        if blake3::hash(body).as_bytes()[..] != checksum[..] {
            return Err(corrupt("checksum mismatch"));
        }
        let with_rules = match body.get(..8) {
            Some(magic) if magic == GENESIS_MAGIC => false,
            Some(magic) if magic == GENESIS_MAGIC_RULES => true,
            _ => return Err(corrupt("bad magic")),
        };
        let header_bytes = if with_rules {
            HEADER_BYTES.saturating_add(8)
        } else {
            HEADER_BYTES
        };
        if body.len() < header_bytes {
            return Err(corrupt("bad header"));
        }
        let word = |at: usize| -> Result<u64, GenesisError> {
            let bytes = body
                .get(at..at.saturating_add(8))
                .ok_or_else(|| corrupt("bad header"))?;
            Ok(u64::from_le_bytes(
                bytes.try_into().map_err(|_| corrupt("bad header"))?,
            ))
        };
        let slot_ms = word(8)?;
        let rules = if with_rules { word(16)? } else { 0 };
        if rules & !RULE_RENT_EXEMPTION != 0 {
            return Err(corrupt("unknown rules"));
        }
        let count = word(header_bytes.saturating_sub(8))?;
        let mut rest = &body[header_bytes..];
        let mut accounts = Vec::new();
        for _ in 0..count {
            if rest.len() < ACCOUNT_FIXED_BYTES {
                return Err(corrupt("truncated account"));
            }
            let key =
                Pubkey::new_from_array(rest[..32].try_into().map_err(|_| corrupt("bad key"))?);
            let lamports = u64::from_le_bytes(
                rest[32..40]
                    .try_into()
                    .map_err(|_| corrupt("bad lamports"))?,
            );
            let owner =
                Pubkey::new_from_array(rest[40..72].try_into().map_err(|_| corrupt("bad owner"))?);
            let executable = match rest[72] {
                0 => false,
                1 => true,
                _ => return Err(corrupt("bad executable flag")),
            };
            let len =
                u32::from_le_bytes(rest[73..77].try_into().map_err(|_| corrupt("bad length"))?)
                    as usize;
            let end = ACCOUNT_FIXED_BYTES.saturating_add(len);
            if len > ACCOUNT_DATA_BYTES_MAX || rest.len() < end {
                return Err(corrupt("bad data length"));
            }
            let data = rest[ACCOUNT_FIXED_BYTES..end].to_vec();
            rest = &rest[end..];
            accounts.push((
                key,
                Account {
                    lamports,
                    owner,
                    executable,
                    data,
                },
            ));
        }
        if !rest.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(Self::new(slot_ms, accounts)?.with_rent_exemption(rules & RULE_RENT_EXEMPTION != 0))
    }

    /// The genesis hash: blake3 of the encoded file.
    pub fn hash(&self) -> Hash {
        Hash::new_from_array(*blake3::hash(&self.encode()).as_bytes())
    }

    /// Writes `genesis.bin` into `dir` (durably: file and directory synced).
    pub fn write(&self, dir: &Path) -> Result<(), GenesisError> {
        self.write_with(dir, &Disk::default())
    }

    /// [`write`](Self::write), with every durable write going through `disk`.
    pub fn write_with(&self, dir: &Path, disk: &Disk) -> Result<(), GenesisError> {
        let path = dir.join(GENESIS_FILE_NAME);
        let io = |source| GenesisError::Io {
            path: path.clone(),
            source,
        };
        disk.create_dir_all(dir).map_err(io)?;
        let temp = dir.join(format!("{GENESIS_FILE_NAME}.tmp"));
        let file = disk
            .open(
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true),
                &temp,
            )
            .map_err(io)?;
        disk.write_all_at(&file, &self.encode(), 0).map_err(io)?;
        disk.sync_all(&file).map_err(io)?;
        disk.rename(&temp, &path).map_err(io)?;
        disk.sync_dir(dir).map_err(io)?;
        Ok(())
    }

    /// Reads `genesis.bin` from `dir`; `Ok(None)` if there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>, GenesisError> {
        let path = dir.join(GENESIS_FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => Self::decode(&bytes, &path).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(GenesisError::Io { path, source }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // small known values in tests
mod tests {
    use super::*;

    fn sample() -> Genesis {
        let accounts = (0..5u8)
            .map(|n| {
                (
                    Pubkey::new_from_array([n; 32]),
                    Account::with_data(u64::from(n) + 1, vec![n; n as usize], &Pubkey::default()),
                )
            })
            .collect();
        Genesis::new(400, accounts).unwrap()
    }

    #[test]
    fn rules_round_trip_and_no_rules_keep_the_old_format() {
        let path = Path::new("genesis.bin");
        let plain = sample();
        assert_eq!(plain.encode()[..8], GENESIS_MAGIC);
        let ruled = sample().with_rent_exemption(true);
        let bytes = ruled.encode();
        assert_eq!(bytes[..8], GENESIS_MAGIC_RULES);
        assert_eq!(bytes.len(), plain.encode().len() + 8);
        assert_eq!(Genesis::decode(&bytes, path).unwrap(), ruled);
        assert_ne!(ruled.hash(), plain.hash());
        // A rule this build does not know is refused, not ignored.
        let mut unknown = bytes[..bytes.len() - 32].to_vec();
        unknown[16] |= 0b10;
        let checksum = blake3::hash(&unknown);
        unknown.extend_from_slice(checksum.as_bytes());
        assert!(matches!(
            Genesis::decode(&unknown, path),
            Err(GenesisError::Corrupt {
                reason: "unknown rules",
                ..
            })
        ));
    }

    #[test]
    fn round_trips_and_detects_every_flipped_byte() {
        for genesis in [sample(), sample().with_rent_exemption(true)] {
            flipped_bytes_are_corruption(genesis);
        }
    }

    fn flipped_bytes_are_corruption(genesis: Genesis) {
        let bytes = genesis.encode();
        let path = Path::new("genesis.bin");
        assert_eq!(Genesis::decode(&bytes, path).unwrap(), genesis);
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            assert!(
                matches!(
                    Genesis::decode(&damaged, path),
                    Err(GenesisError::Corrupt { .. })
                ),
                "byte {at}"
            );
        }
        for cut in 0..bytes.len() {
            assert!(Genesis::decode(&bytes[..cut], path).is_err());
        }
    }

    #[test]
    fn duplicate_accounts_are_refused() {
        let account = Account::new(1, 0, &Pubkey::default());
        let key = Pubkey::new_from_array([1; 32]);
        assert!(matches!(
            Genesis::new(400, vec![(key, account.clone()), (key, account)]),
            Err(GenesisError::DuplicateAccount(k)) if k == key
        ));
    }

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Genesis::read(dir.path()).unwrap(), None);
        sample().write(dir.path()).unwrap();
        assert_eq!(Genesis::read(dir.path()).unwrap(), Some(sample()));
    }
}
