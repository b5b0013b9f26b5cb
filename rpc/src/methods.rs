//! The HTTP side of the node: JSON-RPC 2.0 requests in, Solana-shaped replies out.
//!
//! A few worker threads take requests from one `tiny_http` listener. Every method is short
//! and never waits on the pipeline (sendTransaction queues and returns; clients poll
//! getSignatureStatuses), so a handful of threads serve any number of clients.
//!
//! Key decision: sendTransaction runs Solana's preflight synchronously (parse, verify
//! signatures, check the blockhash and replay as far as this node has seen, simulate) so
//! that the common refusals (no funds, bad signature, stale blockhash) come back as an error
//! on the request itself; what it cannot see (a race with another copy) is refused later by
//! the bank and only shows as a status that never appears.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_ledger::AccountsView;
use braid_runtime::executor::Executor;
use braid_runtime::invoke_context::Clock;
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Pubkey, Signature, Transaction};
use serde_json::{Value, json};

use crate::status::{BlockhashValidity, StatusTracker};
use crate::types::{
    JSONRPC_VERSION, RpcAccount, RpcBlockhash, RpcContext, RpcErrorObject, RpcResponse,
    RpcSimulation, codes,
};
use braid_banking_stage::pipeline::{Pipeline, SubmitError};

/// Largest request body accepted, in bytes (a transaction is at most 1232 bytes; batches
/// of statuses stay far below this).
pub const REQUEST_BODY_BYTES_MAX: usize = 1 << 20;
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
/// How long a worker waits for a request before checking whether to stop.
pub const WORKER_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Compute-unit limits the faucet varies between airdrops, so two identical airdrops in
/// one slot are different messages and neither is refused as a replay.
const AIRDROP_NONCE_UNITS_SPAN: u64 = 400_000;
const AIRDROP_COMPUTE_UNITS_BASE: u64 = 1_000_000;

/// Everything a request handler reads or touches.
pub struct RpcState {
    pipeline: Pipeline,
    executor: Arc<Executor>,
    /// Shared with whoever applies the pipeline's events, which must not keep the pipeline
    /// alive.
    tracker: Arc<Mutex<StatusTracker>>,
    faucet: Option<Faucet>,
    airdrop_nonce: AtomicU64,
}
impl RpcState {
    /// The state for serving `pipeline`: `executor` runs preflight simulations, `tracker`
    /// answers getSignatureStatuses, and `faucet`, if any, signs airdrops within `limits`.
    pub fn new(
        pipeline: Pipeline,
        executor: Arc<Executor>,
        tracker: Arc<Mutex<StatusTracker>>,
        faucet: Option<Keypair>,
        limits: FaucetLimits,
    ) -> Self {
        Self {
            pipeline,
            executor,
            tracker,
            faucet: faucet.map(|keypair| Faucet {
                keypair,
                limits,
                granted: Mutex::new(Grants::default()),
            }),
            airdrop_nonce: AtomicU64::new(airdrop_nonce_seed()),
        }
    }

    /// Gives the pipeline back, to shut it down once nothing serves requests any more.
    pub fn into_pipeline(self) -> Pipeline {
        self.pipeline
    }

    fn tracker(&self) -> MutexGuard<'_, StatusTracker> {
        // The tracker stays consistent even if a holder panicked mid-update: entries are
        // inserted whole.
        self.tracker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn context(&self) -> RpcContext {
        RpcContext {
            slot: self.pipeline.shared().slot(),
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
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_PARAMS, message)
    }

    fn into_object(self) -> RpcErrorObject {
        RpcErrorObject {
            code: self.code,
            message: self.message,
            data: self.data,
        }
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|error| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("encoding the reply: {error}"),
        )
    })
}

/// A bound JSON-RPC listener; [`RpcServer::serve`] starts answering on it.
pub struct RpcServer {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
}

/// Worker threads answering requests; [`RpcWorkers::stop`] (or dropping them) ends them.
pub struct RpcWorkers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Why the server could not listen or start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// A worker thread could not be started.
    #[error("cannot start an RPC thread: {0}")]
    Spawn(std::io::Error),
}

impl RpcServer {
    /// Binds `addr` (`host:port`; port 0 picks a free one). Binding comes before anything
    /// costly, so a busy port is reported at once.
    pub fn bind(addr: &str) -> Result<Self, ServeError> {
        let bind_error = |reason: String| ServeError::Bind {
            addr: addr.to_owned(),
            reason,
        };
        let http = tiny_http::Server::http(addr).map_err(|error| bind_error(error.to_string()))?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| bind_error("not an IP listener".into()))?;
        Ok(Self {
            http: Arc::new(http),
            addr,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers requests against `state` on `workers` threads until stopped.
    pub fn serve(self, state: Arc<RpcState>, workers: usize) -> Result<RpcWorkers, ServeError> {
        let mut running = RpcWorkers {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::with_capacity(workers),
        };
        for index in 0..workers {
            let (http, state, stop) = (
                Arc::clone(&self.http),
                Arc::clone(&state),
                Arc::clone(&running.stop),
            );
            let worker = std::thread::Builder::new()
                .name(format!("braid-rpc-{index}"))
                .spawn(move || worker_loop(&http, &state, &stop))
                .map_err(ServeError::Spawn)?;
            running.threads.push(worker);
        }
        Ok(running)
    }
}

impl RpcWorkers {
    /// Stops answering and joins the worker threads (each finishes its current request).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for worker in self.threads.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Drop for RpcWorkers {
    fn drop(&mut self) {
        self.stop();
    }
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

/// Serves requests until `stop` is set.
fn worker_loop(server: &tiny_http::Server, state: &RpcState, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        match server.recv_timeout(WORKER_POLL_INTERVAL) {
            Ok(Some(request)) => serve(request, state),
            Ok(None) => {}
            // Accept errors concern one connection; the listener carries on.
            Err(_) => {}
        }
    }
}

fn serve(mut request: tiny_http::Request, state: &RpcState) {
    let content_type =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).ok();
    let respond = |request: tiny_http::Request, status: u16, body: String| {
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        if let Some(header) = content_type.clone() {
            response.add_header(header);
        }
        // The client may have gone; nothing to do about it.
        let _ = request.respond(response);
    };
    match request.method() {
        tiny_http::Method::Post => {}
        tiny_http::Method::Get if request.url() == "/health" => {
            match state.pipeline.shared().health() {
                Ok(()) => respond(request, 200, "ok".to_owned()),
                Err(reason) => respond(request, 503, format!("unhealthy: {reason}")),
            }
            return;
        }
        _ => {
            respond(
                request,
                405,
                error_reply(
                    Value::Null,
                    RpcError::new(codes::INVALID_REQUEST, "use POST with a JSON-RPC body"),
                ),
            );
            return;
        }
    }
    let mut body = Vec::new();
    let limit = u64::try_from(REQUEST_BODY_BYTES_MAX)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if let Err(error) = request.as_reader().take(limit).read_to_end(&mut body) {
        respond(
            request,
            400,
            error_reply(
                Value::Null,
                RpcError::new(codes::INVALID_REQUEST, format!("reading the body: {error}")),
            ),
        );
        return;
    }
    if body.len() > REQUEST_BODY_BYTES_MAX {
        let message = format!("request body exceeds {REQUEST_BODY_BYTES_MAX} bytes");
        respond(
            request,
            413,
            error_reply(Value::Null, RpcError::new(codes::INVALID_REQUEST, message)),
        );
        return;
    }
    respond(request, 200, handle_body(&body, state));
}

/// Answers one HTTP body: a single request or a batch.
pub fn handle_body(body: &[u8], state: &RpcState) -> String {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return error_reply(
                Value::Null,
                RpcError::new(codes::PARSE_ERROR, format!("parse error: {error}")),
            );
        }
    };
    match parsed {
        Value::Array(requests) if requests.is_empty() => error_reply(
            Value::Null,
            RpcError::new(codes::INVALID_REQUEST, "empty batch"),
        ),
        Value::Array(requests) => {
            let replies: Vec<Value> = requests
                .into_iter()
                .map(|request| handle_request(request, state))
                .collect();
            Value::Array(replies).to_string()
        }
        request => handle_request(request, state).to_string(),
    }
}

fn error_reply(id: Value, error: RpcError) -> String {
    json!({"jsonrpc": JSONRPC_VERSION, "error": error.into_object(), "id": id}).to_string()
}

fn handle_request(request: Value, state: &RpcState) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let outcome = (|| {
        let object = request
            .as_object()
            .ok_or_else(|| RpcError::new(codes::INVALID_REQUEST, "request is not a JSON object"))?;
        if object.get("jsonrpc").and_then(Value::as_str) != Some(JSONRPC_VERSION) {
            return Err(RpcError::new(
                codes::INVALID_REQUEST,
                "missing or wrong \"jsonrpc\": expected \"2.0\"",
            ));
        }
        let method = object
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(codes::INVALID_REQUEST, "missing \"method\""))?;
        let params = match object.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(params)) => params.clone(),
            Some(_) => return Err(RpcError::invalid_params("\"params\" must be an array")),
        };
        dispatch(method, &Params(params), state)
    })();
    match outcome {
        Ok(result) => json!({"jsonrpc": JSONRPC_VERSION, "result": result, "id": id}),
        Err(error) => json!({"jsonrpc": JSONRPC_VERSION, "error": error.into_object(), "id": id}),
    }
}

/// Positional parameters with typed, named access.
struct Params(Vec<Value>);

impl Params {
    fn required<T: serde::de::DeserializeOwned>(
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
    fn config(&self, index: usize) -> Result<Config, RpcError> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(Config::default()),
            Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                RpcError::invalid_params(format!("invalid configuration object: {error}"))
            }),
        }
    }

    fn pubkey(&self, index: usize) -> Result<Pubkey, RpcError> {
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
struct Config {
    encoding: Option<String>,
    #[serde(default)]
    skip_preflight: bool,
    #[serde(default)]
    sig_verify: bool,
}

fn dispatch(method: &str, params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let shared = state.pipeline.shared();
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
        "getBalance" => {
            let key = params.pubkey(0)?;
            let lamports = shared
                .accounts_db()
                .get(&key)
                .map_or(0, |account| account.lamports);
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
            let tracker = state.tracker();
            let statuses: Vec<_> = signatures
                .iter()
                .map(|signature| tracker.get(signature))
                .collect();
            drop(tracker);
            state.with_context(statuses)
        }
        "sendTransaction" => send_transaction(params, state),
        "simulateTransaction" => simulate_transaction(params, state),
        "requestAirdrop" => request_airdrop(params, state),
        _ => Err(RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )),
    }
}

fn get_account_info(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let key = params.pubkey(0)?;
    let config = params.config(1)?;
    let encoding = config.encoding.as_deref().unwrap_or("base64");
    let Some(account) = state.pipeline.shared().accounts_db().get(&key) else {
        return state.with_context(Value::Null);
    };
    let data = match encoding {
        "base64" => BASE64.encode(&account.data),
        "base58" if account.data.len() <= BASE58_ACCOUNT_DATA_BYTES_MAX => {
            bs58::encode(&account.data).into_string()
        }
        "base58" => {
            return Err(RpcError::invalid_params(format!(
                "account data is {} bytes: base58 is limited to {BASE58_ACCOUNT_DATA_BYTES_MAX}, use base64",
                account.data.len()
            )));
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "unsupported encoding {other:?}: use base64 or base58"
            )));
        }
    };
    let value = RpcAccount {
        data: (data, encoding.to_owned()),
        executable: account.executable,
        lamports: account.lamports,
        owner: account.owner.to_string(),
        rent_epoch: 0,
        space: account.data.len() as u64,
    };
    state.with_context(value)
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
    let shared = state.pipeline.shared();
    // Simulate in the slot transactions execute in now.
    let clock = Clock {
        slot: shared.open_slot(),
    };
    match state
        .executor
        .execute(tx, &AccountsView(shared.accounts_db()), &clock)
    {
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
    braid_runtime::sigverify::verify_transaction(&tx).map_err(|error| {
        RpcError::new(
            codes::SIGNATURE_VERIFICATION_FAILURE,
            format!("transaction signature verification failure: {error}"),
        )
    })?;
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
    submit(state, wire)?;
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

fn submit(state: &RpcState, wire: Vec<u8>) -> Result<(), RpcError> {
    state.pipeline.submit(wire).map_err(|error| match error {
        SubmitError::Busy => RpcError::new(
            codes::NODE_BUSY,
            "node is busy: its ingress queue is full, retry shortly",
        ),
        SubmitError::Stopped => RpcError::new(codes::NODE_BUSY, "node is shutting down"),
        SubmitError::Failed => {
            let reason = state
                .pipeline
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
    let blockhash = state.pipeline.shared().latest_blockhash();
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
    if let Err(error) = submit(state, tx.to_bytes()) {
        faucet_state.release(lamports);
        return Err(error);
    }
    Ok(json!(signature.to_string()))
}
