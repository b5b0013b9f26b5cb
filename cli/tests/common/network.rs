//! A network of `braid node` validators on loopback, one process each, from `braid genesis`.
#![allow(clippy::arithmetic_side_effects)] // ports and indices in test code

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use braid_rpc::client::RpcClient;
use serde_json::{Value, json};

use super::{BRAID, Node};

/// Validators in a test network.
pub const VALIDATORS: usize = 4;
/// How long a test network gets to reach a slot.
pub const DEADLINE: Duration = Duration::from_secs(60);

fn free_addresses(count: usize) -> Vec<SocketAddr> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|listener| listener.local_addr().unwrap())
        .collect()
}

/// Held by each [`Network`]: one at a time per test binary. Four debug-build validators
/// already fill two cores, and the tests' waits (a transaction forwarded within 500 ms, a
/// decision in flight landing within 2 s) assume no more than that.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The validators, their directory and addresses.
pub struct Network {
    pub dir: PathBuf,
    pub p2p: Vec<SocketAddr>,
    /// JSON-RPC, then PubSub, per validator: fixed, so each can forward to the others.
    pub rpc: Vec<(SocketAddr, SocketAddr)>,
    pub nodes: Vec<Option<Node>>,
    /// Last, so that it is released after the nodes are killed.
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Network {
    pub fn create(dir: &Path) -> Self {
        // A test that failed while holding it poisoned it; the next network is still sound.
        let one_at_a_time = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let output = Command::new(BRAID)
            .args(["genesis", "--validators", &VALIDATORS.to_string(), "--out"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let free = free_addresses(3 * VALIDATORS);
        let mut network = Self {
            dir: dir.to_owned(),
            p2p: free[..VALIDATORS].to_vec(),
            rpc: (0..VALIDATORS)
                .map(|i| (free[VALIDATORS + 2 * i], free[VALIDATORS + 2 * i + 1]))
                .collect(),
            nodes: (0..VALIDATORS).map(|_| None).collect(),
            _one_at_a_time: one_at_a_time,
        };
        for index in 0..VALIDATORS {
            network.start(index);
        }
        network
    }

    pub fn start(&mut self, index: usize) {
        let dir = &self.dir;
        let mut args: Vec<String> = vec![
            "--genesis".into(),
            dir.join("genesis.bin").display().to_string(),
            "--identity".into(),
            dir.join(format!("validator-{index}.json"))
                .display()
                .to_string(),
            "--faucet".into(),
            dir.join("faucet.json").display().to_string(),
            "--p2p".into(),
            self.p2p[index].to_string(),
            "--rpc-port".into(),
            self.rpc[index].0.port().to_string(),
            "--ws-port".into(),
            self.rpc[index].1.port().to_string(),
        ];
        for (other, address) in self.p2p.iter().enumerate() {
            if other != index {
                args.push("--peer".into());
                args.push(address.to_string());
                args.push("--peer-rpc".into());
                args.push(format!("http://{}", self.rpc[other].0));
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.nodes[index] = Some(Node::start(&dir.join(format!("ledger-{index}")), &args));
    }

    pub fn client(&self, index: usize) -> &RpcClient {
        &self.nodes[index].as_ref().unwrap().client
    }

    pub fn pid(&self, index: usize) -> i32 {
        self.nodes[index].as_ref().unwrap().child.id() as i32
    }

    /// Waits until validator `index` has finalized slot `slot`.
    pub fn wait_for_slot(&self, index: usize, slot: u64) {
        let started = Instant::now();
        loop {
            if self.client(index).get_slot().is_ok_and(|now| now >= slot) {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "validator {index} did not reach slot {slot}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// getBlock's blockhash and previousBlockhash at `slot` on validator `index`.
    pub fn block_hashes(&self, index: usize, slot: u64) -> (String, String) {
        let block: Value = self
            .client(index)
            .call_raw(
                "getBlock",
                json!([slot, {"transactionDetails": "none", "rewards": false}]),
            )
            .unwrap();
        (
            block["blockhash"].as_str().unwrap().to_owned(),
            block["previousBlockhash"].as_str().unwrap().to_owned(),
        )
    }

    /// Every listed validator reports the same block hashes for slots 1..=`through`.
    pub fn assert_agree(&self, which: &[usize], through: u64) {
        for slot in 1..=through {
            let reference = self.block_hashes(which[0], slot);
            for &index in &which[1..] {
                assert_eq!(
                    self.block_hashes(index, slot),
                    reference,
                    "validator {index} differs at slot {slot}"
                );
            }
        }
    }
}
