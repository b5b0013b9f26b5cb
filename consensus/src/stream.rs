//! Proposals travel as streams of signed parts, so replicas work on a block while its
//! proposer is still executing it.
//!
//! A stream is an `Init` (what the proposer knows before executing: the parent bank hash,
//! the block time, the polka round), transactions parts in block order as the proposer's
//! execution records them, and a `Fin` with the bank hash, the state hash and the
//! transaction count. Every part is signed by the round's proposer over its height, round,
//! index and content ([`crate::signing::part_sign_bytes`]), so a replica checks each part
//! alone, on arrival, and verifies the signatures of the transactions it carries at once:
//! the most expensive step of judging a block overlaps the proposer's execution. Parts may
//! arrive in any order (gossip does not keep one); [`Assembler`] puts them back in order and
//! hands over a block when every part up to the `Fin` is there. A stream that never ends
//! (its proposer died) is dropped with its height.
//!
//! A stream is its round's: every part is signed for (height, round, index), so two parts
//! with the same index are the same part (an equivocating proposer's second stream mixes
//! with its first, and the mixture fails as a block). A part is checked before anything
//! is spent on it ([`Assembler::wants`]): a replayed or duplicate part costs a lookup, and
//! a round whose stream completed or was refused takes no more parts until its height is
//! decided. Memory is bounded whatever peers send: a stream holds at most
//! [`STREAM_BYTES_MAX`] as [`part_bytes`] counts it (each transaction's bytes and vector),
//! a part at most [`PART_BYTES_MAX`] of transactions, and the node at most [`STREAMS_MAX`]
//! streams, the latest (height, round) giving way to an earlier one. Assembled blocks
//! waiting for the next height are the application's, one per round it accepts.

use std::collections::BTreeMap;

use malachitebft_app::types::core::Round;

use crate::block::{BLOCK_BYTES_MAX, ProposedBlock};
use crate::context::{Address, Height, PartContent, ProposalPart};
use crate::signing::{PrivateKey, part_sign_bytes};

/// Transactions a proposer puts in one part unless told otherwise: about 220 KB of
/// transfers, so a full block travels in about 40 parts.
pub const PART_TRANSACTIONS_DEFAULT: usize = 1_024;
/// Most transaction bytes one part carries.
pub const PART_BYTES_MAX: usize = 1024 * 1024;
/// Bytes a part's encoding spends beyond its transactions: the fixed fields, the signature
/// and a 4-byte length per transaction (counted apart).
const PART_OVERHEAD_BYTES: usize = 256;
/// What holding one transaction costs beyond its bytes: its vector.
const WIRE_OVERHEAD_BYTES: usize = std::mem::size_of::<Vec<u8>>();
/// Most bytes one stream's parts may hold, as [`part_bytes`] counts them: a block of the
/// smallest transactions with their vectors, and the parts' overhead.
pub const STREAM_BYTES_MAX: usize =
    BLOCK_BYTES_MAX + (BLOCK_BYTES_MAX / 128) * WIRE_OVERHEAD_BYTES + 64 * 1024;
/// Streams this node assembles at once, one per (height, round).
pub const STREAMS_MAX: usize = 8;

const _: () = assert!(PART_BYTES_MAX <= BLOCK_BYTES_MAX);

/// Signs and numbers the parts of one stream.
pub struct PartSigner<'a> {
    key: &'a PrivateKey,
    height: Height,
    round: Round,
    proposer: Address,
    next: u32,
}

impl<'a> PartSigner<'a> {
    /// A stream of `proposer`'s (whose key is `key`) for `height` and `round`.
    pub fn new(key: &'a PrivateKey, height: Height, round: Round, proposer: Address) -> Self {
        Self {
            key,
            height,
            round,
            proposer,
            next: 0,
        }
    }

    /// The stream's next part, carrying `content`.
    pub fn sign(&mut self, content: PartContent) -> ProposalPart {
        let index = self.next;
        self.next = self.next.saturating_add(1);
        let signature = self.key.sign(&part_sign_bytes(
            self.height,
            self.round,
            &self.proposer,
            index,
            &content,
        ));
        ProposalPart {
            height: self.height,
            round: self.round,
            proposer: self.proposer,
            index,
            content,
            signature,
        }
    }
}

/// How many of `wires` (at the front) make the next transactions part: as many as fit
/// `per_part` transactions and [`PART_BYTES_MAX`] bytes, at least one. `None` when
/// `wires` cannot fill a part yet, unless `last` (no more are coming) and some remain.
pub fn next_part_len<W: AsRef<[u8]>>(wires: &[W], per_part: usize, last: bool) -> Option<usize> {
    let per_part = per_part.max(1);
    let mut bytes = 0usize;
    for (count, wire) in wires.iter().enumerate() {
        let size = wire.as_ref().len().saturating_add(4);
        if count == per_part || (count > 0 && bytes.saturating_add(size) > PART_BYTES_MAX) {
            return Some(count);
        }
        bytes = bytes.saturating_add(size);
    }
    (last && !wires.is_empty()).then_some(wires.len())
}

/// A block's whole stream: what a proposer sends when it proposes a block it already has
/// (a later round's re-proposal).
pub fn parts_of(
    signer: &mut PartSigner<'_>,
    block: &ProposedBlock,
    pol_round: Round,
    per_part: usize,
) -> Vec<ProposalPart> {
    let mut parts = vec![signer.sign(PartContent::Init {
        pol_round,
        parent_bank_hash: block.parent_bank_hash,
        block_time: block.block_time,
    })];
    let mut rest = block.transactions.as_slice();
    while let Some(len) = next_part_len(rest, per_part, true) {
        let (part, after) = rest.split_at(len);
        parts.push(signer.sign(PartContent::Transactions(part.to_vec())));
        rest = after;
    }
    parts.push(signer.sign(PartContent::Fin {
        bank_hash: block.bank_hash,
        state_hash: block.state_hash,
        transactions: u32::try_from(block.transactions.len()).unwrap_or(u32::MAX),
    }));
    parts
}

/// A complete stream: the block it carries and what came with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Assembled {
    /// The height it was proposed at.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The polka round its proposer named.
    pub pol_round: Round,
    /// Its proposer.
    pub proposer: Address,
    /// The block, encoded ([`ProposedBlock::encode`]).
    pub encoded: Vec<u8>,
    /// One mark per transaction, in block order: its signatures were verified on arrival.
    pub verified: Vec<bool>,
    /// The signed parts, in order, to gossip again as they are.
    pub parts: Vec<ProposalPart>,
}

/// Why a stream was dropped. Logged; the round then times out as if nothing had come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// More than [`STREAM_BYTES_MAX`].
    #[error("the stream passes {STREAM_BYTES_MAX} bytes")]
    TooLarge,
    /// [`STREAMS_MAX`] streams for earlier (height, round)s are being assembled.
    #[error("{STREAMS_MAX} streams for earlier rounds are being assembled")]
    Full,
    /// Its parts are not an `Init`, transactions and a `Fin` with their count, or a part
    /// carries an empty transaction, one over the packet size, or more than
    /// [`PART_BYTES_MAX`].
    #[error("the stream is malformed: {0}")]
    Malformed(&'static str),
}

/// A stream is its round's: the round's proposer signed every part for (height, round,
/// index), so the network's stream id, which any peer chooses, does not name it.
type StreamKey = (Height, Round);

/// One stream's parts so far, by index, with their transactions' signature marks.
#[derive(Default)]
struct Partial {
    parts: BTreeMap<u32, (ProposalPart, Vec<bool>)>,
    bytes: usize,
    /// The `Fin`'s index, once it came.
    fin: Option<u32>,
}

/// Puts streams back together. See the module documentation.
#[derive(Default)]
pub struct Assembler {
    streams: BTreeMap<StreamKey, Partial>,
    /// Rounds whose stream completed or was dropped: later parts of theirs (a replay, a
    /// peer gossiping it again) are ignored until the height is decided.
    done: std::collections::BTreeSet<StreamKey>,
}

impl Assembler {
    /// An assembler holding nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a part at `index` of the stream for `height` and `round` would be taken
    /// now: what to ask before spending anything on it (its transactions' signatures).
    pub fn wants(&self, height: Height, round: Round, index: u32) -> bool {
        let key = (height, round);
        if self.done.contains(&key) {
            return false;
        }
        match self.streams.get(&key) {
            Some(stream) => !stream.parts.contains_key(&index),
            None => {
                self.streams.len() < STREAMS_MAX
                    || self
                        .streams
                        .keys()
                        .next_back()
                        .is_some_and(|last| *last > key)
            }
        }
    }

    /// Adds a part, already checked to be signed by its round's proposer, with its
    /// transactions' signature marks (empty for other parts). Returns the assembled block
    /// when this part completes its stream.
    pub fn add(
        &mut self,
        part: ProposalPart,
        verified: Vec<bool>,
    ) -> Result<Option<Assembled>, StreamError> {
        let key = (part.height, part.round);
        if !self.wants(part.height, part.round, part.index) {
            return Ok(None);
        }
        // What the part alone says, before it can cost another stream its room.
        let alone = match &part.content {
            PartContent::Init { .. } if part.index != 0 => Err("an init part after the first"),
            PartContent::Transactions(_) | PartContent::Fin { .. } if part.index == 0 => {
                Err("the first part is not an init part")
            }
            PartContent::Transactions(wires) => check_wires(wires),
            _ => Ok(()),
        };
        if let Err(why) = alone {
            self.refuse(key);
            return Err(StreamError::Malformed(why));
        }
        if !self.streams.contains_key(&key) {
            self.make_room(key)?;
        }
        let stream = self.streams.entry(key).or_default();
        let size = part_bytes(&part);
        let fits = stream
            .bytes
            .checked_add(size)
            .is_some_and(|bytes| bytes <= STREAM_BYTES_MAX);
        let order = match &part.content {
            PartContent::Fin { .. } if stream.fin.is_some() => Err("two fin parts"),
            PartContent::Fin { .. } if stream.parts.range(part.index..).next().is_some() => {
                Err("a part after the fin")
            }
            _ if stream.fin.is_some_and(|fin| part.index > fin) => Err("a part after the fin"),
            _ => Ok(()),
        };
        if let Err(why) = order {
            self.refuse(key);
            return Err(StreamError::Malformed(why));
        }
        if !fits {
            self.refuse(key);
            return Err(StreamError::TooLarge);
        }
        stream.bytes = stream.bytes.saturating_add(size);
        if matches!(part.content, PartContent::Fin { .. }) {
            stream.fin = Some(part.index);
        }
        stream.parts.insert(part.index, (part, verified));
        // Indexes are distinct and none is past the fin's: all there when they count fin + 1.
        let complete = stream.fin.is_some_and(|fin| {
            u64::try_from(stream.parts.len()).is_ok_and(|len| len == u64::from(fin) + 1)
        });
        if !complete {
            return Ok(None);
        }
        let stream = self.streams.remove(&key).unwrap_or_default();
        self.done.insert(key);
        assemble(key.0, key.1, stream).map(Some)
    }

    /// Drops every stream for a height below `height`; returns how many were dropped
    /// (each never completed: its proposer stopped, or was too slow).
    pub fn drop_below(&mut self, height: Height) -> usize {
        let before = self.streams.len();
        self.streams.retain(|(h, _), _| *h >= height);
        self.done.retain(|(h, _)| *h >= height);
        before.saturating_sub(self.streams.len())
    }

    /// Streams being assembled.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is being assembled.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Drops the stream for `key` and ignores the rest of it.
    fn refuse(&mut self, key: StreamKey) {
        self.streams.remove(&key);
        self.done.insert(key);
    }

    /// Makes room for a new stream `key`, or says why there is none.
    fn make_room(&mut self, key: StreamKey) -> Result<(), StreamError> {
        if self.streams.len() < STREAMS_MAX {
            return Ok(());
        }
        // Full: the stream for the latest (height, round) gives way to an earlier one,
        // which consensus needs first.
        match self.streams.keys().next_back().copied() {
            Some(last) if last > key => {
                self.streams.remove(&last);
                Ok(())
            }
            _ => Err(StreamError::Full),
        }
    }
}

/// Whether a transactions part's wires are within bounds (none empty or over the packet
/// size, at most [`PART_BYTES_MAX`] in all): what to check before verifying them.
pub fn transactions_well_formed(wires: &[Vec<u8>]) -> bool {
    check_wires(wires).is_ok()
}

/// Why a transactions part's wires are not acceptable, if they are not.
fn check_wires(wires: &[Vec<u8>]) -> Result<(), &'static str> {
    let mut bytes = 0usize;
    for wire in wires {
        if wire.is_empty() || wire.len() > braid_runtime::sanitized::PACKET_DATA_BYTES_MAX {
            return Err("a transaction that is empty or over the packet size");
        }
        bytes = bytes.saturating_add(wire.len());
    }
    if bytes > PART_BYTES_MAX {
        return Err("a part over its byte limit");
    }
    Ok(())
}

/// What a part costs to hold, in bytes: each transaction's bytes and its vector, and the
/// part's fixed fields.
fn part_bytes(part: &ProposalPart) -> usize {
    match &part.content {
        PartContent::Transactions(wires) => wires
            .iter()
            .map(|wire| wire.len().saturating_add(WIRE_OVERHEAD_BYTES))
            .fold(PART_OVERHEAD_BYTES, usize::saturating_add),
        PartContent::Init { .. } | PartContent::Fin { .. } => PART_OVERHEAD_BYTES,
    }
}

/// The block a complete stream carries.
fn assemble(height: Height, round: Round, stream: Partial) -> Result<Assembled, StreamError> {
    let mut parts = Vec::with_capacity(stream.parts.len());
    let mut verified = Vec::new();
    let mut transactions = Vec::new();
    let mut init = None;
    let mut fin = None;
    for (_, (part, marks)) in stream.parts {
        match &part.content {
            PartContent::Init {
                pol_round,
                parent_bank_hash,
                block_time,
            } => init = Some((*pol_round, *parent_bank_hash, *block_time, part.proposer)),
            PartContent::Transactions(wires) => {
                // Marks that do not match the part are not trusted: verify again.
                let marks_fit = marks.len() == wires.len();
                verified.extend(wires.iter().enumerate().map(|(i, _)| marks_fit && marks[i]));
                transactions.extend(wires.iter().cloned());
            }
            PartContent::Fin {
                bank_hash,
                state_hash,
                transactions: count,
            } => fin = Some((*bank_hash, *state_hash, *count)),
        }
        parts.push(part);
    }
    let (Some((pol_round, parent_bank_hash, block_time, proposer)), Some(fin)) = (init, fin) else {
        return Err(StreamError::Malformed("no init or no fin part"));
    };
    let (bank_hash, state_hash, count) = fin;
    if usize::try_from(count).ok() != Some(transactions.len()) {
        return Err(StreamError::Malformed(
            "the fin part counts other transactions than the stream carries",
        ));
    }
    let block = ProposedBlock {
        slot: height.0,
        parent_bank_hash,
        bank_hash,
        state_hash,
        block_time,
        transactions,
    };
    Ok(Assembled {
        height,
        round,
        pol_round,
        proposer,
        encoded: block.encode(),
        verified,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PrivateKey {
        PrivateKey::from_seed(&[7; 32])
    }

    fn block(transactions: usize) -> ProposedBlock {
        ProposedBlock {
            slot: 5,
            parent_bank_hash: [1; 32],
            bank_hash: [2; 32],
            state_hash: [3; 32],
            block_time: 1_700_000_000,
            transactions: (0..transactions).map(|i| vec![i as u8; 150]).collect(),
        }
    }

    fn stream_of(block: &ProposedBlock, per_part: usize) -> Vec<ProposalPart> {
        let key = key();
        let proposer = Address(key.public_key().0);
        let mut signer = PartSigner::new(&key, Height(5), Round::new(0), proposer);
        parts_of(&mut signer, block, Round::Nil, per_part)
    }

    #[test]
    fn parts_in_any_order_give_back_the_block_once_every_part_is_there() {
        let block = block(7);
        let mut parts = stream_of(&block, 2);
        assert_eq!(parts.len(), 1 + 4 + 1);
        // Fin first, init last: nothing until the last part.
        parts.reverse();
        let mut assembler = Assembler::new();
        let last = parts.pop().unwrap();
        for part in parts {
            let marks = match &part.content {
                PartContent::Transactions(wires) => vec![true; wires.len()],
                _ => Vec::new(),
            };
            assert!(assembler.add(part, marks).unwrap().is_none());
        }
        let assembled = assembler.add(last, Vec::new()).unwrap().unwrap();
        assert_eq!(assembled.encoded, block.encode());
        assert_eq!(assembled.verified, vec![true; 7]);
        assert_eq!(assembled.parts.len(), 6);
        assert!(assembler.is_empty());
    }

    #[test]
    fn a_stream_that_never_ends_is_dropped_with_its_height() {
        let parts = stream_of(&block(4), 2);
        let mut assembler = Assembler::new();
        for part in parts.into_iter().take(2) {
            assert!(assembler.add(part, Vec::new()).unwrap().is_none());
        }
        assert_eq!(assembler.len(), 1);
        assert_eq!(assembler.drop_below(Height(5)), 0);
        assert_eq!(assembler.drop_below(Height(6)), 1);
        assert!(assembler.is_empty());
    }

    #[test]
    fn a_wrong_count_and_a_misplaced_init_are_refused_and_end_their_round() {
        let mut parts = stream_of(&block(3), 2);
        let last = parts.len() - 1;
        if let PartContent::Fin { transactions, .. } = &mut parts[last].content {
            *transactions = 2;
        }
        let mut assembler = Assembler::new();
        let mut result = Ok(None);
        for part in parts.clone() {
            result = assembler.add(part, Vec::new());
        }
        assert!(matches!(result, Err(StreamError::Malformed(_))));
        // The round is over for this node: the same parts again are not even looked at.
        assert!(!assembler.wants(Height(5), Round::new(0), 0));
        assert_eq!(assembler.add(parts[0].clone(), Vec::new()), Ok(None));
        assert!(assembler.is_empty());

        let mut parts = stream_of(&block(3), 2);
        parts[1].index = 0;
        let mut assembler = Assembler::new();
        assert_eq!(
            assembler.add(parts[1].clone(), Vec::new()).unwrap_err(),
            StreamError::Malformed("the first part is not an init part")
        );
    }

    #[test]
    fn a_replayed_part_and_a_finished_round_cost_nothing() {
        let parts = stream_of(&block(3), 2);
        let mut assembler = Assembler::new();
        assembler.add(parts[1].clone(), Vec::new()).unwrap();
        assert!(!assembler.wants(Height(5), Round::new(0), 1));
        assert!(assembler.wants(Height(5), Round::new(0), 2));
        let mut assembled = None;
        for part in parts.iter().cloned() {
            if let Some(done) = assembler.add(part, Vec::new()).unwrap() {
                assembled = Some(done);
            }
        }
        assert!(assembled.is_some());
        // Gossiped again after it completed: ignored, and no partial stream is left.
        assert_eq!(assembler.add(parts[2].clone(), Vec::new()), Ok(None));
        assert!(assembler.is_empty());
    }

    #[test]
    fn empty_and_oversized_transactions_and_a_stream_over_its_bytes_are_refused() {
        let key = key();
        let proposer = Address(key.public_key().0);
        let mut signer = PartSigner::new(&key, Height(5), Round::new(0), proposer);
        let mut assembler = Assembler::new();
        let empty = signer.sign(PartContent::Transactions(vec![Vec::new()]));
        assert!(matches!(
            assembler.add(empty, Vec::new()),
            Err(StreamError::Malformed(_))
        ));

        let mut signer = PartSigner::new(&key, Height(5), Round::new(1), proposer);
        let init = signer.sign(PartContent::Init {
            pol_round: Round::Nil,
            parent_bank_hash: [0; 32],
            block_time: 0,
        });
        assembler.add(init, Vec::new()).unwrap();
        let wire = vec![0u8; braid_runtime::sanitized::PACKET_DATA_BYTES_MAX];
        let chunk = vec![wire; PART_BYTES_MAX / braid_runtime::sanitized::PACKET_DATA_BYTES_MAX];
        let mut result = Ok(None);
        for _ in 0..(STREAM_BYTES_MAX / PART_BYTES_MAX + 2) {
            result = assembler.add(
                signer.sign(PartContent::Transactions(chunk.clone())),
                Vec::new(),
            );
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result.unwrap_err(), StreamError::TooLarge);
        assert!(assembler.is_empty());
    }

    #[test]
    fn when_full_the_latest_round_gives_way_to_an_earlier_one() {
        let parts = stream_of(&block(1), 1);
        let mut assembler = Assembler::new();
        for n in 0..STREAMS_MAX {
            let mut part = parts[1].clone();
            part.round = Round::new(1 + n as u32);
            assembler.add(part, Vec::new()).unwrap();
        }
        let mut later = parts[1].clone();
        later.round = Round::new(100);
        assert!(!assembler.wants(Height(5), Round::new(100), 1));
        assert_eq!(assembler.add(later, Vec::new()), Ok(None));
        // Round 0 is earlier than every stream held: the latest gives way.
        assert!(
            assembler
                .add(parts[1].clone(), Vec::new())
                .unwrap()
                .is_none()
        );
        assert_eq!(assembler.len(), STREAMS_MAX);
        assert!(!assembler.wants(Height(5), Round::new(STREAMS_MAX as u32), 2));
    }

    #[test]
    fn parts_are_cut_by_count_and_by_bytes() {
        let small: Vec<Vec<u8>> = vec![vec![0; 10]; 5];
        assert_eq!(next_part_len(&small, 2, false), Some(2));
        assert_eq!(next_part_len(&small[4..], 2, false), None);
        assert_eq!(next_part_len(&small[4..], 2, true), Some(1));
        assert_eq!(next_part_len::<Vec<u8>>(&[], 2, true), None);
        let big: Vec<Vec<u8>> = vec![vec![0; PART_BYTES_MAX / 2]; 3];
        assert_eq!(next_part_len(&big, 100, false), Some(1));
    }
}
