//! A `braid node` child process for the tests that need a real node: its RPC client, its
//! PubSub address and what it wrote to stderr.
#![allow(dead_code)]

pub mod network;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use braid_primitives::Pubkey;
use braid_rpc::client::{ClientError, RpcClient};
use braid_rpc::types::ConfirmationStatus;

pub const BRAID: &str = env!("CARGO_BIN_EXE_braid");
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(20);

/// A `braid node` child whose stderr is collected; killed when dropped.
pub struct Node {
    pub child: Child,
    pub client: RpcClient,
    /// `host:port` of JSON-RPC.
    pub rpc_addr: String,
    /// `ws://host:port` of PubSub.
    pub pubsub_url: String,
    stderr: Option<std::thread::JoinHandle<String>>,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Node {
    /// Starts a node on `ledger` with free ports (unless `extra` names an RPC port) and
    /// `extra` arguments.
    pub fn start(ledger: &Path, extra: &[&str]) -> Self {
        let ports: &[&str] = if extra.contains(&"--rpc-port") {
            &[]
        } else {
            &["--rpc-port", "0"]
        };
        let mut child = Command::new(BRAID)
            .args(["node", "--ledger"])
            .arg(ledger)
            .args(ports)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut last_word = || {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line.trim()
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let url = last_word();
        assert!(url.starts_with("http://127.0.0.1:"), "RPC URL: {url:?}");
        let pubsub_url = last_word();
        assert!(
            pubsub_url.starts_with("ws://127.0.0.1:"),
            "PubSub URL: {pubsub_url:?}"
        );
        Self {
            child,
            rpc_addr: url.trim_start_matches("http://").to_owned(),
            client: RpcClient::new(url),
            pubsub_url,
            stderr: Some(stderr),
            _stdout: reader,
        }
    }

    /// Airdrops and waits until finalized.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ClientError> {
        let signature = self.client.request_airdrop(to, lamports)?;
        self.client
            .confirm_transaction(&signature, ConfirmationStatus::Finalized, CONFIRM_TIMEOUT)
            .map(|_| ())
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills the node and returns what it wrote to stderr.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.stderr
            .take()
            .map(|thread| thread.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
