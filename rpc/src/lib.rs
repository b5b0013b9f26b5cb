//! Braid's JSON-RPC: Solana's method names and reply shapes, served over HTTP, PubSub over
//! WebSocket for a running pipeline, and a blocking client that speaks the same shapes.
//!
//! ```text
//! HTTP POST ──► jsonrpsee ──► methods::call ──► sendTransaction ─► preflight ─► Pipeline::submit
//!  (RPC port)     │              └─ reads: NodeState (slot, blockhash, accounts)      │
//!                 │              └─ getSignatureStatuses ◄── StatusTracker ◄──┐    ▼ events
//! WebSocket ─────►┘ subscriptions ◄── PubSub::on_event ◄── (the node's event thread)
//!  (RPC port + 1)
//! ```
//!
//! - [`types`]: the request and reply shapes, and JSON-RPC error codes.
//! - [`methods`]: the methods ([`methods::METHODS`]) and the state they read ([`RpcState`]:
//!   pipeline, executor for preflight, status tracker, optional faucet).
//! - [`server`]: [`RpcServer`], the transport: jsonrpsee over HTTP and WebSocket, with
//!   every limit in [`RpcLimits`], and `GET /health`.
//! - [`pubsub`]: [`pubsub::PubSub`], Solana's subscriptions fed by pipeline events.
//! - [`token`]: the SPL Token methods (balances, supplies, accounts by owner or delegate).
//! - [`samples`]: transactions and slots per minute, for getRecentPerformanceSamples.
//! - [`sysvar`]: the Clock, Rent and EpochSchedule sysvars as clients read them.
//! - [`blocks`]: the newest committed blocks, indexed by slot, signature and address.
//! - [`history`]: transaction history read back from the ledger: getTransaction,
//!   getSignaturesForAddress, whole blocks.
//! - [`status`]: [`status::StatusTracker`], signature statuses built from pipeline events:
//!   `processed` once executed, `finalized` once the slot's commit is durable.
//! - [`client`]: [`client::RpcClient`], the blocking client the CLI uses.
//! - [`ingest`]: the binary ingestion port (transactions over TCP, no JSON) and its client.
//!
//! Braid's differences from Solana: `sendTransaction` defaults to base64 (Solana's default
//! is base58; both are accepted through `{"encoding": ...}`); `confirmed` and `finalized`
//! coincide on one node; unsubscribing an unknown id answers `false` rather than an error.
//!
//! Key decision: the transport is jsonrpsee (as in reth) on a two-thread tokio runtime; the
//! methods stay synchronous and short, so the async side only frames, limits and fans out.

pub mod blocks;
pub mod client;
pub mod history;
pub mod ingest;
pub mod methods;
pub mod pubsub;
pub mod samples;
pub mod server;
pub mod status;
pub mod sysvar;
pub mod token;
pub mod types;

pub use methods::{
    AIRDROP_LAMPORTS_MAX, FAUCET_WINDOW, FAUCET_WINDOW_LAMPORTS_MAX, FaucetLimits, Ingress,
    RpcState, SIGNATURE_STATUSES_MAX,
};
pub use server::{REQUEST_BODY_BYTES_MAX, RpcLimits, RpcServer, RpcWorkers, ServeError};

/// The default JSON-RPC port (Solana's).
pub const RPC_PORT_DEFAULT: u16 = 8899;
/// The URL of a local node on [`RPC_PORT_DEFAULT`], where clients look by default.
pub const RPC_URL_DEFAULT: &str = "http://127.0.0.1:8899";
/// The default PubSub (WebSocket) port: the RPC port + 1, where Solana's clients look.
pub const PUBSUB_PORT_DEFAULT: u16 = RPC_PORT_DEFAULT + 1;

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_url_names_the_default_port() {
        assert_eq!(
            super::RPC_URL_DEFAULT,
            format!("http://127.0.0.1:{}", super::RPC_PORT_DEFAULT)
        );
    }
}
