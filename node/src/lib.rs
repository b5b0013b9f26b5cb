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
    Pipeline, PipelineConfig, PipelineError, SLOT_DURATION_DEFAULT, Shared,
};
use braid_ledger::genesis::{GENESIS_FILE_NAME, Genesis, GenesisError};
use braid_primitives::LAMPORTS_PER_SOL;
use braid_rpc::blocks::BlockIndex;
use braid_rpc::pubsub::PubSub;
use braid_rpc::status::{STATUS_CAPACITY_DEFAULT, StatusTracker};
use braid_rpc::{FaucetLimits, RpcLimits, RpcServer, RpcState, RpcWorkers, ServeError};

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
}

/// A running node. [`Node::shutdown`] stops it cleanly (committing the open slot); dropping
/// it stops serving but leaves the open slot uncommitted, as a crash would.
pub struct Node {
    state: Option<Arc<RpcState>>,
    shared: Arc<Shared>,
    rpc_addr: SocketAddr,
    pubsub_addr: SocketAddr,
    faucet: Option<Pubkey>,
    workers: RpcWorkers,
    events_thread: Option<JoinHandle<()>>,
    pubsub_thread: Option<JoinHandle<()>>,
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

        let faucet_path = dir.join(FAUCET_FILE_NAME);
        let existing = Genesis::read(dir)?;
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

        // A new ledger requires rent exemption, as Solana does; an existing one keeps the
        // rules it was created with.
        let rent_exemption = existing_rules.unwrap_or(true);
        let executor = Arc::new(Executor::new(
            programs,
            ExecutorConfig::default().with_rent_exemption(rent_exemption),
        ));
        let pipeline = Pipeline::start(
            dir,
            genesis.as_ref(),
            Arc::clone(&executor),
            config.pipeline,
        )?;
        let shared = Arc::clone(pipeline.shared());
        let events = pipeline.events().clone();
        let tracker = Arc::new(Mutex::new(StatusTracker::new(
            config.status_capacity,
            shared.latest_blockhash(),
        )));
        let faucet_pubkey = faucet.as_ref().map(Keypair::pubkey);
        let identity_path = dir.join(IDENTITY_FILE_NAME);
        let identity = if identity_path.exists() {
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
                pipeline,
                executor,
                Arc::clone(&tracker),
                faucet,
                config.faucet_limits,
                genesis_hash,
                identity.pubkey(),
            )
            .with_blocks(block_index),
        );
        let blocks = state.blocks();
        let samples = state.samples();
        // Subscriptions are matched on a thread of their own, behind a bounded queue: a
        // slow match (many subscriptions, large accounts) never holds up the event thread,
        // and so never the pipeline. If the queue fills, every subscription is ended.
        let (pubsub_tx, pubsub_rx) = std::sync::mpsc::sync_channel::<
            braid_banking_stage::pipeline::Event,
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
                        (
                            braid_banking_stage::pipeline::Event::SlotCommitted(commit),
                            Some(reader),
                        ) => commit.ledger_offset.and_then(|offset| {
                            reader
                                .read(offset)
                                .inspect_err(|error| {
                                    tracing::warn!(%error, "reading a committed block back");
                                })
                                .ok()
                        }),
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
        Ok(Self {
            state: Some(state),
            shared,
            rpc_addr,
            pubsub_addr,
            faucet: faucet_pubkey,
            workers,
            events_thread: Some(events_thread),
            pubsub_thread: Some(pubsub_thread),
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

    /// The faucet's address, if this node has a faucet keypair.
    pub fn faucet(&self) -> Option<Pubkey> {
        self.faucet
    }

    /// The pipeline's shared state: slot, transaction count, accounts.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops serving, executes what was already submitted, commits the open slot and joins
    /// every thread.
    pub fn shutdown(mut self) -> Result<(), NodeError> {
        self.workers.stop();
        let result = match self.state.take().map(Arc::try_unwrap) {
            Some(Ok(state)) => state.into_pipeline().shutdown().map_err(NodeError::from),
            // Only the event thread can still hold the state, and it holds it until the
            // pipeline stops, so this does not happen; the pipeline then stops on drop.
            Some(Err(_)) | None => Ok(()),
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
