//! Braid's JSON-RPC: Solana's method names and reply shapes, served over HTTP for a running
//! pipeline, and a blocking client that speaks the same shapes.
//!
//! ```text
//! HTTP POST ─► worker threads ─► sendTransaction ─► preflight ─► Pipeline::submit
//!  (tiny_http)    │                                               │
//!                 └─ reads: Shared (slot, blockhash, accounts)     ▼ events
//!                 └─ getSignatureStatuses ◄── StatusTracker ◄── (the node applies them)
//! ```
//!
//! - [`types`]: the request and reply shapes, and JSON-RPC error codes.
//! - [`server`]: [`RpcServer`] binds and serves an [`RpcState`] (pipeline, executor for
//!   preflight, status tracker, optional faucet).
//! - [`status`]: [`status::StatusTracker`], signature statuses built from pipeline events:
//!   `processed` once executed, `finalized` once the slot's commit is durable.
//! - [`client`]: [`client::RpcClient`], the blocking client the CLI uses.
//!
//! Braid's differences from Solana: `sendTransaction` defaults to base64 (Solana's default
//! is base58; both are accepted through `{"encoding": ...}`).
//!
//! Key decision: the server is `tiny_http`, a small synchronous HTTP/1.1 server; a node
//! serves a handful of local clients with short requests, so an async runtime would only add
//! a second threading model beside the pipeline's threads and channels.

pub mod client;
pub mod server;
pub mod status;
pub mod types;

pub use server::{
    AIRDROP_LAMPORTS_MAX, FAUCET_WINDOW, FAUCET_WINDOW_LAMPORTS_MAX, FaucetLimits,
    REQUEST_BODY_BYTES_MAX, RpcServer, RpcState, RpcWorkers, SIGNATURE_STATUSES_MAX, ServeError,
};

/// The default JSON-RPC port (Solana's).
pub const RPC_PORT_DEFAULT: u16 = 8899;
/// The URL of a local node on [`RPC_PORT_DEFAULT`], where clients look by default.
pub const RPC_URL_DEFAULT: &str = "http://127.0.0.1:8899";
/// Threads answering HTTP requests.
pub const RPC_WORKER_THREADS_DEFAULT: usize = 2;

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
