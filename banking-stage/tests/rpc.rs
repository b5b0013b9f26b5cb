//! The node's JSON-RPC end to end: every method's exact reply shape and an error case for
//! each, airdrop and transfer through the pipeline, statuses progressing to finalized, and a
//! restart on the same ledger keeping every balance.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_banking_stage::rpc::client::{ClientError, RpcClient};
use braid_banking_stage::rpc::types::{ConfirmationStatus, codes};
use braid_banking_stage::rpc::{FAUCET_LAMPORTS_DEFAULT, Node, NodeConfig, NodeError};
use braid_program_system::instruction as system;
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

#[test]
fn every_method_answers_in_solanas_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path());
    let faucet = node.faucet().expect("a new node has a faucet");

    assert_eq!(
        call(&node, "getHealth", json!([])),
        json!({"jsonrpc": "2.0", "result": "ok", "id": 7})
    );
    assert!(result(&node, "getVersion", json!([]))["solana-core"].is_string());
    assert!(result(&node, "getSlot", json!([])).is_u64());
    assert_eq!(result(&node, "getTransactionCount", json!([])), 0);

    let latest = result(&node, "getLatestBlockhash", json!([]));
    assert!(latest["context"]["slot"].is_u64(), "{latest}");
    assert!(
        latest["value"]["blockhash"]
            .as_str()
            .unwrap()
            .parse::<Hash>()
            .is_ok()
    );
    assert!(latest["value"]["lastValidBlockHeight"].is_u64());

    let balance = result(&node, "getBalance", json!([faucet.to_string()]));
    assert_eq!(balance["value"], FAUCET_LAMPORTS_DEFAULT, "{balance}");
    assert!(balance["context"]["slot"].is_u64());
    assert_eq!(
        result(
            &node,
            "getBalance",
            json!([Pubkey::new_from_array([3; 32]).to_string()])
        )["value"],
        0
    );
    error(&node, "getBalance", json!([]), codes::INVALID_PARAMS);
    error(
        &node,
        "getBalance",
        json!(["not a key"]),
        codes::INVALID_PARAMS,
    );

    let system_id = braid_runtime::SYSTEM_PROGRAM_ID.to_string();
    let info = result(
        &node,
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
            "rentEpoch": 0,
            "space": 6,
        })
    );
    assert_eq!(
        result(&node, "getAccountInfo", json!([system_id]))["value"]["data"][1],
        "base64"
    );
    assert_eq!(
        result(
            &node,
            "getAccountInfo",
            json!([Pubkey::new_from_array([4; 32]).to_string()])
        )["value"],
        Value::Null
    );
    error(
        &node,
        "getAccountInfo",
        json!([system_id, {"encoding": "jsonParsed"}]),
        codes::INVALID_PARAMS,
    );

    // Protocol errors.
    assert!(
        error(&node, "noSuchMethod", json!([]), codes::METHOD_NOT_FOUND).contains("noSuchMethod")
    );
    assert_eq!(
        post(&node, "{not json")["error"]["code"],
        codes::PARSE_ERROR
    );
    assert_eq!(
        post(&node, r#"{"jsonrpc":"1.0","id":1,"method":"getSlot"}"#)["error"]["code"],
        codes::INVALID_REQUEST
    );
    assert_eq!(
        post(
            &node,
            r#"{"jsonrpc":"2.0","id":1,"method":"getSlot","params":{}}"#
        )["error"]["code"],
        codes::INVALID_PARAMS
    );
    let batch = post(
        &node,
        r#"[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#,
    );
    assert_eq!(batch[0]["id"], 1);
    assert!(batch[0]["result"].is_u64());
    assert_eq!(batch[1]["error"]["code"], codes::METHOD_NOT_FOUND);

    // Airdrop, then a transfer whose status goes processed → finalized.
    let client = RpcClient::new(node.rpc_url());
    let user = Keypair::from_seed(&[1; 32]);
    let airdrop: String = serde_json::from_value(result(
        &node,
        "requestAirdrop",
        json!([user.pubkey().to_string(), AIRDROP]),
    ))
    .unwrap();
    confirm(&client, &airdrop.parse().unwrap());
    assert_eq!(client.get_balance(&user.pubkey()).unwrap(), AIRDROP);
    error(
        &node,
        "requestAirdrop",
        json!([user.pubkey().to_string(), 0]),
        codes::INVALID_PARAMS,
    );
    error(
        &node,
        "requestAirdrop",
        json!([user.pubkey().to_string()]),
        codes::INVALID_PARAMS,
    );

    let recipient = Pubkey::new_from_array([9; 32]);
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = transfer(&user, &recipient, 1_000, blockhash);
    let wire = BASE64.encode(tx.to_bytes());

    let simulated = result(
        &node,
        "simulateTransaction",
        json!([wire, {"encoding": "base64"}]),
    );
    assert_eq!(simulated["value"]["err"], Value::Null, "{simulated}");
    assert!(simulated["value"]["unitsConsumed"].as_u64().unwrap() > 0);
    assert!(simulated["value"]["logs"].is_array());
    assert!(simulated["context"]["slot"].is_u64());
    error(
        &node,
        "simulateTransaction",
        json!(["%%%"]),
        codes::INVALID_PARAMS,
    );

    let sent = result(
        &node,
        "sendTransaction",
        json!([wire, {"encoding": "base64"}]),
    );
    assert_eq!(sent, tx.signatures[0].to_string());
    let signature = tx.signatures[0].to_string();
    let mut seen = Vec::new();
    let started = Instant::now();
    let last = loop {
        let statuses = result(
            &node,
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
                assert!(
                    status["slot"].as_u64().unwrap()
                        <= result(&node, "getSlot", json!([])).as_u64().unwrap()
                );
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
    assert_eq!(client.get_balance(&recipient).unwrap(), 1_000);
    assert!(
        result(&node, "getTransactionCount", json!([]))
            .as_u64()
            .unwrap()
            >= 2
    );
    error(
        &node,
        "getSignatureStatuses",
        json!([["bad"]]),
        codes::INVALID_PARAMS,
    );
    error(
        &node,
        "getSignatureStatuses",
        json!([vec![signature.clone(); 257]]),
        codes::INVALID_PARAMS,
    );

    // sendTransaction's refusals.
    let replay = error(
        &node,
        "sendTransaction",
        json!([wire]),
        codes::TRANSACTION_REJECTED,
    );
    assert!(replay.contains("already been processed"), "{replay}");
    let bad = error(
        &node,
        "sendTransaction",
        json!(["not base64!"]),
        codes::INVALID_PARAMS,
    );
    assert!(bad.contains("base64"), "{bad}");
    error(
        &node,
        "sendTransaction",
        json!([BASE64.encode([1, 2, 3])]),
        codes::INVALID_PARAMS,
    );
    error(
        &node,
        "sendTransaction",
        json!([wire, {"encoding": "hex"}]),
        codes::INVALID_PARAMS,
    );
    let mut forged = transfer(&user, &recipient, 2_000, blockhash);
    forged.signatures[0] = Signature([7; 64]);
    error(
        &node,
        "sendTransaction",
        json!([BASE64.encode(forged.to_bytes())]),
        codes::SIGNATURE_VERIFICATION_FAILURE,
    );
    let broke = transfer(&user, &recipient, AIRDROP * 2, blockhash);
    let message = error(
        &node,
        "sendTransaction",
        json!([BASE64.encode(broke.to_bytes())]),
        codes::TRANSACTION_REJECTED,
    );
    assert!(
        message.contains("simulation failed") && message.contains("not have enough lamports"),
        "{message}"
    );
    let stranger = Keypair::from_seed(&[2; 32]);
    let unfunded = transfer(&stranger, &recipient, 1, blockhash);
    error(
        &node,
        "sendTransaction",
        json!([BASE64.encode(unfunded.to_bytes())]),
        codes::TRANSACTION_REJECTED,
    );
    let failing = result(
        &node,
        "simulateTransaction",
        json!([BASE64.encode(broke.to_bytes())]),
    );
    assert!(failing["value"]["err"].is_string(), "{failing}");

    // base58, Solana's legacy default, through the encoding option.
    let tx58 = transfer(&user, &recipient, 3_000, blockhash);
    let sent58 = result(
        &node,
        "sendTransaction",
        json!([bs58::encode(tx58.to_bytes()).into_string(), {"encoding": "base58"}]),
    );
    confirm(&client, &sent58.as_str().unwrap().parse().unwrap());
    assert_eq!(client.get_balance(&recipient).unwrap(), 4_000);

    // The typed client's errors.
    assert!(matches!(
        client.send_transaction(&broke),
        Err(ClientError::Rpc {
            code: codes::TRANSACTION_REJECTED,
            ..
        })
    ));
    let account = client
        .get_account(&braid_runtime::SYSTEM_PROGRAM_ID)
        .unwrap()
        .unwrap();
    assert_eq!(
        (account.data.as_slice(), account.executable),
        (&b"system"[..], true)
    );
    node.shutdown().unwrap();
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
        12_345,
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
    assert_eq!(client.get_balance(&recipient).unwrap(), 12_345);
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
