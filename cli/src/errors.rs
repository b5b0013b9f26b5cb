//! Turns a failed transaction into one readable line that names the program's error.
//!
//! The node reports a program failure as `custom program error: 0x12`, which means nothing
//! to a user. The preflight logs say which program failed (the innermost one: a token
//! error raised inside an AMM swap is the token program's), so the code is looked up in that
//! program's error type. Without logs (a failure after submission), the failing
//! instruction's program is used.

use braid_banking_stage::rpc::client::ClientError;
use braid_program_insurance::InsuranceError;
use braid_program_lending::LendingError;
use braid_program_oracle::OracleError;
use braid_runtime::{Instruction, Pubkey};

/// The marker the runtime prints before a custom code, in messages and logs.
const CUSTOM_MARKER: &str = "custom program error: 0x";
/// The marker before the failing instruction's index in a transaction error.
const INSTRUCTION_MARKER: &str = "error processing instruction ";

/// `error` as one line; custom program errors carry their typed name and meaning.
/// `instructions` are the ones the failed transaction carried.
pub fn describe(error: &ClientError, instructions: &[Instruction]) -> String {
    let text = error.to_string();
    let (message, logs) = match error {
        ClientError::Rpc { message, data, .. } => (message.as_str(), logs_of(data.as_ref())),
        ClientError::TransactionFailed { error, .. } => (error.as_str(), Vec::new()),
        _ => return text,
    };
    let from_logs = logs.iter().find_map(|line| failed_log(line));
    let failure = from_logs.or_else(|| {
        let (index, code) = failed_instruction(message)?;
        let program = instructions.get(index)?.program_id;
        Some((program, code))
    });
    let Some((program, code)) = failure else {
        return text;
    };
    match name(&program, code) {
        Some((meaning, variant)) => format!("{meaning} ({variant}, code {code}; {text})"),
        None => text,
    }
}

/// The log lines in a preflight failure's `data`, if any.
fn logs_of(data: Option<&serde_json::Value>) -> Vec<String> {
    data.and_then(|data| data.get("logs"))
        .and_then(serde_json::Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(|line| line.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `(program, code)` from a log line `Program <id> failed: custom program error: 0x<code>`.
fn failed_log(line: &str) -> Option<(Pubkey, u32)> {
    let rest = line.strip_prefix("Program ")?;
    let (program, error) = rest.split_once(" failed: ")?;
    let code = error.strip_prefix(CUSTOM_MARKER)?;
    Some((program.parse().ok()?, parse_hex(code)?))
}

/// `(instruction index, code)` from `... error processing instruction N: custom program
/// error: 0x<code> ...`.
fn failed_instruction(message: &str) -> Option<(usize, u32)> {
    let (_, rest) = message.split_once(INSTRUCTION_MARKER)?;
    let (index, rest) = rest.split_once(':')?;
    let (_, code) = rest.split_once(CUSTOM_MARKER)?;
    Some((index.trim().parse().ok()?, parse_hex(code)?))
}

/// The leading hexadecimal digits of `text` as a number.
fn parse_hex(text: &str) -> Option<u32> {
    let end = text
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(text.len());
    u32::from_str_radix(text.get(..end)?, 16).ok()
}

/// What `code` means for `program` and its typed name, e.g. `("slippage limit exceeded",
/// "AmmError::SlippageExceeded")`.
fn name(program: &Pubkey, code: u32) -> Option<(String, String)> {
    fn named<E: std::fmt::Display + std::fmt::Debug>(kind: &str, error: E) -> (String, String) {
        (error.to_string(), format!("{kind}::{error:?}"))
    }
    if *program == braid_program_amm::ID {
        braid_program_amm::AmmError::try_from(code)
            .ok()
            .map(|e| named("AmmError", e))
    } else if *program == braid_program_token::ID {
        braid_program_token::TokenError::try_from(code)
            .ok()
            .map(|e| named("TokenError", e))
    } else if *program == braid_program_system::ID {
        braid_program_system::SystemError::try_from(code)
            .ok()
            .map(|e| named("SystemError", e))
    } else if *program == braid_program_oracle::ID {
        by_code(&ORACLE_ERRORS, code, |e| e as u32).map(|e| named("OracleError", e))
    } else if *program == braid_program_lending::ID {
        by_code(&LENDING_ERRORS, code, |e| e as u32).map(|e| named("LendingError", e))
    } else if *program == braid_program_insurance::ID {
        by_code(&INSURANCE_ERRORS, code, |e| e as u32).map(|e| named("InsuranceError", e))
    } else {
        None
    }
}

/// The variant of `all` whose code is `code`.
fn by_code<E: Copy>(all: &[E], code: u32, code_of: impl Fn(E) -> u32) -> Option<E> {
    all.iter().copied().find(|error| code_of(*error) == code)
}

// The oracle, lending and insurance crates offer no `TryFrom<u32>`, so their variants are
// listed here. Codes come from the variants themselves (`as u32`), never from this list's
// order, so a variant missing here only loses its name, never gets a wrong one.

/// Every [`OracleError`].
const ORACLE_ERRORS: [OracleError; 8] = [
    OracleError::NotAuthority,
    OracleError::InvalidPrice,
    OracleError::AlreadyInitialized,
    OracleError::Uninitialized,
    OracleError::StalePrice,
    OracleError::WrongOwner,
    OracleError::InvalidFeedData,
    OracleError::PriceNotSet,
];

/// Every [`LendingError`].
const LENDING_ERRORS: [LendingError; 28] = [
    LendingError::AlreadyInitialized,
    LendingError::Uninitialized,
    LendingError::InvalidAccountOwner,
    LendingError::InvalidAccountData,
    LendingError::InvalidSigner,
    LendingError::InvalidMarketOwner,
    LendingError::InvalidMarket,
    LendingError::InvalidMarketAuthority,
    LendingError::InvalidConfig,
    LendingError::InvalidTokenAccount,
    LendingError::InvalidTokenProgram,
    LendingError::InvalidOracle,
    LendingError::InvalidOraclePrice,
    LendingError::ZeroAmount,
    LendingError::AmountRoundsToZero,
    LendingError::InsufficientLiquidity,
    LendingError::ReserveStale,
    LendingError::ObligationStale,
    LendingError::InvalidObligationOwner,
    LendingError::ObligationReserveLimit,
    LendingError::ObligationCollateralNotFound,
    LendingError::ObligationBorrowNotFound,
    LendingError::InsufficientCollateral,
    LendingError::WithdrawTooLarge,
    LendingError::BorrowTooLarge,
    LendingError::ObligationHealthy,
    LendingError::InvalidObligationReserves,
    LendingError::MathOverflow,
];

/// Every [`InsuranceError`].
const INSURANCE_ERRORS: [InsuranceError; 26] = [
    InsuranceError::InvalidPoolParams,
    InsuranceError::AlreadyInitialized,
    InsuranceError::WrongPool,
    InsuranceError::WrongVault,
    InsuranceError::WrongAuthority,
    InsuranceError::WrongOracle,
    InsuranceError::WrongPositionAddress,
    InsuranceError::WrongPolicyAddress,
    InsuranceError::NotOwner,
    InsuranceError::ZeroAmount,
    InsuranceError::DepositTooSmall,
    InsuranceError::PoolDepleted,
    InsuranceError::InsufficientShares,
    InsuranceError::InsufficientUnlockedCapital,
    InsuranceError::InsufficientCapacity,
    InsuranceError::InvalidExpiry,
    InsuranceError::InvalidStrike,
    InsuranceError::StrikeAlreadyReached,
    InsuranceError::StalePrice,
    InsuranceError::OracleUnavailable,
    InsuranceError::PriceAfterExpiry,
    InsuranceError::StrikeNotReached,
    InsuranceError::ClaimWindowClosed,
    InsuranceError::PolicyNotActive,
    InsuranceError::PolicyNotExpired,
    InsuranceError::Overflow,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_codes_are_distinct_and_dense() {
        let codes = |all: Vec<u32>| {
            let expected: Vec<u32> = (0..u32::try_from(all.len()).unwrap()).collect();
            assert_eq!(all, expected);
        };
        codes(ORACLE_ERRORS.iter().map(|e| *e as u32).collect());
        codes(LENDING_ERRORS.iter().map(|e| *e as u32).collect());
        codes(INSURANCE_ERRORS.iter().map(|e| *e as u32).collect());
    }

    #[test]
    fn logs_name_the_innermost_program() {
        let data = serde_json::json!({"logs": [
            format!("Program {} invoke [1]", braid_program_amm::ID),
            format!("Program {} failed: custom program error: 0x12", braid_program_amm::ID),
        ]});
        let error = ClientError::Rpc {
            code: -32002,
            message: "transaction simulation failed: error processing instruction 0: \
                      custom program error: 0x12"
                .into(),
            data: Some(data),
        };
        let line = describe(&error, &[]);
        assert!(
            line.starts_with("slippage limit exceeded (AmmError::SlippageExceeded, code 18;"),
            "{line}"
        );
    }

    #[test]
    fn without_logs_the_failing_instruction_names_the_program() {
        let error = ClientError::Rpc {
            code: -32002,
            message: "transaction simulation failed: error processing instruction 1: \
                      custom program error: 0x15"
                .into(),
            data: None,
        };
        let instructions = [
            braid_program_oracle::set_price(&Pubkey::default(), &Pubkey::default(), 1, 0),
            braid_program_insurance::expire(&Pubkey::default(), &Pubkey::default()),
        ];
        let line = describe(&error, &instructions);
        assert!(line.contains("InsuranceError::StrikeNotReached"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn other_errors_are_left_as_they_are() {
        let error = ClientError::Rpc {
            code: -32002,
            message: "transaction rejected: blockhash not found".into(),
            data: None,
        };
        assert_eq!(describe(&error, &[]), error.to_string());
    }
}
