//! A validator's transaction pool: verified transactions waiting for a block, highest
//! priority fee first.
//!
//! What enters is checked on the caller's thread, so a caller hears why a transaction was
//! refused ([`SubmitError`]) instead of it being dropped later: it parses, its signatures
//! verify, its fee payer can pay its fee against committed state, its fee payer holds fewer
//! than [`POOL_PER_PAYER_MAX`] transactions here, and there is room. A full pool takes a
//! transaction only by evicting one that pays a lower priority fee; otherwise the caller
//! hears [`SubmitError::PoolFull`] (`Busy`).
//!
//! After every commit the pool drops what can no longer land, whoever leads: what the
//! block included, what has a blockhash too old, and what a fee payer can no longer pay
//! for. Every pooled transaction's exact bytes were verified on entry, so a block that
//! carries them is not verified again ([`Pool::holds`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use braid_accounts_db::AccountsDb;

use braid_primitives::{Pubkey, Signature};
use braid_runtime::TransactionError;
use braid_runtime::compute_budget::ComputeBudget;
use braid_runtime::fee::FeeDetails;
use braid_runtime::sanitized::SanitizedTransaction;

/// Most transactions a validator's pool holds.
pub const POOL_TRANSACTIONS_MAX: usize = 16_384;
/// Most transactions one fee payer may have in the pool: a payer cannot fill it alone.
pub const POOL_PER_PAYER_MAX: usize = 256;

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
    per_payer: HashMap<Pubkey, usize>,
    next_arrival: u64,
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
        if self.by_signature.contains_key(&signature) {
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
        if self.by_signature.len() >= POOL_TRANSACTIONS_MAX {
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

    /// Removes the transaction with `signature`, if held.
    pub fn remove(&mut self, signature: &Signature) {
        let Some(pooled) = self.by_signature.remove(signature) else {
            return;
        };
        self.order.remove(&pooled.key);
        let payer = *pooled.tx.fee_payer();
        if let Some(count) = self.per_payer.get_mut(&payer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_payer.remove(&payer);
            }
        }
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
        // The first signature follows its one-byte count (a count below 128).
        let Some(bytes) = wire.get(1..65) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes) else {
            return false;
        };
        self.by_signature
            .get(&Signature(bytes))
            .is_some_and(|pooled| pooled.wire == wire)
    }
}

/// The pool as a validator's callers and its application share it, with the committed
/// state fee payers' balances are read from.
pub struct SharedPool {
    pool: Mutex<Pool>,
    db: Arc<AccountsDb>,
    stopped: AtomicBool,
}

impl SharedPool {
    /// An empty pool over `db`.
    pub fn new(db: Arc<AccountsDb>) -> Arc<Self> {
        Arc::new(Self {
            pool: Mutex::new(Pool::new()),
            db,
            stopped: AtomicBool::new(false),
        })
    }

    /// Parses and verifies `wire` on this thread and takes it into the pool if it may
    /// enter (see the module documentation).
    pub fn submit(&self, wire: Vec<u8>) -> Result<(), SubmitError> {
        if self.stopped.load(Ordering::Acquire) {
            return Err(SubmitError::Stopped);
        }
        let tx = SanitizedTransaction::try_from_bytes(&wire)
            .map_err(|error| SubmitError::Invalid(TransactionError::Sanitize(error)))?;
        braid_runtime::sigverify::verify_transaction(&tx).map_err(SubmitError::Invalid)?;
        self.lock()
            .insert(wire, tx, |payer| committed_lamports(&self.db, payer))
    }

    /// The pool, for the application.
    pub fn lock(&self) -> MutexGuard<'_, Pool> {
        // A panic while holding it leaves a consistent pool: every method finishes its
        // bookkeeping before it could panic.
        self.pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fee payer's committed balance.
    pub fn balance(&self, payer: &Pubkey) -> u64 {
        committed_lamports(&self.db, payer)
    }

    /// Refuses every later submission: the validator has stopped.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }
}

fn committed_lamports(db: &AccountsDb, key: &Pubkey) -> u64 {
    db.get_committed(key)
        .ok()
        .flatten()
        .map_or(0, |account| account.lamports)
}
