//! Open-loop load: offer `rate` transactions per second for `duration`, whatever the node
//! does with them, and measure submit-to-finalized latency at that load (as bench-tps does),
//! rather than behind a queue filled in advance.
//!
//! Transactions are built and signed when they are due, over the node's latest blockhash,
//! so a run may last as long as the workload's accounts stay funded (a soak); the signing
//! runs on this machine and is part of the client's cost. A submission the node refuses as
//! busy is dropped and counted, never retried: the offered load does not bend to the node.
//! Slots end by time, as on a node. Resident memory is sampled once a second.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use braid_banking_stage::pipeline::{Pipeline, PipelineConfig};
use braid_interfaces::{ExecutionEvent, SubmitError};
use braid_primitives::KeyHasherBuilder;
use braid_runtime::executor::Executor;
use braid_runtime::{Message, Signature, Transaction};
use crossbeam_channel::{Receiver, unbounded};

use crate::workload::{Plan, setup::pseudo_signed};
use crate::{BenchConfig, BenchError, BenchReport, Progress, StageTimes, Tally};

/// How often the offer loop samples resident memory and reports progress.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// Most transactions one open-loop run may offer (`rate × duration`).
pub const OPEN_LOOP_TXS_MAX: u64 = 100_000_000;

/// An open-loop run's load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenLoop {
    /// Transactions offered per second.
    pub rate: u64,
    /// How long to offer them.
    pub duration: Duration,
}

/// What an open-loop run offered and how the process's memory behaved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenLoopStats {
    /// The rate asked for, per second.
    pub offered_tps: u64,
    /// Transactions handed to the node.
    pub submitted: u64,
    /// Transactions the node refused as busy (dropped, not retried).
    pub dropped_busy: u64,
    /// Submissions per second actually achieved by the client.
    pub submitted_tps: f64,
    /// 99.9th percentile submit-to-finalized latency, in milliseconds.
    pub latency_p999_ms: f64,
    /// Resident memory at the start of the load, in MiB.
    pub rss_start_mib: f64,
    /// Highest resident memory sampled during the load, in MiB.
    pub rss_peak_mib: f64,
    /// Resident memory at the end of the load, in MiB.
    pub rss_end_mib: f64,
    /// Resident memory at the end of each minute of load, in MiB: flat means no leak.
    pub rss_per_minute_mib: Vec<f64>,
    /// Bytes the accounts database's segments held at the start of the load.
    pub accounts_disk_start_bytes: u64,
    /// Most bytes its segments held at any sample (compaction keeps it bounded).
    pub accounts_disk_peak_bytes: u64,
    /// Bytes its segments held at the end, and how many of them were live records.
    pub accounts_disk_end_bytes: u64,
    /// Live record bytes at the end.
    pub accounts_live_end_bytes: u64,
    /// The block log's size at the end (it keeps every block; nothing prunes it).
    pub ledger_bytes: u64,
}

/// Submit-to-finalized latencies in fixed memory, so a long run's footprint stays flat:
/// buckets of [`LATENCY_BUCKET_US`] up to [`LATENCY_BUCKETS`] of them, the last one catching
/// everything slower.
struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
}

/// Width of one latency bucket, in microseconds.
const LATENCY_BUCKET_US: u64 = 100;
/// Buckets: 0.1 ms wide up to 60 s.
const LATENCY_BUCKETS: usize = 600_000;

impl LatencyHistogram {
    fn new() -> Self {
        Self {
            counts: vec![0; LATENCY_BUCKETS],
            total: 0,
        }
    }

    fn record(&mut self, latency: Duration) {
        let bucket = usize::try_from(
            latency
                .as_micros()
                .div_euclid(u128::from(LATENCY_BUCKET_US)),
        )
        .unwrap_or(usize::MAX)
        .min(LATENCY_BUCKETS.saturating_sub(1));
        self.counts[bucket] = self.counts[bucket].saturating_add(1);
        self.total = self.total.saturating_add(1);
    }

    /// The latency at `per_mille`, in milliseconds (a bucket's upper edge), as
    /// [`percentile_ms`] ranks it.
    fn percentile_ms(&self, per_mille: u64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = self.total.saturating_sub(1).saturating_mul(per_mille) / 1_000;
        let mut seen = 0u64;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen = seen.saturating_add(*count);
            if seen > rank {
                return (bucket as u64).saturating_add(1) as f64 * LATENCY_BUCKET_US as f64 / 1e3;
            }
        }
        0.0
    }
}

/// A submission as the collector learns of it.
enum Submitted {
    /// Sent at this instant.
    At(Signature, Instant),
    /// Refused as busy: forget it.
    Dropped(Signature),
}

/// Runs `plan`'s workload open loop on a fresh ledger in `dir`.
pub(crate) fn run(
    config: &BenchConfig,
    load: OpenLoop,
    plan: Plan,
    dir: &std::path::Path,
    executor: Arc<Executor>,
    progress: Progress<'_>,
) -> Result<BenchReport, BenchError> {
    let pipeline_config = PipelineConfig {
        threads: config.threads,
        sigverify: config.sigverify,
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(dir, Some(&plan.start), executor, pipeline_config)?;
    let (submitted_tx, submitted_rx) = unbounded::<Submitted>();
    let events = pipeline.events().clone();
    let collector = std::thread::Builder::new()
        .name("braid-bench-collector".into())
        .spawn(move || collect(&events, &submitted_rx))
        .map_err(BenchError::Io)?;

    let rss_start = resident_mib();
    let mut rss_peak = rss_start;
    let mut rss_per_minute = Vec::new();
    let accounts_disk_start = pipeline.shared().accounts_db().stats().disk_bytes;
    let mut accounts_disk_peak = accounts_disk_start;
    let seconds = load.duration.as_secs().max(1);
    let total = load.rate.saturating_mul(load.duration.as_millis() as u64) / 1_000;
    let interval = Duration::from_secs(1).div_f64(load.rate.max(1) as f64);
    let started = Instant::now();
    let (mut submitted, mut dropped) = (0u64, 0u64);
    let mut next_sample = started.checked_add(SAMPLE_INTERVAL).unwrap_or(started);
    for index in 0..total {
        let due = started
            .checked_add(interval.mul_f64(index as f64))
            .unwrap_or(started);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let wire = build(
            config,
            &plan,
            index as usize,
            pipeline.shared().latest_blockhash(),
        );
        let signature = braid_runtime::transaction::first_signature(&wire).unwrap_or_default();
        // Announced before it is submitted, so the collector knows it before any event.
        let _ = submitted_tx.send(Submitted::At(signature, Instant::now()));
        match pipeline.submit(wire) {
            Ok(()) => submitted = submitted.saturating_add(1),
            Err(SubmitError::Busy | SubmitError::Refused(_)) => {
                dropped = dropped.saturating_add(1);
                let _ = submitted_tx.send(Submitted::Dropped(signature));
            }
            Err(SubmitError::Stopped | SubmitError::Failed) => {
                let why = pipeline
                    .shared()
                    .health()
                    .err()
                    .map_or_else(String::new, |failure| format!(": {failure}"));
                return Err(BenchError::Setup(format!(
                    "the pipeline stopped during the run{why}"
                )));
            }
        }
        if Instant::now() >= next_sample {
            let rss = resident_mib();
            rss_peak = rss_peak.max(rss);
            if started.elapsed().as_secs() / 60 > rss_per_minute.len() as u64 {
                rss_per_minute.push(rss);
            }
            accounts_disk_peak =
                accounts_disk_peak.max(pipeline.shared().accounts_db().stats().disk_bytes);
            next_sample = next_sample
                .checked_add(SAMPLE_INTERVAL)
                .unwrap_or(next_sample);
            let elapsed = started.elapsed().as_secs().min(seconds);
            progress("offer", elapsed, seconds);
        }
    }
    let offered_s = started.elapsed().as_secs_f64();
    progress("offer", seconds, seconds);
    let shared = Arc::clone(pipeline.shared());
    pipeline.shutdown()?;
    let accounts = shared.accounts_db().stats();
    let ledger_bytes = std::fs::metadata(dir.join(braid_ledger::blockstore::LEDGER_FILE_NAME))
        .map_or(0, |metadata| metadata.len());
    let counters = shared.counters();
    let stages = StageTimes {
        sigverify_s: counters.sigverify_ns.load(Ordering::Relaxed) as f64 / 1e9,
        execute_s: counters.execute_ns.load(Ordering::Relaxed) as f64 / 1e9,
        commit_s: counters.commit_ns.load(Ordering::Relaxed) as f64 / 1e9,
    };
    drop(submitted_tx);
    let rss_end = resident_mib();
    let rss_peak = rss_peak.max(rss_end);
    let (tally, latencies, last, slots) = collector
        .join()
        .map_err(|_| BenchError::Setup("event collector panicked".into()))?;
    let mut report = crate::report(
        config,
        tally,
        Duration::from_secs_f64(offered_s),
        last,
        slots,
        &[],
        stages,
    );
    report.latency_p50_ms = latencies.percentile_ms(500);
    report.latency_p99_ms = latencies.percentile_ms(990);
    report.txs = usize::try_from(total).unwrap_or(usize::MAX);
    report.open_loop = Some(OpenLoopStats {
        offered_tps: load.rate,
        submitted,
        dropped_busy: dropped,
        submitted_tps: submitted as f64 / offered_s.max(f64::MIN_POSITIVE),
        latency_p999_ms: latencies.percentile_ms(999),
        rss_start_mib: rss_start,
        rss_peak_mib: rss_peak,
        rss_end_mib: rss_end,
        rss_per_minute_mib: rss_per_minute,
        accounts_disk_start_bytes: accounts_disk_start,
        accounts_disk_peak_bytes: accounts_disk_peak.max(accounts.disk_bytes),
        accounts_disk_end_bytes: accounts.disk_bytes,
        accounts_live_end_bytes: accounts.live_bytes,
        ledger_bytes,
    });
    Ok(report)
}

/// Transaction `index` of the workload over `blockhash`, signed (or pseudo-signed).
fn build(
    config: &BenchConfig,
    plan: &Plan,
    index: usize,
    blockhash: braid_runtime::Hash,
) -> Vec<u8> {
    let (ixs, payer) = plan.transaction(index);
    let payer = &plan.users[payer];
    let tx = if config.sigverify {
        Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &[payer], blockhash)
    } else {
        pseudo_signed(Message::new_with_blockhash(
            &ixs,
            Some(&payer.pubkey()),
            &blockhash,
        ))
    };
    tx.to_bytes()
}

/// The tally, the latencies, the last commit's (state hash, bank hash) and the slot count.
type Collected = (
    Tally,
    LatencyHistogram,
    Option<(braid_runtime::Hash, braid_runtime::Hash)>,
    u64,
);

/// Tallies events and measures each finalized transaction's latency from its submission.
fn collect(events: &Receiver<ExecutionEvent>, submitted: &Receiver<Submitted>) -> Collected {
    let mut tally = Tally::default();
    let mut waiting: HashMap<Signature, Instant, KeyHasherBuilder> =
        HashMap::with_hasher(KeyHasherBuilder::new());
    let mut latencies = LatencyHistogram::new();
    let mut last = None;
    let mut slots = 0u64;
    let drain = |waiting: &mut HashMap<Signature, Instant, KeyHasherBuilder>| {
        for message in submitted.try_iter() {
            match message {
                Submitted::At(signature, at) => {
                    waiting.insert(signature, at);
                }
                Submitted::Dropped(signature) => {
                    waiting.remove(&signature);
                }
            }
        }
    };
    for event in events.iter() {
        drain(&mut waiting);
        match event {
            ExecutionEvent::Processed { status, .. } => tally.processed(&status),
            ExecutionEvent::Rejected { signature, error } => {
                waiting.remove(&signature);
                tally.reject(error.reason());
            }
            ExecutionEvent::SlotCommitted(commit) => {
                let now = Instant::now();
                for signature in &commit.signatures {
                    if let Some(at) = waiting.remove(signature) {
                        latencies.record(now.saturating_duration_since(at));
                    }
                }
                last = Some((commit.state_hash, commit.bank_hash));
                slots = slots.saturating_add(1);
            }
        }
    }
    (tally, latencies, last, slots)
}

/// This process's resident memory, in MiB (0 where `/proc` is unavailable).
fn resident_mib() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u64::try_from(page).unwrap_or(4_096);
    pages.saturating_mul(page) as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_ranks_as_the_sorted_list_does() {
        let sorted: Vec<Duration> = (1..=1_000).map(Duration::from_millis).collect();
        let mut histogram = LatencyHistogram::new();
        assert_eq!(histogram.percentile_ms(999), 0.0);
        for latency in &sorted {
            histogram.record(*latency);
        }
        for per_mille in [500, 990, 999] {
            // A latency of exactly n ms falls in the bucket that ends 0.1 ms later.
            let exact = crate::percentile_ms(&sorted, per_mille as usize);
            assert_eq!(histogram.percentile_ms(per_mille), exact + 0.1);
        }
        // Slower than the last bucket still counts, at the last bucket's edge.
        histogram.record(Duration::from_secs(3_600));
        assert_eq!(histogram.total, 1_001);
        assert_eq!(histogram.percentile_ms(1_000), 60_000.0);
    }

    #[test]
    fn resident_memory_is_measured() {
        assert!(resident_mib() > 0.0);
    }
}
