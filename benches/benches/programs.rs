//! Execution cost of one transaction of each load-generator workload: the programs' hot
//! paths (System and SPL Token transfers, an AMM swap, a lending refresh + deposit or redeem,
//! an insurance policy purchase), through the executor against in-memory accounts, with the
//! exact transactions `braid bench` sends.

use std::hint::black_box;

use braid_benches::{BenchConfig, Workload, prepare};
use braid_runtime::account_source::InMemoryAccounts;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::invoke_context::Clock;
use braid_runtime::sanitized::SanitizedTransaction;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Distinct transactions cycled through per benchmark, so caches see varied accounts.
const TRANSACTIONS: usize = 256;

fn workloads(c: &mut Criterion) {
    let executor = Executor::new(braid_builtins::registry(), ExecutorConfig::QUIET);
    let clock = Clock { slot: 1 };
    let mut group = c.benchmark_group("execute_workload");
    group.throughput(Throughput::Elements(1));
    for workload in [
        Workload::Transfer,
        Workload::Token,
        Workload::Amm,
        Workload::Lending,
        Workload::Insurance,
    ] {
        let config = BenchConfig {
            workload,
            accounts: 256,
            pools: 4,
            txs: TRANSACTIONS,
            sigverify: false,
            ..BenchConfig::default()
        };
        let prepared = prepare(&config, &|_, _, _| {}).expect("bench setup");
        let mut accounts = InMemoryAccounts::new();
        for (key, account) in &prepared.genesis.accounts {
            accounts.store(*key, account.clone());
        }
        let txs: Vec<SanitizedTransaction> = prepared
            .transactions
            .iter()
            .map(|wire| {
                SanitizedTransaction::try_from_bytes(wire).expect("generated transactions parse")
            })
            .collect();
        for tx in &txs {
            let executed = executor
                .execute(tx, &accounts, &clock)
                .expect("generated transactions execute");
            assert!(executed.status.is_ok(), "{workload}: {:?}", executed.status);
        }
        let mut cycle = txs.iter().cycle();
        group.bench_function(workload.to_string(), |b| {
            b.iter(|| {
                let tx = cycle
                    .next()
                    .expect("a cycle over a non-empty list never ends");
                executor.execute(black_box(tx), &accounts, &clock)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, workloads);
criterion_main!(benches);
