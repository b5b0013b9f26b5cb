//! Ed25519 signatures (64 bytes, base58 in text).

/// Length of a signature in bytes.
pub const SIGNATURE_BYTES: usize = 64;

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature(pub [u8; SIGNATURE_BYTES]);

impl Default for Signature {
    fn default() -> Self {
        Self([0; SIGNATURE_BYTES])
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Longest base58 text a 64-byte signature can have.
const SIGNATURE_BASE58_LEN_MAX: usize = 88;

/// Why a text is not a valid base58 signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSignatureError {
    /// The text is longer than any 64-byte signature could encode to.
    #[error("signature text is {0} characters, longer than the 88 a 64-byte signature can have")]
    TooLong(usize),
    /// The text is not base58.
    #[error("signature is not valid base58")]
    Invalid,
    /// The text decodes to the wrong number of bytes.
    #[error("signature decodes to {0} bytes, expected 64")]
    WrongSize(usize),
}

impl std::str::FromStr for Signature {
    type Err = ParseSignatureError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Checked first so that decoding work is bounded by the longest valid input.
        if text.len() > SIGNATURE_BASE58_LEN_MAX {
            return Err(ParseSignatureError::TooLong(text.len()));
        }
        let bytes = bs58::decode(text)
            .into_vec()
            .map_err(|_| ParseSignatureError::Invalid)?;
        let array: [u8; SIGNATURE_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| ParseSignatureError::WrongSize(bytes.len()))?;
        Ok(Self(array))
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; SIGNATURE_BYTES]> for Signature {
    fn from(bytes: [u8; SIGNATURE_BYTES]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trip_and_errors() {
        let signature = Signature::from([7; SIGNATURE_BYTES]);
        let text = signature.to_string();
        assert_eq!(text.parse::<Signature>(), Ok(signature));
        assert_eq!(
            "0OIl".parse::<Signature>(),
            Err(ParseSignatureError::Invalid)
        );
        assert_eq!(
            "2".parse::<Signature>(),
            Err(ParseSignatureError::WrongSize(1))
        );
        let long = "1".repeat(SIGNATURE_BASE58_LEN_MAX + 1);
        assert_eq!(
            long.parse::<Signature>(),
            Err(ParseSignatureError::TooLong(89))
        );
        assert_eq!(signature.as_ref(), &[7; SIGNATURE_BYTES]);
    }
}
