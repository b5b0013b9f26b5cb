//! Validator signatures: ed25519 (the same curve and crate as transactions) over
//! domain-separated Borsh encodings, so a vote can never be replayed as a proposal part or
//! a transaction.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use malachitebft_core_types::{
    self as core, Round, SignedExtension, SignedMessage, SignedProposal, SignedProposalPart,
    SignedVote,
};

use crate::context::{BraidContext, Height, PartContent, Proposal, ProposalPart, Vote};

/// Prefix of a vote's signed bytes.
pub const VOTE_DOMAIN: &[u8] = b"braid-consensus-vote-v1";
/// Prefix of a proposal's signed bytes.
pub const PROPOSAL_DOMAIN: &[u8] = b"braid-consensus-proposal-v1";
/// Prefix of a proposal part's signed bytes.
pub const PART_DOMAIN: &[u8] = b"braid-consensus-part-v2";

/// The signing scheme: ed25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ed25519;

/// A validator's public key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature. Ordered by its bytes, as Malachite requires of a signature.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Signature(pub [u8; 64]);

/// A validator's secret key (its 32-byte seed).
#[derive(Clone)]
pub struct PrivateKey(pub SigningKey);

impl PrivateKey {
    /// The key whose seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// Its public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Its seed: what the libp2p identity is derived from too.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Signs `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> Signature {
        Signature(self.0.sign(bytes).to_bytes())
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({:?})", self.public_key())
    }
}

/// Why a signature's bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signature is 64 bytes, not {0}")]
pub struct SignatureLength(pub usize);

impl core::SigningScheme for Ed25519 {
    type DecodingError = SignatureLength;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, SignatureLength> {
        <[u8; 64]>::try_from(bytes)
            .map(Signature)
            .map_err(|_| SignatureLength(bytes.len()))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }
}

/// Whether `signature` is `public_key`'s over `bytes` (strict: no malleable encodings).
pub fn verify(public_key: &PublicKey, bytes: &[u8], signature: &Signature) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&public_key.0) else {
        return false;
    };
    key.verify_strict(bytes, &ed25519_dalek::Signature::from_bytes(&signature.0))
        .is_ok()
}

fn domain_bytes(domain: &[u8], message: &impl BorshSerialize) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    // Writing to a Vec cannot fail.
    message
        .serialize(&mut bytes)
        .expect("Borsh into a Vec never fails");
    bytes
}

/// The bytes a vote's signature covers.
pub fn vote_sign_bytes(vote: &Vote) -> Vec<u8> {
    domain_bytes(VOTE_DOMAIN, vote)
}

/// The bytes a proposal's signature covers.
pub fn proposal_sign_bytes(proposal: &Proposal) -> Vec<u8> {
    domain_bytes(PROPOSAL_DOMAIN, proposal)
}

/// The bytes a proposal part's signature covers: its height, round, proposer, index, and
/// blake3 over its content's encoding (so a megabyte of transactions is hashed once, not
/// copied into the signed bytes).
pub fn part_sign_bytes(
    height: Height,
    round: Round,
    proposer: &crate::context::Address,
    index: u32,
    content: &PartContent,
) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    content.serialize(&mut hasher).expect("hashing cannot fail");
    let digest: [u8; 32] = *hasher.finalize().as_bytes();
    domain_bytes(PART_DOMAIN, &(height, round, *proposer, index, digest))
}

/// Signs and verifies for one validator.
#[derive(Debug, Clone)]
pub struct SigningProvider {
    key: PrivateKey,
}

impl SigningProvider {
    /// The provider signing with `key`.
    pub fn new(key: PrivateKey) -> Self {
        Self { key }
    }
}

impl core::SigningProvider<BraidContext> for SigningProvider {
    fn sign_vote(&self, vote: Vote) -> SignedVote<BraidContext> {
        let signature = self.key.sign(&vote_sign_bytes(&vote));
        SignedMessage::new(vote, signature)
    }

    fn verify_signed_vote(&self, vote: &Vote, signature: &Signature, key: &PublicKey) -> bool {
        verify(key, &vote_sign_bytes(vote), signature)
    }

    fn sign_proposal(&self, proposal: Proposal) -> SignedProposal<BraidContext> {
        let signature = self.key.sign(&proposal_sign_bytes(&proposal));
        SignedMessage::new(proposal, signature)
    }

    fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        key: &PublicKey,
    ) -> bool {
        verify(key, &proposal_sign_bytes(proposal), signature)
    }

    fn sign_proposal_part(&self, part: ProposalPart) -> SignedProposalPart<BraidContext> {
        let signature = self.key.sign(&domain_bytes(PART_DOMAIN, &part));
        SignedMessage::new(part, signature)
    }

    fn verify_signed_proposal_part(
        &self,
        part: &ProposalPart,
        signature: &Signature,
        key: &PublicKey,
    ) -> bool {
        verify(key, &domain_bytes(PART_DOMAIN, part), signature)
    }

    fn sign_vote_extension(&self, extension: ()) -> SignedExtension<BraidContext> {
        let signature = self.key.sign(&domain_bytes(VOTE_DOMAIN, &extension));
        SignedMessage::new(extension, signature)
    }

    fn verify_signed_vote_extension(
        &self,
        extension: &(),
        signature: &Signature,
        key: &PublicKey,
    ) -> bool {
        verify(key, &domain_bytes(VOTE_DOMAIN, extension), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Address, BlockId};
    use malachitebft_core_types::{NilOrVal, SigningProvider as _, VoteType};

    fn vote(vote_type: VoteType) -> Vote {
        Vote {
            vote_type,
            height: Height(7),
            round: Round::new(2),
            value: NilOrVal::Val(BlockId([9; 32])),
            validator: Address([1; 32]),
        }
    }

    #[test]
    fn a_signature_covers_the_vote_type_and_its_domain() {
        let key = PrivateKey::from_seed(&[1; 32]);
        let provider = SigningProvider::new(key.clone());
        let prevote = provider.sign_vote(vote(VoteType::Prevote));
        assert!(provider.verify_signed_vote(
            &prevote.message,
            &prevote.signature,
            &key.public_key()
        ));
        // The same signature does not pass as a precommit, nor under another key.
        assert!(!provider.verify_signed_vote(
            &vote(VoteType::Precommit),
            &prevote.signature,
            &key.public_key()
        ));
        let other = PrivateKey::from_seed(&[2; 32]).public_key();
        assert!(!provider.verify_signed_vote(&prevote.message, &prevote.signature, &other));
        assert!(vote_sign_bytes(&prevote.message).starts_with(VOTE_DOMAIN));
    }

    #[test]
    fn signature_bytes_round_trip_and_wrong_lengths_are_errors() {
        use malachitebft_core_types::SigningScheme as _;
        let signature = PrivateKey::from_seed(&[3; 32]).sign(b"x");
        let bytes = Ed25519::encode_signature(&signature);
        assert_eq!(Ed25519::decode_signature(&bytes), Ok(signature));
        assert_eq!(
            Ed25519::decode_signature(&bytes[..63]),
            Err(SignatureLength(63))
        );
    }
}
