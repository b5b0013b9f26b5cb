//! `braid bench --rpc-url`: the load generator against a running `braid node`.
#![allow(clippy::arithmetic_side_effects)] // test arithmetic on small known counts

mod common;

use std::process::Command;

use common::{BRAID, Node};
use serde_json::Value;

#[test]
fn a_remote_bench_finalizes_every_transaction_the_node_counts() {
    let report = remote_bench(&[]);
    // JSON-RPC only: no ingestion port, so no ingestion threads spent anything.
    assert!(
        !groups(&report).contains(&"braid-ingest".to_owned()),
        "{report}"
    );
}

#[test]
fn a_remote_bench_sends_over_the_ingestion_port_where_the_node_serves_one() {
    let report = remote_bench(&["--ingest-port", "0"]);
    assert!(
        groups(&report).contains(&"braid-ingest".to_owned()),
        "{report}"
    );
}

/// The thread groups the node spent CPU in over the measured phase.
fn groups(report: &Value) -> Vec<String> {
    report["node_cpu"][0]["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("node_cpu in {report}"))
        .iter()
        .map(|group| group["group"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs 200 transfers through `braid bench --rpc-url` against a node started with
/// `node_args`, checks every count, and returns the report.
fn remote_bench(node_args: &[&str]) -> Value {
    let ledger = tempfile::tempdir().unwrap();
    let node = Node::start(ledger.path(), node_args);
    let before = node.client.get_transaction_count().unwrap();
    let faucet = ledger.path().join("faucet.json");
    let output = Command::new(BRAID)
        .args(["bench", "--rpc-url"])
        .arg(format!("http://{}", node.rpc_addr))
        .arg("--faucet")
        .arg(&faucet)
        .args(["--workload", "transfer", "--txs", "200", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed: {stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let count = |field: &str| {
        report[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{field} in {report}"))
    };
    assert_eq!(count("txs"), 200);
    assert_eq!(count("committed"), 200);
    assert_eq!(count("failed"), 0);
    assert_eq!(count("dropped"), 0);
    assert_eq!(count("busy"), 0);
    assert_eq!(count("rejected"), 0);
    assert_eq!(count("submitted"), 200);
    // The node counted exactly the finalized load over the measured phase...
    assert_eq!(count("node_transactions"), 200);
    // ...and, seen from outside, the load plus every setup transaction (the faucet's
    // transfer to the funder, the users' and the hot account's funding).
    let after = node.client.get_transaction_count().unwrap();
    assert_eq!(after - before, 200 + count("setup_transactions"));
    assert!(count("setup_transactions") > 1, "{report}");
    assert!(report["tps"].as_f64().unwrap() > 0.0, "{report}");
    let p50 = report["latency_p50_ms"].as_f64().unwrap();
    let p99 = report["latency_p99_ms"].as_f64().unwrap();
    let p999 = report["latency_p999_ms"].as_f64().unwrap();
    assert!(0.0 < p50 && p50 <= p99 && p99 <= p999, "{report}");
    assert_eq!(report["workload"], "transfer");
    // Setup progress went to stderr.
    assert!(stderr.contains("setup"), "{stderr}");
    report
}

#[test]
fn a_remote_bench_refuses_in_process_flags() {
    // `braid bench` against a URL where nothing listens, with `faucet` and `extra`.
    let bench = |faucet: &str, extra: &[&str]| {
        Command::new(BRAID)
            .args([
                "bench",
                "--rpc-url",
                "http://127.0.0.1:1",
                "--faucet",
                faucet,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = |extra: &[&str]| {
        let output = bench("f.json", extra);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        String::from_utf8(output.stderr).unwrap()
    };
    assert_eq!(
        refused(&["--threads", "2"]),
        "error: the argument '--rpc-url <URL>' cannot be used with '--threads <THREADS>'\n\
         \n\
         Usage: braid bench --rpc-url <URL> --faucet <KEYPAIR_FILE>\n\
         \n\
         For more information, try '--help'.\n"
    );
    for extra in [
        &["--serial"][..],
        &["--no-sigverify"],
        &["--bad-signatures", "0.1"],
        &["--simulate-threads", "4"],
        &["--sweep"],
        &["--ledger", "/tmp/x"],
    ] {
        let stderr = refused(extra);
        assert!(
            stderr.starts_with("error: the argument '--rpc-url <URL>' cannot be used with '"),
            "{extra:?}: {stderr}"
        );
    }
    // --rpc-url needs --faucet.
    let output = Command::new(BRAID)
        .args(["bench", "--rpc-url", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--faucet <KEYPAIR_FILE>"),
        "{output:?}"
    );
    // Defaults (--threads has one) conflict with nothing: this gets as far as the faucet
    // file, which does not exist.
    let output = bench("missing.json", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot use faucet keypair missing.json: "),
        "{stderr}"
    );
}

#[test]
fn the_client_batches_calls_and_answers_each_in_order() {
    use braid_rpc::client::ClientError;
    use braid_rpc::types::codes;
    use serde_json::json;

    let ledger = tempfile::tempdir().unwrap();
    let node = Node::start(ledger.path(), &[]);
    let client = &node.client;
    let replies = client
        .call_batch(&[
            ("getMinimumBalanceForRentExemption", json!([165])),
            ("noSuchMethod", json!([])),
            ("getTransactionCount", json!([])),
        ])
        .unwrap();
    assert_eq!(replies.len(), 3);
    assert_eq!(
        replies[0].as_ref().unwrap(),
        &json!(braid_runtime::rent::minimum_balance(165))
    );
    assert!(
        matches!(&replies[1], Err(ClientError::Rpc { code, .. }) if *code == codes::METHOD_NOT_FOUND),
        "{:?}",
        replies[1]
    );
    assert!(replies[2].as_ref().unwrap().is_u64());
    // Past the node's batch limit the batch is refused as a whole.
    let calls: Vec<(&str, Value)> = (0..=braid_rpc::server::BATCH_REQUESTS_MAX)
        .map(|_| ("getSlot", json!([])))
        .collect();
    assert!(client.call_batch(&calls).is_err());
    // A transaction that does not parse is refused on its own.
    let replies = client.send_wire_batch(&[vec![1, 2, 3]]).unwrap();
    assert!(
        matches!(&replies[0], Err(ClientError::Rpc { code, .. }) if *code == codes::INVALID_PARAMS),
        "{replies:?}"
    );
    // Balances come in order, in as many getMultipleAccounts calls as it takes.
    let faucet = braid_runtime::keypair::read_keypair_file(ledger.path().join("faucet.json"))
        .unwrap()
        .pubkey();
    let mut keys: Vec<_> = (0..150)
        .map(|_| braid_runtime::keypair::Keypair::new().pubkey())
        .collect();
    keys[120] = faucet;
    let balances = client.get_balances(&keys).unwrap();
    assert_eq!(balances.len(), 150);
    assert_eq!(balances[120], client.get_balance(&faucet).unwrap());
    assert!(balances[120] > 0);
    assert_eq!(balances.iter().filter(|&&lamports| lamports > 0).count(), 1);
}
