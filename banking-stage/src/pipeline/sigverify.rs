//! The sigverify stage: worker threads that each take a chunk of ingress, parse and
//! batch-verify it alone, and hand chunks to the scheduler in the order they arrived.
//!
//! Why independent workers rather than one thread forking each chunk across a pool: a
//! fork-join per chunk waits for its slowest half. On a machine whose cores the banking,
//! scheduler and committer threads share, the OS often deschedules one half, and the other
//! core then idles until the chunk ends (about 12% of a 2-core machine in signed runs,
//! BENCHMARKS.md, "Issue 10, fourth pass"). Here a worker that finishes early takes the next
//! chunk; only delivery waits for order, and waiting to deliver costs no CPU.
//!
//! Order: a chunk's sequence number is taken with the chunk, under the intake lock, so
//! sequence order is arrival order. A finished chunk is parked until every earlier one has
//! been delivered; delivery (rejection events, then the verified transactions) happens under
//! the reorder lock, so the scheduler and event readers see exactly what one thread
//! verifying chunk after chunk would produce.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use braid_primitives::cpu_time::CpuTimer;
use braid_runtime::executor::Executor;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::{Signature, TransactionError};
use crossbeam_channel::{Receiver, Sender};

use super::{Event, Shared, Verified, elapsed_ns};
use crate::budget::Stage;

/// Transactions one worker takes from ingress at a time: two signature batches, so a
/// chunk is a few milliseconds of verification and arrival order costs little latency.
pub const CHUNK_TXS: usize = 2 * braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX;
/// Verified chunks buffered between the stage and the scheduler, per worker.
pub const QUEUED_CHUNKS_PER_WORKER: usize = 4;

const _: () = assert!(CHUNK_TXS >= braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX);

/// What the workers share.
pub(crate) struct SigverifyStage {
    intake: Mutex<Intake>,
    reorder: Mutex<Reorder>,
    /// Set when the scheduler is gone: workers stop taking chunks.
    stopped: AtomicBool,
    verified: Sender<Vec<Verified>>,
    events: Sender<Event>,
    shared: Arc<Shared>,
    executor: Arc<Executor>,
    sigverify: bool,
}

struct Intake {
    ingress: Receiver<Vec<u8>>,
    next: u64,
}

struct Reorder {
    next: u64,
    parked: BTreeMap<u64, Chunk>,
}

/// One chunk's outcome, in arrival order within the chunk.
struct Chunk {
    verified: Vec<Verified>,
    rejected: Vec<(Signature, TransactionError)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked has already failed the pipeline (see `run_worker`); the data
    // behind these locks is only a queue, still consistent.
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl SigverifyStage {
    /// A stage reading `ingress` and passing verified chunks to `verified`.
    pub(crate) fn new(
        ingress: Receiver<Vec<u8>>,
        verified: Sender<Vec<Verified>>,
        events: Sender<Event>,
        shared: Arc<Shared>,
        executor: Arc<Executor>,
        sigverify: bool,
    ) -> Self {
        Self {
            intake: Mutex::new(Intake { ingress, next: 0 }),
            reorder: Mutex::new(Reorder {
                next: 0,
                parked: BTreeMap::new(),
            }),
            stopped: AtomicBool::new(false),
            verified,
            events,
            shared,
            executor,
            sigverify,
        }
    }

    /// One worker's loop: until ingress closes or the scheduler is gone.
    pub(crate) fn run_worker(&self) {
        while let Some((sequence, wires)) = self.take() {
            let chunk = self.process(wires);
            if !self.deliver(sequence, chunk) {
                return;
            }
        }
    }

    /// Marks the stage stopped (a worker panicked, or the scheduler is gone).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// The next chunk of ingress and its sequence number; `None` once ingress is closed and
    /// drained, or the stage stopped.
    fn take(&self) -> Option<(u64, Vec<Vec<u8>>)> {
        let mut intake = lock(&self.intake);
        if self.stopped.load(Ordering::Acquire) {
            return None;
        }
        let first = intake.ingress.recv().ok()?;
        let mut wires = Vec::with_capacity(CHUNK_TXS);
        wires.push(first);
        while wires.len() < CHUNK_TXS {
            match intake.ingress.try_recv() {
                Ok(wire) => wires.push(wire),
                Err(_) => break,
            }
        }
        let sequence = intake.next;
        intake.next = sequence.wrapping_add(1);
        Some((sequence, wires))
    }

    /// Parses, sanitizes, resolves lookups, extracts lock sets and verifies signatures.
    fn process(&self, wires: Vec<Vec<u8>>) -> Chunk {
        let started = Instant::now();
        let shared = &self.shared;
        let timer = CpuTimer::start();
        let parsed: Vec<Result<Verified, (Signature, TransactionError)>> = wires
            .into_iter()
            .map(|wire| match SanitizedTransaction::try_from_bytes(&wire) {
                Ok(mut tx) => {
                    // A v0 transaction's loaded addresses are part of its lock set: resolve
                    // them at the open slot (execution checks them again at the slot it
                    // runs in).
                    let view = braid_ledger::bank::AccountsView(shared.accounts_db());
                    match tx.resolve(&view, shared.open_slot()) {
                        Ok(()) => Ok(Verified::new(wire, tx, &self.executor)),
                        Err(error) => Err((signature_of(&wire), error)),
                    }
                }
                Err(error) => Err((signature_of(&wire), error.into())),
            })
            .collect();
        shared.budget.add(Stage::Parse, timer.elapsed_ns());

        let mut verdicts = Vec::new();
        if self.sigverify {
            let timer = CpuTimer::start();
            let txs: Vec<&SanitizedTransaction> = parsed
                .iter()
                .filter_map(|parsed| parsed.as_ref().ok())
                .map(|verified| &verified.tx)
                .collect();
            verdicts.reserve_exact(txs.len());
            for batch in txs.chunks(braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX) {
                verdicts.extend(braid_runtime::sigverify::verify_batch(batch));
            }
            shared.budget.add(Stage::Sigverify, timer.elapsed_ns());
        }
        let mut verdicts = verdicts.into_iter();
        let mut chunk = Chunk {
            verified: Vec::with_capacity(parsed.len()),
            rejected: Vec::new(),
        };
        for parsed in parsed {
            let outcome = parsed.and_then(|verified| {
                // Without a verdict (verify_batch answers one per transaction, so never)
                // the transaction is refused rather than let through.
                let verdict = if self.sigverify {
                    verdicts
                        .next()
                        .unwrap_or(Err(TransactionError::SignatureFailure))
                } else {
                    Ok(())
                };
                match verdict {
                    Ok(()) => Ok(verified),
                    Err(error) => Err((signature_of(&verified.wire), error)),
                }
            });
            match outcome {
                Ok(verified) => chunk.verified.push(verified),
                Err(rejected) => chunk.rejected.push(rejected),
            }
        }
        shared
            .counters
            .sigverify_ns
            .fetch_add(elapsed_ns(started), Ordering::Relaxed);
        chunk
    }

    /// Parks `chunk`, then delivers every chunk now next in order. `false` once the
    /// scheduler is gone.
    fn deliver(&self, sequence: u64, chunk: Chunk) -> bool {
        let mut reorder = lock(&self.reorder);
        reorder.parked.insert(sequence, chunk);
        loop {
            let next = reorder.next;
            let Some(chunk) = reorder.parked.remove(&next) else {
                return true;
            };
            reorder.next = next.wrapping_add(1);
            let counters = &self.shared.counters;
            counters
                .rejected
                .fetch_add(chunk.rejected.len() as u64, Ordering::Relaxed);
            for (signature, error) in chunk.rejected {
                let _ = self.events.send(Event::Rejected { signature, error });
            }
            counters
                .verified
                .fetch_add(chunk.verified.len() as u64, Ordering::Relaxed);
            if !chunk.verified.is_empty() && self.verified.send(chunk.verified).is_err() {
                self.stop();
                return false;
            }
        }
    }
}

fn signature_of(wire: &[u8]) -> Signature {
    braid_runtime::transaction::first_signature(wire).unwrap_or_default()
}
