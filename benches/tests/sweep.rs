//! The sweep runs every (threads, hot ratio) pair and draws them into an SVG.

use braid_benches::sweep::{plot_svg, sweep};
use braid_benches::{BenchConfig, Workload};

/// A small unsigned transfer run: 400 transactions over 32 accounts, slots of 200.
fn small() -> BenchConfig {
    BenchConfig {
        workload: Workload::Transfer,
        accounts: 32,
        txs: 400,
        sigverify: false,
        slot_txs: 200,
        ..BenchConfig::default()
    }
}

#[test]
fn sweep_measures_every_pair_and_plots_them() {
    let base = small();
    let points = sweep(&base, &[1, 2], &[0.0, 1.0], &|_, _, _| {}).unwrap();
    let pairs: Vec<(usize, f64)> = points.iter().map(|p| (p.threads, p.hot_ratio)).collect();
    assert_eq!(pairs, [(1, 0.0), (1, 1.0), (2, 0.0), (2, 1.0)]);
    assert!(
        points
            .iter()
            .all(|p| p.report.committed == 400 && p.report.tps > 0.0)
    );
    // Same seed and contention: the thread count does not change the state.
    assert_eq!(points[0].report.state_hash, points[2].report.state_hash);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.svg");
    plot_svg(&points, &path, "transfer").unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert!(svg.contains("1 banking thread") && svg.contains("2 banking threads"));

    let unwritable = dir.path().join("missing-dir").join("sweep.svg");
    assert!(matches!(
        plot_svg(&points, &unwritable, "x"),
        Err(braid_benches::BenchError::Plot(_))
    ));
}

#[test]
fn a_sweep_with_simulation_plots_speedup_beside_throughput() {
    let base = BenchConfig {
        simulate_threads: vec![2, 8],
        ..small()
    };
    let points = sweep(&base, &[1, 2], &[0.0, 1.0], &|_, _, _| {}).unwrap();
    // Only the first thread count's runs simulate: the simulation ignores real threads.
    let simulated: Vec<usize> = points.iter().map(|p| p.report.simulated.len()).collect();
    assert_eq!(simulated, [2, 2, 0, 0]);
    // Everything on one hot account is one chain: no speedup at any thread count.
    assert!(
        points[1]
            .report
            .simulated
            .iter()
            .all(|sim| sim.bound == 1.0)
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.svg");
    plot_svg(&points, &path, "transfer").unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.contains("width=\"1700\""),
        "{}",
        &svg[..80.min(svg.len())]
    );
    assert!(svg.contains("8 simulated threads") && svg.contains("2 banking threads"));
}
