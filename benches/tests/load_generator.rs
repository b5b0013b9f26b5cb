//! The load generator end to end on small runs: every transaction is accounted for, and the
//! same seed gives the same state hash serially and with any thread count.

use braid_benches::{BenchConfig, Workload, run};

fn small(workload: Workload, threads: usize, serial: bool, sigverify: bool, hot_ratio: f64) -> BenchConfig {
    BenchConfig {
        workload,
        accounts: 64,
        txs: 1_500,
        threads,
        serial,
        sigverify,
        hot_ratio,
        slot_txs: 400,
        seed: 7,
        ..BenchConfig::default()
    }
}

fn quiet(_: &str, _: u64, _: u64) {}

#[test]
fn same_seed_same_state_hash_serial_and_parallel() {
    for workload in [Workload::Transfer, Workload::Token] {
        for hot_ratio in [0.0, 0.5] {
            let serial = run(&small(workload, 1, true, false, hot_ratio), &quiet).unwrap();
            assert_eq!(serial.committed, 1_500, "{serial:?}");
            assert_eq!(serial.failed, 0, "{serial:?}");
            assert_eq!(serial.slots, 4);
            for threads in [1, 2] {
                let parallel = run(&small(workload, threads, false, false, hot_ratio), &quiet).unwrap();
                assert_eq!(parallel.committed, 1_500, "{parallel:?}");
                assert_eq!(parallel.rejected, 0, "{parallel:?}");
                assert_eq!(parallel.slots, 4);
                assert_eq!(parallel.state_hash, serial.state_hash, "{workload} hot {hot_ratio} threads {threads}");
                assert!(parallel.latency_p99_ms >= parallel.latency_p50_ms);
            }
        }
    }
}

#[test]
fn sigverify_changes_nothing_but_time() {
    let with = run(&small(Workload::Transfer, 2, false, true, 0.1), &quiet).unwrap();
    assert_eq!(with.committed, 1_500);
    let serial = run(&small(Workload::Transfer, 1, true, true, 0.1), &quiet).unwrap();
    assert_eq!(with.state_hash, serial.state_hash);
    assert!(with.sigverify);
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mut config = small(Workload::Transfer, 2, false, false, 0.0);
    config.hot_ratio = 1.5;
    assert!(matches!(run(&config, &quiet), Err(braid_benches::BenchError::InvalidConfig(_))));
    config.hot_ratio = 0.0;
    config.accounts = 1;
    assert!(matches!(run(&config, &quiet), Err(braid_benches::BenchError::InvalidConfig(_))));
}
