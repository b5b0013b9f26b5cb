//! Ed25519 keypairs and Solana's keypair file format.
//!
//! A keypair file is what `solana-keygen` writes: a JSON array of 64 numbers, the 32-byte
//! secret seed followed by the 32-byte public key. Reading one checks that the public half
//! really is the seed's public key, so a corrupted or hand-edited file cannot make us sign
//! as one key while claiming to be another.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SECRET_KEY_LENGTH, Signer, SigningKey};

use crate::{Pubkey, Signature};

/// Bytes of a serialized keypair: seed then public key.
pub const KEYPAIR_BYTES: usize = 64;

/// Why a keypair could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum KeypairError {
    /// The file could not be read or written.
    #[error("keypair file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The content is not a JSON array of numbers.
    #[error("keypair is not a JSON array of numbers: {0}")]
    NotJson(String),
    /// The array does not have 64 entries.
    #[error("keypair has {0} bytes, expected 64")]
    WrongLength(usize),
    /// An entry is not an integer in 0..=255.
    #[error("keypair entry {index} is not a byte")]
    ByteOutOfRange {
        /// Its position in the array.
        index: usize,
    },
    /// The public half is not the public key of the secret half.
    #[error("keypair's public key does not match its secret seed")]
    PubkeyMismatch,
}

/// An ed25519 signing key. Its secret is zeroed on drop and never printed.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("pubkey", &self.pubkey())
            .finish_non_exhaustive()
    }
}

impl Default for Keypair {
    fn default() -> Self {
        Self::new()
    }
}

impl Keypair {
    /// A fresh keypair from the operating system's random source.
    ///
    /// # Panics
    ///
    /// If the operating system cannot supply randomness, in which case no key would be safe.
    pub fn new() -> Self {
        let mut seed = [0u8; SECRET_KEY_LENGTH];
        getrandom::fill(&mut seed).expect("operating system random source unavailable");
        let keypair = Self::from_seed(&seed);
        seed.fill(0);
        keypair
    }

    /// The keypair whose secret is `seed` (deterministic; for tests and derivations).
    pub fn from_seed(seed: &[u8; SECRET_KEY_LENGTH]) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Parses seed-then-public-key bytes, checking that the halves belong together.
    pub fn from_bytes(bytes: &[u8; KEYPAIR_BYTES]) -> Result<Self, KeypairError> {
        let (seed, public) = bytes.split_at(SECRET_KEY_LENGTH);
        let seed: &[u8; SECRET_KEY_LENGTH] = seed
            .try_into()
            .map_err(|_| KeypairError::WrongLength(bytes.len()))?;
        let keypair = Self::from_seed(seed);
        if keypair.pubkey().as_ref() != public {
            return Err(KeypairError::PubkeyMismatch);
        }
        Ok(keypair)
    }

    /// Seed then public key, the layout of Solana's keypair files.
    pub fn to_bytes(&self) -> [u8; KEYPAIR_BYTES] {
        self.signing.to_keypair_bytes()
    }

    /// The public key, which is also the account address.
    pub fn pubkey(&self) -> Pubkey {
        Pubkey::new_from_array(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message` (deterministic ed25519).
    pub fn sign_message(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// Parses keypair file content: a JSON array of 64 integers in 0..=255.
    pub fn from_json_str(text: &str) -> Result<Self, KeypairError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| KeypairError::NotJson(e.to_string()))?;
        let entries = value
            .as_array()
            .ok_or_else(|| KeypairError::NotJson("expected an array".to_owned()))?;
        if entries.len() != KEYPAIR_BYTES {
            return Err(KeypairError::WrongLength(entries.len()));
        }
        let mut bytes = [0u8; KEYPAIR_BYTES];
        for (index, (slot, entry)) in bytes.iter_mut().zip(entries).enumerate() {
            *slot = entry
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .ok_or(KeypairError::ByteOutOfRange { index })?;
        }
        let keypair = Self::from_bytes(&bytes);
        bytes.fill(0);
        keypair
    }

    /// Keypair file content, byte for byte what `solana-keygen` writes (compact JSON).
    pub fn to_json_string(&self) -> String {
        let mut bytes = self.to_bytes();
        let text = serde_json::to_string(&bytes[..]).expect("a byte slice always encodes");
        bytes.fill(0);
        text
    }
}

/// Reads a Solana keypair file.
pub fn read_keypair_file(path: impl AsRef<Path>) -> Result<Keypair, KeypairError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| KeypairError::Io {
        path: path.to_owned(),
        source,
    })?;
    Keypair::from_json_str(&text)
}

/// Writes `keypair` as a Solana keypair file, creating parent directories. On unix a new
/// file is created readable by its owner only, so the secret is never briefly exposed.
pub fn write_keypair_file(keypair: &Keypair, path: impl AsRef<Path>) -> Result<(), KeypairError> {
    use std::io::Write;

    let path = path.as_ref();
    let io_error = |source| KeypairError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(keypair.to_json_string().as_bytes())
        .map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_mismatch_is_caught() {
        let keypair = Keypair::from_seed(&[3; 32]);
        let bytes = keypair.to_bytes();
        assert_eq!(
            Keypair::from_bytes(&bytes).unwrap().pubkey(),
            keypair.pubkey()
        );
        let mut bad = bytes;
        bad[40] ^= 1;
        assert!(matches!(
            Keypair::from_bytes(&bad),
            Err(KeypairError::PubkeyMismatch)
        ));
    }

    #[test]
    fn json_errors_are_typed() {
        assert!(matches!(
            Keypair::from_json_str("{"),
            Err(KeypairError::NotJson(_))
        ));
        assert!(matches!(
            Keypair::from_json_str("{}"),
            Err(KeypairError::NotJson(_))
        ));
        assert!(matches!(
            Keypair::from_json_str("[1,2]"),
            Err(KeypairError::WrongLength(2))
        ));
        let mut entries = vec!["0"; 64];
        entries[5] = "256";
        let text = format!("[{}]", entries.join(","));
        assert!(matches!(
            Keypair::from_json_str(&text),
            Err(KeypairError::ByteOutOfRange { index: 5 })
        ));
        entries[5] = "-1";
        let text = format!("[{}]", entries.join(","));
        assert!(matches!(
            Keypair::from_json_str(&text),
            Err(KeypairError::ByteOutOfRange { index: 5 })
        ));
    }

    #[test]
    fn debug_hides_the_secret() {
        let keypair = Keypair::from_seed(&[0xAB; 32]);
        let shown = format!("{keypair:?}");
        assert_eq!(
            shown,
            format!("Keypair {{ pubkey: {}, .. }}", keypair.pubkey())
        );
    }

    #[test]
    fn file_round_trip_is_private() {
        let dir = std::env::temp_dir().join(format!("braid-keypair-{}", std::process::id()));
        let path = dir.join("nested").join("id.json");
        let keypair = Keypair::new();
        write_keypair_file(&keypair, &path).unwrap();
        let read = read_keypair_file(&path).unwrap();
        assert_eq!(read.to_bytes(), keypair.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let missing = read_keypair_file(dir.join("absent.json"));
        assert!(
            matches!(missing, Err(KeypairError::Io { path, .. }) if path.ends_with("absent.json"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
