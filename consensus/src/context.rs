//! Braid's consensus context: what Malachite orders (heights are slots, values are blocks)
//! and who votes (validators with ed25519 keys).

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::{
    self as core, NilOrVal, Round, SignedExtension, VoteType, VotingPower,
};

use crate::signing::{Ed25519, PublicKey, Signature};

/// Braid's [`core::Context`]: heights are slots, a value is a block, proposers rotate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BraidContext;

/// A consensus height: the slot being decided. Slot 0 is genesis, so the first is 1.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: its ed25519 public key, as Solana names accounts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Address(pub [u8; 32]);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        braid_primitives::Pubkey::new_from_array(self.0).fmt(f)
    }
}

impl core::Address for Address {}

/// One validator: its key and its voting power.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// Its address, the same bytes as its public key.
    pub address: Address,
    /// The key its votes are signed with.
    pub public_key: PublicKey,
    /// Its stake.
    pub voting_power: VotingPower,
}

impl Validator {
    /// A validator with `public_key` and `voting_power`.
    pub fn new(public_key: PublicKey, voting_power: VotingPower) -> Self {
        Self {
            address: Address(public_key.0),
            public_key,
            voting_power,
        }
    }
}

impl core::Validator<BraidContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// The validators, sorted by address so every node indexes them alike.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// The set of `validators`, sorted by address; `None` if it is empty, names an address
    /// twice, or its total voting power is zero or overflows.
    pub fn new(mut validators: Vec<Validator>) -> Option<Self> {
        validators.sort_by_key(|validator| validator.address);
        let distinct = validators
            .windows(2)
            .all(|pair| pair[0].address != pair[1].address);
        let total = validators.iter().try_fold(0u64, |sum, validator| {
            sum.checked_add(validator.voting_power)
        })?;
        (distinct && total > 0).then_some(Self { validators })
    }

    /// The validators in address order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }
}

impl core::ValidatorSet<BraidContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        // `new` checked the sum does not overflow.
        self.validators.iter().map(|v| v.voting_power).sum()
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators
            .binary_search_by_key(address, |validator| validator.address)
            .ok()
            .map(|index| &self.validators[index])
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// A block's identity: blake3 of its encoding (see [`crate::block::ProposedBlock::id`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockId(pub [u8; 32]);

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        braid_primitives::Hash::new_from_array(self.0).fmt(f)
    }
}

/// What consensus decides: a block, named by its id. The block itself travels as a
/// proposal part and in sync responses; votes carry only the id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockValue(pub BlockId);

impl core::Value for BlockValue {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        self.0
    }
}

/// A prevote or precommit. Braid uses no vote extensions: [`core::Vote::extend`] drops one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// The slot voted on.
    pub height: Height,
    /// The round within it.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockId>,
    /// Who votes.
    pub validator: Address,
}

impl core::Vote<BraidContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<BraidContext>> {
        None
    }

    fn take_extension(&mut self) -> Option<SignedExtension<BraidContext>> {
        None
    }

    fn extend(self, _extension: SignedExtension<BraidContext>) -> Self {
        self
    }
}

/// A proposal: a block at a height and round, from its proposer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// The slot.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The block proposed.
    pub value: BlockValue,
    /// The round the proposer saw a polka for this value in, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

impl core::Proposal<BraidContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockValue {
        &self.value
    }

    fn take_value(self) -> BlockValue {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// One part of a proposal's stream, signed by its proposer
/// ([`crate::signing::part_sign_bytes`]: height, round, proposer, index and a hash of the
/// content), so a replica checks every part on arrival and acts on it before the rest
/// comes. A stream is an [`PartContent::Init`], transactions parts in block order, and a
/// [`PartContent::Fin`] with the hashes the proposer got; [`crate::stream`] builds and
/// assembles them.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalPart {
    /// The slot.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The proposer.
    pub proposer: Address,
    /// Its position in the stream, from 0 (the `Init`).
    pub index: u32,
    /// What it carries.
    pub content: PartContent,
    /// The proposer's signature.
    pub signature: Signature,
}

/// What a [`ProposalPart`] carries.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PartContent {
    /// The first part: what the proposer knows before executing anything.
    Init {
        /// The round the proposer saw a polka for this block in, or nil.
        pol_round: Round,
        /// The bank hash of the slot before, which the block runs on.
        parent_bank_hash: [u8; 32],
        /// The block's time, in Unix seconds.
        block_time: i64,
    },
    /// The next transactions of the block, in block order, as wire bytes.
    Transactions(Vec<Vec<u8>>),
    /// The last part: what executing the block gave the proposer.
    Fin {
        /// The bank hash after the block.
        bank_hash: [u8; 32],
        /// The state hash after the block.
        state_hash: [u8; 32],
        /// Transactions in the block: the parts before this one carry exactly these.
        transactions: u32,
    },
}

impl core::ProposalPart<BraidContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self.content, PartContent::Init { .. })
    }

    fn is_last(&self) -> bool {
        matches!(self.content, PartContent::Fin { .. })
    }
}

impl core::Context for BraidContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Value = BlockValue;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519;

    /// Round-robin over the validators in address order, starting one further each height.
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let count = validator_set.validators.len() as u64;
        // A set is never empty (`ValidatorSet::new`); a nil round counts as round 0.
        assert!(count > 0, "a validator set is never empty");
        let round = u64::from(round.as_u32().unwrap_or(0));
        let index = height
            .0
            .wrapping_sub(1)
            .wrapping_add(round)
            .checked_rem(count)
            .unwrap_or(0);
        let index = usize::try_from(index).unwrap_or(0);
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockValue,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }
}

/// The proposer of `height` and `round` under `validators`: [`core::Context::select_proposer`]
/// without the trait in scope.
pub fn proposer_of(validators: &ValidatorSet, height: Height, round: Round) -> Address {
    use core::Context as _;
    BraidContext
        .select_proposer(validators, height, round)
        .address
}
