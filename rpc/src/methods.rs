//! The JSON-RPC methods: Solana's names, parameters and reply shapes, answered from the
//! pipeline's shared state. The transport ([`crate::server`]) frames requests and calls
//! [`call`]; nothing here knows about HTTP or WebSocket.
//!
//! Every method is short and never waits on the pipeline (sendTransaction queues and
//! returns; clients poll getSignatureStatuses or subscribe), so a couple of runtime threads
//! serve any number of clients.
//!
//! Key decision: sendTransaction runs Solana's preflight synchronously (parse, verify
//! signatures, check the blockhash and replay as far as this node has seen, simulate) so
//! that the common refusals (no funds, bad signature, stale blockhash) come back as an error
//! on the request itself; what it cannot see (a race with another copy) is refused later by
//! the bank and only shows as a status that never appears.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_ledger::AccountsView;
use braid_runtime::executor::Executor;
use braid_runtime::invoke_context::Clock;
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Account, Hash, Pubkey, Signature, Transaction};
use serde_json::{Value, json};

use crate::status::{BlockhashValidity, StatusTracker};
use crate::types::{
    RpcAccount, RpcBlockhash, RpcContext, RpcErrorObject, RpcResponse, RpcSimulation, codes,
};
use braid_banking_stage::pipeline::Pipeline;
use braid_interfaces::SubmitError;

/// Most signatures one getSignatureStatuses call may ask about (Solana's limit).
pub const SIGNATURE_STATUSES_MAX: usize = 256;
/// Lamports per SOL.
const LAMPORTS_PER_SOL: u64 = braid_primitives::LAMPORTS_PER_SOL;
/// Largest airdrop by default, in lamports (1,000 SOL).
pub const AIRDROP_LAMPORTS_MAX: u64 = 1_000 * LAMPORTS_PER_SOL;
/// Most lamports all airdrops together hand out per window by default (10,000 SOL).
pub const FAUCET_WINDOW_LAMPORTS_MAX: u64 = 10_000 * LAMPORTS_PER_SOL;
/// The faucet's rate-limit window by default.
pub const FAUCET_WINDOW: Duration = Duration::from_secs(10);

/// What the faucet hands out (like solana-faucet's per-request and per-time caps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaucetLimits {
    /// Most lamports one airdrop may ask for.
    pub request_max_lamports: u64,
    /// Most lamports all airdrops together may hand out per `window`.
    pub window_max_lamports: u64,
    /// The rate-limit window.
    pub window: Duration,
}

impl Default for FaucetLimits {
    fn default() -> Self {
        Self {
            request_max_lamports: AIRDROP_LAMPORTS_MAX,
            window_max_lamports: FAUCET_WINDOW_LAMPORTS_MAX,
            window: FAUCET_WINDOW,
        }
    }
}

/// The faucet: its keypair, its limits and what it handed out in the current window.
struct Faucet {
    keypair: Keypair,
    limits: FaucetLimits,
    /// Grants inside the window, oldest first.
    granted: Mutex<Grants>,
}

/// The faucet's grants inside its window, with their running sum.
#[derive(Default)]
struct Grants {
    /// (when, lamports), oldest first.
    recent: VecDeque<(std::time::Instant, u64)>,
    /// Sum of `recent`'s lamports.
    total: u64,
}

impl Faucet {
    /// Records a grant of `lamports` if the window has room for it.
    fn reserve(&self, lamports: u64) -> bool {
        let now = std::time::Instant::now();
        let mut granted = self
            .granted
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        while let Some(&(at, old)) = granted.recent.front()
            && now.saturating_duration_since(at) >= self.limits.window
        {
            granted.recent.pop_front();
            granted.total = granted.total.saturating_sub(old);
        }
        if granted.total.saturating_add(lamports) > self.limits.window_max_lamports {
            return false;
        }
        granted.recent.push_back((now, lamports));
        granted.total = granted.total.saturating_add(lamports);
        true
    }

    /// Gives back the newest reservation of `lamports`: its airdrop was not sent.
    fn release(&self, lamports: u64) {
        let mut granted = self
            .granted
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(position) = granted
            .recent
            .iter()
            .rposition(|(_, granted)| *granted == lamports)
        {
            granted.recent.remove(position);
            granted.total = granted.total.saturating_sub(lamports);
        }
    }
}
/// Longest base58 text of a transaction that fits a packet (Solana's limit), in characters.
pub const BASE58_TRANSACTION_CHARS_MAX: usize = 1_683;
/// Longest base64 text of a transaction that fits a packet (Solana's limit), in characters.
pub const BASE64_TRANSACTION_CHARS_MAX: usize = 1_644;
/// Largest account data `getAccountInfo` encodes as base58 (Solana's limit), in bytes.
pub const BASE58_ACCOUNT_DATA_BYTES_MAX: usize = 128;
/// Most accounts one getMultipleAccounts call may ask for (Solana's limit).
pub const MULTIPLE_ACCOUNTS_MAX: usize = 100;
/// Most filters one getProgramAccounts call may carry (Solana's limit).
pub const PROGRAM_ACCOUNTS_FILTERS_MAX: usize = 4;
/// Largest reply of accounts, in bytes of encoded data and per-account overhead (the
/// transport's default reply limit; counted while the reply is built, so a huge one never
/// is).
pub const REPLY_BYTES_MAX: usize = crate::server::RESPONSE_BODY_BYTES_MAX as usize;
/// Account scans (getProgramAccounts, getSupply, the token queries) allowed at once: each
/// walks every account, and they run on the RPC runtime's blocking pool.
pub const SCANS_MAX: usize = 2;
/// The methods that scan every account.
pub const SCANNING_METHODS: &[&str] = &[
    "getProgramAccounts",
    "getLargestAccounts",
    "getSupply",
    "getTokenAccountsByOwner",
    "getTokenAccountsByDelegate",
    "getTokenLargestAccounts",
];
/// JSON bytes of one account in a reply beyond its encoded data (keys, numbers, owner).
const ACCOUNT_REPLY_OVERHEAD_BYTES: usize = 200;
/// Longest memcmp filter, in bytes (Solana's limit).
pub const MEMCMP_BYTES_MAX: usize = 128;
/// Slots per epoch (Solana's default schedule, without warm-up): Braid has no epochs of its
/// own, so it reports one long epoch shaped like Solana's.
pub const SLOTS_PER_EPOCH: u64 = 432_000;
pub use braid_runtime::rent::{
    ACCOUNT_STORAGE_OVERHEAD_BYTES, RENT_EXEMPTION_YEARS, RENT_LAMPORTS_PER_BYTE_YEAR,
};

/// The methods this node answers, by Solana's names, and Braid's own.
pub const METHODS: &[&str] = &[
    "getHealth",
    "getVersion",
    "getSlot",
    "getBlockHeight",
    "getTransactionCount",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getGenesisHash",
    "getIdentity",
    "getEpochInfo",
    "getEpochSchedule",
    "getFirstAvailableBlock",
    "getBlock",
    "getBlockTime",
    "getTransaction",
    "getSignaturesForAddress",
    "getRecentPerformanceSamples",
    "getBlocks",
    "getBlocksWithLimit",
    "getMinimumBalanceForRentExemption",
    "getBalance",
    "getAccountInfo",
    "getMultipleAccounts",
    "getProgramAccounts",
    "getLargestAccounts",
    "getSupply",
    "getFeeForMessage",
    "getRecentPrioritizationFees",
    "getTokenAccountBalance",
    "getTokenSupply",
    "getTokenAccountsByOwner",
    "getTokenAccountsByDelegate",
    "getTokenLargestAccounts",
    "getSignatureStatuses",
    "sendTransaction",
    "simulateTransaction",
    "requestAirdrop",
    "getClusterNodes",
    // Braid's own.
    "braidGetThreadCpu",
];

/// Solana's -32004 for a slot whose block this node does not hold.
fn block_not_available(slot: u64) -> RpcError {
    RpcError::new(
        codes::BLOCK_NOT_AVAILABLE,
        format!("Block not available for slot {slot}"),
    )
}

/// getBlock, with `transactionDetails` `full` (the default), `accounts`, `signatures` or
/// `none`.
fn get_block(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    use crate::history::Details;
    let slot: u64 = params.required(0, "slot")?;
    let config = params.config(1)?;
    crate::history::check_commitment(&config)?;
    let details = match config.transaction_details.as_deref().unwrap_or("full") {
        "full" => Some(Details::Full),
        "accounts" => Some(Details::Accounts),
        "signatures" | "none" => None,
        other => {
            return Err(RpcError::invalid_params(format!(
                "Invalid param: unknown transactionDetails {other:?}: use \"full\", \
                 \"accounts\", \"signatures\" or \"none\""
            )));
        }
    };
    let (block, transactions) = match details {
        Some(details) => {
            let (summary, block) = state
                .read_block(slot)?
                .ok_or_else(|| block_not_available(slot))?;
            let transactions = crate::history::block_transactions(&block, details, &config, state)?;
            (summary, Some(transactions))
        }
        None => (
            state
                .block_index()
                .get(slot)
                .ok_or_else(|| block_not_available(slot))?,
            None,
        ),
    };
    let mut value = json!({
        "blockhash": block.bank_hash.to_string(),
        "previousBlockhash": block.parent_bank_hash.to_string(),
        "parentSlot": slot.saturating_sub(1),
        "blockHeight": slot,
        "blockTime": block.block_time,
        "rewards": [],
    });
    if let Some(transactions) = transactions {
        value["transactions"] = transactions;
    } else if config.transaction_details.as_deref() == Some("signatures") {
        value["signatures"] = json!(
            block
                .signatures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
    }
    Ok(value)
}

/// Solana's minimum balance for an account of `data_bytes` to be rent-exempt.
pub fn minimum_balance_for_rent_exemption(data_bytes: u64) -> u64 {
    braid_runtime::rent::minimum_balance(data_bytes)
}
/// Compute-unit limits the faucet varies between airdrops, so two identical airdrops in
/// one slot are different messages and neither is refused as a replay.
const AIRDROP_NONCE_UNITS_SPAN: u64 = 400_000;
const AIRDROP_COMPUTE_UNITS_BASE: u64 = 1_000_000;

/// Where a node's transactions go, and whose state its reads see.
pub enum Ingress {
    /// The node's own pipeline: it orders and commits slots by itself.
    Pipeline(Pipeline),
    /// A validator that orders transactions with its peers (`braid-consensus`): `submit`
    /// hands a transaction to it (and, if its second argument says so, on to the other
    /// validators), `shared` is what it reports each decided slot to.
    Consensus {
        /// The state reads see.
        shared: Arc<braid_interfaces::NodeState>,
        /// Hands a transaction over; `true`: forward it to the other validators too.
        submit: Box<dyn Fn(Vec<u8>, bool) -> Result<(), SubmitError> + Send + Sync>,
    },
}

impl Ingress {
    fn shared(&self) -> &Arc<braid_interfaces::NodeState> {
        match self {
            Ingress::Pipeline(pipeline) => pipeline.shared(),
            Ingress::Consensus { shared, .. } => shared,
        }
    }

    fn submit(&self, wire: Vec<u8>, forward: bool) -> Result<(), SubmitError> {
        match self {
            Ingress::Pipeline(pipeline) => pipeline.submit(wire),
            Ingress::Consensus { shared, submit } => {
                if shared.health().is_err() {
                    return Err(SubmitError::Failed);
                }
                submit(wire, forward)
            }
        }
    }
}

impl From<Pipeline> for Ingress {
    fn from(pipeline: Pipeline) -> Self {
        Ingress::Pipeline(pipeline)
    }
}

/// Everything a request handler reads or touches.
pub struct RpcState {
    ingress: Ingress,
    executor: Arc<Executor>,
    /// NodeState with whoever applies the pipeline's events, which must not keep the pipeline
    /// alive.
    tracker: Arc<Mutex<StatusTracker>>,
    faucet: Option<Faucet>,
    airdrop_nonce: AtomicU64,
    genesis_hash: Hash,
    /// The node's identity (getIdentity).
    identity: Pubkey,
    /// Account scans running now.
    scans: std::sync::atomic::AtomicUsize,
    /// Transactions and slots per minute.
    samples: Arc<Mutex<crate::samples::PerformanceSamples>>,
    /// The newest committed blocks.
    blocks: Arc<Mutex<crate::blocks::BlockIndex>>,
    /// Where this node serves JSON-RPC and binary ingestion (getClusterNodes).
    addresses: NodeAddresses,
}

/// The addresses a node serves on, as getClusterNodes reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeAddresses {
    /// JSON-RPC.
    pub rpc: Option<std::net::SocketAddr>,
    /// The binary ingestion port ([`crate::ingest`]), Solana's `tpu`.
    pub ingest: Option<std::net::SocketAddr>,
}

/// One running scan; released when dropped.
pub(crate) struct ScanPermit<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for ScanPermit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A reply's encoded size, counted while it is built, so that a reply past the transport's
/// limit is refused before it fills memory.
pub(crate) struct ReplyBudget {
    bytes: usize,
}

impl ReplyBudget {
    pub(crate) fn new() -> Self {
        Self { bytes: 0 }
    }

    /// Counts one account of `data_bytes` (before encoding); `Err` once past the limit.
    pub(crate) fn add_account(&mut self, data_bytes: usize) -> Result<(), RpcError> {
        self.bytes = self
            .bytes
            .saturating_add(data_bytes.saturating_mul(4) / 3)
            .saturating_add(ACCOUNT_REPLY_OVERHEAD_BYTES);
        if self.bytes > REPLY_BYTES_MAX {
            return Err(RpcError::new(
                codes::SCAN_ERROR,
                format!(
                    "the reply would exceed {REPLY_BYTES_MAX} bytes: ask for fewer accounts, \
                     or narrow it with filters or dataSlice"
                ),
            ));
        }
        Ok(())
    }
}
impl RpcState {
    /// The state for serving `pipeline` (or a consensus validator): `executor` runs
    /// preflight simulations, `tracker` answers getSignatureStatuses, and `faucet`, if any,
    /// signs airdrops within `limits`.
    pub fn new(
        pipeline: impl Into<Ingress>,
        executor: Arc<Executor>,
        tracker: Arc<Mutex<StatusTracker>>,
        faucet: Option<Keypair>,
        limits: FaucetLimits,
        genesis_hash: Hash,
        identity: Pubkey,
    ) -> Self {
        Self {
            ingress: pipeline.into(),
            executor,
            tracker,
            faucet: faucet.map(|keypair| Faucet {
                keypair,
                limits,
                granted: Mutex::new(Grants::default()),
            }),
            airdrop_nonce: AtomicU64::new(airdrop_nonce_seed()),
            genesis_hash,
            identity,
            addresses: NodeAddresses::default(),
            scans: std::sync::atomic::AtomicUsize::new(0),
            blocks: Arc::new(Mutex::new(crate::blocks::BlockIndex::new(genesis_hash))),
            samples: Arc::new(Mutex::new(crate::samples::PerformanceSamples::new(
                crate::samples::SAMPLE_PERIOD,
                std::time::Instant::now(),
            ))),
        }
    }

    /// Answers the block methods from `blocks` (seeded from the ledger) instead of an empty
    /// index.
    pub fn with_blocks(mut self, blocks: crate::blocks::BlockIndex) -> Self {
        self.blocks = Arc::new(Mutex::new(blocks));
        self
    }

    /// Reports `addresses` in getClusterNodes.
    pub fn with_addresses(mut self, addresses: NodeAddresses) -> Self {
        self.addresses = addresses;
        self
    }

    /// Hands a transaction to the node as `sendTransaction` with `skipPreflight` does (and a
    /// validator forwards it to its peers): what the binary ingestion port calls.
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.ingress.submit(wire, true)
    }

    /// The performance samples, for whoever applies the pipeline's events.
    pub fn samples(&self) -> Arc<Mutex<crate::samples::PerformanceSamples>> {
        Arc::clone(&self.samples)
    }

    /// The block index, for whoever feeds it the pipeline's committed slots.
    pub fn blocks(&self) -> Arc<Mutex<crate::blocks::BlockIndex>> {
        Arc::clone(&self.blocks)
    }

    pub(crate) fn block_index(&self) -> MutexGuard<'_, crate::blocks::BlockIndex> {
        // Entries are inserted whole: a panic elsewhere leaves it consistent.
        self.blocks
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The pipeline's shared state.
    pub fn shared(&self) -> &Arc<braid_interfaces::NodeState> {
        self.ingress.shared()
    }

    /// An account as reads should see it: with the writes executed since the last commit
    /// while the pipeline runs; once it has stopped on a failure, or on a validator, only
    /// what was committed (the executed writes will never be, and a restart recovers the
    /// committed state).
    pub(crate) fn account(&self, key: &Pubkey) -> Option<Account> {
        let db = self.shared().accounts_db();
        // A validator's open slot only ever holds a block it is trying out, which may never
        // be decided: its reads see committed state alone.
        let validator = matches!(self.ingress, Ingress::Consensus { .. });
        let stored = if self.shared().health().is_ok() && !validator {
            db.get(key)
        } else {
            db.get_committed(key).ok().flatten()
        };
        stored.or_else(|| {
            let slot_ms =
                u64::try_from(braid_banking_stage::pipeline::SLOT_DURATION_DEFAULT.as_millis())
                    .unwrap_or(u64::MAX);
            crate::sysvar::account(key, self.shared().slot(), slot_ms)
        })
    }

    /// Claims one of the [`SCANS_MAX`] scans allowed at once (a scan walks every account);
    /// an error tells the client to retry.
    pub(crate) fn scan_permit(&self) -> Result<ScanPermit<'_>, RpcError> {
        let running = self.scans.fetch_add(1, Ordering::AcqRel);
        let permit = ScanPermit(&self.scans);
        if running >= SCANS_MAX {
            return Err(RpcError::new(
                codes::NODE_BUSY,
                format!("{SCANS_MAX} account scans are already running: retry shortly"),
            ));
        }
        Ok(permit)
    }

    /// Gives the pipeline (or validator ingress) back, to shut it down once nothing serves
    /// requests any more.
    pub fn into_ingress(self) -> Ingress {
        self.ingress
    }

    pub(crate) fn tracker(&self) -> MutexGuard<'_, StatusTracker> {
        // The tracker stays consistent even if a holder panicked mid-update: entries are
        // inserted whole.
        self.tracker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn context(&self) -> RpcContext {
        RpcContext {
            slot: self.ingress.shared().slot(),
        }
    }

    fn with_context<T: serde::Serialize>(&self, value: T) -> Result<Value, RpcError> {
        to_value(&RpcResponse {
            context: self.context(),
            value,
        })
    }
}

/// A JSON-RPC error on its way out.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The JSON-RPC error code ([`codes`]).
    pub code: i64,
    /// One line for a human.
    pub message: String,
    /// Details for a program (a typed transaction error, simulation logs, ...).
    pub data: Option<Value>,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_PARAMS, message)
    }

    /// The error as its JSON object.
    pub fn into_object(self) -> RpcErrorObject {
        RpcErrorObject {
            code: self.code,
            message: self.message,
            data: self.data,
        }
    }
}

/// Answers `method` with positional `params`. `Err` is the JSON-RPC error to send; a
/// method not in [`METHODS`] is Solana's "Method not found".
pub fn call(state: &RpcState, method: &str, params: Vec<Value>) -> Result<Value, RpcError> {
    dispatch(method, &Params(params), state)
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|error| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("encoding the reply: {error}"),
        )
    })
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

/// Positional parameters with typed, named access.
pub(crate) struct Params(pub(crate) Vec<Value>);

impl Params {
    pub(crate) fn required<T: serde::de::DeserializeOwned>(
        &self,
        index: usize,
        name: &str,
    ) -> Result<T, RpcError> {
        let value = self.0.get(index).ok_or_else(|| {
            RpcError::invalid_params(format!("missing parameter {index}: {name}"))
        })?;
        serde_json::from_value(value.clone()).map_err(|error| {
            RpcError::invalid_params(format!("invalid parameter {index} ({name}): {error}"))
        })
    }

    /// The optional configuration object at `index` (absent or null gives the default).
    pub(crate) fn config(&self, index: usize) -> Result<Config, RpcError> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(Config::default()),
            Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                RpcError::invalid_params(format!("invalid configuration object: {error}"))
            }),
        }
    }

    pub(crate) fn pubkey(&self, index: usize) -> Result<Pubkey, RpcError> {
        let text: String = self.required(index, "base58 public key")?;
        text.parse().map_err(|error| {
            RpcError::invalid_params(format!("invalid public key {text:?}: {error}"))
        })
    }
}

/// The configuration fields any method here understands; others are ignored, as Solana
/// ignores commitment levels it does not distinguish.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Config {
    pub(crate) encoding: Option<String>,
    #[serde(default)]
    skip_preflight: bool,
    /// sendTransaction: how often the node may pass the transaction on to a leader; 0 keeps
    /// it here (what a validator forwarding to another sends).
    max_retries: Option<u64>,
    #[serde(default)]
    sig_verify: bool,
    /// `processed`, `confirmed` or `finalized`.
    pub(crate) commitment: Option<Commitment>,
    /// Refuse to answer from state older than this slot.
    min_context_slot: Option<u64>,
    /// getProgramAccounts: every filter must match.
    #[serde(default)]
    filters: Vec<Filter>,
    /// Return only this part of each account's data.
    data_slice: Option<DataSlice>,
    /// getProgramAccounts: wrap the list in `{context, value}`.
    #[serde(default)]
    with_context: bool,
    /// enableReceivedNotification (signatureSubscribe).
    #[serde(default)]
    pub(crate) enable_received_notification: bool,
    /// getBlock: `full`, `accounts`, `signatures` or `none`.
    transaction_details: Option<String>,
    /// getTransaction, getBlock: the newest transaction version the client reads; when
    /// given, each transaction carries its `version`.
    pub(crate) max_supported_transaction_version: Option<u8>,
    /// getSignaturesForAddress: most signatures to return.
    pub(crate) limit: Option<u64>,
    /// getSignaturesForAddress: start below this signature.
    pub(crate) before: Option<String>,
    /// getSignaturesForAddress: stop above this signature.
    pub(crate) until: Option<String>,
    /// getSignatureStatuses: look past the recent statuses into the history.
    #[serde(default)]
    search_transaction_history: bool,
}

/// Solana's commitment levels. On one node, `confirmed` and `finalized` both mean "the
/// slot is durable", and `processed` means "executed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Commitment {
    /// Executed.
    Processed,
    /// Durable (one node: as final as it gets).
    Confirmed,
    /// Durable.
    Finalized,
}

/// A getProgramAccounts filter.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
enum Filter {
    /// The data is exactly this long.
    DataSize(u64),
    /// The data holds `bytes` at `offset`.
    Memcmp(Memcmp),
}

/// `{"offset": n, "bytes": "...", "encoding": "base58"|"base64"}`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Memcmp {
    offset: usize,
    bytes: String,
    encoding: Option<String>,
}

/// `{"offset": n, "length": n}`.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
struct DataSlice {
    offset: usize,
    length: usize,
}

impl Config {
    /// Solana's -32016 when the node has not reached the slot the client asks for.
    pub(crate) fn check_min_context_slot(&self, slot: u64) -> Result<(), RpcError> {
        match self.min_context_slot {
            Some(min) if min > slot => {
                let mut error = RpcError::new(
                    codes::MIN_CONTEXT_SLOT_NOT_REACHED,
                    "Minimum context slot has not been reached",
                );
                error.data = Some(json!({ "contextSlot": slot }));
                Err(error)
            }
            _ => Ok(()),
        }
    }
}

/// `braidGetThreadCpu` (Braid's own): the node's CPU time by thread group
/// ([`braid_interfaces::threads`]) and its committed transactions, so a load generator
/// turns two readings into CPU per transaction per group, for any engine.
fn thread_cpu(shared: &braid_interfaces::NodeState) -> Result<Value, RpcError> {
    let groups = braid_interfaces::threads::thread_cpu().map_err(|error| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("reading thread CPU times: {error}"),
        )
    })?;
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|group| json!({"group": group.group, "threads": group.threads, "cpuNs": group.cpu_ns}))
        .collect();
    Ok(json!({"transactionCount": shared.transaction_count(), "groups": groups}))
}

fn dispatch(method: &str, params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let shared = state.ingress.shared();
    match method {
        "getHealth" => match shared.health() {
            Ok(()) => Ok(json!("ok")),
            Err(failure) => {
                let mut error = RpcError::new(codes::NODE_UNHEALTHY, "Node is unhealthy");
                error.data =
                    Some(json!({ "reason": failure.reason, "diskFull": failure.disk_full }));
                Err(error)
            }
        },
        "getVersion" => Ok(
            json!({"solana-core": concat!("braid ", env!("CARGO_PKG_VERSION")), "feature-set": 0}),
        ),
        "getSlot" => Ok(json!(shared.slot())),
        "braidGetThreadCpu" => thread_cpu(shared),
        "getTransactionCount" => Ok(json!(shared.transaction_count())),
        "getLatestBlockhash" => {
            let value = RpcBlockhash {
                blockhash: shared.latest_blockhash().to_string(),
                last_valid_block_height: shared
                    .slot()
                    .saturating_add(braid_runtime::blockhash_queue::RECENT_BLOCKHASHES_MAX as u64),
            };
            state.with_context(value)
        }
        "getBlockHeight" => {
            params.config(0)?.check_min_context_slot(shared.slot())?;
            Ok(json!(shared.slot()))
        }
        "isBlockhashValid" => {
            let text: String = params.required(0, "base58 blockhash")?;
            let blockhash: Hash = text.parse().map_err(|error| {
                RpcError::invalid_params(format!("invalid blockhash {text:?}: {error}"))
            })?;
            let valid =
                state.tracker().blockhash_validity(&blockhash) != BlockhashValidity::Invalid;
            state.with_context(valid)
        }
        "getGenesisHash" => Ok(json!(state.genesis_hash.to_string())),
        "getIdentity" => Ok(json!({ "identity": state.identity.to_string() })),
        "getClusterNodes" => Ok(json!([{
            "pubkey": state.identity.to_string(),
            "gossip": null,
            "tpu": state.addresses.ingest.map(|addr| addr.to_string()),
            "rpc": state.addresses.rpc.map(|addr| addr.to_string()),
            "version": concat!("braid ", env!("CARGO_PKG_VERSION")),
            "featureSet": 0,
            "shredVersion": 0,
        }])),
        "getEpochInfo" => {
            let slot = shared.slot();
            Ok(json!({
                "absoluteSlot": slot,
                "blockHeight": slot,
                "epoch": slot / SLOTS_PER_EPOCH,
                "slotIndex": slot % SLOTS_PER_EPOCH,
                "slotsInEpoch": SLOTS_PER_EPOCH,
                "transactionCount": shared.transaction_count(),
            }))
        }
        "getEpochSchedule" => Ok(json!({
            "slotsPerEpoch": SLOTS_PER_EPOCH,
            "leaderScheduleSlotOffset": SLOTS_PER_EPOCH,
            "warmup": false,
            "firstNormalEpoch": 0,
            "firstNormalSlot": 0,
        })),
        "getFirstAvailableBlock" => Ok(json!(state.block_index().first().unwrap_or(0))),
        "getBlock" => get_block(params, state),
        "getBlockTime" => {
            let slot: u64 = params.required(0, "slot")?;
            let block = state
                .block_index()
                .get(slot)
                .ok_or_else(|| block_not_available(slot))?;
            // Null for blocks recorded before Braid kept block times, as Solana answers
            // for a block whose time it does not know.
            Ok(json!(block.block_time))
        }
        "getTransaction" => crate::history::get_transaction(params, state),
        "getRecentPerformanceSamples" => {
            let retained = crate::samples::SAMPLES_RETAINED;
            let limit = match params.0.first() {
                None | Some(Value::Null) => retained,
                Some(_) => {
                    let limit: u64 = params.required(0, "limit")?;
                    if limit > retained as u64 {
                        return Err(RpcError::invalid_params(format!(
                            "Invalid limit; max {retained}"
                        )));
                    }
                    usize::try_from(limit).unwrap_or(retained)
                }
            };
            let samples = state
                .samples
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .recent(limit);
            to_value(&samples)
        }
        "getSignaturesForAddress" => crate::history::get_signatures_for_address(params, state),
        "getBlocks" | "getBlocksWithLimit" => {
            let start: u64 = params.required(0, "start slot")?;
            let latest = shared.slot();
            let range_max = crate::blocks::BLOCKS_RANGE_MAX;
            let (end, limit) = if method == "getBlocks" {
                // As Solana: the end defaults to a full range, is capped at the newest
                // block, and an empty range is an empty list.
                let end = match params.0.get(1) {
                    None | Some(Value::Null) | Some(Value::Object(_)) => {
                        start.saturating_add(range_max)
                    }
                    Some(_) => params.required(1, "end slot")?,
                }
                .min(latest);
                if end < start {
                    return Ok(json!([]));
                }
                if end.saturating_sub(start) > range_max {
                    return Err(RpcError::invalid_params(format!(
                        "Slot range too large; max {range_max}"
                    )));
                }
                (end, usize::MAX)
            } else {
                let limit: u64 = params.required(1, "limit")?;
                if limit > range_max {
                    return Err(RpcError::invalid_params(format!(
                        "Limit too large; max {range_max}"
                    )));
                }
                (latest, usize::try_from(limit).unwrap_or(usize::MAX))
            };
            Ok(json!(state.block_index().slots(start, end, limit)))
        }
        "getMinimumBalanceForRentExemption" => {
            let bytes: u64 = params.required(0, "data length")?;
            if bytes > braid_primitives::ACCOUNT_DATA_BYTES_MAX as u64 {
                return Err(RpcError::invalid_params(format!(
                    "data length {bytes} exceeds the account limit of {} bytes",
                    braid_primitives::ACCOUNT_DATA_BYTES_MAX
                )));
            }
            Ok(json!(minimum_balance_for_rent_exemption(bytes)))
        }
        "getMultipleAccounts" => get_multiple_accounts(params, state),
        "getLargestAccounts" | "getSupply" => supply(method, params, state),
        "getFeeForMessage" => fee_for_message(params, state),
        "getTokenAccountBalance"
        | "getTokenSupply"
        | "getTokenAccountsByOwner"
        | "getTokenAccountsByDelegate"
        | "getTokenLargestAccounts" => crate::token::call(method, params, state),
        // Braid keeps no per-slot fee history yet: an empty list is Solana's answer for
        // "no samples".
        "getRecentPrioritizationFees" => Ok(json!([])),
        "getProgramAccounts" => get_program_accounts(params, state),
        "getBalance" => {
            let key = params.pubkey(0)?;
            let lamports = state.account(&key).map_or(0, |account| account.lamports);
            state.with_context(lamports)
        }
        "getAccountInfo" => get_account_info(params, state),
        "getSignatureStatuses" => {
            let texts: Vec<String> = params.required(0, "array of base58 signatures")?;
            if texts.len() > SIGNATURE_STATUSES_MAX {
                return Err(RpcError::invalid_params(format!(
                    "too many signatures: {} > {SIGNATURE_STATUSES_MAX}",
                    texts.len()
                )));
            }
            let signatures = texts
                .iter()
                .map(|text| {
                    text.parse::<Signature>().map_err(|error| {
                        RpcError::invalid_params(format!("invalid signature {text:?}: {error}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let search = params.config(1)?.search_transaction_history;
            let tracker = state.tracker();
            let mut statuses: Vec<_> = signatures
                .iter()
                .map(|signature| tracker.get(signature))
                .collect();
            drop(tracker);
            if search {
                for (status, signature) in statuses.iter_mut().zip(&signatures) {
                    if status.is_none() {
                        *status = state.searched_status(signature)?;
                    }
                }
            }
            state.with_context(statuses)
        }
        "sendTransaction" => send_transaction(params, state),
        "simulateTransaction" => simulate_transaction(params, state),
        "requestAirdrop" => request_airdrop(params, state),
        _ => Err(RpcError::new(codes::METHOD_NOT_FOUND, "Method not found")),
    }
}

fn get_account_info(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let key = params.pubkey(0)?;
    let config = params.config(1)?;
    config.check_min_context_slot(state.ingress.shared().slot())?;
    let db = state.ingress.shared().accounts_db();
    let value = match state.account(&key) {
        Some(account) => Some(encode_account(&account, &config, db)?),
        None => None,
    };
    state.with_context(value)
}

fn get_multiple_accounts(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let texts: Vec<String> = params.required(0, "array of base58 public keys")?;
    if texts.len() > MULTIPLE_ACCOUNTS_MAX {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MULTIPLE_ACCOUNTS_MAX}"
        )));
    }
    let config = params.config(1)?;
    config.check_min_context_slot(state.ingress.shared().slot())?;
    let db = state.ingress.shared().accounts_db();
    let mut accounts = Vec::with_capacity(texts.len());
    let mut budget = ReplyBudget::new();
    for text in &texts {
        let key: Pubkey = text.parse().map_err(|error| {
            RpcError::invalid_params(format!("invalid public key {text:?}: {error}"))
        })?;
        accounts.push(match state.account(&key) {
            Some(account) => {
                budget.add_account(sliced_len(&account, &config))?;
                Some(encode_account(&account, &config, db)?)
            }
            None => None,
        });
    }
    state.with_context(accounts)
}

fn get_program_accounts(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let program = params.pubkey(0)?;
    let config = params.config(1)?;
    config.check_min_context_slot(state.ingress.shared().slot())?;
    let filters = compile_filters(&config)?;
    let _permit = state.scan_permit()?;
    // The committed state, in key order: a scan, as Solana's without a secondary index.
    let db = state.ingress.shared().accounts_db();
    let mut found = KeyedAccounts::new(&config, db);
    let (slot, _) = db
        .for_each_committed(|key, account| {
            if account.owner == program && matches_filters(&filters, account) {
                found.push(key, account);
            }
        })
        .map_err(|error| {
            RpcError::new(codes::INTERNAL_ERROR, format!("reading accounts: {error}"))
        })?;
    let found = found.finish()?;
    if config.with_context {
        to_value(&RpcResponse {
            context: RpcContext { slot },
            value: found,
        })
    } else {
        Ok(Value::Array(found))
    }
}

/// Accounts getLargestAccounts lists (Solana's figure).
pub const LARGEST_ACCOUNTS_LISTED: usize = 20;

/// getSupply and getLargestAccounts: one scan of the committed accounts.
fn supply(method: &str, params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    params.config(0)?;
    let _permit = state.scan_permit()?;
    let mut total = 0u64;
    let mut largest: Vec<(u64, Pubkey)> = Vec::with_capacity(LARGEST_ACCOUNTS_LISTED + 1);
    let (slot, _) = state
        .ingress
        .shared()
        .accounts_db()
        .for_each_committed(|key, account| {
            total = total.saturating_add(account.lamports);
            largest.push((account.lamports, *key));
            if largest.len() > LARGEST_ACCOUNTS_LISTED {
                // Largest first, ties by address: the same list on every call.
                largest.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                largest.truncate(LARGEST_ACCOUNTS_LISTED);
            }
        })
        .map_err(|error| {
            RpcError::new(codes::INTERNAL_ERROR, format!("reading accounts: {error}"))
        })?;
    largest.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let context = RpcContext { slot };
    if method == "getSupply" {
        return to_value(&RpcResponse {
            context,
            value: json!({
                "total": total,
                "circulating": total,
                "nonCirculating": 0,
                "nonCirculatingAccounts": [],
            }),
        });
    }
    let value: Vec<Value> = largest
        .into_iter()
        .map(|(lamports, key)| json!({ "address": key.to_string(), "lamports": lamports }))
        .collect();
    to_value(&RpcResponse { context, value })
}

/// getFeeForMessage: the fee a base64 message would pay, or null if its blockhash is not
/// recent.
fn fee_for_message(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let encoded: String = params.required(0, "base64 message")?;
    if encoded.len() > BASE64_TRANSACTION_CHARS_MAX {
        return Err(RpcError::invalid_params(format!(
            "base64 encoded message too large ({} bytes, max {BASE64_TRANSACTION_CHARS_MAX} bytes)",
            encoded.len()
        )));
    }
    let message = BASE64
        .decode(encoded.as_bytes())
        .map_err(|error| RpcError::invalid_params(format!("invalid base64 message: {error}")))?;
    // A message alone parses as a transaction whose signatures are blank: the header's
    // first byte says how many it needs (and the fee charges per signature). A versioned
    // message's header follows its version byte.
    let header_at = usize::from(
        message
            .first()
            .is_some_and(|&first| first & braid_runtime::message::MESSAGE_VERSION_PREFIX != 0),
    );
    let signatures = *message
        .get(header_at)
        .ok_or_else(|| RpcError::invalid_params("invalid message: too short"))?;
    let mut wire = Vec::with_capacity(message.len().saturating_add(65 * usize::from(signatures)));
    wire.push(signatures);
    wire.resize(wire.len().saturating_add(64 * usize::from(signatures)), 0);
    wire.extend_from_slice(&message);
    let tx = SanitizedTransaction::try_from_bytes(&wire)
        .map_err(|error| RpcError::invalid_params(format!("invalid message: {error}")))?;
    let recent = state
        .tracker()
        .blockhash_validity(&tx.message().recent_blockhash)
        != BlockhashValidity::Invalid;
    let fee = match braid_runtime::compute_budget::ComputeBudget::from_message(tx.message()) {
        Ok(budget) if recent => {
            Some(braid_runtime::fee::FeeDetails::new(u64::from(signatures), &budget).total())
        }
        _ => None,
    };
    state.with_context(fee)
}

/// The `[{pubkey, account}]` list a scan answers with, built as the scan goes: it counts
/// the reply's size and keeps the first error (after which it takes nothing more).
pub(crate) struct KeyedAccounts<'a> {
    config: &'a Config,
    db: &'a braid_accounts_db::AccountsDb,
    budget: ReplyBudget,
    found: Vec<Value>,
    failed: Option<RpcError>,
}

impl<'a> KeyedAccounts<'a> {
    pub(crate) fn new(config: &'a Config, db: &'a braid_accounts_db::AccountsDb) -> Self {
        Self {
            config,
            db,
            budget: ReplyBudget::new(),
            found: Vec::new(),
            failed: None,
        }
    }

    /// Adds one account, unless an earlier one failed or the reply is full.
    pub(crate) fn push(&mut self, key: &Pubkey, account: &Account) {
        if self.failed.is_some() {
            return;
        }
        let encoded = self
            .budget
            .add_account(sliced_len(account, self.config))
            .and_then(|()| encode_account(account, self.config, self.db));
        match encoded {
            Ok(encoded) => self
                .found
                .push(json!({ "pubkey": key.to_string(), "account": encoded })),
            Err(error) => self.failed = Some(error),
        }
    }

    /// The list, or the first error.
    pub(crate) fn finish(self) -> Result<Vec<Value>, RpcError> {
        match self.failed {
            Some(error) => Err(error),
            None => Ok(self.found),
        }
    }
}

/// How many data bytes of `account` a reply carries under `config`'s dataSlice.
pub(crate) fn sliced_len(account: &Account, config: &Config) -> usize {
    config.data_slice.map_or(account.data.len(), |slice| {
        slice.length.min(account.data.len())
    })
}

/// A checked getProgramAccounts/programSubscribe filter: a data length, or bytes at an offset.
#[derive(Debug, Clone)]
pub(crate) enum CompiledFilter {
    /// The data is exactly this long.
    DataSize(u64),
    /// The data holds these bytes at this offset.
    Memcmp(usize, Vec<u8>),
}

/// Checks and decodes `config`'s filters, with Solana's limits and messages.
pub(crate) fn compile_filters(config: &Config) -> Result<Vec<CompiledFilter>, RpcError> {
    if config.filters.len() > PROGRAM_ACCOUNTS_FILTERS_MAX {
        return Err(RpcError::invalid_params(format!(
            "Too many filters provided; max {PROGRAM_ACCOUNTS_FILTERS_MAX}"
        )));
    }
    let mut filters = Vec::with_capacity(config.filters.len());
    for filter in &config.filters {
        filters.push(match filter {
            Filter::DataSize(size) => CompiledFilter::DataSize(*size),
            Filter::Memcmp(memcmp) => {
                let bytes = match memcmp.encoding.as_deref().unwrap_or("base58") {
                    // Checked before decoding: base58 decoding is quadratic.
                    "base58" if memcmp.bytes.len() > MEMCMP_BYTES_MAX * 2 => {
                        return Err(RpcError::invalid_params("Invalid param: DataTooLarge"));
                    }
                    "base58" => bs58::decode(&memcmp.bytes).into_vec().ok(),
                    "base64" => BASE64.decode(memcmp.bytes.as_bytes()).ok(),
                    other => {
                        return Err(RpcError::invalid_params(format!(
                            "unsupported memcmp encoding {other:?}: use base58 or base64"
                        )));
                    }
                }
                .ok_or_else(|| RpcError::invalid_params("Invalid param: invalid memcmp bytes"))?;
                if bytes.len() > MEMCMP_BYTES_MAX {
                    return Err(RpcError::invalid_params("Invalid param: DataTooLarge"));
                }
                CompiledFilter::Memcmp(memcmp.offset, bytes)
            }
        });
    }
    Ok(filters)
}

/// Whether `account` passes every filter.
pub(crate) fn matches_filters(filters: &[CompiledFilter], account: &Account) -> bool {
    filters.iter().all(|filter| match filter {
        CompiledFilter::DataSize(size) => account.data.len() as u64 == *size,
        CompiledFilter::Memcmp(offset, bytes) => offset
            .checked_add(bytes.len())
            .and_then(|end| account.data.get(*offset..end))
            .is_some_and(|window| window == bytes.as_slice()),
    })
}

/// An account in Solana's reply shape, its data encoded (and sliced) as `config` asks.
/// `jsonParsed` parses SPL Token mints and accounts (reading the mint's decimals from `db`)
/// and, as Solana, falls back to base64 for anything else.
pub(crate) fn encode_account(
    account: &Account,
    config: &Config,
    db: &braid_accounts_db::AccountsDb,
) -> Result<Value, RpcError> {
    let mut encoding = config.encoding.as_deref().unwrap_or("base64");
    if encoding == "jsonParsed" {
        if let Some(parsed) = crate::token::parse(account, db) {
            let mut value = to_value(&binary_account(
                account,
                BASE64.encode(&account.data),
                "base64",
            ))?;
            value["data"] = parsed;
            return Ok(value);
        }
        encoding = "base64";
    }
    let data: &[u8] = match config.data_slice {
        Some(slice) => {
            let start = slice.offset.min(account.data.len());
            let end = start.saturating_add(slice.length).min(account.data.len());
            &account.data[start..end]
        }
        None => &account.data,
    };
    let text = match encoding {
        "base64" => BASE64.encode(data),
        "base64+zstd" => BASE64.encode(zstd::bulk::compress(data, 0).map_err(|error| {
            RpcError::new(
                codes::INTERNAL_ERROR,
                format!("compressing account data: {error}"),
            )
        })?),
        "base58" if data.len() <= BASE58_ACCOUNT_DATA_BYTES_MAX => bs58::encode(data).into_string(),
        "base58" => {
            return Err(RpcError::invalid_params(format!(
                "account data is {} bytes: base58 is limited to {BASE58_ACCOUNT_DATA_BYTES_MAX}, use base64",
                data.len()
            )));
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "unsupported encoding {other:?}: use base64, base64+zstd, base58 or jsonParsed"
            )));
        }
    };
    to_value(&binary_account(account, text, encoding))
}

fn binary_account(account: &Account, data: String, encoding: &str) -> RpcAccount {
    RpcAccount {
        data: (data, encoding.to_owned()),
        executable: account.executable,
        lamports: account.lamports,
        owner: account.owner.to_string(),
        rent_epoch: u64::MAX,
        space: account.data.len() as u64,
    }
}

/// Decodes parameter 0 (an encoded transaction) per the configuration at parameter 1.
fn decode_transaction(
    params: &Params,
) -> Result<(Vec<u8>, SanitizedTransaction, Config), RpcError> {
    let encoded: String = params.required(0, "encoded transaction")?;
    let config = params.config(1)?;
    // Braid's documented default is base64; Solana's is base58 (legacy): both are accepted
    // through the encoding option.
    let encoding = config.encoding.as_deref().unwrap_or("base64");
    // Checked before decoding: base58 decoding is quadratic in the input's length.
    let encoded_max = match encoding {
        "base58" => Some(BASE58_TRANSACTION_CHARS_MAX),
        "base64" => Some(BASE64_TRANSACTION_CHARS_MAX),
        _ => None,
    };
    if let Some(max) = encoded_max
        && encoded.len() > max
    {
        return Err(RpcError::invalid_params(format!(
            "{encoding} encoded transaction too large ({} bytes, max {max} bytes)",
            encoded.len()
        )));
    }
    let wire = match encoding {
        "base64" => BASE64.decode(encoded.as_bytes()).map_err(|error| {
            RpcError::invalid_params(format!("invalid base64 transaction: {error}"))
        })?,
        "base58" => bs58::decode(&encoded).into_vec().map_err(|error| {
            RpcError::invalid_params(format!("invalid base58 transaction: {error}"))
        })?,
        other => {
            return Err(RpcError::invalid_params(format!(
                "unsupported encoding {other:?}: use base64 or base58"
            )));
        }
    };
    let tx = SanitizedTransaction::try_from_bytes(&wire)
        .map_err(|error| RpcError::invalid_params(format!("invalid transaction: {error}")))?;
    Ok((wire, tx, config))
}

fn simulation(state: &RpcState, tx: &SanitizedTransaction) -> RpcSimulation {
    let shared = state.ingress.shared();
    // Simulate in the slot transactions execute in now.
    let clock = Clock {
        slot: shared.open_slot(),
    };
    let view = AccountsView(shared.accounts_db());
    let mut resolved;
    let tx = if tx.is_resolved() {
        tx
    } else {
        resolved = tx.clone();
        if let Err(error) = resolved.resolve(&view, clock.slot) {
            return RpcSimulation {
                err: Some(error),
                logs: Vec::new(),
                units_consumed: 0,
                fee: 0,
            };
        }
        &resolved
    };
    match state.executor.execute(tx, &view, &clock) {
        Ok(executed) => RpcSimulation {
            err: executed.status.err(),
            logs: executed.logs,
            units_consumed: executed.compute_units_consumed,
            fee: executed.fee,
        },
        Err(error) => RpcSimulation {
            err: Some(error),
            logs: Vec::new(),
            units_consumed: 0,
            fee: 0,
        },
    }
}

/// The error's text for a human reading the RPC message, naming a program's custom error
/// through the executor's registry. Clients should read the typed `err` in the data.
fn describe(
    state: &RpcState,
    tx: &SanitizedTransaction,
    error: &braid_runtime::TransactionError,
) -> String {
    use braid_runtime::{InstructionError, TransactionError};
    let text = error.to_string();
    let TransactionError::InstructionError(index, InstructionError::Custom(code)) = error else {
        return text;
    };
    let name = tx
        .message()
        .instructions
        .get(usize::from(*index))
        .and_then(|instruction| {
            tx.account_keys()
                .get(usize::from(instruction.program_id_index))
        })
        .and_then(|program| state.executor.programs().describe_error(program, *code));
    match name {
        Some(name) => format!("{text} ({}: {})", name.variant, name.message),
        None => text,
    }
}

fn simulate_transaction(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let (_, tx, config) = decode_transaction(params)?;
    if config.sig_verify {
        braid_runtime::sigverify::verify_transaction(&tx).map_err(|error| {
            RpcError::new(codes::SIGNATURE_VERIFICATION_FAILURE, error.to_string())
        })?;
    }
    let value = simulation(state, &tx);
    state.with_context(value)
}

fn send_transaction(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let (wire, tx, config) = decode_transaction(params)?;
    // With preflight, signatures are checked here, as Solana's preflight does. Without, they
    // are checked once, where the transaction enters: the pipeline's batched sigverify
    // stage (which drops a bad one, as Solana's does) or a validator's pool (which refuses
    // it with the reason).
    if !config.skip_preflight {
        braid_runtime::sigverify::verify_transaction(&tx).map_err(|error| {
            RpcError::new(
                codes::SIGNATURE_VERIFICATION_FAILURE,
                format!("transaction signature verification failure: {error}"),
            )
        })?;
    }
    let signature = *tx.signature();
    {
        let tracker = state.tracker();
        if tracker.get(&signature).is_some() {
            return Err(rejected(&braid_runtime::TransactionError::AlreadyProcessed));
        }
        if tracker.blockhash_validity(&tx.message().recent_blockhash) == BlockhashValidity::Invalid
        {
            return Err(rejected(
                &braid_runtime::TransactionError::BlockhashNotFound,
            ));
        }
    }
    if !config.skip_preflight {
        let simulated = simulation(state, &tx);
        if let Some(err) = &simulated.err {
            let mut error = RpcError::new(
                codes::TRANSACTION_REJECTED,
                format!(
                    "transaction simulation failed: {}",
                    describe(state, &tx, err)
                ),
            );
            error.data = to_value(&simulated).ok();
            return Err(error);
        }
    }
    submit(state, wire, config.max_retries != Some(0))?;
    Ok(json!(signature.to_string()))
}

fn rejected(error: &braid_runtime::TransactionError) -> RpcError {
    let mut rpc_error = RpcError::new(
        codes::TRANSACTION_REJECTED,
        format!("transaction rejected: {error}"),
    );
    rpc_error.data = Some(json!({ "err": error }));
    rpc_error
}

fn submit(state: &RpcState, wire: Vec<u8>, forward: bool) -> Result<(), RpcError> {
    state
        .ingress
        .submit(wire, forward)
        .map_err(|error| match error {
            SubmitError::Busy => RpcError::new(
                codes::NODE_BUSY,
                "node is busy: its ingress queue is full, retry shortly",
            ),
            SubmitError::Stopped => RpcError::new(codes::NODE_BUSY, "node is shutting down"),
            SubmitError::Refused(error) => rejected(&error),
            SubmitError::Failed => {
                let reason = state
                    .ingress
                    .shared()
                    .health()
                    .err()
                    .map_or_else(String::new, |failure| failure.reason);
                let mut error = RpcError::new(
                    codes::NODE_UNHEALTHY,
                    format!("the node stopped taking transactions: {reason}"),
                );
                error.data = Some(json!({ "reason": reason }));
                error
            }
        })
}

fn request_airdrop(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let to = params.pubkey(0)?;
    let lamports: u64 = params.required(1, "lamports")?;
    let faucet_state = state.faucet.as_ref().ok_or_else(|| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            "airdrops are unavailable: this node has no faucet keypair",
        )
    })?;
    let request_max = faucet_state.limits.request_max_lamports;
    if lamports == 0 || lamports > request_max {
        return Err(RpcError::invalid_params(format!(
            "airdrop must be between 1 and {request_max} lamports"
        )));
    }
    if !faucet_state.reserve(lamports) {
        return Err(RpcError::new(
            codes::INTERNAL_ERROR,
            format!(
                "airdrop request failed: the faucet's rate limit of {} lamports per {} s is \
                 reached; retry later",
                faucet_state.limits.window_max_lamports,
                faucet_state.limits.window.as_secs_f64()
            ),
        ));
    }
    let faucet = &faucet_state.keypair;
    let nonce = state
        .airdrop_nonce
        .fetch_add(1, Ordering::Relaxed)
        .checked_rem(AIRDROP_NONCE_UNITS_SPAN)
        .unwrap_or(0);
    let units = u32::try_from(AIRDROP_COMPUTE_UNITS_BASE.saturating_add(nonce)).unwrap_or(u32::MAX);
    let instructions = [
        braid_runtime::compute_budget::set_compute_unit_limit(units),
        braid_program_system::instruction::transfer(&faucet.pubkey(), &to, lamports),
    ];
    let blockhash = state.ingress.shared().latest_blockhash();
    let tx = Transaction::new_signed_with_payer(
        &instructions,
        Some(&faucet.pubkey()),
        &[faucet],
        blockhash,
    );
    let signature = tx.signatures.first().copied().unwrap_or_default();
    let sanitized = SanitizedTransaction::try_new(tx.clone()).map_err(|error| {
        faucet_state.release(lamports);
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("faucet built a bad transaction: {error}"),
        )
    })?;
    if let Some(err) = simulation(state, &sanitized).err {
        faucet_state.release(lamports);
        let mut error = RpcError::new(
            codes::TRANSACTION_REJECTED,
            format!("airdrop failed: {}", describe(state, &sanitized, &err)),
        );
        error.data = Some(json!({ "err": err }));
        return Err(error);
    }
    if let Err(error) = submit(state, tx.to_bytes(), true) {
        faucet_state.release(lamports);
        return Err(error);
    }
    Ok(json!(signature.to_string()))
}
