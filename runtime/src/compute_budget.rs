//! Compute limits and priority fees, requested the way Solana's Compute Budget program does:
//! its program id, its instruction tags, its borsh encoding and its defaults.
//!
//! A transaction's budget is read from its instructions before it runs (the fee depends on
//! it), so a malformed or duplicated budget instruction rejects the transaction unpaid.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::invoke_context::InvokeContext;
use crate::program::Program;
use crate::{Instruction, InstructionError, Message, Pubkey, TransactionError};

/// The Compute Budget program's id (Solana's).
pub const ID: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
/// Compute units each instruction gets when the transaction sets no limit.
pub const COMPUTE_UNIT_LIMIT_PER_INSTRUCTION_DEFAULT: u32 = 200_000;
/// Highest compute-unit limit a transaction may have.
pub const COMPUTE_UNIT_LIMIT_MAX: u32 = 1_400_000;
/// Compute units a Compute Budget instruction itself costs.
pub const COMPUTE_BUDGET_INSTRUCTION_UNITS: u64 = 150;
/// Smallest heap frame a transaction may request, in bytes.
pub const HEAP_FRAME_BYTES_MIN: u32 = 32 * 1024;
/// Largest heap frame a transaction may request, in bytes.
pub const HEAP_FRAME_BYTES_MAX: u32 = 256 * 1024;
/// Heap frames come in multiples of this many bytes.
pub const HEAP_FRAME_BYTES_GRANULARITY: u32 = 1024;

const _: () = assert!(COMPUTE_UNIT_LIMIT_PER_INSTRUCTION_DEFAULT <= COMPUTE_UNIT_LIMIT_MAX);
const _: () = assert!(HEAP_FRAME_BYTES_MIN.is_multiple_of(HEAP_FRAME_BYTES_GRANULARITY));

/// Instructions of the Compute Budget program, with Solana's tags (the enum order).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ComputeBudgetInstruction {
    /// Tag 0: deprecated, always rejected.
    Unused,
    /// Tag 1: request a heap frame of this many bytes (accepted and range-checked; native
    /// programs have no heap to size).
    RequestHeapFrame(u32),
    /// Tag 2: the transaction's compute-unit limit.
    SetComputeUnitLimit(u32),
    /// Tag 3: the price of a compute unit, in micro-lamports.
    SetComputeUnitPrice(u64),
    /// Tag 4: limit on loaded account data, in bytes (accepted, not enforced).
    SetLoadedAccountsDataSizeLimit(u32),
}

/// Builds an instruction setting the transaction's compute-unit limit.
pub fn set_compute_unit_limit(units: u32) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &ComputeBudgetInstruction::SetComputeUnitLimit(units),
        vec![],
    )
}

/// Builds an instruction setting the compute-unit price, in micro-lamports.
pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &ComputeBudgetInstruction::SetComputeUnitPrice(micro_lamports),
        vec![],
    )
}

/// A transaction's compute budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeBudget {
    /// Most compute units the transaction may consume.
    pub compute_unit_limit: u32,
    /// Price per compute unit, in micro-lamports: the priority fee.
    pub compute_unit_price: u64,
}

impl ComputeBudget {
    /// Reads the budget from a message's Compute Budget instructions.
    ///
    /// Errors: a budget instruction whose data does not decode, is the unused tag 0, or asks
    /// for an invalid heap frame is `InstructionError(i, InvalidInstructionData)`; a second
    /// instruction of the same kind is `DuplicateInstruction(i)`.
    pub fn from_message(message: &Message) -> Result<Self, TransactionError> {
        let mut limit = None;
        let mut price = None;
        let mut heap = None;
        let mut data_size = None;
        let mut other_instructions = 0u32;
        for (position, instruction) in message.instructions.iter().enumerate() {
            // Messages hold at most 255 instructions' worth of bytes in a packet; saturate anyway.
            let position = u8::try_from(position).unwrap_or(u8::MAX);
            let program_id = message.account_keys[usize::from(instruction.program_id_index)];
            if program_id != ID {
                other_instructions = other_instructions.saturating_add(1);
                continue;
            }
            let invalid = TransactionError::InstructionError(
                position,
                InstructionError::InvalidInstructionData,
            );
            let parsed = ComputeBudgetInstruction::try_from_slice(&instruction.data)
                .map_err(|_| invalid.clone())?;
            let (slot, value): (&mut Option<u64>, u64) = match parsed {
                ComputeBudgetInstruction::Unused => return Err(invalid),
                ComputeBudgetInstruction::RequestHeapFrame(bytes) => {
                    if !(HEAP_FRAME_BYTES_MIN..=HEAP_FRAME_BYTES_MAX).contains(&bytes)
                        || !bytes.is_multiple_of(HEAP_FRAME_BYTES_GRANULARITY)
                    {
                        return Err(invalid);
                    }
                    (&mut heap, u64::from(bytes))
                }
                ComputeBudgetInstruction::SetComputeUnitLimit(units) => {
                    (&mut limit, u64::from(units))
                }
                ComputeBudgetInstruction::SetComputeUnitPrice(micro_lamports) => {
                    (&mut price, micro_lamports)
                }
                ComputeBudgetInstruction::SetLoadedAccountsDataSizeLimit(bytes) => {
                    (&mut data_size, u64::from(bytes))
                }
            };
            if slot.replace(value).is_some() {
                return Err(TransactionError::DuplicateInstruction(position));
            }
        }
        let default_limit =
            other_instructions.saturating_mul(COMPUTE_UNIT_LIMIT_PER_INSTRUCTION_DEFAULT);
        let requested = limit.map_or(default_limit, |units| {
            u32::try_from(units).unwrap_or(u32::MAX)
        });
        Ok(Self {
            compute_unit_limit: requested.min(COMPUTE_UNIT_LIMIT_MAX),
            compute_unit_price: price.unwrap_or(0),
        })
    }
}

/// The Compute Budget program at execution time: its instructions were read before the
/// transaction ran, so executing one only costs its compute units.
pub struct ComputeBudgetProgram;

impl Program for ComputeBudgetProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "compute-budget"
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, _data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(COMPUTE_BUDGET_INSTRUCTION_UNITS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_solana() {
        // Solana: tag byte then the little-endian value.
        assert_eq!(
            set_compute_unit_limit(300_000).data,
            [2, 0xe0, 0x93, 0x04, 0x00]
        );
        assert_eq!(set_compute_unit_price(1).data, [3, 1, 0, 0, 0, 0, 0, 0, 0]);
    }
}
