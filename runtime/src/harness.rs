//! A whole single-node chain in memory, for testing programs: register programs, fund
//! accounts, send transactions, read accounts back. Modelled on LiteSVM.
//!
//! Every transaction goes through the same checks a node applies — sanitize, signature
//! verification, recent blockhash, replay — and then the same [`Executor`]. Time moves only
//! when the test says so ([`Harness::warp_to_slot`], [`Harness::expire_blockhash`]), and
//! blockhashes are derived from the previous one, so a test is deterministic.
//!
//! ```
//! use braid_runtime::harness::Harness;
//! use braid_runtime::keypair::Keypair;
//!
//! let mut harness = Harness::new();
//! let payer = Keypair::new();
//! harness.airdrop(&payer.pubkey(), 1_000_000).unwrap();
//! assert_eq!(harness.get_balance(&payer.pubkey()), 1_000_000);
//! ```

use std::sync::Arc;

use crate::account_source::InMemoryAccounts;
use crate::blockhash_queue::BlockhashQueue;
use crate::executor::{ExecutedTransaction, Executor, ExecutorConfig};
use crate::invoke_context::Clock;
use crate::program::{Program, ProgramRegistry, program_account};
use crate::sanitized::SanitizedTransaction;
use crate::state_hash::LtHash;
use crate::status_cache::StatusCache;
use crate::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Signature, Transaction, TransactionError};

/// What a processed transaction reports, whether it succeeded or failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionMeta {
    /// The first signature: the transaction's id.
    pub signature: Signature,
    /// Compute units consumed.
    pub compute_units_consumed: u64,
    /// Lamports charged (zero if the transaction was rejected).
    pub fee: u64,
    /// Log messages.
    pub logs: Vec<String>,
}

/// A transaction that was rejected or failed, with what it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTransaction {
    /// Why.
    pub err: TransactionError,
    /// Fee, compute units and logs (empty if it never executed).
    pub meta: TransactionMeta,
}

/// A simulated transaction: what it would report and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedTransaction {
    /// What it would report.
    pub meta: TransactionMeta,
    /// The accounts it would write.
    pub post_accounts: Vec<(Pubkey, Account)>,
}

/// Why a harness call that is not a transaction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HarnessError {
    /// An airdrop would overflow the account's balance.
    #[error("airdrop of {lamports} lamports overflows the balance of {key}")]
    BalanceOverflow {
        /// The account.
        key: Pubkey,
        /// The amount asked for.
        lamports: u64,
    },
    /// Airdrops go to system-owned accounts only.
    #[error("airdrop target {0} is not owned by the system program")]
    NotSystemOwned(Pubkey),
}

/// An in-memory chain. See the module documentation.
///
/// Transaction results carry their logs in the error too ([`FailedTransaction`]), as
/// LiteSVM's do: a failing test wants them. That makes the `Err` variant large, which is
/// fine for a test harness.
pub struct Harness {
    accounts: InMemoryAccounts,
    executor: Executor,
    blockhashes: BlockhashQueue,
    status_cache: StatusCache,
    clock: Clock,
    state_hash: LtHash,
    sigverify: bool,
    transaction_count: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// An empty chain at slot 0 with one blockhash and only the Compute Budget program.
    pub fn new() -> Self {
        let mut blockhashes = BlockhashQueue::new();
        blockhashes.register(Hash::new_from_array(
            *blake3::hash(b"braid harness genesis").as_bytes(),
        ));
        let mut harness = Self {
            accounts: InMemoryAccounts::new(),
            executor: Executor::new(ProgramRegistry::new(), ExecutorConfig::default()),
            blockhashes,
            status_cache: StatusCache::new(),
            clock: Clock::default(),
            state_hash: LtHash::identity(),
            sigverify: true,
            transaction_count: 0,
        };
        harness.set_account(
            crate::compute_budget::ID,
            program_account(&crate::compute_budget::ComputeBudgetProgram),
        );
        harness
    }

    /// Registers `program` and creates its executable account.
    pub fn add_program<P: Program + 'static>(&mut self, program: P) -> &mut Self {
        self.add_program_arc(Arc::new(program))
    }

    /// Registers every program of `registry` (e.g. `braid_builtins::registry()`) and
    /// creates their executable accounts.
    pub fn add_programs(&mut self, registry: &ProgramRegistry) -> &mut Self {
        for id in registry.ids() {
            if let Some(program) = registry.get(&id) {
                self.add_program_arc(Arc::clone(program));
            }
        }
        self
    }

    fn add_program_arc(&mut self, program: Arc<dyn Program>) -> &mut Self {
        let (id, account) = (program.id(), program_account(program.as_ref()));
        self.executor.programs_mut().add_arc(program);
        self.set_account(id, account);
        self
    }

    /// The executor, with every registered program.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// Turns signature verification off (it is on by default) to test unsigned transactions.
    pub fn set_sigverify(&mut self, enabled: bool) -> &mut Self {
        self.sigverify = enabled;
        self
    }

    /// Turns log collection on or off (on by default).
    pub fn set_log_messages(&mut self, enabled: bool) -> &mut Self {
        let programs = self.executor.programs().clone();
        let config = ExecutorConfig {
            log_messages: enabled,
            ..*self.executor.config()
        };
        self.executor = Executor::new(programs, config);
        self
    }

    /// Requires rent exemption of the accounts transactions leave with lamports, as a
    /// Solana cluster and a new `braid node` ledger do (off by default).
    pub fn set_rent_exemption(&mut self, enabled: bool) -> &mut Self {
        let programs = self.executor.programs().clone();
        let config = self.executor.config().with_rent_exemption(enabled);
        self.executor = Executor::new(programs, config);
        self
    }

    /// Credits `lamports` to `key`, creating a system-owned account if there is none.
    pub fn airdrop(&mut self, key: &Pubkey, lamports: u64) -> Result<(), HarnessError> {
        let mut account = self
            .accounts
            .get(key)
            .cloned()
            .unwrap_or_else(|| Account::new(0, 0, &SYSTEM_PROGRAM_ID));
        if account.owner != SYSTEM_PROGRAM_ID {
            return Err(HarnessError::NotSystemOwned(*key));
        }
        account.lamports =
            account
                .lamports
                .checked_add(lamports)
                .ok_or(HarnessError::BalanceOverflow {
                    key: *key,
                    lamports,
                })?;
        self.set_account(*key, account);
        Ok(())
    }

    /// Replaces the account at `key` (zero lamports deletes it).
    pub fn set_account(&mut self, key: Pubkey, account: Account) {
        let new = LtHash::of_account(&key, &account);
        if let Some(old) = self.accounts.store(key, account) {
            self.state_hash.mix_out(&LtHash::of_account(&key, &old));
        }
        self.state_hash.mix_in(&new);
    }

    /// The account at `key`, if it exists.
    pub fn get_account(&self, key: &Pubkey) -> Option<Account> {
        self.accounts.get(key).cloned()
    }

    /// The balance of `key` (zero if it does not exist).
    pub fn get_balance(&self, key: &Pubkey) -> u64 {
        self.accounts.get(key).map_or(0, |account| account.lamports)
    }

    /// Every account, in key order.
    pub fn accounts(&self) -> &InMemoryAccounts {
        &self.accounts
    }

    /// The newest blockhash: sign transactions over it.
    pub fn latest_blockhash(&self) -> Hash {
        self.blockhashes.latest().unwrap_or_default()
    }

    /// The current slot.
    pub fn slot(&self) -> u64 {
        self.clock.slot
    }

    /// How many transactions have executed (succeeded or failed with a fee).
    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    /// The order-independent hash of every account.
    pub fn state_hash(&self) -> Hash {
        self.state_hash.checksum()
    }

    /// Moves the clock to `slot` (programs see it through their clock).
    pub fn warp_to_slot(&mut self, slot: u64) {
        self.clock.slot = slot;
    }

    /// Makes a new blockhash the latest, derived from the previous one. After
    /// [`RECENT_BLOCKHASHES_MAX`](crate::blockhash_queue::RECENT_BLOCKHASHES_MAX) calls a
    /// blockhash expires and transactions signed over it are rejected.
    pub fn expire_blockhash(&mut self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.latest_blockhash().as_ref());
        hasher.update(&self.clock.slot.to_le_bytes());
        let next = Hash::new_from_array(*hasher.finalize().as_bytes());
        if let Some(expired) = self.blockhashes.register(next) {
            self.status_cache.purge(&expired);
        }
        next
    }

    /// Processes `tx` and applies its writes. `Ok` only if it succeeded; a failed
    /// transaction still pays its fee.
    #[allow(clippy::result_large_err)] // see the type's documentation
    pub fn send_transaction(
        &mut self,
        tx: Transaction,
    ) -> Result<TransactionMeta, FailedTransaction> {
        let (sanitized, executed) = self.process(tx)?;
        for (key, account) in &executed.writes {
            self.set_account(*key, account.clone());
        }
        // Checked in `process`: the message is new, so this insert cannot report a replay.
        let _ = self.status_cache.insert(
            sanitized.message().recent_blockhash,
            *sanitized.message_hash(),
        );
        self.transaction_count = self.transaction_count.saturating_add(1);
        let meta = meta_of(&sanitized, &executed);
        match executed.status {
            Ok(()) => Ok(meta),
            Err(err) => Err(FailedTransaction { err, meta }),
        }
    }

    /// Processes `tx` without changing any state.
    #[allow(clippy::result_large_err)] // see the type's documentation
    pub fn simulate_transaction(
        &self,
        tx: Transaction,
    ) -> Result<SimulatedTransaction, FailedTransaction> {
        let (sanitized, executed) = self.process(tx)?;
        let meta = meta_of(&sanitized, &executed);
        match executed.status {
            Ok(()) => Ok(SimulatedTransaction {
                meta,
                post_accounts: executed.writes,
            }),
            Err(err) => Err(FailedTransaction { err, meta }),
        }
    }

    #[allow(clippy::result_large_err)] // see the type's documentation
    fn process(
        &self,
        tx: Transaction,
    ) -> Result<(SanitizedTransaction, ExecutedTransaction), FailedTransaction> {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let reject = |err: TransactionError| FailedTransaction {
            err,
            meta: TransactionMeta {
                signature,
                ..TransactionMeta::default()
            },
        };
        let mut sanitized = SanitizedTransaction::try_new(tx).map_err(|e| reject(e.into()))?;
        sanitized
            .resolve(&self.accounts, self.clock.slot)
            .map_err(reject)?;
        if self.sigverify {
            crate::sigverify::verify_transaction(&sanitized).map_err(reject)?;
        }
        let blockhash = sanitized.message().recent_blockhash;
        if !self.blockhashes.is_valid(&blockhash) {
            return Err(reject(TransactionError::BlockhashNotFound));
        }
        if self
            .status_cache
            .contains(&blockhash, sanitized.message_hash())
        {
            return Err(reject(TransactionError::AlreadyProcessed));
        }
        let executed = self
            .executor
            .execute(&sanitized, &self.accounts, &self.clock)
            .map_err(reject)?;
        Ok((sanitized, executed))
    }
}

fn meta_of(tx: &SanitizedTransaction, executed: &ExecutedTransaction) -> TransactionMeta {
    TransactionMeta {
        signature: *tx.signature(),
        compute_units_consumed: executed.compute_units_consumed,
        fee: executed.fee,
        logs: executed.logs.clone(),
    }
}
