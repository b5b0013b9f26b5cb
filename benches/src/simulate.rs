//! Parallelism beyond this machine: the real scheduler, fed a run's own transactions with
//! their measured execution costs, on `N` simulated banking threads.
//!
//! 1. **Costs** ([`measure_costs`]): every transaction executes once, serially and in
//!    submission order, on an in-memory bank at the run's genesis, through the same
//!    [`Bank::process`] lifecycle as every other path; each one's wall time is its cost.
//! 2. **Schedule** ([`simulate`]): the pipeline's [`Scheduler`], configured as the pipeline
//!    would be on `N` threads ([`SchedulerConfig::pipeline`]), packs the transactions. Time is
//!    simulated: a thread runs its batches in order, a batch takes the sum of its
//!    transactions' costs, and a batch completes (releasing its locks) at its simulated end.
//!    The scheduler thread is a serial server ([`SchedulerCost::Measured`]): each `push`,
//!    `schedule` and `complete` call costs its measured wall time, a batch leaves when the
//!    pass that made it ends, and a completion waits for the thread to be free. The makespan
//!    speedup is the serial sum of costs over the simulated makespan; the policy's speedup is
//!    the same with deciding free.
//! 3. **Bound** ([`critical_path_ns`]): with unlimited threads a transaction can start only
//!    when every earlier transaction it conflicts with has finished, so the longest such
//!    chain bounds any schedule. The speedup bound at `N` threads is
//!    `total / max(critical path, total / N)`.
//!
//! 4. **Projection** ([`project_tps`]): end-to-end TPS for an `N`-core machine, a roofline
//!    over the run's CPU budget and the simulated speedup.
//!
//! What it leaves out, by design: the banking threads' own cost per batch (channel messages,
//! wake-ups), commit overhead (in the projection, not the schedule) and memory-bandwidth
//! contention between real cores.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use braid_banking_stage::scheduler::{PendingTx, Scheduler, SchedulerConfig};
use braid_ledger::bank::{Bank, Outcome};
use braid_ledger::genesis::Genesis;
use braid_primitives::Pubkey;
use braid_runtime::executor::Executor;
use braid_runtime::sanitized::SanitizedTransaction;
use std::sync::Arc;

use crate::BenchError;

/// One transaction as the simulation sees it.
#[derive(Debug, Clone)]
pub struct CostedTx {
    /// Accounts it writes.
    pub writes: Vec<Pubkey>,
    /// Accounts it only reads.
    pub reads: Vec<Pubkey>,
    /// Measured execution cost, in nanoseconds.
    pub cost_ns: u64,
}

impl CostedTx {
    /// The transaction as the scheduler takes it, with id `id` and no priority (the
    /// simulation keeps submission order, as equal fees do).
    fn pending(&self, id: usize) -> PendingTx {
        PendingTx::new(id as u64, 0, self.writes.clone(), &self.reads)
    }
}

/// The simulated speedup at one thread count.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimulatedThreads {
    /// Simulated banking threads.
    pub threads: usize,
    /// Serial cost over the simulated makespan, the scheduler thread's own cost included
    /// (as [`simulate`] was asked).
    pub speedup: f64,
    /// The same with deciding free: what the policy alone reaches.
    pub policy_speedup: f64,
    /// The most any schedule could reach at this thread count (critical-path bound).
    pub bound: f64,
    /// Scheduler-thread time (`push`, `schedule`, `complete`) per transaction, in
    /// nanoseconds; 0 when its cost was not measured.
    pub scheduler_ns_per_tx: f64,
    /// Scheduling decisions per second on one core with nothing executing
    /// ([`decisions_per_second`]); `None` when its cost was not measured.
    pub decisions_per_sec: Option<f64>,
    /// Transactions per batch sent, on average.
    pub batch_txs: f64,
    /// Times a pass looked at a transaction and left it waiting, per transaction.
    pub passed_over_per_tx: f64,
    /// End-to-end TPS projected for a machine with this many cores, from this run's CPU
    /// budget ([`project_tps`]); `None` when the run measured no budget.
    pub projected_tps: Option<f64>,
}

/// Executes `wires` serially on an in-memory bank at `genesis` and returns each admitted
/// transaction with its lock set and its measured cost (rejected ones are left out: the
/// pipeline never schedules them).
pub fn measure_costs(
    genesis: &Genesis,
    executor: Arc<Executor>,
    wires: &[Vec<u8>],
) -> Result<Vec<CostedTx>, BenchError> {
    let mut bank = Bank::in_memory(genesis, Arc::clone(&executor))?;
    let mut costed = Vec::with_capacity(wires.len());
    for wire in wires {
        let Ok(tx) = SanitizedTransaction::try_from_bytes(wire) else {
            continue;
        };
        let started = Instant::now();
        let outcome = bank.process(wire, &tx)?;
        let cost_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Outcome::Recorded(_) = outcome {
            let (writes, reads) = executor.lock_set(&tx);
            costed.push(CostedTx {
                writes,
                reads,
                cost_ns: cost_ns.max(1),
            });
        }
    }
    Ok(costed)
}

/// Runs behind each [`decisions_per_second`] figure (the fastest is kept: the machine is
/// shared).
pub const DECISION_ROUNDS: usize = 3;

/// What the simulated scheduler thread's own work costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerCost {
    /// Nothing: the policy alone, as if deciding were free (deterministic; for tests).
    Free,
    /// The wall time each `push`, `schedule` and `complete` call takes on this machine: the
    /// scheduler thread is a serial server, so a batch leaves only when the pass that made
    /// it has ended, and a completion is seen only when the thread is free.
    Measured,
}

/// One simulated schedule of a run's transactions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// From the first pass until the last batch has ended and the scheduler thread has
    /// taken its completion, in nanoseconds.
    pub makespan_ns: u64,
    /// When the last batch ends, in nanoseconds.
    pub last_batch_end_ns: u64,
    /// Time the scheduler thread spent in `push`, `schedule` and `complete` (0 when
    /// [`SchedulerCost::Free`]).
    pub scheduler_ns: u64,
    /// Batches sent.
    pub batches: u64,
    /// Times a pass examined a transaction and left it waiting.
    pub passed_over: u64,
}

/// The scheduler thread's clock: it runs one call at a time and charges each its cost.
struct SchedulerThread {
    cost: SchedulerCost,
    /// When the thread is next free.
    clock: u64,
    busy_ns: u64,
}

impl SchedulerThread {
    /// Runs `call` on the scheduler thread and advances its clock by the call's cost.
    fn run<T>(&mut self, call: impl FnOnce() -> T) -> T {
        match self.cost {
            SchedulerCost::Free => call(),
            SchedulerCost::Measured => {
                let started = Instant::now();
                let result = call();
                let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.clock = self.clock.saturating_add(ns);
                self.busy_ns = self.busy_ns.saturating_add(ns);
                result
            }
        }
    }
}

/// `txs` scheduled by the real scheduler, configured as the pipeline configures it, on
/// `threads` simulated banking threads.
pub fn simulate_schedule(
    txs: &[CostedTx],
    threads: usize,
    cost: SchedulerCost,
) -> Result<Schedule, BenchError> {
    let config = SchedulerConfig::pipeline(threads);
    let pending_max = config.pending_max;
    let mut scheduler =
        Scheduler::new(config).map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
    let mut thread = SchedulerThread {
        cost,
        clock: 0,
        busy_ns: 0,
    };
    // Batches in flight by simulated end time (then id, for a total order).
    let mut ends: BTreeMap<(u64, u64), ()> = BTreeMap::new();
    let mut free_at = vec![0u64; threads];
    let mut next = 0usize;
    let mut makespan = 0u64;
    loop {
        // Admit as the pipeline does: while there is room. The lock lists are built outside
        // the timed call, as sigverify workers build them in the pipeline.
        let room = (pending_max / 2).saturating_sub(scheduler.pending_len());
        let admitted: Vec<PendingTx> = txs
            .iter()
            .enumerate()
            .skip(next)
            .take(room)
            .map(|(id, tx)| tx.pending(id))
            .collect();
        next = next.saturating_add(admitted.len());
        thread
            .run(|| admitted.into_iter().try_for_each(|tx| scheduler.push(tx)))
            .map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
        let sent = thread.run(|| scheduler.schedule());
        for batch in sent {
            let duration: u64 = batch
                .txs
                .iter()
                .filter_map(|id| txs.get(*id as usize))
                .map(|tx| tx.cost_ns)
                .sum();
            let free = &mut free_at[batch.thread];
            let end = thread.clock.max(*free).saturating_add(duration);
            *free = end;
            makespan = makespan.max(end);
            ends.insert((end, batch.id), ());
        }
        let Some((&(first_end, _), ())) = ends.first_key_value() else {
            // Nothing in flight and this pass scheduled nothing: done, or stuck.
            if next >= txs.len() && scheduler.pending_len() == 0 {
                let metrics = scheduler.metrics();
                return Ok(Schedule {
                    makespan_ns: makespan.max(thread.clock),
                    last_batch_end_ns: makespan,
                    scheduler_ns: thread.busy_ns,
                    batches: metrics.batches,
                    passed_over: metrics.passed_over,
                });
            }
            return Err(BenchError::Setup(
                "the simulated scheduler stalled with work pending".into(),
            ));
        };
        // Wait for the next completion, then take every one that has ended by the time the
        // thread gets to it, as the pipeline drains its completion channel.
        thread.clock = thread.clock.max(first_end);
        while let Some((&(end, id), ())) = ends.first_key_value() {
            if end > thread.clock {
                break;
            }
            ends.pop_first();
            thread
                .run(|| scheduler.complete(id))
                .map_err(|error| BenchError::Setup(error.to_string()))?;
        }
    }
}

/// End-to-end TPS projected for a machine with `point.threads` cores running the pipeline
/// with that many banking threads, from a run's CPU budget (µs per transaction per stage,
/// measured on this machine) and the simulated schedule.
///
/// A roofline, not a second simulation: the projection is the least of
/// - the scheduler thread: admission and recording (from the budget) plus the simulated
///   scheduler's own cost per transaction, on one core;
/// - the committer thread: ledger append and accounts commit, on one core;
/// - execution (execute and store) on the banking threads, at the simulated speedup;
/// - every stage's CPU, the unattributed rest of the process included, on all cores.
///
/// The client (load generator) is left out: it is not part of a node. Parse, sigverify and
/// the state-hash fold run on all cores, so they appear only in the last term.
pub fn project_tps(budget: &crate::CpuBudgetReport, point: &SimulatedThreads) -> f64 {
    let stage = |name: &str| {
        budget
            .stages
            .iter()
            .find(|stage| stage.stage == name)
            .map_or(0.0, |stage| stage.us_per_tx)
    };
    let scheduler_us = if point.scheduler_ns_per_tx > 0.0 {
        point.scheduler_ns_per_tx / 1_000.0
    } else {
        stage("schedule")
    };
    let scheduler_thread_us = stage("admit") + stage("record") + scheduler_us;
    let committer_us = stage("ledger_append") + stage("accounts_commit");
    let execute_us = stage("execute") + stage("store");
    let parallel_us = stage("parse") + stage("sigverify") + stage("hash_fold");
    let all_us =
        scheduler_thread_us + committer_us + execute_us + parallel_us + budget.unattributed_us;
    let per_second = |us: f64| if us > 0.0 { 1e6 / us } else { f64::INFINITY };
    let cores = point.threads.max(1) as f64;
    let projected = per_second(scheduler_thread_us)
        .min(per_second(committer_us))
        .min(point.speedup * per_second(execute_us))
        .min(cores * per_second(all_us));
    if projected.is_finite() {
        projected
    } else {
        0.0
    }
}

/// Scheduling decisions per second on one core: `txs` pushed, scheduled for `threads`
/// threads and completed as soon as sent (no execution), the fastest of `rounds` runs. A
/// decision is one transaction queued, placed and released.
pub fn decisions_per_second(
    txs: &[CostedTx],
    threads: usize,
    rounds: usize,
) -> Result<f64, BenchError> {
    let config = SchedulerConfig::pipeline(threads);
    let chunk = (config.pending_max / 2).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..rounds.max(1) {
        let mut scheduler =
            Scheduler::new(config).map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
        let lists: Vec<PendingTx> = txs
            .iter()
            .enumerate()
            .map(|(id, tx)| tx.pending(id))
            .collect();
        let mut lists = lists.into_iter();
        let started = Instant::now();
        loop {
            let mut pushed = 0usize;
            while scheduler.pending_len() < chunk {
                let Some(tx) = lists.next() else { break };
                scheduler
                    .push(tx)
                    .map_err(|error| BenchError::InvalidConfig(error.to_string()))?;
                pushed = pushed.saturating_add(1);
            }
            let sent = scheduler.schedule();
            if sent.is_empty() && pushed == 0 && scheduler.in_flight() == 0 {
                break;
            }
            for batch in sent {
                scheduler
                    .complete(batch.id)
                    .map_err(|error| BenchError::Setup(error.to_string()))?;
            }
        }
        best = best.min(started.elapsed().as_secs_f64());
        if scheduler.pending_len() != 0 {
            return Err(BenchError::Setup(
                "the scheduler stalled with work pending".into(),
            ));
        }
    }
    Ok(txs.len() as f64 / best.max(f64::MIN_POSITIVE))
}

/// The longest chain of conflicting transactions, in nanoseconds: with unlimited threads,
/// each transaction starts when every earlier one it conflicts with has finished.
pub fn critical_path_ns(txs: &[CostedTx]) -> u64 {
    #[derive(Default, Clone, Copy)]
    struct Account {
        /// When the last writer finishes.
        written: u64,
        /// When the last reader since that write finishes.
        read: u64,
    }
    let mut accounts: HashMap<Pubkey, Account> = HashMap::new();
    let mut longest = 0u64;
    for tx in txs {
        let mut start = 0u64;
        for key in &tx.writes {
            let account = accounts.get(key).copied().unwrap_or_default();
            start = start.max(account.written).max(account.read);
        }
        for key in &tx.reads {
            start = start.max(accounts.get(key).map_or(0, |account| account.written));
        }
        let finish = start.saturating_add(tx.cost_ns);
        for key in &tx.writes {
            accounts.insert(
                *key,
                Account {
                    written: finish,
                    read: 0,
                },
            );
        }
        for key in &tx.reads {
            let account = accounts.entry(*key).or_default();
            account.read = account.read.max(finish);
        }
        longest = longest.max(finish);
    }
    longest
}

/// The simulated speedup and its bound at each of `thread_counts`, with the scheduler's
/// own cost as `cost` says.
pub fn simulate(
    txs: &[CostedTx],
    thread_counts: &[usize],
    cost: SchedulerCost,
) -> Result<Vec<SimulatedThreads>, BenchError> {
    let total: u64 = txs.iter().map(|tx| tx.cost_ns).sum();
    let critical = critical_path_ns(txs).max(1);
    let count = (txs.len() as u64).max(1);
    thread_counts
        .iter()
        .map(|&threads| {
            let policy = simulate_schedule(txs, threads, SchedulerCost::Free)?;
            let costed = match cost {
                SchedulerCost::Free => policy,
                SchedulerCost::Measured => simulate_schedule(txs, threads, cost)?,
            };
            let floor = critical.max(total.div_ceil(threads.max(1) as u64)).max(1);
            let scheduler_ns_per_tx = costed.scheduler_ns as f64 / count as f64;
            Ok(SimulatedThreads {
                threads,
                speedup: total as f64 / costed.makespan_ns.max(1) as f64,
                policy_speedup: total as f64 / policy.makespan_ns.max(1) as f64,
                bound: total as f64 / floor as f64,
                scheduler_ns_per_tx,
                decisions_per_sec: match cost {
                    SchedulerCost::Free => None,
                    SchedulerCost::Measured => {
                        Some(decisions_per_second(txs, threads, DECISION_ROUNDS)?)
                    }
                },
                batch_txs: count as f64 / costed.batches.max(1) as f64,
                passed_over_per_tx: costed.passed_over as f64 / count as f64,
                projected_tps: None,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // small counters and indices in test code
mod tests {
    use super::*;

    fn tx(writes: &[u8], reads: &[u8], cost_ns: u64) -> CostedTx {
        let key = |byte: &u8| Pubkey::new_from_array([*byte; 32]);
        CostedTx {
            writes: writes.iter().map(key).collect(),
            reads: reads.iter().map(key).collect(),
            cost_ns,
        }
    }

    #[test]
    fn independent_transactions_spread_over_every_thread() {
        let txs: Vec<CostedTx> = (0..=255u8).map(|i| tx(&[i], &[], 1_000)).collect();
        assert_eq!(critical_path_ns(&txs), 1_000);
        let results = simulate(&txs, &[1, 4], SchedulerCost::Free).unwrap();
        assert_eq!(results[0].speedup, 1.0);
        assert_eq!(results[0].bound, 1.0);
        assert_eq!(results[1].bound, 4.0);
        assert!(
            results[1].speedup > 3.0 && results[1].speedup <= 4.0,
            "{results:?}"
        );
    }

    #[test]
    fn one_hot_account_is_one_chain() {
        let txs: Vec<CostedTx> = (0..64u8).map(|i| tx(&[0, i + 1], &[], 500)).collect();
        assert_eq!(critical_path_ns(&txs), 64 * 500);
        let results = simulate(&txs, &[8], SchedulerCost::Free).unwrap();
        assert_eq!(results[0].bound, 1.0);
        assert_eq!(results[0].speedup, 1.0);
    }

    /// splitmix64, for fixed pseudo-random workloads.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn key(index: u64) -> Pubkey {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&index.to_le_bytes());
        bytes[31] = 0x5a;
        Pubkey::new_from_array(bytes)
    }

    /// Swaps as the `amm` workload makes them: a random one of `pools` pools (four written
    /// accounts each, one read) and a random one of 10,000 users (three written accounts).
    fn swaps(pools: u64, count: usize, seed: u64) -> Vec<CostedTx> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                let pool = next(&mut state) % pools;
                let user = 1_000_000 + next(&mut state) % 10_000;
                let mut writes: Vec<Pubkey> = (0..4).map(|k| key(pool * 8 + k)).collect();
                writes.extend((0..3).map(|k| key(user * 4 + k)));
                CostedTx {
                    writes,
                    reads: vec![key(pool * 8 + 7), key(u64::MAX)],
                    cost_ns: 6_000,
                }
            })
            .collect()
    }

    #[test]
    fn swaps_over_sixteen_pools_do_not_funnel_onto_one_thread() {
        // With 64-transaction batches, four in flight per thread, swaps over 16 pools reached
        // 1.05x of a bound of 11.1 on 16 threads: one batch bound every pool to its thread.
        // Now 11.3 of 14.4 here (the goal, 0.8 of the bound, is measured on the real
        // workload in BENCHMARKS.md; this guards against the funnel).
        let txs = swaps(16, 20_000, 7);
        let results = simulate(&txs, &[2, 8, 16], SchedulerCost::Free).unwrap();
        for point in &results {
            assert!(
                point.policy_speedup >= 0.7 * point.bound,
                "{} threads: {:.2} of a bound of {:.2}",
                point.threads,
                point.policy_speedup,
                point.bound
            );
        }
    }

    #[test]
    fn the_scheduler_thread_paces_the_schedule_when_its_cost_is_measured() {
        // On one thread, deciding free, the thread runs back to back: the makespan is the
        // serial cost exactly. With the scheduler's cost, the first batch cannot start before
        // the first admission and pass have ended, so the makespan is longer.
        let txs = swaps(1_000, 5_000, 3);
        let total: u64 = txs.iter().map(|tx| tx.cost_ns).sum();
        let free = simulate_schedule(&txs, 1, SchedulerCost::Free).unwrap();
        let measured = simulate_schedule(&txs, 1, SchedulerCost::Measured).unwrap();
        assert_eq!(free.scheduler_ns, 0);
        assert_eq!(free.makespan_ns, total);
        assert!(measured.scheduler_ns > 0);
        assert_eq!(free.last_batch_end_ns, total);
        assert!(
            measured.last_batch_end_ns > total,
            "a batch left before the pass that made it ended"
        );
    }

    #[test]
    fn the_projection_is_the_tightest_of_its_four_limits() {
        let stage = |stage: &'static str, us_per_tx: f64| crate::StageCpu { stage, us_per_tx };
        let budget = crate::CpuBudgetReport {
            stages: vec![
                stage("parse", 1.0),
                stage("sigverify", 20.0),
                stage("admit", 1.0),
                stage("schedule", 0.5),
                stage("execute", 4.0),
                stage("store", 1.0),
                stage("record", 0.5),
                stage("hash_fold", 2.0),
                stage("ledger_append", 0.25),
                stage("accounts_commit", 0.25),
            ],
            stages_total_us: 30.5,
            client_us: 1.0,
            process_us: 32.5,
            unattributed_us: 1.0,
        };
        let mut point = SimulatedThreads {
            threads: 32,
            speedup: 20.0,
            policy_speedup: 25.0,
            bound: 32.0,
            scheduler_ns_per_tx: 500.0,
            decisions_per_sec: None,
            batch_txs: 4.0,
            passed_over_per_tx: 0.0,
            projected_tps: None,
        };
        // All stages: 1 + 20 + (1 + 0.5 + 0.5) + 5 + 2 + 0.5 + 1 unattributed = 31.5 us on
        // 32 cores: 1.016M/s; the scheduler thread: 2 us, 500k/s; the committer: 2M/s;
        // execution: 20 x 200k/s = 4M/s.
        assert!((project_tps(&budget, &point) - 500_000.0).abs() < 1e-6);
        point.threads = 8;
        let all_cores = 8.0 * 1e6 / 31.5;
        assert!((project_tps(&budget, &point) - all_cores).abs() < 1e-6);
        point.speedup = 1.0;
        assert!((project_tps(&budget, &point) - 200_000.0).abs() < 1e-6);
    }

    mod random_graphs {
        use proptest::prelude::*;

        use super::*;

        /// Random transactions over `accounts` accounts: one to three writes, up to two
        /// reads, 1 to 21 us each.
        fn random_txs(accounts: u64, count: usize, seed: u64) -> Vec<CostedTx> {
            let mut state = seed;
            (0..count)
                .map(|_| {
                    let writes = 1 + next(&mut state) % 3;
                    let reads = next(&mut state) % 3;
                    let mut pick = || key(next(&mut state) % accounts);
                    let writes: Vec<Pubkey> = (0..writes).map(|_| pick()).collect();
                    let reads: Vec<Pubkey> = (0..reads)
                        .map(|_| pick())
                        .filter(|read| !writes.contains(read))
                        .collect();
                    CostedTx {
                        writes,
                        reads,
                        cost_ns: 1_000 + next(&mut state) % 20_000,
                    }
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]

            // For random conflict graphs (hot and cold accounts, reads and writes, uneven
            // costs) the schedule reaches a stated share of what the graph allows.
            #[test]
            fn the_schedule_reaches_a_share_of_the_bound_on_random_conflict_graphs(
                accounts in prop_oneof![Just(4u64), Just(32), Just(1_000)],
                threads in prop_oneof![Just(2usize), Just(4), Just(8), Just(16)],
                count in 200usize..600,
                seed in any::<u64>(),
            ) {
                let txs = random_txs(accounts, count, seed);
                let point = &simulate(&txs, &[threads], SchedulerCost::Free).unwrap()[0];
                prop_assert!(
                    point.policy_speedup >= SPEEDUP_FRACTION_OF_BOUND_MIN * point.bound,
                    "{:.2} of a bound of {:.2}", point.policy_speedup, point.bound
                );
            }
        }
    }

    /// The least share of the critical-path bound the schedule reaches on any random conflict
    /// graph the property test draws. The weakest graphs are dense ones (32 accounts) on 4
    /// threads: 0.36 at worst over 40 seeds, because a transaction that conflicts with two
    /// threads waits for a whole batch on one of them; sparse (1,000 accounts) reach 0.61
    /// and more, one hot account 0.81.
    const SPEEDUP_FRACTION_OF_BOUND_MIN: f64 = 0.3;

    #[test]
    fn readers_share_and_writers_wait_for_them() {
        // Two readers of account 9 run side by side; the writer of 9 waits for both.
        let txs = [tx(&[1], &[9], 100), tx(&[2], &[9], 300), tx(&[9], &[], 50)];
        assert_eq!(critical_path_ns(&txs), 350);
    }
}
