//! Transaction history end to end: what getTransaction, getSignaturesForAddress, getBlock
//! and getSignatureStatuses' `searchTransactionHistory` report for successful, failed and
//! token transactions, exactly, and that a restart on the same ledger reports the same.
#![allow(clippy::arithmetic_side_effects)] // small known amounts

use std::time::Duration;

use braid_node::{Node, NodeConfig};
use braid_program_system::instruction as system;
use braid_program_token::instruction as token;
use braid_rpc::client::{ClientError, RpcClient};
use braid_rpc::types::{ConfirmationStatus, codes};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, Pubkey, Signature, Transaction};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const AIRDROP: u64 = 10_000_000_000;
const FEE: u64 = 5_000;
const RECIPIENT: Pubkey = Pubkey::new_from_array([9; 32]);

fn start(dir: &std::path::Path) -> Node {
    Node::start(NodeConfig::new(dir, 0), braid_builtins::registry()).expect("node starts")
}

fn call(client: &RpcClient, method: &str, params: Value) -> Value {
    client
        .call_raw(method, params)
        .unwrap_or_else(|error| panic!("{method}: {error}"))
}

fn send(client: &RpcClient, instructions: &[Instruction], signers: &[&Keypair]) -> Signature {
    let tx = Transaction::new_signed_with_payer(
        instructions,
        Some(&signers[0].pubkey()),
        signers,
        client.get_latest_blockhash().unwrap(),
    );
    client.send_and_confirm_transaction(&tx, WAIT).unwrap().0
}

/// A transfer the payer cannot afford, past preflight, so it fails in the block.
fn send_failing(client: &RpcClient, user: &Keypair) -> Signature {
    use base64::Engine;
    let tx = Transaction::new_signed_with_payer(
        &[system::transfer(&user.pubkey(), &RECIPIENT, AIRDROP * 2)],
        Some(&user.pubkey()),
        &[user],
        client.get_latest_blockhash().unwrap(),
    );
    let wire = base64::engine::general_purpose::STANDARD.encode(tx.to_bytes());
    let sent = call(
        client,
        "sendTransaction",
        json!([wire, {"skipPreflight": true}]),
    );
    let signature: Signature = sent.as_str().unwrap().parse().unwrap();
    let error = client
        .confirm_transaction(&signature, ConfirmationStatus::Finalized, WAIT)
        .unwrap_err();
    assert!(error.transaction_error().is_some(), "{error}");
    // A failure is reported once processed; history holds it once its slot is durable.
    let deadline = std::time::Instant::now() + WAIT;
    while client.get_signature_statuses(&[signature]).unwrap()[0]
        .as_ref()
        .is_none_or(|status| status.confirmation_status != ConfirmationStatus::Finalized)
    {
        assert!(std::time::Instant::now() < deadline, "never finalized");
        std::thread::sleep(Duration::from_millis(20));
    }
    signature
}

fn system_logs() -> Value {
    json!([
        "Program 11111111111111111111111111111111 invoke [1]",
        "Program 11111111111111111111111111111111 success",
    ])
}

#[test]
fn history_reports_transactions_exactly_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path());
    let client = RpcClient::new(node.rpc_url());
    let user = Keypair::from_seed(&[1; 32]);
    let airdrop = client.request_airdrop(&user.pubkey(), AIRDROP).unwrap();
    client
        .confirm_transaction(&airdrop, ConfirmationStatus::Finalized, WAIT)
        .unwrap();
    let transfer = send(
        &client,
        &[system::transfer(&user.pubkey(), &RECIPIENT, 1_234_567)],
        &[&user],
    );
    let failed = send_failing(&client, &user);

    // A successful transfer, in Solana's shape, with exact balances and logs.
    let got = call(&client, "getTransaction", json!([transfer.to_string()]));
    let slot = got["slot"].as_u64().expect("slot");
    assert!(got["blockTime"].as_i64().expect("block time") > 1_700_000_000);
    assert!(
        got.get("version").is_none(),
        "no version unless asked for: {got}"
    );
    assert_eq!(
        got["meta"],
        json!({
            "err": null,
            "status": {"Ok": null},
            "fee": FEE,
            "preBalances": [AIRDROP, 0, 1],
            "postBalances": [AIRDROP - 1_234_567 - FEE, 1_234_567, 1],
            "preTokenBalances": [],
            "postTokenBalances": [],
            "innerInstructions": [],
            "logMessages": system_logs(),
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": got["meta"]["computeUnitsConsumed"],
            "rewards": [],
        })
    );
    assert!(got["meta"]["computeUnitsConsumed"].as_u64().unwrap() > 0);
    let message = &got["transaction"]["message"];
    assert_eq!(
        got["transaction"]["signatures"],
        json!([transfer.to_string()])
    );
    assert_eq!(
        message["accountKeys"],
        json!([
            user.pubkey().to_string(),
            RECIPIENT.to_string(),
            "11111111111111111111111111111111"
        ])
    );
    assert_eq!(
        message["header"],
        json!({"numRequiredSignatures": 1, "numReadonlySignedAccounts": 0,
               "numReadonlyUnsignedAccounts": 1})
    );
    assert_eq!(message["instructions"][0]["programIdIndex"], 2);
    assert_eq!(message["instructions"][0]["accounts"], json!([0, 1]));

    // The failed one: its error, and only its fee taken.
    let got_failed = call(&client, "getTransaction", json!([failed.to_string()]));
    let error = json!({"InstructionError": [0, {"Custom": 1}]});
    assert_eq!(got_failed["meta"]["err"], error, "{got_failed}");
    assert_eq!(got_failed["meta"]["status"], json!({"Err": error}));
    let before_failed = AIRDROP - 1_234_567 - FEE;
    assert_eq!(
        got_failed["meta"]["preBalances"],
        json!([before_failed, 1_234_567, 1])
    );
    assert_eq!(
        got_failed["meta"]["postBalances"],
        json!([before_failed - FEE, 1_234_567, 1])
    );

    // Encodings, versions and the refused commitment.
    let base64 = call(
        &client,
        "getTransaction",
        json!([transfer.to_string(), {"encoding": "base64", "maxSupportedTransactionVersion": 0}]),
    );
    assert_eq!(base64["transaction"][1], "base64");
    assert_eq!(base64["version"], "legacy");
    assert_eq!(base64["meta"], got["meta"]);
    let parsed = call(
        &client,
        "getTransaction",
        json!([transfer.to_string(), {"encoding": "jsonParsed"}]),
    );
    assert_eq!(
        parsed["transaction"]["message"]["accountKeys"][0],
        json!({"pubkey": user.pubkey().to_string(), "signer": true, "writable": true,
               "source": "transaction"})
    );
    assert_eq!(
        parsed["transaction"]["message"]["instructions"][0]["programId"],
        "11111111111111111111111111111111"
    );
    let refused = client
        .call_raw(
            "getTransaction",
            json!([transfer.to_string(), {"commitment": "processed"}]),
        )
        .unwrap_err();
    assert!(
        refused.to_string().contains("below `confirmed`"),
        "{refused}"
    );
    assert_eq!(
        call(
            &client,
            "getTransaction",
            json!([Signature([7; 64]).to_string()])
        ),
        Value::Null
    );

    // By address, newest first, with before, until and limit.
    let listed = call(
        &client,
        "getSignaturesForAddress",
        json!([user.pubkey().to_string()]),
    );
    let signatures: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["signature"].as_str().unwrap())
        .collect();
    let (failed_text, transfer_text, airdrop_text) = (
        failed.to_string(),
        transfer.to_string(),
        airdrop.to_string(),
    );
    assert_eq!(signatures, [&failed_text, &transfer_text, &airdrop_text]);
    assert_eq!(listed[0]["err"], error);
    assert_eq!(listed[1]["err"], Value::Null);
    assert_eq!(listed[1]["slot"], slot);
    assert_eq!(listed[1]["memo"], Value::Null);
    assert_eq!(listed[1]["confirmationStatus"], "finalized");
    assert_eq!(listed[1]["blockTime"], got["blockTime"]);
    let page = |config: Value| {
        call(
            &client,
            "getSignaturesForAddress",
            json!([user.pubkey().to_string(), config]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["signature"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
    };
    assert_eq!(
        page(json!({"limit": 1})),
        std::slice::from_ref(&failed_text)
    );
    assert_eq!(
        page(json!({"before": failed_text})),
        [transfer_text.clone(), airdrop_text.clone()]
    );
    assert_eq!(
        page(json!({"until": airdrop_text})),
        [failed_text.clone(), transfer_text.clone()]
    );
    let too_many = client
        .call_raw(
            "getSignaturesForAddress",
            json!([user.pubkey().to_string(), {"limit": 1001}]),
        )
        .unwrap_err();
    assert!(too_many.to_string().contains("Invalid limit"), "{too_many}");

    // The whole block.
    let block = call(
        &client,
        "getBlock",
        json!([slot, {"maxSupportedTransactionVersion": 0}]),
    );
    let in_block = block["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tx| tx["transaction"]["signatures"][0] == transfer_text)
        .expect("the transfer is in its block");
    assert_eq!(in_block["meta"], got["meta"]);
    assert_eq!(in_block["version"], "legacy");
    assert_eq!(block["blockTime"], got["blockTime"]);
    let accounts = call(
        &client,
        "getBlock",
        json!([slot, {"transactionDetails": "accounts"}]),
    );
    let keys = &accounts["transactions"][0]["transaction"]["accountKeys"];
    assert!(
        keys.as_array().is_some_and(|keys| !keys.is_empty()),
        "{accounts}"
    );
    assert!(
        accounts["transactions"][0]["meta"]
            .get("logMessages")
            .is_none()
    );
    assert_eq!(
        call(&client, "getBlockTime", json!([slot])),
        got["blockTime"]
    );

    node.shutdown().unwrap();
    let node = start(dir.path());
    let client = RpcClient::new(node.rpc_url());
    // The same answers from the ledger alone.
    assert_eq!(
        call(&client, "getTransaction", json!([transfer.to_string()])),
        got
    );
    assert_eq!(
        call(&client, "getTransaction", json!([failed.to_string()])),
        got_failed
    );
    assert_eq!(
        call(
            &client,
            "getSignaturesForAddress",
            json!([user.pubkey().to_string()])
        ),
        listed
    );
    // The restarted node's recent statuses are empty; the history still knows.
    let statuses = |search: bool| {
        call(
            &client,
            "getSignatureStatuses",
            json!([[transfer.to_string()], {"searchTransactionHistory": search}]),
        )["value"][0]
            .clone()
    };
    assert_eq!(statuses(false), Value::Null);
    assert_eq!(
        statuses(true),
        json!({"slot": slot, "confirmations": null, "err": null,
               "confirmationStatus": "finalized"})
    );
    node.shutdown().unwrap();
}

#[test]
fn token_transfers_report_token_balances_with_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path());
    let client = RpcClient::new(node.rpc_url());
    let payer = Keypair::from_seed(&[2; 32]);
    let airdrop = client.request_airdrop(&payer.pubkey(), AIRDROP).unwrap();
    client
        .confirm_transaction(&airdrop, ConfirmationStatus::Finalized, WAIT)
        .unwrap();
    let (mint, source, destination) = (
        Keypair::from_seed(&[3; 32]),
        Keypair::from_seed(&[4; 32]),
        Keypair::from_seed(&[5; 32]),
    );
    let owner = Keypair::from_seed(&[6; 32]);
    let token_id = braid_program_token::ID;
    let create = |account: &Keypair, space: u64| {
        system::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            10_000_000,
            space,
            &token_id,
        )
    };
    send(
        &client,
        &[
            create(&mint, braid_program_token::MINT_LEN as u64),
            token::initialize_mint2(&mint.pubkey(), &payer.pubkey(), None, 6),
            create(&source, braid_program_token::ACCOUNT_LEN as u64),
            token::initialize_account3(&source.pubkey(), &mint.pubkey(), &owner.pubkey()),
            create(&destination, braid_program_token::ACCOUNT_LEN as u64),
            token::initialize_account3(&destination.pubkey(), &mint.pubkey(), &payer.pubkey()),
            token::mint_to(&mint.pubkey(), &source.pubkey(), &payer.pubkey(), 5_000_000),
        ],
        &[&payer, &mint, &source, &destination],
    );
    let moved = send(
        &client,
        &[token::transfer_checked(
            &source.pubkey(),
            &mint.pubkey(),
            &destination.pubkey(),
            &owner.pubkey(),
            1_250_000,
            6,
        )],
        &[&payer, &owner],
    );
    let got = call(&client, "getTransaction", json!([moved.to_string()]));
    let keys = got["transaction"]["message"]["accountKeys"]
        .as_array()
        .unwrap()
        .clone();
    let index_of = |key: &Pubkey| {
        keys.iter()
            .position(|k| k.as_str() == Some(&key.to_string()))
            .unwrap()
    };
    let balance = |account: &Keypair, holder: &Keypair, amount: &str, ui: f64| {
        json!({
            "accountIndex": index_of(&account.pubkey()),
            "mint": mint.pubkey().to_string(),
            "owner": holder.pubkey().to_string(),
            "programId": token_id.to_string(),
            "uiTokenAmount": {"amount": amount, "decimals": 6, "uiAmount": ui,
                              "uiAmountString": ui.to_string()},
        })
    };
    let mut pre = vec![
        balance(&source, &owner, "5000000", 5.0),
        balance(&destination, &payer, "0", 0.0),
    ];
    let mut post = vec![
        balance(&source, &owner, "3750000", 3.75),
        balance(&destination, &payer, "1250000", 1.25),
    ];
    // In account order, as Solana lists them.
    pre.sort_by_key(|b| b["accountIndex"].as_u64());
    post.sort_by_key(|b| b["accountIndex"].as_u64());
    assert_eq!(got["meta"]["preTokenBalances"], json!(pre), "{got}");
    assert_eq!(got["meta"]["postTokenBalances"], json!(post), "{got}");
    assert_eq!(got["meta"]["err"], Value::Null);
    let listed = call(
        &client,
        "getSignaturesForAddress",
        json!([destination.pubkey().to_string()]),
    );
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed[0]["signature"], moved.to_string());
    // An associated token account: the program's three cross-program calls, recorded.
    let wallet = Keypair::from_seed(&[7; 32]).pubkey();
    let created = send(
        &client,
        &[braid_program_associated_token::create(
            &payer.pubkey(),
            &wallet,
            &mint.pubkey(),
        )],
        &[&payer],
    );
    let got = call(
        &client,
        "getTransaction",
        json!([created.to_string(), {"encoding": "jsonParsed"}]),
    );
    let (associated, _) =
        braid_program_associated_token::associated_token_address(&wallet, &mint.pubkey());
    let rent = braid_runtime::rent::minimum_balance(165);
    let mut create_data = 0u32.to_le_bytes().to_vec();
    create_data.extend_from_slice(&rent.to_le_bytes());
    create_data.extend_from_slice(&165u64.to_le_bytes());
    create_data.extend_from_slice(token_id.as_ref());
    let mut init_data = vec![18];
    init_data.extend_from_slice(wallet.as_ref());
    let call_of = |program: &Pubkey, accounts: &[&Pubkey], data: &[u8]| {
        json!({
            "programId": program.to_string(),
            "accounts": accounts.iter().map(|key| key.to_string()).collect::<Vec<_>>(),
            "data": bs58::encode(data).into_string(),
            "stackHeight": 2,
        })
    };
    assert_eq!(
        got["meta"]["innerInstructions"],
        json!([{
            "index": 0,
            "instructions": [
                call_of(
                    &braid_runtime::SYSTEM_PROGRAM_ID,
                    &[&payer.pubkey(), &associated],
                    &create_data
                ),
                call_of(&token_id, &[&associated], &[22]),
                call_of(&token_id, &[&associated, &mint.pubkey()], &init_data),
            ],
        }]),
        "{got}"
    );
    let unknown = client
        .call_raw("getTransaction", json!(["not a signature"]))
        .unwrap_err();
    assert!(
        matches!(
            unknown,
            ClientError::Rpc {
                code: codes::INVALID_PARAMS,
                ..
            }
        ),
        "{unknown}"
    );
    node.shutdown().unwrap();
}
