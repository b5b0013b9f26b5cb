//! The transport: JSON-RPC 2.0 over HTTP on the RPC port, and Solana's PubSub over
//! WebSocket on its own port (the RPC port + 1 by default, where Solana's clients look).
//!
//! Key decision: the framing, batching, size limits and WebSocket handling are jsonrpsee's
//! (as in reth), on a small tokio runtime of its own; the methods ([`crate::methods`]) stay
//! synchronous and the pipeline keeps its threads. Every limit is a field of [`RpcLimits`]:
//! request and response size, batch length, concurrent requests, subscriptions per
//! connection, queued notifications per connection and the time a request may take to
//! arrive. A request that is malformed, huge or slow costs its own connection only.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::server::{
    BatchRequestConfig, HttpBody, HttpRequest, HttpResponse, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use serde_json::Value;

use crate::methods::{self, METHODS, RpcError, RpcState, SCANNING_METHODS};
use crate::pubsub::{self, PubSub};
use crate::types::codes;

/// Largest request body, in bytes (Solana's limit: a transaction is at most 1232 bytes and
/// 256 signatures of getSignatureStatuses fit with room to spare).
pub const REQUEST_BODY_BYTES_MAX: u32 = 50 << 10;
/// Largest reply, in bytes: a 10 MiB account in base64 fits; a batch that would exceed it is
/// refused as a whole instead of being built in memory.
pub const RESPONSE_BODY_BYTES_MAX: u32 = 16 << 20;
/// Most requests in one batch.
pub const BATCH_REQUESTS_MAX: u32 = 100;
/// Most HTTP requests served at once, and most WebSocket connections.
pub const CONNECTIONS_MAX: u32 = 256;
/// Most subscriptions one WebSocket connection may hold.
pub const SUBSCRIPTIONS_PER_CONNECTION_MAX: u32 = 256;
/// Replies and notifications queued for one connection before its slowest subscription is
/// dropped rather than waited for.
pub const MESSAGES_QUEUED_PER_CONNECTION_MAX: u32 = 1024;
/// Longest an HTTP request may take to arrive and be answered.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Threads of the RPC runtime.
pub const RPC_RUNTIME_THREADS: usize = 2;
/// Longest a stop waits for open connections to close before cutting them.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// The server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body, in bytes.
    pub request_body_bytes_max: u32,
    /// Largest reply, in bytes.
    pub response_body_bytes_max: u32,
    /// Most requests in one batch.
    pub batch_requests_max: u32,
    /// Most HTTP requests in progress, and most WebSocket connections.
    pub connections_max: u32,
    /// Most subscriptions per WebSocket connection.
    pub subscriptions_per_connection_max: u32,
    /// Replies and notifications queued per connection.
    pub messages_queued_per_connection_max: u32,
    /// Longest an HTTP request may take to arrive and be answered.
    pub request_timeout: Duration,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            request_body_bytes_max: REQUEST_BODY_BYTES_MAX,
            response_body_bytes_max: RESPONSE_BODY_BYTES_MAX,
            batch_requests_max: BATCH_REQUESTS_MAX,
            connections_max: CONNECTIONS_MAX,
            subscriptions_per_connection_max: SUBSCRIPTIONS_PER_CONNECTION_MAX,
            messages_queued_per_connection_max: MESSAGES_QUEUED_PER_CONNECTION_MAX,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// Why the server could not listen or start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or a listener could not be set up.
    #[error("cannot start the RPC server: {0}")]
    Start(std::io::Error),
    /// A method name was registered twice (a bug in this crate).
    #[error("cannot register RPC method: {0}")]
    Register(String),
}

/// Bound listeners for JSON-RPC and PubSub; [`RpcServer::serve`] starts answering on them.
pub struct RpcServer {
    http: TcpListener,
    pubsub: TcpListener,
    limits: RpcLimits,
}

/// The running server; [`RpcWorkers::stop`] (or dropping it) ends it.
pub struct RpcWorkers {
    handles: Vec<ServerHandle>,
    runtime: Option<tokio::runtime::Runtime>,
}

fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    let listener = TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok(listener)
}

impl RpcServer {
    /// Binds JSON-RPC on `http` and PubSub on `pubsub` (port 0 picks a free one). Binding
    /// comes before anything costly, so a busy port is reported at once.
    pub fn bind(
        http: SocketAddr,
        pubsub: SocketAddr,
        limits: RpcLimits,
    ) -> Result<Self, ServeError> {
        Ok(Self {
            http: bind(http)?,
            pubsub: bind(pubsub)?,
            limits,
        })
    }

    /// The bound JSON-RPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or_else(|_| unspecified())
    }

    /// The bound PubSub (WebSocket) address.
    pub fn pubsub_addr(&self) -> SocketAddr {
        self.pubsub.local_addr().unwrap_or_else(|_| unspecified())
    }

    /// Answers JSON-RPC against `state` and PubSub from `subscriptions` until stopped.
    pub fn serve(
        self,
        state: Arc<RpcState>,
        subscriptions: Arc<PubSub>,
    ) -> Result<RpcWorkers, ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RPC_RUNTIME_THREADS)
            .thread_name("braid-rpc")
            .enable_all()
            .build()
            .map_err(ServeError::Start)?;
        let _entered = runtime.enter();
        let limits = self.limits;
        let config = |websocket: bool| {
            let builder = ServerConfig::builder()
                .max_request_body_size(limits.request_body_bytes_max)
                .max_response_body_size(limits.response_body_bytes_max)
                .max_connections(limits.connections_max)
                .max_subscriptions_per_connection(limits.subscriptions_per_connection_max)
                .set_message_buffer_capacity(limits.messages_queued_per_connection_max.max(1))
                .set_batch_request_config(BatchRequestConfig::Limit(limits.batch_requests_max));
            if websocket {
                builder.ws_only().build()
            } else {
                builder.http_only().build()
            }
        };

        let http_module = methods_module(&state)?;
        let health = Arc::clone(&state);
        let http = Server::builder()
            .set_config(config(false))
            .set_http_middleware(
                tower::ServiceBuilder::new()
                    .layer_fn(move |service| HealthEndpoint {
                        inner: service,
                        state: Arc::clone(&health),
                    })
                    .timeout(limits.request_timeout),
            )
            .build_from_tcp(self.http)
            .map_err(ServeError::Start)?
            .start(http_module);

        // The PubSub port answers the methods too, as Solana's does.
        let mut pubsub_module = methods_module(&state)?;
        pubsub::register(&mut pubsub_module, subscriptions)
            .map_err(|error| ServeError::Register(error.to_string()))?;
        let pubsub = Server::builder()
            .set_config(config(true))
            .build_from_tcp(self.pubsub)
            .map_err(ServeError::Start)?
            .start(pubsub_module);
        drop(_entered);
        Ok(RpcWorkers {
            handles: vec![http, pubsub],
            runtime: Some(runtime),
        })
    }
}

fn unspecified() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

impl RpcWorkers {
    /// Stops answering: open connections get [`STOP_GRACE`] to finish, then the runtime's
    /// threads are shut down. Never waits longer than that on a client.
    pub fn stop(&mut self) {
        for handle in &self.handles {
            let _ = handle.stop();
        }
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Called from inside an async context (a caller's own runtime): blocking here
            // would panic, so the threads are left to wind down on their own.
            runtime.shutdown_background();
            return;
        }
        let handles: Vec<ServerHandle> = self.handles.drain(..).collect();
        runtime.block_on(async {
            for handle in handles {
                let _ = tokio::time::timeout(STOP_GRACE, handle.stopped()).await;
            }
        });
        runtime.shutdown_timeout(STOP_GRACE);
    }
}

impl Drop for RpcWorkers {
    fn drop(&mut self) {
        self.stop();
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(error: RpcError) -> Self {
        let code = i32::try_from(error.code).unwrap_or(codes::INTERNAL_ERROR as i32);
        ErrorObject::owned(code, error.message, error.data)
    }
}

/// Positional parameters as the methods take them: absent or null is none; anything but
/// an array is Solana's invalid-params error.
pub(crate) fn positional(params: &Params<'_>) -> Result<Vec<Value>, RpcError> {
    match params.as_str() {
        None => Ok(Vec::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(values)) => Ok(values),
            Ok(Value::Null) => Ok(Vec::new()),
            Ok(_) => Err(RpcError::invalid_params("\"params\" must be an array")),
            Err(error) => Err(RpcError::invalid_params(format!(
                "Invalid params: {error}."
            ))),
        },
    }
}

/// Every method of [`METHODS`], each a call into [`methods::call`].
fn methods_module(state: &Arc<RpcState>) -> Result<RpcModule<RpcState>, ServeError> {
    let mut module = RpcModule::from_arc(Arc::clone(state));
    for &name in METHODS {
        let registered = if SCANNING_METHODS.contains(&name) {
            // A scan walks every account: it runs on the blocking pool (at most
            // `SCANS_MAX` at once), so it never holds up the runtime's two threads.
            module
                .register_blocking_method(name, move |params, state, _| {
                    let params = positional(&params)?;
                    methods::call(&state, name, params).map_err(ErrorObjectOwned::from)
                })
                .map(|_| ())
        } else {
            module
                .register_method(name, move |params, state, _| {
                    let params = positional(&params)?;
                    methods::call(state, name, params).map_err(ErrorObjectOwned::from)
                })
                .map(|_| ())
        };
        registered.map_err(|error| ServeError::Register(error.to_string()))?;
    }
    Ok(module)
}

/// `GET /health`: 200 "ok" while the pipeline runs, 503 with the reason once it stopped,
/// as solana-test-validator's health endpoint. Everything else goes to JSON-RPC.
#[derive(Clone)]
struct HealthEndpoint<S> {
    inner: S,
    state: Arc<RpcState>,
}

/// The error type every layer of the HTTP stack uses.
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<S> tower::Service<HttpRequest> for HealthEndpoint<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if request.method() == http::Method::GET && request.uri().path() == "/health" {
            let (status, body) = match self.state.shared().health() {
                Ok(()) => (http::StatusCode::OK, "ok".to_owned()),
                Err(failure) => (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    format!("unhealthy: {failure}"),
                ),
            };
            let response = HttpResponse::builder()
                .status(status)
                .header(http::header::CONTENT_TYPE, "text/plain")
                .body(HttpBody::from(body))
                .map_err(BoxError::from);
            return Box::pin(async move { response });
        }
        Box::pin(self.inner.call(request))
    }
}
