//! Account addresses: 32 bytes, shown and parsed as base58 like Solana's.

use std::fmt;
use std::str::FromStr;

/// Length of a public key in bytes.
pub const PUBKEY_BYTES: usize = 32;
/// Longest base58 text a 32-byte key can have.
const PUBKEY_BASE58_LEN_MAX: usize = 44;

/// The address of an account: an ed25519 public key or a program-derived address.
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
pub struct Pubkey(pub [u8; PUBKEY_BYTES]);

/// Why a text is not a valid base58 public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParsePubkeyError {
    /// The text is longer than any 32-byte key could encode to.
    #[error("public key text is {0} characters, longer than the 44 a 32-byte key can have")]
    TooLong(usize),
    /// The text is not base58.
    #[error("public key is not valid base58")]
    Invalid,
    /// The text decodes to the wrong number of bytes.
    #[error("public key decodes to {0} bytes, expected 32")]
    WrongSize(usize),
}

impl Pubkey {
    /// Wraps raw bytes.
    pub const fn new_from_array(bytes: [u8; PUBKEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn to_bytes(&self) -> [u8; PUBKEY_BYTES] {
        self.0
    }

    /// The raw bytes, borrowed.
    pub const fn as_array(&self) -> &[u8; PUBKEY_BYTES] {
        &self.0
    }

    /// Decodes a base58 literal at compile time; panics (at compile time) on bad input.
    /// Meant for program ids written into source code.
    pub const fn from_str_const(text: &str) -> Self {
        Self(decode_base58_32_const(text.as_bytes()))
    }
}

impl AsRef<[u8]> for Pubkey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; PUBKEY_BYTES]> for Pubkey {
    fn from(bytes: [u8; PUBKEY_BYTES]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Pubkey {
    type Err = ParsePubkeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() > PUBKEY_BASE58_LEN_MAX {
            return Err(ParsePubkeyError::TooLong(text.len()));
        }
        let bytes = bs58::decode(text)
            .into_vec()
            .map_err(|_| ParsePubkeyError::Invalid)?;
        let array: [u8; PUBKEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| ParsePubkeyError::WrongSize(bytes.len()))?;
        Ok(Self(array))
    }
}

/// Base58 decoding usable in `const` context, for program ids in source code.
#[allow(clippy::arithmetic_side_effects)] // const fn; every step is bounds-checked by the loop logic
const fn decode_base58_32_const(text: &[u8]) -> [u8; PUBKEY_BYTES] {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out = [0u8; PUBKEY_BYTES];
    let mut i = 0;
    while i < text.len() {
        let mut digit = 0usize;
        while digit < 58 && ALPHABET[digit] != text[i] {
            digit += 1;
        }
        assert!(digit < 58, "invalid base58 character");
        // out = out * 58 + digit, big-endian.
        let mut carry = digit as u32;
        let mut j = PUBKEY_BYTES;
        while j > 0 {
            j -= 1;
            let value = out[j] as u32 * 58 + carry;
            out[j] = (value & 0xff) as u8;
            carry = value >> 8;
        }
        assert!(carry == 0, "base58 value does not fit in 32 bytes");
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trip_and_const_decode_agree() {
        let text = "11111111111111111111111111111111";
        assert_eq!(Pubkey::from_str(text).unwrap(), Pubkey::default());
        assert_eq!(Pubkey::from_str_const(text), Pubkey::default());
        let token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let parsed = Pubkey::from_str(token).unwrap();
        assert_eq!(Pubkey::from_str_const(token), parsed);
        assert_eq!(parsed.to_string(), token);
        assert_eq!(format!("{parsed:?}"), token);
    }

    #[test]
    fn bad_text_is_a_typed_error() {
        assert_eq!(Pubkey::from_str("0OIl"), Err(ParsePubkeyError::Invalid));
        // "abc" is 33·58² + 34·58 + 35 = 0x01b97b: three bytes.
        assert_eq!(Pubkey::from_str("abc"), Err(ParsePubkeyError::WrongSize(3)));
        assert_eq!(
            Pubkey::from_str(&"1".repeat(45)),
            Err(ParsePubkeyError::TooLong(45))
        );
    }
}
