//! The application side of Malachite: one validator's bank, the blocks it has built or
//! received, and its answer to every request the engine makes.
//!
//! A height is a slot. The round's proposer takes transactions from its pool and executes
//! them on its bank's open slot with the block executor's produce mode
//! ([`BlockExecutor::produce`]), and proposes the resulting block with its bank hash. Every
//! validator executes a proposal with the verify mode ([`BlockExecutor::execute_fixed`]:
//! the block's order, signatures checked in batches, non-conflicting transactions in
//! parallel) and calls it valid only if its own bank hash and state hash match; a mismatch
//! is a logged [`Rejection`] and the validator prevotes nil.
//!
//! Execute once: a valid candidate's execution stays in the open slot, unsealed (the
//! accounts database keeps an open slot's writes apart from committed state, and a
//! validator's RPC reads committed state only). When another block for the same height must
//! be built or judged, the active candidate's execution is taken out of the bank
//! ([`Bank::take_open_slot`]) and kept with the candidate. A decision commits the decided
//! candidate's execution, put back first if it was set aside, with no second execution —
//! so `finalized` means decided and durable.
//!
//! Invariants:
//! - every engine request gets a reply (a dropped reply stalls consensus);
//! - the bank's open slot holds the execution of the active candidate, or nothing;
//! - a block this node judged invalid is never committed: if the network decides one, this
//!   node has diverged and stops ([`ConsensusError::Diverged`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use braid_banking_stage::block_executor::{BlockExecutor, Diverged, Limits, Signatures};
use braid_interfaces::{EngineFailure, ExecutionEvent, NodeState};
use braid_ledger::bank::{Bank, OpenSlot, Refusal, SlotCommit};
use braid_primitives::{Hash, Signature as TxSignature};
use malachitebft_app::engine::host::Next;
use malachitebft_app::streaming::{StreamContent, StreamMessage};
use malachitebft_app::types::core::{CommitCertificate, Round, Validity};
use malachitebft_app::types::sync::RawDecidedValue;
use malachitebft_app::types::{LocallyProposedValue, ProposedValue};
use malachitebft_app_channel::{AppMsg, NetworkMsg};
use tokio::sync::mpsc;

use crate::block::{ProposedBlock, id_of_encoded};
use crate::context::{
    Address, BlockId, BlockValue, BraidContext, Height, PartContent, ProposalPart, ValidatorSet,
    proposer_of,
};
use crate::error::ConsensusError;
use crate::history::DecidedHistory;
use crate::pool::SharedPool;
use crate::proposals::{ProposalStore, SavedProposal};
use crate::signing::{PrivateKey, part_sign_bytes, verify};
use crate::stream::{Assembled, Assembler};

mod propose;

/// Rounds past the current one (or past round 0 of the next height) a proposal may be for;
/// later ones are dropped, so a faulty proposer cannot make this node judge or keep blocks
/// for rounds that may never come.
pub const ROUNDS_AHEAD_MAX: u32 = 16;
/// Blocks for the next height kept while this node finishes its current one: one per
/// round, the earliest rounds.
pub const PENDING_ROUNDS_MAX: usize = 4;

/// Faults a test can inject to check that the network notices them. Never set in a node a
/// user runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Every bank hash this validator computes for a proposal has one bit flipped, as if its
    /// executor had diverged from everyone else's.
    FlipBankHash,
    /// This validator builds its blocks from its whole pool, in pool order, without the
    /// block limits (`braid_runtime::cost_model`): a proposer that ignores them.
    IgnoreBlockLimits,
    /// The first time this validator has sent a transactions part of its block with more
    /// of the block's transactions behind it, it stops, as if killed in the middle of
    /// streaming: its application returns [`ConsensusError::FaultInjected`].
    StopMidStream,
    /// The application panics when the network decides its first block: what any bug in
    /// it would do.
    PanicOnDecision,
}

/// How an [`App`] paces and behaves.
#[derive(Debug, Clone, Copy)]
pub struct AppSettings {
    /// A fault to inject (tests only).
    pub fault: Fault,
    /// The least time between this node's last commit and the block it builds next.
    pub slot_interval: Duration,
    /// Most transactions in one part of this node's proposal streams
    /// ([`crate::stream::PART_TRANSACTIONS_DEFAULT`] unless a test wants many parts).
    pub part_transactions: usize,
}

/// Why a proposed block was judged invalid: logged, and the validator prevotes nil.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The block does not decode or breaks a limit.
    #[error("{0}")]
    Block(#[from] crate::block::BlockError),
    /// It is for another slot than the one it was proposed at.
    #[error("the block is for slot {block}, proposed at height {height}")]
    WrongSlot {
        /// The block's slot.
        block: u64,
        /// The height it was proposed at.
        height: u64,
    },
    /// It builds on another parent than this node's last committed bank hash.
    #[error("the block builds on {block}, this node's last bank hash is {local}")]
    WrongParent {
        /// The block's parent.
        block: Hash,
        /// This node's.
        local: Hash,
    },
    /// A transaction does not parse or its signature does not verify.
    #[error("transaction {index} is malformed: {reason}")]
    MalformedTransaction {
        /// Its position in the block.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A transaction this node would not have let into the block.
    #[error("transaction {index} is refused: {reason:?}")]
    RefusedTransaction {
        /// Its position in the block.
        index: usize,
        /// Why.
        reason: braid_ledger::bank::Refusal,
    },
    /// With this transaction the block passes a block limit
    /// (`braid_runtime::cost_model`).
    #[error("transaction {index} takes the block over its limits: {limit}")]
    OverLimit {
        /// Its position in the block.
        index: usize,
        /// The limit.
        limit: braid_runtime::cost_model::BlockLimit,
    },
    /// Replaying it gives another bank hash.
    #[error("bank hash mismatch: the proposer says {proposed}, this node computes {computed}")]
    BankHashMismatch {
        /// The proposer's.
        proposed: Hash,
        /// This node's.
        computed: Hash,
    },
}

/// A slot this validator committed after consensus decided it.
#[derive(Debug, Clone)]
pub struct Finalized {
    /// The decided block's id.
    pub block: BlockId,
    /// What the bank reported of the commit: slot, bank hash, signatures in block order
    /// (its ledger offset, time and costs are this node's own; they are left out of
    /// equality).
    pub commit: SlotCommit,
    /// The newest blockhash clients may sign over once this slot is committed.
    pub latest_blockhash: Hash,
    /// The block as the ledger recorded it (entries with their outcomes and history).
    pub record: braid_ledger::blockstore::Block,
}

impl PartialEq for Finalized {
    /// Equal when every node must agree: slot, bank hash, block, transactions, blockhash.
    fn eq(&self, other: &Self) -> bool {
        self.commit.slot == other.commit.slot
            && self.commit.bank_hash == other.commit.bank_hash
            && self.block == other.block
            && self.commit.signatures == other.commit.signatures
            && self.latest_blockhash == other.latest_blockhash
    }
}

impl Eq for Finalized {}

/// A block this node built or judged valid at its current height.
struct Candidate {
    encoded: Vec<u8>,
    /// The ledger block this node's own execution produced, to commit if decided.
    ledger: braid_ledger::blockstore::Block,
    /// Its execution, when another candidate's holds the bank's open slot.
    parked: Option<OpenSlot>,
    /// The signed parts it arrived in, to gossip again unchanged if the engine asks (none
    /// for this node's own blocks, which it signs afresh, and for synced ones).
    parts: Vec<ProposalPart>,
}

/// What came with a block besides its bytes.
#[derive(Default)]
struct Arrival {
    /// The signed parts it streamed in (none when synced or restored).
    parts: Vec<ProposalPart>,
    /// One mark per transaction: its signatures were verified as its part arrived.
    verified: Vec<bool>,
}

/// One validator's application state. See the module documentation.
pub struct App {
    bank: Bank,
    key: PrivateKey,
    address: Address,
    validators: ValidatorSet,
    fault: Fault,
    height: Height,
    round: Round,
    /// Verified transactions waiting for a block, shared with whoever submits them.
    pool: Arc<SharedPool>,
    /// Valid blocks at the current height, by id.
    candidates: BTreeMap<BlockId, Candidate>,
    /// The candidate whose execution the bank's open slot holds.
    active: Option<BlockId>,
    /// Executes blocks: produce mode for this node's own, verify mode for others'.
    engine: BlockExecutor,
    /// The bank's recorded transactions when this height began, to count executions per
    /// decided transaction.
    recorded_before_height: u64,
    /// Blocks judged invalid at the current height: only their ids are kept.
    rejected: BTreeSet<BlockId>,
    /// What this node proposed or accepted, per (height, round): replies to `StartedRound`.
    proposed: BTreeMap<(Height, Round), Vec<ProposedValue<BraidContext>>>,
    /// The block this node built per (height, round): the same block again if asked again.
    built: BTreeMap<(Height, Round), BlockId>,
    /// Proposals for the next height, streamed whole by their round's proposer, one per
    /// round.
    pending: BTreeMap<(Height, Round), Assembled>,
    /// Proposal streams still arriving.
    streams: Assembler,
    /// Most transactions in one part of this node's streams.
    part_transactions: usize,
    /// Decided blocks and their certificates, for peers that sync.
    history: DecidedHistory,
    reports: Reports,
    next_stream: u64,
    slot_interval: Duration,
    /// When this node last committed a slot (or started).
    last_commit: Instant,
    /// What this node counts, shared with its [`crate::Validator`].
    counters: Arc<AppCounters>,
    /// The blocks this node built or accepted, on disk until decided.
    store: ProposalStore,
}

/// Stops the pool and tells readers why when the application's loop ends, however it ends.
struct StopOnExit {
    pool: Arc<SharedPool>,
    state: Option<Arc<NodeState>>,
    /// Why, when it returned; none when it panicked.
    reason: Option<String>,
}

impl Drop for StopOnExit {
    fn drop(&mut self) {
        self.pool.stop();
        if let Some(state) = &self.state {
            state.stopped(EngineFailure {
                reason: self
                    .reason
                    .take()
                    .unwrap_or_else(|| "the validator's application panicked".to_owned()),
                disk_full: false,
            });
        }
    }
}

/// What an [`App`] counts, read through its [`crate::Validator`].
#[derive(Debug, Default)]
pub struct AppCounters {
    /// Proposals judged invalid (each is logged with its [`Rejection`]).
    pub rejections: AtomicU64,
    /// Of those, proposals over the block limits ([`Rejection::OverLimit`]).
    pub over_limit_rejections: AtomicU64,
    /// Transactions in blocks decided in their height's first round.
    pub first_round_transactions: AtomicU64,
    /// Transactions this node's bank executed and recorded at heights whose block was
    /// decided in the first round, building, judging and committing blocks: equal to
    /// `first_round_transactions` when every transaction is executed exactly once.
    pub first_round_executions: AtomicU64,
    /// Proposal parts received and found signed by their round's proposer.
    pub proposal_parts: AtomicU64,
    /// Transactions whose signatures this node verified as their proposal part arrived
    /// (those its pool had verified already are not verified again).
    pub verified_on_arrival: AtomicU64,
    /// Proposal streams that never completed before their height was decided (their
    /// proposer stopped, or was too slow).
    pub abandoned_streams: AtomicU64,
    /// Proposal streams dropped as they arrived: over a bound, or malformed
    /// ([`crate::stream::StreamError`], logged).
    pub refused_streams: AtomicU64,
}

/// Where a validator reports the slots it commits.
pub enum Reports {
    /// Each slot whole, as a [`Finalized`]: what tests and tools that compare validators
    /// read.
    Slots(crossbeam_channel::Sender<Finalized>),
    /// As the single node's pipeline reports its own slots, so JSON-RPC and PubSub serve a
    /// validator unchanged: each decided transaction as an [`ExecutionEvent::Processed`]
    /// (with the account keys its execution recorded, so nothing is parsed again), then
    /// [`ExecutionEvent::SlotCommitted`], and the slot in `state`.
    Events {
        /// What readers see; told why if the validator stops on its own.
        state: Arc<NodeState>,
        /// Where the events go. A full channel holds the validator back, as a full event
        /// queue holds back the pipeline.
        events: crossbeam_channel::Sender<ExecutionEvent>,
    },
}

/// What an [`App`] shares with its [`crate::Validator`] and whoever submits to it.
pub struct AppLinks {
    /// Where each committed slot is reported.
    pub reports: Reports,
    /// What it counts.
    pub counters: Arc<AppCounters>,
    /// The pool transactions are submitted to.
    pub pool: Arc<SharedPool>,
}

/// Where an [`App`] keeps what must survive a restart besides the bank.
pub struct AppStorage {
    /// The blocks it built or accepted, until decided.
    pub proposals: ProposalStore,
    /// The blocks it committed and their certificates, for peers catching up.
    pub history: DecidedHistory,
}

impl App {
    /// The application for the validator with `key`, on `bank` (its open slot empty and no
    /// commit in flight), reporting each committed slot through `links`.
    pub fn new(
        bank: Bank,
        key: PrivateKey,
        validators: ValidatorSet,
        settings: AppSettings,
        links: AppLinks,
        storage: AppStorage,
    ) -> Result<Self, ConsensusError> {
        let AppStorage {
            proposals: store,
            history,
        } = storage;
        let AppLinks {
            reports,
            counters,
            pool,
        } = links;
        let AppSettings {
            fault,
            slot_interval,
            part_transactions,
        } = settings;
        let address = Address(key.public_key().0);
        let height = Height(bank.slot());
        let recorded_before_height = bank.recorded_total();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(braid_banking_stage::scheduler::THREADS_MAX);
        let engine = BlockExecutor::new(threads)
            .map_err(|error| ConsensusError::Engine(error.to_string()))?;
        let mut app = Self {
            bank,
            key,
            address,
            validators,
            fault,
            height,
            round: Round::Nil,
            pool,
            candidates: BTreeMap::new(),
            active: None,
            engine,
            recorded_before_height,
            rejected: BTreeSet::new(),
            proposed: BTreeMap::new(),
            built: BTreeMap::new(),
            pending: BTreeMap::new(),
            streams: Assembler::new(),
            part_transactions,
            history,
            reports,
            next_stream: 0,
            slot_interval,
            last_commit: Instant::now(),
            counters,
            store,
        };
        app.restore()?;
        Ok(app)
    }

    /// Takes back the blocks this node built or accepted at its height before a restart:
    /// the engine's WAL may propose or decide one of them again.
    fn restore(&mut self) -> Result<(), ConsensusError> {
        let height = self.height;
        self.store.prune(Height(height.0.saturating_sub(1)))?;
        for saved in self.store.load(height)? {
            if saved.height != height {
                continue;
            }
            let value = self.receive_block(
                saved.height,
                saved.round,
                saved.valid_round,
                saved.proposer,
                &saved.block,
                Arrival::default(),
                false,
            )?;
            if saved.own
                && let Some(value) = value
                && value.validity == Validity::Valid
            {
                self.built
                    .insert((saved.height, saved.round), value.value.0);
            }
        }
        Ok(())
    }

    /// Serves the engine until `inbox` closes or this node fails, on the calling thread,
    /// which should be the validator's own: blocks are built and judged here, on the block
    /// executor's threads, never on the engine's async runtime. Returns why it stopped.
    pub fn run(
        mut self,
        mut inbox: mpsc::Receiver<AppMsg<BraidContext>>,
        network: &mpsc::Sender<NetworkMsg<BraidContext>>,
    ) -> ConsensusError {
        // Told on any exit, a panic's included: the pool refuses more and readers see why.
        let mut on_exit = StopOnExit {
            pool: Arc::clone(&self.pool),
            state: match &self.reports {
                Reports::Events { state, .. } => Some(Arc::clone(state)),
                Reports::Slots(_) => None,
            },
            reason: None,
        };
        let error = loop {
            let Some(message) = inbox.blocking_recv() else {
                break ConsensusError::EngineStopped;
            };
            if let Err(error) = self.handle(message, network) {
                tracing::error!(%error, "consensus stopped");
                break error;
            }
        };
        on_exit.reason = Some(format!("the validator stopped: {error}"));
        error
    }

    fn handle(
        &mut self,
        message: AppMsg<BraidContext>,
        network: &mpsc::Sender<NetworkMsg<BraidContext>>,
    ) -> Result<(), ConsensusError> {
        match message {
            AppMsg::ConsensusReady { reply } => {
                let start = Height(self.bank.slot());
                tracing::info!(height = %start, "consensus ready");
                let _ = reply.send((start, self.validators.clone()));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                self.height = height;
                self.round = round;
                self.admit_pending(height)?;
                let values = self
                    .proposed
                    .get(&(height, round))
                    .cloned()
                    .unwrap_or_default();
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                if let Some(id) = self.built.get(&(height, round)).copied() {
                    let _ = reply.send(LocallyProposedValue::new(height, round, BlockValue(id)));
                    self.publish(network, height, round, Round::Nil, id)?;
                } else {
                    // Pace the slots, well within the engine's patience.
                    let wait = self
                        .slot_interval
                        .min(timeout.checked_div(2).unwrap_or_default())
                        .saturating_sub(self.last_commit.elapsed());
                    std::thread::sleep(wait);
                    // Streamed to the others while it executes.
                    let id = self.build(network, height, round)?;
                    let _ = reply.send(LocallyProposedValue::new(height, round, BlockValue(id)));
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtension { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address,
                value_id,
            } => {
                if address == self.address {
                    self.publish(network, height, round, valid_round, value_id)?;
                } else if let Some(candidate) = self.candidates.get(&value_id)
                    && !candidate.parts.is_empty()
                {
                    // Another proposer's block, gossiped again as it signed it.
                    let parts = candidate.parts.clone();
                    self.publish_parts(network, height, round, parts)?;
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let min = self.history.first().unwrap_or(Height(self.bank.slot()));
                let _ = reply.send(min);
            }
            AppMsg::ReceivedProposalPart { part, reply, .. } => {
                let value = self.receive_part(part)?;
                let _ = reply.send(value);
            }
            AppMsg::GetValidatorSet { reply, .. } => {
                let _ = reply.send(Some(self.validators.clone()));
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                assert!(
                    self.fault != Fault::PanicOnDecision,
                    "injected fault: panic on a decision"
                );
                self.commit(certificate)?;
                let _ = reply.send(Next::Start(
                    Height(self.bank.slot()),
                    self.validators.clone(),
                ));
            }
            AppMsg::GetDecidedValue { height, reply } => {
                let value = self
                    .history
                    .get(height)?
                    .map(|(certificate, bytes)| RawDecidedValue {
                        value_bytes: bytes,
                        certificate,
                    });
                let _ = reply.send(value);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let value = self.receive_block(
                    height,
                    round,
                    Round::Nil,
                    proposer,
                    &value_bytes,
                    Arrival::default(),
                    true,
                )?;
                let _ = reply.send(value);
            }
        }
        Ok(())
    }

    /// Checks a proposal part on arrival (its round's proposer signed it), verifies the
    /// signatures of the transactions it carries at once, and adds it to its stream; judges
    /// the block when the stream is complete, or keeps it for the next height, one per
    /// round.
    fn receive_part(
        &mut self,
        message: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<BraidContext>>, ConsensusError> {
        let StreamContent::Data(part) = message.content else {
            return Ok(None);
        };
        let next = Height(self.height.0.saturating_add(1));
        if part.height != self.height && part.height != next {
            return Ok(None);
        }
        let current = if part.height == self.height {
            self.round.as_u32().unwrap_or(0)
        } else {
            0
        };
        let Some(round) = part.round.as_u32() else {
            return Ok(None);
        };
        let pol_round_later = matches!(part.content, PartContent::Init { pol_round, .. }
            if pol_round.as_i64() >= part.round.as_i64());
        if round > current.saturating_add(ROUNDS_AHEAD_MAX) || pol_round_later {
            return Ok(None);
        }
        let expected = proposer_of(&self.validators, part.height, part.round);
        let Some(validator) = self
            .validators
            .validators()
            .iter()
            .find(|validator| validator.address == expected)
        else {
            return Ok(None);
        };
        let signed = part_sign_bytes(
            part.height,
            part.round,
            &expected,
            part.index,
            &part.content,
        );
        if part.proposer != expected || !verify(&validator.public_key, &signed, &part.signature) {
            tracing::warn!(height = %part.height, round = %part.round, "proposal part not signed by the round's proposer");
            return Ok(None);
        }
        self.counters.proposal_parts.fetch_add(1, Ordering::Relaxed);
        // A replay, or a part of a round already settled, costs nothing more.
        if !self.streams.wants(part.height, part.round, part.index) {
            return Ok(None);
        }
        // The costly half of judging a block, done while its proposer still executes it.
        let verified = match &part.content {
            PartContent::Transactions(wires) if crate::stream::transactions_well_formed(wires) => {
                self.verify_on_arrival(wires)
            }
            PartContent::Transactions(_) | PartContent::Init { .. } | PartContent::Fin { .. } => {
                Vec::new()
            }
        };
        let (height, round) = (part.height, part.round);
        match self.streams.add(part, verified) {
            Ok(None) => Ok(None),
            Ok(Some(assembled)) if assembled.height == next => {
                self.pending
                    .entry((assembled.height, assembled.round))
                    .or_insert(assembled);
                // Bounded: the earliest rounds are the ones the next height needs first.
                while self.pending.len() > PENDING_ROUNDS_MAX {
                    self.pending.pop_last();
                }
                Ok(None)
            }
            Ok(Some(assembled)) => self.receive_assembled(assembled),
            Err(error) => {
                tracing::warn!(%height, %round, %error, "proposal stream dropped");
                self.counters
                    .refused_streams
                    .fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// Which of `wires` have verified signatures: those the pool verified on entry, and the
    /// rest verified now, in batches.
    fn verify_on_arrival(&self, wires: &[Vec<u8>]) -> Vec<bool> {
        let held: Vec<bool> = {
            let pooled = self.pool.lock();
            wires.iter().map(|wire| pooled.holds(wire)).collect()
        };
        let unheld: Vec<&Vec<u8>> = wires
            .iter()
            .zip(&held)
            .filter(|(_, held)| !**held)
            .map(|(wire, _)| wire)
            .collect();
        let checked = self.engine.verify_signatures(&unheld);
        self.counters.verified_on_arrival.fetch_add(
            checked.iter().filter(|ok| **ok).count() as u64,
            Ordering::Relaxed,
        );
        let mut checked = checked.into_iter();
        held.iter()
            .map(|&held| held || checked.next().unwrap_or(false))
            .collect()
    }

    /// Judges the block of a complete stream.
    fn receive_assembled(
        &mut self,
        assembled: Assembled,
    ) -> Result<Option<ProposedValue<BraidContext>>, ConsensusError> {
        let Assembled {
            height,
            round,
            pol_round,
            proposer,
            encoded,
            verified,
            parts,
        } = assembled;
        let arrival = Arrival { parts, verified };
        self.receive_block(height, round, pol_round, proposer, &encoded, arrival, true)
    }

    /// Judges proposals for `height` that arrived before this node got there.
    fn admit_pending(&mut self, height: Height) -> Result<(), ConsensusError> {
        let ready: Vec<(Height, Round)> = self
            .pending
            .range((height, Round::Nil)..)
            .take_while(|((h, _), _)| *h == height)
            .map(|(key, _)| *key)
            .collect();
        for key in ready {
            if let Some(assembled) = self.pending.remove(&key) {
                self.receive_assembled(assembled)?;
            }
        }
        self.pending.retain(|(h, _), _| *h > height);
        Ok(())
    }

    /// Replays a proposed or synced block at the current height and keeps it with its
    /// verdict: a valid block whole (on disk too when `persist`), an invalid one by id. A
    /// proposer gets one block per round: another from it is ignored. `Err` is this node's
    /// own failure (its bank or its disk), which stops it.
    #[allow(clippy::too_many_arguments)]
    fn receive_block(
        &mut self,
        height: Height,
        round: Round,
        valid_round: Round,
        proposer: Address,
        bytes: &[u8],
        arrival: Arrival,
        persist: bool,
    ) -> Result<Option<ProposedValue<BraidContext>>, ConsensusError> {
        if height != Height(self.bank.slot()) {
            return Ok(None);
        }
        let id = id_of_encoded(bytes);
        let seen = self.proposed.get(&(height, round));
        if seen.is_some_and(|values| {
            values
                .iter()
                .any(|value| value.proposer == proposer && value.value.0 != id)
        }) {
            return Ok(None);
        }
        let validity = if let Some(candidate) = self.candidates.get_mut(&id) {
            if candidate.parts.is_empty() {
                candidate.parts = arrival.parts;
            }
            Validity::Valid
        } else if self.rejected.contains(&id) {
            Validity::Invalid
        } else {
            let verdict = match ProposedBlock::decode(bytes) {
                Ok(block) => self.judge(height, &block, &arrival.verified)?,
                Err(error) => Err(Rejection::Block(error)),
            };
            match verdict {
                Ok(ledger) => {
                    if persist {
                        self.store.save(
                            &SavedProposal {
                                height,
                                round,
                                valid_round,
                                proposer,
                                own: false,
                                block: bytes.to_vec(),
                            },
                            id,
                        )?;
                    }
                    self.candidates.insert(
                        id,
                        Candidate {
                            encoded: bytes.to_vec(),
                            ledger,
                            parked: None,
                            parts: arrival.parts,
                        },
                    );
                    self.active = Some(id);
                    Validity::Valid
                }
                Err(rejection) => {
                    tracing::warn!(%height, %round, %proposer, %rejection, "proposal rejected");
                    self.counters.rejections.fetch_add(1, Ordering::Relaxed);
                    if matches!(rejection, Rejection::OverLimit { .. }) {
                        self.counters
                            .over_limit_rejections
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    self.rejected.insert(id);
                    Validity::Invalid
                }
            }
        };
        let value = ProposedValue {
            height,
            round,
            valid_round,
            proposer,
            value: BlockValue(id),
            validity,
        };
        self.remember(value.clone());
        Ok(Some(value))
    }

    /// Replays `block` on the bank without committing it: the ledger block to commit if it
    /// is decided, or why it is invalid. `Err` is this node's own failure (its bank).
    fn judge(
        &mut self,
        height: Height,
        block: &ProposedBlock,
        verified_on_arrival: &[bool],
    ) -> Result<Result<braid_ledger::blockstore::Block, Rejection>, ConsensusError> {
        if block.slot != height.0 {
            return Ok(Err(Rejection::WrongSlot {
                block: block.slot,
                height: height.0,
            }));
        }
        let local = self.bank.parent_bank_hash();
        if block.parent_bank_hash != local.to_bytes() {
            return Ok(Err(Rejection::WrongParent {
                block: Hash::new_from_array(block.parent_bank_hash),
                local,
            }));
        }
        self.park_active()?;
        let (engine, bank) = (&self.engine, &mut self.bank);
        // Transactions this node verified when they entered its pool, or as their part
        // arrived, are not verified again. Marked before executing, so the pool is locked
        // only for the lookups.
        let verified: Vec<bool> = {
            let pooled = self.pool.lock();
            block
                .transactions
                .iter()
                .enumerate()
                .map(|(i, wire)| {
                    verified_on_arrival.get(i).copied().unwrap_or(false) || pooled.holds(wire)
                })
                .collect()
        };
        let verdict = engine.execute_fixed(
            bank,
            &block.transactions,
            None,
            Signatures::VerifyUnmarked(&verified),
            Limits::Enforce,
        )?;
        if let Err(divergence) = verdict {
            let index = divergence.entry;
            return Ok(Err(match divergence.reason {
                Diverged::NotAdmitted(error) => Rejection::RefusedTransaction {
                    index,
                    reason: Refusal::NotAdmitted(error),
                },
                Diverged::Rejected(error) => Rejection::RefusedTransaction {
                    index,
                    reason: Refusal::Rejected(error),
                },
                Diverged::OverLimit(limit) => Rejection::OverLimit { index, limit },
                other => Rejection::MalformedTransaction {
                    index,
                    reason: other.to_string(),
                },
            }));
        }
        let ledger = self.bank.open_block_at(Some(block.block_time))?;
        let mut computed = ledger.bank_hash.to_bytes();
        if self.fault == Fault::FlipBankHash {
            computed[0] ^= 1;
        }
        if computed != block.bank_hash || ledger.state_hash.to_bytes() != block.state_hash {
            // Invalid: its execution goes.
            self.bank.take_open_slot()?;
            return Ok(Err(Rejection::BankHashMismatch {
                proposed: block.bank_hash(),
                computed: Hash::new_from_array(computed),
            }));
        }
        Ok(Ok(ledger))
    }

    /// Sets the active candidate's execution aside, with the candidate, so the open slot is
    /// empty for another block at this height.
    fn park_active(&mut self) -> Result<(), ConsensusError> {
        if let Some(id) = self.active.take() {
            let open = self.bank.take_open_slot()?;
            if let Some(candidate) = self.candidates.get_mut(&id) {
                candidate.parked = Some(open);
            }
        }
        Ok(())
    }

    /// Commits the decided block and moves to the next height.
    fn commit(
        &mut self,
        certificate: CommitCertificate<BraidContext>,
    ) -> Result<(), ConsensusError> {
        let height = certificate.height;
        let id = certificate.value_id;
        let Some(candidate) = self.candidates.remove(&id) else {
            return Err(if self.rejected.contains(&id) {
                ConsensusError::Diverged {
                    height: height.0,
                    block: id,
                }
            } else {
                ConsensusError::UnknownDecision {
                    height: height.0,
                    block: id,
                }
            });
        };
        let Candidate {
            encoded,
            ledger,
            parked,
            ..
        } = candidate;
        // Its execution is in the open slot, or was set aside; it is not executed again.
        if self.active != Some(id) {
            self.park_active()?;
            let parked = parked.ok_or(ConsensusError::UnknownDecision {
                height: height.0,
                block: id,
            })?;
            self.bank.restore_open_slot(parked)?;
        }
        self.active = None;
        let account_keys = self.bank.take_account_keys();
        let commit: SlotCommit = self.bank.commit_replayed(&ledger)?;
        let recorded = self.bank.recorded_total();
        if certificate.round == Round::new(0) {
            let counters = &self.counters;
            counters.first_round_transactions.fetch_add(
                u64::try_from(commit.signatures.len()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            counters.first_round_executions.fetch_add(
                recorded.saturating_sub(self.recorded_before_height),
                Ordering::Relaxed,
            );
        }
        self.recorded_before_height = recorded;
        self.pool.lock().landed(&commit.signatures);
        self.evict_unlandable();
        tracing::info!(slot = commit.slot, bank_hash = %commit.bank_hash, block = %id, transactions = commit.signatures.len(), "finalized");
        self.history.append(height, &certificate, &encoded)?;
        let abandoned = self.streams.drop_below(Height(height.0.saturating_add(1)));
        if abandoned > 0 {
            tracing::info!(%height, streams = abandoned, "proposal streams that never completed dropped");
            self.counters
                .abandoned_streams
                .fetch_add(abandoned as u64, Ordering::Relaxed);
        }
        // Everything proposed at this height or below is moot now.
        self.candidates.clear();
        self.rejected.clear();
        self.store.prune(height)?;
        self.proposed.retain(|(h, _), _| *h > height);
        self.built.retain(|(h, _), _| *h > height);
        self.last_commit = Instant::now();
        self.report(id, commit, ledger, account_keys);
        Ok(())
    }

    /// Reports a committed slot as [`Reports`] asks.
    fn report(
        &self,
        block: BlockId,
        commit: SlotCommit,
        record: braid_ledger::blockstore::Block,
        account_keys: Vec<Vec<braid_primitives::Pubkey>>,
    ) {
        let latest_blockhash = self.bank.latest_blockhash();
        match &self.reports {
            Reports::Slots(finalized) => {
                let _ = finalized.send(Finalized {
                    block,
                    commit,
                    latest_blockhash,
                    record,
                });
            }
            Reports::Events { state, events } => {
                state.committed(&commit, latest_blockhash);
                let mut keys = account_keys.into_iter();
                for (entry, signature) in record.entries.into_iter().zip(&commit.signatures) {
                    let meta = entry.meta.map(|meta| *meta);
                    let (status, logs) = match meta {
                        Some(meta) => (meta.err.map_or(Ok(()), Err), meta.logs),
                        None => (Ok(()), Vec::new()),
                    };
                    let _ = events.send(ExecutionEvent::Processed {
                        signature: *signature,
                        slot: commit.slot,
                        status,
                        logs,
                        account_keys: keys.next().unwrap_or_default(),
                    });
                }
                let _ = events.send(ExecutionEvent::SlotCommitted(commit));
            }
        }
    }

    fn remember(&mut self, value: ProposedValue<BraidContext>) {
        let values = self
            .proposed
            .entry((value.height, value.round))
            .or_default();
        if !values
            .iter()
            .any(|v| v.value == value.value && v.proposer == value.proposer)
        {
            values.push(value);
        }
    }

    /// Takes the transactions with these signatures out of the pool.
    fn forget(&mut self, signatures: &[TxSignature]) {
        let mut pool = self.pool.lock();
        for signature in signatures {
            pool.remove(signature);
        }
    }

    /// Drops from the pool what can no longer land: a blockhash too old, a fee payer that
    /// can no longer pay.
    fn evict_unlandable(&mut self) {
        let (bank, shared) = (&self.bank, &self.pool);
        // Balances are read without the pool's lock, which submissions and the verifiers
        // need; a payer that arrived meanwhile is kept until the next commit.
        let payers = shared.lock().payers();
        let balances: HashMap<_, _> = payers
            .into_iter()
            .map(|payer| (payer, shared.balance(&payer)))
            .collect();
        let evicted = shared.lock().retain_landable(
            |blockhash| bank.is_blockhash_valid(blockhash),
            |payer| balances.get(payer).copied().unwrap_or(u64::MAX),
        );
        if evicted > 0 {
            tracing::debug!(evicted, "pool: dropped what can no longer land");
        }
    }
}

fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        .try_into()
        .unwrap_or(i64::MAX)
}
