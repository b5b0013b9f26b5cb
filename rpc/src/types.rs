//! The JSON shapes the node answers with and the client parses: one definition for both
//! sides, so they cannot drift apart.
//!
//! Field names follow Solana's JSON-RPC (camelCase). Transaction errors cross as data in
//! Solana's shape (`{"InstructionError": [0, {"Custom": 18}]}`), never as text to be parsed
//! back: a client names a program's error from its code.

use braid_runtime::TransactionError;
use serde::{Deserialize, Serialize};

/// The JSON-RPC protocol version every message carries.
pub const JSONRPC_VERSION: &str = "2.0";

/// JSON-RPC error codes: the standard ones, then Solana's server codes where they apply.
pub mod codes {
    /// The body is not valid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a JSON-RPC 2.0 request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The method's parameters are missing, mistyped or malformed.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The node failed internally.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The transaction was refused or failed its preflight simulation (Solana's
    /// "send transaction preflight failure").
    pub const TRANSACTION_REJECTED: i64 = -32002;
    /// A signature does not verify.
    pub const SIGNATURE_VERIFICATION_FAILURE: i64 = -32003;
    /// The node is full or stopping; the request may be retried.
    pub const NODE_BUSY: i64 = -32005;
    /// Solana's "node is unhealthy": the pipeline stopped on a fatal error (`getHealth`).
    /// The same code as [`NODE_BUSY`]: to a client both mean "not now, not here".
    pub const NODE_UNHEALTHY: i64 = -32005;
    /// The node holds no block for the slot asked for.
    pub const BLOCK_NOT_AVAILABLE: i64 = -32004;
    /// A scan (getProgramAccounts) was refused: its reply would be too large.
    pub const SCAN_ERROR: i64 = -32012;
    /// The node has not reached the `minContextSlot` the request names.
    pub const MIN_CONTEXT_SLOT_NOT_REACHED: i64 = -32016;
    /// The transaction is of a version the client did not say it reads
    /// (`maxSupportedTransactionVersion`).
    pub const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;
    /// An unsubscribe named no subscription of this connection.
    pub const INVALID_SUBSCRIPTION: i64 = -32602;
}

/// `{"context":{"slot":N},"value":...}`: a reply tied to the state it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcResponse<T> {
    /// Where the value was read.
    pub context: RpcContext,
    /// The value.
    pub value: T,
}

/// The slot a reply describes: the last committed slot (reads also see transactions
/// executed since, which is Solana's `processed` commitment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcContext {
    /// The last committed slot.
    pub slot: u64,
}

/// `getLatestBlockhash`'s value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcBlockhash {
    /// Base58 blockhash to sign over.
    pub blockhash: String,
    /// The last slot in which a transaction using it can still be admitted.
    pub last_valid_block_height: u64,
}

/// `getAccountInfo`'s value when the account exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcAccount {
    /// `[encoded data, encoding]`.
    pub data: (String, String),
    /// Whether the account holds a program.
    pub executable: bool,
    /// Balance in lamports.
    pub lamports: u64,
    /// Base58 owner program.
    pub owner: String,
    /// `u64::MAX`, as Solana reports for rent-exempt accounts (Braid collects no rent).
    pub rent_epoch: u64,
    /// Data length in bytes.
    pub space: u64,
}

/// How settled a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfirmationStatus {
    /// Executed, not yet durable.
    Processed,
    /// Durable. A single node has no forks, so Braid reports committed slots as
    /// [`ConfirmationStatus::Finalized`] straight away; this level is accepted from other nodes.
    Confirmed,
    /// Its slot is committed: it survives a crash.
    Finalized,
}

/// One entry of `getSignatureStatuses`'s value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcSignatureStatus {
    /// The slot it executed in.
    pub slot: u64,
    /// `None` once its slot is committed, 0 before.
    pub confirmations: Option<u64>,
    /// Why it failed (it still paid its fee), or `None`.
    pub err: Option<TransactionError>,
    /// How settled it is.
    pub confirmation_status: ConfirmationStatus,
}

/// `simulateTransaction`'s value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcSimulation {
    /// Why it would be rejected or fail, or `None`.
    pub err: Option<TransactionError>,
    /// Program log messages.
    pub logs: Vec<String>,
    /// Compute units it would consume.
    pub units_consumed: u64,
    /// The fee it would pay, in lamports (a Braid addition).
    pub fee: u64,
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcErrorObject {
    /// One of [`codes`].
    pub code: i64,
    /// What went wrong, readable.
    pub message: String,
    /// Details (simulation logs), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}
