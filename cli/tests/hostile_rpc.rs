//! Hostile requests against a real `braid node` child process: each is refused or cut off,
//! and the node keeps answering everyone else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use braid_program_system::instruction as system;
use braid_runtime::keypair::Keypair;
use braid_runtime::{SYSTEM_PROGRAM_ID, Transaction};
use serde_json::{Value, json};

mod common;
use common::Node;

/// Sends raw bytes on a fresh connection and returns whatever comes back before the node
/// closes it or `wait` passes.
fn raw(node: &Node, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(&node.rpc_addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(bytes);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

fn post(node: &Node, body: &str) -> (u16, String) {
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let reply = raw(node, request.as_bytes(), Duration::from_secs(30));
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    (status, body)
}

/// The node still answers a plain request, quickly.
fn still_serving(node: &mut Node) {
    let started = Instant::now();
    assert!(node.client.get_slot().is_ok(), "the node stopped answering");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(node.alive(), "the node exited");
}

#[test]
fn hostile_requests_are_refused_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(&dir.path().join("ledger"), &[]);

    // A declared body of a petabyte, one byte, then a close: once aborted the whole node
    // (the old server allocated the declared length); now the request alone fails.
    let mut stream = TcpStream::connect(&node.rpc_addr).unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n{")
        .unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(!reply.starts_with("HTTP/1.1 200"), "{reply}");
    still_serving(&mut node);
    // A declared length over the limit that fits the header's check is refused unread.
    let reply = raw(
        &node,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000000\r\n\r\n{",
        Duration::from_secs(5),
    );
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    still_serving(&mut node);

    // A body over the limit (a megabyte of base58 "transaction"): refused unread.
    let huge = "2".repeat(1 << 20);
    let (status, _) = post(
        &node,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [huge, {"encoding": "base58"}]})
            .to_string(),
    );
    assert_eq!(status, 413);
    still_serving(&mut node);

    // A batch of 20,000 calls does not fit the body limit; 500 small ones do, and are
    // refused as a whole by the batch limit.
    let batch = |count: u64| {
        Value::Array(
            (0..count)
                .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "getSlot"}))
                .collect(),
        )
        .to_string()
    };
    assert_eq!(post(&node, &batch(20_000)).0, 413);
    let (status, reply) = post(&node, &batch(500));
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["error"]["code"], -32010, "{reply}");
    still_serving(&mut node);

    // Connections that send half a request hold nobody else up.
    let mut stalled: Vec<TcpStream> = (0..32)
        .map(|_| {
            let mut stream = TcpStream::connect(&node.rpc_addr).unwrap();
            stream
                .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
                .unwrap();
            stream
        })
        .collect();
    still_serving(&mut node);
    // And the node cuts them off once the request timeout passes.
    let mut cut = stalled.remove(0);
    cut.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = cut.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a stalled request was held {:?}",
        started.elapsed()
    );
    drop(stalled);

    // Malformed JSON and wrong shapes get JSON-RPC errors, not a dead node.
    let (_, reply) = post(&node, "{not json");
    assert_eq!(
        serde_json::from_str::<Value>(&reply).unwrap()["error"]["code"],
        -32700
    );
    let (_, reply) = post(&node, r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#);
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        reply["error"],
        json!({"code": -32601, "message": "Method not found"})
    );
    still_serving(&mut node);
    node.kill();
}

#[test]
fn a_reply_too_large_is_refused_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(&dir.path().join("ledger"), &[]);
    // A 10 MiB account: one getAccountInfo of it fits the reply limit, two in a batch do not.
    let payer = Keypair::from_seed(&[3; 32]);
    node.airdrop(&payer.pubkey(), 100_000_000_000).unwrap();
    let big = Keypair::from_seed(&[4; 32]);
    let blockhash = node.client.get_latest_blockhash().unwrap();
    let create = Transaction::new_signed_with_payer(
        &[system::create_account(
            &payer.pubkey(),
            &big.pubkey(),
            80_000_000_000,
            10 << 20,
            &SYSTEM_PROGRAM_ID,
        )],
        Some(&payer.pubkey()),
        &[&payer, &big],
        blockhash,
    );
    node.client
        .send_and_confirm_transaction(&create, common::CONFIRM_TIMEOUT)
        .unwrap();

    let one = json!({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo", "params": [big.pubkey().to_string()]});
    let (status, reply) = post(&node, &one.to_string());
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["result"]["value"]["space"], 10 << 20);
    let started = Instant::now();
    let (_, reply) = post(&node, &Value::Array(vec![one.clone(), one]).to_string());
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["error"]["code"], -32011, "{}", reply["error"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    still_serving(&mut node);
    node.kill();
}
