//! What a program sees while it runs, and where the runtime rules are enforced.
//!
//! A program receives an [`InvokeContext`]: the accounts its instruction lists (by position),
//! their signer and writable flags, the compute meter, the log, the clock, and cross-program
//! calls. Everything goes through `&mut InvokeContext`, so the borrow checker guarantees a
//! program holds no account borrow across a call that might change that account.
//!
//! Key decision: the runtime rules are checked *after* the fact, against a snapshot taken the
//! first time a program asks for an account mutably ([`InvokeContext::account_mut`]). An
//! account never borrowed mutably cannot have changed, so it needs no snapshot and no check:
//! a transfer snapshots two empty-data accounts and a read-heavy instruction snapshots
//! nothing. Each frame checks its own changes under its own program's privileges; before a
//! cross-program call the caller's changes so far are checked and its snapshots dropped, so
//! the callee's changes are never judged by the caller's privileges, nor the reverse.

use std::fmt;
use std::sync::Arc;

use braid_primitives::ACCOUNT_DATA_BYTES_MAX;

use crate::pda::create_program_address;
use crate::program::{Program, ProgramRegistry};
use crate::sanitized::TX_ACCOUNT_LOCKS_MAX;
use crate::{Account, Instruction, InstructionError, Pubkey};

/// Bytes of account data copied (and compared) per compute unit when a program first
/// changes an account in a frame (Solana charges CPI data at the same rate).
pub const DATA_BYTES_PER_COMPUTE_UNIT: usize = 250;

/// Deepest program call stack: a top-level instruction plus three nested calls.
pub const INVOKE_DEPTH_MAX: usize = 4;
/// Compute units every cross-program call costs before the callee runs (Solana's figure).
pub const INVOKE_COMPUTE_UNITS: u64 = 1_000;
/// Most signer seed sets one cross-program call may pass.
pub const INVOKE_SIGNERS_MAX: usize = 16;

// Account flags are kept as one bit per transaction account.
const _: () = assert!(TX_ACCOUNT_LOCKS_MAX <= u64::BITS as usize);

/// The cluster clock as programs see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// The slot the transaction executes in.
    pub slot: u64,
}

/// The state of one transaction's execution, shared by all its frames.
pub(crate) struct TransactionState {
    /// Accounts by transaction index, as loaded and then changed.
    pub(crate) accounts: Vec<Account>,
    /// Accounts some frame actually changed (checked against its snapshot): only these
    /// are written back, so an account merely borrowed mutably costs no store.
    pub(crate) changed_mask: u64,
    pub(crate) compute_remaining: u64,
    pub(crate) logs: Option<Vec<String>>,
    /// Cross-program calls made, if recorded (transaction history).
    pub(crate) inner: Option<Vec<InnerInstruction>>,
    /// The top-level instruction running, for the calls it makes.
    pub(crate) instruction_index: u8,
    call_stack: Vec<Pubkey>,
    clock: Clock,
}

/// One cross-program call, as transaction history reports it (Solana's inner
/// instructions): which top-level instruction made it, at what depth, and the call itself
/// with its program and accounts as indexes into the transaction's keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InnerInstruction {
    /// The top-level instruction it was made under.
    pub index: u8,
    /// Call depth: 2 for a call a top-level instruction makes, 3 for one that call makes.
    pub stack_height: u8,
    /// The callee's index in the transaction's keys.
    pub program_id_index: u8,
    /// Its accounts' indexes in the transaction's keys.
    pub accounts: Vec<u8>,
    /// Its instruction data.
    pub data: Vec<u8>,
}

impl TransactionState {
    pub(crate) fn new(accounts: Vec<Account>, compute_limit: u64, log: bool, clock: Clock) -> Self {
        Self {
            accounts,
            changed_mask: 0,
            compute_remaining: compute_limit,
            logs: log.then(Vec::new),
            inner: None,
            instruction_index: 0,
            call_stack: Vec::with_capacity(INVOKE_DEPTH_MAX),
            clock,
        }
    }

    /// Runs one top-level instruction and checks the runtime rules afterwards.
    pub(crate) fn process_instruction(
        &mut self,
        keys: &[Pubkey],
        programs: &ProgramRegistry,
        program: &Arc<dyn Program>,
        frame: Frame,
        data: &[u8],
    ) -> Result<(), InstructionError> {
        let mut ctx = InvokeContext {
            keys,
            programs,
            state: self,
            frame,
        };
        ctx.run(program, data)
    }
}

/// A snapshot of an account taken before its first mutable borrow in a frame.
struct PreAccount {
    index: u8,
    lamports: u64,
    owner: Pubkey,
    executable: bool,
    data: Vec<u8>,
}

/// One program invocation: which program, which accounts with which privileges.
pub(crate) struct Frame {
    program_id: Pubkey,
    /// Transaction index of each instruction account, in instruction order.
    indexes: Vec<u8>,
    /// Privileges by transaction index; duplicates in `indexes` share (merge) their bits.
    signer_mask: u64,
    writable_mask: u64,
    snapshots: Vec<PreAccount>,
    snapshot_mask: u64,
}

impl Frame {
    /// A frame for a top-level instruction; privileges come from the message header.
    pub(crate) fn new(
        program_id: Pubkey,
        indexes: Vec<u8>,
        signer_mask: u64,
        writable_mask: u64,
    ) -> Self {
        Self {
            program_id,
            indexes,
            signer_mask,
            writable_mask,
            snapshots: Vec::new(),
            snapshot_mask: 0,
        }
    }
}

fn bit(index: u8) -> u64 {
    1u64 << (index & 63)
}

/// The interface a program executes against. See the module documentation.
pub struct InvokeContext<'t> {
    keys: &'t [Pubkey],
    programs: &'t ProgramRegistry,
    state: &'t mut TransactionState,
    frame: Frame,
}

impl InvokeContext<'_> {
    /// The id of the program running now.
    pub fn program_id(&self) -> &Pubkey {
        &self.frame.program_id
    }

    /// The clock: the slot this transaction executes in.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// How many accounts the instruction lists.
    pub fn num_accounts(&self) -> usize {
        self.frame.indexes.len()
    }

    fn index_of(&self, position: usize) -> Result<u8, InstructionError> {
        self.frame
            .indexes
            .get(position)
            .copied()
            .ok_or(InstructionError::NotEnoughAccountKeys)
    }

    /// The address of the instruction's account at `position`.
    pub fn key(&self, position: usize) -> Result<&Pubkey, InstructionError> {
        let index = self.index_of(position)?;
        Ok(&self.keys[usize::from(index)])
    }

    /// Whether the account at `position` signed (or was signed for by a calling program).
    pub fn is_signer(&self, position: usize) -> Result<bool, InstructionError> {
        Ok(self.frame.signer_mask & bit(self.index_of(position)?) != 0)
    }

    /// Whether the account at `position` may be changed by this instruction.
    pub fn is_writable(&self, position: usize) -> Result<bool, InstructionError> {
        Ok(self.frame.writable_mask & bit(self.index_of(position)?) != 0)
    }

    /// The account at `position`, to read.
    pub fn account(&self, position: usize) -> Result<&Account, InstructionError> {
        let index = self.index_of(position)?;
        Ok(&self.state.accounts[usize::from(index)])
    }

    /// The account at `position`, to change. The runtime checks the change when the
    /// instruction (or the part of it before a cross-program call) ends.
    pub fn account_mut(&mut self, position: usize) -> Result<&mut Account, InstructionError> {
        let index = self.index_of(position)?;
        if self.frame.snapshot_mask & bit(index) == 0 {
            // The snapshot copies the data and the rule check compares it: charged by size.
            let data_len = self.state.accounts[usize::from(index)].data.len();
            self.consume((data_len / DATA_BYTES_PER_COMPUTE_UNIT) as u64)?;
            let account = &self.state.accounts[usize::from(index)];
            self.frame.snapshot_mask |= bit(index);
            self.frame.snapshots.push(PreAccount {
                index,
                lamports: account.lamports,
                owner: account.owner,
                executable: account.executable,
                data: account.data.clone(),
            });
        }
        Ok(&mut self.state.accounts[usize::from(index)])
    }

    /// Moves `lamports` from the account at `from` to the account at `to`, with checked
    /// arithmetic. The runtime rules still decide whether the debit was allowed.
    pub fn transfer_lamports(
        &mut self,
        from: usize,
        to: usize,
        lamports: u64,
    ) -> Result<(), InstructionError> {
        let source = self.account_mut(from)?;
        source.lamports = source
            .lamports
            .checked_sub(lamports)
            .ok_or(InstructionError::InsufficientFunds)?;
        let destination = self.account_mut(to)?;
        destination.lamports = destination
            .lamports
            .checked_add(lamports)
            .ok_or(InstructionError::ArithmeticOverflow)?;
        Ok(())
    }

    /// Charges `units` of compute. Running out fails the transaction.
    pub fn consume(&mut self, units: u64) -> Result<(), InstructionError> {
        match self.state.compute_remaining.checked_sub(units) {
            Some(remaining) => {
                self.state.compute_remaining = remaining;
                Ok(())
            }
            None => {
                self.state.compute_remaining = 0;
                Err(InstructionError::ComputationalBudgetExceeded)
            }
        }
    }

    /// Compute units left for the rest of the transaction.
    pub fn compute_remaining(&self) -> u64 {
        self.state.compute_remaining
    }

    /// Whether log messages are being collected; formatting is skipped when they are not.
    pub fn log_enabled(&self) -> bool {
        self.state.logs.is_some()
    }

    /// Appends `Program log: <message>` to the transaction's logs. Takes `format_args!` so
    /// nothing is formatted when logs are off (as in the load generator).
    pub fn log(&mut self, message: fmt::Arguments<'_>) {
        if let Some(logs) = &mut self.state.logs {
            logs.push(format!("Program log: {message}"));
        }
    }

    fn log_runtime(&mut self, message: fmt::Arguments<'_>) {
        if let Some(logs) = &mut self.state.logs {
            logs.push(message.to_string());
        }
    }

    /// Calls another program (or this one) with the caller's own privileges.
    pub fn invoke(&mut self, instruction: &Instruction) -> Result<(), InstructionError> {
        self.invoke_signed(instruction, &[])
    }

    /// Calls another program; each entry of `signer_seeds` makes the program-derived
    /// address of those seeds (and this program's id) a signer of the call.
    pub fn invoke_signed(
        &mut self,
        instruction: &Instruction,
        signer_seeds: &[&[&[u8]]],
    ) -> Result<(), InstructionError> {
        self.consume(INVOKE_COMPUTE_UNITS)?;
        let stack = &self.state.call_stack;
        if stack.len() >= INVOKE_DEPTH_MAX {
            return Err(InstructionError::CallDepth);
        }
        let callee_id = instruction.program_id;
        if stack.contains(&callee_id) && stack.last() != Some(&callee_id) {
            return Err(InstructionError::ReentrancyNotAllowed);
        }
        if !self
            .frame
            .indexes
            .iter()
            .any(|&i| self.keys[usize::from(i)] == callee_id)
        {
            return Err(InstructionError::UnknownCalleeProgram);
        }
        let program = self
            .programs
            .get(&callee_id)
            .ok_or(InstructionError::UnsupportedProgramId)?
            .clone();
        if signer_seeds.len() > INVOKE_SIGNERS_MAX {
            return Err(InstructionError::MaxSeedLengthExceeded);
        }
        let mut pda_signers = [Pubkey::default(); INVOKE_SIGNERS_MAX];
        for (slot, seeds) in pda_signers.iter_mut().zip(signer_seeds) {
            *slot = create_program_address(seeds, &self.frame.program_id)?;
        }
        let pda_signers = &pda_signers[..signer_seeds.len()];

        let mut indexes = Vec::with_capacity(instruction.accounts.len());
        let (mut signer_mask, mut writable_mask) = (0u64, 0u64);
        for meta in &instruction.accounts {
            let index = self
                .frame
                .indexes
                .iter()
                .copied()
                .find(|&i| self.keys[usize::from(i)] == meta.pubkey)
                .ok_or(InstructionError::MissingAccount)?;
            if meta.is_writable {
                if self.frame.writable_mask & bit(index) == 0 {
                    return Err(InstructionError::PrivilegeEscalation);
                }
                writable_mask |= bit(index);
            }
            if meta.is_signer {
                let caller_signed = self.frame.signer_mask & bit(index) != 0;
                if !caller_signed && !pda_signers.contains(&meta.pubkey) {
                    return Err(InstructionError::PrivilegeEscalation);
                }
                signer_mask |= bit(index);
            }
            indexes.push(index);
        }

        // The caller's changes so far are judged by the caller's privileges, now.
        self.verify()?;
        self.frame.snapshots.clear();
        self.frame.snapshot_mask = 0;

        if let Some(inner) = &mut self.state.inner {
            // The callee is one of the frame's accounts (checked above), so it has an index.
            let program_id_index = self
                .keys
                .iter()
                .position(|key| *key == callee_id)
                .and_then(|index| u8::try_from(index).ok())
                .unwrap_or(u8::MAX);
            let depth = self.state.call_stack.len().saturating_add(1);
            inner.push(InnerInstruction {
                index: self.state.instruction_index,
                stack_height: u8::try_from(depth).unwrap_or(u8::MAX),
                program_id_index,
                accounts: indexes.clone(),
                data: instruction.data.clone(),
            });
        }
        let frame = Frame::new(callee_id, indexes, signer_mask, writable_mask);
        let mut callee = InvokeContext {
            keys: self.keys,
            programs: self.programs,
            state: &mut *self.state,
            frame,
        };
        callee.run(&program, &instruction.data)
    }

    /// Pushes this frame's program, runs it, checks the rules, pops it.
    fn run(&mut self, program: &Arc<dyn Program>, data: &[u8]) -> Result<(), InstructionError> {
        let program_id = self.frame.program_id;
        self.state.call_stack.push(program_id);
        let depth = self.state.call_stack.len();
        self.log_runtime(format_args!("Program {program_id} invoke [{depth}]"));
        // A panicking program fails its instruction like any error: the transaction pays its
        // fee and nothing else changes, and the thread running it lives on. (Programs are
        // deterministic, so every node panics, and fails, alike.)
        let processed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.process(self, data)))
                .unwrap_or(Err(InstructionError::ProgramFailedToComplete));
        let result = processed.and_then(|()| self.verify());
        self.state.call_stack.pop();
        match &result {
            Ok(()) => self.log_runtime(format_args!("Program {program_id} success")),
            Err(error) => self.log_runtime(format_args!("Program {program_id} failed: {error}")),
        }
        result
    }

    /// Checks every account this frame changed against the runtime rules, then the balance
    /// of lamports over them. Unchanged accounts are not in `snapshots` and need no check.
    fn verify(&mut self) -> Result<(), InstructionError> {
        let (mut lamports_before, mut lamports_after) = (0u128, 0u128);
        for pre in &self.frame.snapshots {
            let post = &self.state.accounts[usize::from(pre.index)];
            let writable = self.frame.writable_mask & bit(pre.index) != 0;
            if verify_account(&self.frame.program_id, writable, pre, post)? {
                self.state.changed_mask |= bit(pre.index);
            }
            // At most 64 u64 balances: the u128 sums cannot overflow.
            lamports_before = lamports_before.saturating_add(u128::from(pre.lamports));
            lamports_after = lamports_after.saturating_add(u128::from(post.lamports));
        }
        if lamports_before != lamports_after {
            return Err(InstructionError::UnbalancedInstruction);
        }
        Ok(())
    }
}

/// `a != b`, without calling `memcmp` when both are empty. An empty vector's pointer is
/// dangling (address 1), and glibc's AVX-512 `memcmp` reads it with a masked load even for
/// length zero; the CPU then takes a fault-suppression assist. Measured on the development
/// machine: 120–130 ns per comparison of two empty vectors against 2.5 ns for one byte, and
/// 11% of a banking thread's samples in a System transfer run, where every account's data
/// is empty.
fn bytes_differ(a: &[u8], b: &[u8]) -> bool {
    a.len() != b.len() || (!a.is_empty() && a != b)
}

/// The per-account runtime rules, in the order their errors are reported.
fn verify_account(
    program_id: &Pubkey,
    writable: bool,
    pre: &PreAccount,
    post: &Account,
) -> Result<bool, InstructionError> {
    let owned = *program_id == pre.owner;
    if pre.owner != post.owner
        && (!writable || pre.executable || !owned || post.data.iter().any(|&b| b != 0))
    {
        return Err(InstructionError::ModifiedProgramId);
    }
    if pre.executable != post.executable {
        return Err(InstructionError::ExecutableModified);
    }
    if pre.lamports != post.lamports {
        if !writable {
            return Err(InstructionError::ReadonlyLamportChange);
        }
        if pre.executable {
            return Err(InstructionError::ExecutableLamportChange);
        }
        if post.lamports < pre.lamports && !owned {
            return Err(InstructionError::ExternalAccountLamportSpend);
        }
    }
    if post.data.len() > ACCOUNT_DATA_BYTES_MAX {
        return Err(InstructionError::InvalidRealloc);
    }
    let data_changed = bytes_differ(&pre.data, &post.data);
    if data_changed {
        if !writable {
            return Err(InstructionError::ReadonlyDataModified);
        }
        if pre.executable {
            return Err(InstructionError::ExecutableDataModified);
        }
        if !owned {
            return Err(InstructionError::ExternalAccountDataModified);
        }
    }
    Ok(data_changed
        || pre.lamports != post.lamports
        || pre.owner != post.owner
        || pre.executable != post.executable)
}

#[cfg(test)]
mod tests {
    use super::bytes_differ;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bytes_differ_is_inequality(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            prop_assert_eq!(bytes_differ(&a, &b), a != b);
            prop_assert!(!bytes_differ(&a, &a.clone()));
        }
    }

    #[test]
    fn empty_and_one_byte_data() {
        assert!(!bytes_differ(&[], &[]));
        assert!(bytes_differ(&[], &[0]));
        assert!(bytes_differ(&[0], &[]));
        assert!(!bytes_differ(&[7], &[7]));
        assert!(bytes_differ(&[7], &[8]));
    }
}
