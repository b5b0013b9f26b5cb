//! An example program: one counter per user, stored at a program-derived address.
//!
//! It is small on purpose; copy it to start your own program. It shows the parts every
//! program has: an id, a borsh instruction enum with client-side builders that list every
//! account with its flags, a typed error enum, state in an account the program owns, compute
//! units charged for its work, and a cross-program call signed with a program-derived
//! address (creating the counter account through the System program).
//!
//! Tests live in `tests/counter.rs` and run it in the in-process
//! [`Harness`](braid_runtime::harness::Harness).

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::pda::find_program_address;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{AccountMeta, Instruction, InstructionError, Pubkey, SYSTEM_PROGRAM_ID};

/// The program's id.
pub const ID: Pubkey = Pubkey::from_str_const("Counter111111111111111111111111111111111111");
/// Seed prefix of counter addresses: `[COUNTER_SEED, authority]`.
pub const COUNTER_SEED: &[u8] = b"counter";
/// Size of a counter account's data, in bytes.
pub const COUNTER_BYTES: usize = 32 + 8;
/// Lamports a new counter account is funded with: rent-exempt for its size.
pub const COUNTER_LAMPORTS: u64 = braid_runtime::rent::minimum_balance(COUNTER_BYTES as u64);
/// Compute units each instruction costs.
pub const COUNTER_INSTRUCTION_UNITS: u64 = 500;

/// The program's instructions (borsh-encoded).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CounterInstruction {
    /// Creates the caller's counter at zero. Accounts: `[writable, signer] authority`,
    /// `[writable] counter` (the PDA), `[] system program`.
    Initialize,
    /// Adds `by` to the counter. Accounts: `[signer] authority`, `[writable] counter`.
    Increment {
        /// How much to add.
        by: u64,
    },
}

/// A counter's state.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Counter {
    /// Who may increment it.
    pub authority: Pubkey,
    /// The count.
    pub count: u64,
}

/// The program's errors, reported as `InstructionError::Custom(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum CounterError {
    /// The counter account is not the authority's program-derived address.
    #[error("counter account is not the authority's counter address")]
    WrongAddress = 0,
    /// The signer is not the counter's authority.
    #[error("signer is not the counter's authority")]
    NotAuthority = 1,
    /// The count would overflow.
    #[error("counter overflow")]
    Overflow = 2,
}

braid_runtime::custom_error_codes!(CounterError {
    WrongAddress,
    NotAuthority,
    Overflow,
});

/// The counter address of `authority`, and its bump seed.
pub fn counter_address(authority: &Pubkey) -> (Pubkey, u8) {
    find_program_address(&[COUNTER_SEED, authority.as_ref()], &ID)
}

/// Builds `Initialize` for `authority`.
pub fn initialize(authority: &Pubkey) -> Instruction {
    let (counter, _) = counter_address(authority);
    Instruction::new_with_borsh(
        ID,
        &CounterInstruction::Initialize,
        vec![
            AccountMeta::new(*authority, true),
            AccountMeta::new(counter, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

/// Builds `Increment` of `authority`'s counter by `by`.
pub fn increment(authority: &Pubkey, by: u64) -> Instruction {
    let (counter, _) = counter_address(authority);
    Instruction::new_with_borsh(
        ID,
        &CounterInstruction::Increment { by },
        vec![
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(counter, false),
        ],
    )
}

/// The counter program.
pub struct CounterProgram;

impl Program for CounterProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "counter"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        CounterError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("CounterError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(COUNTER_INSTRUCTION_UNITS)?;
        let instruction = CounterInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        let authority = *ctx.key(0)?;
        if !ctx.is_signer(0)? {
            return Err(InstructionError::MissingRequiredSignature);
        }
        let (expected, bump) = counter_address(&authority);
        if *ctx.key(1)? != expected {
            return Err(CounterError::WrongAddress.into());
        }
        match instruction {
            CounterInstruction::Initialize => {
                braid_program_system::cpi::create_program_account(
                    ctx,
                    &authority,
                    1,
                    COUNTER_LAMPORTS,
                    COUNTER_BYTES as u64,
                    &ID,
                    &[COUNTER_SEED, authority.as_ref(), &[bump]],
                )?;
                let state = Counter {
                    authority,
                    count: 0,
                };
                write_state(ctx, &state)
            }
            CounterInstruction::Increment { by } => {
                let account = ctx.account(1)?;
                if account.owner != ID {
                    return Err(InstructionError::IncorrectProgramId);
                }
                let mut state = Counter::try_from_slice(&account.data)
                    .map_err(|_| InstructionError::InvalidAccountData)?;
                if state.authority != authority {
                    return Err(CounterError::NotAuthority.into());
                }
                state.count = state.count.checked_add(by).ok_or(CounterError::Overflow)?;
                ctx.log(format_args!("count = {}", state.count));
                write_state(ctx, &state)
            }
        }
    }
}

fn write_state(ctx: &mut InvokeContext<'_>, state: &Counter) -> Result<(), InstructionError> {
    let account = ctx.account_mut(1)?;
    let mut cursor = account.data.as_mut_slice();
    state
        .serialize(&mut cursor)
        .map_err(|_| InstructionError::AccountDataTooSmall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_names_its_variant_and_no_other_code_does() {
        assert_eq!(CounterError::ALL.len(), 3);
        assert_eq!(CounterError::try_from(3), Err(3));
        assert_eq!(
            CounterProgram.describe_error(1),
            Some(ProgramErrorName {
                variant: "CounterError::NotAuthority".into(),
                message: "signer is not the counter's authority".into(),
            })
        );
        assert_eq!(CounterProgram.describe_error(3), None);
    }
}
