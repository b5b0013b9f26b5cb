//! Solana's own client libraries, unchanged, against `braid node`: `flows.mjs` drives
//! @solana/web3.js and @solana/spl-token (pinned by package-lock.json, installed with
//! `npm ci` on first run) through airdrops, sendAndConfirmTransaction over the PubSub
//! WebSocket, account, program, logs and slot subscriptions, multiple-account and
//! program-account reads, a preflight failure, and a mint with associated token accounts,
//! minting and a checked transfer; then the node is killed with SIGKILL, restarted, and the
//! second half checks what survived and transacts again. The same libraries also send to
//! one validator of four and see the transfer finalized, and read back alike, on all.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;
use common::Node;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/web3js")
}

/// Installs the pinned packages unless they are there already. The tests of this file run
/// in parallel and share one `node_modules`: two `npm ci` at once delete each other's files,
/// so installs take turns, and the second finds the first's.
fn install(dir: &Path) {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _turn = INSTALLING
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    // npm writes its hidden lockfile when an install completes.
    if dir.join("node_modules/.package-lock.json").exists()
        && dir.join("node_modules/@solana/spl-token").exists()
    {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .expect("npm runs (Node.js 20 is needed for this test)");
    assert!(
        output.status.success(),
        "npm ci failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Longest one half of the flows may take (it takes seconds).
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

fn run_phase(dir: &Path, node: &Node, phase: &str, state: &Path) {
    run_phase_with(dir, node, phase, state, &[]);
}

/// [`run_phase`], with more arguments after the state file.
fn run_phase_with(dir: &Path, node: &Node, phase: &str, state: &Path, extra: &[String]) {
    let mut child = Command::new("node")
        .arg("flows.mjs")
        .arg(phase)
        .arg(format!("http://{}", node.rpc_addr))
        .arg(&node.pubsub_url)
        .arg(state)
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js) runs");
    let started = Instant::now();
    // A confirmation that never comes would wait forever: bound it.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PHASE_TIMEOUT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "web3.js flow {phase} failed (or passed {PHASE_TIMEOUT:?}):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn web3js_flows_work_unchanged_across_a_restart() {
    let dir = interop_dir();
    install(&dir);
    let temp = tempfile::tempdir().unwrap();
    let ledger = temp.path().join("ledger");
    let state = temp.path().join("state.json");

    let node = Node::start(&ledger, &[]);
    run_phase(&dir, &node, "before", &state);
    node.kill();

    let node = Node::start(&ledger, &[]);
    run_phase(&dir, &node, "after", &state);
    node.kill();
}

#[test]
fn web3js_transactions_are_finalized_by_a_network_of_validators() {
    let dir = interop_dir();
    install(&dir);
    let temp = tempfile::tempdir().unwrap();
    let network = common::network::Network::create(temp.path());
    let others: Vec<String> = (1..common::network::VALIDATORS)
        .map(|index| format!("http://{}", network.nodes[index].as_ref().unwrap().rpc_addr))
        .collect();
    run_phase_with(
        &dir,
        network.nodes[0].as_ref().unwrap(),
        "network",
        &temp.path().join("unused.json"),
        &others,
    );
}
