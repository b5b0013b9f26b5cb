//! Any parameters to any method of a running node: the first byte picks the method, the
//! rest are its parameters (a JSON array as is, any other JSON as the only parameter, and
//! anything else as one string). It never panics, and the answer or the error is JSON.
//! (Framing, batches and size limits are jsonrpsee's, in front of this.)

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use braid_banking_stage::pipeline::{Pipeline, PipelineConfig};
use braid_ledger::genesis::Genesis;
use braid_rpc::methods::{METHODS, call};
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
            let executor = Arc::new(Executor::new(programs, ExecutorConfig::default()));
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
            let genesis_hash = genesis.hash();
            let state = RpcState::new(
                pipeline,
                executor,
                tracker,
                Some(faucet),
                FaucetLimits::default(),
                genesis_hash,
                Keypair::from_seed(&[8; 32]).pubkey(),
            );
            (state, dir)
        })
        .0
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(pick) % METHODS.len()];
    let params = match serde_json::from_slice::<serde_json::Value>(rest) {
        Ok(serde_json::Value::Array(params)) => params,
        Ok(value) => vec![value],
        Err(_) => vec![serde_json::Value::String(String::from_utf8_lossy(rest).into_owned())],
    };
    let answer = match call(state(), method, params) {
        Ok(value) => value,
        Err(error) => serde_json::to_value(error.into_object()).expect("an error is JSON"),
    };
    assert!(serde_json::to_string(&answer).is_ok());
});
