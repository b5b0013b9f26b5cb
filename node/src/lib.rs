//! A local Braid node: the pipeline on a ledger directory, with a faucet, served over
//! JSON-RPC.
//!
//! [`Node::start`] creates the ledger on first start (a faucet keypair in `faucet.json`,
//! one executable account per registered program, the funded faucet: [`genesis_for`]), or
//! reopens it, in which case the pipeline replays blocks newer than the committed accounts.
//! One thread applies the pipeline's events to a bounded status tracker, so a transaction is
//! `processed` once executed and `finalized` once its slot's commit is durable: a
//! transaction reported `finalized` survives `kill -9` of the node.
//!
//! The node assembles; it implements nothing of its own: the bank and genesis are
//! `braid-ledger`'s, the pipeline `braid-banking-stage`'s, the server `braid-rpc`'s and the
//! programs whatever registry the caller passes (`braid_builtins::registry()` for `braid
//! node`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::{Keypair, KeypairError, read_keypair_file, write_keypair_file};
use braid_runtime::program::ProgramRegistry;
use braid_runtime::{Account, Pubkey, SYSTEM_PROGRAM_ID};

use braid_banking_stage::pipeline::{
    Pipeline, PipelineConfig, PipelineError, SLOT_DURATION_DEFAULT,
};
use braid_interfaces::NodeState;
use braid_ledger::genesis::{GENESIS_FILE_NAME, Genesis, GenesisError};
use braid_primitives::LAMPORTS_PER_SOL;
use braid_rpc::blocks::BlockIndex;
use braid_rpc::pubsub::PubSub;
use braid_rpc::status::{STATUS_CAPACITY_DEFAULT, StatusTracker};
use braid_rpc::{FaucetLimits, Ingress, RpcLimits, RpcServer, RpcState, RpcWorkers, ServeError};

/// The faucet keypair's file name inside a ledger directory.
pub const FAUCET_FILE_NAME: &str = "faucet.json";
/// The node identity keypair's file name inside a ledger directory (getIdentity).
pub const IDENTITY_FILE_NAME: &str = "identity.json";
/// Pipeline events queued for subscription matching before subscribers count as too slow.
pub const PUBSUB_EVENTS_QUEUED_MAX: usize = 65_536;
/// The faucet's balance at genesis, in lamports (one billion SOL).
pub const FAUCET_LAMPORTS_DEFAULT: u64 = 1_000_000_000 * LAMPORTS_PER_SOL;

/// How to start a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The ledger directory (created if missing).
    pub ledger_dir: PathBuf,
    /// The JSON-RPC port; 0 picks a free one (see [`Node::rpc_addr`]).
    pub rpc_port: u16,
    /// The PubSub (WebSocket) port; `None` is the RPC port + 1, as Solana's clients assume
    /// (a free one when the RPC port is 0).
    pub pubsub_port: Option<u16>,
    /// The address both listen on: loopback unless asked otherwise.
    pub bind_address: IpAddr,
    /// The RPC server's limits.
    pub rpc_limits: RpcLimits,
    /// Wipe the ledger directory first. Refused if it holds files but no ledger.
    pub reset: bool,
    /// The pipeline's configuration (slots of [`SLOT_DURATION_DEFAULT`] by default).
    pub pipeline: PipelineConfig,
    /// The faucet's balance when genesis is created, in lamports.
    pub faucet_lamports: u64,
    /// Signatures whose status the node remembers.
    pub status_capacity: usize,
    /// What the faucet hands out per request and per window.
    pub faucet_limits: FaucetLimits,
    /// Join a network of validators instead of committing slots alone.
    pub consensus: Option<ConsensusSetup>,
    /// Serve the binary ingestion port ([`braid_rpc::ingest`]) on this port (0: a free one);
    /// `None`: no port. getClusterNodes names it as the node's `tpu`.
    pub ingest_port: Option<u16>,
}

/// How a node joins a network of validators: Malachite orders its slots, and a slot is
/// committed (`finalized`) only once the network decides its block.
#[derive(Debug, Clone)]
pub struct ConsensusSetup {
    /// The network's genesis, its validator set included (`braid genesis --validators`).
    pub genesis: Genesis,
    /// This validator's identity: its seed is its consensus key.
    pub identity: Keypair,
    /// The TCP address to listen on for the other validators.
    pub p2p: SocketAddr,
    /// The other validators' addresses.
    pub peers: Vec<SocketAddr>,
    /// The network's faucet keypair, if this node should serve airdrops: kept in the
    /// ledger directory on first start.
    pub faucet: Option<Keypair>,
    /// The other validators' JSON-RPC URLs: a transaction sent to this node is forwarded
    /// to them, so whichever leads the next round can include it.
    pub peer_rpc: Vec<String>,
}

impl NodeConfig {
    /// Defaults for a node on `ledger_dir` serving `rpc_port`.
    pub fn new(ledger_dir: impl Into<PathBuf>, rpc_port: u16) -> Self {
        Self {
            ledger_dir: ledger_dir.into(),
            rpc_port,
            pubsub_port: None,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rpc_limits: RpcLimits::default(),
            reset: false,
            // Subscriptions filter by the accounts a transaction names.
            pipeline: PipelineConfig {
                detailed_events: true,
                // Slots and blockhashes move on an idle node, as clients expect.
                empty_slots: true,
                ..PipelineConfig::default()
            },
            faucet_lamports: FAUCET_LAMPORTS_DEFAULT,
            status_capacity: STATUS_CAPACITY_DEFAULT,
            faucet_limits: FaucetLimits::default(),
            consensus: None,
            ingest_port: None,
        }
    }
}

/// Why a node could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `--reset` was asked for a directory that is not a ledger.
    #[error("refusing to reset {0}: it is not empty and holds no {GENESIS_FILE_NAME}")]
    NotALedger(PathBuf),
    /// The binary ingestion port could not be opened.
    #[error("ingestion port {addr}: {source}")]
    Ingest {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The faucet keypair could not be read or written.
    #[error("faucet keypair: {0}")]
    Faucet(#[from] KeypairError),
    /// The node identity keypair could not be read or written.
    #[error("node identity keypair: {0}")]
    Identity(KeypairError),
    /// The genesis could not be built or read.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The ledger directory could not be locked (another node has it) or opened.
    #[error(transparent)]
    Ledger(#[from] braid_ledger::BankError),
    /// The pipeline could not open, replay or commit the ledger, or stopped abnormally.
    #[error("ledger: {0}")]
    Pipeline(#[from] PipelineError),
    /// The JSON-RPC server could not listen or start.
    #[error(transparent)]
    Rpc(#[from] ServeError),
    /// The RPC port has no next port for PubSub.
    #[error("RPC port {0} leaves no next port for PubSub: pass a PubSub port")]
    NoPubSubPort(u16),
    /// A thread could not be started.
    #[error("cannot start a node thread: {0}")]
    Spawn(std::io::Error),
    /// The ledger directory holds another network's genesis.
    #[error("{0} holds a different genesis than the one given: use a fresh ledger directory")]
    GenesisMismatch(PathBuf),
    /// The validator could not start, or its genesis names no validator set.
    #[error("consensus: {0}")]
    Consensus(#[from] braid_consensus::ConsensusError),
}

/// A running node. [`Node::shutdown`] stops it cleanly (committing the open slot); dropping
/// it stops serving but leaves the open slot uncommitted, as a crash would.
pub struct Node {
    state: Option<Arc<RpcState>>,
    shared: Arc<NodeState>,
    rpc_addr: SocketAddr,
    pubsub_addr: SocketAddr,
    faucet: Option<Pubkey>,
    workers: RpcWorkers,
    events_thread: Option<JoinHandle<()>>,
    pubsub_thread: Option<JoinHandle<()>>,
    consensus: Option<RunningValidator>,
    /// The binary ingestion port, if served.
    ingest: Option<braid_rpc::ingest::IngestServer>,
}

/// A node's validator and the runtime its engine runs on.
struct RunningValidator {
    runtime: tokio::runtime::Runtime,
    validator: braid_consensus::Validator,
}

impl Node {
    /// Opens or creates the ledger, starts the pipeline with `programs`, and serves JSON-RPC.
    pub fn start(config: NodeConfig, programs: ProgramRegistry) -> Result<Self, NodeError> {
        let dir = config.ledger_dir.as_path();
        if config.reset {
            reset_ledger_dir(dir)?;
        }
        std::fs::create_dir_all(dir).map_err(|source| NodeError::Io {
            path: dir.to_owned(),
            source,
        })?;
        // Bind before opening the ledger: a busy port then costs no replay.
        let pubsub_port = match (config.pubsub_port, config.rpc_port) {
            (Some(port), _) => port,
            (None, 0) => 0,
            (None, rpc) => rpc.checked_add(1).ok_or(NodeError::NoPubSubPort(rpc))?,
        };
        let server = RpcServer::bind(
            SocketAddr::new(config.bind_address, config.rpc_port),
            SocketAddr::new(config.bind_address, pubsub_port),
            config.rpc_limits,
        )?;
        let (rpc_addr, pubsub_addr) = (server.local_addr(), server.pubsub_addr());
        let ingest_listener = match config.ingest_port {
            Some(port) => {
                let addr = SocketAddr::new(config.bind_address, port);
                Some(
                    std::net::TcpListener::bind(addr)
                        .map_err(|source| NodeError::Ingest { addr, source })?,
                )
            }
            None => None,
        };
        let ingest_addr = match &ingest_listener {
            Some(listener) => Some(listener.local_addr().map_err(|source| NodeError::Ingest {
                addr: SocketAddr::new(config.bind_address, 0),
                source,
            })?),
            None => None,
        };

        let faucet_path = dir.join(FAUCET_FILE_NAME);
        let existing = Genesis::read(dir)?;
        if let (Some(existing), Some(setup)) = (&existing, &config.consensus)
            && existing.hash() != setup.genesis.hash()
        {
            return Err(NodeError::GenesisMismatch(dir.to_owned()));
        }
        let existing_rules = existing.as_ref().map(|genesis| genesis.rent_exemption);
        let (genesis, faucet) = match existing {
            Some(_) => {
                let faucet = if faucet_path.exists() {
                    Some(read_keypair_file(&faucet_path)?)
                } else {
                    None
                };
                (None, faucet)
            }
            // A validator's genesis comes from the network; its faucet, if the operator
            // copied one in, from the ledger directory.
            None if config.consensus.is_some() => {
                let given = config
                    .consensus
                    .as_ref()
                    .and_then(|setup| setup.faucet.clone());
                let faucet = if faucet_path.exists() {
                    Some(read_keypair_file(&faucet_path)?)
                } else if let Some(faucet) = given {
                    write_keypair_durably(&faucet, &faucet_path)?;
                    Some(faucet)
                } else {
                    None
                };
                (
                    config.consensus.as_ref().map(|setup| setup.genesis.clone()),
                    faucet,
                )
            }
            None => {
                // The faucet file is written before the genesis naming it, so a crash in
                // between leaves a faucet that the next start reuses.
                let faucet = if faucet_path.exists() {
                    read_keypair_file(&faucet_path)?
                } else {
                    let faucet = Keypair::new();
                    write_keypair_durably(&faucet, &faucet_path)?;
                    faucet
                };
                (
                    Some(genesis_for(
                        &programs,
                        &faucet.pubkey(),
                        config.faucet_lamports,
                    )?),
                    Some(faucet),
                )
            }
        };

        // A new ledger requires rent exemption, as Solana does (a validator's genesis says);
        // an existing one keeps the rules it was created with.
        let rent_exemption = existing_rules
            .or_else(|| genesis.as_ref().map(|genesis| genesis.rent_exemption))
            .unwrap_or(true);
        let executor = Arc::new(Executor::new(
            programs,
            ExecutorConfig::default().with_rent_exemption(rent_exemption),
        ));
        let (ingress, events, consensus): (Ingress, _, _) = match &config.consensus {
            None => {
                let pipeline = Pipeline::start(
                    dir,
                    genesis.as_ref(),
                    Arc::clone(&executor),
                    config.pipeline,
                )?;
                let events = pipeline.events().clone();
                (pipeline.into(), events, None)
            }
            Some(setup) => {
                let (ingress, events, running) =
                    start_validator(dir, genesis.as_ref(), Arc::clone(&executor), setup)?;
                (ingress, events, Some(running))
            }
        };
        let shared = Arc::clone(match &ingress {
            Ingress::Pipeline(pipeline) => pipeline.shared(),
            Ingress::Consensus { shared, .. } => shared,
        });
        let tracker = Arc::new(Mutex::new(StatusTracker::new(
            config.status_capacity,
            shared.latest_blockhash(),
        )));
        let faucet_pubkey = faucet.as_ref().map(Keypair::pubkey);
        let identity_path = dir.join(IDENTITY_FILE_NAME);
        let identity = if let Some(setup) = &config.consensus {
            setup.identity.clone()
        } else if identity_path.exists() {
            read_keypair_file(&identity_path).map_err(NodeError::Identity)?
        } else {
            let identity = Keypair::new();
            write_keypair_durably(&identity, &identity_path).map_err(NodeError::Identity)?;
            identity
        };
        let genesis_hash = match &genesis {
            Some(genesis) => genesis.hash(),
            None => Genesis::read(dir)?
                .map(|genesis| genesis.hash())
                .unwrap_or_default(),
        };
        let pubsub = Arc::new(PubSub::new(
            Arc::clone(&tracker),
            Arc::clone(shared.accounts_db()),
        ));
        // The block and history methods answer from the newest blocks: those already in
        // the ledger (read once, here), then every slot the pipeline commits.
        let block_index =
            BlockIndex::open(genesis_hash, dir).map_err(|error| NodeError::Ledger(error.into()))?;
        let ledger_reader = block_index.ledger();
        let state = Arc::new(
            RpcState::new(
                ingress,
                executor,
                Arc::clone(&tracker),
                faucet,
                config.faucet_limits,
                genesis_hash,
                identity.pubkey(),
            )
            .with_blocks(block_index)
            .with_addresses(braid_rpc::methods::NodeAddresses {
                rpc: Some(rpc_addr),
                ingest: ingest_addr,
            }),
        );
        let blocks = state.blocks();
        let samples = state.samples();
        // Subscriptions are matched on a thread of their own, behind a bounded queue: a
        // slow match (many subscriptions, large accounts) never holds up the event thread,
        // and so never the pipeline. If the queue fills, every subscription is ended.
        let (pubsub_tx, pubsub_rx) = std::sync::mpsc::sync_channel::<
            braid_interfaces::ExecutionEvent,
        >(PUBSUB_EVENTS_QUEUED_MAX);
        let subscriptions = Arc::clone(&pubsub);
        let pubsub_thread = std::thread::Builder::new()
            .name("braid-pubsub".into())
            .spawn(move || {
                for event in pubsub_rx.iter() {
                    subscriptions.on_event(&event);
                }
            })
            .map_err(NodeError::Spawn)?;
        let overflowed = Arc::clone(&pubsub);
        let events_thread = std::thread::Builder::new()
            .name("braid-rpc-events".into())
            // Ends when the pipeline's threads, the senders, are gone.
            .spawn(move || {
                for event in events.iter() {
                    // The committed block, read back from the ledger before taking the
                    // index's lock, so readers never wait on the disk. Unreadable, it is
                    // indexed from the event alone (no address history for it).
                    let block = match (&event, &ledger_reader) {
                        (braid_interfaces::ExecutionEvent::SlotCommitted(commit), Some(reader)) => {
                            commit.ledger_offset.and_then(|offset| {
                                reader
                                    .read(offset)
                                    .inspect_err(|error| {
                                        tracing::warn!(%error, "reading a committed block back");
                                    })
                                    .ok()
                            })
                        }
                        _ => None,
                    };
                    // Blocks before statuses: a client that sees a status may ask for its
                    // block at once.
                    blocks
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .apply(&event, block.as_ref());
                    tracker
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .apply(&event);
                    samples
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .apply(&event, std::time::Instant::now());
                    // After the tracker, so a subscriber that then asks for the status
                    // finds it.
                    if let Err(std::sync::mpsc::TrySendError::Full(_)) = pubsub_tx.try_send(event) {
                        overflowed.overflow();
                    }
                }
            })
            .map_err(NodeError::Spawn)?;
        let workers = server.serve(Arc::clone(&state), pubsub)?;
        let ingest = match ingest_listener {
            Some(listener) => {
                // Weak: a connection that outlives the node must not keep its state alive.
                let weak = Arc::downgrade(&state);
                let submit: Arc<braid_rpc::ingest::Submit> =
                    Arc::new(move |wire| match weak.upgrade() {
                        Some(state) => state.submit(wire),
                        None => Err(braid_interfaces::SubmitError::Stopped),
                    });
                let addr = listener.local_addr().unwrap_or(rpc_addr);
                Some(
                    braid_rpc::ingest::IngestServer::start(listener, submit)
                        .map_err(|source| NodeError::Ingest { addr, source })?,
                )
            }
            None => None,
        };
        Ok(Self {
            ingest,
            state: Some(state),
            shared,
            rpc_addr,
            pubsub_addr,
            faucet: faucet_pubkey,
            workers,
            events_thread: Some(events_thread),
            pubsub_thread: Some(pubsub_thread),
            consensus,
        })
    }

    /// The address JSON-RPC is served on.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    /// The JSON-RPC URL, e.g. `http://127.0.0.1:8899`.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// The address PubSub (WebSocket) is served on.
    pub fn pubsub_addr(&self) -> SocketAddr {
        self.pubsub_addr
    }

    /// The PubSub URL, e.g. `ws://127.0.0.1:8900`.
    pub fn pubsub_url(&self) -> String {
        format!("ws://{}", self.pubsub_addr)
    }

    /// The binary ingestion port's address, if it serves one.
    pub fn ingest_addr(&self) -> Option<SocketAddr> {
        self.ingest
            .as_ref()
            .map(braid_rpc::ingest::IngestServer::addr)
    }

    /// The faucet's address, if this node has a faucet keypair.
    pub fn faucet(&self) -> Option<Pubkey> {
        self.faucet
    }

    /// The pipeline's shared state: slot, transaction count, accounts.
    pub fn shared(&self) -> &Arc<NodeState> {
        &self.shared
    }

    /// Stops serving, executes what was already submitted, commits the open slot and joins
    /// every thread.
    pub fn shutdown(mut self) -> Result<(), NodeError> {
        self.workers.stop();
        if let Some(mut ingest) = self.ingest.take() {
            ingest.stop();
        }
        // A validator stops first: its engine, then its bank; nothing uncommitted is lost,
        // since only decided slots were ever committed.
        let mut result = Ok(());
        if let Some(running) = self.consensus.take()
            && let Some(error) = running.runtime.block_on(running.validator.stop())
        {
            result = Err(NodeError::Consensus(error));
        }
        let result = match self.state.take().map(Arc::try_unwrap) {
            Some(Ok(state)) => match state.into_ingress() {
                Ingress::Pipeline(pipeline) => {
                    result.and(pipeline.shutdown().map_err(NodeError::from))
                }
                Ingress::Consensus { .. } => result,
            },
            // Only the event thread can still hold the state, and it holds it until the
            // pipeline stops, so this does not happen; the pipeline then stops on drop.
            Some(Err(_)) | None => result,
        };
        if let Some(thread) = self.events_thread.take() {
            let _ = thread.join();
        }
        // Ends once the event thread, its only sender, has.
        if let Some(thread) = self.pubsub_thread.take() {
            let _ = thread.join();
        }
        result
    }
}

/// Events a validator queues for the event thread.
const VALIDATOR_EVENTS_QUEUED_MAX: usize = 65_536;
/// How often a validator's peers exchange their heights for catching up.
const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Opens the bank on `dir` and starts a validator on it. It reports its decided slots as
/// the pipeline reports its own ([`braid_consensus::Reports::Events`]), so statuses, blocks
/// and subscriptions work unchanged.
fn start_validator(
    dir: &Path,
    genesis: Option<&Genesis>,
    executor: Arc<Executor>,
    setup: &ConsensusSetup,
) -> Result<
    (
        Ingress,
        crossbeam_channel::Receiver<braid_interfaces::ExecutionEvent>,
        RunningValidator,
    ),
    NodeError,
> {
    use braid_interfaces::SubmitError;
    let validators = braid_consensus::genesis::validator_set_of(&setup.genesis)?;
    let (mut bank, pending) = braid_ledger::Bank::open(dir, genesis, executor)?;
    if !pending.is_empty() {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(braid_banking_stage::scheduler::THREADS_MAX);
        let engine = braid_banking_stage::block_executor::BlockExecutor::new(threads)
            .map_err(braid_banking_stage::pipeline::PipelineError::from)?;
        for block in &pending {
            engine.replay_block(&mut bank, block)?;
        }
    }
    let shared = NodeState::for_bank(&bank);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("braid-engine")
        .enable_all()
        .build()
        .map_err(NodeError::Spawn)?;
    let seed: [u8; 32] = setup.identity.to_bytes()[..32]
        .try_into()
        .expect("a keypair's first 32 bytes are its seed");
    let config = braid_consensus::ValidatorConfig {
        moniker: setup.identity.pubkey().to_string(),
        home: dir.join("consensus"),
        listen: setup.p2p,
        peers: setup.peers.clone(),
        timeouts: braid_consensus::ValidatorConfig::local_timeouts(),
        sync_interval: SYNC_INTERVAL,
        slot_interval: SLOT_DURATION_DEFAULT,
        part_transactions: braid_consensus::stream::PART_TRANSACTIONS_DEFAULT,
        fault: braid_consensus::Fault::None,
    };
    let (events_tx, events_rx) = crossbeam_channel::bounded(VALIDATOR_EVENTS_QUEUED_MAX);
    let validator = runtime.block_on(braid_consensus::Validator::start_reporting(
        config,
        braid_consensus::PrivateKey::from_seed(&seed),
        validators,
        bank,
        Arc::clone(&shared),
        events_tx,
    ))?;
    let submitter = validator.submitter();
    if let Some(forwarder) = start_forwarder(&setup.peer_rpc)? {
        submitter.set_forwarder(Box::new(move |wire| forwarder.forward(wire)));
    }
    let ingress = Ingress::Consensus {
        shared,
        submit: Box::new(move |wire, forward| {
            // Forwarded only once this validator's pool verified and took it: what cannot
            // land (a bad signature, a payer that cannot pay) goes no further.
            let submitted = if forward {
                submitter.submit_and_forward(wire)
            } else {
                submitter.submit(wire)
            };
            submitted.map_err(|error| match error {
                // A payer with its share of the pool waits as a full pool does.
                braid_consensus::SubmitError::PoolFull
                | braid_consensus::SubmitError::PayerFull(_) => SubmitError::Busy,
                braid_consensus::SubmitError::Stopped => SubmitError::Stopped,
                braid_consensus::SubmitError::Invalid(error) => SubmitError::Refused(error),
                braid_consensus::SubmitError::CannotPay { .. } => {
                    SubmitError::Refused(braid_runtime::TransactionError::InsufficientFundsForFee)
                }
                braid_consensus::SubmitError::TooCostly(_) => SubmitError::Refused(
                    braid_runtime::TransactionError::WouldExceedMaxBlockCostLimit,
                ),
            })
        }),
    };
    Ok((ingress, events_rx, RunningValidator { runtime, validator }))
}

/// Transactions queued for forwarding to one other validator; more are not forwarded to it
/// (it gets them when this one leads).
const FORWARD_QUEUED_MAX: usize = 16_384;

/// Hands each transaction it is given to every validator in `peers` (their JSON-RPC URLs),
/// marked not to be forwarded again: one thread and one bounded queue per peer, so a slow
/// or dead peer delays only its own, and what queued while a request was out goes in one
/// JSON-RPC batch within the server's limits. `None` without peers. The threads end when
/// the returned forwarder is dropped.
fn start_forwarder(peers: &[String]) -> Result<Option<Forwarder>, NodeError> {
    if peers.is_empty() {
        return Ok(None);
    }
    let mut queues = Vec::with_capacity(peers.len());
    for (index, url) in peers.iter().enumerate() {
        let client = braid_rpc::client::RpcClient::new(url.clone());
        let (sender, receiver) = crossbeam_channel::bounded::<Vec<u8>>(FORWARD_QUEUED_MAX);
        std::thread::Builder::new()
            .name(format!("braid-forward-{index}"))
            .spawn(move || forward_loop(&client, &receiver))
            .map_err(NodeError::Spawn)?;
        queues.push(sender);
    }
    Ok(Some(Forwarder(queues)))
}

/// The per-peer queues of [`start_forwarder`].
struct Forwarder(Vec<crossbeam_channel::Sender<Vec<u8>>>);

impl Forwarder {
    /// Queues `wire` for every peer whose queue has room.
    fn forward(&self, wire: &[u8]) {
        for queue in &self.0 {
            let _ = queue.try_send(wire.to_vec());
        }
    }
}

/// Most calls, and request bytes, in one forwarded batch: the RPC server's limits.
const FORWARD_BATCH_CALLS_MAX: usize = braid_rpc::server::BATCH_REQUESTS_MAX as usize;
const FORWARD_BATCH_BYTES_MAX: usize = braid_rpc::REQUEST_BODY_BYTES_MAX as usize;

/// One peer's forwarding thread: waits for a transaction, takes what else is queued within
/// a batch's limits, and sends them in one request.
fn forward_loop(
    client: &braid_rpc::client::RpcClient,
    queue: &crossbeam_channel::Receiver<Vec<u8>>,
) {
    let mut next = None;
    loop {
        let Some(first) = next.take().or_else(|| queue.recv().ok()) else {
            return;
        };
        let mut bytes =
            braid_rpc::client::RpcClient::send_wire_call_bytes_max(first.len()).saturating_add(2);
        let mut batch = vec![first];
        while batch.len() < FORWARD_BATCH_CALLS_MAX {
            let Ok(wire) = queue.try_recv() else { break };
            let call = braid_rpc::client::RpcClient::send_wire_call_bytes_max(wire.len());
            if bytes.saturating_add(call) > FORWARD_BATCH_BYTES_MAX {
                next = Some(wire);
                break;
            }
            bytes = bytes.saturating_add(call);
            batch.push(wire);
        }
        // A validator that is down or refuses some changes nothing here.
        if let Err(error) = client.forward_batch(&batch) {
            tracing::debug!(url = client.url(), %error, transactions = batch.len(), "forwarding");
        }
    }
}

/// Writes `keypair` to `path` so that a crash leaves either no file or the whole one:
/// written aside, renamed into place, and the directory synced.
fn write_keypair_durably(keypair: &Keypair, path: &Path) -> Result<(), KeypairError> {
    let temp = path.with_extension("json.tmp");
    write_keypair_file(keypair, &temp)?;
    let io = |source| KeypairError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::rename(&temp, path).map_err(io)?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io)
}

/// The genesis of a new node: the funded faucet and one executable account per program,
/// requiring rent exemption as Solana does.
pub fn genesis_for(
    programs: &ProgramRegistry,
    faucet: &Pubkey,
    faucet_lamports: u64,
) -> Result<Genesis, GenesisError> {
    let mut accounts = vec![(
        *faucet,
        Account::new(faucet_lamports, 0, &SYSTEM_PROGRAM_ID),
    )];
    accounts.extend(programs.program_accounts());
    let slot_ms = u64::try_from(SLOT_DURATION_DEFAULT.as_millis()).unwrap_or(u64::MAX);
    Ok(Genesis::new(slot_ms, accounts)?.with_rent_exemption(true))
}

/// The files of a network of validators, as [`create_network`] writes them.
#[derive(Debug, Clone)]
pub struct NetworkFiles {
    /// The genesis every validator starts from.
    pub genesis: PathBuf,
    /// The faucet's keypair.
    pub faucet: PathBuf,
    /// Each validator's identity keypair, in index order.
    pub validators: Vec<PathBuf>,
}

/// Most validators [`create_network`] makes.
pub const NETWORK_VALIDATORS_MAX: usize = braid_consensus::genesis::VALIDATORS_MAX;

/// The identity keypair file of validator `index` in a network directory.
pub fn validator_identity_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("validator-{index}.json"))
}

/// Writes a new network of `validators` validators into `dir`: its genesis (the funded
/// faucet, one executable account per program, the validator set with equal stakes, rent
/// rules as a single node's), the faucet keypair and one identity keypair per validator.
/// Refuses a directory that already holds a genesis.
pub fn create_network(
    dir: &Path,
    validators: usize,
    programs: &ProgramRegistry,
    faucet_lamports: u64,
) -> Result<NetworkFiles, NodeError> {
    if validators == 0 || validators > NETWORK_VALIDATORS_MAX {
        return Err(NodeError::Consensus(
            braid_consensus::ConsensusError::InvalidValidatorSet,
        ));
    }
    let genesis_path = dir.join(GENESIS_FILE_NAME);
    if genesis_path.exists() {
        return Err(NodeError::Io {
            path: genesis_path,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a genesis is already there",
            ),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| NodeError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let faucet = Keypair::new();
    let faucet_path = dir.join(FAUCET_FILE_NAME);
    write_keypair_durably(&faucet, &faucet_path)?;
    let mut identities = Vec::with_capacity(validators);
    let mut members = Vec::with_capacity(validators);
    for index in 0..validators {
        let identity = Keypair::new();
        let path = validator_identity_file(dir, index);
        write_keypair_durably(&identity, &path).map_err(NodeError::Identity)?;
        members.push(braid_consensus::context::Validator::new(
            braid_consensus::PublicKey(identity.pubkey().to_bytes()),
            1,
        ));
        identities.push(path);
    }
    let set = braid_consensus::ValidatorSet::new(members)
        .ok_or(braid_consensus::ConsensusError::InvalidValidatorSet)?;
    let base = genesis_for(programs, &faucet.pubkey(), faucet_lamports)?;
    let mut accounts = base.accounts;
    accounts.push(braid_consensus::genesis::validator_set_account(&set));
    Genesis::new(base.slot_ms, accounts)?
        .with_rent_exemption(base.rent_exemption)
        .write(dir)?;
    Ok(NetworkFiles {
        genesis: genesis_path,
        faucet: faucet_path,
        validators: identities,
    })
}

/// Wipes a ledger directory, refusing anything that does not look like one and a ledger
/// another node has open.
fn reset_ledger_dir(dir: &Path) -> Result<(), NodeError> {
    let io = |source| NodeError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io(source)),
    };
    let empty = entries.next().is_none();
    if empty {
        return Ok(());
    }
    if !dir.join(GENESIS_FILE_NAME).exists() {
        return Err(NodeError::NotALedger(dir.to_owned()));
    }
    // Held while the directory goes, so a running node's ledger is never deleted.
    let _lock = braid_ledger::LedgerLock::acquire(dir)?;
    std::fs::remove_dir_all(dir).map_err(io)
}
