//! The `braid` binary as users run it: keys, error lines, and a node subprocess that keeps
//! a confirmed transfer across SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BRAID: &str = env!("CARGO_BIN_EXE_braid");

fn braid(args: &[&str]) -> Output {
    Command::new(BRAID).args(args).output().expect("braid runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Runs a command expected to succeed with `--output json` and parses its one object.
fn braid_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let output = braid(&all);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {}", stdout(&output)))
}

/// A command expected to fail: returns its single stderr line.
fn failure(args: &[&str]) -> String {
    let output = braid(args);
    assert!(!output.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn path(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn keygen_address_round_trip_and_overwrite_guard() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("id.json");
    let made = braid_json(&["keygen", "new", "-o", path(&file)]);
    let pubkey = made["pubkey"].as_str().unwrap().to_owned();
    assert_eq!(stdout(&braid(&["address", "-k", path(&file)])), pubkey);
    assert_eq!(
        braid_json(&["address", "-k", path(&file)])["pubkey"],
        pubkey.as_str()
    );

    let refused = failure(&["keygen", "new", "-o", path(&file)]);
    assert!(refused.contains("--force"), "{refused}");
    assert_eq!(
        stdout(&braid(&["address", "-k", path(&file)])),
        pubkey,
        "not overwritten"
    );
    let replaced = braid_json(&["keygen", "new", "-o", path(&file), "--force"]);
    assert_ne!(replaced["pubkey"], pubkey.as_str());
}

#[test]
fn solana_keypair_files_work_unchanged() {
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/solana-wire.json"
        ))
        .expect("shared test vectors"),
    )
    .unwrap();
    let entry = &vectors["keypairs"][0];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("solana.json");
    std::fs::write(&file, entry["keypair_json"].to_string()).unwrap();
    assert_eq!(
        stdout(&braid(&["address", "-k", path(&file)])),
        entry["pubkey"].as_str().unwrap()
    );
}

#[test]
fn user_mistakes_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "this is not a keypair").unwrap();
    let message = failure(&["address", "-k", path(&bad)]);
    assert!(message.contains("bad.json"), "{message}");
    failure(&["address", "-k", path(&dir.path().join("missing.json"))]);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let key = "CqNS4nQpY2H4jxS2VaDF3spMK5nnjy9J2JZTQQkGuUDz";
    let message = failure(&["-u", &url, "balance", key]);
    assert!(
        message.contains("cannot reach the node") && message.contains(&url),
        "{message}"
    );
}

/// A `braid node` child, killed with SIGKILL when dropped.
struct NodeProcess {
    child: Child,
    url: String,
    /// Kept open so the node's later output never meets a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl NodeProcess {
    fn start(ledger: &Path) -> Self {
        let mut child = Command::new(BRAID)
            .args(["node", "--ledger", path(ledger), "--rpc-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {line:?}");
        Self {
            child,
            url,
            _stdout: reader,
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn node_airdrop_transfer_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let id = dir.path().join("id.json");
    braid_json(&["keygen", "new", "-o", path(&id)]);
    let recipient =
        braid_json(&["keygen", "new", "-o", path(&dir.path().join("to.json"))])["pubkey"]
            .as_str()
            .unwrap()
            .to_owned();

    let node = NodeProcess::start(&ledger);
    let url = node.url.clone();
    let with = |args: &[&str]| -> Value {
        let mut all = vec!["-u", url.as_str(), "-k", path(&id)];
        all.extend_from_slice(args);
        braid_json(&all)
    };
    let airdrop = with(&["airdrop", "10000000000"]);
    assert_eq!(airdrop["balance"], 10_000_000_000u64, "{airdrop}");
    assert!(airdrop["signature"].is_string());
    let transfer = with(&["transfer", &recipient, "1234567"]);
    assert_eq!(transfer["confirmationStatus"], "finalized", "{transfer}");
    assert_eq!(with(&["balance", &recipient])["lamports"], 1_234_567);
    // The transfer, read back from the node's history.
    let signature = transfer["signature"].as_str().unwrap();
    let history = with(&["transaction", signature]);
    assert_eq!(history["slot"], transfer["slot"], "{history}");
    assert_eq!(history["meta"]["err"], Value::Null);
    assert_eq!(
        history["meta"]["postBalances"][1].as_u64(),
        Some(1_234_567),
        "{history}"
    );
    let text = braid(&["-u", url.as_str(), "transaction", signature]);
    assert!(text.status.success());
    let text = stdout(&text);
    assert!(text.contains(": succeeded"), "{text}");
    assert!(
        text.contains(&format!("{recipient}: 0 -> 1234567 (+1234567)")),
        "{text}"
    );
    assert!(
        text.contains("Program 11111111111111111111111111111111 success"),
        "{text}"
    );
    let unknown = braid(&["-u", url.as_str(), "transaction", &"1".repeat(64)]);
    assert!(!unknown.status.success());
    let account = with(&["account", &recipient]);
    assert_eq!(
        (account["lamports"].as_u64(), account["space"].as_u64()),
        (Some(1_234_567), Some(0))
    );

    let mint = with(&["token", "create-mint", "--decimals", "6"])["mint"]
        .as_str()
        .unwrap()
        .to_owned();
    let source = with(&["token", "create-account", &mint])["account"]
        .as_str()
        .unwrap()
        .to_owned();
    let destination = with(&["token", "create-account", &mint, "--owner", &recipient])["account"]
        .as_str()
        .unwrap()
        .to_owned();
    with(&["token", "mint", &mint, &source, "1000"]);
    with(&["token", "transfer", &source, &destination, "250"]);
    let held = with(&["account", &destination]);
    assert_eq!(held["owner"], "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

    let feed = with(&["oracle", "create-feed", "--exponent", "-6"])["feed"]
        .as_str()
        .unwrap()
        .to_owned();
    let priced = with(&[
        "oracle",
        "set-price",
        &feed,
        "1500000",
        "--confidence",
        "100",
    ]);
    assert_eq!(priced["price"], 1_500_000, "{priced}");

    // Insufficient funds is a one-line error, not a panic.
    let broke = failure(&[
        "-u",
        &url,
        "-k",
        path(&id),
        "transfer",
        &recipient,
        "99999999999999",
    ]);
    assert!(broke.contains("transfer failed"), "{broke}");

    node.kill();
    let node = NodeProcess::start(&ledger);
    let balance = braid_json(&["-u", &node.url, "balance", &recipient]);
    assert_eq!(
        balance["lamports"], 1_234_567,
        "a confirmed transfer survives SIGKILL"
    );
    node.kill();

    let verified = braid_json(&["ledger", "verify", "--ledger", path(&ledger)]);
    assert_eq!(verified["ok"], true);
    assert!(verified["slot"].as_u64().unwrap() > 0);
}

#[test]
fn bench_prints_one_json_report() {
    let report = braid_json(&["bench", "--txs", "300", "--accounts", "16", "--json"]);
    for key in [
        "workload",
        "txs",
        "committed",
        "failed",
        "elapsed_s",
        "tps",
        "threads",
        "sigverify",
        "state_hash",
    ] {
        assert!(report.get(key).is_some(), "{key} missing: {report}");
    }
    assert_eq!(report["txs"], 300);
}

#[test]
fn bench_sweep_pools_repeats_the_sweep_per_pool_count_with_a_plot_each() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("amm.svg");
    let report = braid_json(&[
        "bench",
        "--sweep",
        "--sweep-pools",
        "1,3",
        "--plot",
        path(&plot),
        "--workload",
        "amm",
        "--txs",
        "60",
        "--accounts",
        "8",
        "--no-sigverify",
    ]);
    let points = report["sweep"].as_array().unwrap();
    let pools: Vec<u64> = points
        .iter()
        .map(|p| p["pools"].as_u64().unwrap())
        .collect();
    assert_eq!(pools, [[1u64; 10], [3; 10]].concat());
    assert!(points.iter().all(|p| p["report"]["committed"] == 60));
    for count in [1, 3] {
        let file = dir.path().join(format!("amm-pools-{count}.svg"));
        assert!(std::fs::read_to_string(&file).unwrap().starts_with("<svg"));
    }
    assert_eq!(report["plots"].as_array().unwrap().len(), 2);
    assert_eq!(
        failure(&[
            "bench",
            "--sweep",
            "--sweep-pools",
            "--workload",
            "transfer"
        ]),
        "error: --sweep-pools: the transfer workload has no pools (use amm, lending, insurance or mix)"
    );
}

#[test]
fn bench_sweep_reports_every_pair_and_writes_the_plot() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("sweep.svg");
    let plot_arg = plot.to_str().unwrap();
    let report = braid_json(&[
        "bench",
        "--sweep",
        "--plot",
        plot_arg,
        "--workload",
        "transfer",
        "--txs",
        "200",
        "--accounts",
        "16",
        "--no-sigverify",
        "--json",
    ]);
    let points = report["sweep"].as_array().unwrap();
    let pairs: Vec<(u64, f64)> = points
        .iter()
        .map(|p| {
            (
                p["threads"].as_u64().unwrap(),
                p["hot_ratio"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(u64, f64)> = [1, 2]
        .iter()
        .flat_map(|&t| [0.0, 0.25, 0.5, 0.75, 1.0].map(|h| (t, h)))
        .collect();
    assert_eq!(pairs, expected);
    assert!(points.iter().all(|p| p["report"]["committed"] == 200));
    assert_eq!(report["plot"], plot_arg);
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
}
