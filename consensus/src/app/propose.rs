//! The proposer's side of the app: building a block from the pool with the block
//! executor's produce mode while streaming it ([`crate::stream`]), and streaming a block it
//! already has again.

use braid_banking_stage::block_executor::{Limits, Signatures};
use braid_ledger::bank::{Bank, Refusal};
use braid_ledger::blockstore::Entry;
use braid_primitives::Signature as TxSignature;
use braid_runtime::sanitized::SanitizedTransaction;
use bytes::Bytes;
use malachitebft_app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app::types::ProposedValue;
use malachitebft_app::types::core::{Round, Validity};
use malachitebft_app_channel::NetworkMsg;
use tokio::sync::mpsc;

use super::{App, Candidate, Fault, unix_seconds};
use crate::block::{BLOCK_BYTES_MAX, ProposedBlock, id_of_encoded};
use crate::context::{BlockId, BlockValue, BraidContext, Height, PartContent, ProposalPart};
use crate::error::ConsensusError;
use crate::proposals::SavedProposal;
use crate::stream::{PartSigner, next_part_len, parts_of};

/// Bytes a block's encoding spends beyond its transactions' own, at most (the fixed fields
/// take 116).
const BLOCK_HEADER_SLACK_BYTES: usize = 1_024;

type Network = mpsc::Sender<NetworkMsg<BraidContext>>;

/// One stream on its way out: numbers its messages and ends it with Malachite's marker.
struct Outgoing<'a> {
    network: &'a Network,
    id: StreamId,
    sequence: u64,
    /// The engine stopped taking messages.
    closed: bool,
}

impl<'a> Outgoing<'a> {
    fn new(network: &'a Network, id: StreamId) -> Self {
        Self {
            network,
            id,
            sequence: 0,
            closed: false,
        }
    }

    fn send(&mut self, part: ProposalPart) {
        self.send_content(StreamContent::Data(part));
    }

    fn send_content(&mut self, content: StreamContent<ProposalPart>) {
        if self.closed {
            return;
        }
        let message = StreamMessage::new(self.id.clone(), self.sequence, content);
        self.sequence = self.sequence.saturating_add(1);
        if self
            .network
            .blocking_send(NetworkMsg::PublishProposalPart(message))
            .is_err()
        {
            self.closed = true;
        }
    }

    /// Ends the stream; `Err` if the engine stopped taking it.
    fn finish(mut self) -> Result<(), ConsensusError> {
        self.send_content(StreamContent::Fin);
        if self.closed {
            Err(ConsensusError::EngineStopped)
        } else {
            Ok(())
        }
    }
}

/// A proposer's stream while its block executes: sends each transactions part as soon as
/// the recorded transactions fill one.
struct Streaming<'a> {
    out: Outgoing<'a>,
    signer: PartSigner<'a>,
    /// Recorded transactions already sent.
    sent: usize,
    per_part: usize,
    /// Stop after the first transactions part ([`Fault::StopMidStream`]).
    stop_mid_stream: bool,
    /// Whether it stopped so.
    stopped: bool,
}

impl Streaming<'_> {
    /// Sends what `recorded` holds beyond what was sent: full parts only, or everything
    /// when `last`.
    fn send_recorded(&mut self, recorded: &[Entry], last: bool) {
        while !self.stopped {
            let rest: Vec<&[u8]> = recorded
                .get(self.sent..)
                .unwrap_or_default()
                .iter()
                .map(|entry| entry.transaction.as_slice())
                .collect();
            let Some(len) = next_part_len(&rest, self.per_part, last) else {
                return;
            };
            let wires = rest[..len].iter().map(|wire| wire.to_vec()).collect();
            self.out
                .send(self.signer.sign(PartContent::Transactions(wires)));
            self.sent = self.sent.saturating_add(len);
            if self.stop_mid_stream && self.sent < recorded.len() {
                self.stopped = true;
            }
        }
    }
}

/// A stream id unique to this node: height, round and a counter.
fn stream_id(height: Height, round: Round, counter: u64) -> StreamId {
    let mut bytes = Vec::with_capacity(24);
    bytes.extend_from_slice(&height.0.to_be_bytes());
    bytes.extend_from_slice(&round.as_i64().to_be_bytes());
    bytes.extend_from_slice(&counter.to_be_bytes());
    StreamId::new(Bytes::from(bytes))
}

impl App {
    /// Builds this node's block for `height` from its pool, streaming it to the other
    /// validators as its transactions are recorded, and keeps it.
    pub(super) fn build(
        &mut self,
        network: &Network,
        height: Height,
        round: Round,
    ) -> Result<BlockId, ConsensusError> {
        let wires = self.take_from_pool();
        let pairs: Vec<(&[u8], &SanitizedTransaction)> = wires
            .iter()
            .map(|(wire, tx)| (wire.as_slice(), tx))
            .collect();
        let block_time = unix_seconds();
        self.park_active()?;
        self.next_stream = self.next_stream.wrapping_add(1);
        let key = self.key.clone();
        let mut streaming = Streaming {
            out: Outgoing::new(network, stream_id(height, round, self.next_stream)),
            signer: PartSigner::new(&key, height, round, self.address),
            sent: 0,
            per_part: self.part_transactions,
            stop_mid_stream: self.fault == Fault::StopMidStream,
            stopped: false,
        };
        let init = streaming.signer.sign(PartContent::Init {
            pol_round: Round::Nil,
            parent_bank_hash: self.bank.parent_bank_hash().to_bytes(),
            block_time,
        });
        streaming.out.send(init);
        let (engine, bank, fault) = (&self.engine, &mut self.bank, self.fault);
        let mut progress = |bank: &Bank| streaming.send_recorded(bank.open_entries(), false);
        let refused = if fault == Fault::IgnoreBlockLimits {
            let wires: Vec<&[u8]> = pairs.iter().map(|(wire, _)| *wire).collect();
            let verdict = engine.execute_fixed(
                bank,
                &wires,
                None,
                Signatures::AlreadyVerified,
                Limits::Ignore,
            )?;
            if verdict.is_err() {
                // Not what this fault is about: build as everyone does.
                engine.produce_streaming(bank, &pairs, &mut progress)?
            } else {
                Vec::new()
            }
        } else {
            engine.produce_streaming(bank, &pairs, &mut progress)?
        };
        // What the bank refused now it will refuse in this slot's every round; what did not
        // fit this block waits for the next.
        let refused: Vec<TxSignature> = refused
            .iter()
            .filter(|(_, refusal)| !matches!(refusal, Refusal::OverLimit(_)))
            .map(|(index, _)| *wires[*index].1.signature())
            .collect();
        self.forget(&refused);
        let ledger = self.bank.open_block_at(Some(block_time))?;
        streaming.send_recorded(&ledger.entries, true);
        if streaming.stopped {
            return Err(ConsensusError::FaultInjected(
                "the proposer stopped in the middle of streaming its block",
            ));
        }
        let mut block = ProposedBlock {
            slot: height.0,
            parent_bank_hash: ledger.parent_bank_hash.to_bytes(),
            bank_hash: ledger.bank_hash.to_bytes(),
            state_hash: ledger.state_hash.to_bytes(),
            block_time,
            transactions: ledger
                .entries
                .iter()
                .map(|entry| entry.transaction.clone())
                .collect(),
        };
        if self.fault == Fault::FlipBankHash {
            block.bank_hash[0] ^= 1;
        }
        let fin = streaming.signer.sign(PartContent::Fin {
            bank_hash: block.bank_hash,
            state_hash: block.state_hash,
            transactions: u32::try_from(block.transactions.len()).unwrap_or(u32::MAX),
        });
        streaming.out.send(fin);
        streaming.out.finish()?;
        let encoded = block.encode();
        let id = id_of_encoded(&encoded);
        // On disk before the engine hears of it: see `proposals`.
        self.store.save(
            &SavedProposal {
                height,
                round,
                valid_round: Round::Nil,
                proposer: self.address,
                own: true,
                block: encoded.clone(),
            },
            id,
        )?;
        tracing::info!(%height, %round, %id, transactions = block.transactions.len(), "built a block");
        self.candidates.insert(
            id,
            Candidate {
                encoded,
                ledger,
                parked: None,
                parts: Vec::new(),
            },
        );
        self.active = Some(id);
        self.built.insert((height, round), id);
        self.remember(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer: self.address,
            value: BlockValue(id),
            validity: Validity::Valid,
        });
        Ok(id)
    }

    /// The pool's transactions, highest fee first, as many as a block's bytes allow.
    fn take_from_pool(&self) -> Vec<(Vec<u8>, SanitizedTransaction)> {
        // Borsh spends a 4-byte length per transaction; the header is far below the slack.
        let mut bytes = BLOCK_HEADER_SLACK_BYTES;
        let mut wires = Vec::new();
        for (wire, tx) in self.pool.lock().ordered() {
            let next = bytes.saturating_add(wire.len()).saturating_add(4);
            if next > BLOCK_BYTES_MAX {
                break;
            }
            bytes = next;
            wires.push((wire.to_vec(), tx.clone()));
        }
        wires
    }

    /// Streams block `id`, which this node has, as its proposal for `height` and `round`.
    pub(super) fn publish(
        &mut self,
        network: &Network,
        height: Height,
        round: Round,
        pol_round: Round,
        id: BlockId,
    ) -> Result<(), ConsensusError> {
        let Some(block) = self
            .candidates
            .get(&id)
            .and_then(|candidate| ProposedBlock::decode(&candidate.encoded).ok())
        else {
            return Ok(());
        };
        let key = self.key.clone();
        let mut signer = PartSigner::new(&key, height, round, self.address);
        let parts = parts_of(&mut signer, &block, pol_round, self.part_transactions);
        self.publish_parts(network, height, round, parts)
    }

    /// Streams `parts`, signed already, as a stream of this node's.
    pub(super) fn publish_parts(
        &mut self,
        network: &Network,
        height: Height,
        round: Round,
        parts: Vec<ProposalPart>,
    ) -> Result<(), ConsensusError> {
        self.next_stream = self.next_stream.wrapping_add(1);
        let mut out = Outgoing::new(network, stream_id(height, round, self.next_stream));
        for part in parts {
            out.send(part);
        }
        out.finish()
    }
}
