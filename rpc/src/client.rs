//! A blocking JSON-RPC client for a Braid (or Solana) node.
//!
//! Typed methods over the shapes in [`crate::types`]; every failure is a
//! [`ClientError`] whose message says what failed and why, naming the URL when the node
//! cannot be reached. HTTP is `ureq` without TLS: nodes are local.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_runtime::{Account, Hash, Pubkey, Signature, Transaction, TransactionError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::types::{
    ConfirmationStatus, JSONRPC_VERSION, RpcAccount, RpcBlockhash, RpcErrorObject, RpcResponse,
    RpcSignatureStatus, RpcSimulation,
};

/// How long one request may take before the node counts as unreachable.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between two status polls while waiting for confirmation.
pub const CONFIRM_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Default time to wait for a transaction to be confirmed.
pub const CONFIRM_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: the node is down, the URL is wrong, or the connection broke.
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable {
        /// The node's URL.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The node answered with an HTTP error status.
    #[error("the node at {url} answered HTTP {status}: {body}")]
    Http {
        /// The node's URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("{message} (JSON-RPC error {code})")]
    Rpc {
        /// The error code.
        code: i64,
        /// The node's message.
        message: String,
        /// Details, such as simulation logs.
        data: Option<Value>,
    },
    /// The node's answer is not what the method returns.
    #[error("unexpected answer from {url}: {reason}")]
    InvalidResponse {
        /// The node's URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The transaction was not confirmed in time.
    #[error(
        "transaction {signature} was not confirmed within {seconds} s (it may have been dropped, e.g. for an expired blockhash)"
    )]
    Timeout {
        /// The transaction.
        signature: Signature,
        /// How long we waited.
        seconds: u64,
    },
    /// The transaction executed and failed (its fee was charged).
    #[error("transaction {signature} failed: {error}")]
    TransactionFailed {
        /// The transaction.
        signature: Signature,
        /// Why.
        error: TransactionError,
    },
}

impl ClientError {
    /// The transaction error this failure carries as data, if any: a failed transaction's
    /// status, or a rejected `sendTransaction` (preflight simulation or admission).
    pub fn transaction_error(&self) -> Option<TransactionError> {
        match self {
            ClientError::TransactionFailed { error, .. } => Some(error.clone()),
            ClientError::Rpc {
                data: Some(data), ..
            } => serde_json::from_value(data.get("err")?.clone()).ok(),
            _ => None,
        }
    }

    /// The program log lines a rejected `sendTransaction` carries (its preflight
    /// simulation's), if any.
    pub fn logs(&self) -> Vec<String> {
        let ClientError::Rpc {
            data: Some(data), ..
        } = self
        else {
            return Vec::new();
        };
        data.get("logs")
            .and_then(Value::as_array)
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|line| line.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Bytes of an HTTP error body quoted in [`ClientError::Http`].
const ERROR_BODY_QUOTE_BYTES: usize = 200;

/// A blocking client for one node.
pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
    next_id: AtomicU64,
}

impl RpcClient {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8899`). Nothing is sent yet.
    pub fn new(url: impl Into<String>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .build();
        Self {
            url: url.into(),
            agent: ureq::Agent::new_with_config(config),
            next_id: AtomicU64::new(1),
        }
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn invalid(&self, reason: impl Into<String>) -> ClientError {
        ClientError::InvalidResponse {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    /// Calls `method` with `params` and returns the raw `result`.
    pub fn call_raw(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body =
            json!({"jsonrpc": JSONRPC_VERSION, "id": id, "method": method, "params": params})
                .to_string();
        let reply = self.post(body)?;
        Self::outcome(&reply).map_err(|error| match error {
            ClientError::InvalidResponse { reason, .. } => self.invalid(reason),
            other => other,
        })
    }

    /// Posts `body` and parses the reply as JSON.
    fn post(&self, body: String) -> Result<Value, ClientError> {
        let unreachable = |error: ureq::Error| ClientError::Unreachable {
            url: self.url.clone(),
            reason: error.to_string(),
        };
        let mut response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(unreachable)?;
        let reply: Value = match serde_json::from_str(&text) {
            Ok(reply) => reply,
            Err(_) if status != 200 => {
                let body = text.chars().take(ERROR_BODY_QUOTE_BYTES).collect();
                return Err(ClientError::Http {
                    url: self.url.clone(),
                    status,
                    body,
                });
            }
            Err(error) => return Err(self.invalid(format!("not JSON: {error}"))),
        };
        Ok(reply)
    }

    /// One reply object's `result`, or its error (an [`ClientError::InvalidResponse`] here
    /// names no URL; callers put theirs in).
    fn outcome(reply: &Value) -> Result<Value, ClientError> {
        let invalid = |reason: String| ClientError::InvalidResponse {
            url: String::new(),
            reason,
        };
        if let Some(error) = reply.get("error") {
            let error: RpcErrorObject = serde_json::from_value(error.clone())
                .map_err(|e| invalid(format!("malformed error object: {e}")))?;
            return Err(ClientError::Rpc {
                code: error.code,
                message: error.message,
                data: error.data,
            });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| invalid("reply has neither result nor error".into()))
    }

    /// Calls every `(method, params)` of `calls` in one JSON-RPC batch (one HTTP request)
    /// and returns each call's `result` or error, in the order of `calls`. The request as a
    /// whole fails only when no usable batch reply comes back (the node refused the batch,
    /// e.g. for its size, or could not be reached). A server caps both the calls per batch
    /// and the body's bytes (Braid's [`crate::RpcLimits`]); stay within them.
    pub fn call_batch(
        &self,
        calls: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
        let count = calls.len() as u64;
        let first = self.next_id.fetch_add(count, Ordering::Relaxed);
        let body: Vec<Value> = calls
            .iter()
            .zip(first..)
            .map(|((method, params), id)| {
                json!({"jsonrpc": JSONRPC_VERSION, "id": id, "method": method, "params": params})
            })
            .collect();
        let reply = self.post(Value::Array(body).to_string())?;
        let Value::Array(replies) = reply else {
            // A batch refused as a whole comes back as one error object.
            return Err(match Self::outcome(&reply) {
                Err(error) => error,
                Ok(_) => self.invalid("a batch was answered with a single result"),
            });
        };
        let mut results: Vec<Option<Result<Value, ClientError>>> =
            (0..calls.len()).map(|_| None).collect();
        for reply in replies {
            let slot = reply
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| id.checked_sub(first))
                .and_then(|offset| usize::try_from(offset).ok())
                .and_then(|offset| results.get_mut(offset));
            if let Some(slot) = slot {
                *slot = Some(Self::outcome(&reply).map_err(|error| match error {
                    ClientError::InvalidResponse { reason, .. } => self.invalid(reason),
                    other => other,
                }));
            }
        }
        Ok(results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| Err(self.invalid("no reply for a batched call")))
            })
            .collect())
    }

    /// Sends `wires` (signed wire transactions) as one JSON-RPC batch of `sendTransaction`
    /// calls, base64 and without preflight, as a load generator does; each entry is the
    /// signature the node took, or why it refused that transaction (a full ingress queue
    /// answers [`codes::NODE_BUSY`](crate::types::codes::NODE_BUSY)).
    pub fn send_wire_batch(
        &self,
        wires: &[Vec<u8>],
    ) -> Result<Vec<Result<Signature, ClientError>>, ClientError> {
        Ok(self
            .send_batch(wires, false)?
            .into_iter()
            .map(|result| {
                let text: String = serde_json::from_value(result?)
                    .map_err(|error| self.invalid(format!("sendTransaction: {error}")))?;
                text.parse()
                    .map_err(|error| self.invalid(format!("signature: {error}")))
            })
            .collect())
    }

    /// [`RpcClient::send_wire_batch`] for transactions this node forwards to another
    /// validator: marked (`maxRetries: 0`) so that one does not forward them again.
    pub fn forward_batch(
        &self,
        wires: &[Vec<u8>],
    ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
        self.send_batch(wires, true)
    }

    /// `wires` as one batch of `sendTransaction` calls (base64, no preflight), marked not to
    /// be forwarded again when `forwarded`.
    fn send_batch(
        &self,
        wires: &[Vec<u8>],
        forwarded: bool,
    ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
        let calls: Vec<(&str, Value)> = wires
            .iter()
            .map(|wire| {
                let mut config = json!({"encoding": "base64", "skipPreflight": true});
                if forwarded {
                    config["maxRetries"] = json!(0);
                }
                ("sendTransaction", json!([BASE64.encode(wire), config]))
            })
            .collect();
        self.call_batch(&calls)
    }

    /// The most bytes one call of [`RpcClient::send_wire_batch`] adds to the request body
    /// for a transaction of `wire_bytes` bytes (its comma included), so a caller can keep a
    /// batch within a server's body limit; the brackets around the batch add 2.
    pub fn send_wire_call_bytes_max(wire_bytes: usize) -> usize {
        // {"jsonrpc":"2.0","id":<u64>,"method":"sendTransaction","params":["<base64>",
        // {"encoding":"base64","skipPreflight":true,"maxRetries":0}]},
        const OVERHEAD: usize = 160;
        wire_bytes
            .div_ceil(3)
            .saturating_mul(4)
            .saturating_add(OVERHEAD)
    }

    /// `getMinimumBalanceForRentExemption`: lamports an account of `space` data bytes needs
    /// to be rent-exempt.
    pub fn get_minimum_balance_for_rent_exemption(&self, space: u64) -> Result<u64, ClientError> {
        self.call("getMinimumBalanceForRentExemption", json!([space]))
    }

    /// Lamports of each of `keys` (0 for an account that does not exist), in order, in one
    /// `getMultipleAccounts` call per [`MULTIPLE_ACCOUNTS_MAX`](crate::methods::MULTIPLE_ACCOUNTS_MAX)
    /// keys, without their data.
    pub fn get_balances(&self, keys: &[Pubkey]) -> Result<Vec<u64>, ClientError> {
        let mut balances = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(crate::methods::MULTIPLE_ACCOUNTS_MAX) {
            let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let reply: RpcResponse<Vec<Option<RpcAccount>>> = self.call(
                "getMultipleAccounts",
                json!([texts, {"encoding": "base64", "dataSlice": {"offset": 0, "length": 0}}]),
            )?;
            if reply.value.len() != chunk.len() {
                return Err(self.invalid(format!(
                    "getMultipleAccounts answered {} accounts for {} keys",
                    reply.value.len(),
                    chunk.len()
                )));
            }
            balances.extend(
                reply
                    .value
                    .into_iter()
                    .map(|account| account.map_or(0, |account| account.lamports)),
            );
        }
        Ok(balances)
    }

    /// Calls `method` and parses its result as `T`.
    pub fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, ClientError> {
        let result = self.call_raw(method, params)?;
        serde_json::from_value(result).map_err(|error| self.invalid(format!("{method}: {error}")))
    }

    /// `braidGetThreadCpu` (Braid's own): the node's CPU nanoseconds by thread group, in
    /// the order it gives them.
    pub fn get_thread_cpu(&self) -> Result<Vec<(String, u64)>, ClientError> {
        let reply: Value = self.call("braidGetThreadCpu", json!([]))?;
        let groups = reply
            .get("groups")
            .and_then(Value::as_array)
            .ok_or_else(|| self.invalid("braidGetThreadCpu: no groups".to_owned()))?;
        groups
            .iter()
            .map(|group| {
                let name = group.get("group").and_then(Value::as_str);
                let ns = group.get("cpuNs").and_then(Value::as_u64);
                match (name, ns) {
                    (Some(name), Some(ns)) => Ok((name.to_owned(), ns)),
                    _ => Err(self.invalid(format!("braidGetThreadCpu: bad group {group}"))),
                }
            })
            .collect()
    }

    /// The node's binary ingestion port ([`crate::ingest`]): the `tpu` getClusterNodes gives
    /// for the first node it lists, or `None` if it serves none (or is not a Braid node).
    /// A node listening on all addresses names its port with an unspecified IP; the host
    /// this client reaches it by is then used.
    pub fn get_ingest_addr(&self) -> Result<Option<std::net::SocketAddr>, ClientError> {
        let nodes: Value = self.call("getClusterNodes", json!([]))?;
        let tpu: Option<std::net::SocketAddr> = nodes
            .get(0)
            .and_then(|node| node.get("tpu"))
            .and_then(Value::as_str)
            .and_then(|tpu| tpu.parse().ok());
        Ok(tpu.and_then(|tpu| {
            if !tpu.ip().is_unspecified() {
                return Some(tpu);
            }
            let host = self.url.split("://").nth(1)?.split(['/', '?']).next()?;
            // The URL's host:port, resolved; its port swapped for the ingestion port's.
            let rpc = std::net::ToSocketAddrs::to_socket_addrs(host)
                .ok()?
                .next()?;
            Some(std::net::SocketAddr::new(rpc.ip(), tpu.port()))
        }))
    }

    /// `getHealth`: `Ok` if the node answers "ok".
    pub fn get_health(&self) -> Result<(), ClientError> {
        let health: String = self.call("getHealth", json!([]))?;
        if health == "ok" {
            Ok(())
        } else {
            Err(self.invalid(format!("node reports {health:?}")))
        }
    }

    /// `getSlot`: the last committed slot.
    pub fn get_slot(&self) -> Result<u64, ClientError> {
        self.call("getSlot", json!([]))
    }

    /// `getTransactionCount`: transactions executed.
    pub fn get_transaction_count(&self) -> Result<u64, ClientError> {
        self.call("getTransactionCount", json!([]))
    }

    /// `getLatestBlockhash`: the blockhash to sign over.
    pub fn get_latest_blockhash(&self) -> Result<Hash, ClientError> {
        let reply: RpcResponse<RpcBlockhash> = self.call("getLatestBlockhash", json!([]))?;
        reply
            .value
            .blockhash
            .parse()
            .map_err(|error| self.invalid(format!("blockhash: {error}")))
    }

    /// `getBalance`, in lamports (0 for an account that does not exist).
    pub fn get_balance(&self, key: &Pubkey) -> Result<u64, ClientError> {
        let reply: RpcResponse<u64> = self.call("getBalance", json!([key.to_string()]))?;
        Ok(reply.value)
    }

    /// `getAccountInfo` as the node reports it (base64 data).
    pub fn get_account_info(&self, key: &Pubkey) -> Result<Option<RpcAccount>, ClientError> {
        let reply: RpcResponse<Option<RpcAccount>> = self.call(
            "getAccountInfo",
            json!([key.to_string(), {"encoding": "base64"}]),
        )?;
        Ok(reply.value)
    }

    /// `getAccountInfo`, decoded into an [`Account`].
    pub fn get_account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        let Some(info) = self.get_account_info(key)? else {
            return Ok(None);
        };
        let data = BASE64
            .decode(info.data.0.as_bytes())
            .map_err(|error| self.invalid(format!("account data: {error}")))?;
        let owner = info
            .owner
            .parse()
            .map_err(|error| self.invalid(format!("account owner: {error}")))?;
        Ok(Some(Account {
            lamports: info.lamports,
            owner,
            executable: info.executable,
            data,
        }))
    }

    /// `getSignatureStatuses`: one entry per signature, `None` if the node does not know it.
    pub fn get_signature_statuses(
        &self,
        signatures: &[Signature],
    ) -> Result<Vec<Option<RpcSignatureStatus>>, ClientError> {
        let texts: Vec<String> = signatures.iter().map(ToString::to_string).collect();
        let reply: RpcResponse<Vec<Option<RpcSignatureStatus>>> =
            self.call("getSignatureStatuses", json!([texts]))?;
        Ok(reply.value)
    }

    /// `sendTransaction` (base64): queues `tx` after the node's preflight and returns its
    /// signature.
    pub fn send_transaction(&self, tx: &Transaction) -> Result<Signature, ClientError> {
        let encoded = BASE64.encode(tx.to_bytes());
        let text: String =
            self.call("sendTransaction", json!([encoded, {"encoding": "base64"}]))?;
        text.parse()
            .map_err(|error| self.invalid(format!("signature: {error}")))
    }

    /// `sendTransaction` of wire bytes as one validator hands a transaction to another:
    /// no preflight, and `maxRetries: 0`, so the receiver keeps it without forwarding it on.
    pub fn forward_transaction(&self, wire: &[u8]) -> Result<Signature, ClientError> {
        let encoded = BASE64.encode(wire);
        let text: String = self.call(
            "sendTransaction",
            json!([encoded, {"encoding": "base64", "skipPreflight": true, "maxRetries": 0}]),
        )?;
        text.parse()
            .map_err(|error| self.invalid(format!("signature: {error}")))
    }

    /// `simulateTransaction` (base64): what `tx` would do now.
    pub fn simulate_transaction(&self, tx: &Transaction) -> Result<RpcSimulation, ClientError> {
        let encoded = BASE64.encode(tx.to_bytes());
        let reply: RpcResponse<RpcSimulation> = self.call(
            "simulateTransaction",
            json!([encoded, {"encoding": "base64"}]),
        )?;
        Ok(reply.value)
    }

    /// `getTransaction`: a committed transaction from the node's history, in Solana's JSON
    /// shape (v0 transactions included); `None` if the node does not hold it.
    pub fn get_transaction(&self, signature: &Signature) -> Result<Option<Value>, ClientError> {
        let value = self.call_raw(
            "getTransaction",
            json!([signature.to_string(), {"maxSupportedTransactionVersion": 0}]),
        )?;
        Ok((!value.is_null()).then_some(value))
    }

    /// `requestAirdrop`: asks the node's faucet for `lamports`; returns the signature.
    pub fn request_airdrop(&self, to: &Pubkey, lamports: u64) -> Result<Signature, ClientError> {
        let text: String = self.call("requestAirdrop", json!([to.to_string(), lamports]))?;
        text.parse()
            .map_err(|error| self.invalid(format!("signature: {error}")))
    }

    /// Polls until `signature` reaches at least `target`, failed, or `timeout` passed.
    pub fn confirm_transaction(
        &self,
        signature: &Signature,
        target: ConfirmationStatus,
        timeout: Duration,
    ) -> Result<RpcSignatureStatus, ClientError> {
        let started = Instant::now();
        loop {
            let status = self
                .get_signature_statuses(std::slice::from_ref(signature))?
                .into_iter()
                .next()
                .flatten();
            if let Some(status) = status {
                if let Some(error) = &status.err {
                    return Err(ClientError::TransactionFailed {
                        signature: *signature,
                        error: error.clone(),
                    });
                }
                if status.confirmation_status >= target {
                    return Ok(status);
                }
            }
            if started.elapsed() >= timeout {
                return Err(ClientError::Timeout {
                    signature: *signature,
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(CONFIRM_POLL_INTERVAL);
        }
    }

    /// Sends `tx` and waits until it is confirmed (durable on the node).
    pub fn send_and_confirm_transaction(
        &self,
        tx: &Transaction,
        timeout: Duration,
    ) -> Result<(Signature, RpcSignatureStatus), ClientError> {
        let signature = self.send_transaction(tx)?;
        let status =
            self.confirm_transaction(&signature, ConfirmationStatus::Confirmed, timeout)?;
        Ok((signature, status))
    }
}
