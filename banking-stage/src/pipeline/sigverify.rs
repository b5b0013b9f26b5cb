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
//!
//! Bounds: at most [`CHUNKS_IN_FLIGHT_PER_WORKER`] chunks per worker are taken and not yet
//! delivered. A worker stalled on the oldest chunk makes the others wait rather than take
//! ingress, so ingress fills and submitters hear "busy", as with every other queue.
//!
//! Stopping: [`SigverifyStage::stop`] (a worker panicked) wakes every worker, including
//! one waiting on an empty ingress, and closes the scheduler's input, so the scheduler
//! drains what it has and the pipeline stops with the failure on record.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use braid_primitives::cpu_time::CpuTimer;
use braid_runtime::executor::Executor;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::sigverify::BatchSizer;
use braid_runtime::{Signature, TransactionError};
use crossbeam_channel::{Receiver, Sender, select};

use super::{Verified, VerifiedBox, elapsed_ns};
use braid_interfaces::budget::Stage;
use braid_interfaces::{ExecutionEvent, NodeState};
use std::sync::atomic::Ordering;

/// Transactions one worker takes from ingress at a time: two verification batches of
/// [`braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX`] transactions (more, smaller ones
/// while signatures keep failing), a few milliseconds of work, so keeping arrival order
/// costs little latency.
pub const CHUNK_TXS: usize = 2 * braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX;
/// Verified chunks buffered between the stage and the scheduler, per worker.
pub const QUEUED_CHUNKS_PER_WORKER: usize = 4;
/// Most sigverify workers a pipeline starts, whatever its configuration asks for.
pub const WORKERS_MAX: usize = 256;
/// Chunks taken from ingress and not yet delivered, per worker: one being verified and one
/// parked behind a slower worker's.
pub const CHUNKS_IN_FLIGHT_PER_WORKER: usize = 2;

const _: () = assert!(CHUNK_TXS >= braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX);
const _: () = assert!(CHUNKS_IN_FLIGHT_PER_WORKER >= 1);

/// What the workers share.
pub(crate) struct SigverifyStage {
    intake: Mutex<Intake>,
    reorder: Mutex<Reorder>,
    /// Signalled when a chunk is delivered or the stage stops: the in-flight window moved.
    delivered: Condvar,
    /// Dropped by [`SigverifyStage::stop`]: its receiver then wakes every `take`.
    stop: Mutex<Option<Sender<()>>>,
    stopped: Receiver<()>,
    /// Most chunks taken and not yet delivered.
    in_flight_max: u64,
    events: Sender<ExecutionEvent>,
    shared: Arc<NodeState>,
    executor: Arc<Executor>,
    sigverify: bool,
}

struct Intake {
    ingress: Receiver<Vec<u8>>,
    next: u64,
}

struct Reorder {
    /// The next sequence number to deliver.
    next: u64,
    parked: BTreeMap<u64, Chunk>,
    /// The scheduler's input; `None` once the stage stopped or the scheduler is gone.
    verified: Option<Sender<Vec<VerifiedBox>>>,
}

/// One chunk's outcome, in arrival order within the chunk.
struct Chunk {
    verified: Vec<VerifiedBox>,
    rejected: Vec<(Signature, TransactionError)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked has already failed the pipeline (see `Pipeline::start_with_bank`);
    // the data behind these locks is only queues, still consistent.
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl SigverifyStage {
    /// A stage for `workers` workers reading `ingress` and passing verified chunks to
    /// `verified`.
    pub(crate) fn new(
        workers: usize,
        ingress: Receiver<Vec<u8>>,
        verified: Sender<Vec<VerifiedBox>>,
        events: Sender<ExecutionEvent>,
        shared: Arc<NodeState>,
        executor: Arc<Executor>,
        sigverify: bool,
    ) -> Self {
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let in_flight_max = workers.max(1).saturating_mul(CHUNKS_IN_FLIGHT_PER_WORKER);
        Self {
            intake: Mutex::new(Intake { ingress, next: 0 }),
            reorder: Mutex::new(Reorder {
                next: 0,
                parked: BTreeMap::new(),
                verified: Some(verified),
            }),
            delivered: Condvar::new(),
            stop: Mutex::new(Some(stop)),
            stopped,
            in_flight_max: u64::try_from(in_flight_max).unwrap_or(u64::MAX),
            events,
            shared,
            executor,
            sigverify,
        }
    }

    /// One worker's loop: until ingress closes, the stage stops or the scheduler is gone.
    pub(crate) fn run_worker(&self) {
        // Each worker sizes its batches by the failures it has seen; no verdict depends on it.
        let mut sizer = BatchSizer::new();
        while let Some((sequence, wires)) = self.take() {
            let chunk = self.process(wires, &mut sizer);
            if !self.deliver(sequence, chunk) {
                return;
            }
        }
    }

    /// Stops the stage (a worker panicked): workers end, and the scheduler's input closes.
    /// Chunks not yet delivered are dropped, as the panicked worker's chunk already was.
    pub(crate) fn stop(&self) {
        self.close(&mut lock(&self.reorder));
    }

    /// [`stop`](Self::stop) with the reorder lock held. Lock order: reorder, then stop.
    fn close(&self, reorder: &mut Reorder) {
        reorder.verified = None;
        reorder.parked.clear();
        drop(lock(&self.stop).take());
        self.delivered.notify_all();
    }

    /// The next chunk of ingress and its sequence number; `None` once ingress is closed and
    /// drained, or the stage stopped.
    fn take(&self) -> Option<(u64, Vec<Vec<u8>>)> {
        let mut intake = lock(&self.intake);
        self.wait_for_window(intake.next)?;
        let first = select! {
            recv(intake.ingress) -> wire => wire.ok()?,
            recv(self.stopped) -> _ => return None,
        };
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

    /// Waits until chunk `sequence` may be taken: fewer than `in_flight_max` chunks are
    /// taken and undelivered. `None` if the stage stopped.
    fn wait_for_window(&self, sequence: u64) -> Option<()> {
        let mut reorder = lock(&self.reorder);
        loop {
            reorder.verified.as_ref()?;
            if sequence.wrapping_sub(reorder.next) < self.in_flight_max {
                return Some(());
            }
            reorder = self
                .delivered
                .wait(reorder)
                .unwrap_or_else(|poison| poison.into_inner());
        }
    }

    /// Parses, sanitizes, resolves lookups, extracts lock sets and verifies signatures.
    fn process(&self, wires: Vec<Vec<u8>>, sizer: &mut BatchSizer) -> Chunk {
        let started = Instant::now();
        let shared = &self.shared;
        let timer = CpuTimer::start();
        let parsed: Vec<Result<VerifiedBox, (Signature, TransactionError)>> = wires
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
        shared.budget().add(Stage::Parse, timer.elapsed_ns());

        let mut verdicts = Vec::new();
        if self.sigverify {
            let timer = CpuTimer::start();
            let txs: Vec<&SanitizedTransaction> = parsed
                .iter()
                .filter_map(|parsed| parsed.as_ref().ok())
                .map(|verified| &verified.tx)
                .collect();
            // Batches cut by the sizer: full ones unless signatures have been failing.
            verdicts = sizer.verify(&txs);
            shared.budget().add(Stage::Sigverify, timer.elapsed_ns());
        }
        let mut verdicts = verdicts.into_iter();
        let mut chunk = Chunk {
            verified: Vec::with_capacity(parsed.len()),
            rejected: Vec::new(),
        };
        for parsed in parsed {
            let outcome = parsed.and_then(|verified| {
                // Without a verdict (the sizer answers one per transaction, so never)
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
            .counters()
            .sigverify_ns
            .fetch_add(elapsed_ns(started), Ordering::Relaxed);
        chunk
    }

    /// Parks `chunk`, then delivers every chunk now next in order. `false` once the stage
    /// stopped or the scheduler is gone.
    fn deliver(&self, sequence: u64, chunk: Chunk) -> bool {
        let mut reorder = lock(&self.reorder);
        if reorder.verified.is_none() {
            return false;
        }
        reorder.parked.insert(sequence, chunk);
        let counters = &self.shared.counters();
        loop {
            let next = reorder.next;
            let Some(chunk) = reorder.parked.remove(&next) else {
                return true;
            };
            reorder.next = next.wrapping_add(1);
            self.delivered.notify_all();
            counters
                .rejected
                .fetch_add(chunk.rejected.len() as u64, Ordering::Relaxed);
            for (signature, error) in chunk.rejected {
                let _ = self
                    .events
                    .send(ExecutionEvent::Rejected { signature, error });
            }
            counters
                .verified
                .fetch_add(chunk.verified.len() as u64, Ordering::Relaxed);
            if chunk.verified.is_empty() {
                continue;
            }
            let sent = reorder
                .verified
                .as_ref()
                .is_some_and(|verified| verified.send(chunk.verified).is_ok());
            if !sent {
                // The scheduler is gone: nothing more can be delivered.
                self.close(&mut reorder);
                return false;
            }
        }
    }
}

fn signature_of(wire: &[u8]) -> Signature {
    braid_runtime::transaction::first_signature(wire).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_ledger::Bank;
    use braid_ledger::genesis::Genesis;
    use braid_runtime::instruction::{AccountMeta, Instruction};
    use braid_runtime::keypair::Keypair;
    use braid_runtime::{Hash, Pubkey, Transaction};
    use crossbeam_channel::RecvTimeoutError;
    use std::time::Duration;

    /// Long enough that a worker which should have ended has; a hang fails, not blocks.
    const PATIENCE: Duration = Duration::from_secs(10);
    /// How long a blocked call is watched to see that it stays blocked.
    const A_WHILE: Duration = Duration::from_millis(200);

    struct Harness {
        stage: Arc<SigverifyStage>,
        ingress: Sender<Vec<u8>>,
        verified: Receiver<Vec<VerifiedBox>>,
        events: Receiver<ExecutionEvent>,
        executor: Arc<Executor>,
    }

    fn harness(workers: usize) -> Harness {
        let executor = Arc::new(Executor::default());
        let genesis = Genesis::new(400, Vec::new()).unwrap();
        let bank = Bank::in_memory(&genesis, Arc::clone(&executor)).unwrap();
        let (ingress, ingress_rx) = crossbeam_channel::bounded(1024);
        let (verified_tx, verified) = crossbeam_channel::bounded(64);
        let (events_tx, events) = crossbeam_channel::unbounded();
        let stage = Arc::new(SigverifyStage::new(
            workers,
            ingress_rx,
            verified_tx,
            events_tx,
            NodeState::for_bank(&bank),
            Arc::clone(&executor),
            true,
        ));
        Harness {
            stage,
            ingress,
            verified,
            events,
            executor,
        }
    }

    /// A chunk whose only outcome is one rejection, told apart by `tag`.
    fn rejection(tag: u8) -> Chunk {
        Chunk {
            verified: Vec::new(),
            rejected: vec![(Signature([tag; 64]), TransactionError::SignatureFailure)],
        }
    }

    /// A chunk with one (parsed, never verified) transaction for the scheduler.
    fn one_transaction(executor: &Executor) -> Chunk {
        let payer = Keypair::from_seed(&[1; 32]);
        let instruction = Instruction {
            program_id: Pubkey::new_from_array([9; 32]),
            accounts: vec![AccountMeta::new(payer.pubkey(), true)],
            data: Vec::new(),
        };
        let wire = Transaction::new_signed_with_payer(
            &[instruction],
            Some(&payer.pubkey()),
            &[&payer],
            Hash::default(),
        )
        .to_bytes();
        let tx = SanitizedTransaction::try_from_bytes(&wire).unwrap();
        Chunk {
            verified: vec![Verified::new(wire, tx, executor)],
            rejected: Vec::new(),
        }
    }

    fn rejected_tags(events: &Receiver<ExecutionEvent>) -> Vec<u8> {
        events
            .try_iter()
            .map(|event| match event {
                ExecutionEvent::Rejected { signature, .. } => signature.0[0],
                other => panic!("unexpected event {other:?}"),
            })
            .collect()
    }

    /// Runs `workers` workers; the receiver hears one message per worker that ended.
    fn spawn_workers(stage: &Arc<SigverifyStage>, workers: usize) -> Receiver<()> {
        let (ended_tx, ended) = crossbeam_channel::unbounded();
        for _ in 0..workers {
            let (stage, ended_tx) = (Arc::clone(stage), ended_tx.clone());
            std::thread::spawn(move || {
                stage.run_worker();
                let _ = ended_tx.send(());
            });
        }
        ended
    }

    #[test]
    fn chunks_leave_in_the_order_they_were_taken() {
        let h = harness(2);
        assert!(h.stage.deliver(2, rejection(2)));
        assert!(h.stage.deliver(1, rejection(1)));
        assert_eq!(rejected_tags(&h.events), Vec::<u8>::new());
        assert!(h.stage.deliver(0, rejection(0)));
        assert_eq!(rejected_tags(&h.events), vec![0, 1, 2]);
        assert!(h.stage.deliver(3, rejection(3)));
        assert_eq!(rejected_tags(&h.events), vec![3]);
        let counters = &h.stage.shared.counters();
        assert_eq!(counters.rejected.load(Ordering::Relaxed), 4);
        assert_eq!(counters.verified.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_stalled_oldest_chunk_stops_others_taking_ingress() {
        // One worker: two chunks may be in flight.
        let h = harness(1);
        for expected in 0..2u64 {
            h.ingress.send(vec![1]).unwrap();
            assert_eq!(h.stage.take().map(|(sequence, _)| sequence), Some(expected));
        }
        h.ingress.send(vec![1]).unwrap();
        let (taken_tx, taken) = crossbeam_channel::unbounded();
        let stage = Arc::clone(&h.stage);
        std::thread::spawn(move || {
            let _ = taken_tx.send(stage.take().map(|(sequence, _)| sequence));
        });
        assert_eq!(taken.recv_timeout(A_WHILE), Err(RecvTimeoutError::Timeout));
        assert_eq!(h.ingress.len(), 1, "ingress was taken past the window");
        // Chunk 1 delivered first changes nothing: chunk 0 is still out.
        assert!(h.stage.deliver(1, rejection(1)));
        assert_eq!(taken.recv_timeout(A_WHILE), Err(RecvTimeoutError::Timeout));
        assert!(h.stage.deliver(0, rejection(0)));
        assert_eq!(taken.recv_timeout(PATIENCE), Ok(Some(2)));
    }

    #[test]
    fn stop_ends_workers_waiting_on_an_empty_ingress_and_closes_the_scheduler_input() {
        let h = harness(2);
        let ended = spawn_workers(&h.stage, 2);
        assert_eq!(ended.recv_timeout(A_WHILE), Err(RecvTimeoutError::Timeout));
        h.stage.stop();
        for _ in 0..2 {
            assert_eq!(ended.recv_timeout(PATIENCE), Ok(()));
        }
        // `h.ingress` is still open: the stop alone closed the scheduler's input.
        assert_eq!(
            h.verified.recv_timeout(PATIENCE).map(|chunk| chunk.len()),
            Err(RecvTimeoutError::Disconnected)
        );
        assert!(
            !h.stage.deliver(0, rejection(0)),
            "a stopped stage delivers"
        );
    }

    #[test]
    fn the_scheduler_gone_ends_every_worker() {
        let h = harness(2);
        let ended = spawn_workers(&h.stage, 2);
        drop(h.verified);
        assert!(!h.stage.deliver(0, one_transaction(&h.executor)));
        for _ in 0..2 {
            assert_eq!(ended.recv_timeout(PATIENCE), Ok(()));
        }
    }
}
