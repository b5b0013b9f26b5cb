//! The node's JSON-RPC end to end: every method's exact reply shape and an error case for
//! each, airdrop and transfer through the pipeline, statuses progressing to finalized, and a
//! restart on the same ledger keeping every balance.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_node::{FAUCET_LAMPORTS_DEFAULT, Node, NodeConfig, NodeError};
use braid_program_system::instruction as system;
use braid_rpc::client::{ClientError, RpcClient};
use braid_rpc::types::{ConfirmationStatus, codes};
use braid_runtime::keypair::Keypair;
use braid_runtime::program::ProgramRegistry;
use braid_runtime::{Hash, Pubkey, Signature, Transaction};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const AIRDROP: u64 = 10_000_000_000;

fn programs() -> ProgramRegistry {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs
}

fn start(dir: &Path) -> Node {
    Node::start(NodeConfig::new(dir, 0), programs()).expect("node starts")
}

/// Posts `body` and returns the whole JSON reply.
fn post(node: &Node, body: &str) -> Value {
    let mut response = ureq::post(&node.rpc_url())
        .header("Content-Type", "application/json")
        .send(body)
        .expect("node answers");
    let text = response.body_mut().read_to_string().expect("reply body");
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("reply {text:?} is not JSON: {error}"))
}

fn call(node: &Node, method: &str, params: Value) -> Value {
    post(
        node,
        &json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string(),
    )
}

/// The `result` of a successful call, checking the envelope.
fn result(node: &Node, method: &str, params: Value) -> Value {
    let reply = call(node, method, params);
    assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
    assert_eq!(reply["id"], 7, "{reply}");
    assert!(reply.get("error").is_none(), "{method} failed: {reply}");
    reply["result"].clone()
}

/// The error object of a failed call, checking its code.
fn error(node: &Node, method: &str, params: Value, code: i64) -> String {
    let reply = call(node, method, params);
    assert_eq!(reply["error"]["code"], code, "{method}: {reply}");
    assert!(reply.get("result").is_none(), "{reply}");
    reply["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

fn transfer(from: &Keypair, to: &Pubkey, lamports: u64, blockhash: Hash) -> Transaction {
    Transaction::new_signed_with_payer(
        &[system::transfer(&from.pubkey(), to, lamports)],
        Some(&from.pubkey()),
        &[from],
        blockhash,
    )
}

fn confirm(client: &RpcClient, signature: &Signature) {
    client
        .confirm_transaction(signature, ConfirmationStatus::Finalized, WAIT)
        .expect("confirmed");
}

/// A node on a fresh ledger, its client and its faucet. Each test starts its own, so one
/// failing behaviour never hides another.
struct Fixture {
    node: Node,
    client: RpcClient,
    faucet: Pubkey,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node = start(dir.path());
        let client = RpcClient::new(node.rpc_url());
        let faucet = node.faucet().expect("a new node has a faucet");
        Self {
            node,
            client,
            faucet,
            _dir: dir,
        }
    }

    /// Sends `tx` past preflight and waits for it to fail in its block: its typed error.
    fn fail_in_block(&self, tx: &Transaction) -> Option<braid_runtime::TransactionError> {
        let sent = result(
            &self.node,
            "sendTransaction",
            json!([BASE64.encode(tx.to_bytes()), {"skipPreflight": true}]),
        );
        self.client
            .confirm_transaction(
                &sent.as_str().unwrap().parse().unwrap(),
                ConfirmationStatus::Finalized,
                WAIT,
            )
            .unwrap_err()
            .transaction_error()
    }

    /// A user holding [`AIRDROP`] lamports, finalized.
    fn funded_user(&self, seed: u8) -> Keypair {
        let user = Keypair::from_seed(&[seed; 32]);
        let airdrop = self
            .client
            .request_airdrop(&user.pubkey(), AIRDROP)
            .unwrap();
        confirm(&self.client, &airdrop);
        user
    }
}

const RECIPIENT: Pubkey = Pubkey::new_from_array([9; 32]);

/// The typed error of a transfer the payer cannot afford: System's
/// `ResultWithNegativeLamports` (code 1) in instruction 0, in Solana's JSON shape.
fn insufficient_lamports() -> Value {
    json!({"InstructionError": [0, {"Custom": 1}]})
}

#[test]
fn health_version_slot_and_count_answer() {
    let fx = Fixture::new();
    assert_eq!(
        call(&fx.node, "getHealth", json!([])),
        json!({"jsonrpc": "2.0", "result": "ok", "id": 7})
    );
    assert!(result(&fx.node, "getVersion", json!([]))["solana-core"].is_string());
    assert!(result(&fx.node, "getSlot", json!([])).is_u64());
    assert_eq!(result(&fx.node, "getTransactionCount", json!([])), 0);
}

#[test]
fn thread_cpu_names_the_node_threads_and_the_exited_ones() {
    let fx = Fixture::new();
    let reply = result(&fx.node, "braidGetThreadCpu", json!([]));
    assert_eq!(reply["transactionCount"], 0);
    let groups = reply["groups"].as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .map(|group| group["group"].as_str().unwrap())
        .collect();
    // The pipeline's stages and the RPC server answering this, each a group of its own.
    for expected in [
        "braid-rpc",
        "braid-scheduler",
        "braid-sigverify",
        "braid-banking",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.last(), Some(&braid_interfaces::threads::EXITED_GROUP));
    assert!(groups.iter().all(|group| group["cpuNs"].is_u64()));
}

#[test]
fn performance_samples_start_empty_and_limits_are_checked() {
    let fx = Fixture::new();
    // The first sample closes after a minute.
    assert_eq!(
        result(&fx.node, "getRecentPerformanceSamples", json!([])),
        json!([])
    );
    assert_eq!(
        result(&fx.node, "getRecentPerformanceSamples", json!([5])),
        json!([])
    );
    let message = error(
        &fx.node,
        "getRecentPerformanceSamples",
        json!([721]),
        codes::INVALID_PARAMS,
    );
    assert_eq!(message, "Invalid limit; max 720");
}

#[test]
fn latest_blockhash_has_context_and_last_valid_height() {
    let fx = Fixture::new();
    let latest = result(&fx.node, "getLatestBlockhash", json!([]));
    assert!(latest["context"]["slot"].is_u64(), "{latest}");
    let blockhash = latest["value"]["blockhash"].as_str().unwrap();
    assert!(blockhash.parse::<Hash>().is_ok(), "{latest}");
    assert!(latest["value"]["lastValidBlockHeight"].is_u64());
}

#[test]
fn get_balance_reports_lamports_and_refuses_bad_keys() {
    let fx = Fixture::new();
    let balance = result(&fx.node, "getBalance", json!([fx.faucet.to_string()]));
    assert_eq!(balance["value"], FAUCET_LAMPORTS_DEFAULT, "{balance}");
    assert!(balance["context"]["slot"].is_u64());
    let nobody = Pubkey::new_from_array([3; 32]).to_string();
    assert_eq!(result(&fx.node, "getBalance", json!([nobody]))["value"], 0);
    error(&fx.node, "getBalance", json!([]), codes::INVALID_PARAMS);
    error(
        &fx.node,
        "getBalance",
        json!(["not a key"]),
        codes::INVALID_PARAMS,
    );
}

#[test]
fn get_account_info_encodes_base64() {
    let fx = Fixture::new();
    let system_id = braid_runtime::SYSTEM_PROGRAM_ID.to_string();
    let info = result(
        &fx.node,
        "getAccountInfo",
        json!([system_id, {"encoding": "base64"}]),
    );
    assert_eq!(
        info["value"],
        json!({
            "data": [BASE64.encode(b"system"), "base64"],
            "executable": true,
            "lamports": 1,
            "owner": braid_runtime::NATIVE_LOADER_ID.to_string(),
            "rentEpoch": u64::MAX,
            "space": 6,
        })
    );
    assert_eq!(
        result(&fx.node, "getAccountInfo", json!([system_id]))["value"]["data"][1],
        "base64"
    );
    let nobody = Pubkey::new_from_array([4; 32]).to_string();
    assert_eq!(
        result(&fx.node, "getAccountInfo", json!([nobody]))["value"],
        Value::Null
    );
    // jsonParsed parses SPL Token accounts; anything else falls back to base64, as Solana.
    assert_eq!(
        result(
            &fx.node,
            "getAccountInfo",
            json!([system_id, {"encoding": "jsonParsed"}])
        )["value"]["data"],
        json!([BASE64.encode(b"system"), "base64"])
    );
    let message = error(
        &fx.node,
        "getAccountInfo",
        json!([system_id, {"encoding": "base32"}]),
        codes::INVALID_PARAMS,
    );
    assert_eq!(
        message,
        "unsupported encoding \"base32\": use base64, base64+zstd, base58 or jsonParsed"
    );
    // base64+zstd: compressed, then base64; a slice is taken before compressing.
    for (config, expected) in [
        (json!({"encoding": "base64+zstd"}), &b"system"[..]),
        (
            json!({"encoding": "base64+zstd", "dataSlice": {"offset": 2, "length": 3}}),
            &b"ste"[..],
        ),
    ] {
        let info = result(&fx.node, "getAccountInfo", json!([system_id, config]));
        assert_eq!(info["value"]["data"][1], "base64+zstd", "{info}");
        let compressed = BASE64
            .decode(info["value"]["data"][0].as_str().unwrap())
            .unwrap();
        assert_eq!(zstd::decode_all(&compressed[..]).unwrap(), expected);
    }
}

#[test]
fn protocol_errors_carry_json_rpc_codes() {
    let fx = Fixture::new();
    let unknown = error(&fx.node, "noSuchMethod", json!([]), codes::METHOD_NOT_FOUND);
    assert_eq!(unknown, "Method not found");
    assert_eq!(
        post(&fx.node, "{not json")["error"]["code"],
        codes::PARSE_ERROR
    );
    assert_eq!(
        post(&fx.node, r#"{"jsonrpc":"1.0","id":1,"method":"getSlot"}"#)["error"]["code"],
        codes::INVALID_REQUEST
    );
    assert_eq!(
        post(
            &fx.node,
            r#"{"jsonrpc":"2.0","id":1,"method":"getSlot","params":{}}"#
        )["error"]["code"],
        codes::INVALID_PARAMS
    );
}

#[test]
fn a_batch_answers_each_request_in_order() {
    let fx = Fixture::new();
    let batch = post(
        &fx.node,
        r#"[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#,
    );
    assert_eq!(batch[0]["id"], 1);
    assert!(batch[0]["result"].is_u64());
    assert_eq!(batch[1]["id"], 2);
    assert_eq!(batch[1]["error"]["code"], codes::METHOD_NOT_FOUND);
}

#[test]
fn airdrop_funds_and_refuses_bad_amounts() {
    let fx = Fixture::new();
    let user = Keypair::from_seed(&[1; 32]);
    let airdrop: String = serde_json::from_value(result(
        &fx.node,
        "requestAirdrop",
        json!([user.pubkey().to_string(), AIRDROP]),
    ))
    .unwrap();
    confirm(&fx.client, &airdrop.parse().unwrap());
    assert_eq!(fx.client.get_balance(&user.pubkey()).unwrap(), AIRDROP);
    let to = user.pubkey().to_string();
    error(
        &fx.node,
        "requestAirdrop",
        json!([to, 0]),
        codes::INVALID_PARAMS,
    );
    error(
        &fx.node,
        "requestAirdrop",
        json!([to]),
        codes::INVALID_PARAMS,
    );
}

#[test]
fn simulation_reports_units_logs_and_typed_errors() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let blockhash = fx.client.get_latest_blockhash().unwrap();
    let ok = transfer(&user, &RECIPIENT, 1_000_000, blockhash);
    let simulated = result(
        &fx.node,
        "simulateTransaction",
        json!([BASE64.encode(ok.to_bytes()), {"encoding": "base64"}]),
    );
    assert_eq!(simulated["value"]["err"], Value::Null, "{simulated}");
    assert!(simulated["value"]["unitsConsumed"].as_u64().unwrap() > 0);
    assert!(simulated["value"]["logs"].is_array());
    assert!(simulated["context"]["slot"].is_u64());

    let broke = transfer(&user, &RECIPIENT, AIRDROP * 2, blockhash);
    let failing = result(
        &fx.node,
        "simulateTransaction",
        json!([BASE64.encode(broke.to_bytes())]),
    );
    assert_eq!(
        failing["value"]["err"],
        insufficient_lamports(),
        "{failing}"
    );
    error(
        &fx.node,
        "simulateTransaction",
        json!(["%%%"]),
        codes::INVALID_PARAMS,
    );
}

#[test]
fn a_sent_transfer_goes_processed_then_finalized() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let tx = transfer(
        &user,
        &RECIPIENT,
        1_000_000,
        fx.client.get_latest_blockhash().unwrap(),
    );
    let sent = result(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(tx.to_bytes()), {"encoding": "base64"}]),
    );
    let signature = tx.signatures[0].to_string();
    assert_eq!(sent, signature);
    let mut seen = Vec::new();
    let started = Instant::now();
    let last = loop {
        let statuses = result(
            &fx.node,
            "getSignatureStatuses",
            json!([[signature, Signature([5; 64]).to_string()]]),
        );
        assert_eq!(statuses["value"][1], Value::Null, "unknown signature");
        let status = statuses["value"][0].clone();
        if !status.is_null() {
            let level = status["confirmationStatus"].as_str().unwrap().to_owned();
            if level == "processed" {
                assert_eq!(status["confirmations"], 0, "{status}");
            }
            if seen.last() != Some(&level) {
                seen.push(level.clone());
            }
            if level == "finalized" {
                // Finalized means its slot is committed.
                let slot = result(&fx.node, "getSlot", json!([])).as_u64().unwrap();
                assert!(status["slot"].as_u64().unwrap() <= slot);
                break status;
            }
        }
        assert!(started.elapsed() < WAIT, "not finalized: {seen:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        seen == ["finalized"] || seen == ["processed", "finalized"],
        "{seen:?}"
    );
    assert_eq!(last["err"], Value::Null);
    assert_eq!(last["confirmations"], Value::Null);
    assert_eq!(fx.client.get_balance(&RECIPIENT).unwrap(), 1_000_000);
    // The airdrop and the transfer.
    assert_eq!(result(&fx.node, "getTransactionCount", json!([])), 2);
}

#[test]
fn a_failed_transaction_reports_its_typed_error_in_its_status() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let broke = transfer(
        &user,
        &RECIPIENT,
        AIRDROP * 2,
        fx.client.get_latest_blockhash().unwrap(),
    );
    // Skipping preflight lets the failure reach the pipeline, which charges the fee.
    assert_eq!(
        fx.fail_in_block(&broke),
        Some(serde_json::from_value(insufficient_lamports()).unwrap())
    );
    assert_eq!(fx.client.get_balance(&RECIPIENT).unwrap(), 0);
}

#[test]
fn get_signature_statuses_refuses_bad_input() {
    let fx = Fixture::new();
    error(
        &fx.node,
        "getSignatureStatuses",
        json!([["bad"]]),
        codes::INVALID_PARAMS,
    );
    let many = vec![Signature([5; 64]).to_string(); 257];
    error(
        &fx.node,
        "getSignatureStatuses",
        json!([many]),
        codes::INVALID_PARAMS,
    );
}

#[test]
fn a_node_on_every_address_names_its_ingestion_port_reachably() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), 0);
    config.bind_address = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    config.ingest_port = Some(0);
    let node = Node::start(config, programs()).expect("node starts");
    let port = node.ingest_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{}", node.rpc_addr().port());
    let nodes = result(&node, "getClusterNodes", json!([]));
    assert_eq!(nodes[0]["tpu"], format!("0.0.0.0:{port}"));
    // The client reaches it where it reaches the node.
    assert_eq!(
        RpcClient::new(url).get_ingest_addr().unwrap(),
        Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
    );
    node.shutdown().unwrap();
}

#[test]
fn the_ingestion_port_takes_transactions_that_land_and_answers_each_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), 0);
    config.ingest_port = Some(0);
    let node = Node::start(config, programs()).expect("node starts");
    let client = RpcClient::new(node.rpc_url());
    let port = node.ingest_addr().expect("an ingestion port");
    // getClusterNodes names it, which is how `braid bench` finds it.
    assert_eq!(client.get_ingest_addr().unwrap(), Some(port));
    let user = Keypair::from_seed(&[3; 32]);
    confirm(
        &client,
        &client.request_airdrop(&user.pubkey(), AIRDROP).unwrap(),
    );
    let blockhash = client.get_latest_blockhash().unwrap();
    let good = transfer(&user, &RECIPIENT, 1_000_000, blockhash);
    let mut forged = transfer(&user, &RECIPIENT, 2_000_000, blockhash);
    forged.signatures[0] = braid_runtime::Signature([7; 64]);
    let mut ingest = braid_rpc::ingest::IngestClient::connect(port).unwrap();
    let verdicts = ingest
        .send_batch(&[good.to_bytes(), vec![0xFF; 10], forged.to_bytes()])
        .unwrap();
    use braid_rpc::ingest::Verdict;
    // A single node queues the bytes as `sendTransaction` with skipPreflight does: its
    // sigverify stage parses and verifies them, and drops the garbage and the forgery.
    assert_eq!(verdicts, vec![Verdict::Accepted; 3]);
    confirm(&client, &good.signatures[0]);
    assert_eq!(client.get_balance(&RECIPIENT).unwrap(), 1_000_000);
    let rejected = || {
        node.shared()
            .counters()
            .rejected
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while rejected() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "rejected {}",
            rejected()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(rejected(), 2);
    node.shutdown().unwrap();
}

#[test]
fn send_transaction_refuses_a_replay() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let tx = transfer(
        &user,
        &RECIPIENT,
        1_000_000,
        fx.client.get_latest_blockhash().unwrap(),
    );
    confirm(&fx.client, &fx.client.send_transaction(&tx).unwrap());
    let reply = call(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(tx.to_bytes())]),
    );
    assert_eq!(
        reply["error"]["code"],
        codes::TRANSACTION_REJECTED,
        "{reply}"
    );
    assert_eq!(reply["error"]["data"]["err"], "AlreadyProcessed", "{reply}");
}

#[test]
fn send_transaction_refuses_undecodable_input() {
    let fx = Fixture::new();
    let user = Keypair::from_seed(&[1; 32]);
    let tx = transfer(
        &user,
        &RECIPIENT,
        1_000_000,
        fx.client.get_latest_blockhash().unwrap(),
    );
    let bad = error(
        &fx.node,
        "sendTransaction",
        json!(["not base64!"]),
        codes::INVALID_PARAMS,
    );
    assert!(bad.contains("base64"), "{bad}");
    error(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode([1, 2, 3])]),
        codes::INVALID_PARAMS,
    );
    error(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(tx.to_bytes()), {"encoding": "hex"}]),
        codes::INVALID_PARAMS,
    );
}

#[test]
fn send_transaction_refuses_a_forged_signature() {
    let fx = Fixture::new();
    let user = Keypair::from_seed(&[1; 32]);
    let mut forged = transfer(
        &user,
        &RECIPIENT,
        2_000,
        fx.client.get_latest_blockhash().unwrap(),
    );
    forged.signatures[0] = Signature([7; 64]);
    error(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(forged.to_bytes())]),
        codes::SIGNATURE_VERIFICATION_FAILURE,
    );
}

#[test]
fn accounts_must_be_left_rent_exempt_as_on_solana() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let exempt = result(&fx.node, "getMinimumBalanceForRentExemption", json!([0]));
    assert_eq!(exempt, 890_880);
    let rent_error = |index: u8| json!({"InsufficientFundsForRent": {"account_index": index}});
    // Too little for a new account: preflight refuses it with Solana's error.
    let blockhash = fx.client.get_latest_blockhash().unwrap();
    let dust = transfer(&user, &RECIPIENT, 890_879, blockhash);
    let reply = call(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(dust.to_bytes())]),
    );
    assert_eq!(
        reply["error"]["code"],
        codes::TRANSACTION_REJECTED,
        "{reply}"
    );
    assert_eq!(reply["error"]["data"]["err"], rent_error(1), "{reply}");
    // Past preflight, it fails in its block with the fee paid and nothing else.
    assert_eq!(
        fx.fail_in_block(&dust),
        Some(serde_json::from_value(rent_error(1)).unwrap())
    );
    assert_eq!(fx.client.get_balance(&RECIPIENT).unwrap(), 0);
    assert_eq!(
        fx.client.get_balance(&user.pubkey()).unwrap(),
        AIRDROP - 5_000
    );
    // Exactly the minimum is enough.
    let enough = transfer(
        &user,
        &RECIPIENT,
        890_880,
        fx.client.get_latest_blockhash().unwrap(),
    );
    fx.client
        .send_and_confirm_transaction(&enough, WAIT)
        .unwrap();
    assert_eq!(fx.client.get_balance(&RECIPIENT).unwrap(), 890_880);
    // A fee that would leave the payer below exemption is refused unpaid.
    let poor = Keypair::from_seed(&[5; 32]);
    let airdrop = fx
        .client
        .request_airdrop(&poor.pubkey(), 890_880 + 4_999)
        .unwrap();
    confirm(&fx.client, &airdrop);
    let any = transfer(
        &poor,
        &RECIPIENT,
        1,
        fx.client.get_latest_blockhash().unwrap(),
    );
    let reply = call(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(any.to_bytes())]),
    );
    assert_eq!(reply["error"]["data"]["err"], rent_error(0), "{reply}");
    assert_eq!(
        fx.client.get_balance(&poor.pubkey()).unwrap(),
        890_880 + 4_999
    );
}

#[test]
fn preflight_refuses_what_would_fail_with_the_typed_error_and_its_name() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let blockhash = fx.client.get_latest_blockhash().unwrap();
    let broke = transfer(&user, &RECIPIENT, AIRDROP * 2, blockhash);
    let reply = call(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(broke.to_bytes())]),
    );
    assert_eq!(
        reply["error"]["code"],
        codes::TRANSACTION_REJECTED,
        "{reply}"
    );
    assert_eq!(
        reply["error"]["data"]["err"],
        insufficient_lamports(),
        "{reply}"
    );
    assert_eq!(
        reply["error"]["message"],
        "transaction simulation failed: error processing instruction 0: custom program error: \
         0x1 (SystemError::ResultWithNegativeLamports: account does not have enough lamports \
         for the operation)"
    );
    let stranger = Keypair::from_seed(&[2; 32]);
    let unfunded = transfer(&stranger, &RECIPIENT, 1, blockhash);
    let reply = call(
        &fx.node,
        "sendTransaction",
        json!([BASE64.encode(unfunded.to_bytes())]),
    );
    assert_eq!(
        reply["error"]["code"],
        codes::TRANSACTION_REJECTED,
        "{reply}"
    );
    assert_eq!(reply["error"]["data"]["err"], "AccountNotFound", "{reply}");
}

#[test]
fn base58_transactions_are_accepted_through_the_encoding_option() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let tx58 = transfer(
        &user,
        &RECIPIENT,
        3_000_000,
        fx.client.get_latest_blockhash().unwrap(),
    );
    let sent58 = result(
        &fx.node,
        "sendTransaction",
        json!([bs58::encode(tx58.to_bytes()).into_string(), {"encoding": "base58"}]),
    );
    confirm(&fx.client, &sent58.as_str().unwrap().parse().unwrap());
    assert_eq!(fx.client.get_balance(&RECIPIENT).unwrap(), 3_000_000);
}

#[test]
fn the_typed_client_carries_errors_and_accounts() {
    let fx = Fixture::new();
    let user = fx.funded_user(1);
    let broke = transfer(
        &user,
        &RECIPIENT,
        AIRDROP * 2,
        fx.client.get_latest_blockhash().unwrap(),
    );
    let error = fx.client.send_transaction(&broke).unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Rpc {
                code: codes::TRANSACTION_REJECTED,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.transaction_error(),
        Some(serde_json::from_value(insufficient_lamports()).unwrap())
    );
    assert!(!error.logs().is_empty());
    let account = fx
        .client
        .get_account(&braid_runtime::SYSTEM_PROGRAM_ID)
        .unwrap()
        .unwrap();
    assert_eq!(
        (account.data.as_slice(), account.executable),
        (&b"system"[..], true)
    );
}

#[test]
fn unreachable_node_names_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = RpcClient::new(url.clone()).get_slot().unwrap_err();
    assert!(matches!(error, ClientError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains(&url), "{error}");
}

#[test]
fn restart_keeps_balances_and_reset_wipes() {
    let dir = tempfile::tempdir().unwrap();
    let user = Keypair::from_seed(&[3; 32]);
    let recipient = Pubkey::new_from_array([8; 32]);
    let node = start(dir.path());
    let faucet = node.faucet().unwrap();
    let client = RpcClient::new(node.rpc_url());
    let airdrop = client.request_airdrop(&user.pubkey(), AIRDROP).unwrap();
    confirm(&client, &airdrop);
    let tx = transfer(
        &user,
        &recipient,
        1_234_567,
        client.get_latest_blockhash().unwrap(),
    );
    client.send_and_confirm_transaction(&tx, WAIT).unwrap();
    let (user_balance, faucet_balance) = (
        client.get_balance(&user.pubkey()).unwrap(),
        client.get_balance(&faucet).unwrap(),
    );
    let slot = client.get_slot().unwrap();
    node.shutdown().unwrap();

    let node = start(dir.path());
    assert_eq!(node.faucet(), Some(faucet), "the faucet keypair is kept");
    let client = RpcClient::new(node.rpc_url());
    assert_eq!(client.get_balance(&recipient).unwrap(), 1_234_567);
    assert_eq!(client.get_balance(&user.pubkey()).unwrap(), user_balance);
    assert_eq!(client.get_balance(&faucet).unwrap(), faucet_balance);
    assert!(client.get_slot().unwrap() >= slot);
    // The faucet still works after a restart.
    confirm(&client, &client.request_airdrop(&recipient, 5).unwrap());
    node.shutdown().unwrap();

    let mut config = NodeConfig::new(dir.path(), 0);
    config.reset = true;
    let node = Node::start(config, programs()).unwrap();
    assert_ne!(node.faucet(), Some(faucet), "reset makes a new genesis");
    assert_eq!(
        RpcClient::new(node.rpc_url())
            .get_balance(&recipient)
            .unwrap(),
        0
    );
    node.shutdown().unwrap();

    let not_a_ledger = tempfile::tempdir().unwrap();
    std::fs::write(not_a_ledger.path().join("precious.txt"), b"keep me").unwrap();
    let mut config = NodeConfig::new(not_a_ledger.path(), 0);
    config.reset = true;
    assert!(matches!(
        Node::start(config, programs()),
        Err(NodeError::NotALedger(_))
    ));
    assert!(not_a_ledger.path().join("precious.txt").exists());
}

#[test]
fn a_second_node_and_a_reset_refuse_a_ledger_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path());
    match Node::start(NodeConfig::new(dir.path(), 0), programs()) {
        Err(error) => assert!(
            error.to_string().contains("in use by another node"),
            "{error}"
        ),
        Ok(_) => panic!("a second node opened a ledger in use"),
    }
    let mut reset = NodeConfig::new(dir.path(), 0);
    reset.reset = true;
    assert!(matches!(
        Node::start(reset, programs()),
        Err(NodeError::Ledger(braid_ledger::BankError::Locked(_)))
    ));
    assert!(
        dir.path().join("genesis.bin").exists(),
        "the live ledger was kept"
    );
    node.shutdown().unwrap();
    // Once the first node is gone the ledger opens again.
    start(dir.path()).shutdown().unwrap();
}

#[test]
fn health_reports_a_stopped_pipeline_and_the_node_survives_to_say_so() {
    let fx = Fixture::new();
    assert_eq!(result(&fx.node, "getHealth", json!([])), "ok");
    // The accounts database's directory disappears under the node: the next slot commit
    // cannot write its manifest, and the pipeline stops with that error.
    std::fs::remove_dir_all(fx._dir.path().join("accounts")).unwrap();
    let user = Keypair::from_seed(&[7; 32]);
    let _ = fx.client.request_airdrop(&user.pubkey(), AIRDROP);
    let started = Instant::now();
    let reply = loop {
        let reply = call(&fx.node, "getHealth", json!([]));
        if reply.get("error").is_some() {
            break reply;
        }
        assert!(
            started.elapsed() < WAIT,
            "the node never reported the failed commit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(reply["error"]["code"], codes::NODE_UNHEALTHY, "{reply}");
    assert_eq!(reply["error"]["message"], "Node is unhealthy");
    let reason = reply["error"]["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("accounts"), "{reason}");
    let status = ureq::get(&format!("{}/health", fx.node.rpc_url()))
        .call()
        .map(|response| response.status().as_u16())
        .unwrap_or_else(|error| match error {
            ureq::Error::StatusCode(code) => code,
            other => panic!("{other}"),
        });
    assert_eq!(status, 503);
    assert!(fx.node.shutdown().is_err(), "shutdown reports the failure");
}

#[test]
fn the_faucet_caps_each_request_and_rate_limits_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), 0);
    config.faucet_limits = braid_rpc::FaucetLimits {
        request_max_lamports: 3 * AIRDROP,
        window_max_lamports: 4 * AIRDROP,
        window: Duration::from_secs(3_600),
    };
    let node = Node::start(config, programs()).unwrap();
    let to = |seed: u8| Keypair::from_seed(&[seed; 32]).pubkey().to_string();
    let over = error(
        &node,
        "requestAirdrop",
        json!([to(1), 3 * AIRDROP + 1]),
        codes::INVALID_PARAMS,
    );
    assert!(
        over.contains(&format!("between 1 and {}", 3 * AIRDROP)),
        "{over}"
    );
    result(&node, "requestAirdrop", json!([to(1), 3 * AIRDROP]));
    result(&node, "requestAirdrop", json!([to(2), AIRDROP]));
    // The window's 4 × AIRDROP are spent: even one lamport more is refused.
    let limited = error(
        &node,
        "requestAirdrop",
        json!([to(3), 1]),
        codes::INTERNAL_ERROR,
    );
    assert!(limited.contains("rate limit"), "{limited}");
    node.shutdown().unwrap();
}

#[test]
fn an_oversized_encoded_transaction_is_refused_before_it_is_decoded() {
    let fx = Fixture::new();
    // Just under the request body limit.
    let huge = "2".repeat(40_000);
    let started = Instant::now();
    let message = error(
        &fx.node,
        "sendTransaction",
        json!([huge, {"encoding": "base58"}]),
        codes::INVALID_PARAMS,
    );
    assert_eq!(
        message,
        "base58 encoded transaction too large (40000 bytes, max 1683 bytes)"
    );
    let huge = "A".repeat(40_000);
    let message = error(
        &fx.node,
        "simulateTransaction",
        json!([huge]),
        codes::INVALID_PARAMS,
    );
    assert_eq!(
        message,
        "base64 encoded transaction too large (40000 bytes, max 1644 bytes)"
    );
    // Decoding 40 kB of base58 would take a second or more; refusing it takes none.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(result(&fx.node, "getHealth", json!([])), "ok");
}

#[test]
fn a_failed_airdrop_does_not_use_up_the_faucet_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), 0);
    config.faucet_limits = braid_rpc::FaucetLimits {
        request_max_lamports: 2 * AIRDROP,
        window_max_lamports: 2 * AIRDROP,
        window: Duration::from_secs(3_600),
    };
    let node = Node::start(config, programs()).unwrap();
    // An airdrop to the System program cannot be built (it would make the program it
    // invokes writable): it fails and must give its reservation back.
    let program = braid_runtime::SYSTEM_PROGRAM_ID.to_string();
    for _ in 0..3 {
        error(
            &node,
            "requestAirdrop",
            json!([program, AIRDROP]),
            codes::INTERNAL_ERROR,
        );
    }
    let user = Keypair::from_seed(&[4; 32]).pubkey().to_string();
    result(&node, "requestAirdrop", json!([user, 2 * AIRDROP]));
    node.shutdown().unwrap();
}
