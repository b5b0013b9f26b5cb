//! Any bytes as a JSON-RPC request body to a running node's handler: it never panics and
//! always answers with JSON.

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use braid_banking_stage::pipeline::{Pipeline, PipelineConfig};
use braid_ledger::genesis::Genesis;
use braid_rpc::server::handle_body;
use braid_rpc::status::StatusTracker;
use braid_rpc::{FaucetLimits, RpcState};
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Account, SYSTEM_PROGRAM_ID};
use libfuzzer_sys::fuzz_target;

/// One node for the whole run: its ledger lives in a directory kept until the process ends.
fn state() -> &'static RpcState {
    static STATE: OnceLock<(RpcState, tempfile::TempDir)> = OnceLock::new();
    &STATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let faucet = Keypair::from_seed(&[7; 32]);
            let programs = braid_builtins::registry();
            let mut accounts = vec![(
                faucet.pubkey(),
                Account::new(1_000_000_000_000_000, 0, &SYSTEM_PROGRAM_ID),
            )];
            accounts.extend(programs.program_accounts());
            let genesis = Genesis::new(400, accounts).expect("genesis");
            let executor = Arc::new(Executor::new(programs, ExecutorConfig { log_messages: true }));
            let pipeline = Pipeline::start(
                dir.path(),
                Some(&genesis),
                Arc::clone(&executor),
                PipelineConfig::default(),
            )
            .expect("pipeline");
            let tracker = Arc::new(Mutex::new(StatusTracker::new(
                1_024,
                pipeline.shared().latest_blockhash(),
            )));
            let state = RpcState::new(pipeline, executor, tracker, Some(faucet), FaucetLimits::default());
            (state, dir)
        })
        .0
}

fuzz_target!(|data: &[u8]| {
    let reply = handle_body(data, state());
    assert!(
        serde_json::from_str::<serde_json::Value>(&reply).is_ok(),
        "not JSON: {reply}"
    );
});
