//! 32-byte hashes (blockhashes, message hashes, state and bank hashes).

use std::fmt;
use std::str::FromStr;

/// Length of a hash in bytes.
pub const HASH_BYTES: usize = 32;

/// A 32-byte hash, shown as base58 like Solana's blockhashes.
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Hash(pub [u8; HASH_BYTES]);

impl Hash {
    /// Wraps raw bytes.
    pub const fn new_from_array(bytes: [u8; HASH_BYTES]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn to_bytes(&self) -> [u8; HASH_BYTES] {
        self.0
    }

    /// Lowercase hexadecimal, as bench output and manifests print state hashes.
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        let mut text = String::with_capacity(HASH_BYTES * 2);
        for byte in self.0 {
            let _ = write!(text, "{byte:02x}");
        }
        text
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Hash {
    type Err = crate::ParsePubkeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        crate::Pubkey::from_str(text).map(|key| Self(key.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_full_length() {
        let mut bytes = [0u8; HASH_BYTES];
        bytes[0] = 0xab;
        bytes[31] = 0x01;
        let hex = Hash(bytes).to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.starts_with("ab00"));
        assert!(hex.ends_with("01"));
    }
}
