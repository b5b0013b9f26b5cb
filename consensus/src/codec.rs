//! The one codec for the network and the write-ahead log: Borsh, which Malachite's wire
//! types implement (its `borsh` features) once Braid's context types do.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_app::types::codec::Codec;

/// Encodes every consensus, sync and WAL message with Borsh.
#[derive(Debug, Clone, Copy, Default)]
pub struct BorshCodec;

/// A message that did not decode, or (never in practice) did not encode.
#[derive(Debug, thiserror::Error)]
#[error("consensus message: {0}")]
pub struct CodecError(#[from] std::io::Error);

impl<T: BorshSerialize + BorshDeserialize> Codec<T> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<T, CodecError> {
        Ok(borsh::from_slice(&bytes)?)
    }

    fn encode(&self, message: &T) -> Result<Bytes, CodecError> {
        Ok(Bytes::from(borsh::to_vec(message)?))
    }
}
