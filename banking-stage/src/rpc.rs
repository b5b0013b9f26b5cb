//! A local node: the pipeline on a ledger directory, served over JSON-RPC 2.0 on HTTP, and a
//! blocking client for it.
//!
//! ```text
//! HTTP POST ─► worker threads ─► sendTransaction ─► preflight ─► Pipeline::submit
//!  (tiny_http)    │                                               │
//!                 └─ reads: Shared (slot, blockhash, accounts)     ▼ events
//!                 └─ getSignatureStatuses ◄── StatusTracker ◄── event thread
//! ```
//!
//! [`Node::start`] creates the ledger on first start (a faucet keypair in
//! `faucet.json`, one executable account per registered program, the funded faucet), or
//! reopens it, in which case the pipeline replays blocks newer than the committed
//! accounts. One thread drains the pipeline's events into a bounded [`status::StatusTracker`]:
//! a transaction is `processed` once executed and `finalized` once its slot's commit is
//! durable, so a transaction reported `finalized` survives `kill -9` of the node.
//!
//! Method names and reply shapes are Solana's (see [`types`]); [`client::RpcClient`] speaks
//! the same shapes. Braid's differences: `sendTransaction` defaults to base64 (Solana's
//! default is base58; both are accepted through `{"encoding": ...}`), and transaction errors
//! are returned as readable text rather than Solana's error enum.
//!
//! Key decision: the server is `tiny_http`, a small, maintained, synchronous HTTP/1.1 server
//! with four dependencies. A node serves a handful of local clients with short requests, so
//! an async runtime would only add build time and a second threading model beside the
//! pipeline's threads and channels.

pub mod client;
mod server;
pub mod status;
pub mod types;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::{Keypair, KeypairError, read_keypair_file, write_keypair_file};
use braid_runtime::program::ProgramRegistry;
use braid_runtime::{Account, NATIVE_LOADER_ID, Pubkey, SYSTEM_PROGRAM_ID};

use crate::bank::BankError;
use crate::genesis::{GENESIS_FILE_NAME, Genesis, GenesisError};
use crate::pipeline::{Pipeline, PipelineConfig, Shared, SlotPolicy};
use server::RpcState;
use status::{STATUS_CAPACITY_DEFAULT, StatusTracker};

pub use server::{AIRDROP_LAMPORTS_MAX, REQUEST_BODY_BYTES_MAX, SIGNATURE_STATUSES_MAX};

/// The faucet keypair's file name inside a ledger directory.
pub const FAUCET_FILE_NAME: &str = "faucet.json";
/// Lamports per SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// The faucet's balance at genesis, in lamports (one billion SOL).
pub const FAUCET_LAMPORTS_DEFAULT: u64 = 1_000_000_000 * LAMPORTS_PER_SOL;
/// The default JSON-RPC port (Solana's).
pub const RPC_PORT_DEFAULT: u16 = 8899;
/// A node's slot length.
pub const NODE_SLOT_DURATION: Duration = Duration::from_millis(400);
/// Threads answering HTTP requests.
pub const RPC_WORKER_THREADS: usize = 2;

/// How to start a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The ledger directory (created if missing).
    pub ledger_dir: PathBuf,
    /// The JSON-RPC port on 127.0.0.1; 0 picks a free one (see [`Node::rpc_addr`]).
    pub rpc_port: u16,
    /// Wipe the ledger directory first. Refused if it holds files but no ledger.
    pub reset: bool,
    /// The pipeline's configuration (slots of [`NODE_SLOT_DURATION`] by default).
    pub pipeline: PipelineConfig,
    /// The faucet's balance when genesis is created, in lamports.
    pub faucet_lamports: u64,
    /// Signatures whose status the node remembers.
    pub status_capacity: usize,
}

impl NodeConfig {
    /// Defaults for a node on `ledger_dir` serving `rpc_port`.
    pub fn new(ledger_dir: impl Into<PathBuf>, rpc_port: u16) -> Self {
        Self {
            ledger_dir: ledger_dir.into(),
            rpc_port,
            reset: false,
            pipeline: PipelineConfig {
                slot: SlotPolicy::Duration(NODE_SLOT_DURATION),
                ..PipelineConfig::default()
            },
            faucet_lamports: FAUCET_LAMPORTS_DEFAULT,
            status_capacity: STATUS_CAPACITY_DEFAULT,
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
    /// The genesis could not be built or read.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The ledger could not be opened, replayed or committed.
    #[error("ledger: {0}")]
    Bank(#[from] BankError),
    /// The JSON-RPC port could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
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
    faucet: Option<Pubkey>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    events_thread: Option<JoinHandle<()>>,
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
        let addr = format!("127.0.0.1:{}", config.rpc_port);
        let http = tiny_http::Server::http(&addr).map_err(|error| NodeError::Bind {
            addr: addr.clone(),
            reason: error.to_string(),
        })?;
        let rpc_addr = http.server_addr().to_ip().ok_or_else(|| NodeError::Bind {
            addr: addr.clone(),
            reason: "not an IP listener".into(),
        })?;

        let faucet_path = dir.join(FAUCET_FILE_NAME);
        let existing = Genesis::read(dir)?;
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
                    write_keypair_file(&faucet, &faucet_path)?;
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

        let executor = Arc::new(Executor::new(
            programs,
            ExecutorConfig { log_messages: true },
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
        let state = Arc::new(RpcState {
            pipeline,
            executor,
            tracker: Arc::clone(&tracker),
            faucet,
            airdrop_nonce: AtomicU64::new(airdrop_nonce_seed()),
        });

        let mut node = Self {
            state: Some(Arc::clone(&state)),
            shared,
            rpc_addr,
            faucet: faucet_pubkey,
            stop: Arc::new(AtomicBool::new(false)),
            workers: Vec::new(),
            events_thread: None,
        };
        node.events_thread = Some(
            std::thread::Builder::new()
                .name("braid-rpc-events".into())
                // Ends when the pipeline's threads, the senders, are gone.
                .spawn(move || {
                    for event in events.iter() {
                        tracker
                            .lock()
                            .unwrap_or_else(|poison| poison.into_inner())
                            .apply(&event);
                    }
                })
                .map_err(NodeError::Spawn)?,
        );
        let http = Arc::new(http);
        for index in 0..RPC_WORKER_THREADS {
            let (http, state, stop) = (
                Arc::clone(&http),
                Arc::clone(&state),
                Arc::clone(&node.stop),
            );
            let worker = std::thread::Builder::new()
                .name(format!("braid-rpc-{index}"))
                .spawn(move || server::worker_loop(&http, &state, &stop))
                .map_err(NodeError::Spawn)?;
            node.workers.push(worker);
        }
        Ok(node)
    }

    /// The address JSON-RPC is served on.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    /// The JSON-RPC URL, e.g. `http://127.0.0.1:8899`.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// The faucet's address, if this node has a faucet keypair.
    pub fn faucet(&self) -> Option<Pubkey> {
        self.faucet
    }

    /// The pipeline's shared state: slot, transaction count, accounts.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn stop_serving(&mut self) {
        self.stop.store(true, Ordering::Release);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    /// Stops serving, executes what was already submitted, commits the open slot and joins
    /// every thread.
    pub fn shutdown(mut self) -> Result<(), NodeError> {
        self.stop_serving();
        let result = match self.state.take().map(Arc::try_unwrap) {
            Some(Ok(state)) => state.pipeline.shutdown().map_err(NodeError::from),
            // Only the event thread can still hold the state, and it holds it until the
            // pipeline stops, so this does not happen; the pipeline then stops on drop.
            Some(Err(_)) | None => Ok(()),
        };
        if let Some(thread) = self.events_thread.take() {
            let _ = thread.join();
        }
        result
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop_serving();
    }
}

/// The genesis of a new node: the funded faucet and one executable account per program.
pub fn genesis_for(
    programs: &ProgramRegistry,
    faucet: &Pubkey,
    faucet_lamports: u64,
) -> Result<Genesis, GenesisError> {
    let mut accounts = vec![(
        *faucet,
        Account::new(faucet_lamports, 0, &SYSTEM_PROGRAM_ID),
    )];
    for id in programs.ids() {
        let name = programs
            .get(&id)
            .map_or("program", |program| program.name());
        let account = Account {
            lamports: 1,
            owner: NATIVE_LOADER_ID,
            executable: true,
            data: name.as_bytes().to_vec(),
        };
        accounts.push((id, account));
    }
    let slot_ms = u64::try_from(NODE_SLOT_DURATION.as_millis()).unwrap_or(u64::MAX);
    Genesis::new(slot_ms, accounts)
}

/// Wipes a ledger directory, refusing anything that does not look like one.
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
    if !empty && !dir.join(GENESIS_FILE_NAME).exists() {
        return Err(NodeError::NotALedger(dir.to_owned()));
    }
    std::fs::remove_dir_all(dir).map_err(io)
}

/// A start value for the faucet's nonce that differs between runs, so an airdrop after a
/// restart is not mistaken for a replay of one before it.
fn airdrop_nonce_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
        })
}
