//! The load generator end to end on small runs: every transaction is accounted for, and the
//! same seed gives the same state hash serially and with any thread count.
//!
//! The DeFi workloads (amm, lending, insurance, mix) must also commit every transaction
//! successfully: a failure would mean setup left a user or pool unable to pay, or a
//! generated transaction is stale or malformed.

use braid_benches::{BenchConfig, Workload, run};

fn small(
    workload: Workload,
    threads: usize,
    serial: bool,
    sigverify: bool,
    hot_ratio: f64,
) -> BenchConfig {
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
                let parallel =
                    run(&small(workload, threads, false, false, hot_ratio), &quiet).unwrap();
                assert_eq!(parallel.committed, 1_500, "{parallel:?}");
                assert_eq!(parallel.rejected, 0, "{parallel:?}");
                assert_eq!(parallel.slots, 4);
                assert_eq!(
                    parallel.state_hash, serial.state_hash,
                    "{workload} hot {hot_ratio} threads {threads}"
                );
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
fn signed_runs_report_their_share_of_the_sigverify_ceiling() {
    let report = run(&small(Workload::Transfer, 2, false, true, 0.0), &quiet).unwrap();
    let ceiling = report
        .sigverify_ceiling_tps
        .expect("a signed run calibrates");
    assert!(ceiling > 0.0);
    assert_eq!(report.ceiling_share, Some(report.tps / ceiling));
    let unsigned = run(&small(Workload::Transfer, 2, false, false, 0.0), &quiet).unwrap();
    assert_eq!(unsigned.sigverify_ceiling_tps, None);
    assert_eq!(unsigned.ceiling_share, None);
}

#[test]
fn pipeline_runs_report_a_cpu_budget_per_stage() {
    let report = run(&small(Workload::Transfer, 2, false, true, 0.0), &quiet).unwrap();
    let budget = report
        .cpu_budget
        .expect("pipeline runs measure their budget");
    let names: Vec<&str> = budget.stages.iter().map(|stage| stage.stage).collect();
    assert_eq!(
        names,
        [
            "parse",
            "sigverify",
            "admit",
            "schedule",
            "execute",
            "store",
            "record",
            "hash_fold",
            "ledger_append",
            "accounts_commit"
        ]
    );
    // Every stage did work in a signed run that committed slots.
    for stage in &budget.stages {
        assert!(stage.us_per_tx > 0.0, "{} measured nothing", stage.stage);
    }
    let total: f64 = budget.stages.iter().map(|stage| stage.us_per_tx).sum();
    assert!((total - budget.stages_total_us).abs() < 1e-6);
    assert!(budget.process_us >= budget.stages_total_us);
    let serial = run(&small(Workload::Transfer, 1, true, false, 0.0), &quiet).unwrap();
    assert!(serial.cpu_budget.is_none());
}

#[test]
fn bad_signatures_are_each_rejected_and_change_nothing_else() {
    let mut config = small(Workload::Transfer, 2, false, true, 0.0);
    config.bad_signatures = 0.016;
    let bad = (0..config.txs)
        .filter(|&index| braid_benches::has_bad_signature(index, 0.016))
        .count();
    // ⌊1500 × 0.016⌋: evenly spread, one per 62.5 transactions.
    assert_eq!(bad, 24);
    let report = run(&config, &quiet).unwrap();
    assert_eq!(report.rejected, 24, "{report:?}");
    assert_eq!(report.committed, 1_500 - 24);
    assert_eq!(report.failed, 0);
    assert_eq!(
        report.failed_by_reason,
        [("SignatureFailure".to_owned(), 24)].into_iter().collect()
    );
    let mut serial = config.clone();
    serial.serial = true;
    let serial = run(&serial, &quiet).unwrap();
    assert_eq!(serial.rejected, 24);
    assert_eq!(serial.state_hash, report.state_hash);
}

#[test]
fn the_scheduler_simulated_on_measured_costs_stays_within_its_bound() {
    let mut config = small(Workload::Transfer, 2, false, false, 0.0);
    config.accounts = 4_096;
    config.simulate_threads = vec![1, 2, 8, 32];
    let report = run(&config, &quiet).unwrap();
    let threads: Vec<usize> = report.simulated.iter().map(|point| point.threads).collect();
    assert_eq!(threads, [1, 2, 8, 32]);
    // One thread runs everything in order: exactly the serial time when deciding is free,
    // and no faster with the scheduler thread's measured cost.
    assert_eq!(report.simulated[0].policy_speedup, 1.0);
    assert_eq!(report.simulated[0].bound, 1.0);
    for point in &report.simulated {
        assert!(point.speedup > 0.0 && point.bound <= point.threads as f64 + 1e-9);
        assert!(point.policy_speedup <= point.bound + 1e-9, "{point:?}");
        assert!(point.speedup <= point.bound + 1e-9, "{point:?}");
        assert!(point.scheduler_ns_per_tx > 0.0, "{point:?}");
        assert!(
            point.decisions_per_sec.is_some_and(|rate| rate > 0.0),
            "{point:?}"
        );
        // The run measured a CPU budget, so every thread count has a projection.
        assert!(
            point.projected_tps.is_some_and(|tps| tps > 0.0),
            "{point:?}"
        );
    }
    // Transfers among 4096 accounts rarely conflict: a second thread helps (the measured
    // scheduler cost is left out here: this test binary is unoptimised).
    assert!(
        report.simulated[1].policy_speedup > 1.2,
        "{:?}",
        report.simulated
    );
    // Without the flag nothing is simulated.
    let plain = run(&small(Workload::Transfer, 2, false, false, 0.0), &quiet).unwrap();
    assert!(plain.simulated.is_empty());
}

#[test]
fn open_loop_offers_the_rate_and_measures_latency_to_finality() {
    let mut config = small(Workload::Transfer, 2, false, false, 0.0);
    config.open_loop = Some(braid_benches::open_loop::OpenLoop {
        rate: 500,
        duration: std::time::Duration::from_secs(1),
    });
    let report = run(&config, &quiet).unwrap();
    let open = report.open_loop.clone().expect("open-loop stats");
    assert_eq!(report.txs, 500);
    assert_eq!(
        (open.offered_tps, open.submitted, open.dropped_busy),
        (500, 500, 0)
    );
    assert_eq!(report.committed, 500, "{report:?}");
    assert_eq!((report.failed, report.rejected), (0, 0));
    assert!(report.slots >= 1);
    assert!(report.latency_p50_ms > 0.0);
    assert!(report.latency_p99_ms >= report.latency_p50_ms);
    assert!(open.latency_p999_ms >= report.latency_p99_ms);
    assert!(open.rss_peak_mib >= open.rss_start_mib && open.rss_start_mib > 0.0);
    for bad in [
        BenchConfig {
            serial: true,
            ..config.clone()
        },
        BenchConfig {
            open_loop: Some(braid_benches::open_loop::OpenLoop {
                rate: 0,
                duration: std::time::Duration::from_secs(1),
            }),
            ..config.clone()
        },
    ] {
        assert!(matches!(
            run(&bad, &quiet),
            Err(braid_benches::BenchError::InvalidConfig(_))
        ));
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mut config = small(Workload::Transfer, 2, false, false, 0.0);
    config.hot_ratio = 1.5;
    assert!(matches!(
        run(&config, &quiet),
        Err(braid_benches::BenchError::InvalidConfig(_))
    ));
    config.hot_ratio = 0.0;
    config.accounts = 1;
    assert!(matches!(
        run(&config, &quiet),
        Err(braid_benches::BenchError::InvalidConfig(_))
    ));
    config.accounts = 64;
    // Bad signatures cannot be caught without verifying signatures.
    config.bad_signatures = 0.1;
    assert!(matches!(
        run(&config, &quiet),
        Err(braid_benches::BenchError::InvalidConfig(message)) if message.contains("--no-sigverify")
    ));
    config.sigverify = true;
    config.bad_signatures = 1.0;
    assert!(matches!(
        run(&config, &quiet),
        Err(braid_benches::BenchError::InvalidConfig(_))
    ));
    config.bad_signatures = 0.0;
    for threads in [0, 33] {
        config.simulate_threads = vec![4, threads];
        assert!(matches!(
            run(&config, &quiet),
            Err(braid_benches::BenchError::InvalidConfig(message)) if message.contains("--simulate-threads")
        ));
    }
}

fn defi(workload: Workload, threads: usize, serial: bool, hot_ratio: f64) -> BenchConfig {
    BenchConfig {
        workload,
        accounts: 64,
        pools: 4,
        txs: 1_200,
        threads,
        serial,
        sigverify: false,
        hot_ratio,
        slot_txs: 300,
        seed: 11,
        ..BenchConfig::default()
    }
}

fn all_succeeded(report: &braid_benches::BenchReport) {
    assert_eq!(report.committed, 1_200, "{report:?}");
    assert_eq!(report.failed, 0, "{:?}", report.failed_by_reason);
    assert_eq!(report.rejected, 0, "{:?}", report.failed_by_reason);
    assert_eq!(report.slots, 4, "{report:?}");
}

fn serial_and_parallel_agree(workload: Workload) {
    for hot_ratio in [0.0, 0.5] {
        let serial = run(&defi(workload, 1, true, hot_ratio), &quiet).unwrap();
        all_succeeded(&serial);
        for threads in [1, 2] {
            let parallel = run(&defi(workload, threads, false, hot_ratio), &quiet).unwrap();
            all_succeeded(&parallel);
            assert_eq!(
                parallel.state_hash, serial.state_hash,
                "{workload} hot {hot_ratio} threads {threads}"
            );
        }
    }
}

#[test]
fn amm_swaps_all_succeed_and_agree() {
    serial_and_parallel_agree(Workload::Amm);
}

#[test]
fn lending_deposits_and_redemptions_all_succeed_and_agree() {
    serial_and_parallel_agree(Workload::Lending);
}

#[test]
fn insurance_purchases_all_succeed_and_agree() {
    serial_and_parallel_agree(Workload::Insurance);
}

#[test]
fn mix_all_succeeds_and_agrees() {
    serial_and_parallel_agree(Workload::Mix);
}

#[test]
fn different_seeds_differ() {
    let one = run(&defi(Workload::Mix, 2, false, 0.0), &quiet).unwrap();
    let other = run(
        &BenchConfig {
            seed: 12,
            ..defi(Workload::Mix, 2, false, 0.0)
        },
        &quiet,
    )
    .unwrap();
    assert_ne!(one.state_hash, other.state_hash);
}

#[test]
fn workloads_have_lowercase_names() {
    use clap::ValueEnum;
    for (name, workload) in [
        ("transfer", Workload::Transfer),
        ("token", Workload::Token),
        ("amm", Workload::Amm),
        ("lending", Workload::Lending),
        ("insurance", Workload::Insurance),
        ("mix", Workload::Mix),
    ] {
        assert_eq!(Workload::from_str(name, false), Ok(workload));
        assert_eq!(workload.to_string(), name);
    }
}

#[test]
fn pool_workloads_need_pools() {
    for pools in [0, braid_benches::POOLS_MAX + 1] {
        let config = BenchConfig {
            pools,
            ..defi(Workload::Amm, 2, false, 0.0)
        };
        assert!(matches!(
            run(&config, &quiet),
            Err(braid_benches::BenchError::InvalidConfig(_))
        ));
    }
    // Transfers ignore the pool count.
    let config = BenchConfig {
        pools: 0,
        txs: 10,
        ..small(Workload::Transfer, 1, true, false, 0.0)
    };
    assert_eq!(run(&config, &quiet).unwrap().committed, 10);
}

#[test]
fn everything_on_the_hot_pool_still_succeeds() {
    // Pool 0 must have the liquidity, reserves and capital for the whole run.
    for workload in [
        Workload::Amm,
        Workload::Lending,
        Workload::Insurance,
        Workload::Mix,
    ] {
        all_succeeded(&run(&defi(workload, 2, false, 1.0), &quiet).unwrap());
    }
}
