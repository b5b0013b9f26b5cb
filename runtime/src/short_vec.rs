//! Solana's compact-u16 ("short_vec") length prefix.
//!
//! A length is written little-endian in 7-bit groups, the high bit of each byte meaning
//! "another byte follows", in at most [`SHORT_VEC_BYTES_MAX`] bytes. Every value has exactly
//! one accepted encoding: a continuation into a zero byte (`0x80 0x00`) would alias a shorter
//! encoding, and a third byte may carry only the two bits that still fit in a `u16`. Both are
//! rejected, as Solana rejects them, so that a transaction's bytes (and so its message hash)
//! are a function of its content.

/// Most bytes a compact-u16 takes.
pub const SHORT_VEC_BYTES_MAX: usize = 3;

/// Bits of payload each encoded byte carries.
const PAYLOAD_BITS_PER_BYTE: u32 = 7;
/// The payload bits of a byte.
const PAYLOAD_MASK: u8 = 0x7f;
/// The "another byte follows" bit.
const CONTINUATION_BIT: u8 = 0x80;
/// Largest value the third byte may hold: 16 bits minus the 14 the first two carried.
const THIRD_BYTE_MAX: u8 = 0x03;

/// Why bytes are not a compact-u16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShortVecError {
    /// The input ends before the last byte of the length.
    #[error("input ends inside a compact-u16 length")]
    Truncated,
    /// A continuation byte is zero, so a shorter encoding of the same value exists.
    #[error("non-canonical compact-u16 length")]
    NonCanonical,
    /// The value needs more than 16 bits (or more than three bytes).
    #[error("compact-u16 length overflows 16 bits")]
    Overflow,
}

/// How many bytes [`encode_len`] writes for `len`.
pub const fn encoded_len(len: u16) -> usize {
    if len < 0x80 {
        1
    } else if len < 0x4000 {
        2
    } else {
        3
    }
}

/// Appends the compact-u16 encoding of `len` to `out`.
pub fn encode_len(len: u16, out: &mut Vec<u8>) {
    let mut rest = len;
    loop {
        // Truncation to the low seven bits is the point of the mask.
        let low = (rest & u16::from(PAYLOAD_MASK)) as u8;
        rest >>= PAYLOAD_BITS_PER_BYTE;
        if rest == 0 {
            out.push(low);
            return;
        }
        out.push(low | CONTINUATION_BIT);
    }
}

/// Decodes a compact-u16 from the front of `bytes`: the value and how many bytes it took.
pub fn decode_len(bytes: &[u8]) -> Result<(u16, usize), ShortVecError> {
    let mut value: u16 = 0;
    for (position, &byte) in bytes.iter().take(SHORT_VEC_BYTES_MAX).enumerate() {
        if position > 0 && byte == 0 {
            return Err(ShortVecError::NonCanonical);
        }
        let is_last_allowed = position == SHORT_VEC_BYTES_MAX.saturating_sub(1);
        if is_last_allowed && byte > THIRD_BYTE_MAX {
            // Either more than 16 bits of payload or a fourth byte announced.
            return Err(ShortVecError::Overflow);
        }
        // `position` < 3, so the shift is at most 14 and, with the third-byte bound above,
        // the shifted payload fits in 16 bits.
        let shift = PAYLOAD_BITS_PER_BYTE.saturating_mul(position as u32);
        value |= u16::from(byte & PAYLOAD_MASK) << shift;
        if byte & CONTINUATION_BIT == 0 {
            return Ok((value, position.saturating_add(1)));
        }
    }
    Err(ShortVecError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(len: u16) -> Vec<u8> {
        let mut out = Vec::new();
        encode_len(len, &mut out);
        out
    }

    #[test]
    fn known_encodings() {
        assert_eq!(encode(0), [0x00]);
        assert_eq!(encode(0x7f), [0x7f]);
        assert_eq!(encode(0x80), [0x80, 0x01]);
        assert_eq!(encode(0xff), [0xff, 0x01]);
        assert_eq!(encode(0x100), [0x80, 0x02]);
        assert_eq!(encode(0x3fff), [0xff, 0x7f]);
        assert_eq!(encode(0x4000), [0x80, 0x80, 0x01]);
        assert_eq!(encode(u16::MAX), [0xff, 0xff, 0x03]);
    }

    #[test]
    fn every_value_round_trips_with_its_predicted_length() {
        for len in 0..=u16::MAX {
            let bytes = encode(len);
            assert_eq!(bytes.len(), encoded_len(len));
            assert_eq!(decode_len(&bytes), Ok((len, bytes.len())));
        }
    }

    #[test]
    fn trailing_input_is_not_consumed() {
        assert_eq!(decode_len(&[0x05, 0xff, 0xff]), Ok((5, 1)));
        assert_eq!(decode_len(&[0x80, 0x01, 0x00]), Ok((0x80, 2)));
    }

    #[test]
    fn aliases_are_rejected() {
        assert_eq!(decode_len(&[0x80, 0x00]), Err(ShortVecError::NonCanonical));
        assert_eq!(decode_len(&[0xff, 0x00]), Err(ShortVecError::NonCanonical));
        assert_eq!(
            decode_len(&[0x80, 0x80, 0x00]),
            Err(ShortVecError::NonCanonical)
        );
        assert_eq!(
            decode_len(&[0xff, 0xff, 0x00]),
            Err(ShortVecError::NonCanonical)
        );
    }

    #[test]
    fn overflow_and_overlong_are_rejected() {
        // 0x04 in the third byte is bit 16.
        assert_eq!(
            decode_len(&[0x80, 0x80, 0x04]),
            Err(ShortVecError::Overflow)
        );
        assert_eq!(
            decode_len(&[0xff, 0xff, 0x7f]),
            Err(ShortVecError::Overflow)
        );
        // A continuation bit on the third byte announces a fourth.
        assert_eq!(
            decode_len(&[0xff, 0xff, 0x83, 0x00]),
            Err(ShortVecError::Overflow)
        );
        assert_eq!(
            decode_len(&[0x80, 0x80, 0x80, 0x01]),
            Err(ShortVecError::Overflow)
        );
    }

    #[test]
    fn truncation_is_reported() {
        assert_eq!(decode_len(&[]), Err(ShortVecError::Truncated));
        assert_eq!(decode_len(&[0x80]), Err(ShortVecError::Truncated));
        assert_eq!(decode_len(&[0xff, 0xff]), Err(ShortVecError::Truncated));
    }

    #[test]
    fn every_two_byte_input_agrees_with_the_encoder() {
        for a in 0..=u8::MAX {
            for b in 0..=u8::MAX {
                for c in [0x00, 0x01, 0x03, 0x04, 0x80] {
                    if let Ok((value, used)) = decode_len(&[a, b, c]) {
                        assert_eq!(encode(value), [a, b, c][..used], "{a:#x} {b:#x} {c:#x}");
                    }
                }
            }
        }
    }
}
