//! Turns a failed transaction into one readable line that names the program's error.
//!
//! The node returns a transaction's error as data, in Solana's shape
//! (`{"InstructionError": [1, {"Custom": 18}]}`), so the code is read, never parsed out of a
//! message. The code belongs to the innermost program that failed: a token error raised
//! inside an AMM swap is the token program's. Solana's log protocol names that program
//! (`Program <id> failed: …`); without logs (a failure after submission), the failing
//! instruction's program is used. The built-in registry then names the code.

use braid_rpc::client::ClientError;
use braid_runtime::{Instruction, InstructionError, Pubkey, TransactionError};

/// `error` as one line; custom program errors carry their typed name and meaning.
/// `instructions` are the ones the failed transaction carried.
pub fn describe(error: &ClientError, instructions: &[Instruction]) -> String {
    let text = error.to_string();
    let Some(TransactionError::InstructionError(index, InstructionError::Custom(code))) =
        error.transaction_error()
    else {
        return text;
    };
    let program = innermost_failed_program(&error.logs()).or_else(|| {
        instructions
            .get(usize::from(index))
            .map(|instruction| instruction.program_id)
    });
    let name =
        program.and_then(|program| braid_builtins::registry().describe_error(&program, code));
    match name {
        Some(name) => format!("{} ({}, code {code}; {text})", name.message, name.variant),
        None => text,
    }
}

/// The program of the first `Program <id> failed: …` log line: the innermost failure, since
/// a failing callee logs before its callers.
fn innermost_failed_program(logs: &[String]) -> Option<Pubkey> {
    logs.iter().find_map(|line| {
        let (program, _) = line.strip_prefix("Program ")?.split_once(" failed: ")?;
        program.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_runtime::Signature;

    fn custom(index: u8, code: u32) -> TransactionError {
        TransactionError::InstructionError(index, InstructionError::Custom(code))
    }

    #[test]
    fn logs_name_the_innermost_program() {
        let data = serde_json::json!({
            "err": custom(0, 18),
            "logs": [
                format!("Program {} invoke [1]", braid_program_amm::ID),
                format!("Program {} failed: custom program error: 0x12", braid_program_amm::ID),
            ],
        });
        let error = ClientError::Rpc {
            code: -32002,
            message: "transaction simulation failed".into(),
            data: Some(data),
        };
        let line = describe(&error, &[]);
        assert_eq!(
            line,
            format!("slippage limit exceeded (AmmError::SlippageExceeded, code 18; {error})")
        );
    }

    #[test]
    fn without_logs_the_failing_instruction_names_the_program() {
        let error = ClientError::TransactionFailed {
            signature: Signature::default(),
            error: custom(1, 21),
        };
        let instructions = [
            braid_program_oracle::set_price(&Pubkey::default(), &Pubkey::default(), 1, 0),
            braid_program_insurance::expire(&Pubkey::default(), &Pubkey::default()),
        ];
        let line = describe(&error, &instructions);
        let name = braid_program_insurance::InsuranceError::StrikeNotReached;
        assert_eq!(
            line,
            format!("{name} (InsuranceError::StrikeNotReached, code 21; {error})")
        );
    }

    #[test]
    fn other_errors_are_left_as_they_are() {
        let error = ClientError::Rpc {
            code: -32002,
            message: "transaction rejected: blockhash not found".into(),
            data: Some(serde_json::json!({"err": TransactionError::BlockhashNotFound})),
        };
        assert_eq!(describe(&error, &[]), error.to_string());
        let unknown = ClientError::TransactionFailed {
            signature: Signature::default(),
            error: custom(0, 9_999),
        };
        let instructions = [braid_program_oracle::set_price(
            &Pubkey::default(),
            &Pubkey::default(),
            1,
            0,
        )];
        assert_eq!(describe(&unknown, &instructions), unknown.to_string());
    }
}
