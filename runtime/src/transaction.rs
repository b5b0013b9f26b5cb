//! A transaction: signatures over a message, and its wire encoding.
//!
//! Wire layout (Solana legacy): a compact-u16 signature count, the 64-byte signatures, then
//! the message bytes (see [`crate::message`]). [`Transaction::from_bytes`] only parses;
//! the structural rules live in [`crate::sanitized`].

use crate::instruction::Instruction;
use crate::keypair::Keypair;
use crate::message::{MESSAGE_VERSION_PREFIX, MessageAddressTableLookup};
use crate::sanitized::{PACKET_DATA_BYTES_MAX, SanitizeError};
use crate::short_vec::{self, ShortVecError};
use crate::{CompiledInstruction, Hash, Message, MessageHeader, Pubkey, Signature};
use braid_primitives::SIGNATURE_BYTES;

/// A legacy Solana transaction: one signature per required signer, then the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// `signatures[i]` is by `message.account_keys[i]`.
    pub signatures: Vec<Signature>,
    /// What the signatures sign.
    pub message: Message,
}

/// Why signing a transaction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// A keypair is not one of the message's required signers.
    #[error("keypair {0} is not a required signer of this message")]
    KeypairPubkeyMismatch(Pubkey),
    /// Some required signer did not sign.
    #[error("not enough signers: required signature {0} is missing")]
    NotEnoughSigners(usize),
}

impl Transaction {
    /// A transaction over `message` with every signature zeroed, ready for [`Transaction::sign`].
    pub fn new_unsigned(message: Message) -> Self {
        let required = usize::from(message.header.num_required_signatures);
        Self {
            signatures: vec![Signature::default(); required],
            message,
        }
    }

    /// Compiles `instructions` with `payer` first, over `recent_blockhash`, signed by
    /// `signers` (in any order).
    ///
    /// # Panics
    ///
    /// If `signers` is not exactly the set of required signers: a bug in the caller.
    pub fn new_signed_with_payer(
        instructions: &[Instruction],
        payer: Option<&Pubkey>,
        signers: &[&Keypair],
        recent_blockhash: Hash,
    ) -> Self {
        let message = Message::new_with_blockhash(instructions, payer, &recent_blockhash);
        let mut transaction = Self::new_unsigned(message);
        transaction.sign(signers, recent_blockhash);
        transaction
    }

    /// Signs with every keypair in `signers` over `recent_blockhash`.
    ///
    /// # Panics
    ///
    /// Where [`Transaction::try_sign`] would return an error: a bug in the caller.
    pub fn sign(&mut self, signers: &[&Keypair], recent_blockhash: Hash) {
        if let Err(error) = self.try_sign(signers, recent_blockhash) {
            panic!("signing failed: {error}");
        }
    }

    /// Signs with every keypair in `signers` over `recent_blockhash`, then checks that every
    /// required signature is present. Changing the blockhash voids signatures made over the
    /// old one.
    pub fn try_sign(
        &mut self,
        signers: &[&Keypair],
        recent_blockhash: Hash,
    ) -> Result<(), SignerError> {
        self.try_partial_sign(signers, recent_blockhash)?;
        match self
            .signatures
            .iter()
            .position(|s| *s == Signature::default())
        {
            Some(missing) => Err(SignerError::NotEnoughSigners(missing)),
            None => Ok(()),
        }
    }

    /// Signs with `signers`, leaving other required signatures as they are.
    pub fn try_partial_sign(
        &mut self,
        signers: &[&Keypair],
        recent_blockhash: Hash,
    ) -> Result<(), SignerError> {
        let required = usize::from(self.message.header.num_required_signatures);
        if self.message.recent_blockhash != recent_blockhash {
            self.message.recent_blockhash = recent_blockhash;
            self.signatures.clear();
        }
        self.signatures.resize(required, Signature::default());
        // Find every position first so that a bad signer leaves the transaction unchanged.
        let mut positions = Vec::with_capacity(signers.len());
        for signer in signers {
            let pubkey = signer.pubkey();
            let position = self.message.account_keys
                [..required.min(self.message.account_keys.len())]
                .iter()
                .position(|key| *key == pubkey)
                .ok_or(SignerError::KeypairPubkeyMismatch(pubkey))?;
            positions.push(position);
        }
        let message_bytes = self.message.serialize();
        for (signer, position) in signers.iter().zip(positions) {
            self.signatures[position] = signer.sign_message(&message_bytes);
        }
        Ok(())
    }

    /// The first signature, which identifies the transaction; `None` if unsigned-empty.
    pub fn signature(&self) -> Option<&Signature> {
        self.signatures.first()
    }

    /// Solana's wire bytes for this transaction.
    ///
    /// # Panics
    ///
    /// If a vector is longer than `u16::MAX`, which only a hand-built transaction can be.
    pub fn to_bytes(&self) -> Vec<u8> {
        let count = u16::try_from(self.signatures.len()).expect("more than u16::MAX signatures");
        let mut out = Vec::with_capacity(
            short_vec::encoded_len(count)
                .saturating_add(self.signatures.len().saturating_mul(SIGNATURE_BYTES))
                .saturating_add(self.message.serialized_len()),
        );
        short_vec::encode_len(count, &mut out);
        for signature in &self.signatures {
            out.extend_from_slice(&signature.0);
        }
        self.message.serialize_into(&mut out);
        out
    }

    /// Parses wire bytes. Checks only the encoding (size, lengths, truncation, trailing
    /// bytes), none of the rules [`crate::sanitized`] enforces.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SanitizeError> {
        parse(bytes).map(|(transaction, _)| transaction)
    }
}

/// Parses wire bytes into a transaction and the offset where its message starts.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Transaction, usize), SanitizeError> {
    // First, so that no work at all is spent on oversized input.
    if bytes.len() > PACKET_DATA_BYTES_MAX {
        return Err(SanitizeError::TooLarge { len: bytes.len() });
    }
    let mut reader = Reader { bytes, position: 0 };
    let signature_count = reader.len_prefix(SIGNATURE_BYTES)?;
    let signatures = (0..signature_count)
        .map(|_| reader.array().map(Signature))
        .collect::<Result<Vec<_>, _>>()?;
    let message_offset = reader.position;

    let first = *reader.remaining().first().ok_or(SanitizeError::Truncated)?;
    let versioned = first & MESSAGE_VERSION_PREFIX != 0;
    if versioned {
        let version = first & !MESSAGE_VERSION_PREFIX;
        if version != 0 {
            return Err(SanitizeError::UnsupportedVersion(version));
        }
        reader.byte()?;
    }
    let header = MessageHeader {
        num_required_signatures: reader.byte()?,
        num_readonly_signed_accounts: reader.byte()?,
        num_readonly_unsigned_accounts: reader.byte()?,
    };
    let key_count = reader.len_prefix(braid_primitives::PUBKEY_BYTES)?;
    let account_keys = (0..key_count)
        .map(|_| reader.array().map(Pubkey::new_from_array))
        .collect::<Result<Vec<_>, _>>()?;
    let recent_blockhash = Hash::new_from_array(reader.array()?);
    // The smallest instruction is three bytes: index, empty accounts, empty data.
    let instruction_count = reader.len_prefix(3)?;
    let mut instructions = Vec::with_capacity(instruction_count);
    for _ in 0..instruction_count {
        let program_id_index = reader.byte()?;
        let account_count = reader.len_prefix(1)?;
        let accounts = reader.take(account_count)?.to_vec();
        let data_len = reader.len_prefix(1)?;
        let data = reader.take(data_len)?.to_vec();
        instructions.push(CompiledInstruction {
            program_id_index,
            accounts,
            data,
        });
    }
    let address_table_lookups = if versioned {
        // The smallest lookup is a table address and two empty index lists.
        let count = reader.len_prefix(braid_primitives::PUBKEY_BYTES.saturating_add(2))?;
        let mut lookups = Vec::with_capacity(count);
        for _ in 0..count {
            let account_key = Pubkey::new_from_array(reader.array()?);
            let writable = reader.len_prefix(1)?;
            let writable_indexes = reader.take(writable)?.to_vec();
            let readonly = reader.len_prefix(1)?;
            let readonly_indexes = reader.take(readonly)?.to_vec();
            lookups.push(MessageAddressTableLookup {
                account_key,
                writable_indexes,
                readonly_indexes,
            });
        }
        Some(lookups)
    } else {
        None
    };
    let extra = bytes.len().saturating_sub(reader.position);
    if extra > 0 {
        return Err(SanitizeError::TrailingBytes { extra });
    }
    let message = Message {
        header,
        account_keys,
        recent_blockhash,
        instructions,
        address_table_lookups,
    };
    Ok((
        Transaction {
            signatures,
            message,
        },
        message_offset,
    ))
}

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.position..).unwrap_or_default()
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], SanitizeError> {
        let taken = self
            .remaining()
            .get(..len)
            .ok_or(SanitizeError::Truncated)?;
        self.position = self.position.saturating_add(len);
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, SanitizeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SanitizeError> {
        let slice = self.take(N)?;
        Ok(slice.try_into().unwrap_or([0; N]))
    }

    /// Reads a compact-u16 count of elements at least `element_bytes` long each, and
    /// rejects it as truncated at once if the rest of the input cannot hold that many:
    /// this bounds every allocation by the input's size.
    fn len_prefix(&mut self, element_bytes: usize) -> Result<usize, SanitizeError> {
        let (len, used) = short_vec::decode_len(self.remaining()).map_err(|error| match error {
            ShortVecError::Truncated => SanitizeError::Truncated,
            ShortVecError::NonCanonical | ShortVecError::Overflow => SanitizeError::InvalidLength,
        })?;
        self.position = self.position.saturating_add(used);
        let len = usize::from(len);
        if len.saturating_mul(element_bytes) > self.remaining().len() {
            return Err(SanitizeError::Truncated);
        }
        Ok(len)
    }
}

/// The first signature of a serialized transaction, read without parsing the rest: what
/// reports name a transaction by even when it does not parse. `None` if the bytes hold no
/// complete first signature.
pub fn first_signature(wire: &[u8]) -> Option<Signature> {
    let (count, count_len) = crate::short_vec::decode_len(wire).ok()?;
    if count == 0 {
        return None;
    }
    let end = count_len.checked_add(SIGNATURE_BYTES)?;
    let bytes: [u8; SIGNATURE_BYTES] = wire.get(count_len..end)?.try_into().ok()?;
    Some(Signature(bytes))
}

#[cfg(test)]
mod first_signature_tests {
    use super::*;

    #[test]
    fn reads_the_first_signature_of_wire_bytes_without_parsing_the_rest() {
        let payer = crate::keypair::Keypair::from_seed(&[3; 32]);
        let ix =
            crate::Instruction::new_with_bytes(crate::Pubkey::new_from_array([9; 32]), &[], vec![]);
        let tx = Transaction::new_signed_with_payer(
            &[ix],
            Some(&payer.pubkey()),
            &[&payer],
            crate::Hash::default(),
        );
        let mut wire = tx.to_bytes();
        assert_eq!(first_signature(&wire), Some(tx.signatures[0]));
        // The rest need not parse.
        wire.truncate(65);
        assert_eq!(first_signature(&wire), Some(tx.signatures[0]));
        assert_eq!(first_signature(&wire[..64]), None);
        assert_eq!(first_signature(&[0]), None);
        assert_eq!(first_signature(&[]), None);
        // A non-canonical count is not a signature count.
        assert_eq!(first_signature(&[0x81, 0x00]), None);
    }
}
