//! Executes transactions against an [`AccountSource`] and reports what each one wrote.
//!
//! Execution of one transaction: read its compute budget, price it, check its programs
//! exist, load its accounts, charge the fee payer, run each instruction (checking the runtime
//! rules after each), and on failure roll back everything but the fee. The executor writes
//! nothing itself: it returns the writes, in transaction-index order, so a banking thread,
//! the harness or a replay decides where they go, and the result never depends on thread
//! timing or hash order.
//!
//! A batch is a slice of transactions whose locks do not conflict, so each reads the source
//! as it was before the batch and their writes can be applied in any order.

use crate::account_source::AccountSource;
use crate::address_lookup_table::LoadedAddresses;
use crate::balances::{TokenBalance, TransactionBalances};
use crate::compute_budget::ComputeBudget;
use crate::fee::FeeDetails;
use crate::invoke_context::{Clock, Frame, InnerInstruction, TransactionState};
use crate::program::ProgramRegistry;
use crate::rent::RentState;
use crate::sanitized::SanitizedTransaction;
use crate::{Account, Pubkey, SYSTEM_PROGRAM_ID, TransactionError};

/// How the executor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Collect log messages (the harness and RPC do; the load generator does not).
    pub log_messages: bool,
    /// Report each transaction's [`TransactionBalances`] (a node records them as its
    /// transaction history; the load generator does not).
    pub record_balances: bool,
    /// Require accounts a transaction leaves with lamports to be rent-exempt
    /// ([`crate::rent`]). A rule of the ledger, not of the node: it comes from genesis, and
    /// a bank refuses an executor that disagrees with its genesis.
    pub rent_exemption: bool,
}

impl ExecutorConfig {
    /// Neither logs nor balances: the least work per transaction, for measurement.
    pub const QUIET: Self = Self {
        log_messages: false,
        record_balances: false,
        rent_exemption: false,
    };

    /// This configuration with `rent_exemption` as a ledger's genesis sets it.
    pub fn with_rent_exemption(self, rent_exemption: bool) -> Self {
        Self {
            rent_exemption,
            ..self
        }
    }
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            log_messages: true,
            record_balances: true,
            rent_exemption: false,
        }
    }
}

/// A transaction that executed: it paid its fee, and either succeeded or failed in an
/// instruction (then its only write is the fee payer's debit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedTransaction {
    /// `Ok`, or why it failed with its fee paid: an instruction's error
    /// (`InstructionError`), or an account it would leave below rent exemption
    /// (`InsufficientFundsForRent`).
    pub status: Result<(), TransactionError>,
    /// Lamports charged to the fee payer.
    pub fee: u64,
    /// Compute units consumed.
    pub compute_units_consumed: u64,
    /// Log messages, if the executor collects them.
    pub logs: Vec<String>,
    /// Accounts written, in transaction-index order (the fee payer first). An account with
    /// zero lamports is deleted.
    pub writes: Vec<(Pubkey, Account)>,
    /// Balances before and after, if the executor records them
    /// ([`ExecutorConfig::record_balances`]).
    pub balances: Option<Box<TransactionBalances>>,
    /// The addresses a v0 transaction loaded from lookup tables (empty otherwise).
    pub loaded_addresses: LoadedAddresses,
    /// The cross-program calls it made, in order, if the executor records balances (the
    /// history switch); a failed transaction's include those before the failure.
    pub inner_instructions: Vec<InnerInstruction>,
}

/// The result of processing one transaction: executed (successfully or not, fee paid) or
/// rejected (nothing changed, nothing paid).
pub type ProcessedTransaction = Result<ExecutedTransaction, TransactionError>;

/// Most account data one transaction may load, in bytes (Solana's 64 MiB). Past it the
/// transaction fails with its fee paid: the node did the loading.
pub const LOADED_ACCOUNTS_DATA_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Runs transactions with a fixed set of programs.
#[derive(Clone, Default)]
pub struct Executor {
    programs: ProgramRegistry,
    config: ExecutorConfig,
}

impl Executor {
    /// An executor for `programs`.
    pub fn new(programs: ProgramRegistry, config: ExecutorConfig) -> Self {
        Self { programs, config }
    }

    /// The registered programs.
    pub fn programs(&self) -> &ProgramRegistry {
        &self.programs
    }

    /// The registered programs, to add more.
    pub fn programs_mut(&mut self) -> &mut ProgramRegistry {
        &mut self.programs
    }

    /// Whether this executor lets `tx` write key `index`: the transaction's own rule
    /// ([`SanitizedTransaction::is_writable`]), and never a registered program's account,
    /// so no transaction can write-lock a program by listing it as a writable account.
    pub fn is_writable(&self, tx: &SanitizedTransaction, index: usize) -> bool {
        // The fee payer stays writable: it pays (a program account cannot pay anyway).
        tx.is_writable(index)
            && (index == 0
                || tx
                    .account_keys()
                    .get(index)
                    .is_some_and(|key| !self.programs.contains(key)))
    }

    /// The accounts `tx` write-locks and read-locks under this executor, in key order: what
    /// a scheduler must lock to run it beside others. Agrees with what execution lets it
    /// write ([`Executor::is_writable`]).
    pub fn lock_set(&self, tx: &SanitizedTransaction) -> (Vec<Pubkey>, Vec<Pubkey>) {
        let (mut writes, write_len) = self.lock_list(tx);
        let reads = writes.split_off(write_len);
        (writes, reads)
    }

    /// [`Executor::lock_set`] in one allocation: the written accounts, then the read ones,
    /// each in key order, and how many are written.
    pub fn lock_list(&self, tx: &SanitizedTransaction) -> (Vec<Pubkey>, usize) {
        // One pass: written keys fill the list from the front, read keys from the back
        // (reversed, then turned around), so each key's rule is evaluated once.
        let keys = tx.account_keys();
        let mut list = vec![Pubkey::default(); keys.len()];
        let (mut front, mut back) = (0usize, keys.len());
        for (index, key) in keys.iter().enumerate() {
            if self.is_writable(tx, index) {
                list[front] = *key;
                front = front.saturating_add(1);
            } else {
                back = back.saturating_sub(1);
                list[back] = *key;
            }
        }
        list[front..].reverse();
        (list, front)
    }

    /// The configuration.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Executes a batch of transactions whose locks do not conflict, each against `source`
    /// as it is; results are in input order.
    pub fn execute_batch<S: AccountSource + ?Sized>(
        &self,
        transactions: &[SanitizedTransaction],
        source: &S,
        clock: &Clock,
    ) -> Vec<ProcessedTransaction> {
        transactions
            .iter()
            .map(|tx| self.execute(tx, source, clock))
            .collect()
    }

    /// Executes one transaction against `source`. Signatures, blockhash and replay are the
    /// caller's checks; this one prices, loads and runs.
    pub fn execute<S: AccountSource + ?Sized>(
        &self,
        tx: &SanitizedTransaction,
        source: &S,
        clock: &Clock,
    ) -> ProcessedTransaction {
        let message = tx.message();
        if tx.has_lookups() {
            // Resolved when it was scheduled; resolved again now, at the slot it runs in.
            // Both agree unless a table became unusable in between (see
            // `address_lookup_table`): then nothing is charged, as if refused at admission.
            let now = crate::address_lookup_table::resolve(message.lookups(), source, clock.slot)?;
            if tx.loaded_addresses() != Some(&now) {
                return Err(TransactionError::AddressLookupTableChanged);
            }
        }
        let keys = tx.account_keys();
        let budget = ComputeBudget::from_message(message)?;
        let fee = FeeDetails::new(tx.num_signatures() as u64, &budget).total();

        let mut programs = Vec::with_capacity(message.instructions.len());
        for instruction in &message.instructions {
            let program_id = keys[usize::from(instruction.program_id_index)];
            let program = self
                .programs
                .get(&program_id)
                .ok_or(TransactionError::ProgramAccountNotFound(program_id))?;
            programs.push(program);
        }

        let mut payer = source
            .get_account(tx.fee_payer())
            .ok_or(TransactionError::AccountNotFound)?;
        if payer.owner != SYSTEM_PROGRAM_ID {
            return Err(TransactionError::InvalidAccountForFee);
        }
        let payer_before = RentState::of(&payer);
        payer.lamports = payer
            .lamports
            .checked_sub(fee)
            .ok_or(TransactionError::InsufficientFundsForFee)?;
        if self.config.rent_exemption && !payer_before.transition_allowed(&RentState::of(&payer)) {
            return Err(TransactionError::InsufficientFundsForRent { account_index: 0 });
        }

        let mut accounts = Vec::with_capacity(keys.len());
        accounts.push(payer.clone());
        accounts.extend(
            keys[1..]
                .iter()
                .map(|key| source.get_account(key).unwrap_or_default()),
        );
        let pre = self.config.record_balances.then(|| {
            let mut lamports: Vec<u64> = accounts.iter().map(|account| account.lamports).collect();
            // The fee payer's balance before its fee, which was just taken.
            lamports[0] = lamports[0].saturating_add(fee);
            (lamports, self.token_balances(&accounts))
        });
        // What a failed transaction leaves: every account as it was but the fee payer's.
        let unchanged = |pre: Option<(Vec<u64>, Vec<TokenBalance>)>, payer: &Account| {
            pre.map(|(pre_lamports, pre_tokens)| {
                let mut post_lamports = pre_lamports.clone();
                post_lamports[0] = payer.lamports;
                Box::new(TransactionBalances {
                    pre_lamports,
                    post_lamports,
                    post_tokens: pre_tokens.clone(),
                    pre_tokens,
                })
            })
        };
        // Loading is work too: a transaction may not make the node read more than this.
        let loaded_bytes = accounts.iter().fold(0usize, |sum, account| {
            sum.saturating_add(account.data.len())
        });
        if loaded_bytes > LOADED_ACCOUNTS_DATA_BYTES_MAX {
            return Ok(ExecutedTransaction {
                status: Err(TransactionError::MaxLoadedAccountsDataSizeExceeded),
                fee,
                compute_units_consumed: 0,
                logs: Vec::new(),
                balances: unchanged(pre, &payer),
                loaded_addresses: tx.loaded_addresses().cloned().unwrap_or_default(),
                inner_instructions: Vec::new(),
                writes: vec![(*tx.fee_payer(), payer)],
            });
        }

        let (mut signer_mask, mut writable_mask) = (0u64, 0u64);
        for index in 0..keys.len() {
            let bit = 1u64 << index;
            if tx.is_signer(index) {
                signer_mask |= bit;
            }
            if self.is_writable(tx, index) {
                writable_mask |= bit;
            }
        }

        let rent_before: Option<Vec<RentState>> = self
            .config
            .rent_exemption
            .then(|| accounts.iter().map(RentState::of).collect());
        let compute_limit = u64::from(budget.compute_unit_limit);
        let mut state =
            TransactionState::new(accounts, compute_limit, self.config.log_messages, *clock);
        if self.config.record_balances {
            state.inner = Some(Vec::new());
        }
        let mut status = Ok(());
        for (position, (instruction, program)) in
            message.instructions.iter().zip(programs).enumerate()
        {
            let program_id = keys[usize::from(instruction.program_id_index)];
            let frame = Frame::new(
                program_id,
                instruction.accounts.clone(),
                signer_mask,
                writable_mask,
            );
            state.instruction_index = u8::try_from(position).unwrap_or(u8::MAX);
            if let Err(error) =
                state.process_instruction(keys, &self.programs, program, frame, &instruction.data)
            {
                let position = u8::try_from(position).unwrap_or(u8::MAX);
                status = Err(TransactionError::InstructionError(position, error));
                break;
            }
        }

        if let (Ok(()), Some(rent_before)) = (&status, &rent_before) {
            // Only accounts the transaction changed can have changed rent state.
            let changed = writable_mask & (state.changed_mask | 1);
            let broke = (0..keys.len()).find(|&index| {
                changed & (1u64 << index) != 0
                    && !rent_before[index]
                        .transition_allowed(&RentState::of(&state.accounts[index]))
            });
            if let Some(index) = broke {
                status = Err(TransactionError::InsufficientFundsForRent {
                    account_index: u8::try_from(index).unwrap_or(u8::MAX),
                });
            }
        }
        let compute_units_consumed = compute_limit.saturating_sub(state.compute_remaining);
        let logs = state.logs.take().unwrap_or_default();
        let inner_instructions = state.inner.take().unwrap_or_default();
        let balances = if status.is_ok() {
            pre.map(|(pre_lamports, pre_tokens)| {
                Box::new(TransactionBalances {
                    pre_lamports,
                    post_lamports: state
                        .accounts
                        .iter()
                        .map(|account| account.lamports)
                        .collect(),
                    pre_tokens,
                    post_tokens: self.token_balances(&state.accounts),
                })
            })
        } else {
            unchanged(pre, &payer)
        };
        let writes = if status.is_ok() {
            // The fee payer is always written (its fee); others only if a program changed them
            // (a 0-lamport transfer to a 10 MiB account stores nothing for it).
            let written_mask = writable_mask & (state.changed_mask | 1);
            keys.iter()
                .zip(state.accounts)
                .enumerate()
                .filter(|(index, _)| written_mask & (1u64 << index) != 0)
                .map(|(_, (key, account))| (*key, account))
                .collect()
        } else {
            vec![(*tx.fee_payer(), payer)]
        };
        Ok(ExecutedTransaction {
            status,
            fee,
            compute_units_consumed,
            logs,
            writes,
            balances,
            loaded_addresses: tx.loaded_addresses().cloned().unwrap_or_default(),
            inner_instructions,
        })
    }

    /// The token balances of `accounts` (a transaction's, in key order), as their owning
    /// programs read them.
    fn token_balances(&self, accounts: &[Account]) -> Vec<TokenBalance> {
        accounts
            .iter()
            .enumerate()
            .filter_map(|(index, account)| {
                let amount = self.programs.get(&account.owner)?.token_balance(account)?;
                Some(TokenBalance {
                    account_index: u8::try_from(index).ok()?,
                    program_id: account.owner,
                    amount,
                })
            })
            .collect()
    }
}
