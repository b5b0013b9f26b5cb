//! A validator's transaction pool: verified transactions waiting for a block, highest
//! priority fee first.
//!
//! What enters is checked on the caller's thread, so a caller hears why a transaction was
//! refused ([`SubmitError`]) instead of it being dropped later: it parses, its fee payer can
//! pay its fee against committed state, its fee payer holds fewer than
//! [`POOL_PER_PAYER_MAX`] transactions here, and there is room, which the transaction then
//! holds while its signatures are verified. Signatures are verified once, in batches, by
//! the pool's verifier threads ([`SharedPool`]); a transaction whose signature fails is
//! dropped there and counted, as Solana's sigverify stage drops it. A full pool takes a
//! transaction only by evicting one that pays a lower priority fee (its signatures then
//! verified on the caller's thread first, so an unverified transaction never evicts);
//! otherwise the caller hears [`SubmitError::PoolFull`] (`Busy`).
//!
//! After every commit the pool drops what can no longer land, whoever leads: what the
//! block included (remembered, the newest [`LANDED_REMEMBERED_MAX`], so a late copy is
//! answered without being verified or held again), what has a blockhash too old, and what
//! a fee payer can no longer pay for. Every pooled transaction's exact bytes were verified on entry, so a block that
//! carries them is not verified again ([`Pool::holds`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use braid_accounts_db::AccountsDb;

use braid_primitives::{Pubkey, Signature};
use braid_runtime::TransactionError;
use braid_runtime::compute_budget::ComputeBudget;
use braid_runtime::cost_model::{BlockLimit, TransactionCost};
use braid_runtime::fee::FeeDetails;
use braid_runtime::sanitized::SanitizedTransaction;

/// Most transactions a validator's pool holds.
pub const POOL_TRANSACTIONS_MAX: usize = 65_536;
/// Most transactions one fee payer may have in the pool: a payer cannot fill it alone.
pub const POOL_PER_PAYER_MAX: usize = 256;

/// Signatures of recently committed transactions the pool remembers, so a copy that
/// arrives after its transaction landed (a forward, a client's retry) is answered at once
/// instead of verified and held again: about two full blocks.
pub const LANDED_REMEMBERED_MAX: usize = 65_536;

const _: () = assert!(POOL_PER_PAYER_MAX < POOL_TRANSACTIONS_MAX);

/// Why a transaction was not taken into the pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The pool is full of transactions paying at least as much (`Busy`).
    #[error("the transaction pool is full ({POOL_TRANSACTIONS_MAX} transactions)")]
    PoolFull,
    /// The bytes are not a valid transaction, a signature does not verify, or its compute
    /// budget does not decode: it could never land.
    #[error("invalid transaction: {0}")]
    Invalid(TransactionError),
    /// The fee payer cannot pay the fee.
    #[error("fee payer {payer} holds {balance} lamports, the fee is {fee}")]
    CannotPay {
        /// The fee payer.
        payer: Pubkey,
        /// Its committed balance.
        balance: u64,
        /// The transaction's fee.
        fee: u64,
    },
    /// The fee payer has as many transactions waiting as one payer may.
    #[error("fee payer {0} already has {POOL_PER_PAYER_MAX} transactions waiting")]
    PayerFull(Pubkey),
    /// The validator has stopped.
    #[error("the validator has stopped")]
    Stopped,
    /// No block could ever hold it: alone it passes a block limit (it asks to allocate
    /// more account data than a block may, for instance).
    #[error("no block can hold it: {0}")]
    TooCostly(BlockLimit),
}

/// A pooled transaction.
struct Pooled {
    wire: Vec<u8>,
    tx: SanitizedTransaction,
    fee: u64,
    key: OrderKey,
}

/// Highest priority first, then oldest.
type OrderKey = (Reverse<u64>, u64, Signature);

/// See the module documentation.
#[derive(Default)]
pub struct Pool {
    by_signature: HashMap<Signature, Pooled>,
    order: BTreeSet<OrderKey>,
    /// Per fee payer, its transactions held and reserved.
    per_payer: HashMap<Pubkey, usize>,
    /// Room held by transactions whose signatures are being verified.
    reserved: usize,
    next_arrival: u64,
    /// Recently committed signatures, oldest first, and the same as a set.
    landed_order: std::collections::VecDeque<Signature>,
    landed: std::collections::HashSet<Signature>,
}

/// A transaction's fee and priority, or why it could never land.
fn price(tx: &SanitizedTransaction) -> Result<(u64, u64), SubmitError> {
    let budget = ComputeBudget::from_message(tx.message()).map_err(SubmitError::Invalid)?;
    let fee = FeeDetails::new(tx.signatures().len() as u64, &budget).total();
    Ok((fee, budget.compute_unit_price))
}

impl Pool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.by_signature.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_signature.is_empty()
    }

    /// Takes `tx` (parsed from `wire`, its signatures verified) if it may enter;
    /// `balance` reads a fee payer's committed balance. A transaction already held is
    /// accepted again without change.
    pub fn insert(
        &mut self,
        wire: Vec<u8>,
        tx: SanitizedTransaction,
        balance: impl FnOnce(&Pubkey) -> u64,
    ) -> Result<(), SubmitError> {
        let signature = *tx.signature();
        if self.by_signature.contains_key(&signature) || self.landed.contains(&signature) {
            return Ok(());
        }
        let (fee, priority) = price(&tx)?;
        let payer = *tx.fee_payer();
        let held = balance(&payer);
        if held < fee {
            return Err(SubmitError::CannotPay {
                payer,
                balance: held,
                fee,
            });
        }
        if self.per_payer.get(&payer).copied().unwrap_or(0) >= POOL_PER_PAYER_MAX {
            return Err(SubmitError::PayerFull(payer));
        }
        if self.by_signature.len().saturating_add(self.reserved) >= POOL_TRANSACTIONS_MAX {
            // The last in order pays the least (and is the newest among equals).
            let lowest = self.order.last().copied().ok_or(SubmitError::PoolFull)?;
            if lowest.0.0 >= priority {
                return Err(SubmitError::PoolFull);
            }
            self.remove(&lowest.2);
        }
        let key = (Reverse(priority), self.next_arrival, signature);
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.order.insert(key);
        let count = self.per_payer.entry(payer).or_insert(0);
        *count = count.saturating_add(1);
        self.by_signature
            .insert(signature, Pooled { wire, tx, fee, key });
        Ok(())
    }

    /// Holds room for a transaction from `payer` while its signatures are verified, if the
    /// payer's share is not used up and the pool has room: [`Pool::fill`] or
    /// [`Pool::release`] it afterwards. The room counts against the payer's share at once,
    /// so a payer over its share hears so now, never finds its transaction dropped later.
    /// (Junk naming someone else's payer holds that share only until the verifiers reach
    /// it, which is the time a verify queue takes to drain.)
    pub fn reserve(&mut self, payer: &Pubkey) -> Result<(), SubmitError> {
        if self.per_payer.get(payer).copied().unwrap_or(0) >= POOL_PER_PAYER_MAX {
            return Err(SubmitError::PayerFull(*payer));
        }
        if self.by_signature.len().saturating_add(self.reserved) >= POOL_TRANSACTIONS_MAX {
            return Err(SubmitError::PoolFull);
        }
        self.reserved = self.reserved.saturating_add(1);
        let count = self.per_payer.entry(*payer).or_insert(0);
        *count = count.saturating_add(1);
        Ok(())
    }

    /// Gives back room [`Pool::reserve`] held for a transaction from `payer`.
    pub fn release(&mut self, payer: &Pubkey) {
        self.reserved = self.reserved.saturating_sub(1);
        self.uncount(payer);
    }

    /// Puts a verified transaction into the room reserved for it. `false`: a copy is
    /// already held, and the room goes back.
    pub fn fill(&mut self, wire: Vec<u8>, tx: SanitizedTransaction) -> bool {
        let payer = *tx.fee_payer();
        let signature = *tx.signature();
        let Ok((fee, priority)) = price(&tx) else {
            // Priced when it was reserved; it cannot fail now.
            self.release(&payer);
            return false;
        };
        if self.by_signature.contains_key(&signature) || self.landed.contains(&signature) {
            self.release(&payer);
            return false;
        }
        self.reserved = self.reserved.saturating_sub(1);
        let key = (Reverse(priority), self.next_arrival, signature);
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.order.insert(key);
        self.by_signature
            .insert(signature, Pooled { wire, tx, fee, key });
        true
    }

    /// Whether a transaction paying `priority` would evict the cheapest held.
    pub fn outbids(&self, priority: u64) -> bool {
        self.order
            .last()
            .is_some_and(|lowest| lowest.0.0 < priority)
    }

    /// Whether it holds the transaction with `signature`.
    pub fn contains(&self, signature: &Signature) -> bool {
        self.by_signature.contains_key(signature)
    }

    /// Records that these transactions were committed: takes them out, and remembers the
    /// newest [`LANDED_REMEMBERED_MAX`] so a late copy is not verified or held again.
    pub fn landed(&mut self, signatures: &[Signature]) {
        for signature in signatures {
            self.remove(signature);
            if self.landed.insert(*signature) {
                self.landed_order.push_back(*signature);
            }
        }
        while self.landed_order.len() > LANDED_REMEMBERED_MAX {
            if let Some(oldest) = self.landed_order.pop_front() {
                self.landed.remove(&oldest);
            }
        }
    }

    /// Whether this transaction was committed recently ([`Pool::landed`]).
    pub fn has_landed(&self, signature: &Signature) -> bool {
        self.landed.contains(signature)
    }

    fn uncount(&mut self, payer: &Pubkey) {
        if let Some(count) = self.per_payer.get_mut(payer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_payer.remove(payer);
            }
        }
    }

    /// Removes the transaction with `signature`, if held.
    pub fn remove(&mut self, signature: &Signature) {
        let Some(pooled) = self.by_signature.remove(signature) else {
            return;
        };
        self.order.remove(&pooled.key);
        self.uncount(pooled.tx.fee_payer());
    }

    /// The fee payers of what it holds.
    pub fn payers(&self) -> Vec<Pubkey> {
        self.per_payer.keys().copied().collect()
    }

    /// Keeps only what may still land: `valid_blockhash` says whether a transaction's
    /// blockhash is still recent, `balance` reads a fee payer's committed balance.
    pub fn retain_landable(
        &mut self,
        valid_blockhash: impl Fn(&braid_primitives::Hash) -> bool,
        balance: impl Fn(&Pubkey) -> u64,
    ) -> usize {
        let gone: Vec<Signature> = self
            .by_signature
            .iter()
            .filter(|(_, pooled)| {
                !valid_blockhash(&pooled.tx.message().recent_blockhash)
                    || balance(pooled.tx.fee_payer()) < pooled.fee
            })
            .map(|(signature, _)| *signature)
            .collect();
        for signature in &gone {
            self.remove(signature);
        }
        gone.len()
    }

    /// The transactions in the order a block takes them: highest priority first, then
    /// oldest.
    pub fn ordered(&self) -> impl Iterator<Item = (&[u8], &SanitizedTransaction)> {
        self.order.iter().filter_map(|(_, _, signature)| {
            let pooled = self.by_signature.get(signature)?;
            Some((pooled.wire.as_slice(), &pooled.tx))
        })
    }

    /// Whether the pool holds exactly these bytes: verified when they entered.
    pub fn holds(&self, wire: &[u8]) -> bool {
        braid_runtime::transaction::first_signature(wire)
            .and_then(|signature| self.by_signature.get(&signature))
            .is_some_and(|pooled| pooled.wire == wire)
    }
}

/// Transactions waiting for their signatures to be verified, at most: callers beyond it
/// hear `Busy`.
pub const VERIFY_QUEUE_TRANSACTIONS: usize = 8_192;
/// Transactions one verifier thread checks in one batch equation, at most.
const VERIFY_BATCH_TRANSACTIONS: usize = braid_runtime::sigverify::BATCH_TRANSACTIONS_MAX;

/// What the verifier threads share with callers.
struct Inner {
    pool: Mutex<Pool>,
    db: Arc<AccountsDb>,
    stopped: AtomicBool,
    bad_signatures: AtomicU64,
    forward: std::sync::OnceLock<ForwardHook>,
}

impl Inner {
    fn forward(&self, wires: &[Vec<u8>]) {
        if let Some(forward) = self.forward.get() {
            for wire in wires {
                forward(wire);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // Every method finishes its bookkeeping before anything in it could panic, so a
        // pool whose holder panicked is still consistent.
        self.pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A transaction holding room in the pool, on its way to the verifiers, and whether it is
/// to be forwarded once verified.
type Unverified = (Vec<u8>, SanitizedTransaction, bool);

/// What a validator does with a transaction its pool verified and took, when it was asked
/// to forward it (to the other validators).
pub type ForwardHook = Box<dyn Fn(&[u8]) + Send + Sync>;

/// The pool as a validator's callers and its application share it, with the committed
/// state fee payers' balances are read from, and the verifier threads that check
/// signatures in batches. The threads stop when the last handle is dropped.
pub struct SharedPool {
    inner: Arc<Inner>,
    verify: crossbeam_channel::Sender<Unverified>,
}

impl SharedPool {
    /// An empty pool over `db`, with `verifiers` threads checking signatures.
    pub fn new(db: Arc<AccountsDb>, verifiers: usize) -> std::io::Result<Arc<Self>> {
        let inner = Arc::new(Inner {
            pool: Mutex::new(Pool::new()),
            db,
            stopped: AtomicBool::new(false),
            bad_signatures: AtomicU64::new(0),
            forward: std::sync::OnceLock::new(),
        });
        let (verify, queue) = crossbeam_channel::bounded(VERIFY_QUEUE_TRANSACTIONS);
        for index in 0..verifiers.max(1) {
            let (inner, queue) = (Arc::clone(&inner), queue.clone());
            std::thread::Builder::new()
                .name(format!("braid-verify-{index}"))
                .spawn(move || verify_loop(&inner, &queue))?;
        }
        Ok(Arc::new(Self { inner, verify }))
    }

    /// Checks `wire` on this thread (it parses, its fee payer can pay, there is room) and
    /// hands it to the verifiers, holding its room; see the module documentation.
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.submit_with(wire, false)
    }

    /// [`SharedPool::submit`], and once its signatures verify and the pool takes it, hands
    /// it to the hook set by [`SharedPool::set_forwarder`]: what cannot land goes no
    /// further.
    pub fn submit_and_forward(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        self.submit_with(wire, true)
    }

    /// Sets what [`SharedPool::submit_and_forward`] does with what the pool took; only the
    /// first call counts.
    pub fn set_forwarder(&self, forward: ForwardHook) {
        let _ = self.inner.forward.set(forward);
    }

    fn submit_with(&self, wire: Vec<u8>, forward: bool) -> Result<(), SubmitError> {
        let inner = &*self.inner;
        if inner.stopped.load(Ordering::Acquire) {
            return Err(SubmitError::Stopped);
        }
        let tx = SanitizedTransaction::try_from_bytes(&wire)
            .map_err(|error| SubmitError::Invalid(TransactionError::Sanitize(error)))?;
        let (fee, priority) = price(&tx)?;
        // Written accounts as the message declares them: at least what the executor will
        // lock, so the estimate is never below a producer's.
        let writable = (0..tx.account_keys().len())
            .filter(|&index| tx.is_writable(index))
            .count();
        TransactionCost::estimate(&tx, writable)
            .fits_an_empty_block()
            .map_err(SubmitError::TooCostly)?;
        let payer = *tx.fee_payer();
        let balance = committed_lamports(&inner.db, &payer);
        if balance < fee {
            return Err(SubmitError::CannotPay {
                payer,
                balance,
                fee,
            });
        }
        let mut pool = inner.lock();
        // Held already, or landed: nothing to do, as for Solana's duplicate sends.
        if pool.contains(tx.signature()) || pool.has_landed(tx.signature()) {
            return Ok(());
        }
        match pool.reserve(&payer) {
            Ok(()) => {}
            Err(SubmitError::PoolFull) if pool.outbids(priority) => {
                // Only a verified transaction may evict one.
                drop(pool);
                braid_runtime::sigverify::verify_transaction(&tx).map_err(SubmitError::Invalid)?;
                let copy = forward.then(|| wire.clone());
                inner
                    .lock()
                    .insert(wire, tx, |payer| committed_lamports(&inner.db, payer))?;
                inner.forward(copy.as_slice());
                return Ok(());
            }
            Err(error) => return Err(error),
        }
        drop(pool);
        self.verify.try_send((wire, tx, forward)).map_err(|error| {
            inner.lock().release(&payer);
            match error {
                crossbeam_channel::TrySendError::Full(_) => SubmitError::PoolFull,
                crossbeam_channel::TrySendError::Disconnected(_) => SubmitError::Stopped,
            }
        })
    }

    /// The pool, for the application.
    pub fn lock(&self) -> MutexGuard<'_, Pool> {
        self.inner.lock()
    }

    /// A fee payer's committed balance.
    pub fn balance(&self, payer: &Pubkey) -> u64 {
        committed_lamports(&self.inner.db, payer)
    }

    /// Transactions dropped because a signature did not verify.
    pub fn bad_signatures(&self) -> u64 {
        self.inner.bad_signatures.load(Ordering::Relaxed)
    }

    /// Refuses every later submission: the validator has stopped.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
    }
}

/// A verifier thread: takes what is queued (up to a batch), verifies it in one batch
/// equation and fills the room each good transaction holds; a bad one gives its room back.
fn verify_loop(inner: &Inner, queue: &crossbeam_channel::Receiver<Unverified>) {
    let mut sizer = braid_runtime::sigverify::BatchSizer::new();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < VERIFY_BATCH_TRANSACTIONS {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let txs: Vec<&SanitizedTransaction> = batch.iter().map(|(_, tx, _)| tx).collect();
        let verdicts = sizer.verify(&txs);
        let mut forwards = Vec::new();
        let mut pool = inner.lock();
        for ((wire, tx, forward), verdict) in batch.into_iter().zip(verdicts) {
            if verdict.is_ok() {
                let copy = forward.then(|| wire.clone());
                if pool.fill(wire, tx) {
                    forwards.extend(copy);
                }
            } else {
                pool.release(tx.fee_payer());
                inner.bad_signatures.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(pool);
        inner.forward(&forwards);
    }
}

fn committed_lamports(db: &AccountsDb, key: &Pubkey) -> u64 {
    db.get_committed(key)
        .ok()
        .flatten()
        .map_or(0, |account| account.lamports)
}
