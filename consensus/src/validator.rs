//! A running validator: Malachite's engine (network, WAL, sync, consensus) and Braid's
//! [`App`] on one bank, started on loopback or any TCP address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use braid_ledger::bank::Bank;
use malachitebft_app::config::{
    ConsensusConfig, P2pConfig, PubSubProtocol, TimeoutConfig, TransportProtocol, ValuePayload,
    ValueSyncConfig,
};
use malachitebft_app::events::{RxEvent, TxEvent};
use malachitebft_app::node::{EngineHandle, Node, NodeConfig, NodeHandle};
use malachitebft_app::types::Keypair;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::app::{App, AppCounters, AppLinks, AppSettings, AppStorage, Fault, Finalized, Reports};
use crate::block::BLOCK_BYTES_MAX;
use crate::codec::BorshCodec;
use crate::context::{Address, BraidContext, ValidatorSet};
use crate::error::ConsensusError;
use crate::history::DecidedHistory;
use crate::pool::{SharedPool, SubmitError};
use crate::proposals::ProposalStore;
use crate::signing::{PrivateKey, PublicKey, SigningProvider};
use crate::stream::PART_BYTES_MAX;

/// Largest gossip message: one proposal part (at most [`PART_BYTES_MAX`] of transactions)
/// with room to spare; a block travels in many.
pub const GOSSIP_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Largest sync response: one decided block and its certificate.
pub const SYNC_RESPONSE_BYTES_MAX: usize = 12 * 1024 * 1024;

const _: () = assert!(PART_BYTES_MAX + 64 * 1024 <= GOSSIP_BYTES_MAX);
const _: () = assert!(BLOCK_BYTES_MAX + 64 * 1024 <= SYNC_RESPONSE_BYTES_MAX);
const _: () = assert!(GOSSIP_BYTES_MAX <= SYNC_RESPONSE_BYTES_MAX);

/// How to run one validator.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// A name for logs and metrics.
    pub moniker: String,
    /// Where the consensus write-ahead log lives (`wal/` under it).
    pub home: PathBuf,
    /// The TCP address to listen on for peers.
    pub listen: SocketAddr,
    /// The other validators' addresses.
    pub peers: Vec<SocketAddr>,
    /// Consensus step timeouts.
    pub timeouts: TimeoutConfig,
    /// How often peers exchange their heights for sync.
    pub sync_interval: Duration,
    /// The least time between two blocks this validator proposes: a proposer waits this
    /// long after its last commit before building, so an idle network does not spin.
    pub slot_interval: Duration,
    /// Most transactions in one part of this validator's proposal streams:
    /// [`crate::stream::PART_TRANSACTIONS_DEFAULT`] but in tests that want many parts.
    pub part_transactions: usize,
    /// A fault to inject (tests only).
    pub fault: Fault,
}

impl ValidatorConfig {
    /// Timeouts for validators on one machine: a dead proposer costs about a second.
    pub fn local_timeouts() -> TimeoutConfig {
        TimeoutConfig {
            timeout_propose: Duration::from_millis(1_000),
            timeout_propose_delta: Duration::from_millis(200),
            timeout_prevote: Duration::from_millis(300),
            timeout_prevote_delta: Duration::from_millis(100),
            timeout_precommit: Duration::from_millis(300),
            timeout_precommit_delta: Duration::from_millis(100),
            timeout_rebroadcast: Duration::from_millis(1_600),
        }
    }
}

/// The engine's configuration, as its `Node` trait wants it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
}

/// What the engine asks of a node when it starts: its home and its key.
struct EngineNode {
    home: PathBuf,
    key: PrivateKey,
}

/// Malachite's node handle, which Braid does not use: [`Validator`] is the handle.
struct UnusedHandle(TxEvent<BraidContext>);

#[async_trait]
impl NodeHandle<BraidContext> for UnusedHandle {
    fn subscribe(&self) -> RxEvent<BraidContext> {
        self.0.subscribe()
    }

    async fn kill(&self, _reason: Option<String>) -> eyre::Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Node for EngineNode {
    type Context = BraidContext;
    type Config = EngineConfig;
    type Genesis = ();
    type PrivateKeyFile = [u8; 32];
    type SigningProvider = SigningProvider;
    type NodeHandle = UnusedHandle;

    // `start_engine` uses only the key and home methods; Braid starts nodes through
    // `Validator::start`, so the trait's own entry points refuse.
    async fn start(&self) -> eyre::Result<UnusedHandle> {
        Err(eyre::eyre!("start a Braid validator with Validator::start"))
    }

    async fn run(self) -> eyre::Result<()> {
        Err(eyre::eyre!("start a Braid validator with Validator::start"))
    }

    fn get_home_dir(&self) -> PathBuf {
        self.home.clone()
    }

    fn load_config(&self) -> eyre::Result<EngineConfig> {
        Err(eyre::eyre!(
            "a Braid validator's configuration comes from its caller"
        ))
    }

    fn get_address(&self, key: &PublicKey) -> Address {
        Address(key.0)
    }

    fn get_public_key(&self, key: &PrivateKey) -> PublicKey {
        key.public_key()
    }

    fn get_keypair(&self, key: PrivateKey) -> Keypair {
        // The libp2p identity shares the validator's ed25519 seed; 32 bytes always decode.
        Keypair::ed25519_from_bytes(key.seed()).expect("a 32-byte ed25519 seed")
    }

    fn load_private_key(&self, seed: [u8; 32]) -> PrivateKey {
        PrivateKey::from_seed(&seed)
    }

    fn load_private_key_file(&self) -> eyre::Result<[u8; 32]> {
        Ok(self.key.seed())
    }

    fn load_genesis(&self) -> eyre::Result<()> {
        Ok(())
    }

    fn get_signing_provider(&self, key: PrivateKey) -> SigningProvider {
        SigningProvider::new(key)
    }
}

/// Submits transactions to a [`Validator`]'s pool from any thread.
#[derive(Clone)]
pub struct Submitter(Arc<SharedPool>);

impl Submitter {
    /// Checks a transaction and hands it to the pool's verifiers, or says why not
    /// ([`crate::pool`] gives the rules).
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.0.submit(wire)
    }

    /// [`Submitter::submit`], and once the pool has verified and taken it, hands it to the
    /// hook set with [`Submitter::set_forwarder`].
    pub fn submit_and_forward(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.0.submit_and_forward(wire)
    }

    /// Sets where [`Submitter::submit_and_forward`] sends what the pool took.
    pub fn set_forwarder(&self, forward: crate::pool::ForwardHook) {
        self.0.set_forwarder(forward);
    }
}

/// Engine requests queued for the application thread. The engine waits for most replies,
/// so only a handful are ever in flight.
const APP_INBOX_MAX: usize = 256;

/// A running validator.
pub struct Validator {
    pool: Arc<SharedPool>,
    finalized: crossbeam_channel::Receiver<Finalized>,
    engine: EngineHandle,
    /// Hands the engine's requests to the application thread; aborted to stop it.
    relay: tokio::task::JoinHandle<()>,
    app: std::thread::JoinHandle<ConsensusError>,
    counters: Arc<AppCounters>,
}

impl Validator {
    /// Starts the validator with `key` on `bank`, among `validators`, reporting each
    /// committed slot whole through [`Validator::finalized`]. Must run inside a Tokio
    /// runtime, which runs the engine (network, votes, sync); the application (building
    /// and judging blocks) runs on a thread of its own.
    pub async fn start(
        config: ValidatorConfig,
        key: PrivateKey,
        validators: ValidatorSet,
        bank: Bank,
    ) -> Result<Self, ConsensusError> {
        let (finalized_tx, finalized) = crossbeam_channel::unbounded();
        Self::launch(
            config,
            key,
            validators,
            bank,
            Reports::Slots(finalized_tx),
            finalized,
        )
        .await
    }

    /// [`Validator::start`], reporting each committed slot as the single node's pipeline
    /// does ([`Reports::Events`]): readers see it in `state`, and its transactions and
    /// commit arrive on `events`. [`Validator::finalized`] stays empty.
    pub async fn start_reporting(
        config: ValidatorConfig,
        key: PrivateKey,
        validators: ValidatorSet,
        bank: Bank,
        state: Arc<braid_interfaces::NodeState>,
        events: crossbeam_channel::Sender<braid_interfaces::ExecutionEvent>,
    ) -> Result<Self, ConsensusError> {
        // Nothing is sent on it: its sender is dropped at once.
        let (_, finalized) = crossbeam_channel::unbounded();
        let reports = Reports::Events { state, events };
        Self::launch(config, key, validators, bank, reports, finalized).await
    }

    async fn launch(
        config: ValidatorConfig,
        key: PrivateKey,
        validators: ValidatorSet,
        bank: Bank,
        reports: Reports,
        finalized: crossbeam_channel::Receiver<Finalized>,
    ) -> Result<Self, ConsensusError> {
        let tcp = |address: &SocketAddr| {
            TransportProtocol::Tcp.multiaddr(&address.ip().to_string(), usize::from(address.port()))
        };
        let engine_config = EngineConfig {
            moniker: config.moniker.clone(),
            consensus: ConsensusConfig {
                timeouts: config.timeouts,
                p2p: P2pConfig {
                    listen_addr: tcp(&config.listen),
                    persistent_peers: config.peers.iter().map(tcp).collect(),
                    pubsub_max_size: bytesize(GOSSIP_BYTES_MAX),
                    rpc_max_size: bytesize(SYNC_RESPONSE_BYTES_MAX),
                    // Every validator dials every other (`peers` is the whole set), so
                    // each message goes straight to each peer once; GossipSub's relaying
                    // made every validator receive every proposal part three times.
                    protocol: PubSubProtocol::Broadcast,
                    ..P2pConfig::default()
                },
                value_payload: ValuePayload::PartsOnly,
                ..ConsensusConfig::default()
            },
            value_sync: ValueSyncConfig {
                enabled: true,
                status_update_interval: config.sync_interval,
                request_timeout: config.sync_interval.saturating_mul(4),
                ..ValueSyncConfig::default()
            },
        };
        let node = EngineNode {
            home: config.home.clone(),
            key: key.clone(),
        };
        let counters = Arc::new(AppCounters::default());
        let verifiers = std::thread::available_parallelism().map_or(1, usize::from);
        let pool = SharedPool::new(Arc::clone(bank.accounts_db()), verifiers).map_err(|error| {
            ConsensusError::Engine(format!("cannot start the pool's verifiers: {error}"))
        })?;
        let storage = AppStorage {
            proposals: ProposalStore::open(&config.home.join("proposals"))?,
            history: DecidedHistory::open(&config.home)?,
        };
        let app = App::new(
            bank,
            key,
            validators.clone(),
            AppSettings {
                fault: config.fault,
                slot_interval: config.slot_interval,
                part_transactions: config.part_transactions,
            },
            AppLinks {
                reports,
                counters: Arc::clone(&counters),
                pool: Arc::clone(&pool),
            },
            storage,
        )?;
        let (channels, engine) = malachitebft_app_channel::start_engine(
            BraidContext,
            node,
            engine_config,
            BorshCodec,
            BorshCodec,
            None,
            validators,
        )
        .await
        .map_err(|error| ConsensusError::Engine(format!("{error:#}")))?;
        let (to_app, inbox) = mpsc::channel(APP_INBOX_MAX);
        let mut requests = channels.consensus;
        let relay = tokio::spawn(async move {
            while let Some(request) = requests.recv().await {
                if to_app.send(request).await.is_err() {
                    break;
                }
            }
        });
        let network = channels.network;
        let app = std::thread::Builder::new()
            .name("braid-app".into())
            .spawn(move || app.run(inbox, &network))
            .map_err(|error| {
                ConsensusError::Engine(format!("cannot start the application thread: {error}"))
            })?;
        Ok(Self {
            pool,
            finalized,
            engine,
            relay,
            app,
            counters,
        })
    }

    /// Hands a transaction to this validator's pool; it is proposed when this validator
    /// leads a round.
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.submitter().submit(wire)
    }

    /// A handle that submits to this validator from any thread.
    pub fn submitter(&self) -> Submitter {
        Submitter(Arc::clone(&self.pool))
    }

    /// Transactions submitted to this validator and dropped because a signature did not
    /// verify.
    pub fn bad_signatures(&self) -> u64 {
        self.pool.bad_signatures()
    }

    /// Slots as this validator commits them.
    pub fn finalized(&self) -> &crossbeam_channel::Receiver<Finalized> {
        &self.finalized
    }

    /// How many proposals this validator has judged invalid (each is logged with its
    /// [`crate::Rejection`]).
    pub fn rejected_proposals(&self) -> u64 {
        self.counters.rejections.load(Ordering::Relaxed)
    }

    /// What the application counts: rejections, and transactions executed against
    /// transactions decided.
    pub fn counters(&self) -> &AppCounters {
        &self.counters
    }

    /// Whether the application has stopped, and why, without waiting.
    pub fn is_stopped(&self) -> bool {
        self.app.is_finished()
    }

    /// Stops the engine and the application; returns why the application had already
    /// stopped, if it had.
    pub async fn stop(self) -> Option<ConsensusError> {
        let had_stopped = self.app.is_finished();
        // Without the relay the application's inbox closes: it finishes the request in hand
        // and returns. Joined before returning, so the bank (and its ledger lock) is dropped.
        self.relay.abort();
        let app = self.app;
        let joined = tokio::task::spawn_blocking(move || app.join()).await;
        let stopped = match joined {
            Ok(Ok(error)) if had_stopped => Some(error),
            Ok(Ok(_)) => None,
            Ok(Err(_)) | Err(_) => Some(ConsensusError::Engine(
                "the application thread panicked".to_owned(),
            )),
        };
        self.engine.actor.kill_and_wait(None).await.ok();
        self.engine.handle.abort();
        let _ = self.engine.handle.await;
        stopped
    }
}

fn bytesize(bytes: usize) -> bytesize::ByteSize {
    bytesize::ByteSize::b(bytes as u64)
}
