//! The load generator against a running node or network (`braid bench --rpc-url`), as
//! Agave's bench-tps is used against a cluster.
//!
//! A run has the in-process run's phases, over JSON-RPC:
//!
//! 1. **Setup** (not measured): the funder (derived from the seed, as in process) is paid
//!    from the faucet keypair by a signed System transfer, then sends the workload's setup
//!    transactions — the same instructions the in-process setup executes into its genesis
//!    (`Setup::remote` in `workload/setup.rs`), really signed — level by level:
//!    a level is sent once every lower level is finalized (`getSignatureStatuses`), and a
//!    setup transaction that fails or is not finalized in time stops the run with an error
//!    naming it. Users of an earlier run with the same seed are only topped up; created
//!    accounts get fresh addresses each run.
//! 2. **Signing** (not measured): every transaction is signed over the node's latest
//!    blockhash before the clock starts. A run longer than a blockhash lives is signed in
//!    segments, each over a blockhash fetched when it is signed, the first before the clock
//!    and the next while the one before is sent.
//! 3. **Measurement**: sender threads post JSON-RPC batches of `sendTransaction` calls
//!    (base64, `skipPreflight`), as many per request as the node's limits allow
//!    ([`BATCH_CALLS_MAX`], [`BATCH_BODY_BYTES_MAX`]), round-robin over the URLs: as fast as
//!    they are answered, or, with `--rate`, each transaction when it falls due (open loop). A
//!    refusal (`Busy` or any other error) is counted, never retried. A poller asks the first
//!    URL for the statuses of what was accepted ([`STATUS_BATCH_MAX`] per call) until each is
//!    finalized, or until nothing more has been finalized for [`FINALIZE_STALL_TIMEOUT`]
//!    after the last send: what is left is reported as dropped.
//!
//! Latency is from the request that carried a transaction to the first status poll that
//! saw its slot finalized (one slot's transactions finalize together), so it is measured to
//! within [`POLL_INTERVAL`] and a poll's round trip. TPS is finalized transactions over the
//! time from the first submission to the last finalization.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant};

use braid_primitives::LAMPORTS_PER_SOL;
use braid_primitives::cpu_time::process_cpu_ns;
use braid_rpc::client::{ClientError, RpcClient};
use braid_rpc::ingest::{IngestClient, Verdict};
use braid_rpc::types::{ConfirmationStatus, codes};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Hash, Signature, Transaction};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use rayon::prelude::*;

use crate::workload::setup::{SEED_TAG_CHARS_MAX, SetupTransaction, keypair, programs};
use crate::workload::{self, Plan, RemoteStart};
use crate::{
    BenchConfig, BenchError, BenchReport, Progress, SetupTransactionId, StageTimes, Tally,
};

/// Most calls in one JSON-RPC batch: Braid's limit ([`braid_rpc::RpcLimits`]).
pub const BATCH_CALLS_MAX: usize = braid_rpc::server::BATCH_REQUESTS_MAX as usize;

const _: () = assert!(BATCH_CALLS_MAX <= braid_rpc::ingest::INGEST_BATCH_MAX);
/// Most bytes in one request body: Braid's limit.
pub const BATCH_BODY_BYTES_MAX: usize = braid_rpc::REQUEST_BODY_BYTES_MAX as usize;
/// Most signatures in one `getSignatureStatuses` call: Braid's (and Solana's) limit.
pub const STATUS_BATCH_MAX: usize = braid_rpc::SIGNATURE_STATUSES_MAX;
/// Threads posting batches.
pub const SENDER_THREADS: usize = 4;
/// Pause between two rounds of status polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// After the last send, how long the poller waits for the next finalization before it
/// counts what is left as dropped.
pub const FINALIZE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one level of setup transactions may go without a finalization.
pub const SETUP_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Open loop: each signing segment covers this much of the run, well within the ~60 s a
/// blockhash stays valid (150 slots of 400 ms).
pub const SEGMENT_TIME: Duration = Duration::from_secs(20);
/// Closed loop: transactions per signing segment.
pub const SEGMENT_TXS_CLOSED: usize = 250_000;
/// Lamports the funder gets beyond what setup is counted to cost: what programs charge it
/// through cross-program calls (an insurance position's rent) and its own rent exemption.
pub const FUNDER_MARGIN_LAMPORTS: u64 = 100 * LAMPORTS_PER_SOL;
/// A status poll takes every pending transaction, not only the oldest, every this many
/// rounds (between them a round stops at the first batch with nothing finalized).
const FULL_SWEEP_ROUNDS: u64 = 10;
/// Pause before a setup batch refused as busy is sent again.
const SETUP_BUSY_PAUSE: Duration = Duration::from_millis(100);

/// Where a remote run sends its load.
pub struct RemoteTarget {
    /// JSON-RPC URLs. Load goes round-robin over all of them; setup, blockhashes, statuses
    /// and the transaction count come from the first.
    pub urls: Vec<String>,
    /// The network's faucet (`LEDGER/faucet.json`): pays the funder.
    pub faucet: Keypair,
}

/// What a remote run reports beyond the in-process report's fields (flattened into its
/// JSON).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RemoteStats {
    /// The URLs the load went to.
    pub urls: Vec<String>,
    /// Transactions the nodes accepted that were never seen finalized.
    pub dropped: u64,
    /// Transactions refused as busy (not retried).
    pub busy: u64,
    /// Transactions the nodes accepted (`sendTransaction` answered a signature).
    pub submitted: u64,
    /// Seconds from the first request to the last reply of the send phase.
    pub send_s: f64,
    /// `sendTransaction` calls answered per second of the send phase: the client's rate.
    pub sent_tps: f64,
    /// With `--rate`: the rate offered, per second.
    pub offered_tps: Option<u64>,
    /// 99.9th percentile submit-to-finalized latency, in milliseconds.
    pub latency_p999_ms: f64,
    /// Setup transactions finalized on the node (the faucet's transfer included).
    pub setup_transactions: u64,
    /// Seconds setup took.
    pub setup_s: f64,
    /// Seconds signing the first segment took (before the clock).
    pub sign_s: f64,
    /// How much the first URL's `getTransactionCount` grew over the measured phase.
    pub node_transactions: u64,
    /// CPU seconds this process used over the measured phase (senders, poller, signing of
    /// later segments).
    pub client_cpu_s: f64,
    /// Each node's CPU over the measured phase by thread group (`braidGetThreadCpu`), per
    /// transaction the run committed; empty for a node that does not answer it.
    pub node_cpu: Vec<NodeCpu>,
}

/// One node's CPU over a remote run's measured phase: the validator path's CPU budget, by
/// thread group rather than by stage (nothing on its hot path is timed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeCpu {
    /// The node's URL.
    pub url: String,
    /// CPU seconds the whole node used.
    pub cpu_s: f64,
    /// CPU microseconds per committed transaction, the whole node.
    pub us_per_tx: f64,
    /// By thread group, busiest first.
    pub groups: Vec<GroupCpu>,
}

/// One thread group's share of a [`NodeCpu`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupCpu {
    /// The threads' name without its index (see `braid_interfaces::threads`).
    pub group: String,
    /// CPU microseconds per committed transaction.
    pub us_per_tx: f64,
}

/// A node's CPU nanoseconds by thread group now, or `None` if it does not say.
fn read_node_cpu(client: &RpcClient) -> Option<BTreeMap<String, u64>> {
    Some(client.get_thread_cpu().ok()?.into_iter().collect())
}

/// What each node spent between two readings, per committed transaction.
fn node_cpu(
    urls: &[String],
    before: &[Option<BTreeMap<String, u64>>],
    after: &[Option<BTreeMap<String, u64>>],
    committed: u64,
) -> Vec<NodeCpu> {
    let per_tx = |ns: u64| {
        if committed == 0 {
            0.0
        } else {
            ns as f64 / committed as f64 / 1_000.0
        }
    };
    urls.iter()
        .zip(before.iter().zip(after))
        .filter_map(|(url, pair)| {
            let (Some(before), Some(after)) = pair else {
                return None;
            };
            let mut groups: Vec<(String, u64)> = after
                .iter()
                .map(|(group, ns)| {
                    let spent = ns.saturating_sub(before.get(group).copied().unwrap_or(0));
                    (group.clone(), spent)
                })
                .filter(|(_, spent)| *spent > 0)
                .collect();
            groups.sort_by_key(|(_, spent)| std::cmp::Reverse(*spent));
            let total: u64 = groups
                .iter()
                .map(|(_, ns)| *ns)
                .fold(0, u64::saturating_add);
            Some(NodeCpu {
                url: url.clone(),
                cpu_s: total as f64 / 1e9,
                us_per_tx: per_tx(total),
                groups: groups
                    .into_iter()
                    .map(|(group, ns)| GroupCpu {
                        group,
                        us_per_tx: per_tx(ns),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// Runs `config`'s workload against `target`.
pub fn run(
    config: &BenchConfig,
    target: &RemoteTarget,
    progress: Progress<'_>,
) -> Result<BenchReport, BenchError> {
    let (config, total) = validate(config, target)?;
    let control = RpcClient::new(target.urls[0].clone());
    for url in &target.urls {
        RpcClient::new(url.clone())
            .get_health()
            .map_err(|source| remote("checking the node's health", source))?;
    }

    let setup_started = Instant::now();
    let (plan, setup_transactions) = set_up(&config, target, &control, progress)?;
    let setup_s = setup_started.elapsed().as_secs_f64();

    let segment_txs = match config.open_loop {
        Some(load) => usize::try_from(load.rate.saturating_mul(SEGMENT_TIME.as_secs()))
            .unwrap_or(usize::MAX)
            .max(1),
        None => SEGMENT_TXS_CLOSED,
    };
    let segments: Vec<Range<usize>> = (0..total.div_ceil(segment_txs))
        .map(|k| {
            let start = k.saturating_mul(segment_txs);
            start..start.saturating_add(segment_txs).min(total)
        })
        .collect();
    let sign_started = Instant::now();
    let first = sign_segment(&plan, segments[0].clone(), &control, Some(progress))?;
    let sign_s = sign_started.elapsed().as_secs_f64();

    let count_before = control
        .get_transaction_count()
        .map_err(|source| remote("reading the transaction count", source))?;
    let clients: Vec<RpcClient> = target
        .urls
        .iter()
        .map(|url| RpcClient::new(url.clone()))
        .collect();
    let nodes_before: Vec<_> = clients.iter().map(read_node_cpu).collect();
    let cpu_before = process_cpu_ns();
    let measured = measure(&config, target, &plan, &segments, first, total, progress)?;
    let client_cpu_s = process_cpu_ns().saturating_sub(cpu_before) as f64 / 1e9;
    let nodes_after: Vec<_> = clients.iter().map(read_node_cpu).collect();
    let count_after = control
        .get_transaction_count()
        .map_err(|source| remote("reading the transaction count", source))?;

    let Measured {
        mut tally,
        sends,
        polled,
    } = measured;
    tally.committed = polled.committed;
    tally.failed = polled.failed;
    for (reason, count) in polled.reasons {
        let entry = tally.reasons.entry(reason).or_default();
        *entry = entry.saturating_add(count);
    }
    let elapsed = match (sends.first_at, polled.last_finalized) {
        (Some(first), Some(last)) => last.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    let mut latencies = polled.latencies;
    latencies.sort_unstable();
    let mut report = crate::report(
        &config,
        tally,
        elapsed,
        None,
        polled.slots.len() as u64,
        &latencies,
        StageTimes::default(),
    );
    report.txs = total;
    report.threads = 0;
    report.sigverify = true;
    let send_s = match (sends.first_at, sends.last_at) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    report.remote = Some(RemoteStats {
        urls: target.urls.clone(),
        dropped: polled.dropped,
        busy: sends.busy,
        submitted: sends.accepted,
        send_s,
        sent_tps: if send_s > 0.0 {
            sends.calls as f64 / send_s
        } else {
            0.0
        },
        offered_tps: config.open_loop.map(|load| load.rate),
        latency_p999_ms: crate::percentile_ms(&latencies, 999),
        setup_transactions,
        setup_s,
        sign_s,
        node_transactions: count_after.saturating_sub(count_before),
        client_cpu_s,
        node_cpu: node_cpu(&target.urls, &nodes_before, &nodes_after, report.committed),
    });
    Ok(report)
}

/// Checks what a remote run can do; returns the config to plan with (`txs` set to what an
/// open loop offers, which the insurance pools' capital is sized by) and the transaction
/// count.
fn validate(
    config: &BenchConfig,
    target: &RemoteTarget,
) -> Result<(BenchConfig, usize), BenchError> {
    let invalid = |message: &str| Err(BenchError::InvalidConfig(message.to_owned()));
    if target.urls.is_empty() {
        return invalid("a remote run needs at least one --rpc-url");
    }
    if config.serial
        || !config.sigverify
        || config.bad_signatures > 0.0
        || !config.simulate_threads.is_empty()
        || config.ledger.is_some()
    {
        return invalid(
            "against a running node there is no --serial, --no-sigverify, --bad-signatures, \
             --simulate-threads or --ledger: the node decides those",
        );
    }
    let mut config = config.clone();
    if let Some(load) = config.open_loop {
        if load.rate == 0 || load.duration.is_zero() {
            return invalid("--rate and --duration must both be above 0");
        }
        let offered = u128::from(load.rate).saturating_mul(load.duration.as_millis()) / 1_000;
        if offered > u128::from(crate::open_loop::OPEN_LOOP_TXS_MAX) {
            return Err(BenchError::InvalidConfig(format!(
                "--rate × --duration offers {offered} transactions, more than {}",
                crate::open_loop::OPEN_LOOP_TXS_MAX
            )));
        }
        config.txs = usize::try_from(offered).unwrap_or(usize::MAX).max(1);
    }
    crate::validate(&config)?;
    let total = config.txs;
    Ok((config, total))
}

fn remote(what: &str, source: ClientError) -> BenchError {
    BenchError::Remote {
        what: what.to_owned(),
        source: Box::new(source),
    }
}

/// A tag for this run's created accounts: the wall clock in hex, so a node set up again
/// with the same seed gets fresh accounts.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let mut tag = format!("{nanos:x}");
    // Keep the fast-moving end; a seed separator keeps tag and counter apart.
    let keep = SEED_TAG_CHARS_MAX.saturating_sub(1);
    if tag.len() > keep {
        tag = tag.split_off(tag.len().saturating_sub(keep));
    }
    tag.push('-');
    tag
}

/// Plans the workload for the node, funds the funder from the faucet and lands every
/// setup transaction; returns the plan and how many transactions it took.
fn set_up(
    config: &BenchConfig,
    target: &RemoteTarget,
    control: &RpcClient,
    progress: Progress<'_>,
) -> Result<(Plan<RemoteStart>, u64), BenchError> {
    progress("plan", 0, 1);
    let users = workload::users(config);
    let pubkeys: Vec<_> = users.iter().map(Keypair::pubkey).collect();
    let balances = control
        .get_balances(&pubkeys)
        .map_err(|source| remote("reading the users' balances", source))?;
    let balances = pubkeys.iter().copied().zip(balances).collect();
    let rent_client = RpcClient::new(target.urls[0].clone());
    let rent = Box::new(move |space: u64| {
        rent_client
            .get_minimum_balance_for_rent_exemption(space)
            .map_err(|source| remote("asking the node for rent exemption", source))
    });
    let plan = workload::plan_remote(config, users, rent, balances, &run_tag())?;
    let funder = keypair(config.seed, b"funder", 0);
    progress("plan", 1, 1);

    let mut landed = 0u64;
    let needed = plan.start.lamports.saturating_add(FUNDER_MARGIN_LAMPORTS);
    let held = control
        .get_balance(&funder.pubkey())
        .map_err(|source| remote("reading the funder's balance", source))?;
    if held < needed {
        let faucet = &target.faucet;
        let transfer = braid_program_system::instruction::transfer(
            &faucet.pubkey(),
            &funder.pubkey(),
            needed.saturating_sub(held),
        );
        let blockhash = latest_blockhash(control)?;
        let tx = Transaction::new_signed_with_payer(
            &[transfer],
            Some(&faucet.pubkey()),
            &[faucet],
            blockhash,
        );
        // With preflight: a faucet that cannot pay is named at once.
        control.send_transaction(&tx).map_err(|source| {
            remote(
                &format!(
                    "funding the funder {} from the faucet {}",
                    funder.pubkey(),
                    faucet.pubkey()
                ),
                source,
            )
        })?;
        let what = format!("the faucet {}'s transfer to the funder", faucet.pubkey());
        let id = SetupTransactionId {
            number: 0,
            what,
            signature: first_signature(&tx),
        };
        await_finalized(control, &[id], &|_| {})?;
        landed = landed.saturating_add(1);
    }

    let mut levels: BTreeMap<u32, Vec<&SetupTransaction>> = BTreeMap::new();
    for tx in &plan.start.transactions {
        levels.entry(tx.level).or_default().push(tx);
    }
    let total = plan.start.transactions.len() as u64;
    let mut done = 0u64;
    progress("setup", done, total);
    for level in levels.values() {
        land_level(control, &funder, level, &|finalized| {
            progress("setup", done.saturating_add(finalized), total);
        })?;
        done = done.saturating_add(level.len() as u64);
        landed = landed.saturating_add(level.len() as u64);
    }
    progress("setup", total, total);
    Ok((plan, landed))
}

fn latest_blockhash(client: &RpcClient) -> Result<Hash, BenchError> {
    client
        .get_latest_blockhash()
        .map_err(|source| remote("reading the latest blockhash", source))
}

/// Signs `level` with the funder over a fresh blockhash, sends it (sending again what is
/// refused as busy) and waits until all of it is finalized.
fn land_level(
    client: &RpcClient,
    funder: &Keypair,
    level: &[&SetupTransaction],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), BenchError> {
    let blockhash = latest_blockhash(client)?;
    let signed: Vec<Transaction> = level
        .par_iter()
        .map(|tx| {
            let mut signers = vec![funder];
            signers.extend(&tx.signers);
            let message = braid_runtime::Message::new_with_blockhash(
                &tx.instructions,
                Some(&funder.pubkey()),
                &blockhash,
            );
            let mut signed = Transaction::new_unsigned(message);
            signed.try_sign(&signers, blockhash).map_err(|error| {
                BenchError::Setup(format!(
                    "setup transaction {} ({}) cannot be signed: {error}",
                    tx.number,
                    programs(&tx.instructions)
                ))
            })?;
            Ok(signed)
        })
        .collect::<Result<_, BenchError>>()?;
    let wires: Vec<Vec<u8>> = signed.iter().map(Transaction::to_bytes).collect();
    let mut unsent: Vec<usize> = (0..wires.len()).collect();
    while !unsent.is_empty() {
        let mut busy = Vec::new();
        for range in batch_ranges(unsent.iter().map(|&i| wires[i].len())) {
            let indexes = &unsent[range];
            let batch: Vec<Vec<u8>> = indexes.iter().map(|&i| wires[i].clone()).collect();
            let replies = client
                .send_wire_batch(&batch)
                .map_err(|source| remote("sending setup transactions", source))?;
            for (&i, reply) in indexes.iter().zip(replies) {
                match reply {
                    Ok(_) => {}
                    Err(error) if is_busy(&error) => busy.push(i),
                    Err(source) => {
                        return Err(BenchError::SetupRejected {
                            tx: Box::new(SetupTransactionId {
                                number: level[i].number,
                                what: programs(&level[i].instructions),
                                signature: first_signature(&signed[i]),
                            }),
                            source: Box::new(source),
                        });
                    }
                }
            }
        }
        if !busy.is_empty() {
            std::thread::sleep(SETUP_BUSY_PAUSE);
        }
        unsent = busy;
    }
    let named: Vec<SetupTransactionId> = level
        .iter()
        .zip(&signed)
        .map(|(tx, signed)| SetupTransactionId {
            number: tx.number,
            what: programs(&tx.instructions),
            signature: first_signature(signed),
        })
        .collect();
    await_finalized(client, &named, progress)
}

/// Polls until every transaction is finalized; a failure or a stall of
/// [`SETUP_STALL_TIMEOUT`] is an error naming the transaction.
fn await_finalized(
    client: &RpcClient,
    transactions: &[SetupTransactionId],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), BenchError> {
    let mut waiting: Vec<&SetupTransactionId> = transactions.iter().collect();
    let mut last_progress = Instant::now();
    let mut finalized = 0u64;
    while !waiting.is_empty() {
        let mut still = Vec::with_capacity(waiting.len());
        for chunk in waiting.chunks(STATUS_BATCH_MAX) {
            let signatures: Vec<Signature> = chunk.iter().map(|tx| tx.signature).collect();
            let statuses = client
                .get_signature_statuses(&signatures)
                .map_err(|source| remote("reading setup transactions' statuses", source))?;
            for (&entry, status) in chunk.iter().zip(statuses) {
                let Some(status) = status else {
                    still.push(entry);
                    continue;
                };
                if let Some(error) = status.err {
                    return Err(BenchError::SetupFailed {
                        tx: Box::new(entry.clone()),
                        error,
                    });
                }
                if status.confirmation_status >= ConfirmationStatus::Finalized {
                    finalized = finalized.saturating_add(1);
                    last_progress = Instant::now();
                } else {
                    still.push(entry);
                }
            }
        }
        progress(finalized);
        waiting = still;
        if let Some(&first) = waiting.first() {
            if last_progress.elapsed() >= SETUP_STALL_TIMEOUT {
                return Err(BenchError::SetupTimeout {
                    tx: Box::new(first.clone()),
                    seconds: SETUP_STALL_TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
    Ok(())
}

/// A signed transaction's first signature: its id.
fn first_signature(tx: &Transaction) -> Signature {
    tx.signature().copied().unwrap_or_default()
}

/// Whether `error` is a node refusing work because its ingress queue is full.
fn is_busy(error: &ClientError) -> bool {
    matches!(error, ClientError::Rpc { code, message, .. }
        if *code == codes::NODE_BUSY && message.starts_with("node is busy"))
}

/// Splits transactions of the given wire sizes, in order, into ranges that each fit one
/// batch: at most [`BATCH_CALLS_MAX`] calls and [`BATCH_BODY_BYTES_MAX`] bytes.
fn batch_ranges(sizes: impl Iterator<Item = usize>) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut count, mut bytes) = (0usize, 0usize, 2usize);
    for (index, size) in sizes.enumerate() {
        let call = RpcClient::send_wire_call_bytes_max(size);
        if count > 0
            && (count >= BATCH_CALLS_MAX || bytes.saturating_add(call) > BATCH_BODY_BYTES_MAX)
        {
            ranges.push(start..index);
            (start, count, bytes) = (index, 0, 2);
        }
        count = count.saturating_add(1);
        bytes = bytes.saturating_add(call);
    }
    if count > 0 {
        ranges.push(start..start.saturating_add(count));
    }
    ranges
}

/// Signs transactions `range` of the plan over the node's latest blockhash, on all cores.
fn sign_segment(
    plan: &Plan<RemoteStart>,
    range: Range<usize>,
    client: &RpcClient,
    progress: Option<Progress<'_>>,
) -> Result<Vec<Vec<u8>>, BenchError> {
    let blockhash = latest_blockhash(client)?;
    let total = range.len() as u64;
    let signed = std::sync::atomic::AtomicU64::new(0);
    Ok(range
        .into_par_iter()
        .map(|index| {
            let (ixs, payer) = plan.transaction(index);
            let payer = &plan.users[payer];
            let wire = Transaction::new_signed_with_payer(
                &ixs,
                Some(&payer.pubkey()),
                &[payer],
                blockhash,
            )
            .to_bytes();
            if let Some(progress) = progress
                && index.is_multiple_of(4096)
            {
                let done = signed
                    .fetch_add(4096, std::sync::atomic::Ordering::Relaxed)
                    .saturating_add(4096)
                    .min(total);
                progress("sign", done, total);
            }
            wire
        })
        .collect())
}

/// One HTTP request's worth of transactions.
struct Batch {
    /// Its position in the run: which URL it goes to.
    number: u64,
    wires: Vec<Vec<u8>>,
}

/// What one request got accepted, and when it was sent.
struct Accepted {
    at: Instant,
    signatures: Vec<Signature>,
}

/// What the senders did.
#[derive(Default)]
struct Sends {
    calls: u64,
    accepted: u64,
    busy: u64,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
}

/// What the poller saw.
#[derive(Default)]
struct Polled {
    committed: u64,
    failed: u64,
    reasons: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    slots: HashMap<u64, Instant>,
    last_finalized: Option<Instant>,
    dropped: u64,
}

struct Measured {
    /// Refusals other than busy, by reason.
    tally: Tally,
    sends: Sends,
    polled: Polled,
}

/// The timed phase: dispatch (and sign later segments), send, poll.
fn measure(
    config: &BenchConfig,
    target: &RemoteTarget,
    plan: &Plan<RemoteStart>,
    segments: &[Range<usize>],
    first: Vec<Vec<u8>>,
    total: usize,
    progress: Progress<'_>,
) -> Result<Measured, BenchError> {
    let (batch_tx, batch_rx) = bounded::<Batch>(SENDER_THREADS.saturating_mul(2));
    let (accepted_tx, accepted_rx) = unbounded::<Accepted>();
    let (segment_tx, segment_rx) = bounded::<Result<Vec<Vec<u8>>, BenchError>>(1);
    let sent = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        let signer = (segments.len() > 1).then(|| {
            scope.spawn(move || {
                let client = RpcClient::new(target.urls[0].clone());
                for range in &segments[1..] {
                    let segment = sign_segment(plan, range.clone(), &client, None);
                    let failed = segment.is_err();
                    if segment_tx.send(segment).is_err() || failed {
                        break;
                    }
                }
            })
        });
        let senders: Vec<_> = (0..SENDER_THREADS)
            .map(|_| {
                let batches = batch_rx.clone();
                let accepted = accepted_tx.clone();
                let sent = &sent;
                scope.spawn(move || send_loop(target, &batches, &accepted, sent, total, progress))
            })
            .collect();
        drop(batch_rx);
        drop(accepted_tx);
        let poller = scope.spawn(move || poll_loop(&target.urls[0], &accepted_rx, total, progress));

        let dispatched = dispatch(config, first, &segment_rx, &batch_tx);
        drop(batch_tx);
        drop(segment_rx);
        let mut tally = Tally::default();
        let mut sends = Sends::default();
        for sender in senders {
            let (own_tally, own) = sender
                .join()
                .map_err(|_| BenchError::Setup("a sender thread panicked".into()))?;
            merge(&mut tally, own_tally);
            sends.calls = sends.calls.saturating_add(own.calls);
            sends.accepted = sends.accepted.saturating_add(own.accepted);
            sends.busy = sends.busy.saturating_add(own.busy);
            sends.first_at = earliest(sends.first_at, own.first_at);
            sends.last_at = sends.last_at.max(own.last_at);
        }
        let polled = poller
            .join()
            .map_err(|_| BenchError::Setup("the status poller panicked".into()))??;
        if let Some(signer) = signer {
            signer
                .join()
                .map_err(|_| BenchError::Setup("the signing thread panicked".into()))?;
        }
        dispatched?;
        Ok(Measured {
            tally,
            sends,
            polled,
        })
    })
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn merge(into: &mut Tally, from: Tally) {
    into.rejected = into.rejected.saturating_add(from.rejected);
    for (reason, count) in from.reasons {
        let entry = into.reasons.entry(reason).or_default();
        *entry = entry.saturating_add(count);
    }
}

/// Hands the transactions to the senders in batches: all at once (closed loop), or each
/// when it falls due at `--rate` (open loop: a batch leaves whenever the next transaction
/// is not due yet, so a slow rate sends one transaction per request).
fn dispatch(
    config: &BenchConfig,
    first: Vec<Vec<u8>>,
    later: &Receiver<Result<Vec<Vec<u8>>, BenchError>>,
    batches: &Sender<Batch>,
) -> Result<(), BenchError> {
    let interval = config
        .open_loop
        .map(|load| Duration::from_secs(1).div_f64(load.rate.max(1) as f64));
    let started = Instant::now();
    let mut number = 0u64;
    let mut index = 0u64;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 2usize;
    let mut flush = |batch: &mut Vec<Vec<u8>>, bytes: &mut usize| -> bool {
        *bytes = 2;
        if batch.is_empty() {
            return true;
        }
        let wires = std::mem::take(batch);
        let ok = batches.send(Batch { number, wires }).is_ok();
        number = number.saturating_add(1);
        ok
    };
    let mut segment = Some(Ok(first));
    while let Some(wires) = segment.take().or_else(|| later.recv().ok()) {
        for wire in wires? {
            if let Some(interval) = interval {
                let due = started
                    .checked_add(interval.mul_f64(index as f64))
                    .unwrap_or(started);
                let now = Instant::now();
                if due > now {
                    if !flush(&mut batch, &mut bytes) {
                        return Ok(());
                    }
                    std::thread::sleep(due.saturating_duration_since(now));
                }
            }
            let call = RpcClient::send_wire_call_bytes_max(wire.len());
            if !batch.is_empty()
                && (batch.len() >= BATCH_CALLS_MAX
                    || bytes.saturating_add(call) > BATCH_BODY_BYTES_MAX)
                && !flush(&mut batch, &mut bytes)
            {
                return Ok(());
            }
            batch.push(wire);
            bytes = bytes.saturating_add(call);
            index = index.saturating_add(1);
        }
    }
    flush(&mut batch, &mut bytes);
    Ok(())
}

/// Tells the poller what a batch sent at `at` got accepted, and the progress line how far
/// the send phase is.
fn report_sent(
    sends: &mut Sends,
    accepted: &Sender<Accepted>,
    sent: &std::sync::atomic::AtomicU64,
    (at, signatures, count): (Instant, Vec<Signature>, u64),
    total: usize,
    progress: Progress<'_>,
) {
    sends.accepted = sends.accepted.saturating_add(signatures.len() as u64);
    let _ = accepted.send(Accepted { at, signatures });
    let done = sent
        .fetch_add(count, std::sync::atomic::Ordering::Relaxed)
        .saturating_add(count);
    progress("send", done, total as u64);
}

/// One sender thread: posts batches round-robin over the URLs (over a node's binary
/// ingestion port where getClusterNodes names one, else as JSON-RPC batches), counts
/// refusals, and tells the poller what was accepted and when it was sent.
fn send_loop(
    target: &RemoteTarget,
    batches: &Receiver<Batch>,
    accepted: &Sender<Accepted>,
    sent: &std::sync::atomic::AtomicU64,
    total: usize,
    progress: Progress<'_>,
) -> (Tally, Sends) {
    let urls = &target.urls;
    let clients: Vec<RpcClient> = urls.iter().map(|url| RpcClient::new(url.clone())).collect();
    // The binary port where a node serves one (found through getClusterNodes), one
    // connection per node and sender; JSON-RPC batches elsewhere.
    let mut ingest: Vec<Option<IngestClient>> = clients
        .iter()
        .map(|client| {
            let addr = client.get_ingest_addr().ok().flatten()?;
            IngestClient::connect(addr).ok()
        })
        .collect();
    let mut tally = Tally::default();
    let mut sends = Sends::default();
    for batch in batches {
        let count = batch.wires.len() as u64;
        let Some(client) = usize::try_from(batch.number)
            .ok()
            .and_then(|number| number.checked_rem(clients.len()))
            .and_then(|at| clients.get(at))
        else {
            continue;
        };
        let at = Instant::now();
        sends.first_at = earliest(sends.first_at, Some(at));
        let slot = usize::try_from(batch.number)
            .ok()
            .and_then(|number| number.checked_rem(clients.len()))
            .and_then(|at| ingest.get_mut(at));
        let outcomes: Result<Vec<Outcome>, String> = match slot {
            Some(slot) if slot.is_some() => {
                let verdicts = slot
                    .as_mut()
                    .map(|port| port.send_batch(&batch.wires))
                    .unwrap_or_else(|| Ok(Vec::new()));
                if verdicts.is_err() {
                    // Its verdicts are out of step now: JSON-RPC from here on.
                    *slot = None;
                }
                verdicts
                    .map(|verdicts| verdicts.into_iter().map(Outcome::of_verdict).collect())
                    .map_err(|error| format!("ingestion port: {error}"))
            }
            _ => client
                .send_wire_batch(&batch.wires)
                .map(|replies| replies.into_iter().map(Outcome::of_reply).collect())
                .map_err(|error| refusal(&error)),
        };
        sends.last_at = Some(Instant::now());
        sends.calls = sends.calls.saturating_add(count);
        let mut signatures = Vec::with_capacity(batch.wires.len());
        match outcomes {
            Ok(outcomes) => {
                for (wire, outcome) in batch.wires.iter().zip(outcomes) {
                    match outcome {
                        Outcome::Accepted => signatures.push(
                            braid_runtime::transaction::first_signature(wire).unwrap_or_default(),
                        ),
                        Outcome::Busy => sends.busy = sends.busy.saturating_add(1),
                        Outcome::Refused(reason) => tally.reject(reason),
                    }
                }
            }
            Err(reason) => {
                for _ in 0..count {
                    tally.reject(reason.clone());
                }
            }
        }
        report_sent(
            &mut sends,
            accepted,
            sent,
            (at, signatures, count),
            total,
            progress,
        );
    }
    (tally, sends)
}

/// What became of one transaction a sender sent, over either path.
enum Outcome {
    Accepted,
    Busy,
    Refused(String),
}

impl Outcome {
    fn of_verdict(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Accepted => Self::Accepted,
            Verdict::Busy => Self::Busy,
            other => Self::Refused(format!("ingestion port: {other:?}")),
        }
    }

    fn of_reply(reply: Result<Signature, ClientError>) -> Self {
        match reply {
            Ok(_) => Self::Accepted,
            Err(error) if is_busy(&error) => Self::Busy,
            Err(error) => Self::Refused(refusal(&error)),
        }
    }
}

/// A refusal's reason, as the report lists it: the transaction error the node named, else
/// the kind of failure (messages would make every refusal its own reason).
fn refusal(error: &ClientError) -> String {
    if let Some(error) = error.transaction_error() {
        return error.reason();
    }
    match error {
        ClientError::Rpc { code, .. } => format!("RpcError({code})"),
        ClientError::Http { status, .. } => format!("Http({status})"),
        ClientError::Unreachable { .. } => "Unreachable".into(),
        ClientError::InvalidResponse { .. } => "InvalidResponse".into(),
        ClientError::Timeout { .. } => "Timeout".into(),
        ClientError::TransactionFailed { error, .. } => error.reason(),
    }
}

/// The poller: keeps the accepted transactions in the order they were sent and asks for
/// their statuses, oldest first, until each is finalized or the node stalls.
fn poll_loop(
    url: &str,
    accepted: &Receiver<Accepted>,
    total: usize,
    progress: Progress<'_>,
) -> Result<Polled, BenchError> {
    let client = RpcClient::new(url.to_owned());
    let mut pending: VecDeque<(Signature, Instant)> = VecDeque::new();
    let mut polled = Polled::default();
    let mut sending = true;
    let mut sending_ended = Instant::now();
    let mut last_progress = Instant::now();
    let mut round = 0u64;
    loop {
        // Wait one interval for news from the senders (new transactions or their end).
        let deadline = Instant::now()
            .checked_add(POLL_INTERVAL)
            .unwrap_or_else(Instant::now);
        while sending {
            match accepted.recv_deadline(deadline) {
                Ok(news) => pending.extend(news.signatures.into_iter().map(|s| (s, news.at))),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    sending = false;
                    sending_ended = Instant::now();
                }
            }
        }
        if !sending && pending.is_empty() {
            break;
        }
        if !sending && round > 0 {
            std::thread::sleep(POLL_INTERVAL);
        }
        let full = round.is_multiple_of(FULL_SWEEP_ROUNDS);
        round = round.saturating_add(1);
        if poll_round(&client, &mut pending, &mut polled, full)? {
            last_progress = Instant::now();
        }
        if !sending {
            // One phase at a time: the senders report theirs while they run.
            progress("finalize", polled.committed, total as u64);
        }
        if !sending
            && !pending.is_empty()
            && last_progress.max(sending_ended).elapsed() >= FINALIZE_STALL_TIMEOUT
        {
            polled.dropped = pending.len() as u64;
            break;
        }
    }
    Ok(polled)
}

/// One round of status polls over `pending`, oldest first; stops at the first batch with
/// nothing finalized unless `full`. Returns whether anything was finalized.
fn poll_round(
    client: &RpcClient,
    pending: &mut VecDeque<(Signature, Instant)>,
    polled: &mut Polled,
    full: bool,
) -> Result<bool, BenchError> {
    let mut kept: VecDeque<(Signature, Instant)> = VecDeque::with_capacity(pending.len());
    let mut progressed = false;
    while !pending.is_empty() {
        let take = pending.len().min(STATUS_BATCH_MAX);
        let chunk: Vec<(Signature, Instant)> = pending.drain(..take).collect();
        let signatures: Vec<Signature> = chunk.iter().map(|(s, _)| *s).collect();
        let statuses = client
            .get_signature_statuses(&signatures)
            .map_err(|source| remote("polling signature statuses", source))?;
        let now = Instant::now();
        let mut finalized = 0usize;
        for ((signature, sent_at), status) in chunk.into_iter().zip(statuses) {
            match status {
                Some(status) if status.confirmation_status >= ConfirmationStatus::Finalized => {
                    let at = *polled.slots.entry(status.slot).or_insert(now);
                    polled.latencies.push(at.saturating_duration_since(sent_at));
                    polled.last_finalized = polled.last_finalized.max(Some(at));
                    polled.committed = polled.committed.saturating_add(1);
                    if let Some(error) = status.err {
                        polled.failed = polled.failed.saturating_add(1);
                        let entry = polled.reasons.entry(error.reason()).or_default();
                        *entry = entry.saturating_add(1);
                    }
                    finalized = finalized.saturating_add(1);
                }
                _ => kept.push_back((signature, sent_at)),
            }
        }
        progressed |= finalized > 0;
        if finalized == 0 && !full {
            break;
        }
    }
    kept.append(pending);
    *pending = kept;
    Ok(progressed)
}

impl BenchReport {
    /// A remote run's one line of text.
    pub(crate) fn remote_text(&self, remote: &RemoteStats) -> String {
        format!(
            "remote {} on {} node(s) | transactions {} | committed {} | failed {} | dropped {} \
             | busy {} | rejected {} | elapsed {:.3} s | {:.0} TPS | latency p50 {:.1} ms, \
             p99 {:.1} ms, p99.9 {:.1} ms | sent {:.0}/s",
            self.workload,
            remote.urls.len(),
            self.txs,
            self.committed,
            self.failed,
            remote.dropped,
            remote.busy,
            self.rejected,
            self.elapsed_s,
            self.tps,
            self.latency_p50_ms,
            self.latency_p99_ms,
            remote.latency_p999_ms,
            remote.sent_tps,
        ) + &node_cpu_text(&remote.node_cpu)
    }
}

/// Each node's CPU per transaction, by thread group, one line per node.
fn node_cpu_text(nodes: &[NodeCpu]) -> String {
    let mut text = String::new();
    for node in nodes {
        text.push_str(&format!(
            "\nnode {} CPU µs per transaction: {:.1} |",
            node.url, node.us_per_tx
        ));
        for group in &node.groups {
            text.push_str(&format!(" {} {:.1}", group.group, group.us_per_tx));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_within_the_node_limits() {
        // Small transactions: the call count binds.
        let ranges = batch_ranges(std::iter::repeat_n(200, 250));
        assert_eq!(ranges, vec![0..100, 100..200, 200..250]);
        // Large ones: the body size binds.
        let sizes = [1_232usize; 300];
        let ranges = batch_ranges(sizes.iter().copied());
        for range in &ranges {
            let bytes: usize = sizes[range.clone()]
                .iter()
                .map(|&size| RpcClient::send_wire_call_bytes_max(size))
                .sum::<usize>()
                .saturating_add(2);
            assert!(bytes <= BATCH_BODY_BYTES_MAX && range.len() <= BATCH_CALLS_MAX);
        }
        assert_eq!(ranges.last().map(|r| r.end), Some(300));
        assert!(batch_ranges(std::iter::empty()).is_empty());
    }

    #[test]
    fn run_tags_fit_a_seed() {
        let tag = run_tag();
        assert!(tag.len() <= SEED_TAG_CHARS_MAX && tag.ends_with('-'));
        // A tag and a counter in hex stay within a seed's 32 characters.
        assert!(tag.len() + format!("{:x}", u64::MAX).len() <= 32);
    }
}
