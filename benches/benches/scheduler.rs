//! Scheduler overhead per transaction: push, schedule and complete, for two threads and
//! 64-transaction batches, and for the pipeline's configuration on 2 and 32 threads, with
//! banking threads that finish instantly.
//!
//! Criterion reports time per iteration of [`TXS_PER_ITER`] transactions; divide by it (or
//! read the throughput line) for the cost of one transaction. Each case runs twice: `wall`
//! measures elapsed time, `cpu` this thread's on-CPU time (what the scheduler costs when
//! other processes share the two cores).

#![allow(clippy::arithmetic_side_effects)] // small counters and indices in test code

use std::hint::black_box;
use std::time::Duration;

use braid_banking_stage::scheduler::{BatchMode, PendingTx, Scheduler, SchedulerConfig};
use braid_primitives::Pubkey;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// Transactions pushed and drained per measured iteration.
const TXS_PER_ITER: usize = 8_192;
/// Accounts the low-contention workload draws from.
const ACCOUNT_POOL_LEN: usize = 100_000;

/// splitmix64: a fixed workload without a random-number crate.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn random_key(state: &mut u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&next(state).to_le_bytes());
    }
    Pubkey::new_from_array(bytes)
}

/// Two-account transfers: `from` and `to` both written; `hot` replaces `from` when given.
fn transfers(pool: &[Pubkey], hot: Option<Pubkey>, seed: u64) -> Vec<PendingTx> {
    let mut state = seed;
    (0..TXS_PER_ITER as u64)
        .map(|id| {
            let mut pick = || pool[(next(&mut state) % pool.len() as u64) as usize];
            let from = hot.unwrap_or_else(&mut pick);
            let to = pick();
            PendingTx::new(id, next(&mut state) % 1_000, vec![from, to], &[])
        })
        .collect()
}

fn drain(scheduler: &mut Scheduler, txs: Vec<PendingTx>) -> usize {
    for tx in txs {
        scheduler.push(tx).expect("queue sized for one iteration");
    }
    let mut scheduled = 0;
    while scheduler.pending_len() > 0 {
        for batch in scheduler.schedule() {
            scheduled += batch.txs.len();
            scheduler.complete(batch.id).expect("batch in flight");
        }
    }
    scheduled
}

/// On-CPU time of this thread, from the kernel's scheduler statistics: the machine is
/// shared, and wall time would charge the scheduler for other processes' time slices.
/// `None` where the file is missing (then the CPU-time cases are skipped).
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn bench(c: &mut Criterion) {
    let mut state = 42;
    let pool: Vec<Pubkey> = (0..ACCOUNT_POOL_LEN)
        .map(|_| random_key(&mut state))
        .collect();
    let hot = random_key(&mut state);
    let mut group = c.benchmark_group("scheduler");
    group.throughput(Throughput::Elements(TXS_PER_ITER as u64));
    let cases = [
        ("low_contention", None, BatchMode::ConflictFree),
        (
            "hot_account_conflict_free",
            Some(hot),
            BatchMode::ConflictFree,
        ),
        ("hot_account_sequential", Some(hot), BatchMode::Sequential),
    ];
    let configs = cases
        .into_iter()
        .map(|(name, hot, batch_mode)| {
            let config = SchedulerConfig {
                threads: 2,
                batch_target: 64,
                batch_mode,
                ..SchedulerConfig::default()
            };
            (name.to_owned(), hot, config)
        })
        // What the pipeline runs with: the issue-26 goal of decisions per second is for
        // transfers with distinct payers on a wide machine.
        .chain([2, 32].map(|threads| {
            (
                format!("pipeline_{threads}_threads_low_contention"),
                None,
                SchedulerConfig::pipeline(threads),
            )
        }));
    for (name, hot, config) in configs {
        let mut scheduler = Scheduler::new(config).expect("valid config");
        let mut seed = 0;
        group.bench_function(format!("{name}/wall"), |b| {
            b.iter_batched(
                || {
                    seed += 1;
                    transfers(&pool, hot, seed)
                },
                |txs| black_box(drain(&mut scheduler, txs)),
                BatchSize::LargeInput,
            )
        });
        if thread_cpu_time().is_none() {
            continue;
        }
        group.bench_function(format!("{name}/cpu"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    seed += 1;
                    let txs = transfers(&pool, hot, seed);
                    let start = thread_cpu_time().unwrap_or_default();
                    black_box(drain(&mut scheduler, txs));
                    let end = thread_cpu_time().unwrap_or_default();
                    total += end.saturating_sub(start);
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
